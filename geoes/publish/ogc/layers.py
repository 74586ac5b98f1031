"""The three collections, their queryable properties, and the per-version data the core serves from.

`layer_data(store, cid)` serialises a layer ONCE per dataset version (`export.features_json`, each
feature as UTF-8 bytes) and keeps an id → position index; a page is then a slice of that list.
Filtered position sets are cached per version and filter, so a paged walk through a filtered result
filters once.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

import geopandas as gpd
import numpy as np
import shapely

from geoes.register.record import PRECISIONS, STATUSES
from geoes.publish.serialise import features_json
from geoes.publish.filters import Filter, ParamError, _single, apply_entities, apply_units, parse_bbox, parse_types
from geoes.common.reference import entity_types
from geoes.publish.ogc.cache import LRU
from geoes.publish.ogc.errors import OGCError, invalid, not_found

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"


@dataclass(frozen=True)
class Queryable:
    """A query parameter that filters on a property. `kind` says how it maps onto `filters.Filter`."""
    name: str
    kind: str  # "types" | "powiat" | "gmina" | "property" | "q"
    description: str
    schema: dict
    column: str | None = None
    # exact-match properties: query value → value as the column's str() shows it
    values: dict[str, str] | None = None
    pattern: str | None = None


@dataclass(frozen=True)
class CollectionDef:
    id: str
    layer: str
    title: str
    description: str
    id_column: str
    id_description: str
    queryables: tuple[Queryable, ...]
    html_columns: tuple[str, ...]
    keywords: tuple[str, ...] = field(default=())

    def queryable(self, name: str) -> Queryable | None:
        for q in self.queryables:
            if q.name == name:
                return q
        return None


def _enum(values) -> dict[str, str]:
    return {v: v for v in values}


Q_TEXT = Queryable("q", "q", "Wyszukiwanie tekstu w nazwie (bez rozróżniania wielkości liter i polskich znaków).",
                   {"type": "string", "maxLength": 200})


def _entity_queryables() -> tuple[Queryable, ...]:
    types = list(entity_types())
    return (
        Queryable("type", "types",
                  "Typ podmiotu (właściwość `types`); można powtórzyć parametr albo podać kody po przecinku — "
                  "wynik zawiera podmioty mające którykolwiek z typów.",
                  {"type": "array", "items": {"type": "string", "enum": types}, "maxItems": 20},
                  column="types"),
        Queryable("powiat_teryt", "powiat",
                  "Kod TERYT powiatu (4 cyfry), w którym leży podmiot wg współrzędnych "
                  "(właściwość `powiat_teryt_computed`).",
                  {"type": "string", "pattern": r"^\d{4}$"}, column="powiat_teryt_computed"),
        Queryable("gmina_teryt", "gmina",
                  "Kod TERYT gminy (7 cyfr), w której leży podmiot wg współrzędnych "
                  "(właściwość `gmina_teryt_computed`).",
                  {"type": "string", "pattern": r"^\d{7}$"}, column="gmina_teryt_computed"),
        Queryable("status", "property", "Status podmiotu.", {"type": "string", "enum": list(STATUSES)},
                  column="status", values=_enum(STATUSES)),
        Queryable("social_enterprise", "property", "Czy na liście przedsiębiorstw społecznych.",
                  {"type": "string", "enum": ["true", "false", "unknown"]}, column="social_enterprise",
                  values=_enum(["true", "false", "unknown"])),
        Queryable("location_precision", "property", "Precyzja lokalizacji.",
                  {"type": "string", "enum": list(PRECISIONS)}, column="location_precision",
                  values=_enum(PRECISIONS)),
        Q_TEXT,
    )


def _gmina_queryables() -> tuple[Queryable, ...]:
    return (
        Queryable("teryt", "property", "Kod TERYT gminy (7 cyfr).", {"type": "string", "pattern": r"^\d{7}$"},
                  column="teryt", pattern=r"\d{7}"),
        Queryable("powiat_teryt", "powiat", "Kod TERYT powiatu (4 cyfry).", {"type": "string", "pattern": r"^\d{4}$"},
                  column="powiat_teryt"),
        Queryable("type", "property", "Rodzaj gminy: 1 miejska, 2 wiejska, 3 miejsko-wiejska.",
                  {"type": "string", "enum": ["1", "2", "3"]}, column="type", values=_enum(["1", "2", "3"])),
        Q_TEXT,
    )


def _powiat_queryables() -> tuple[Queryable, ...]:
    return (
        Queryable("teryt", "property", "Kod TERYT powiatu (4 cyfry).", {"type": "string", "pattern": r"^\d{4}$"},
                  column="teryt", pattern=r"\d{4}"),
        Queryable("city_county", "property", "Miasto na prawach powiatu.",
                  {"type": "string", "enum": ["true", "false"]}, column="city_county",
                  values={"true": "True", "false": "False"}),
        Q_TEXT,
    )


_UNIT_COLUMNS = ("teryt", "name", "population", "area_km2", "entities", "entities_per_10k", "access_10km_pct")


def collection_defs() -> dict[str, CollectionDef]:
    return {
        "entities": CollectionDef(
            "entities", "entities", "Podmioty ekonomii społecznej",
            "Podmioty ekonomii społecznej (PES) z danymi adresowymi, typami, statusem i źródłami; punkty w WGS84. "
            "Plik jest próbką: porównaj kompletność z liczbami urzędowymi na stronie /about. "
            "Podmioty bez współrzędnych mają geometrię null.",
            "id", "Stały identyfikator podmiotu (właściwość `id`), np. swk-001.",
            _entity_queryables(),
            ("id", "name", "types", "locality", "gmina_name", "powiat_name", "status", "location_precision"),
            ("ekonomia społeczna", "PES", "podmioty"),
        ),
        "gminy": CollectionDef(
            "gminy", "gminy", "Gminy ze wskaźnikami",
            "Granice gmin (GUGiK PRG) ze wskaźnikami ekonomii społecznej: liczba podmiotów ogółem i wg typów, "
            "na 10 tys. mieszkańców i na 100 km², zatrudnienie, zasięg 10 km, pozycja i relacja do województwa.",
            "teryt", "Kod TERYT gminy (7 cyfr).",
            _gmina_queryables(), ("teryt", "name", "powiat_name", *_UNIT_COLUMNS[2:]),
            ("gminy", "wskaźniki"),
        ),
        "powiaty": CollectionDef(
            "powiaty", "powiaty", "Powiaty ze wskaźnikami",
            "Granice powiatów (z połączenia gmin) ze wskaźnikami ekonomii społecznej, pozycją wśród powiatów "
            "województwa i relacją do wartości wojewódzkiej.",
            "teryt", "Kod TERYT powiatu (4 cyfry).",
            _powiat_queryables(), _UNIT_COLUMNS,
            ("powiaty", "wskaźniki"),
        ),
    }


COLLECTIONS = collection_defs()


def get_def(cid: str) -> CollectionDef:
    try:
        return COLLECTIONS[cid]
    except KeyError:
        raise not_found(f"nieznana kolekcja {cid[:60]!r}; dostępne: {', '.join(COLLECTIONS)}") from None


@dataclass
class LayerData:
    """One layer of one dataset version, serialised once."""
    version: str
    frame: gpd.GeoDataFrame
    features: list[bytes]
    index: dict[str, int]
    extent: list[float]
    count: int


def _extent(frame: gpd.GeoDataFrame, fallback: gpd.GeoDataFrame) -> list[float]:
    geoms = frame.geometry.to_numpy()
    ok = ~(shapely.is_empty(geoms) | shapely.is_missing(geoms))
    if ok.any():
        bounds = shapely.total_bounds(geoms[ok])
    else:  # nothing placed yet: the region's extent
        bounds = fallback.total_bounds
    return [round(float(v), 6) for v in bounds]


def make_layer_data(dataset, cid: str) -> LayerData:
    cdef = get_def(cid)
    frame = getattr(dataset, cdef.layer).reset_index(drop=True)
    features = [f.encode("utf-8") for f in features_json(frame)]
    ids = frame[cdef.id_column].astype(str).tolist()
    return LayerData(dataset.version, frame, features, {fid: i for i, fid in enumerate(ids)},
                     _extent(frame, dataset.powiaty), len(frame))


def layer_data(store, cid: str) -> LayerData:
    get_def(cid)
    return store.cached(("ogc-layer", cid), lambda ds: make_layer_data(ds, cid))


# ------------------------------------------------------------------------------------ parameters

COMMON_PARAMS = ("f", "limit", "offset", "bbox", "datetime")
MAX_OFFSET = 10**9

_DT = r"\d{4}-\d{2}-\d{2}(?:[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2}))?"


def _check_instant(text: str) -> None:
    if not re.fullmatch(_DT, text):
        raise ValueError(text)
    datetime.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00").replace("t", "T"))


def parse_datetime(text: str | None):
    """RFC 3339 instant or interval (`a/b`, `../b`, `a/..`). Validated; the layers have no time property."""
    if text is None:
        return None
    parts = text.split("/")
    try:
        if len(parts) == 1:
            _check_instant(parts[0])
        elif len(parts) == 2:
            a, b = parts
            if a in ("", "..") and b in ("", ".."):
                raise ValueError(text)
            for p in (a, b):
                if p not in ("", ".."):
                    _check_instant(p)
        else:
            raise ValueError(text)
    except ValueError:
        raise invalid("datetime", "oczekiwano daty RFC 3339 (2024-01-31T00:00:00Z) albo przedziału a/b, ../b, a/..") \
            from None
    return text


def parse_int(args, name: str, default: int, minimum: int, maximum: int, clamp: bool = False) -> int:
    value = _single(args, name)
    if value is None:
        return default
    if not re.fullmatch(r"\d{1,10}", value):
        raise invalid(name, f"oczekiwano liczby całkowitej ≥ {minimum}")
    n = int(value)
    if n < minimum:
        raise invalid(name, f"najmniejsza wartość to {minimum}")
    if n > maximum:
        if clamp:
            return maximum
        raise invalid(name, f"największa wartość to {maximum}")
    return n


def parse_ogc_bbox(text: str | None):
    if text is None:
        return None
    parts = text.split(",")
    if len(parts) == 6:  # 3D bbox: minx,miny,minz,maxx,maxy,maxz — heights are ignored
        parts = [parts[0], parts[1], parts[3], parts[4]]
    return parse_bbox(",".join(parts))


@dataclass(frozen=True)
class ItemsQuery:
    filter: Filter
    limit: int
    offset: int
    f: str | None
    rest: tuple[tuple[str, str], ...]  # the filter parameters as given, for links and cache keys


def arg_names(args) -> list[str]:
    return list(args.keys()) if hasattr(args, "keys") else list(args)


def reject_unknown(args, known) -> None:
    for name in arg_names(args):
        if name not in known:
            shown = name[:40]
            raise OGCError(400, "InvalidParameterValue",
                           f"nieznany parametr {shown!r}; dozwolone: {', '.join(known)}")


def parse_f(args) -> str | None:
    return _single(args, "f")


def parse_items(cdef: CollectionDef, args, page_size: int = 100, max_page_size: int = 10_000) -> ItemsQuery:
    """Validate every parameter of /collections/{id}/items; ParamError/OGCError on anything wrong."""
    names = [*COMMON_PARAMS, *(q.name for q in cdef.queryables)]
    reject_unknown(args, names)
    try:
        limit = parse_int(args, "limit", page_size, 1, max_page_size, clamp=True)
        offset = parse_int(args, "offset", 0, 0, MAX_OFFSET)
        bbox = parse_ogc_bbox(_single(args, "bbox"))
        parse_datetime(_single(args, "datetime"))
        f = parse_f(args)
        types: tuple[str, ...] = ()
        powiat = gmina = q = None
        props: list[tuple[str, str]] = []
        rest: list[tuple[str, str]] = []
        for qb in cdef.queryables:
            if qb.kind == "types":
                types = parse_types(args, qb.name)
                if types:
                    rest.append((qb.name, ",".join(types)))
                continue
            value = _single(args, qb.name)
            if value is None:
                continue
            if qb.kind == "powiat":
                if not re.fullmatch(r"\d{4}", value):
                    raise invalid(qb.name, "kod TERYT powiatu ma 4 cyfry")
                powiat = value
            elif qb.kind == "gmina":
                if not re.fullmatch(r"\d{7}", value):
                    raise invalid(qb.name, "kod TERYT gminy ma 7 cyfr")
                gmina = value
            elif qb.kind == "q":
                q = value
            else:
                if qb.values is not None:
                    key = value.lower()
                    if key not in qb.values:
                        raise invalid(qb.name, f"dozwolone wartości: {', '.join(qb.values)}")
                    props.append((qb.column, qb.values[key]))
                else:
                    if qb.pattern and not re.fullmatch(qb.pattern, value):
                        raise invalid(qb.name, "zły format wartości")
                    props.append((qb.column, value))
            rest.append((qb.name, value))
        for name in ("bbox", "datetime"):
            v = _single(args, name)
            if v is not None:
                rest.append((name, v))
    except ParamError as exc:
        raise invalid(exc.param, exc.message) from None
    flt = Filter(types=types, powiat=powiat, gmina=gmina, q=q, bbox=bbox, properties=tuple(props))
    return ItemsQuery(flt, limit, offset, f, tuple(rest))


_positions_cache = LRU(max_entries=1024, max_bytes=64 * 1024 * 1024)


def matching_positions(layer: LayerData, cid: str, flt: Filter) -> np.ndarray:
    """Positions (into layer.features) of the features matching `flt`, cached per version and filter."""
    if flt.is_empty():
        return np.arange(layer.count)

    def make() -> np.ndarray:
        frame = layer.frame
        sub = apply_entities(frame, flt) if cid == "entities" else apply_units(frame, flt)
        return sub.index.to_numpy(dtype=np.int64)

    return _positions_cache.get_or_make((layer.version, cid, flt.key()), make)


