"""The three collections as OGC API – Features describes them: titles, descriptions, keywords, the
queryable properties, and the parsing of an items request into a `filters.Filter`.

Queryables (Part 3) are the features' own properties: `property_queryables(cdef, frame)` lists every
public property of the served layer with its JSON Schema type (from the column's dtype), a Polish
description, and a pattern or enumeration where the value has one. Each is
* a query parameter `name=value` that selects the features whose property of that very name equals the
  value (so GDAL, which pushes `-where "powiat_teryt='2604'"` down as `powiat_teryt=2604`, gets what the
  same `-where` gives on a downloaded file): text exactly, numbers as numbers, booleans as
  true/false/1/0;
* a property a CQL2 `filter` may use (geoes.publish.ogc.cql).
An entity's `gmina_teryt`/`powiat_teryt` are the units the site counts it in (where its point lies, or the
stated powiat of an entity known only to the powiat) — the same as `/api/…?powiat=` and the county pages;
what the register states is `gmina_teryt_stated`/`powiat_teryt_stated`; `gmina_teryt_computed` and
`powiat_teryt_computed` are deprecated aliases of the first two (geoes.publish.serialise).
Beside the properties, entities take `type` (any of the given types, as the GeoJSON API) and every
collection `q` (text search).

The data behind each collection (serialised once per dataset version, with the filtered-position cache)
is `geoes.publish.layers`, shared with the GeoJSON API.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace

import pandas as pd

from geoes.common.reference import entity_types
from geoes.dataset.indicators import LABELS_PL
from geoes.errors import NotFound
from geoes.publish.filters import (Filter, ParamError, parse_datetime, parse_int, parse_types, reject_unknown,
                                   single)
from geoes.publish.ogc import cql
from geoes.publish.ogc.crs import CRS84, parse_bbox as parse_crs_bbox, parse_crs
from geoes.publish.serialise import public_columns
from geoes.register.record import PRECISIONS, STATUSES

BOOLEAN_VALUES = {"true": True, "1": True, "false": False, "0": False}


@dataclass(frozen=True)
class Queryable:
    """A query parameter. `kind` "property" selects on the feature property `name`; "types" (any of the
    entity types) and "q" (text search) are the two parameters that are not properties."""
    name: str
    kind: str  # "property" | "types" | "q"
    description: str
    schema: dict

    @property
    def json_type(self) -> str:
        return self.schema.get("type", "string")


@dataclass(frozen=True)
class CollectionDef:
    id: str
    layer: str
    title: str
    description: str
    id_column: str
    id_description: str
    params: tuple[Queryable, ...]  # the parameters that are not properties (type, q)
    html_columns: tuple[str, ...]
    geometry_format: str  # the queryable `geometry`'s JSON Schema format (Part 3)
    keywords: tuple[str, ...] = field(default=())


Q_TEXT = Queryable("q", "q", "Wyszukiwanie tekstu w nazwie (bez rozróżniania wielkości liter i polskich znaków).",
                   {"type": "string", "maxLength": 200})


def _entity_params() -> tuple[Queryable, ...]:
    return (
        Queryable("type", "types",
                  "Typ podmiotu (kody z właściwości `types`); można powtórzyć parametr albo podać kody po "
                  "przecinku — wynik zawiera podmioty mające którykolwiek z typów.",
                  {"type": "array", "items": {"type": "string", "enum": list(entity_types())}, "maxItems": 20}),
        Q_TEXT,
    )


_TERYT_GMINA = {"pattern": r"^\d{7}$"}
_TERYT_POWIAT = {"pattern": r"^\d{4}$"}

# Polish descriptions (and value constraints) of the properties; other columns are described by rule.
PROPERTY_DOCS: dict[str, tuple[str, dict]] = {
    "id": ("Stały identyfikator podmiotu (np. swk-001).", {}),
    "name": ("Nazwa.", {}),
    "types": ("Typy podmiotu: kody rozdzielone średnikiem (np. cis;wtz). `types=cis` wybiera podmioty "
              "z samym typem cis; dowolny z typów wybiera parametr `type` albo `types LIKE '%cis%'`.", {}),
    "social_enterprise": ("Czy na liście przedsiębiorstw społecznych: true, false albo unknown.",
                          {"enum": ["true", "false", "unknown"]}),
    "legal_form": ("Forma prawna.", {}),
    "operator": ("Podmiot prowadzący.", {}),
    "street": ("Ulica i numer.", {}),
    "postal_code": ("Kod pocztowy (tekst, np. 25-001).", {}),
    "locality": ("Miejscowość.", {}),
    "gmina_teryt": ("Kod TERYT gminy (7 cyfr), w której serwis liczy podmiot: gmina, w której leży jego punkt "
                    "(wyznaczona ze współrzędnych); null dla podmiotu bez punktu. Ten sam kod co filtr `gmina` "
                    "w /api i profile gmin. Gmina podana w rejestrze: `gmina_teryt_stated`.", _TERYT_GMINA),
    "powiat_teryt": ("Kod TERYT powiatu (4 cyfry), w którym serwis liczy podmiot: powiat, w którym leży jego "
                     "punkt, a dla podmiotu znanego tylko z dokładnością do powiatu — ten powiat; null dla "
                     "podmiotu bez lokalizacji. Ten sam kod co filtr `powiat` w /api i profile powiatów. Powiat "
                     "podany w rejestrze: `powiat_teryt_stated`.", _TERYT_POWIAT),
    "gmina_teryt_stated": ("Kod TERYT gminy (7 cyfr) podany w rejestrze, tak jak podaje go źródło; null, gdy "
                           "źródło go nie podaje. Może różnić się od `gmina_teryt` (zob. `gmina_mismatch`).",
                           _TERYT_GMINA),
    "powiat_teryt_stated": ("Kod TERYT powiatu (4 cyfry) podany w rejestrze, tak jak podaje go źródło; null, "
                            "gdy źródło go nie podaje.", _TERYT_POWIAT),
    "gmina_teryt_computed": ("Przestarzała nazwa `gmina_teryt` (ta sama wartość); zostaje dla istniejących "
                             "skryptów — używaj `gmina_teryt`.", _TERYT_GMINA),
    "powiat_teryt_computed": ("Przestarzała nazwa `powiat_teryt` (ta sama wartość); zostaje dla istniejących "
                              "skryptów — używaj `powiat_teryt`.", _TERYT_POWIAT),
    "gmina_name": ("Nazwa gminy `gmina_teryt`.", {}),
    "powiat_name": ("Nazwa powiatu `powiat_teryt`.", {}),
    "lat": ("Szerokość geograficzna WGS84 (null dla podmiotów bez lokalizacji).", {}),
    "lon": ("Długość geograficzna WGS84 (null dla podmiotów bez lokalizacji).", {}),
    "location_precision": ("Precyzja lokalizacji.", {"enum": list(PRECISIONS)}),
    "geocoder": ("Skąd pochodzą współrzędne.", {}),
    "krs": ("Numer KRS (10 cyfr, tekst).", {}),
    "nip": ("NIP (10 cyfr, tekst).", {}),
    "regon": ("REGON (9 lub 14 cyfr, tekst).", {}),
    "operator_krs": ("Numer KRS podmiotu prowadzącego (10 cyfr, tekst) — dla jednostek bez własnej osobowości "
                     "prawnej (WTZ, ZAZ, CIS…).", {}),
    "operator_nip": ("NIP podmiotu prowadzącego (10 cyfr, tekst).", {}),
    "employees": ("Liczba zatrudnionych (null, gdy nieznana).", {}),
    "status": ("Status podmiotu.", {"enum": list(STATUSES)}),
    "as_of": ("Stan na (opis daty źródła).", {}),
    "website": ("Strona WWW.", {}),
    "email": ("Adres e-mail.", {}),
    "phone": ("Telefon (tekst).", {}),
    "description": ("Opis.", {}),
    "sources": ("Źródła (adresy rozdzielone „ | ”).", {}),
    "gmina_mismatch": ("Czy gmina podana w rejestrze różni się od wyznaczonej ze współrzędnych.", {}),
    "outside_region": ("Czy punkt leży poza województwem.", {}),
    "type": ("Rodzaj gminy: 1 miejska, 2 wiejska, 3 miejsko-wiejska.", {"enum": [1, 2, 3]}),
    "type_name": ("Rodzaj gminy (nazwa).", {}),
    "city_county": ("Miasto na prawach powiatu (true/false, także 1/0).", {}),
    "area_km2_official": ("Powierzchnia urzędowa (km²).", {}),
    "area_km2_computed": ("Powierzchnia obliczona z granic w EPSG:2180 (km²).", {}),
    "population_year": ("Rok danych o ludności.", {}),
    "population_2021": ("Ludność (NSP 2021).", {}),
    "employees_known": ("Podmioty ze znaną liczbą zatrudnionych.", {}),
}


def _describe(name: str, layer: str) -> tuple[str, dict]:
    if layer == "gminy" and name in ("powiat_teryt", "powiat_name"):
        return (("Kod TERYT powiatu (4 cyfry), w którym leży gmina.", _TERYT_POWIAT) if name == "powiat_teryt"
                else ("Nazwa powiatu, w którym leży gmina.", {}))
    if name in PROPERTY_DOCS:
        return PROPERTY_DOCS[name]
    if name == "teryt":
        return (("Kod TERYT gminy (7 cyfr).", _TERYT_GMINA) if layer == "gminy"
                else ("Kod TERYT powiatu (4 cyfry).", _TERYT_POWIAT))
    if name in LABELS_PL:
        return LABELS_PL[name] + ".", {}
    if name.startswith("rank_"):
        return f"Miejsce wśród jednostek tego poziomu: {LABELS_PL.get(name[5:], name[5:])} (1 = najwyższa).", {}
    if name.startswith("ratio_"):
        return f"Relacja do wartości wojewódzkiej: {LABELS_PL.get(name[6:], name[6:])} (1 = jak województwo).", {}
    if name.startswith("entities_"):
        return f"Podmioty (aktywne) typu {name[9:]}.", {}
    return name, {}


def _json_type(series: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(series.dtype):
        return "boolean"
    if pd.api.types.is_integer_dtype(series.dtype):
        return "integer"
    if pd.api.types.is_float_dtype(series.dtype):
        return "number"
    return "string"


def property_queryables(cdef: CollectionDef, frame) -> tuple[Queryable, ...]:
    """Every public property of the served layer as a queryable (name, JSON Schema, Polish description)."""
    out = []
    for col in public_columns(frame):
        text, extra = _describe(col, cdef.layer)
        schema = {"title": col, "description": text, "type": _json_type(frame[col]), **extra}
        out.append(Queryable(col, "property", text, schema))
    return tuple(out)


_UNIT_COLUMNS = ("teryt", "name", "population", "area_km2", "entities", "entities_per_10k", "access_10km_pct")


def collection_defs() -> dict[str, CollectionDef]:
    return {
        "entities": CollectionDef(
            "entities", "entities", "Podmioty ekonomii społecznej",
            "Podmioty ekonomii społecznej (PES) z danymi adresowymi, typami, statusem i źródłami; punkty w WGS84. "
            "Rejestr jest próbą: porównaj kompletność z liczbami urzędowymi na stronie /about. "
            "Podmioty bez współrzędnych (także znane tylko z dokładnością do powiatu) mają pustą geometrię.",
            "id", "Stały identyfikator podmiotu (właściwość `id`), np. swk-001.",
            _entity_params(),
            ("id", "name", "types", "locality", "gmina_name", "powiat_name", "status", "location_precision"),
            "geometry-point", ("ekonomia społeczna", "PES", "podmioty"),
        ),
        "gminy": CollectionDef(
            "gminy", "gminy", "Gminy ze wskaźnikami",
            "Granice gmin (GUGiK PRG) ze wskaźnikami ekonomii społecznej: liczba podmiotów ogółem i wg typów, "
            "na 10 tys. mieszkańców i na 100 km², zatrudnienie, zasięg 10 km, pozycja i relacja do województwa.",
            "teryt", "Kod TERYT gminy (7 cyfr).",
            (Q_TEXT,), ("teryt", "name", "powiat_name", *_UNIT_COLUMNS[2:]),
            "geometry-polygon-or-multipolygon", ("gminy", "wskaźniki"),
        ),
        "powiaty": CollectionDef(
            "powiaty", "powiaty", "Powiaty ze wskaźnikami",
            "Granice powiatów (z połączenia gmin) ze wskaźnikami ekonomii społecznej, pozycją wśród powiatów "
            "województwa i relacją do wartości wojewódzkiej.",
            "teryt", "Kod TERYT powiatu (4 cyfry).",
            (Q_TEXT,), _UNIT_COLUMNS,
            "geometry-polygon-or-multipolygon", ("powiaty", "wskaźniki"),
        ),
    }


COLLECTIONS = collection_defs()


def get_def(cid: str) -> CollectionDef:
    try:
        return COLLECTIONS[cid]
    except KeyError:
        raise NotFound(f"nieznana kolekcja {cid[:60]!r}; dostępne: {', '.join(COLLECTIONS)}") from None


# ------------------------------------------------------------------------------------ parameters

COMMON_PARAMS = ("f", "limit", "offset", "bbox", "bbox-crs", "datetime", "crs", "filter", "filter-lang",
                 "filter-crs")
MAX_OFFSET = 10**9


@dataclass(frozen=True)
class ItemsQuery:
    filter: Filter
    limit: int
    offset: int
    f: str | None
    rest: tuple[tuple[str, str], ...]  # the selection parameters as given, for links and cache keys
    crs: object  # geoes.publish.ogc.crs.CrsDef of the response


def parse_f(args) -> str | None:
    return single(args, "f")


def parse_value(qb: Queryable, value: str):
    """A property parameter's value, typed as the property: text as is (checked against its pattern or
    enumeration), numbers as numbers, booleans from true/false/1/0."""
    kind, schema = qb.json_type, qb.schema
    if kind == "boolean":
        if value.lower() not in BOOLEAN_VALUES:
            raise ParamError(qb.name, "wartość logiczna: true, false, 1 albo 0")
        return BOOLEAN_VALUES[value.lower()]
    if kind in ("integer", "number"):
        try:
            number = float(value)
        except ValueError:
            raise ParamError(qb.name, "oczekiwano liczby") from None
        if not math.isfinite(number) or (kind == "integer" and not number.is_integer()):
            raise ParamError(qb.name, "oczekiwano liczby całkowitej" if kind == "integer" else "oczekiwano liczby")
        if "enum" in schema and number not in schema["enum"]:
            raise ParamError(qb.name, f"dozwolone wartości: {', '.join(str(v) for v in schema['enum'])}")
        return int(number) if kind == "integer" else number
    if "enum" in schema:
        allowed = {str(v).lower(): v for v in schema["enum"]}
        if value.lower() not in allowed:
            raise ParamError(qb.name, f"dozwolone wartości: {', '.join(str(v) for v in schema['enum'])}")
        return allowed[value.lower()]
    if "pattern" in schema and not re.fullmatch(schema["pattern"].strip("^$"), value):
        raise ParamError(qb.name, "zły format wartości (" + qb.description + ")")
    return value


def _queryable_filter(cdef: CollectionDef, props: tuple[Queryable, ...], args) -> tuple[Filter, list]:
    """The parameters (type, q and the properties) as a Filter, and as given (for links and cache keys)."""
    types: tuple[str, ...] = ()
    q = None
    chosen: list[tuple[str, object]] = []
    rest: list[tuple[str, str]] = []
    for qb in (*cdef.params, *props):
        if qb.kind == "types":
            types = parse_types(args, qb.name)
            if types:
                rest.append((qb.name, ",".join(types)))
            continue
        value = single(args, qb.name)
        if value is None:
            continue
        if qb.kind == "q":
            q = value
        else:
            chosen.append((qb.name, parse_value(qb, value)))
        rest.append((qb.name, value))
    return Filter(types=types, q=q, properties=tuple(chosen)), rest


def _cql_filter(props: tuple[Queryable, ...], args, rest: list, time_limit: float):
    text = single(args, "filter")
    lang = single(args, "filter-lang")
    if lang is not None and lang.lower() not in cql.LANGS:
        raise ParamError("filter-lang", f"obsługiwany język filtra: {', '.join(cql.LANGS)}")
    filter_crs = parse_crs(single(args, "filter-crs"), "filter-crs")
    if text is None:
        return None
    rest += [("filter", text), ("filter-lang", "cql2-text")]
    if filter_crs.uri != CRS84:
        rest.append(("filter-crs", filter_crs.uri))
    return cql.parse(text, {q.name: q.json_type for q in props}, filter_crs, time_limit)


def _bbox(args, rest: list) -> tuple[tuple | None, str | None]:
    """(CRS84 box, None) for a CRS84 bbox; (None, polygon WKT in CRS84) for a bbox in another bbox-crs."""
    text = single(args, "bbox")
    bbox_crs = parse_crs(single(args, "bbox-crs"), "bbox-crs")
    if text is None:
        return None, None
    area = parse_crs_bbox(text, bbox_crs)
    rest.append(("bbox", text))
    if bbox_crs.uri == CRS84:
        return tuple(float(v) for v in area.bounds), None
    rest.append(("bbox-crs", bbox_crs.uri))
    return None, area.wkt


def parse_items(cdef: CollectionDef, props: tuple[Queryable, ...], args, page_size: int = 100,
                max_page_size: int = 10_000, filter_time_limit: float = cql.DEFAULT_TIME_LIMIT) -> ItemsQuery:
    """Validate every parameter of /collections/{id}/items (ParamError, i.e. 400, if wrong); `props` are
    the collection's property queryables (property_queryables)."""
    reject_unknown(args, [*COMMON_PARAMS, *(q.name for q in cdef.params), *(q.name for q in props)])
    limit = parse_int(args, "limit", page_size, 1, max_page_size, clamp=True)
    offset = parse_int(args, "offset", 0, 0, MAX_OFFSET)
    parse_datetime(single(args, "datetime"))  # validated; the layers have no time property
    crs = parse_crs(single(args, "crs"))
    flt, rest = _queryable_filter(cdef, props, args)
    bbox, area = _bbox(args, rest)
    expression = _cql_filter(props, args, rest, filter_time_limit)
    when = single(args, "datetime")
    if when is not None:
        rest.append(("datetime", when))
    if crs.uri != CRS84:
        rest.append(("crs", crs.uri))
    return ItemsQuery(replace(flt, bbox=bbox, area=area, expression=expression), limit, offset, parse_f(args),
                      tuple(rest), crs)
