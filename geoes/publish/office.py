"""Tables for people: a published table (machine names) turned into what an office file shows.

The XLSX downloads, the CSV for Polish Excel and the county report's tables speak Polish; files for GIS
keep the machine names (geoes.publish.tables). Everything a column becomes comes from the data
dictionary (geoes.common.dictionary):

* the header is the column's Polish name with its unit ("Stopa bezrobocia rejestrowanego (%)");
* whole numbers are integers (counts, headcounts, places, years), measures are floats, percentages stay
  in percent (11.1 means 11.1 %: the XLSX writer stores 0.111 with a percent format), codes are text;
* coded values are shown in words (types, status, location precision, "tak"/"nie" for booleans);
* a left-out figure is an empty cell; the `suppressed` reasons become the "Uwagi" column in words
  ("Zatrudnieni w podmiotach z rejestru: wartość, miejsce – za mało danych: …"), never a string in a
  numeric column;
* columns for GIS only (the WKT outline) are left out.

`people_table(table, scope, level)` gives one table (the CSV for Excel). `people_sheets(...)` splits a
unit table into sheets a page wide when printed — indicators (supply), registered unemployment, entities
by type, places and relations, each with the unit's code and name and its own "Uwagi" — and returns
the columns that describe the whole file (the completeness statement, the year and source of the need
figures) apart, for the XLSX's "Metoda i źródła" sheet. An entity table is one sheet.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from geoes.common import dictionary
from geoes.common.dictionary import Column
from geoes.common.labels import (PRECISION_PL, SOCIAL_ENTERPRISE_PL, STATUS_PL, VERIFIED_SOURCE_PL,
                                 access_method_label, geocoder_label)
from geoes.common.polish import is_missing
from geoes.dataset import figures
from geoes.publish import tables, xlsx
from geoes.publish.labels import types_label

LEVEL_PL = {"powiat": "powiat", "gmina": "gmina", "wojewodztwo": "województwo"}
YES_NO = {True: "tak", False: "nie"}
# How the coded values of a column read (the dictionary's `values`).
VOCABULARIES = {
    "types": types_label,
    "status": lambda v: STATUS_PL.get(v, v),
    "precision": lambda v: PRECISION_PL.get(v, v),
    "social_enterprise": lambda v: SOCIAL_ENTERPRISE_PL.get(str(v).lower(), v),
    "verified_source": lambda v: VERIFIED_SOURCE_PL.get(v, v),
    "geocoder": geocoder_label,
    "level": lambda v: LEVEL_PL.get(v, v),
}
# The order of the groups in one table, and the sheets of a unit table: title, the groups (or, for places
# and relations, the parts) on it, and the parts its "Uwagi" speak of.
GROUP_ORDER = ("id", "value", "need", "type", "rank", "note", "meta")
UNIT_SHEETS = (
    ("Wskaźniki", ("value",), ("value",)),
    ("Bezrobocie", ("need",), ("value",)),
    ("Podmioty według typu", ("type",), ()),
    ("Miejsca wśród {units}", ("rank", "rank_max"), ("rank",)),
    ("Relacje do województwa", ("ratio",), ("ratio",)),
)
PART_WORDS = {"value": "wartość", "rank": "miejsce", "ratio": "relacja do województwa"}


@dataclass
class Sheet:
    """One sheet (or the CSV): `frame` has the Polish headers; `columns` describe its columns in order."""
    title: str
    frame: pd.DataFrame
    columns: list[Column]


def _describe(table: pd.DataFrame, scope: str, level: str | None) -> list[Column]:
    cols = []
    for name in table.columns:
        found = dictionary.column(str(name), scope, level)
        if found is None:
            # Never lose a column the dictionary does not know yet: shown under its machine name.
            found = Column(str(name), str(name), "text", None, "value", "", "", "")
        if found.group != "geometry":
            cols.append(found)
    return cols


def _ordered(cols: list[Column]) -> list[Column]:
    """Groups in GROUP_ORDER; places and relations next to each other, indicator by indicator."""
    by_group = {g: [c for c in cols if c.group == g] for g in GROUP_ORDER}
    indicators = list(dict.fromkeys(c.indicator for c in by_group["rank"]))
    by_group["rank"] = sorted(by_group["rank"], key=lambda c: (indicators.index(c.indicator),
                                                               ("rank", "rank_max", "ratio").index(c.part)))
    return [c for g in GROUP_ORDER for c in by_group[g]]


def _whole(series: pd.Series) -> pd.Series:
    values = pd.to_numeric(series, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    return pd.Series(pd.array(np.round(values), dtype="Int64"), index=series.index)


def _values(series: pd.Series, col: Column) -> pd.Series:
    """A column's values as people get them: numbers as numbers, codes as text, coded values in words."""
    if col.kind in dictionary.WHOLE_KINDS:
        return _whole(series)
    if col.kind in dictionary.NUMBER_KINDS:
        return pd.to_numeric(series, errors="coerce").astype("float64")
    if col.kind == "bool":
        return series.map(lambda v: None if is_missing(v) else YES_NO.get(bool(v)))
    out = pd.Series([None if is_missing(v) or v == "" else v for v in series.tolist()], index=series.index,
                    dtype=object)
    if col.values in VOCABULARIES:
        words = VOCABULARIES[col.values]
        out = out.map(lambda v: None if v is None else words(v))
    if col.kind == "code":
        out = out.map(lambda v: None if v is None else str(v))
    return out


def _reasons(raw) -> dict[str, str]:
    """{field: reason in words} from a row's `suppressed`: a map of codes or words, its JSON, or the text
    "field: reason; …" of an indicator table with text reasons."""
    if isinstance(raw, str) and raw and not raw.startswith("{"):
        return dict(item.partition(": ")[::2] for item in raw.split("; ") if ": " in item)
    return figures.reasons_text({"suppressed": raw})


def notes_text(raw, scope: str, level: str | None, parts=("value", "rank", "ratio"),
               shown: set[str] | None = None) -> str | None:
    """The "Uwagi" of a row: which figures are left out and why, grouped by reason, e.g.
    "Zatrudnieni w podmiotach z rejestru: wartość, miejsce – za mało danych: …". Only the `parts`
    (value, rank, ratio) of the indicators in `shown` (all when None)."""
    grouped: dict[str, dict[str, list[str]]] = {}
    for field, reason in _reasons(raw).items():
        col = dictionary.column(field, scope, level)
        base = (col.indicator if col and col.indicator else field)
        part = col.part if col else "value"
        if part not in parts or (shown is not None and base not in shown and field not in shown):
            continue
        base_col = dictionary.column(base, scope, level)
        name = dictionary.bare(base_col.label) if base_col else base
        grouped.setdefault(reason, {}).setdefault(name, []).append(PART_WORDS[part])
    if not grouped:
        return None
    many_parts = len(parts) > 1
    sentences = []
    for reason, items in grouped.items():
        names = "; ".join(f"{n}: {', '.join(p)}" if many_parts else n for n, p in items.items())
        sentences.append(f"{names} – {reason}.")
    return " ".join(sentences)


def _frame(table: pd.DataFrame, cols: list[Column], scope: str, level: str | None, note_parts=None,
           shown: set[str] | None = None) -> pd.DataFrame:
    table = table.reset_index(drop=True)
    data = {}
    for col in cols:
        if col.kind == "reasons":
            parts = note_parts or ("value", "rank", "ratio")
            data[col.label] = pd.Series([notes_text(v, scope, level, parts, shown) for v in table[col.name]],
                                        dtype=object)
        else:
            data[col.label] = _values(table[col.name], col)
    return pd.DataFrame(data, index=table.index)


def _unique_labels(cols: list[Column]) -> list[Column]:
    seen: dict[str, int] = {}
    out = []
    for c in cols:
        if c.label in seen:  # two machine columns, one Polish name: keep both, told apart
            c = replace(c, label=f"{c.label} ({c.name})")
        seen[c.label] = 1
        out.append(c)
    return out


def _sheet_part(col: Column) -> str:
    """Which unit sheet a column belongs on: its group (value, need, type) or, for places and relations,
    its part (rank, rank_max, ratio)."""
    return col.part if col.group == "rank" else col.group


def people_table(table: pd.DataFrame, scope: str, level: str | None = None) -> Sheet:
    """The whole table for people (the CSV for Excel): Polish headers, values in words, "Uwagi"."""
    cols = _unique_labels(_ordered(_describe(table, scope, level)))
    return Sheet("", _frame(table, cols, scope, level), cols)


def people_sheets(table: pd.DataFrame, scope: str, level: str | None = None,
                  entity_title: str = "Podmioty") -> tuple[list[Sheet], list[tuple[Column, object]]]:
    """Sheets of a table for the XLSX (see the module docstring) and the file-wide columns (meta) with
    their value."""
    cols = _unique_labels(_ordered(_describe(table, scope, level)))
    meta = [(c, next((v for v in table[c.name] if not is_missing(v)), None)) for c in cols if c.group == "meta"]
    if scope == "entities":
        body = [c for c in cols if c.group != "meta"]
        return [Sheet(entity_title, _frame(table, body, scope, level), body)], meta
    ids = [c for c in cols if c.group == "id"]
    notes = [c for c in cols if c.group == "note"]
    sheets = []
    for title, parts, note_parts in UNIT_SHEETS:
        body = [c for c in cols if c.group not in ("id", "note", "meta") and _sheet_part(c) in parts]
        if not body:
            continue
        shown = {c.indicator or c.name for c in body}
        sheet_cols = ids + body + (notes if note_parts else [])
        units = dictionary.UNITS_GENITIVE.get(level or "", "jednostek")
        sheets.append(Sheet(title.format(units=units), _frame(table, sheet_cols, scope, level, note_parts, shown),
                            sheet_cols))
    return sheets, [(c, v) for c, v in meta]


# The table of each published layer: its scope in the data dictionary and the level its places are among.
LAYER_SCOPES = {"entities": ("entities", None), "gminy": ("units", "gmina"), "powiaty": ("units", "powiat")}


def code_headers(sheet: Sheet) -> set[str]:
    return {c.label for c in sheet.columns if c.kind == "code"}


def csv_for_excel(table: pd.DataFrame, scope: str, level: str | None = None) -> bytes:
    """The CSV for Polish Excel (geoes.publish.tables, `excel-pl`) of a table for people."""
    sheet = people_table(table, scope, level)
    return tables.to_csv(sheet.frame, "excel-pl", codes=code_headers(sheet))


def workbook(table: pd.DataFrame, scope: str, level: str | None, about: list[tuple[str, object]],
             title: str, entity_title: str = "Podmioty") -> bytes:
    """The XLSX of a table for people: its sheets, "Opis kolumn", and "Metoda i źródła" (`about`, then the
    columns that describe the whole file, e.g. the completeness of the register)."""
    sheets, meta = people_sheets(table, scope, level, entity_title)
    told = {key for key, _ in about}
    return xlsx.to_xlsx(sheets, about + [(c.label, v) for c, v in meta if c.label not in told], title)


def method_rows(method: dict) -> list[tuple[str, str]]:
    """The build's method (indicators.json `method`) as (topic, sentence) rows for people."""
    rows = []
    if method.get("register"):
        rows.append(("Rejestr", method["register"][:1].upper() + method["register"][1:]))
    if method.get("active_statuses"):
        statuses = ", ".join(STATUS_PL.get(s, s) for s in method["active_statuses"])
        rows.append(("Liczone podmioty", f"O statusie: {statuses}; z punktem na mapie (w gminie według "
                                         "współrzędnych) albo znane tylko z dokładnością do powiatu (w sumach "
                                         "powiatu i województwa, w żadnej gminie)."))
    for key, topic in (("population", "Ludność"), ("area", "Powierzchnia")):
        if method.get(key):
            rows.append((topic, method[key]))
    if method.get("access_radius_m"):
        km = int(method["access_radius_m"]) // 1000
        rows.append((f"Zasięg {km} km", f"Odsetek powierzchni jednostki w promieniu {km} km (w linii prostej) od "
                                        f"podmiotu z rejestru, liczony w układzie {method.get('crs_metric', '')} "
                                        f"(metoda: {access_method_label(method.get('access_method'))})."))
    rows.append(("Miejsca i relacje", "Miejsce wśród jednostek tego samego poziomu, które mają wartość (1 = "
                                      "najwyższa; przy remisie pierwsze i ostatnie miejsce przedziału). Relacja do "
                                      "województwa: wartość jednostki podzielona przez wartość dla województwa."))
    rows.append(("Zasady małych liczb", "Bez miejsca, relacji i wartości zbudowanych na zerze lub na nieznanej "
                                        "podstawie; wskaźniki zatrudnienia tylko przy znanym zatrudnieniu co "
                                        f"najmniej {figures.MIN_EMPLOYEES_KNOWN_PCT:.0f} % podmiotów; miejsce tylko "
                                        f"wśród co najmniej {figures.MIN_RANKED_UNITS} jednostek z wartością; "
                                        "jednostka bez podmiotu w rejestrze nie dostaje miejsca ani relacji. "
                                        "Pominięta wartość to pusta komórka, a powód podaje kolumna „Uwagi”."))
    verified = method.get("verified") or {}
    if verified:
        rows.append(("Weryfikacja", f"Podmioty zweryfikowane od {verified.get('since', '')} "
                                    f"({verified.get('months', '')} miesięcy przed zbudowaniem danych); odsetek "
                                    f"podawany przy co najmniej {verified.get('min_for_share', '')} "
                                    "zweryfikowanych."))
    needs = method.get("needs") or {}
    if needs:
        rows.append(("Bezrobocie", f"{needs['unemployed_source']}; {needs['rate_source']}; stan na 31 grudnia "
                                   f"{needs['year']} r., zmiana od {needs['base_year']} r."))
    if method.get("completeness"):
        rows.append(("Kompletność rejestru", method["completeness"]))
    return rows
