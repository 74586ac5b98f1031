"""How pages and files are served: rendered once per dataset version with a fresh CSP nonce per request
(web.pagecache), compressed once (web.assets, web.http, web.compression), static files under content-hashed
names cached for a year, and what search engines read (JSON-LD, meta descriptions, sitemap, robots)."""
from __future__ import annotations

import gzip
import hashlib
import json
import posixpath
import re
import xml.etree.ElementTree as ET

import brotli
import pytest

from geoes.web.served import served_data
from tests.web.test_pages import HOSTILE_NAME, hostile_app  # noqa: F401 - a fixture, used by name

NONCE = re.compile(r"'nonce-([^']+)'")


def nonce_of(r) -> str:
    return NONCE.search(r.headers["Content-Security-Policy"]).group(1)


@pytest.fixture()
def versioned(tmp_path, built_settings):
    """An app over a private copy of the built data (so a test may build a new version)."""
    from conftest import clone_settings
    from geoes.web import create_app

    (tmp_path / "data").mkdir()
    settings = clone_settings(built_settings, tmp_path / "data", with_build=True)
    app = create_app({"TESTING": True, "GEOES_DATA_DIR": str(settings.data_dir), "GEOES_REGION": "26"})
    served_data(app).check_interval = 0
    return settings, app


def test_page_is_rendered_once_per_version_and_only_the_nonce_changes(versioned, monkeypatch):
    from geoes.dataset.build import build
    from geoes.web.pages import views

    settings, app = versioned
    renders = []
    real = views.render_template
    monkeypatch.setattr(views, "render_template", lambda *a, **k: renders.append(a[0]) or real(*a, **k))
    c = app.test_client()
    first, second = c.get("/"), c.get("/")
    assert renders == ["index.html"]  # the second request came from memory
    n1, n2 = nonce_of(first), nonce_of(second)
    assert n1 != n2
    body1, body2 = first.get_data(as_text=True), second.get_data(as_text=True)
    assert f'<script nonce="{n1}">' in body1 and f'<script nonce="{n2}">' in body2
    assert body1.replace(n1, "N") == body2.replace(n2, "N")  # nothing else differs
    total = len(served_data(app).current().entities)
    assert re.search(rf"W rejestrze: {total}\s+podmiot\w*", body1)
    # A new version is a new page: rendered once again, with its own figures.
    with open(settings.entities_path, "a", encoding="utf-8") as fh:
        fh.write("test-cache-1,TEST pamięć stron,kis,unknown,,,,,Kielce,,,50.87,20.63,locality,,,,,,active,,,,,,\n")
    build(settings)
    third = c.get("/").get_data(as_text=True)
    assert renders == ["index.html", "index.html"]
    assert re.search(rf"W rejestrze: {total + 1}\s+podmiot\w*", third)


def test_pages_vary_by_query_and_errors_are_not_kept(client, app):
    pages = served_data(app).pages
    a = client.get("/entities?type=wtz").get_data(as_text=True)
    b = client.get("/entities?type=cis").get_data(as_text=True)
    assert a != b and 'value="wtz" checked' in a and 'value="cis" checked' in b
    before = len(pages)
    assert client.get("/entities?page=99999").status_code == 400
    assert client.get("/powiaty/9999").status_code == 404
    assert len(pages) == before
    # The order of repeated parameters is part of the page: the first unit is the reference.
    one = client.get("/compare?teryt=2602&teryt=2601").get_data(as_text=True)
    two = client.get("/compare?teryt=2601&teryt=2602").get_data(as_text=True)
    assert "względem: powiat jędrzejowski" in one and "względem: powiat buski" in two


def test_page_gzip_comes_from_cached_pieces(client):
    plain = client.get("/powiaty/2602")
    packed = client.get("/powiaty/2602", headers={"Accept-Encoding": "gzip"})
    assert packed.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in packed.headers["Vary"]
    assert len(packed.data) < len(plain.data) / 3
    text = gzip.decompress(packed.data).decode("utf-8")
    assert f'<script nonce="{nonce_of(packed)}">' in text
    assert text.replace(nonce_of(packed), "N") == plain.get_data(as_text=True).replace(nonce_of(plain), "N")


@pytest.mark.parametrize("url", ["/about", "/sitemap.xml"])
def test_brotli_where_the_client_asks(client, url):
    plain = client.get(url)
    r = client.get(url, headers={"Accept-Encoding": "br"})
    assert r.headers["Content-Encoding"] == "br"
    assert brotli.decompress(r.data).decode("utf-8").replace(nonce_of(r), "N") == \
        plain.get_data(as_text=True).replace(nonce_of(plain), "N")


def test_api_bodies_are_compressed_once_not_twice(client):
    r = client.get("/api/gminy.geojson", headers={"Accept-Encoding": "gzip, br"})
    assert r.headers["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(r.data))["type"] == "FeatureCollection"
    etag = r.headers["ETag"]
    # A client without gzip gets the body as it is (the API's ETag intact), never a second encoding.
    r = client.get("/api/gminy.geojson", headers={"Accept-Encoding": "br"})
    assert "Content-Encoding" not in r.headers and r.headers["ETag"] == etag
    assert json.loads(r.data)["type"] == "FeatureCollection"


def asset_urls(client) -> list[str]:
    html = client.get("/").get_data(as_text=True) + client.get("/entities/swk-001").get_data(as_text=True)
    return sorted({u.split("#")[0] for u in re.findall(r'(?:href|src)="(/static/[^"]+)"', html)})


def test_static_files_are_hashed_precompressed_and_immutable(client):
    urls = asset_urls(client)
    assert {u.split("/")[-1].split(".")[0] for u in urls} >= {"site", "map", "map-vendor", "favicon"}
    for url in urls:
        r = client.get(url)
        data = r.get_data()
        r.close()
        digest = re.search(r"\.([0-9a-f]{12})\.[a-z]+$", url).group(1)
        assert hashlib.sha256(data).hexdigest()[:12] == digest, url
        assert r.headers["Cache-Control"] == "public, max-age=31536000, immutable", url
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        if url.endswith((".js", ".css", ".svg")) and len(data) > 1024:  # (a tiny file is not worth it)
            for encoding, unpack in (("br", brotli.decompress), ("gzip", gzip.decompress)):
                packed = client.get(url, headers={"Accept-Encoding": encoding})
                assert packed.headers["Content-Encoding"] == encoding, url
                assert "Accept-Encoding" in packed.headers["Vary"]
                assert unpack(packed.get_data()) == data
                packed.close()


def test_stylesheet_references_point_at_served_files(client):
    css_url = next(u for u in asset_urls(client) if "/css/map." in u)
    css = client.get(css_url).get_data(as_text=True)
    refs = [m for m in re.findall(r'url\("([^"]+)"\)', css) if not m.startswith("data:")]
    assert refs
    for ref in refs:
        target = "/static/" + posixpath.normpath("css/" + ref)
        r = client.get(target)
        assert r.status_code == 200, target
        r.close()
    assert "fontawesome" not in css and "woff" not in css


def test_icons_come_from_one_cached_sprite_of_the_types_icons(client):
    from geoes.common.reference import entity_types

    html = client.get("/").get_data(as_text=True) + client.get("/entities").get_data(as_text=True)
    uses = re.findall(r'<use href="(/static/img/icons\.[0-9a-f]{12}\.svg)#i-([a-z0-9-]+)">', html)
    assert uses and len({url for url, _ in uses}) == 1
    r = client.get(uses[0][0])
    assert r.mimetype == "image/svg+xml" and r.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    symbols = set(re.findall(r'<symbol id="i-([a-z0-9-]+)"', r.get_data(as_text=True)))
    r.close()
    assert {t.icon for t in entity_types().values()} <= symbols
    assert {icon for _, icon in uses} <= symbols
    assert "fa-solid" not in html and "font-awesome" not in html.lower()


def test_robots_and_sitemap(client, app):
    robots = client.get("/robots.txt")
    assert robots.mimetype == "text/plain"
    lines = robots.get_data(as_text=True).splitlines()
    assert "User-agent: *" in lines and "Disallow: /api/" in lines and "Disallow: /admin/" in lines
    assert "Sitemap: http://localhost/sitemap.xml" in lines
    r = client.get("/sitemap.xml")
    assert r.mimetype == "application/xml"
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    locs = [e.text for e in ET.fromstring(r.data).findall("s:url/s:loc", ns)]
    ds = served_data(app).current()
    assert len(locs) == len(set(locs)) == 6 + 2 * len(ds.powiaty) + len(ds.gminy) + len(ds.entities)
    assert all(loc.startswith("http://localhost/") for loc in locs)
    for path in ("/", "/entities", "/powiaty/2602", "/powiaty/2602/raport.html", "/gminy/2602023",
                 "/entities/swk-001", "/about", "/trendy"):
        assert "http://localhost" + path in locs, path
    # Every listed page is there.
    for loc in locs:
        page = client.get(loc.removeprefix("http://localhost"))
        assert page.status_code == 200, loc
        page.close()


def jsonld_of(html: str) -> tuple[str, dict]:
    raw = re.search(r'<script type="application/ld\+json" nonce="[^"]+">(.*?)</script>', html, re.S).group(1)
    return raw, json.loads(raw)


def test_entity_page_is_findable(client, app):
    ds = served_data(app).current()
    row = ds.entities[ds.entities["id"] == "swk-001"].iloc[0]
    html = client.get("/entities/swk-001").get_data(as_text=True)
    _, data = jsonld_of(html)
    assert data["@context"] == "https://schema.org" and "Organization" in data["@type"]
    assert data["name"] == row["name"]
    assert data["address"]["addressLocality"] == row["locality"] and data["address"]["addressCountry"] == "PL"
    assert data["geo"] == {"@type": "GeoCoordinates", "latitude": round(row.geometry.y, 5),
                           "longitude": round(row.geometry.x, 5)}
    description = re.search(r'<meta name="description" content="([^"]+)">', html).group(1)
    assert row["name"] in description.replace("&#34;", '"') and len(description) <= 170


def test_json_ld_of_a_hostile_entity_stays_data(hostile_app):
    html = hostile_app.test_client().get("/entities/test-hostile").get_data(as_text=True)
    raw, data = jsonld_of(html)
    assert "</" not in raw and "<" not in raw and "${" not in raw
    assert data["name"] == HOSTILE_NAME


@pytest.mark.parametrize("url", ["/", "/embed", "/powiaty", "/powiaty/2602", "/gminy/2602023", "/compare",
                                 "/entities", "/entities/swk-001", "/about", "/trendy"])
def test_every_page_describes_itself(client, url):
    html = client.get(url).get_data(as_text=True)
    description = re.search(r'<meta name="description" content="([^"]*)">', html).group(1)
    assert 40 <= len(description) <= 300, description
