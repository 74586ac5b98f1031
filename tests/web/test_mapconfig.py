"""The page → static/js/map.js contract (geoes.web.pages.mapconfig): every key map.js reads is in the
contract, every map page emits every key its mode must carry, the units come from the unit layers' map
view (`view=map`, geoes.publish.unitmap) with the server's one class rule (geoes.publish.classes, the same
the static maps use) and figures as shown, and the pages' HTML stays under 50 KB whatever the number of
units."""
from __future__ import annotations

import json
import re

import pandas as pd
import pytest
import shapely

from geoes.common.polish import number
from geoes.config import REPO_DIR
from geoes.publish.classes import (CLASS_COLORS, NEED_COLORS, NEED_INDICATOR, ZERO_COLOR, class_color,
                                   level_breaks)
from geoes.web.pages.mapconfig import ALL_MODES, CONTRACT, MAPPINGS, UNIT_FIELDS, UNIT_PROPERTIES
from geoes.web.served import served_data

MAP_JS = (REPO_DIR / "geoes" / "web" / "static" / "js" / "map.js").read_text(encoding="utf-8")
MAP_PAGES = {"/": "public", "/embed": "embed", "/powiaty/2602": "unit", "/gminy/2602023": "unit",
             "/compare?teryt=2602&teryt=2601": "compare", "/entities/swk-001": "entity"}
SHELL_BUDGET = 50 * 1024  # the map page's HTML shell, uncompressed, whatever the data (quality bars)
LEVELS = {"powiaty": "powiat", "gminy": "gmina"}


def config_of(client, url) -> dict:
    r = client.get(url)
    assert r.status_code == 200, url
    m = re.search(r'<script type="application/json" id="geoes-config"[^>]*>(.*?)</script>', r.get_data(as_text=True),
                  re.S)
    assert m, url
    return json.loads(m.group(1))


def lookup(cfg: dict, path: str):
    node = cfg
    for part in path.split("."):
        assert isinstance(node, dict) and part in node, path
        node = node[part]
    return node


def covered(path: str) -> bool:
    return (path in CONTRACT or any(path.startswith(k + ".") for k in MAPPINGS)
            or any(k.startswith(path + ".") for k in CONTRACT))


def test_every_key_map_js_reads_is_in_the_contract():
    read = {".".join(p for p in m if p) for m in re.findall(r"\bcfg\.([A-Za-z_]+)(?:\.([A-Za-z_]+))?", MAP_JS)}
    assert {"classes.zero", "state.types", "api.entities", "api.powiaty", "api.gminy"} <= read
    assert [p for p in sorted(read) if not covered(p)] == []
    assert "units" not in read  # the units are in the unit layers' map view, not in the page


def test_map_js_reads_the_units_from_the_map_view_of_the_unit_layers():
    # A unit's properties are read as `info.X` or `unitInfo(f).X` (the feature's properties).
    read = set(re.findall(r"\b(?:info|unitInfo\([^)]*\))\.([A-Za-z_0-9]+)", MAP_JS))
    assert set(UNIT_FIELDS) <= read
    common = set(UNIT_PROPERTIES["powiaty"]) & set(UNIT_PROPERTIES["gminy"])
    assert read <= common, read - common
    # The county page's map picks its gminy by the gmina feature's powiat.
    assert "p.powiat_teryt" in MAP_JS and "powiat_teryt" in UNIT_PROPERTIES["gminy"]
    # Every fetch of a unit layer asks for the map view (the full layer has no colours or labels).
    unit_api = r"cfg\.api\.(?:powiaty|gminy)"
    fetches = re.findall(r"getJSON\(([^;]*" + unit_api + r"[^;]*)\);", MAP_JS)
    assert fetches and all("view: 'map'" in f for f in fetches), fetches
    assert sum(len(re.findall(unit_api, f)) for f in fetches) == len(re.findall(unit_api, MAP_JS))


def test_map_js_computes_no_class_and_formats_no_unit_figure():
    assert "breaks" not in MAP_JS and "classes.colors" not in MAP_JS
    assert MAP_JS.count("toLocaleString") == 1  # the entity popup's employees only (see its comment)


@pytest.mark.parametrize("url", sorted(MAP_PAGES))
def test_each_map_page_emits_its_modes_keys(client, url):
    cfg = config_of(client, url)
    assert cfg["mode"] == MAP_PAGES[url] and cfg["mode"] in ALL_MODES
    for path, modes in CONTRACT.items():
        if cfg["mode"] in modes:
            lookup(cfg, path)
    assert "units" not in cfg


def map_view(client, layer: str) -> dict:
    r = client.get(f"/api/{layer}.geojson?view=map")
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/geo+json"
    return r.get_json()


@pytest.mark.parametrize("layer", sorted(LEVELS))
def test_the_map_view_of_a_unit_layer_is_the_contract(client, app, layer):
    """Every unit with its boundary and exactly the map's properties: colours by the one class rule,
    figures as shown (geoes.common.polish), labels as the pages name the units."""
    with app.app_context():
        ds = served_data(app).current()
    frame = ds.powiaty if layer == "powiaty" else ds.gminy
    doc = map_view(client, layer)
    assert doc["view"] == "map" and doc["version"] == ds.version and "method" not in doc
    features = {f["id"]: f for f in doc["features"]}
    assert sorted(features) == sorted(frame["teryt"])
    assert all(list(f["properties"]) == list(UNIT_PROPERTIES[layer]) for f in features.values())
    breaks, need = level_breaks(frame), level_breaks(frame, NEED_INDICATOR)
    assert breaks and need
    year = str(ds.summary["method"]["needs"]["year"])
    for rec in frame.drop(columns="geometry").to_dict("records"):
        p = features[rec["teryt"]]["properties"]
        assert p["teryt"] == rec["teryt"] and p["name"] == rec["name"]
        assert p["color"] == class_color(rec["entities_per_10k"], breaks), rec["teryt"]
        assert p["need_color"] == class_color(rec[NEED_INDICATOR], need, NEED_COLORS), rec["teryt"]
        assert (p["entities"], p["per_10k"], p["population"]) == (
            number(rec["entities"], 0), number(rec["entities_per_10k"], 2), number(rec["population"], 0))
        assert (p["unemployed"], p["unemployed_per_10k"], p["need_year"]) == (
            number(rec["unemployed"], 0), number(rec[NEED_INDICATOR], 2), year)
        assert p["white_spot"] is (rec["entities"] == 0)
        if layer == "gminy":
            assert p["powiat_teryt"] == rec["powiat_teryt"] and p["label"] == f"gmina {rec['name']}"
    colours = {f["properties"]["color"] for f in features.values()}
    assert colours <= {ZERO_COLOR, *CLASS_COLORS} and len(colours) > 2
    # The boundaries are the full layer's (WGS84, 6 decimals).
    full = {f["id"]: f["geometry"] for f in client.get(f"/api/{layer}.geojson").get_json()["features"]}
    assert all(f["geometry"] == full[teryt] for teryt, f in features.items())
    coords = shapely.get_coordinates(shapely.from_geojson(json.dumps(next(iter(features.values()))["geometry"])))
    assert (coords == coords.round(6)).all()


def test_the_map_view_names_units_and_formats_figures_as_the_pages(client):
    powiaty = {f["id"]: f["properties"] for f in map_view(client, "powiaty")["features"]}
    assert powiaty["2602"]["label"] == "powiat jędrzejowski" and powiaty["2602"]["population"] == "80\u00a0370"
    assert powiaty["2661"]["label"] == "Kielce (miasto na prawach powiatu)"
    gminy = {f["id"]: f["properties"] for f in map_view(client, "gminy")["features"]}
    white = {t for t, p in gminy.items() if p["white_spot"]}
    assert white and all(gminy[t]["entities"] == "0" and gminy[t]["color"] == ZERO_COLOR for t in white)
    # The map view is the map's: far fewer properties than the data download.
    full = client.get("/api/gminy.geojson").get_json()["features"][0]["properties"]
    assert len(full) > 2 * len(UNIT_PROPERTIES["gminy"]) and "access_10km_pct" not in gminy["2602023"]


def test_the_unit_map_view_is_served_like_the_other_layers(client):
    """Serialised once per version, filtered like the full layer, ETag/304 and gzip; GeoJSON only."""
    r = client.get("/api/gminy.geojson?view=map", headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200 and r.headers["Content-Encoding"] == "gzip"
    etag = r.headers["ETag"]
    assert etag != client.get("/api/gminy.geojson").headers["ETag"]
    assert client.get("/api/gminy.geojson?view=map", headers={"If-None-Match": etag}).status_code == 304
    assert client.get("/api/gminy.geojson?view=map").data is not None
    one = client.get("/api/gminy.geojson?view=map&powiat=2602").get_json()
    assert len(one["features"]) == 9 and one["filters"] == {"powiat": "2602"}
    assert all(f["properties"]["powiat_teryt"] == "2602" for f in one["features"])
    for bad in ("/api/powiaty.geojson?view=map&format=csv", "/api/gminy.geojson?view=mini"):
        r = client.get(bad)
        assert r.status_code == 400 and set(r.get_json()) == {"code", "description"}


def test_the_unit_map_view_is_serialised_once_per_version(app):
    from geoes.publish.layers import layer_data, map_features

    served = served_data(app)
    with app.app_context():
        for layer in LEVELS:
            data = layer_data(served, layer)
            features = map_features(served, data)
            assert features is map_features(served, data) and len(features) == data.count


@pytest.mark.parametrize("url", ["/", "/embed", "/powiaty/2602", "/gminy/2602023", "/compare?teryt=2602&teryt=2601"])
def test_map_pages_are_under_50_kb(client, url):
    r = client.get(url)
    assert r.status_code == 200 and "Content-Encoding" not in r.headers
    assert len(r.data) < SHELL_BUDGET, (url, len(r.data))


def more_units(frame, times: int, codes):
    """`frame` with `times - 1` copies of every unit under new codes (from the iterator `codes`). The copies
    have no value of the two mapped indicators, so the levels' classes (and the legends) stay as they are:
    only the number of units changes."""
    copies = [frame]
    for _ in range(1, times):
        copy = frame.copy()
        copy["teryt"] = [next(codes) for _ in range(len(copy))]
        copy["entities_per_10k"] = 0.0
        copy["unemployed_per_10k"] = float("nan")
        copies.append(copy)
    return type(frame)(pd.concat(copies, ignore_index=True), crs=frame.crs)


def app_with_units(data_dir, gminy_times: int, powiaty_times: int):
    """An app over the built data whose served version has that many times the region's gminy/powiaty."""
    from geoes.web import create_app

    app = create_app({"TESTING": True, "GEOES_DATA_DIR": str(data_dir), "GEOES_REGION": "26"})
    with app.app_context():
        ds = served_data(app).current()
        gminy = (f"{t[:4]}{int(t[4:6]) + 20 * i:02d}{t[6:]}" for i in range(1, gminy_times) for t in ds.gminy["teryt"])
        ds.gminy = more_units(ds.gminy, gminy_times, gminy)
        unused = (c for c in (f"26{n:02d}" for n in range(1, 100)) if c not in set(ds.powiaty["teryt"]))
        ds.powiaty = more_units(ds.powiaty, powiaty_times, unused)
        assert ds.gminy["teryt"].is_unique and ds.powiaty["teryt"].is_unique
    return app


@pytest.fixture(scope="module")
def region_app(built_settings):
    return app_with_units(built_settings.data_dir, 1, 1)


@pytest.fixture(scope="module")
def more_gminy_app(built_settings):
    """Five times the gminy (the country has ~2,500 against the region's 102)."""
    return app_with_units(built_settings.data_dir, 5, 1)


@pytest.fixture(scope="module")
def bigger_app(built_settings):
    """Five times the gminy (the country has ~2,500 against the region's 102) and four times the powiaty."""
    return app_with_units(built_settings.data_dir, 5, 4)


def test_the_bigger_region_has_more_units_in_the_map_view(region_app, bigger_app):
    for app, (gminy, powiaty) in ((region_app, (102, 14)), (bigger_app, (510, 56))):
        with app.test_client() as c:
            assert len(c.get("/api/gminy.geojson?view=map").get_json()["features"]) == gminy
            assert len(c.get("/api/powiaty.geojson?view=map").get_json()["features"]) == powiaty


@pytest.mark.parametrize("url", sorted(MAP_PAGES))
def test_the_map_configuration_does_not_depend_on_the_number_of_units(region_app, bigger_app, url):
    """No key of a page's configuration is per unit: the same configuration over more gminy and powiaty."""
    with region_app.test_client() as small, bigger_app.test_client() as big:
        assert config_of(small, url) == config_of(big, url)


@pytest.mark.parametrize("url", ["/", "/embed", "/compare?teryt=2602&teryt=2601"])
def test_the_map_page_does_not_grow_with_the_number_of_gminy(region_app, more_gminy_app, url):
    """The same page over the region's 102 gminy and over five times as many: the units reach the map by
    fetch, so the HTML is the same size. (The public map's powiat <select> lists the powiaty, 14 options
    here: that form, not the map, grows with them.)"""
    with region_app.test_client() as small, more_gminy_app.test_client() as big:
        sizes = [len(c.get(url).data) for c in (small, big)]
    assert sizes[0] == sizes[1] and sizes[0] < SHELL_BUDGET, sizes


def test_the_embedded_map_does_not_grow_with_the_number_of_powiaty(region_app, bigger_app):
    with region_app.test_client() as small, bigger_app.test_client() as big:
        sizes = [len(c.get("/embed?powiat=2602").data) for c in (small, big)]
    assert sizes[0] == sizes[1] and sizes[0] < SHELL_BUDGET, sizes
