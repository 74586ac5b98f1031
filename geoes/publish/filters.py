"""Query filters shared by the pages, the GeoJSON API, the OGC API and the downloads.

Parsing is strict: a bad value raises ParamError with a Polish message naming the parameter, which
the web layer turns into a 400. Filtering is vectorised over the frame.
"""
from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoes.register.record import TYPES_SEPARATOR
from geoes.common.reference import entity_types
from geoes.errors import InvalidInput

MAX_PARAM_LENGTH = 200
MAX_REPEAT = 20


class ParamError(InvalidInput, ValueError):
    def __init__(self, param: str, message: str):
        super().__init__(f"{param}: {message}")
        self.param = param
        self.message = message


@dataclass(frozen=True)
class Filter:
    types: tuple[str, ...] = ()
    powiat: str | None = None
    gmina: str | None = None
    q: str | None = None
    bbox: tuple[float, float, float, float] | None = None
    properties: tuple[tuple[str, str], ...] = field(default=())

    def key(self) -> tuple:
        return (self.types, self.powiat, self.gmina, self.q, self.bbox, self.properties)

    def is_empty(self) -> bool:
        return not (self.types or self.powiat or self.gmina or self.q or self.bbox or self.properties)


def _values(args, name: str) -> list[str]:
    values = args.getlist(name) if hasattr(args, "getlist") else ([args[name]] if name in args else [])
    if len(values) > MAX_REPEAT:
        raise ParamError(name, f"parametr powtórzono za wiele razy (najwyżej {MAX_REPEAT})")
    out = []
    for v in values:
        if len(v) > MAX_PARAM_LENGTH:
            raise ParamError(name, f"wartość jest za długa (najwyżej {MAX_PARAM_LENGTH} znaków)")
        if "\ufffd" in v or any(unicodedata.category(ch) == "Cc" for ch in v):
            raise ParamError(name, "wartość zawiera niedozwolone znaki")
        out.append(v.strip())
    return out


def _single(args, name: str) -> str | None:
    values = [v for v in _values(args, name) if v != ""]
    if len(values) > 1 and len(set(values)) > 1:
        raise ParamError(name, "parametr podano kilka razy z różnymi wartościami")
    return values[0] if values else None


def parse_bbox(text: str, param: str = "bbox") -> tuple[float, float, float, float]:
    parts = text.split(",")
    if len(parts) != 4:
        raise ParamError(param, "oczekiwano czterech liczb: minLon,minLat,maxLon,maxLat")
    try:
        minx, miny, maxx, maxy = (float(p) for p in parts)
    except ValueError:
        raise ParamError(param, "oczekiwano czterech liczb: minLon,minLat,maxLon,maxLat") from None
    if not all(math.isfinite(v) for v in (minx, miny, maxx, maxy)):
        raise ParamError(param, "współrzędne muszą być skończonymi liczbami")
    if not (-180 <= minx <= 180 and -180 <= maxx <= 180 and -90 <= miny <= 90 and -90 <= maxy <= 90):
        raise ParamError(param, "długość w zakresie -180..180, szerokość -90..90 (WGS84)")
    if minx > maxx or miny > maxy:
        raise ParamError(param, "zła kolejność: minLon,minLat,maxLon,maxLat (min nie może być większe od max)")
    return (minx, miny, maxx, maxy)


def parse_types(args, name: str = "type") -> tuple[str, ...]:
    known = entity_types()
    out: list[str] = []
    for value in _values(args, name):
        for code in re.split(r"[,;]", value):
            code = code.strip().lower()
            if not code:
                continue
            if code not in known:
                raise ParamError(name, f"nieznany typ {code!r}; dozwolone: {', '.join(known)}")
            if code not in out:
                out.append(code)
    return tuple(out)


def parse_teryt(args, name: str, digits: int, known: set[str] | None = None) -> str | None:
    value = _single(args, name)
    if value is None:
        return None
    if not re.fullmatch(rf"\d{{{digits}}}", value):
        raise ParamError(name, f"kod TERYT ma {digits} cyfr")
    if known is not None and value not in known:
        raise ParamError(name, f"nieznany kod TERYT {value}")
    return value


def parse_filter(args, dataset=None, bbox_param: str = "bbox") -> Filter:
    """Parse `type` (repeatable or comma-separated), `powiat`, `gmina`, `q`, `bbox` from request args."""
    powiaty = set(dataset.powiaty["teryt"]) if dataset is not None else None
    gminy = set(dataset.gminy["teryt"]) if dataset is not None else None
    bbox_text = _single(args, bbox_param)
    return Filter(
        types=parse_types(args),
        powiat=parse_teryt(args, "powiat", 4, powiaty),
        gmina=parse_teryt(args, "gmina", 7, gminy),
        q=_single(args, "q") or None,
        bbox=parse_bbox(bbox_text, bbox_param) if bbox_text else None,
    )


def _fold(series: pd.Series) -> pd.Series:
    """Case- and accent-insensitive text for search ("lodz" finds "Łódź")."""
    folded = series.fillna("").astype(str).str.lower()
    folded = folded.str.replace("ł", "l", regex=False)
    return folded.map(lambda s: unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode())


def fold_text(text: str) -> str:
    return _fold(pd.Series([text])).iloc[0]


def bbox_mask(frame: gpd.GeoDataFrame, bbox) -> np.ndarray:
    minx, miny, maxx, maxy = bbox
    box = shapely.box(minx, miny, maxx, maxy)
    idx = frame.sindex.query(box, predicate="intersects")
    mask = np.zeros(len(frame), dtype=bool)
    mask[idx] = True
    return mask


def apply_entities(entities: gpd.GeoDataFrame, f: Filter) -> gpd.GeoDataFrame:
    mask = np.ones(len(entities), dtype=bool)
    if f.types:
        sets = entities["types"].fillna("").str.split(TYPES_SEPARATOR)
        wanted = set(f.types)
        mask &= sets.map(lambda xs: not wanted.isdisjoint(xs)).to_numpy(dtype=bool)
    if f.powiat:
        mask &= (entities["powiat_teryt_computed"] == f.powiat).to_numpy()
    if f.gmina:
        mask &= (entities["gmina_teryt_computed"] == f.gmina).to_numpy()
    if f.q:
        needle = fold_text(f.q)
        hay = _fold(entities["name"] + " " + entities["locality"].fillna("") + " " + entities["operator"].fillna(""))
        mask &= hay.str.contains(needle, regex=False).to_numpy()
    if f.bbox:
        mask &= bbox_mask(entities, f.bbox)
    for key, value in f.properties:
        mask &= (entities[key].astype(str) == value).to_numpy()
    return entities[mask]


def apply_units(units: gpd.GeoDataFrame, f: Filter) -> gpd.GeoDataFrame:
    mask = np.ones(len(units), dtype=bool)
    if f.powiat:
        col = "powiat_teryt" if "powiat_teryt" in units.columns else "teryt"
        mask &= (units[col] == f.powiat).to_numpy()
    if f.gmina:
        mask &= (units["teryt"] == f.gmina).to_numpy() if "powiat_teryt" in units.columns else \
            (units["teryt"] == f.gmina[:4]).to_numpy()
    if f.q:
        mask &= _fold(units["name"]).str.contains(fold_text(f.q), regex=False).to_numpy()
    if f.bbox:
        mask &= bbox_mask(units, f.bbox)
    for key, value in f.properties:
        mask &= (units[key].astype(str) == value).to_numpy()
    return units[mask]


# Public names for the pages (which parse repeated `teryt` and sort by folded text).
values = _values
fold = _fold
