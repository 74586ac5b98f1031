"""The page → static/js/map.js contract (geoes.web.pages.mapconfig): every key map.js reads is in the
contract, every map page emits every key its mode must carry, and the units' colours are the server's one
class rule (geoes.publish.classes), the same the static maps use."""
from __future__ import annotations

import json
import re

import pytest

from geoes.config import REPO_DIR
from geoes.publish.classes import CLASS_COLORS, ZERO_COLOR, class_color, level_breaks
from geoes.web.pages.mapconfig import ALL_MODES, CONTRACT, MAPPINGS, UNIT_FIELDS
from geoes.web.served import served_data

MAP_JS = (REPO_DIR / "geoes" / "web" / "static" / "js" / "map.js").read_text(encoding="utf-8")
MAP_PAGES = {"/": "public", "/embed": "embed", "/powiaty/2602": "unit", "/gminy/2602023": "unit",
             "/compare?teryt=2602&teryt=2601": "compare", "/entities/swk-001": "entity"}


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
    assert {"units", "classes.zero", "state.types", "api.entities"} <= read
    assert [p for p in sorted(read) if not covered(p)] == []
    unit_fields = set(re.findall(r"\binfo\.([A-Za-z_0-9]+)", MAP_JS))  # a unit's entry (cfg.units)
    assert unit_fields == set(UNIT_FIELDS)


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
    for level in ("powiat", "gmina"):
        units = cfg["units"][level]
        assert units and all(set(u) == set(UNIT_FIELDS) for u in units.values())


def test_unit_colours_are_the_one_class_rule(client, app):
    cfg = config_of(client, "/")
    with app.app_context():
        ds = served_data(app).current()
    for level, frame in (("powiat", ds.powiaty), ("gmina", ds.gminy)):
        breaks = level_breaks(frame)
        assert breaks
        for teryt, value in zip(frame["teryt"], frame["entities_per_10k"]):
            assert cfg["units"][level][teryt]["color"] == class_color(value, breaks), (level, teryt)
        colours = {u["color"] for u in cfg["units"][level].values()}
        assert colours <= {ZERO_COLOR, *CLASS_COLORS} and len(colours) > 2
    jedrzejow = cfg["units"]["powiat"]["2602"]
    assert jedrzejow["label"] == "powiat jędrzejowski" and jedrzejow["population"] == "80\u00a0370"


def test_class_color_rule():
    breaks = [0.5, 1.0, 2.0]
    assert [class_color(v, breaks) for v in (None, float("nan"), 0, 0.1, 0.5, 0.5 + 1e-12, 0.6, 2.0, 9.0)] == \
        [ZERO_COLOR, ZERO_COLOR, ZERO_COLOR, CLASS_COLORS[2], CLASS_COLORS[2], CLASS_COLORS[2], CLASS_COLORS[3],
         CLASS_COLORS[4], CLASS_COLORS[4]]
    assert class_color(3.0, []) == ZERO_COLOR
