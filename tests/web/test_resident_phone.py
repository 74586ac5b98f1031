"""A resident on a phone (390×844, touch) in headless Chromium (tests/web/conftest.py):

* `W pobliżu` and `Filtry` are on the first screen of the map; with the device's place at Jędrzejów the
  nearest entities are listed (km, direction), nearest first by great-circle distance from the API's points,
  announced, linked, their markers highlighted and the map fitted around the place and the first three;
* with the location refused, the field `Miejscowość lub adres` gives the same list for "Jędrzejów";
* every map control, marker, group, button, select and filter row on the first screen is at least 44 px;
* a choropleth brings its legend onto the map; the status line counts what the filters select and names them;
* the entity page puts the contact, `Jak dojechać` and `Zgłoś zmianę` first and says "brak" at most three times;
* names are in the order Chromium's Polish collation (ICU) gives them.
"""
from __future__ import annotations

import json
import re
import urllib.request

import pytest

from geoes.common.text import polish_key
from geoes.publish.labels import powiat_label
from geoes.web.served import served_data
from tests.web.conftest import Page
from tests.web.test_nearby_api import JEDRZEJOW, haversine_km

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def phone(browser, located: bool) -> Page:
    extra = {"geolocation": {"latitude": JEDRZEJOW[0], "longitude": JEDRZEJOW[1]}, "permissions": ["geolocation"]} \
        if located else {}
    return Page(browser, viewport=PHONE, is_mobile=True, has_touch=True, **extra)


def api_points(server) -> dict[str, tuple[float, float]]:
    with urllib.request.urlopen(server.url + "/api/entities.geojson", timeout=30) as r:
        return {f["id"]: (f["geometry"]["coordinates"][1], f["geometry"]["coordinates"][0])
                for f in json.load(r)["features"] if f["geometry"]}


def on_first_screen(box) -> bool:
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"] \
        and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]


def nearby_list(pg) -> list[dict]:
    pg.wait_for_function("() => document.querySelectorAll('#nearby-list li').length >= 3")
    return pg.evaluate("""() => [...document.querySelectorAll('#nearby-list li')].map(li => ({
        id: li.dataset.id, text: li.innerText, href: li.querySelector('a').getAttribute('href')}))""")


def test_nearby_lists_the_nearest_entities_to_the_devices_place(server, browser):
    p = phone(browser, located=True)
    try:
        p.goto(server.url + "/")
        pg = p.page
        button = pg.get_by_role("button", name="W pobliżu", exact=True)
        assert on_first_screen(button.bounding_box())
        assert on_first_screen(pg.get_by_role("button", name="Filtry", exact=True).bounding_box())
        button.tap()
        items = nearby_list(pg)
        assert len(items) == 10
        for it in items:
            assert re.search(r"\d+(,\d)?\u00a0km", it["text"]), it["text"]
            assert it["href"] == f"/entities/{it['id']}"
        # Nearest first, by great-circle distance from the points the API gives.
        points = api_points(server)
        dist = {i: haversine_km(*JEDRZEJOW, *pt) for i, pt in points.items()}
        assert dist[items[0]["id"]] == pytest.approx(min(dist.values()), abs=0.001)
        assert [dist[it["id"]] for it in items] == sorted(dist[it["id"]] for it in items)
        assert "na północny wschód" in next(it["text"] for it in items if "Mnichowie" in it["text"])
        # Announced: a polite live region says how many and which is nearest.
        status = pg.locator("#nearby-status")
        assert status.get_attribute("role") == "status"
        assert status.inner_text().startswith("10\u00a0podmiotów najbliżej Twojego położenia")
        assert "Najbliżej jest Warsztat Terapii Zajęciowej w Jędrzejowie" in status.inner_text()
        # A real list, named; the sheet keeps the upper part of the map in view.
        assert pg.evaluate("document.getElementById('nearby-list').tagName") == "OL"
        assert pg.locator("#nearby-list").get_attribute("aria-labelledby") == "nearby-title"
        # The markers of the list are highlighted; the map shows the place and the first three.
        pg.wait_for_function("() => document.querySelector('.folium-map').dataset.nearby === '10'")
        assert sorted(pg.evaluate("GEOES_MAP.entities.hits()")) == sorted(it["id"] for it in items)
        pg.wait_for_timeout(600)  # the fitting animation
        # Every marker drawn of a listed entity is highlighted, and no other.
        drawn = pg.evaluate("() => GEOES_MAP.entities.markers().map(m => "
                            "[m.geoes.id, m.options.icon.options.className.includes('nearby-hit')])")
        assert drawn and all(hit == (i in {it["id"] for it in items}) for i, hit in drawn), drawn
        inside = pg.evaluate("""pts => { const b = GEOES_MAP.map.getBounds();
            return pts.map(p => b.contains(p)); }""",
                             [list(JEDRZEJOW)] + [list(points[it["id"]]) for it in items[:3]])
        assert all(inside), inside
        # "Pokaż na mapie" opens that entity's popup on the map.
        pg.get_by_role("button", name="Pokaż na mapie: " + items[1]["text"].split("\n")[0]).tap()
        pg.wait_for_selector(".leaflet-popup-content h3")
        assert pg.inner_text(".leaflet-popup-content h3") == items[1]["text"].split("\n")[0]
        assert p.errors == [], p.errors
    finally:
        p.close()


def test_a_typed_place_gives_the_same_list_when_location_is_refused(server, browser):
    located = phone(browser, located=True)
    try:
        located.goto(server.url + "/")
        located.page.get_by_role("button", name="W pobliżu", exact=True).tap()
        by_location = [it["id"] for it in nearby_list(located.page)]
    finally:
        located.close()
    p = phone(browser, located=False)
    try:
        p.goto(server.url + "/")
        pg = p.page
        pg.get_by_role("button", name="W pobliżu", exact=True).tap()
        pg.wait_for_function("() => document.getElementById('nearby-status').textContent.includes('Wpisz')")
        assert "Brak zgody na użycie położenia" in pg.inner_text("#nearby-status")
        field = pg.get_by_label("Miejscowość lub adres", exact=True)
        assert pg.evaluate("document.activeElement.id") == "nearby-place"  # the keyboard is there already
        field.fill("Jędrzejów")
        field.press("Enter")
        typed = nearby_list(pg)
        assert [it["id"] for it in typed] == by_location
        text = pg.inner_text("#nearby-status")
        assert "najbliżej miejsca: Jędrzejów (miasto, gm. Jędrzejów, pow. jędrzejowski)" in text
        # The village of the same name is one tap away.
        assert pg.get_by_role("button", name="Jędrzejów (wieś, gm. Bodzechów, pow. ostrowiecki)").is_visible()
        assert p.errors == [], p.errors
    finally:
        p.close()


# Everything a finger is meant to hit (inline links in running text are not: WCAG 2.5.8).
TARGETS = """() => {
    const sel = ['.leaflet-control-zoom a', '.leaflet-control-fullscreen a', '.leaflet-control-locate a',
                 '.leaflet-control-layers-toggle', '.geoes-share-button', '.geoes-marker', '.marker-cluster',
                 'button', 'select', 'a.button', '.filters ul.types label', 'input[type=search]'];
    const out = [];
    for (const el of document.querySelectorAll(sel.join(','))) {
        const r = el.getBoundingClientRect();
        const style = getComputedStyle(el);
        if (!r.width || !r.height || style.visibility === 'hidden' || el.closest('[hidden]')) continue;
        if (r.bottom <= 0 || r.top >= innerHeight || r.right <= 0 || r.left >= innerWidth) continue;
        const map = el.closest('.leaflet-container');
        if (map) {  // only what is inside the map's visible box
            const m = map.getBoundingClientRect();
            const cx = r.left + r.width / 2, cy = r.top + r.height / 2;
            if (cx < m.left || cx > m.right || cy < m.top || cy > m.bottom) continue;
        }
        out.push({what: el.className.baseVal === undefined ? (el.tagName + '.' + el.className) : el.tagName,
                  label: (el.getAttribute('aria-label') || el.title || el.innerText || '').trim().slice(0, 40),
                  w: r.width, h: r.height});
    }
    return out;
}"""


def small_targets(pg) -> list[dict]:
    return [t for t in pg.evaluate(TARGETS) if t["w"] < 44 or t["h"] < 44]


# Zoomed in on an entity whose point no other entity shares (entities placed at their locality's point share
# it and stay clustered at any zoom), so that a single marker shows whatever the register holds.
ZOOM_TO_A_LONE_MARKER = """() => {
  const layers = GEOES_MAP.layers.entities.getLayers();
  const key = l => l.getLatLng().lat.toFixed(5) + ',' + l.getLatLng().lng.toFixed(5);
  const seen = {};
  layers.forEach(l => { seen[key(l)] = (seen[key(l)] || 0) + 1; });
  const lone = layers.find(l => seen[key(l)] === 1);
  GEOES_MAP.map.setView(lone.getLatLng(), 17, {animate: false});
}"""


def test_every_target_on_the_first_screen_is_44_px(server, browser):
    p = phone(browser, located=True)
    try:
        p.goto(server.url + "/")
        pg = p.page
        pg.wait_for_selector(".marker-cluster")
        kinds = pg.evaluate(TARGETS)
        assert any("marker-cluster" in t["what"] for t in kinds) and any("leaflet-control-zoom" in t["what"]
                                                                         for t in kinds)
        assert small_targets(pg) == []
        # Zoomed in, single markers show; they too.
        pg.evaluate(ZOOM_TO_A_LONE_MARKER)
        pg.wait_for_selector(".geoes-marker")
        assert small_targets(pg) == []
        # The filters' sheet: rows, select, buttons.
        pg.get_by_role("button", name="Filtry", exact=True).tap()
        pg.wait_for_selector("#panel-filters.open")
        rows = pg.evaluate(TARGETS)
        assert any("LABEL" in t["what"] for t in rows)
        assert small_targets(pg) == []
        for _ in range(4):  # the rest of the sheet, scrolled into view
            pg.evaluate("document.getElementById('panel-filters').scrollBy(0, 300)")
            assert small_targets(pg) == []
        # The nearby sheet and its list.
        pg.get_by_role("button", name="W pobliżu", exact=True).tap()
        nearby_list(pg)
        assert small_targets(pg) == []
        # A popup's close button and its link to the entity page.
        pg.get_by_role("button", name=re.compile("^Pokaż na mapie: ")).first.tap()
        pg.wait_for_selector(".leaflet-popup-content .more")
        pg.wait_for_timeout(500)  # the map pans the popup into view
        for sel in (".leaflet-popup-close-button", ".leaflet-popup-content .more"):
            box = pg.locator(sel).bounding_box()
            assert round(box["height"]) >= 44 and on_first_screen(box), (sel, box)
        assert round(pg.locator(".leaflet-popup-close-button").bounding_box()["width"]) >= 44
        assert p.errors == [], p.errors
    finally:
        p.close()


def test_the_filters_sheet_keeps_the_map_in_view_and_the_share_button_is_off_the_map(server, browser):
    p = phone(browser, located=False)
    try:
        p.goto(server.url + "/")
        pg = p.page
        assert pg.locator(".geoes-share").is_hidden()  # no share button over the phone's map
        button = pg.get_by_role("button", name="Filtry", exact=True)
        assert button.get_attribute("aria-expanded") == "false"
        button.tap()
        sheet = pg.locator("#panel-filters")
        sheet.wait_for(state="visible")
        assert button.get_attribute("aria-expanded") == "true"
        assert pg.evaluate("document.activeElement.id") == "filters-title"
        box, map_box = sheet.bounding_box(), pg.locator("#map_geoes").bounding_box()
        assert box["y"] >= PHONE["height"] / 2 - 1 and map_box["y"] < box["y"] - 200  # the map above the sheet
        assert pg.get_by_role("button", name="Osadź / Udostępnij").is_visible()
        pg.check("#filters input[name=type][value=wtz]")
        pg.wait_for_function("() => document.getElementById('map-status').textContent.includes('filtr: WTZ')")
        assert pg.inner_text("#filters-badge") == "1"
        pg.keyboard.press("Escape")
        sheet.wait_for(state="hidden")
        assert pg.evaluate("document.activeElement.id") == "filters-button"
        assert p.errors == [], p.errors
    finally:
        p.close()


def test_status_line_counts_what_the_filters_select_and_names_them(server, browser, app):
    ds = served_data(app).current()
    p = Page(browser, viewport={"width": 1280, "height": 900})
    try:
        p.goto(server.url + "/?type=wtz&powiat=2602")
        pg = p.page
        pg.wait_for_function("() => GEOES_MAP.entities.count() > 0")
        sel = ds.entities[ds.entities["types"].str.contains("wtz") & ds.entities["powiat_teryt_computed"].eq("2602")]
        placed = int(sel.geometry.notna().sum() - sel.geometry.is_empty.sum())
        shown = pg.evaluate("GEOES_MAP.entities.count()")
        assert shown == placed
        status = pg.inner_text("#map-status")
        label = powiat_label(ds.powiaty[ds.powiaty["teryt"] == "2602"].iloc[0])
        # "Na mapie: 2 z 3 w rejestrze (filtr: …); 1 bez punktu – są na liście": what the filters select
        expected = f"Na mapie: {placed} z {len(sel)} w rejestrze (filtr: WTZ; {label})"
        if len(sel) - placed:
            expected += f"; {len(sel) - placed} bez punktu – są na liście"
        assert status == expected + "."
        assert "z punktem" not in status and str(len(ds.entities)) not in status.replace(str(placed), "")
        assert p.errors == [], p.errors
    finally:
        p.close()


def test_a_choropleth_brings_its_legend_onto_the_map(server, browser):
    p = phone(browser, located=False)
    try:
        p.goto(server.url + "/")
        pg = p.page
        assert pg.locator(".map-legend-box").is_hidden()
        pg.evaluate("GEOES_MAP.map.addLayer(GEOES_MAP.layers.ch_gmina)")
        legend = pg.locator(".leaflet-container .map-legend-box")
        legend.wait_for(state="visible")
        assert pg.evaluate("document.querySelector('.map-legend-box').open")  # unfolded on a phone
        text = legend.inner_text()
        assert text.startswith("Legenda") and "Podmioty na 10 tys. mieszk. – gminy" in text
        # The classes as the server wrote them for the page's own legend.
        server_rows = pg.evaluate("[...document.querySelectorAll('#map-legends [data-layer=ch_gmina] li')]"
                                  ".map(li => li.textContent.trim())")
        assert server_rows and all(row in text for row in server_rows)
        box = legend.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
        summary = pg.locator(".map-legend-summary")
        assert round(summary.bounding_box()["height"]) >= 44
        summary.tap()  # folds to its title
        pg.wait_for_function("() => !document.querySelector('.map-legend-box').open")
        pg.evaluate("GEOES_MAP.map.removeLayer(GEOES_MAP.layers.ch_gmina)")
        legend.wait_for(state="hidden")
        assert p.errors == [], p.errors
    finally:
        p.close()


def test_entity_page_puts_what_a_resident_needs_first(server, browser, app):
    ds = served_data(app).current()
    p = phone(browser, located=False)
    try:
        p.goto(server.url + "/entities/swk-001")
        pg = p.page
        report = pg.get_by_role("link", name="Zgłoś zmianę", exact=True)
        assert report.bounding_box()["y"] + report.bounding_box()["height"] <= 2 * PHONE["height"]
        directions = pg.get_by_role("link", name="Jak dojechać", exact=True)
        rec = ds.entities[ds.entities["id"] == "swk-001"].iloc[0]
        href = directions.get_attribute("href")
        assert href.startswith("https://www.openstreetmap.org/directions?route=%3B")
        assert f"{rec.geometry.y:.5f}%2C{rec.geometry.x:.5f}" in href
        assert directions.bounding_box()["y"] < report.bounding_box()["y"] + 1
        text = pg.inner_text("body")
        assert len(re.findall(r"\bbrak\b", text, re.I)) <= 3, re.findall(r".{30}\bbrak\b.{30}", text, re.I)
        # The data version as a date a person reads.
        assert re.search(r"Wersja danych: dane z \d{1,2}\u00a0(stycznia|lutego|marca|kwietnia|maja|czerwca|lipca|"
                         r"sierpnia|września|października|listopada|grudnia) \d{4}", text)
        assert ds.version not in text
        assert p.errors == [], p.errors
    finally:
        p.close()


def test_names_are_in_the_order_of_chromiums_polish_collation(server, browser, app):
    """polish_key against ICU's Polish collation, on every name the region's lists show."""
    from geoes.common.reference import entity_types

    ds = served_data(app).current()
    names = sorted({*ds.gminy["name"], *ds.powiaty["name"], *ds.entities["name"].dropna(),
                    *(t.label_pl for t in entity_types().values()), *(t.short_pl for t in entity_types().values())})
    p = Page(browser, viewport={"width": 800, "height": 600})
    try:
        p.goto(server.url + "/about", ready=False)
        icu = p.page.evaluate("names => names.slice().sort(new Intl.Collator('pl').compare)", names)
        assert sorted(names, key=polish_key) == icu
        # The lists a reader sees: the powiat filter and the report form's gminy.
        p.goto(server.url + "/zglos/nowy", ready=False)
        gminy = p.page.eval_on_selector_all("#f-gmina_teryt option[value]:not([value=''])", "os => os.map(o => o.text)")
        assert gminy == p.page.evaluate("names => names.slice().sort(new Intl.Collator('pl').compare)", gminy)
        assert gminy.index(next(g for g in gminy if g.startswith("Łagów"))) < gminy.index(
            next(g for g in gminy if g.startswith("Zagnańsk")))
    finally:
        p.close()
