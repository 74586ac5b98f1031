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


# What a client that wants features first asks for: GDAL's GeoJSON (and GeoJSONSeq) driver, opening a plain
# http URL, sends "Accept: text/plain, application/json" (GDAL 3.6, as seen on the wire).
FEATURE_CLIENT_TYPES = ("application/geo+json", "text/plain")


def wants_features(f: str | None, accept: str | None) -> bool:
    """True when no `f` is given and the client's first choice (highest q, then order) is GeoJSON or plain
    text — a GeoJSON reader opening a URL of the API that has no features (the landing page, the
    collections): it gets a FeatureCollection that says how to open the API (geoes.publish.ogc.core),
    instead of a document it would read as one meaningless feature."""
    if f is not None:
        return False
    entries = [e for e in _accept_entries(accept or "") if e[1] > 0]
    if not entries:
        return False
    best = max(q for _, q, _ in entries)
    first = min((pos, mime) for mime, q, pos in entries if q == best)[1]
    return first in FEATURE_CLIENT_TYPES


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
