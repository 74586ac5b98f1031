"""XLSX downloads (openpyxl): one data sheet with real Excel types, and a sheet saying where it comes from.

* Numbers are numbers (whole numbers with the format `0`), booleans are Excel booleans, missing values
  are empty cells; identifiers (TERYT, KRS, NIP, REGON, postal codes, phones, ids) are text cells with
  the text format `@`, so a leading zero is never lost and Excel does not offer to "convert to number".
* Every other text is a string cell, written as a string even when it starts with `=`: it is shown,
  never run as a formula (no apostrophe is needed, the value stays as the register has it).
* The header row is bold and frozen, the columns carry an autofilter, widths follow the longest value
  (bounded) so the sheet reads without resizing.
* The second sheet, `Informacje`, holds attribution, method, dataset version and filters as rows of
  (key, value): the file travels with what a report must cite.

Written in openpyxl's write-only mode, so 100k entities do not build the whole workbook in memory.
"""
from __future__ import annotations

import io
import json

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from geoes.common.values import plain
from geoes.publish.tables import is_code_column, is_integer_column

MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_WIDTH = 60
MIN_WIDTH = 6
WIDTH_SAMPLE = 2000  # rows measured for the column widths
MAX_CELL = 32_767  # Excel's limit on the characters of one cell


def _kind(series: pd.Series, name: str) -> str:
    if is_code_column(name):
        return "code"
    if pd.api.types.is_bool_dtype(series.dtype):
        return "bool"
    if is_integer_column(series):
        return "int"
    if pd.api.types.is_float_dtype(series.dtype):
        return "float"
    return "text"


def _width(name: str, series: pd.Series) -> float:
    sample = series.head(WIDTH_SAMPLE).dropna()
    longest = int(sample.astype(str).str.len().max()) if len(sample) else 0
    return float(min(MAX_WIDTH, max(MIN_WIDTH, len(name), longest) + 2))


def _cell(ws, value, kind: str):
    value = plain(value)
    if value is None:
        return None
    if kind == "code":
        cell = WriteOnlyCell(ws, value=str(value))
        cell.data_type = "s"
        cell.number_format = "@"
        return cell
    if kind == "int":
        cell = WriteOnlyCell(ws, value=int(value))
        cell.number_format = "0"
        return cell
    if kind in ("float", "bool"):
        return WriteOnlyCell(ws, value=value)
    text = str(value)[:MAX_CELL]
    cell = WriteOnlyCell(ws, value=text)
    cell.data_type = "s"  # a string, even if it starts with '=': shown, never evaluated
    return cell


def _data_sheet(wb: Workbook, table: pd.DataFrame, title: str) -> None:
    ws = wb.create_sheet(title[:31])
    columns = [str(c) for c in table.columns]
    kinds = [_kind(table[c], c) for c in table.columns]
    for i, col in enumerate(table.columns, start=1):
        ws.column_dimensions[get_column_letter(i)].width = _width(str(col), table[col])
    ws.freeze_panes = "A2"
    last = get_column_letter(max(1, len(columns)))
    ws.auto_filter.ref = f"A1:{last}{len(table) + 1}"
    bold = Font(bold=True)
    header = []
    for name in columns:
        cell = WriteOnlyCell(ws, value=name)
        cell.data_type = "s"
        cell.font = bold
        header.append(cell)
    ws.append(header)
    for row in table.itertuples(index=False, name=None):
        ws.append([_cell(ws, v, k) for v, k in zip(row, kinds)])


def _about_sheet(wb: Workbook, about: list[tuple[str, object]]) -> None:
    ws = wb.create_sheet("Informacje")
    ws.column_dimensions["A"].width = 28
    ws.column_dimensions["B"].width = 110
    wrap = Alignment(wrap_text=True, vertical="top")
    for key, value in about:
        if isinstance(value, (dict, list)):
            value = json.dumps(value, ensure_ascii=False)
        k = WriteOnlyCell(ws, value=str(key))
        k.font = Font(bold=True)
        k.data_type = "s"
        v = WriteOnlyCell(ws, value="" if value is None else str(value)[:MAX_CELL])
        v.data_type = "s"
        v.alignment = wrap
        ws.append([k, v])


def to_xlsx(table: pd.DataFrame, sheet: str, about: list[tuple[str, object]]) -> bytes:
    """The workbook bytes: `table` on sheet `sheet`, `about` (key, value) rows on sheet `Informacje`."""
    wb = Workbook(write_only=True)
    _data_sheet(wb, table, sheet)
    _about_sheet(wb, about)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
