"""The three collections as OGC API – Features describes them: titles, descriptions, keywords, the
queryable properties, and the parsing of an items request into a `filters.Filter`.

The data behind each collection (serialised once per dataset version, with the filtered-position cache)
is `geoes.publish.layers`, shared with the GeoJSON API.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from geoes.common.reference import entity_types
from geoes.errors import NotFound
from geoes.publish.filters import (Filter, ParamError, parse_bbox, parse_datetime, parse_int, parse_teryt, parse_types,
                                   reject_unknown, single)
from geoes.register.record import PRECISIONS, STATUSES

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
            "Rejestr jest próbą: porównaj kompletność z liczbami urzędowymi na stronie /about. "
            "Podmioty bez współrzędnych (także znane tylko z dokładnością do powiatu) mają pustą geometrię.",
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
        raise NotFound(f"nieznana kolekcja {cid[:60]!r}; dostępne: {', '.join(COLLECTIONS)}") from None


# ------------------------------------------------------------------------------------ parameters

COMMON_PARAMS = ("f", "limit", "offset", "bbox", "datetime")
MAX_OFFSET = 10**9


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


def parse_f(args) -> str | None:
    return single(args, "f")


def _property_value(qb: Queryable, value: str) -> tuple[str, str]:
    """(column, value as the column's str() shows it) of an exact-match queryable."""
    if qb.values is not None:
        key = value.lower()
        if key not in qb.values:
            raise ParamError(qb.name, f"dozwolone wartości: {', '.join(qb.values)}")
        return qb.column, qb.values[key]
    if qb.pattern and not re.fullmatch(qb.pattern, value):
        raise ParamError(qb.name, "zły format wartości")
    return qb.column, value


def _queryable_filter(cdef: CollectionDef, args) -> tuple[Filter, list[tuple[str, str]]]:
    """The collection's queryables as a Filter, and the parameters as given (for links and cache keys)."""
    parts: dict = {"types": (), "powiat": None, "gmina": None, "q": None}
    props: list[tuple[str, str]] = []
    rest: list[tuple[str, str]] = []
    for qb in cdef.queryables:
        if qb.kind == "types":
            parts["types"] = parse_types(args, qb.name)
            if parts["types"]:
                rest.append((qb.name, ",".join(parts["types"])))
            continue
        value = single(args, qb.name)
        if value is None:
            continue
        if qb.kind == "powiat":
            parts["powiat"] = parse_teryt(args, qb.name, 4)
        elif qb.kind == "gmina":
            parts["gmina"] = parse_teryt(args, qb.name, 7)
        elif qb.kind == "q":
            parts["q"] = value
        else:
            props.append(_property_value(qb, value))
        rest.append((qb.name, value))
    return Filter(**parts, properties=tuple(props)), rest


def parse_items(cdef: CollectionDef, args, page_size: int = 100, max_page_size: int = 10_000) -> ItemsQuery:
    """Validate every parameter of /collections/{id}/items (geoes.publish.filters; ParamError if wrong)."""
    reject_unknown(args, [*COMMON_PARAMS, *(q.name for q in cdef.queryables)])
    limit = parse_int(args, "limit", page_size, 1, max_page_size, clamp=True)
    offset = parse_int(args, "offset", 0, 0, MAX_OFFSET)
    bbox = parse_ogc_bbox(single(args, "bbox"))
    parse_datetime(single(args, "datetime"))  # validated; the layers have no time property
    f = parse_f(args)
    flt, rest = _queryable_filter(cdef, args)
    for name in ("bbox", "datetime"):
        v = single(args, name)
        if v is not None:
            rest.append((name, v))
    return ItemsQuery(replace(flt, bbox=bbox), limit, offset, f, tuple(rest))
