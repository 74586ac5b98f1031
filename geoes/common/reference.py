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


@lru_cache(maxsize=None)
def voivodeship_locatives() -> dict[str, str]:
    """A voivodeship's name → its locative, as in "w województwie świętokrzyskim"."""
    with open(REFERENCE_DIR / "voivodeships.csv", encoding="utf-8", newline="") as fh:
        return {row["name"]: row["name_locative"] for row in csv.DictReader(fh)}


def in_voivodeship(name: str) -> str:
    """"w województwie świętokrzyskim" (a name not in the table stays as it is: "w województwie X")."""
    return f"w województwie {voivodeship_locatives().get(name, name)}"
