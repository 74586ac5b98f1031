"""Every HTML page, download and error through the Flask test client."""
from __future__ import annotations

import csv
import html
import io
import json
import re

import pytest

from geoes.publish import escape
from geoes.web.served import served_data

# A name, description and URLs that would run script if shown as HTML or put raw into JavaScript.
HOSTILE_NAME = "<img src=x onerror=\"window.__pwned=1\">Zła `${window.__pwned=2}` \\'spółdzielnia\" </script>"
HOSTILE_DESCRIPTION = "<script>window.__pwned=3</script><a href=\"javascript:alert(1)\">klik</a>"
HOSTILE_WEBSITE = "https://example.org/a?b=`${1}`"


def add_hostile_entity(settings) -> None:
    """Append one hostile entity (inside powiat jędrzejowski) to settings' entities.csv."""
    path = settings.data_dir / "entities.csv"
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        fields = reader.fieldnames
    row = {f: "" for f in fields}
    row.update({
        "id": "test-hostile", "name": HOSTILE_NAME, "types": "wtz", "social_enterprise": "unknown",
        "operator": "<b>operator</b>", "street": "ul. <i>Testowa</i> 1", "locality": "Jędrzejów",
        "lat": "50.6453", "lon": "20.3047", "location_precision": "locality", "status": "active",
        "website": HOSTILE_WEBSITE, "description": HOSTILE_DESCRIPTION,
        "sources": "https://example.org/zrodlo | https://example.org/`x`",
    })
    with open(path, "a", encoding="utf-8", newline="") as fh:
        csv.DictWriter(fh, fieldnames=fields).writerow(row)


@pytest.fixture(scope="module")
def hostile_app(tmp_path_factory, built_settings):
    from conftest import clone_settings
    from geoes.dataset.build import build
    from geoes.web import create_app

    settings = clone_settings(built_settings, tmp_path_factory.mktemp("hostile"))
    add_hostile_entity(settings)
    build(settings)
    return create_app({"TESTING": True, "GEOES_DATA_DIR": str(settings.data_dir), "GEOES_REGION": "26"})


def html_of(response) -> str:
    assert response.content_type.startswith("text/html"), response.content_type
    return response.get_data(as_text=True)


def assert_polish_page(response, status: int = 200) -> str:
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    text = html_of(response)
    assert '<html lang="pl">' in text
    return text


PAGES = [
    "/", "/embed", "/powiaty", "/powiaty/2602", "/powiaty/2661", "/gminy/2602023", "/gminy/2661011",
    "/compare", "/compare?teryt=2602&teryt=2601", "/compare?teryt=2602&teryt=2601&teryt=2661&teryt=2604",
    "/compare?teryt=2602023&teryt=2601013", "/entities", "/entities?type=wtz&powiat=2602&q=j%C4%99drzej",
    "/entities?sort=employees&order=desc", "/entities?gmina=2602023", "/entities/swk-001", "/about",
]


@pytest.mark.parametrize("url", PAGES)
def test_page_renders_in_polish(client, url):
    text = assert_polish_page(client.get(url))
    assert "<title>" in text and "Traceback" not in text


def test_map_page_is_small_and_self_hosted(client):
    r = client.get("/")
    text = assert_polish_page(r)
    assert len(r.data) < 50 * 1024, len(r.data)
    # Data come by fetch from the GeoJSON API, never inline.
    assert '"entities":"/api/entities.geojson"' in text
    assert '"type":"Feature"' not in text
    assert "Caritas Diecezji Kieleckiej" not in text  # no entity text in the shell: its size does not grow
    # No CDN: every script and stylesheet is served by the app (tiles are the only outside URLs).
    for src in re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', text):
        assert src.startswith("/"), src
    assert "cdn" not in text.lower()
    # The libraries come as one deferred bundle with a content-hashed name (geoes.web.assets), map.js too.
    vendor = re.search(r'<script defer src="(/static/js/map-vendor\.[0-9a-f]{12}\.js)"></script>', text).group(1)
    assert re.search(r'<script defer src="/static/js/map\.[0-9a-f]{12}\.js"></script>', text)
    bundle = client.get(vendor).get_data(as_text=True)
    for library in ("Leaflet", "Supercluster", "control.fullscreen", "control.locate", "GestureHandling"):
        assert library in bundle, library
    assert "tile.openstreetmap.org" in text
    # Attribution of tiles and data, completeness note, layer names, filters.
    assert "autorzy OpenStreetMap" in text and "GUGiK PRG" in text
    assert re.search(r"WTZ: w rejestrze \d+ z \d+ znanych", text)
    for name in ("Granice powiatów", "Granice gmin", "Białe plamy", "Podmioty na 10 tys. mieszk. – powiaty",
                 "Podmioty na 10 tys. mieszk. – gminy"):
        assert name in text or json.dumps(name)[1:-1] in text  # folium writes layer names with tojson
    assert 'name="type"' in text and 'name="powiat"' in text and 'name="q"' in text
    assert "L.control.fullscreen" in text and "L.markerClusterGroup" not in text  # supercluster or the server
    # The public map finds the reader's place with `W pobliżu` (and lists what is near); the plain
    # locate button stays on the other maps.
    assert "L.control.locate" not in text and ">" + " W pobliżu</button>" in text.replace("</svg>", ">")
    assert "L.control.locate" in client.get("/embed").get_data(as_text=True)


def test_inline_script_carries_the_csp_nonce(client):
    r = client.get("/")
    assert r.status_code == 200
    nonce = re.search(r"'nonce-([^']+)'", r.headers["Content-Security-Policy"]).group(1)
    body = r.get_data(as_text=True)
    assert f'<script nonce="{nonce}">' in body
    assert f'id="geoes-config" nonce="{nonce}"' in body


def test_vendor_assets_are_served(client):
    # Unhashed names stay reachable (briefly cached); the icons are SVGs, the icon font is gone.
    for path in ("vendor/leaflet/leaflet.js", "vendor/leaflet/leaflet.css", "vendor/supercluster/supercluster.min.js",
                 "vendor/fullscreen/Control.FullScreen.js", "vendor/locatecontrol/L.Control.Locate.min.js",
                 "vendor/gesture-handling/leaflet-gesture-handling.min.js", "vendor/fontawesome/svgs/solid/users.svg",
                 "js/map.js", "css/geoes.css"):
        r = client.get("/static/" + path)
        assert r.status_code == 200, path
        assert r.headers["Cache-Control"] == "public, max-age=300", path
        r.close()
    assert client.get("/static/vendor/fontawesome/webfonts/fa-solid-900.woff2").status_code == 404
    css = client.get("/types.css")
    assert css.status_code == 200 and css.mimetype == "text/css"
    assert ".geoes-type-wtz{background-color:#b2182b;}" in css.get_data(as_text=True)


def test_embed_has_gesture_handling(client):
    text = assert_polish_page(client.get("/embed"))
    assert '"gestureHandling": true' in text
    vendor = re.search(r'src="(/static/js/map-vendor\.[0-9a-f]{12}\.js)"', text).group(1)
    assert "gestureHandling" in client.get(vendor).get_data(as_text=True)
    assert len(text.encode()) < 50 * 1024


def test_powiat_profile_shows_key_figures(client, app):
    text = assert_polish_page(client.get("/powiaty/2602"))
    assert "Powiat jędrzejowski" in text
    assert '<data value="80370">80\u00a0370</data>' in text  # population 2024
    assert '<data value="1256.79">' in text  # official area
    assert "z 14" in text  # ranks among the 14 powiaty
    for gmina in ("Jędrzejów", "Sędziszów", "Wodzisław", "Imielno", "Małogoszcz", "Nagłowice", "Oksa", "Sobków",
                  "Słupia"):
        assert gmina in text
    assert "(białe plamy)" in text
    assert "/powiaty/2602/chart/entities_per_10k.png" in text
    assert "/powiaty/2602/map.png" in text and "/powiaty/2602/gminy.csv" in text
    assert "/compare" in text
    with app.app_context():
        v = served_data(app).current().voivodeship
    assert f'<data value="{v["population"]}">' in text  # the voivodeship as the reference


def test_gmina_profile(client):
    text = assert_polish_page(client.get("/gminy/2602023"))
    assert "Gmina Jędrzejów" in text and "powiat jędrzejowski" in text
    assert "/gminy/2602023/chart/entities_per_10k.png" in text


def test_compare_page(client):
    text = assert_polish_page(client.get("/compare?teryt=2602&teryt=2601"))
    assert "powiat jędrzejowski" in text and "powiat buski" in text
    assert "Różnica: buski − jędrzejowski" in text
    assert "/compare/chart.png?teryt=2602&amp;teryt=2601" in text
    assert '"highlight":["2602","2601"]' in text


@pytest.mark.parametrize("url", [
    "/compare?teryt=2602", "/compare?teryt=2602&teryt=2602", "/compare?teryt=abc&teryt=2601",
    "/compare?teryt=2602&teryt=9999", "/compare?teryt=2602&teryt=2602023",
    "/compare?teryt=2601&teryt=2602&teryt=2603&teryt=2604&teryt=2605",
    "/entities?type=nieznany", "/entities?powiat=99", "/entities?powiat=9999", "/entities?sort=zly",
    "/entities?order=up", "/entities?page=0", "/entities?page=abc", "/entities?page=999",
    "/entities?q=" + "x" * 500, "/?type=zly", "/?powiat=12", "/?bbox=1,2,3", "/embed?powiat=abc",
    "/entities?q=%00", "/compare/chart.png?teryt=2602",
])
def test_bad_parameters_give_polish_400(client, url):
    text = assert_polish_page(client.get(url), 400)
    assert "Błędny parametr" in text


@pytest.mark.parametrize("url", [
    "/powiaty/9999", "/powiaty/abc", "/powiaty/26020", "/gminy/2602999", "/gminy/26", "/entities/nie-ma-takiego",
    "/entities/" + "x" * 300, "/powiaty/9999/chart/entities_per_10k.png", "/powiaty/2602/chart/nieznany.png",
    "/powiaty/9999/map.png", "/powiaty/9999/gminy.csv", "/gminy/2602999/chart/entities.png", "/nie-ma-strony",
])
def test_unknown_things_give_polish_404(client, url):
    text = assert_polish_page(client.get(url), 404)
    assert "Nie znaleziono" in text


def test_charts_and_static_map_are_png(client):
    for url in ("/powiaty/2602/chart/entities_per_10k.png", "/powiaty/2602/chart/access_10km_pct.png",
                "/powiaty/2602/map.png", "/gminy/2602023/chart/entities_per_10k.png",
                "/compare/chart.png?teryt=2602&teryt=2601"):
        r = client.get(url)
        assert r.status_code == 200, url
        assert r.mimetype == "image/png"
        assert r.data[:8] == b"\x89PNG\r\n\x1a\n"
        assert len(r.data) > 5000


def test_csv_downloads(client):
    r = client.get("/powiaty/2602/gminy.csv")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert "attachment" in r.headers["Content-Disposition"]
    text = r.data.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 9 and {row["powiat_teryt"] for row in rows} == {"2602"}
    assert "entities_per_10k" in rows[0]
    r = client.get("/powiaty/2602/indicators.csv")
    rows = list(csv.DictReader(io.StringIO(r.data.decode("utf-8-sig"))))
    assert [row["teryt"] for row in rows if row["teryt"] == "2602"] == ["2602"]
    assert rows[-1]["teryt"] == "26"  # the voivodeship row for reference
    assert [row["population"] for row in rows if row["teryt"] == "2602"] == ["80370"]


def test_entities_table_is_accessible_and_sortable(client):
    text = assert_polish_page(client.get("/entities?sort=name&order=desc"))
    assert '<table class="data sortable">' in text and "<caption>" in text
    assert 'aria-sort="descending"' in text
    assert 'scope="col"' in text and 'scope="row"' in text
    names = re.findall(r'<th scope="row"><a href="/entities/[^"]+">([^<]+)</a>', text)
    assert len(names) > 10
    from geoes.common.text import polish_key

    names = [html.unescape(n) for n in names]
    assert names == sorted(names, key=polish_key, reverse=True)  # Polish alphabetical order
    # The same filters as the map; rows link to the details.
    filtered = assert_polish_page(client.get("/entities?type=wtz"))
    assert "Warsztat Terapii Zajęciowej" in filtered
    assert "Spółdzielnia socjalna</td>" not in filtered


def test_entity_detail_all_fields_and_http_links_only(client):
    text = assert_polish_page(client.get("/entities/swk-001"))
    assert "Zakład Aktywności Zawodowej Caritas Diecezji Kieleckiej" in text
    assert "https://kielce.caritas.pl/" in text and 'rel="noopener noreferrer nofollow"' in text
    assert '<p class="lead"><span class="tag">' in text and "Zakład Aktywności Zawodowej</span>" in text  # the type
    for label in ("Podmiot prowadzący", "Miejscowość", "Gmina", "Powiat", "Status", "Źródła", "Stan na"):
        assert f"<dt>{label}</dt>" in text
    assert "map_geoes" in text  # the small map


def test_about_page(client):
    text = assert_polish_page(client.get("/about"))
    for part in ("Metoda", "Źródła i atrybucja", "GUGiK PRG", "GUS BDL", "PRNG", "autorzy OpenStreetMap",
                 "Jak kompletny jest rejestr", "Warsztat Terapii Zajęciowej"):
        assert part in text


def test_escape_helper():
    hostile = "<img src=x onerror=alert(1)>`${x}`\\'\""
    out = escape.text(hostile)
    for ch in "<>`$\\'\"":
        assert ch not in out
    assert escape.safe_url("javascript:alert(1)") is None
    assert escape.safe_url(" JaVaScRiPt:alert(1)") is None
    assert escape.safe_url("data:text/html,<b>x</b>") is None
    assert escape.safe_url("mailto:a@b.pl") is None
    assert escape.safe_url("https://example.org/a b") is None
    assert escape.safe_url("//example.org") is None
    assert escape.safe_url("https://example.org/a?b=1") == "https://example.org/a?b=1"
    assert str(escape.link("javascript:alert(1)", "x")) == "x"
    assert str(escape.link("https://ex.org/", "<b>")) == (
        '<a href="https://ex.org/" rel="noopener noreferrer nofollow">&lt;b&gt;</a>')
    js = str(escape.json_script({"a": "</script><!--'"}))
    assert "</script>" not in js and "<!--" not in js and "'" not in js


def test_hostile_text_is_escaped_everywhere(hostile_app):
    client = hostile_app.test_client()
    for url in ("/entities/test-hostile", "/entities", "/entities?q=Z%C5%82a", "/powiaty/2602", "/gminy/2602023"):
        text = assert_polish_page(client.get(url))
        assert "<img src=x" not in text, url
        assert "<script>window.__pwned" not in text, url
        assert "onerror=\"window" not in text, url
        assert "&lt;img src=x onerror=" in text, url
    detail = client.get("/entities/test-hostile").get_data(as_text=True)
    # The folium tooltip (a JS template literal) gets the helper's encoding: no backtick, no ${, no raw quote.
    script = detail.split('<script nonce="')[1] if '<script nonce="' in detail else detail.split("<script>")[-1]
    assert "${window.__pwned" not in script
    assert "`${" not in script
    assert "&#96;&#36;{window.__pwned=2}&#96;" in script
    # Links: http(s) only; a URL with characters that could break out is shown as text, not linked.
    assert 'href="javascript:' not in detail
    assert 'href="https://example.org/zrodlo"' in detail
    assert 'href="https://example.org/a?b=`' not in detail
    assert "&lt;script&gt;window.__pwned=3&lt;/script&gt;" in detail


def test_no_dataset_gives_503_page(tmp_path):
    from geoes.web import create_app

    app = create_app({"TESTING": True, "GEOES_DATA_DIR": str(tmp_path), "GEOES_REGION": "26"})
    r = app.test_client().get("/powiaty/2602")
    assert r.status_code == 503
    assert '<html lang="pl">' in r.get_data(as_text=True)


def test_county_page_links_to_its_report(client):
    page = client.get("/powiaty/2602")
    assert b"/powiaty/2602/raport.html" in page.data
    report = client.get("/powiaty/2602/raport.html")
    assert report.status_code == 200 and report.mimetype == "text/html"
    assert re.search(r"80[\s\u00a0\u202f]370", report.get_data(as_text=True))
    assert client.get("/powiaty/9999/raport.html").status_code == 404


def test_ranking_chart_without_the_highlighted_unit(app):
    from geoes.publish import charts

    with app.app_context():
        ds = served_data(app).current()
        png = charts.ranking_chart(ds.indicator_table("powiat"), "entities_per_10k", "9999", 0.3)
    assert png.startswith(b"\x89PNG")
