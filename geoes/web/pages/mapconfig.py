"""The configuration a map page gives static/js/map.js."""
from __future__ import annotations

from flask import request, url_for

from geoes.common.reference import entity_types
from geoes.publish.classes import CLASS_COLORS, HIGHLIGHT_COLOR, ZERO_COLOR, classes
from geoes.web import maps
from geoes.web.pages.views import STATUS_PL, powiat_label
from geoes.web.served import served_data


def map_config(ds, mode: str, **extra) -> dict:
    types = entity_types()
    served = served_data()
    breaks_p = served.cached(("classes", "powiat"), lambda d: classes(d.powiaty["entities_per_10k"].tolist()))
    breaks_g = served.cached(("classes", "gmina"), lambda d: classes(d.gminy["entities_per_10k"].tolist()))
    cfg = {
        "mode": mode,
        "region_name": ds.voivodeship.get("name") or "",
        "api": {
            # The GeoJSON API's documented paths (README), not endpoint names.
            "entities": request.script_root + "/api/entities.geojson",
            "powiaty": request.script_root + "/api/powiaty.geojson",
            "gminy": request.script_root + "/api/gminy.geojson",
        },
        "pages": {"entity": url_for("entities.entity", entity_id="__ID__"),
                  "powiat": url_for("units.powiat", teryt="__TERYT__"),
                  "gmina": url_for("units.gmina", teryt="__TERYT__"),
                  "list": url_for("entities.index")},
        "types": {c: {"label": t.label_pl, "short": t.short_pl, "icon": t.icon} for c, t in types.items()},
        "classes": {"powiat": breaks_p, "gmina": breaks_g,
                    "colors": CLASS_COLORS, "zero": ZERO_COLOR, "highlight": HIGHLIGHT_COLOR},
        "powiaty": {r["teryt"]: {"name": r["name"], "label": powiat_label(r),
                                 "bounds": maps.bounds_of(ds.powiaty[ds.powiaty["teryt"] == r["teryt"]])}
                    for r in ds.powiaty[["teryt", "name", "city_county"]].to_dict("records")},
        "state": {"types": [], "powiat": None, "q": ""},
        "status": STATUS_PL,
    }
    cfg.update(extra)
    return cfg
