"""The one map of output format names to MIME types, and content negotiation (`f=` or `Accept`)."""
from __future__ import annotations

from geoes.publish.filters import ParamError

FORMATS = {
    "json": "application/json",
    "geojson": "application/geo+json",
    "html": "text/html; charset=utf-8",
    "openapi": "application/vnd.oai.openapi+json;version=3.0",
}
OPENAPI_MIME = FORMATS["openapi"]

# What `f=` accepts: the value and the format it means (`geojson` is an alias for JSON on items).
F_VALUES = {"json": "json", "geojson": "json", "html": "html"}


def _accept_entries(accept: str) -> list[tuple[str, float, int]]:
    out = []
    for pos, part in enumerate((accept or "").split(",")):
        bits = [b.strip() for b in part.split(";")]
        mime = bits[0].lower()
        if not mime:
            continue
        q = 1.0
        for b in bits[1:]:
            if b.lower().startswith("q="):
                try:
                    q = float(b[2:])
                except ValueError:
                    q = 0.0
        out.append((mime, q, pos))
    return out


def negotiate(f: str | None, accept: str | None, allowed=("json", "html")) -> str:
    """'json' or 'html' (or another of `allowed`): `f` wins; else the Accept header; JSON by default.

    A browser's Accept (text/html first) gets HTML; GDAL, OWSLib, curl (*/*) and fetch() get JSON.
    """
    if f is not None:
        fmt = F_VALUES.get(f.strip().lower())
        if fmt is None or fmt not in allowed:
            raise ParamError("f", f"nieznany format {f[:40]!r}; dozwolone: {', '.join(allowed)}")
        return fmt
    best_json = best_html = -1.0
    json_pos = html_pos = 10_000
    for mime, q, pos in _accept_entries(accept or ""):
        if q <= 0:
            continue
        if mime in ("text/html", "application/xhtml+xml"):
            if q > best_html or (q == best_html and pos < html_pos):
                best_html, html_pos = q, pos
        elif mime in ("application/json", "application/geo+json", "application/vnd.oai.openapi+json",
                      "application/schema+json") or mime.endswith("+json"):
            if q > best_json or (q == best_json and pos < json_pos):
                best_json, json_pos = q, pos
    prefers_html = best_html > best_json or (best_html == best_json >= 0 and html_pos < json_pos)
    if "html" in allowed and prefers_html:
        return "html"
    return "json" if "json" in allowed else allowed[0]
