"""Reference data kept as versioned files in geoes/reference (types, attribution)."""
from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from functools import lru_cache

from geoes.config import PACKAGE_DIR

REFERENCE_DIR = PACKAGE_DIR / "reference"


@dataclass(frozen=True)
class EntityType:
    code: str
    label_pl: str
    label_en: str
    short_pl: str
    color: str
    icon: str
    official_indicator: str


@lru_cache(maxsize=None)
def entity_types() -> dict[str, EntityType]:
    with open(REFERENCE_DIR / "entity_types.csv", encoding="utf-8", newline="") as fh:
        return {row["code"]: EntityType(**row) for row in csv.DictReader(fh)}


@lru_cache(maxsize=None)
def attribution() -> dict:
    with open(REFERENCE_DIR / "attribution.json", encoding="utf-8") as fh:
        return json.load(fh)


def attribution_text() -> str:
    a = attribution()
    return f"{a['data']}; podkład mapy: {a['tiles']['text']}"


@lru_cache(maxsize=None)
def header_aliases() -> dict[str, str]:
    """Lower-case header as exports spell it → entity record column (or an importer helper column)."""
    with open(REFERENCE_DIR / "header_aliases.csv", encoding="utf-8", newline="") as fh:
        return {row["header"]: row["column"] for row in csv.DictReader(fh)}


@lru_cache(maxsize=None)
def krs_legal_forms() -> dict[str, tuple[str, str]]:
    """KRS legal form (upper case, as the KRS API writes it) → (register part S/P, entity type code or '')."""
    with open(REFERENCE_DIR / "krs_legal_forms.csv", encoding="utf-8", newline="") as fh:
        return {row["form"]: (row["register"], row["type"]) for row in csv.DictReader(fh)}


@lru_cache(maxsize=None)
def voivodeships() -> dict[str, str]:
    """TERYT code of a voivodeship → its name (lower case, as TERYT writes it)."""
    with open(REFERENCE_DIR / "voivodeships.csv", encoding="utf-8", newline="") as fh:
        return {row["teryt"]: row["name"] for row in csv.DictReader(fh)}


@dataclass(frozen=True)
class ColumnEntry:
    """One row of the data dictionary (geoes/reference/columns.csv); see geoes.common.dictionary."""
    column: str        # machine name, or a pattern with {type} / {indicator}
    scope: str         # "units" (gminy, powiaty, indicator tables), "entities", or "" (any)
    group: str         # id, value, need, type, rank, note, meta, geometry: where a file for people puts it
    kind: str          # code, text, int, year, decimal, percent, points, ratio, bool, date, reasons
    decimals: int | None
    values: str        # the vocabulary its values are shown in to people (geoes.common.labels), or ""
    label: str         # the Polish column name with its unit
    definition: str
    source: str


@lru_cache(maxsize=None)
def data_dictionary() -> tuple[ColumnEntry, ...]:
    """Every published column: its Polish name with unit, definition and source (in file order)."""
    with open(REFERENCE_DIR / "columns.csv", encoding="utf-8", newline="") as fh:
        return tuple(ColumnEntry(**{**row, "decimals": int(row["decimals"]) if row["decimals"] else None})
                     for row in csv.DictReader(fh))


@lru_cache(maxsize=None)
def voivodeship_locatives() -> dict[str, str]:
    """A voivodeship's name → its locative, as in "w województwie świętokrzyskim"."""
    with open(REFERENCE_DIR / "voivodeships.csv", encoding="utf-8", newline="") as fh:
        return {row["name"]: row["name_locative"] for row in csv.DictReader(fh)}


def in_voivodeship(name: str) -> str:
    """"w województwie świętokrzyskim" (a name not in the table stays as it is: "w województwie X")."""
    return f"w województwie {voivodeship_locatives().get(name, name)}"


@dataclass(frozen=True)
class EssglobalType:
    """How an entity type is described in ESSGlobal terms (essglobal_types.csv): an organisational
    structure, qualifiers and a primary activity (term ids of the ESSGlobal vocabularies, '' when none)."""
    type: str
    organisational_structure: str
    qualifiers: tuple[str, ...]
    primary_activity: str
    why: str


@lru_cache(maxsize=None)
def essglobal() -> dict:
    """The ESSGlobal standard CSV's columns, vocabulary base URI and term labels, with their sources."""
    with open(REFERENCE_DIR / "essglobal.json", encoding="utf-8") as fh:
        return json.load(fh)


@lru_cache(maxsize=None)
def essglobal_types() -> dict[str, EssglobalType]:
    """Entity type code → its ESSGlobal description (essglobal_types.csv)."""
    with open(REFERENCE_DIR / "essglobal_types.csv", encoding="utf-8", newline="") as fh:
        return {row["type"]: EssglobalType(row["type"], row["organisational_structure"],
                                           tuple(q for q in row["qualifiers"].split(";") if q),
                                           row["primary_activity"], row["why"])
                for row in csv.DictReader(fh)}
