"""The map pages in headless Chromium (Debian's `chromium`, driven by Playwright) against the app served
on 127.0.0.1 by a real WSGI server (fixtures in tests/web/conftest.py).

Map tiles are blocked (there is no internet in CI): the pages must work without them. Everything else
(HTML, vendored JS/CSS, GeoJSON API) comes from the app.
"""
from __future__ import annotations

import pytest

from geoes.common.polish import count

# (CHROMIUM… are re-exported for the console's browser tests, which import them from here.)
from tests.web.conftest import (CHROMIUM, CHROMIUM_ARGS, READY, TILES, Page, Server, make_app,  # noqa: F401
                                open_popup)

pytestmark = pytest.mark.browser


def pages_helpers():
    """tests/web/test_pages.py (hostile entity helpers), whatever pytest's import mode."""
    import importlib.util
    import sys
    from pathlib import Path

    name = "geoes_web_test_pages_helpers"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("test_pages.py"))
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory, built_settings):
    from conftest import clone_settings
    from geoes.dataset.build import build

    settings = clone_settings(built_settings, tmp_path_factory.mktemp("hostile_browser"))
    pages_helpers().add_hostile_entity(settings)
    build(settings)
    with Server(make_app(settings.data_dir)) as s:
        yield s


def cluster_count(pg) -> int:
    """The entities the map shows under its filters (with a point), clustered or not."""
    return pg.evaluate("GEOES_MAP.entities.count()")


def test_public_map_loads_without_errors(server, page, built_settings):
    from geoes.dataset.reader import load_current

    v = load_current(built_settings).voivodeship
    took = page.goto(server.url + "/")
    pg = page.page
    assert pg.evaluate("document.documentElement.lang") == "pl"
    n = cluster_count(pg)
    assert n > 10, n
    # Clusters or markers are drawn on the map.
    pg.wait_for_selector(".marker-cluster, .geoes-marker", timeout=5_000)
    assert pg.locator(".marker-cluster, .geoes-marker").count() > 0
    # Boundaries were fetched and drawn (vector paths), the status says how many entities are shown.
    assert pg.locator("path.leaflet-interactive, .leaflet-overlay-pane path").count() >= 14
    # The map's count is the subset of the register it shows, named as such, and agrees with the pages' figures.
    status = pg.inner_text("#map-status")
    assert n == v["entities_with_point"] + v["entities_status_inactive"], (n, v)
    assert f"Na mapie: {v['entities_with_point']} z {v['entities']} w rejestrze" in status, status
    assert f"; {v['entities'] - v['entities_with_point']} bez punktu" in status, status
    assert "filtr" not in status
    # Markers have accessible titles; controls are there.
    assert pg.locator(".geoes-marker[title]").count() == pg.locator(".geoes-marker").count()
    assert pg.locator(".leaflet-control-fullscreen, .leaflet-control-zoom-fullscreen").count() >= 1
    assert pg.locator(".leaflet-control-locate").count() == 0  # `W pobliżu` finds the reader's place here
    assert pg.get_by_role("button", name="W pobliżu", exact=True).is_visible()
    assert pg.locator(".leaflet-control-layers").count() == 1
    assert "autorzy OpenStreetMap" in pg.inner_text(".leaflet-control-attribution")
    # Keyboard: a marker is focusable and Enter opens its popup.
    marker = pg.locator(".geoes-marker").first
    marker.focus()
    pg.keyboard.press("Enter")
    pg.wait_for_selector(".leaflet-popup-content h3 a")
    assert pg.inner_text(".leaflet-popup-content h3") == marker.get_attribute("title")
    assert marker.get_attribute("aria-label") == marker.get_attribute("title")
    # Clusters are buttons named with their count ("Skupisko: 14 podmiotów"), 44 px or more across.
    groups = pg.evaluate("[...document.querySelectorAll('.marker-cluster')].map(e => [e.getAttribute('role'), "
                         "e.getAttribute('aria-label'), e.textContent, e.getBoundingClientRect().width])")
    assert groups
    for role, label, text, width in groups:
        k = int(text.replace("\u00a0", ""))
        assert role == "button" and label == "Skupisko: " + count(k, "podmiot") and width >= 44, (label, width)
    assert page.errors == [], page.errors
    assert took < 15, took


def map_view(server, layer: str) -> dict:
    """{teryt: properties} of a unit layer's map view, as the server gives it to map.js."""
    import json
    import urllib.request

    with urllib.request.urlopen(f"{server.url}/api/{layer}.geojson?view=map", timeout=30) as r:
        return {f["id"]: f["properties"] for f in json.load(r)["features"]}


def unit_requests(page) -> list[str]:
    """Every request of the page for a unit layer (recorded from now on)."""
    seen: list[str] = []
    page.page.on("request", lambda req: seen.append(req.url) if "/api/gminy." in req.url or
                 "/api/powiaty." in req.url else None)
    return seen


DRAWN = """key => { const out = {};
    GEOES_MAP.layers[key].eachLayer(gj => gj.eachLayer(l => {
        out[l.feature.properties.teryt] = [l.options.fillColor, l.options.dashArray || null]; }));
    return out; }"""


def open_tooltip(pg, key: str, teryt: str) -> str:
    pg.evaluate("""([key, teryt]) => GEOES_MAP.layers[key].eachLayer(gj => gj.eachLayer(l => {
        if (l.feature.properties.teryt === teryt) { l.openTooltip(l.getBounds().getCenter()); } }))""",
                [key, teryt])
    return pg.wait_for_selector(".leaflet-tooltip .geoes-tip").inner_text()


def test_choropleth_colours_and_tooltips_are_the_servers(server, page):
    """map.js paints each gmina with the colour the unit layer's map view gives it and shows its figures
    as the server formatted them (geoes.publish.unitmap)."""
    gminy = map_view(server, "gminy")
    page.goto(server.url + "/powiaty/2602")
    pg = page.page
    drawn = pg.evaluate(DRAWN, "units")
    assert sorted(drawn) == sorted(t for t, p in gminy.items() if p["powiat_teryt"] == "2602")  # its 9 gminy
    assert len(drawn) == 9
    assert all(fill == gminy[t]["color"] for t, (fill, _) in drawn.items()), drawn
    # A white spot keeps its dashed outline.
    assert all((dash is not None) == gminy[t]["white_spot"] for t, (_, dash) in drawn.items()), drawn
    text = open_tooltip(pg, "units", "2602023")
    p = gminy["2602023"]
    assert "gmina Jędrzejów" in text and f"Ludność: {p['population']}" in text
    assert f"Podmioty: {p['entities']} · na 10 tys. mieszk.: {p['per_10k']}" in text
    assert page.errors == [], page.errors


def test_public_map_layers_come_from_the_map_view_when_switched_on(server, page):
    """The public map fetches the powiaty's map view for its boundaries, the gminy's only when a gmina
    layer is switched on; the choropleths, the need layer and the white spots are the server's."""
    powiaty, gminy = map_view(server, "powiaty"), map_view(server, "gminy")
    seen = unit_requests(page)
    page.goto(server.url + "/")
    pg = page.page
    pg.wait_for_function("() => GEOES_MAP.layers.powiaty.getLayers().length > 0")
    assert seen == [server.url + "/api/powiaty.geojson?view=map"], seen
    pg.evaluate("GEOES_MAP.map.addLayer(GEOES_MAP.layers.ch_powiat)")
    pg.wait_for_function("() => GEOES_MAP.layers.ch_powiat.getLayers().length > 0")
    drawn = pg.evaluate(DRAWN, "ch_powiat")
    assert len(drawn) == 14 and {t: f for t, (f, _) in drawn.items()} == {t: p["color"] for t, p in powiaty.items()}
    assert len({f for f, _ in drawn.values()}) > 2
    text = open_tooltip(pg, "ch_powiat", "2602")
    p = powiaty["2602"]
    assert text.startswith("powiat jędrzejowski") and f"Ludność: {p['population']}" in text
    assert f"Bezrobotni zarejestrowani ({p['need_year']}, GUS BDL): {p['unemployed']}" in text
    assert not [u for u in seen if "/api/gminy." in u]  # no gmina layer on yet
    pg.evaluate("GEOES_MAP.map.addLayer(GEOES_MAP.layers.ch_need); GEOES_MAP.map.addLayer(GEOES_MAP.layers.white)")
    pg.wait_for_function("() => GEOES_MAP.layers.ch_need.getLayers().length > 0 && "
                         "GEOES_MAP.layers.white.getLayers().length > 0")
    need = pg.evaluate(DRAWN, "ch_need")
    assert {t: f for t, (f, _) in need.items()} == {t: p["need_color"] for t, p in gminy.items()}
    white = pg.evaluate(DRAWN, "white")
    assert sorted(white) == sorted(t for t, p in gminy.items() if p["white_spot"]) and white
    assert [u for u in seen if "/api/gminy." in u] == [server.url + "/api/gminy.geojson?view=map"]  # once
    assert page.errors == [], page.errors


def test_powiat_filter_zooms_to_the_powiat_of_the_powiat_layer(server, page):
    """The page carries no list of powiaty for the map: the powiat filter zooms to the powiat's boundary
    in the powiat layer's map view, and a code that layer does not have is dropped."""
    page.goto(server.url + "/?powiat=2602")
    pg = page.page
    bounds = "(() => { const b = GEOES_MAP.map.getBounds(); return [b.getSouth(), b.getWest(), b.getNorth(), b.getEast()]; })()"
    s, w, n, e = pg.evaluate(bounds)
    # Powiat jędrzejowski lies between about 50.4–50.8 N and 19.9–20.6 E: the view is around it, not the region.
    assert 50.2 < s < 50.5 and 50.7 < n < 51.0 and 19.6 < w < 20.0 and 20.5 < e < 20.9, (s, w, n, e)
    assert "p=2602" in pg.evaluate("location.hash")
    other = Page(pg.context.browser, viewport={"width": 1280, "height": 900})
    try:
        other.goto(server.url + "/#p=9999&l=entities,powiaty")
        other.page.wait_for_function("() => location.hash.indexOf('p=') < 0")
        assert other.page.eval_on_selector("#f-powiat", "s => s.value") == ""
        other.page.wait_for_function("() => GEOES_MAP.entities.count() > 10")
        assert other.errors == [], other.errors
    finally:
        other.close()
    assert page.errors == [], page.errors


def test_type_filter_reduces_markers_and_is_shareable(server, page):
    page.goto(server.url + "/")
    pg = page.page
    total = cluster_count(pg)
    pg.check("#filters input[name=type][value=wtz]")
    pg.wait_for_function(f"() => GEOES_MAP.entities.count() < {total}")
    only_wtz = cluster_count(pg)
    assert 0 < only_wtz < total
    assert "filtr" in pg.inner_text("#map-status")
    # The layer control mirrors the filter: only the WTZ type layer stays on.
    assert pg.evaluate("GEOES_MAP.map.hasLayer(GEOES_MAP.layers['type:wtz'])")
    assert not pg.evaluate("GEOES_MAP.map.hasLayer(GEOES_MAP.layers['type:spoldzielnia_socjalna'])")
    # State is in the URL; the list link carries the same filter.
    assert "t=wtz" in pg.evaluate("location.hash")
    assert "type=wtz" in pg.get_attribute("#link-list", "href")
    shared = pg.url
    other = Page(pg.context.browser, viewport={"width": 1280, "height": 900})
    try:
        other.goto(shared)
        other.page.wait_for_function(f"() => GEOES_MAP.entities.count() === {only_wtz}")
        assert other.page.is_checked("#filters input[name=type][value=wtz]")
        assert other.errors == []
    finally:
        other.close()
    # Powiat and name search narrow further; clearing restores everything.
    pg.select_option("#f-powiat", "2661")
    pg.wait_for_function("() => location.hash.indexOf('p=2661') >= 0")
    assert cluster_count(pg) <= only_wtz
    pg.click("#f-reset")
    pg.wait_for_function(f"() => GEOES_MAP.entities.count() === {total}")
    pg.fill("#f-q", "zzzz-nie-ma-takiej-nazwy")
    pg.wait_for_function("() => GEOES_MAP.entities.count() === 0")
    assert page.errors == [], page.errors


def test_county_page_loads_with_map(server, page):
    page.goto(server.url + "/powiaty/2602")
    pg = page.page
    assert "Powiat jędrzejowski" in pg.inner_text("h1")
    pg.wait_for_selector(".geoes-marker, .marker-cluster", timeout=5_000)
    # The county's gminy are drawn (9) and the chart images load.
    assert pg.evaluate("GEOES_MAP.layers.units.getLayers()[0].getLayers().length") == 9
    img = pg.locator("img[src*='/chart/entities_per_10k.png?']")  # linked with the data version
    img.scroll_into_view_if_needed()
    pg.wait_for_function("img => img.complete && img.naturalWidth > 100", arg=img.element_handle())
    assert page.errors == [], page.errors


def test_other_map_pages_load(server, page):
    for path in ("/gminy/2602023", "/compare?teryt=2602&teryt=2601", "/embed", "/entities/swk-001"):
        page.goto(server.url + path)
    assert page.errors == [], page.errors


def test_phone_layout(server, browser):
    p = Page(browser, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    try:
        p.goto(server.url + "/")
        box = p.page.locator("#map_geoes").bounding_box()
        assert box["width"] >= 380 and box["height"] >= 300
        scroll_width = p.page.evaluate("document.documentElement.scrollWidth")
        assert scroll_width <= 392, scroll_width
        assert p.errors == [], p.errors
    finally:
        p.close()


def test_hostile_name_is_shown_as_text(hostile_server, page):
    HOSTILE_NAME = pages_helpers().HOSTILE_NAME
    page.goto(hostile_server.url + "/")
    pg = page.page
    popup = open_popup(pg, "test-hostile")
    assert popup.inner_text() == HOSTILE_NAME
    assert pg.locator(".leaflet-popup-content img").count() == 0
    assert pg.locator(".leaflet-popup-content script").count() == 0
    # The website with a backtick is not made a link; the tooltip is text too.
    assert pg.locator(".leaflet-popup-content a[href^='https://example.org/a']").count() == 0
    pg.evaluate("""() => {
        const m = GEOES_MAP.entities.markers().find(l => l.geoes.id === 'test-hostile');
        GEOES_MAP.map.closePopup();  // one popup for the whole map: no tooltip beside it while open
        m.fire('mouseover', {latlng: m.getLatLng()}, true);
    }""")
    tip = pg.wait_for_selector(".leaflet-tooltip strong")
    assert tip.inner_text() == HOSTILE_NAME
    assert pg.locator(".leaflet-tooltip img").count() == 0
    # The title attribute of the marker is the plain name.
    assert pg.evaluate("name => [...document.querySelectorAll('.geoes-marker[title]')]"
                       ".some(e => e.getAttribute('title') === name)", HOSTILE_NAME)
    # The detail page: folium's tooltip (a JS template literal) shows the text.
    page.goto(hostile_server.url + "/entities/test-hostile")
    pg.evaluate("""() => GEOES_MAP.map.eachLayer(l => { if (l.getTooltip && l.getTooltip()) l.openTooltip(); })""")
    tip = pg.wait_for_selector(".leaflet-tooltip")
    assert HOSTILE_NAME in tip.inner_text()
    assert pg.locator(".leaflet-tooltip img").count() == 0
    assert pg.locator("h1").inner_text() == HOSTILE_NAME
    assert pg.evaluate("typeof window.__pwned") == "undefined"
    pg.goto(hostile_server.url + "/entities?q=Z%C5%82a")
    assert HOSTILE_NAME in pg.inner_text("table")
    assert pg.evaluate("typeof window.__pwned") == "undefined"
    page.goto(hostile_server.url + "/powiaty/2602")
    assert pg.evaluate("typeof window.__pwned") == "undefined"
    assert page.errors == [], page.errors
