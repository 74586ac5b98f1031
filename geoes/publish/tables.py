"""Layers and indicator tables as flat tables for GIS tools and spreadsheets: the two CSV dialects.

* `flat_table(frame, office=False)` — a published layer as a table: points get `lon`/`lat` columns,
  polygons a `wkt` column (GIS) or none at all (`office=True`: a spreadsheet cell holds at most 32,767
  characters, a gmina outline does not fit; the GeoPackage carries it).
* `with_voivodeship(table, record)` — an indicator table with the voivodeship's row appended, whole-number
  columns kept whole (a rank is `5`, never `5.0`, although the voivodeship has no rank).
* `to_csv(table, dialect)` — the bytes of a CSV in one of two dialects:

  - `gis` (the default): comma, decimal point, UTF-8 with BOM, CRLF — what GDAL, QGIS and pandas read;
  - `excel-pl`: what Excel (and LibreOffice Calc) with Polish regional settings opens by double-click —
    semicolon, decimal comma, UTF-8 with BOM, CRLF; identifiers (TERYT, KRS, NIP, REGON, postal codes,
    phones) written as `="0260101"`, the text formula both programs read as text, so no leading zero is
    lost and no code turns into a number or a date; so is any other text that a spreadsheet would take
    for a number or a date (an `as_of` of "08.07.2022" or "2022" stays the text it is); booleans as
    `tak`/`nie`. Numbers are numbers, with the decimal comma.

  In both, a text cell starting with = + - @ (or a tab or CR) is prefixed with an apostrophe
  (geoes.common.excel.neutralise_cell): no entity text runs as a formula. The `="…"` wrapper is the
  only formula written, and only around values made of digits, spaces and . , : / - (never a quote).
* `csvt_line(table)` — the GDAL/QGIS `.csvt` sidecar of a `gis` CSV (column types), so QGIS's
  delimited-text reader keeps identifiers as text instead of guessing integers.
"""
from __future__ import annotations

import csv
import io
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoes.common.excel import BOM, neutralise_cell

DIALECTS = ("gis", "excel-pl")
COORDINATE_DECIMALS = 6

# Codes that look like numbers but are not: they keep their leading zeros and are never summed.
CODE_COLUMNS = ("id", "teryt", "krs", "nip", "regon", "operator_krs", "operator_nip", "postal_code", "phone",
                "gmina_teryt", "powiat_teryt", "gmina_teryt_computed", "powiat_teryt_computed")
_SAFE_CODE = re.compile(r"[0-9][0-9 \-]*")
# Text a spreadsheet would read as a number or a date: digits with separators only.
_GUESSABLE = re.compile(r"[0-9][0-9 .,:/\-]*")


def is_code_column(name: str) -> bool:
    return name in CODE_COLUMNS or name.endswith("_teryt") or name.endswith("_teryt_computed")


def is_integer_column(series: pd.Series) -> bool:
    return pd.api.types.is_integer_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype)


INT32_MAX = 2**31 - 1


def integer_dtype(series: pd.Series) -> str:
    """"Int32" when every value fits (GeoPackage/QGIS Integer), else "Int64" (Integer64)."""
    values = series.dropna()
    if len(values) == 0 or (int(values.min()) >= -INT32_MAX and int(values.max()) <= INT32_MAX):
        return "Int32"
    return "Int64"


def flat_table(frame: gpd.GeoDataFrame, office: bool = False) -> pd.DataFrame:
    """A published layer (geoes.publish.serialise.published) as a table: lon/lat for points, WKT for
    polygons (left out for spreadsheets)."""
    geom_col = frame.geometry.name
    table = pd.DataFrame(frame.drop(columns=geom_col)).copy()
    geoms = frame.geometry.to_numpy()
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    types = set(shapely.get_type_id(geoms[present]).tolist())
    if types <= {0}:  # points (or no geometry at all); existing lon/lat columns keep their place
        lon, lat = np.full(len(geoms), np.nan), np.full(len(geoms), np.nan)
        lon[present], lat[present] = shapely.get_x(geoms[present]), shapely.get_y(geoms[present])
        table["lon"], table["lat"] = np.round(lon, COORDINATE_DECIMALS), np.round(lat, COORDINATE_DECIMALS)
    elif not office:
        wkt = shapely.to_wkt(geoms, rounding_precision=COORDINATE_DECIMALS, trim=True)
        table["wkt"] = pd.Series(wkt, index=table.index, dtype=object).where(present, None)
    return table


def with_voivodeship(table: pd.DataFrame, record: dict) -> pd.DataFrame:
    """`table` with the voivodeship's row appended; integer columns stay integers (nullable)."""
    row = pd.DataFrame([{c: record.get(c) for c in table.columns}])
    full = pd.concat([table, row], ignore_index=True)
    for col in table.columns:
        if is_integer_column(table[col]):
            full[col] = pd.array(full[col].tolist(), dtype="Int64")
        elif pd.api.types.is_float_dtype(table[col].dtype):
            # The voivodeship has no place or relation: its None must not turn a column of numbers to text.
            full[col] = pd.to_numeric(full[col], errors="coerce").astype("float64")
    return full


def _excel_code(value):
    if isinstance(value, str) and _SAFE_CODE.fullmatch(value):
        return f'="{value}"'
    return neutralise_cell(value)


def _excel_text(value):
    if isinstance(value, str) and _GUESSABLE.fullmatch(value):
        return f'="{value}"'
    return neutralise_cell(value)


def _excel_pl_table(table: pd.DataFrame, codes: set[str] | None = None) -> pd.DataFrame:
    out = table.copy()
    for col in out.columns:
        series = out[col]
        if (col in codes) if codes is not None else is_code_column(col):
            out[col] = series.astype(object).where(series.notna(), None).map(_excel_code)
        elif pd.api.types.is_bool_dtype(series.dtype):
            out[col] = series.astype(object).map(lambda v: None if pd.isna(v) else ("tak" if v else "nie"))
        elif is_integer_column(series) or pd.api.types.is_float_dtype(series.dtype):
            continue
        else:
            out[col] = series.astype(object).where(series.notna(), None).map(_excel_text)
    return out


def _gis_table(table: pd.DataFrame) -> pd.DataFrame:
    out = table.copy()
    for col in out.columns:
        series = out[col]
        if series.dtype == object or pd.api.types.is_string_dtype(series.dtype):
            out[col] = series.astype(object).where(series.notna(), None).map(neutralise_cell)
    return out


def to_csv(table: pd.DataFrame, dialect: str = "gis", codes: set[str] | None = None) -> bytes:
    """A table as CSV bytes in `dialect` (see the module docstring). `codes` names the identifier columns
    of an `excel-pl` table (default: the machine names of CODE_COLUMNS; a table for people has Polish
    headers, geoes.publish.office)."""
    buf = io.StringIO()
    if dialect == "gis":
        _gis_table(table).to_csv(buf, index=False, lineterminator="\r\n")
    elif dialect == "excel-pl":
        _excel_pl_table(table, codes).to_csv(buf, index=False, sep=";", decimal=",", lineterminator="\r\n",
                                      quoting=csv.QUOTE_MINIMAL)
    else:
        raise ValueError(f"unknown CSV dialect {dialect!r}; dialects: {', '.join(DIALECTS)}")
    return (BOM + buf.getvalue()).encode("utf-8")


def csvt_line(table: pd.DataFrame) -> str:
    """GDAL's .csvt: one quoted type per column (String, Integer, Real), identifiers as String."""
    types = []
    for col in table.columns:
        series = table[col]
        if is_code_column(col) or not (is_integer_column(series) or pd.api.types.is_float_dtype(series.dtype)):
            types.append('"String"')
        elif is_integer_column(series):
            types.append('"Integer"' if integer_dtype(series) == "Int32" else '"Integer64"')
        else:
            types.append('"Real"')
    return ",".join(types) + "\r\n"
