"""Property-based requests over every route and parameter: never a 5xx.

Hypothesis draws parameter names (the route's own, repeated, and unknown ones) and values (valid codes,
numbers of every kind, bbox strings in and out of order and bounds, limits past the cap, very long and
control-character text, hostile markup) and raw non-UTF-8 query strings. Every answer must be < 500; a
400 from /api or /ogc is a JSON {"code", "description"}, a 400 from a page is a Polish HTML page.
Examples are bounded so the module runs in well under 30 s.
"""
from __future__ import annotations

import json
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

FILTERS = ["type", "powiat", "gmina", "q", "bbox"]
ROUTES: dict[str, list[str]] = {
    "/": FILTERS,
    "/embed": FILTERS,
    "/entities": [*FILTERS, "sort", "order", "page"],
    "/powiaty": [],
    "/about": [],
    "/compare": ["teryt"],
    "/powiaty/2602": [],
    "/gminy/2602023": [],
    "/entities/swk-001": [],
    "/api": [],
    "/api/entities.geojson": [*FILTERS, "format", "view"],
    "/api/gminy.geojson": [*FILTERS, "format", "view"],
    "/api/powiaty.geojson": [*FILTERS, "format", "view"],
    "/api/indicators": ["level", "format", "powiat"],
    "/api/download.zip": [*FILTERS, "format", "layer"],
    "/ogc": ["f"],
    "/ogc/conformance": ["f"],
    "/ogc/api": ["f"],
    "/ogc/collections": ["f"],
    "/ogc/collections/entities": ["f"],
    "/ogc/collections/gminy": ["f"],
    "/ogc/collections/entities/items": ["f", "limit", "offset", "bbox", "datetime", "type", "powiat_teryt",
                                        "gmina_teryt", "status", "social_enterprise", "location_precision", "q"],
    "/ogc/collections/gminy/items": ["f", "limit", "offset", "bbox", "datetime", "teryt", "powiat_teryt", "type", "q"],
    "/ogc/collections/powiaty/items": ["f", "limit", "offset", "bbox", "teryt", "city_county", "q"],
    "/ogc/collections/entities/items/swk-001": ["f"],
}
# Slow to render per distinct value (PNG, GeoPackage): fuzzed with fewer examples below.
SLOW_ROUTES = {"/api/download.gpkg": FILTERS, "/compare/chart.png": ["teryt"]}
UNKNOWN_NAMES = ["x", "powait", "limit", "f", "bbox-crs", "filter", "", "a" * 300, "ą", "type[]"]

GOOD = ["wtz", "cis,kis", "ngo;kgw", "2602", "2661", "2602023", "2661011", "json", "html", "geojson", "csv",
        "gpkg", "map", "powiat", "gmina", "name", "employees", "desc", "asc", "1", "2", "100", "10000", "10001",
        "entities", "gminy,powiaty", "active", "true", "false", "unknown", "locality", "Kielce", "łódź",
        "20.3,50.4,21.0,50.9", "21.0,50.4,20.3,50.9", "20,50,21,51,0,100", "2024-01-01T00:00:00Z",
        "2024-01-01/..", "../..", "2024-13-45"]
HOSTILE = ["<script>alert(1)</script>", "\"'><img src=x onerror=alert(1)>", "javascript:alert(1)", "${7*7}",
           "`", "\\", "%00", "\x00", "\x1b[31m", "\ufffd", "\u2028", "NaN", "inf", "-0", "1e309", "0x10",
           "١٢٣", "  2602  ", ",,,", "1,2,3,4,5", "x" * 5000, "2" * 400]


def _num() -> st.SearchStrategy[str]:
    return st.one_of(
        st.integers(min_value=-10**12, max_value=10**12).map(str),
        st.floats(allow_nan=True, allow_infinity=True).map(repr),
        st.floats(min_value=-200, max_value=200).map(lambda v: f"{v:.3f}"),
    )


def _bbox() -> st.SearchStrategy[str]:
    coord = st.one_of(st.floats(min_value=-200, max_value=200, allow_nan=False), st.sampled_from([19.5, 21.9, 50.1, 51.3]))
    return st.lists(coord, min_size=2, max_size=7).map(lambda xs: ",".join(f"{x:g}" for x in xs))


VALUES = st.one_of(
    st.sampled_from(GOOD), st.sampled_from(HOSTILE), _num(), _bbox(),
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=190, max_size=260),
)


def _query(names: list[str]) -> st.SearchStrategy[list[tuple[str, str]]]:
    name = st.sampled_from(names + UNKNOWN_NAMES) if names else st.sampled_from(UNKNOWN_NAMES)
    known = st.sampled_from(names) if names else name
    pair = st.tuples(st.one_of(known, known, name), VALUES)
    return st.one_of(
        st.lists(pair, max_size=4),
        # The same parameter repeated, up to past the repeat limit.
        st.tuples(known, st.lists(VALUES, min_size=2, max_size=25)).map(lambda t: [(t[0], v) for v in t[1]]),
    )


def _encode(pairs: list[tuple[str, str]]) -> str:
    return urlencode([(k, v) for k, v in pairs], quote_via=quote)


def check(path: str, r) -> None:
    body = r.get_data()
    assert r.status_code < 500, (path, r.status_code, body[:400])
    if r.status_code != 400:
        return
    if path.startswith(("/api", "/ogc")):
        assert r.content_type.startswith("application/json"), (path, r.content_type)
        doc = json.loads(body)
        assert set(doc) == {"code", "description"} and doc["description"], doc
    else:
        assert r.content_type.startswith("text/html"), (path, r.content_type)
        text = body.decode("utf-8")
        assert '<html lang="pl">' in text and "Traceback" not in text


FUZZ = settings(max_examples=250, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@FUZZ
@given(data=st.data())
def test_any_query_on_any_route_is_below_500(app, data):
    path = data.draw(st.sampled_from(sorted(ROUTES)), label="path")
    pairs = data.draw(_query(ROUTES[path]), label="query")
    with app.test_client() as c:
        check(path, c.get(path, query_string=_encode(pairs)))


@settings(max_examples=40, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_slow_routes_below_500(app, data):
    path = data.draw(st.sampled_from(sorted(SLOW_ROUTES)), label="path")
    pairs = data.draw(_query(SLOW_ROUTES[path]), label="query")
    with app.test_client() as c:
        check(path, c.get(path, query_string=_encode(pairs)))


SEGMENT = st.one_of(st.sampled_from(["2602", "26", "2602023", "260202", "swk-001", "entities", "gminy", "..",
                                     "%2e%2e", "%00", "a" * 500, "2602.png", "x%2Fy"]),
                    st.text(alphabet=st.characters(codec="utf-8", exclude_characters="/?#%"), min_size=1,
                            max_size=30).map(lambda s: quote(s, safe="")))
PATH_TEMPLATES = ["/powiaty/{}", "/gminy/{}", "/entities/{}", "/powiaty/{}/raport.html", "/powiaty/{}/gminy.csv",
                  "/powiaty/{}/chart/entities_per_10k.png", "/powiaty/2602/chart/{}.png", "/ogc/collections/{}",
                  "/ogc/collections/{}/items", "/ogc/collections/entities/items/{}", "/api/{}",
                  "/ogc/collections/gminy/items/{}", "/static/{}"]


@settings(max_examples=120, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(template=st.sampled_from(PATH_TEMPLATES), segment=SEGMENT)
def test_any_path_segment_is_below_500(app, template, segment):
    path = template.format(segment)
    with app.test_client() as c:
        r = c.get(path)
    assert r.status_code < 500, (path, r.status_code, r.get_data()[:300])
    if r.status_code == 404 and not path.startswith(("/api", "/ogc", "/static")):
        assert '<html lang="pl">' in r.get_data(as_text=True)


RAW_ROUTES = ["/", "/entities", "/compare", "/api/entities.geojson", "/api/indicators",
              "/ogc/collections/entities/items", "/ogc/collections", "/embed"]


@settings(max_examples=80, deadline=None, derandomize=True, database=None)
@given(path=st.sampled_from(RAW_ROUTES), name=st.sampled_from(["q", "type", "bbox", "teryt", "f", "limit", "x"]),
       raw=st.binary(min_size=1, max_size=40), percent=st.booleans())
def test_non_utf8_query_strings(app, path, name, raw, percent):
    """Raw bytes in QUERY_STRING (as a WSGI server passes them, latin-1 decoded), percent-encoded or not."""
    value = "".join(f"%{b:02X}" for b in raw) if percent else raw.decode("latin-1")
    qs = f"{name}={value}"
    with app.test_client() as c:
        r = c.get(path, environ_overrides={"QUERY_STRING": qs})
    check(path, r)
    try:
        (bytes(raw).decode("utf-8"))
        utf8 = True
    except UnicodeDecodeError:
        utf8 = False
    if not utf8 and percent and path.startswith(("/api", "/ogc")):
        assert r.status_code == 400, (path, qs, r.status_code)


@pytest.mark.parametrize("path", ["/api/entities.geojson", "/ogc/collections/entities/items", "/entities"])
def test_limit_caps_and_offsets(app, path):
    c = app.test_client()
    if path.startswith("/ogc"):
        r = c.get(path, query_string="limit=99999999")
        assert r.status_code == 200 and json.loads(r.data)["numberReturned"] <= 10_000
        for bad in ("limit=0", "limit=-1", "limit=1.5", "offset=-1", "offset=99999999999", "limit=1&limit=2"):
            check(path, c.get(path, query_string=bad))
            assert c.get(path, query_string=bad).status_code == 400, bad
    else:
        for bad in ("page=0", "page=-1", "page=9999999", "page=abc", "limit=5"):
            check(path, c.get(path, query_string=bad))
