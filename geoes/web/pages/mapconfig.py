"""The configuration a map page gives static/js/map.js: the written contract between the two.

The page puts it into `<script type="application/json" id="geoes-config">` (templates/base.html); besides
it, map.js reads only the GeoJSON API. Its shape (CONTRACT lists every key map.js may read, with the
modes that must carry it; tests/web/test_mapconfig.py holds map.js and the emitted configurations to it):

    {
      "mode":        "public" | "embed" | "unit" | "compare" | "entity",
      "region_name": "świętokrzyskie",
      "api":         {"entities": URL, "powiaty": URL, "gminy": URL,         the GeoJSON API's layers
                      "nearest": URL, "places": URL,           `W pobliżu`: nearest entities, typed places
                      "points": URL, "clusters": URL,          the light payload and the server's clusters
                      "item": URL with __ID__},                one entity's details (OGC API item)
      "points":      {"version": dataset version (pins the payload's URL), "count": placed entities,
                      "server": true when above GEOES_MAP_SERVER_CLUSTERS: clusters come from api.clusters},
      "plural":      {"podmiot": [1, 2–4, 5+, fraction]}    forms for "Skupisko: 120 podmiotów"
      "pages":       {"entity": URL with __ID__, "powiat": URL with __TERYT__,
                      "gmina": URL with __TERYT__, "list": URL, "embed": URL},
                                                     embed: the map for other sites' iframes (share)
      "types":       {code: {"label": str, "short": str, "icon": Font Awesome name}},
      "icons":       URL of the icon sprite (img/icons.svg: a <symbol id="i-NAME"> per icon)
      "status":      {status: Polish label},
      "classes":     {"zero": colour of class 0 (a unit without a colour),
                      "highlight": colour of the highlighted units},
      "state":       {"types": [code], "powiat": teryt | null, "gmina": teryt | null, "q": str,
                      "bbox": [minLon, minLat, maxLon, maxLat] | null},      the page's filters
      "unit":        {"level": "powiat" | "gmina", "teryt": teryt | null, "label": str}   unit, compare
      "highlight":   [teryt],                                                          unit, compare
      "entityFilter": {"powiat": teryt} | {"gmina": teryt}                            unit
      "entity":      {"name": str}                         entity (the name of its marker, a button)
    }

The units themselves are not in the configuration (it must not grow with the number of units): map.js
fetches `api.powiaty` and `api.gminy` with `view=map` (when a layer that shows them is switched on, or a
powiat filter needs the powiat's boundary to zoom to) and reads each unit from its feature's properties
(geoes.publish.unitmap; UNIT_FIELDS are the ones map.js reads):

    {"teryt": "2602023", "name": "Jędrzejów",
     "powiat_teryt": "2602",                 gminy only: the gmina's powiat (the county page's map)
     "label": "gmina Jędrzejów",             "powiat jędrzejowski" on the powiat layer
     "color": "#ffffcc",                     the unit's class colour (geoes.publish.classes)
     "need_color": "#fdcc8a",                the need class colour (unemployed per 10 000)
     "entities": "2", "per_10k": "0,76", "population": "26 250",
     "unemployed": "526", "unemployed_per_10k": "200,38" or "–",
     "need_year": "2024",                    figures as shown (geoes.common.polish)
     "white_spot": false}                    no entity in the register (the white-spot layer)

The colours and the figures are the server's: map.js never computes a class or formats a unit's figure.
"""
from __future__ import annotations

from flask import current_app, request, url_for

from geoes.common.polish import NOUNS
from geoes.common.reference import entity_types
from geoes.publish.classes import HIGHLIGHT_COLOR, NEED_INDICATOR, ZERO_COLOR, level_breaks
from geoes.publish.unitmap import MAP_FIELDS, UNIT_MAP_PROPERTIES
from geoes.web.assets import sprite_url
from geoes.web.pages.views import STATUS_PL
from geoes.web.served import served_data

ALL_MODES = ("public", "embed", "unit", "compare", "entity")
# Every key map.js reads (a dotted path) → the modes whose configuration must have it.
CONTRACT: dict[str, tuple[str, ...]] = {
    "mode": ALL_MODES, "region_name": ALL_MODES,
    "api.entities": ALL_MODES, "api.powiaty": ALL_MODES, "api.gminy": ALL_MODES,
    "api.nearest": ALL_MODES, "api.places": ALL_MODES,
    "api.points": ALL_MODES, "api.clusters": ALL_MODES, "api.item": ALL_MODES,
    "points.version": ALL_MODES, "points.count": ALL_MODES, "points.server": ALL_MODES,
    "plural.podmiot": ALL_MODES,
    "pages.entity": ALL_MODES, "pages.powiat": ALL_MODES, "pages.gmina": ALL_MODES, "pages.list": ALL_MODES,
    "pages.embed": ALL_MODES, "icons": ALL_MODES,
    "types": ALL_MODES, "status": ALL_MODES,
    "classes.zero": ALL_MODES, "classes.highlight": ALL_MODES,
    "state.types": ALL_MODES, "state.powiat": ALL_MODES, "state.gmina": ALL_MODES, "state.q": ALL_MODES,
    "state.bbox": ALL_MODES,
    "unit.level": ("unit", "compare"), "unit.teryt": ("unit", "compare"), "highlight": ("unit", "compare"),
    "entityFilter": ("unit",), "entity.name": ("entity",),
}
# Keys whose value is a mapping keyed by data (type codes, statuses); none is keyed by unit.
MAPPINGS = ("types", "status")
# The properties map.js reads from a unit's feature (`view=map` of the unit layers, not the page).
UNIT_FIELDS = MAP_FIELDS
UNIT_PROPERTIES = UNIT_MAP_PROPERTIES


def _per_version(ds) -> dict:
    """The parts that depend only on the dataset version."""
    return {
        "region_name": ds.voivodeship.get("name") or "",
        "types": {c: {"label": t.label_pl, "short": t.short_pl, "icon": t.icon} for c, t in entity_types().items()},
        "status": STATUS_PL,
        "classes": {"zero": ZERO_COLOR, "highlight": HIGHLIGHT_COLOR},
        "plural": {"podmiot": list(NOUNS["podmiot"])},
    }


def _points(ds) -> dict:
    """How the map gets the entities of this version: the light payload, or the server's clusters."""
    placed = int(ds.summary.get("entities_placed", len(ds.entities)))
    return {"version": ds.version, "count": placed,
            "server": placed > current_app.extensions["geoes_settings"].map_server_clusters}


def map_config(ds, mode: str, **extra) -> dict:
    """The configuration of a map page in `mode`; `extra` sets the mode's own keys (state, unit…)."""
    cfg = {
        "mode": mode,
        **served_data().cached(("map-config",), _per_version),
        "api": {
            # The GeoJSON API's documented paths (README), not endpoint names.
            "entities": request.script_root + "/api/entities.geojson",
            "powiaty": request.script_root + "/api/powiaty.geojson",
            "gminy": request.script_root + "/api/gminy.geojson",
            "nearest": request.script_root + "/api/nearest",
            "places": request.script_root + "/api/places",
            "points": request.script_root + "/api/points.json",
            "clusters": request.script_root + "/api/clusters",
            "item": request.script_root + "/ogc/collections/entities/items/__ID__",
        },
        "points": _points(ds),
        "pages": {"entity": url_for("entities.entity", entity_id="__ID__"),
                  "powiat": url_for("units.powiat", teryt="__TERYT__"),
                  "gmina": url_for("units.gmina", teryt="__TERYT__"),
                  "list": url_for("entities.index"), "embed": url_for("map.embed")},
        "state": {"types": [], "powiat": None, "gmina": None, "q": "", "bbox": None},
        "icons": sprite_url(),
    }
    cfg.update(extra)
    return cfg


def level_classes() -> dict[str, list[float]]:
    """The class bounds of each level in the served version (for the legends); `need` for the gminy's
    unemployed per 10 000 inhabitants."""
    return served_data().cached(("level-classes",), lambda ds: {"powiat": level_breaks(ds.powiaty),
                                                                "gmina": level_breaks(ds.gminy),
                                                                "need": level_breaks(ds.gminy, NEED_INDICATOR)})
