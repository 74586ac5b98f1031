"""What search engines and browsers ask for by name: /robots.txt, /sitemap.xml (the public pages of the
served version) and /favicon.ico.

Both name the site by the address the request came to (`request.url_root`), so they are right behind any
host or path prefix; the sitemap is built once per dataset version and address. The machine interfaces
(/api, downloads), the operator console and the embeddable copy of the map are not for crawling; the OGC
API's HTML views are public pages and stay open.
"""
from __future__ import annotations

from xml.sax.saxutils import escape as xml_escape

from flask import Blueprint, Response, request, url_for

from geoes.web.assets import STATIC_DIR
from geoes.web.pages.views import dataset
from geoes.web.served import served_data

bp = Blueprint("seo", __name__)

DISALLOW = ("/api/", "/admin/", "/embed")
CACHE = {"Cache-Control": "public, max-age=3600"}


@bp.get("/favicon.ico")
def favicon():
    """Pages without an icon link (the report, the OGC views) and browsers that ask anyway get the SVG."""
    return Response((STATIC_DIR / "img" / "favicon.svg").read_bytes(), mimetype="image/svg+xml",
                    headers={"Cache-Control": "public, max-age=86400"})


@bp.get("/robots.txt")
def robots():
    root = request.script_root
    lines = ["User-agent: *", *(f"Disallow: {root}{path}" for path in DISALLOW), "Allow: /", "",
             f"Sitemap: {url_for('seo.sitemap', _external=True)}", ""]
    return Response("\n".join(lines), mimetype="text/plain", headers=CACHE)


def public_paths(ds) -> list[str]:
    """Every public page of the dataset version, by its path (url_for, so a path prefix is included)."""
    paths = [url_for(e) for e in ("map.index", "entities.index", "units.powiaty", "units.compare", "about.index",
                                  "trends.index")]
    for teryt in sorted(ds.powiaty["teryt"]):
        paths += [url_for("units.powiat", teryt=teryt), url_for("units.powiat_report", teryt=teryt)]
    paths += [url_for("units.gmina", teryt=t) for t in sorted(ds.gminy["teryt"])]
    paths += [url_for("entities.entity", entity_id=i) for i in sorted(ds.entities["id"].astype(str))]
    return paths


def sitemap_xml(ds, host: str) -> bytes:
    built = str(ds.summary.get("built_at") or "")[:10]
    lastmod = f"<lastmod>{xml_escape(built)}</lastmod>" if len(built) == 10 else ""
    urls = "".join(f"<url><loc>{xml_escape(host + path)}</loc>{lastmod}</url>\n" for path in public_paths(ds))
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n' + urls + "</urlset>\n").encode("utf-8")


@bp.get("/sitemap.xml")
def sitemap():
    dataset()  # no built data: the 503 page, as for every page
    host = request.host_url.rstrip("/")
    body = served_data().cached(("sitemap", request.url_root), lambda d: sitemap_xml(d, host))
    return Response(body, mimetype="application/xml", headers=CACHE)
