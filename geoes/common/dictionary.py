"""The data dictionary: what every published column is, in the words of the files people open.

Files for GIS and scripts (GeoJSON, GeoPackage, the default CSV, the OGC API) carry machine names
(`entities_per_10k`); files for people (XLSX, the CSV for Polish Excel, the county report's tables)
carry the Polish name with its unit ("Podmioty w rejestrze na 10 tys. mieszkańców"), and the XLSX
describes each column on its "Opis kolumn" sheet. Both come from one file,
geoes/reference/columns.csv (loaded by geoes.common.reference.data_dictionary): a column added to a
layer needs one row there, and tests/common/test_dictionary.py fails while a published column has none.

A row names a column exactly, or a family by pattern — `entities_{type}` (a count per entity type),
`rank_{indicator}`, `rank_{indicator}_max`, `ratio_{indicator}` (the place among the units and the
relation to the voivodeship of any indicator that has its own row). Labels and definitions may use
{type} (the type's short name), {type_label} (its full name), {label} (the indicator's label) and
{units} ("powiatów", "gmin": the units a place is among).

`scope` tells the unit layers and tables ("units") from the entity layer ("entities") where one machine
name means different things (`name`, `employees`, `powiat_teryt`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from geoes.common.reference import ColumnEntry, data_dictionary, entity_types

SCOPES = ("units", "entities")
# "Miejsce wśród powiatów" / "wśród gmin": the units of the level a place is counted among.
UNITS_GENITIVE = {"powiat": "powiatów", "gmina": "gmin"}
WHOLE_KINDS = ("int", "year")
NUMBER_KINDS = ("int", "year", "decimal", "percent", "points", "ratio")
# A trailing unit of an indicator's label ("… (%)"): not the unit of its place or relation.
_UNIT = re.compile(r"\s*\((%|osoby|km²|pkt proc\.)\)$")
PARTS = {"rank_{indicator}": "rank", "rank_{indicator}_max": "rank_max", "ratio_{indicator}": "ratio"}


@dataclass(frozen=True)
class Column:
    """A column as the dictionary describes it (patterns filled in for this name and level)."""
    name: str
    label: str
    kind: str
    decimals: int | None
    group: str
    values: str
    definition: str
    source: str
    indicator: str | None = None   # for a place or a relation: the indicator it is of
    part: str = "value"            # value, rank, rank_max or ratio


def _pattern(column: str) -> re.Pattern:
    escaped = re.escape(column).replace(r"\{type\}", r"(?P<type>[a-z_]+)")
    return re.compile(escaped.replace(r"\{indicator\}", r"(?P<indicator>[a-z0-9_]+?)"))


@lru_cache(maxsize=None)
def _index() -> tuple[dict[tuple[str, str], ColumnEntry], list[tuple[re.Pattern, ColumnEntry]]]:
    exact, patterns = {}, []
    for entry in data_dictionary():
        if "{" in entry.column:
            patterns.append((_pattern(entry.column), entry))
        else:
            exact[(entry.scope, entry.column)] = entry
    return exact, patterns


def _exact(name: str, scope: str) -> ColumnEntry | None:
    exact, _ = _index()
    return exact.get((scope, name)) or exact.get(("", name))


def column(name: str, scope: str = "units", level: str | None = None) -> Column | None:
    """The dictionary's description of column `name` of a `scope` table, or None when it has none."""
    entry = _exact(name, scope)
    if entry is not None:
        return _filled(entry, name, {}, level)
    _, patterns = _index()
    for regex, entry in patterns:
        if entry.scope not in ("", scope):
            continue
        m = regex.fullmatch(name)
        if not m:
            continue
        found = m.groupdict()
        if "type" in found:
            kind = entity_types().get(found["type"])
            if kind is None:
                continue
            found = {"type": kind.short_pl, "type_label": kind.label_pl}
        if "indicator" in found:
            base = _exact(found["indicator"], scope)
            if base is None:
                continue
            filled = _filled(base, found["indicator"], {}, level)
            found = {"label": bare(filled.label), "indicator": found["indicator"]}
        return _filled(entry, name, found, level)
    return None


def _filled(entry: ColumnEntry, name: str, found: dict, level: str | None) -> Column:
    words = {"units": UNITS_GENITIVE.get(level or "", "jednostek"), **found}
    return Column(name=name, label=entry.label.format(**words), kind=entry.kind, decimals=entry.decimals,
                  group=entry.group, values=entry.values, definition=entry.definition.format(**words),
                  source=entry.source, indicator=found.get("indicator"), part=PARTS.get(entry.column, "value"))


def bare(text: str) -> str:
    """A label without its trailing unit: "Stopa bezrobocia rejestrowanego (%)" → "Stopa bezrobocia
    rejestrowanego" (the place or the relation of an indicator has no unit)."""
    return _UNIT.sub("", text)


def label(name: str, scope: str = "units", level: str | None = None) -> str:
    """The Polish column name with its unit (the machine name itself for a column the dictionary lacks)."""
    found = column(name, scope, level)
    return found.label if found else name


def is_whole(name: str, scope: str = "units") -> bool:
    """A column of whole numbers (counts, headcounts, places, years): stored and shown as integers."""
    found = column(name, scope)
    return found is not None and found.kind in WHOLE_KINDS


def missing(columns, scope: str) -> list[str]:
    """The columns of a `scope` table the dictionary does not describe."""
    return [c for c in columns if column(str(c), scope) is None]


def whole_numbers(frame: pd.DataFrame, scope: str) -> pd.DataFrame:
    """`frame` with its whole-number columns (counts, headcounts, places, years) as nullable integers
    (Int64) where they are floats holding whole values — a count read back with a gap is `1548`, never
    `1548.0`. Changes `frame` in place and returns it."""
    for name in frame.columns:
        series = frame[name]
        if not pd.api.types.is_float_dtype(series.dtype) or not is_whole(str(name), scope):
            continue
        values = series.to_numpy(dtype="float64", na_value=np.nan)
        known = values[~np.isnan(values)]
        if np.array_equal(known, np.round(known)):
            frame[name] = pd.array(np.round(values), dtype="Int64")
    return frame
