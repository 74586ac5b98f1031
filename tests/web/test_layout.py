"""The public pages on a phone and for assistive technology, in headless Chromium (tests/web/conftest.py):

* no page is wider than a 390 px phone (390×844);
* /embed fills its frame: in an <iframe> of 700×480 (the README's example) and of 320×480 the map is as
  high and as wide as the frame, and nothing scrolls;
* axe-core finds no critical or serious violation on any public page, on a desktop (1366×900) and a
  phone (390×844);
* nothing moves while the map and the filters load (layout shifts, as the browser reports them);
* the map's own behaviour on a phone: popups clear of the controls, one tooltip at a time, entities at one
  point listed in one popup, a metric scale, the "Osadź / Udostępnij" control from the keyboard.

Map tiles are blocked in every context: nothing here depends on the network.
"""
from __future__ import annotations

import json
import re

import pytest

from geoes.common.polish import count

from geoes.publish.layers import placed_mask
from geoes.web.served import served_data
from tests.web.conftest import READY, Server, axe, open_popup, page_width

pytestmark = pytest.mark.browser

MAP_PAGES = ["/", "/powiaty/2602", "/gminy/2602023", "/compare?teryt=2602&teryt=2601", "/entities/swk-001",
             "/embed"]
PUBLIC_PAGES = MAP_PAGES + [
    "/powiaty", "/compare", "/entities", "/entities?type=wtz&sort=employees&order=desc", "/about", "/trendy",
    "/powiaty/2602/raport.html", "/ogc", "/ogc/conformance", "/ogc/collections", "/ogc/collections/entities",
    "/ogc/collections/entities/items", "/ogc/collections/entities/items/swk-001", "/nie-ma-takiej-strony",
]
PHONE = (390, 844)
DESKTOP = (1366, 900)
SEVERE = ("critical", "serious")


def load(p, server, path):
    p.goto(server.url + path, ready=path.split("#")[0] in MAP_PAGES)
    return p.page


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_no_page_is_wider_than_a_phone(server, open_page, path):
    p = open_page(*PHONE)
    pg = load(p, server, path)
    if path == "/nie-ma-takiej-strony":  # the 404 of the page itself is what is asked for
        p.errors = [e for e in p.errors if "404" not in e]
    width = page_width(pg)
    assert width <= PHONE[0], f"{path} is {width} px wide at {PHONE[0]} px"
    # Wide tables scroll inside their own region, which a keyboard can reach and a screen reader names.
    for region in pg.locator(".table-wrap, .wide").all():
        assert region.get_attribute("tabindex") == "0"
        assert region.get_attribute("role") == "region" and region.get_attribute("aria-label")
    assert p.errors == [], p.errors


@pytest.mark.parametrize("size", [(700, 480), (320, 480)])
def test_embed_fills_its_frame(server, open_page, size):
    width, height = size
    p = open_page(1000, 800)
    pg = p.page
    # A page of another site (another origin on this machine) with the README's iframe: frame-ancestors
    # allows /embed anywhere.
    host = (f'<!doctype html><html lang="pl"><title>Strona gminy</title><iframe src="{server.url}/embed" '
            f'title="Mapa" width="{width}" height="{height}" style="border:0;display:block"></iframe></html>')

    def other_site(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        return [host.encode("utf-8")]
    with Server(other_site) as site:
        pg.goto(site.url + "/")
        check_embed_frame(pg, width, height)
    assert p.errors == [], p.errors


def check_embed_frame(pg, width: int, height: int) -> None:
    frame = pg.frame_locator("iframe")
    frame.locator(READY).wait_for(state="attached", timeout=15_000)
    child = pg.frames[1]
    box = child.evaluate("(() => { const r = document.getElementById('map_geoes').getBoundingClientRect();"
                         " return {top: r.top, left: r.left, width: r.width, height: r.height,"
                         " scroll: document.documentElement.scrollHeight, scrollW: document.documentElement.scrollWidth}; })()")
    assert (box["top"], box["left"]) == (0, 0), box
    assert round(box["width"]) == width and round(box["height"]) == height, box
    assert box["scroll"] <= height and box["scrollW"] <= width, box
    # The link to the full map is on the map, inside the frame.
    link = child.evaluate("(() => { const r = document.getElementById('link-full').getBoundingClientRect();"
                          " return [r.bottom, r.right]; })()")
    assert link[0] <= height and link[1] <= width, link


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_axe_finds_nothing_serious(server, open_page, path, size):
    p = open_page(*size)
    pg = load(p, server, path)
    severe = [v for v in axe(pg) if v["impact"] in SEVERE]
    assert severe == [], json.dumps(severe, ensure_ascii=False, indent=1)


def test_share_dialog_passes_axe_and_works_from_the_keyboard(server, open_page):
    p = open_page(*PHONE)
    p.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    pg = load(p, server, "/#t=wtz")
    pg.wait_for_function("() => GEOES_MAP.entities.count() > 0")
    # On a phone the button is in the filters' sheet, not over the map.
    assert pg.locator(".geoes-share").is_hidden()
    pg.get_by_role("button", name="Filtry", exact=True).click()
    button = pg.get_by_role("button", name="Osadź / Udostępnij")
    button.focus()
    pg.keyboard.press("Enter")
    dialog = pg.locator("#share-dialog")
    dialog.wait_for(state="visible")
    link = pg.input_value("#share-link")
    code = pg.input_value("#share-code")
    assert link.startswith(server.url + "/") and "t=wtz" in link
    # The embed code: an iframe of /embed with the same filter, its URL escaped for the attribute.
    src = re.search(r'<iframe src="([^"]+)"', code).group(1)
    assert src.startswith(server.url + "/embed?type=wtz") and "title=" in code
    pg.wait_for_function("() => document.getElementById('share-status').textContent.length > 0")
    assert "skopiowano" in pg.inner_text("#share-status")
    assert pg.evaluate("navigator.clipboard.readText()") == link
    severe = [v for v in axe(pg) if v["impact"] in SEVERE]
    assert severe == [], severe
    pg.keyboard.press("Escape")
    dialog.wait_for(state="hidden")
    assert pg.evaluate("document.activeElement.id") == "share-page-button"
    assert p.errors == [], p.errors


LAYOUT_SHIFTS = """() => new Promise(done => {
    let total = 0;
    new PerformanceObserver(list => { for (const e of list.getEntries()) { if (!e.hadRecentInput) total += e.value; } })
        .observe({type: 'layout-shift', buffered: true});
    setTimeout(() => done(total), 800);
})"""


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
@pytest.mark.parametrize("path", ["/", "/powiaty/2602", "/entities"])
def test_nothing_moves_while_the_map_and_filters_load(server, open_page, path, size):
    p = open_page(*size)
    pg = load(p, server, path)
    shift = pg.evaluate(LAYOUT_SHIFTS)
    assert shift < 0.1, f"{path}: cumulative layout shift {shift:.3f}"


def overlaps(a, b) -> bool:
    return not (a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"]
                or a["y"] + a["height"] <= b["y"] or b["y"] + b["height"] <= a["y"])


def test_popup_is_clear_of_the_controls_and_alone(server, open_page, app):
    ds = served_data(app).current()
    placed = ds.entities[placed_mask(ds.entities)]
    # The entity furthest to the north-west: its popup would open under the zoom and layer buttons.
    corner = placed.iloc[int((placed.geometry.y - placed.geometry.x).to_numpy().argmax())]["id"]
    p = open_page(*PHONE)
    pg = load(p, server, "/")
    pg.wait_for_function("() => GEOES_MAP.entities.count() > 0")
    open_popup(pg, corner)
    pg.evaluate("GEOES_MAP.map.closePopup()")
    # The map moved so that the marker sits in the top-left corner, under the controls.
    pg.evaluate("(() => { const s = GEOES_MAP.map.getSize(); "
                "GEOES_MAP.map.panBy([s.x / 2 - 24, s.y / 2 - 24], {animate: false}); })()")
    marker = f"GEOES_MAP.entities.markers().find(m => m.geoes.id === {corner!r})"
    pg.wait_for_function(f"() => !!{marker}")
    hover = f"(() => {{ const m = {marker}; m.fire('mouseover', {{latlng: m.getLatLng()}}, true); }})()"
    pg.evaluate(hover)
    pg.wait_for_selector(".leaflet-tooltip")
    pg.evaluate(f"(() => {{ const m = {marker}; m.fire('click', {{latlng: m.getLatLng()}}, true); }})()")
    pg.wait_for_selector(".leaflet-popup-content h3")
    pg.wait_for_timeout(400)  # the map pans the popup into view
    popup = pg.locator(".leaflet-popup-content-wrapper").bounding_box()
    for control in pg.locator(".leaflet-control-zoom, .leaflet-control-layers, .geoes-share, "
                              ".leaflet-control-fullscreen, .leaflet-control-locate").all():
        if control.is_visible():  # the share control is not on a phone's map
            assert not overlaps(popup, control.bounding_box()), "a map control covers the popup"
    # No tooltip beside the open popup, and none appears on hovering while it is open.
    assert pg.locator(".leaflet-tooltip").count() == 0
    pg.evaluate(hover)
    pg.wait_for_timeout(200)
    assert pg.locator(".leaflet-tooltip").count() == 0
    assert popup["x"] >= 0 and popup["x"] + popup["width"] <= PHONE[0]
    assert p.errors == [], p.errors


def test_entities_at_one_point_are_listed_in_one_popup(server, open_page, app):
    ds = served_data(app).current()
    placed = ds.entities[placed_mask(ds.entities)]
    xy = placed.geometry.apply(lambda g: (round(g.x, 6), round(g.y, 6)))
    (lon, lat), n = xy.value_counts().index[0], int(xy.value_counts().iloc[0])
    assert n >= 10  # ten Kielce entities share one coordinate
    p = open_page(*DESKTOP)
    pg = load(p, server, "/")
    pg.wait_for_function("() => GEOES_MAP.entities.count() > 0")
    # Zoom in to the last level: the group of that point is still one marker; Enter on it lists them all.
    pg.evaluate(f"GEOES_MAP.map.setView([{lat}, {lon}], GEOES_MAP.map.getMaxZoom(), {{animate: false}})")
    group = pg.locator(".marker-cluster").filter(has_text=str(n)).first
    group.wait_for()
    assert group.get_attribute("aria-label") == "Skupisko: " + count(n, "podmiot")  # the group's accessible name
    group.focus()
    pg.keyboard.press("Enter")
    pg.wait_for_selector(".geoes-list")
    assert pg.locator(".geoes-list li a").count() == n
    assert pg.inner_text(".geoes-list h3") == f"Podmioty w tym miejscu: {n}"
    # The keyboard lands in the list; Escape closes it and returns to the group.
    assert pg.evaluate("document.activeElement.closest('.geoes-list') !== null")
    pg.keyboard.press("Escape")
    pg.wait_for_selector(".geoes-list", state="detached")
    assert p.errors == [], p.errors


def test_scale_is_metric_only_and_controls_are_named_in_polish(server, open_page):
    p = open_page(*DESKTOP)
    pg = load(p, server, "/")
    lines = pg.locator(".leaflet-control-scale-line")
    assert lines.count() == 1
    assert re.fullmatch(r"\d+ k?m", lines.inner_text().strip())
    assert pg.get_attribute(".leaflet-control-zoom-in", "title") == "Przybliż"
    assert pg.get_attribute(".leaflet-control-zoom-out", "title") == "Oddal"
    assert pg.get_attribute(".leaflet-control-layers-toggle", "aria-label") == "Warstwy mapy"
    assert p.errors == [], p.errors


def test_entity_mini_map_marker_is_named(server, open_page, app):
    p = open_page(*PHONE)
    pg = load(p, server, "/entities/swk-001")
    marker = pg.locator(".geoes-marker")
    assert marker.get_attribute("role") == "button"
    assert marker.get_attribute("title") == pg.inner_text("h1")
    assert p.errors == [], p.errors
