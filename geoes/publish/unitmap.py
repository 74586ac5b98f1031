"""The public map's unit layers: `view=map` of /api/powiaty.geojson and /api/gminy.geojson.

Each powiat or gmina with its boundary (WGS84, 6 decimals) and exactly what static/js/map.js shows of it
— its choropleth colours and its tooltip's figures — decided here, on the server, so the map page's HTML
carries none of it (its size does not grow with the number of units) and map.js never computes a class or
formats a figure. The properties of every feature (UNIT_MAP_PROPERTIES), all of them on every feature:

    teryt               "2602"
    name                "jędrzejowski"
    powiat_teryt        "2602" (gminy only: the powiat whose county page shows the gmina)
    label               "powiat jędrzejowski", "Kielce (miasto na prawach powiatu)", "gmina Jędrzejów"
                        (geoes.publish.labels)
    color               the class colour of entities per 10 000 inhabitants (geoes.publish.classes, the
                        level's classes over all its units in the region)
    need_color          the class colour of registered unemployed per 10 000 inhabitants (NEED_COLORS)
    entities            "5"       figures as shown (geoes.common.polish.number; "–" when unknown)
    per_10k             "0,62"
    population          "80 370"
    unemployed          "1 548"
    unemployed_per_10k  "192,61"
    need_year           "2024"    the year of the unemployment figures ("" when the build has none)
    white_spot          true when the register has no active entity in the unit (a "biała plama")

The layer is the map's, not the data download: the indicators themselves are in the full layer.
"""
from __future__ import annotations

import geopandas as gpd
import pandas as pd

from geoes.common.polish import number
from geoes.publish.classes import INDICATOR, NEED_COLORS, NEED_INDICATOR, class_color, level_breaks
from geoes.publish.labels import gmina_label, powiat_label

UNIT_LAYERS = ("gminy", "powiaty")
# What map.js reads of a unit (its fills and tooltip), the same on both levels.
MAP_FIELDS = ("label", "color", "need_color", "entities", "per_10k", "population", "unemployed",
              "unemployed_per_10k", "need_year", "white_spot")
UNIT_MAP_PROPERTIES = {"powiaty": ("teryt", "name", *MAP_FIELDS),
                       "gminy": ("teryt", "name", "powiat_teryt", *MAP_FIELDS)}


def need_year(summary: dict) -> str:
    """The year of the build's unemployment figures, as the tooltips name it."""
    return str((summary.get("method") or {}).get("needs", {}).get("year", ""))


def _column(frame: pd.DataFrame, name: str) -> list:
    return frame[name].tolist() if name in frame.columns else [None] * len(frame)


def unit_map_frame(layer: str, frame: gpd.GeoDataFrame, year: str) -> gpd.GeoDataFrame:
    """The map's properties of a unit layer (`frame`: every unit of the level, as published), rows and
    geometry unchanged; the classes come from all the frame's units."""
    if layer not in UNIT_LAYERS:
        raise ValueError(f"unknown unit layer {layer!r}; layers: {', '.join(UNIT_LAYERS)}")
    label = powiat_label if layer == "powiaty" else gmina_label
    breaks, need = level_breaks(frame), level_breaks(frame, NEED_INDICATOR)
    records = frame[[c for c in ("name", "city_county") if c in frame.columns]].to_dict("records")
    per_10k, unemployed_per_10k = _column(frame, INDICATOR), _column(frame, NEED_INDICATOR)
    entities = _column(frame, "entities")
    out = pd.DataFrame({"teryt": frame["teryt"].astype(str), "name": frame["name"]}, index=frame.index)
    if layer == "gminy":
        out["powiat_teryt"] = frame["powiat_teryt"].astype(str)
    out["label"] = [label(r) for r in records]
    out["color"] = [class_color(v, breaks) for v in per_10k]
    out["need_color"] = [class_color(v, need, NEED_COLORS) for v in unemployed_per_10k]
    out["entities"] = [number(v, 0) for v in entities]
    out["per_10k"] = [number(v, 2) for v in per_10k]
    out["population"] = [number(v, 0) for v in _column(frame, "population")]
    out["unemployed"] = [number(v, 0) for v in _column(frame, "unemployed")]
    out["unemployed_per_10k"] = [number(v, 2) for v in unemployed_per_10k]
    out["need_year"] = year
    # An unknown count is no entity: the same rule as the build's white spots (entities == 0).
    out["white_spot"] = pd.Series([bool(pd.isna(v) or v <= 0) for v in entities], index=frame.index, dtype=bool)
    return gpd.GeoDataFrame(out, geometry=frame.geometry, crs=frame.crs)
