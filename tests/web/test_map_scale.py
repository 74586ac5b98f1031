"""The map's entities at any size, in headless Chromium: the light payload clustered by supercluster below
GEOES_MAP_SERVER_CLUSTERS, the server's clusters above it (here forced with a threshold of 10 on the real
register), and in both the same entities, names, lists and filters."""
from __future__ import annotations

import json
import urllib.request

import pytest

from geoes.common.polish import count
from geoes.dataset.reader import load_current
from tests.web.conftest import Page, Server

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server_mode(built_settings):
    from geoes.web import create_app

    app = create_app({"TESTING": True, "GEOES_DATA_DIR": str(built_settings.data_dir), "GEOES_REGION": "26",
                      "GEOES_MAP_SERVER_CLUSTERS": 10})
    with Server(app) as s:
        yield s


def requests_of(page, part: str) -> list[str]:
    seen: list[str] = []
    page.page.on("request", lambda req: seen.append(req.url) if part in req.url else None)
    return seen


def api(server, path: str) -> dict:
    with urllib.request.urlopen(server.url + path, timeout=30) as r:
        return json.load(r)


def test_below_the_threshold_the_browser_clusters_the_payload(server, page, built_settings):
    points = requests_of(page, "/api/points.json")
    page.goto(server.url + "/")
    pg = page.page
    pg.wait_for_function("() => GEOES_MAP.entities.clustering() === 'browser'")
    ds = load_current(built_settings)
    assert points == [f"{server.url}/api/points.json?v={ds.version}"]  # pinned to the version: cached a year
    assert sorted(pg.evaluate("GEOES_MAP.entities.ids()")) == sorted(api(server, "/api/points.json")["id"])
    # Panning and zooming cluster again in the browser: no request for entities.
    asked = requests_of(page, "/api/clusters")
    pg.evaluate("GEOES_MAP.map.setView([50.87, 20.63], 11, {animate: false})")
    pg.wait_for_function("() => GEOES_MAP.entities.markers().length + GEOES_MAP.entities.clusters().length > 0")
    assert asked == []
    # Every entity the view holds is in a cluster or is a marker.
    held = pg.evaluate("""() => { const b = GEOES_MAP.map.getBounds(); let n = 0;
        GEOES_MAP.entities.clusters().forEach(m => { if (b.contains(m.getLatLng())) n += m.geoes.cluster.n; });
        GEOES_MAP.entities.markers().forEach(m => { if (b.contains(m.getLatLng())) n += 1; });
        return n; }""")
    b = pg.evaluate("(() => { const b = GEOES_MAP.map.getBounds(); return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]; })()")
    inside = api(server, "/api/entities.geojson?bbox=" + ",".join(f"{v:.6f}" for v in b))["features"]
    assert held == len(inside) > 0
    assert page.errors == [], page.errors


def test_above_the_threshold_each_view_comes_from_the_server(server_mode, browser):
    p = Page(browser, viewport={"width": 1280, "height": 900})
    try:
        points = requests_of(p, "/api/points.json")
        asked = requests_of(p, "/api/clusters")
        p.goto(server_mode.url + "/")
        pg = p.page
        assert pg.evaluate("GEOES_MAP.entities.clustering()") == "server" and points == []
        doc = api(server_mode, "/api/points.json")
        total = doc["count"]
        assert pg.evaluate("GEOES_MAP.entities.count()") == total
        on_map = total - doc["closed"]
        assert pg.inner_text("#map-status").startswith(f"Na mapie: {on_map} z {on_map + doc['unplaced']} w rejestrze")
        groups = pg.evaluate("[...document.querySelectorAll('.marker-cluster')].map(e => [e.getAttribute('aria-label'), "
                             "e.textContent, e.getBoundingClientRect().width])")
        assert groups and all(label == "Skupisko: " + count(int(text), "podmiot") and width >= 44
                              for label, text, width in groups), groups
        # A moved map asks for the new view (68 entities: few enough to come as points, those at one
        # place as one cluster).
        before = len(asked)
        pg.evaluate("GEOES_MAP.map.setView([50.87, 20.63], 12, {animate: false})")
        pg.wait_for_function(f"() => window.performance.getEntriesByType('resource')"
                             f".filter(e => e.name.includes('/api/clusters')).length > {before}")
        assert any("zoom=12" in u for u in asked[before:]), asked
        # A filter asks the server again and counts what it selects.
        pg.check("#filters input[name=type][value=wtz]")
        wtz = api(server_mode, "/api/points.json?type=wtz")["count"]
        pg.wait_for_function(f"() => GEOES_MAP.entities.count() === {wtz}")
        assert any("type=wtz" in u for u in asked)
        # An entity's popup: its details from the API, at its place.
        eid = api(server_mode, "/api/points.json?type=wtz")["id"][0]
        pg.evaluate("id => GEOES_MAP.entities.show(id)", eid)
        title = pg.wait_for_selector(".leaflet-popup-content h3").inner_text()
        assert title == api(server_mode, f"/ogc/collections/entities/items/{eid}?f=json")["properties"]["name"]
        assert p.errors == [], p.errors
    finally:
        p.close()


def test_server_clusters_list_entities_at_one_place(server_mode, browser, built_settings):
    """Ten Kielce entities share a point: at the last zoom their server cluster lists them all."""
    ds = load_current(built_settings)
    geoms = ds.entities.geometry
    placed = ds.entities[~(geoms.isna() | geoms.is_empty).to_numpy()]
    xy = placed.geometry.apply(lambda g: (round(g.x, 6), round(g.y, 6)))
    (lon, lat), n = xy.value_counts().index[0], int(xy.value_counts().iloc[0])
    p = Page(browser, viewport={"width": 1280, "height": 900})
    try:
        p.goto(server_mode.url + f"/#z=18&c={lat},{lon}")
        pg = p.page
        group = pg.locator(".marker-cluster").filter(has_text=str(n)).first
        group.wait_for()
        assert group.get_attribute("aria-label") == "Skupisko: " + count(n, "podmiot")
        group.focus()
        pg.keyboard.press("Enter")
        pg.wait_for_selector(".geoes-list")
        assert pg.locator(".geoes-list li a").count() == n
        assert pg.inner_text(".geoes-list h3") == f"Podmioty w tym miejscu: {n}"
        assert p.errors == [], p.errors
    finally:
        p.close()
