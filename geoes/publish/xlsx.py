"""XLSX downloads (openpyxl): sheets for people with real Excel types, their description and their method.

A workbook is built from tables for people (geoes.publish.office: Polish headers from the data
dictionary, values in words, left-out figures empty with the reason in "Uwagi"):

* numbers are numbers: whole numbers with the format `# ##0` (years and places `0`), measures with the
  dictionary's decimals, percentages stored as fractions with a percent format (11.1 % is 0.111 shown
  "11,1%": sums, averages and charts work), identifiers (TERYT, KRS, NIP, REGON, postal codes, phones,
  ids) are text cells with the format `@`, so a leading zero is never lost; dates are dates;
* every other text is a string cell, written as a string even when it starts with `=`: it is shown,
  never run as a formula;
* the header row is bold, wrapped and frozen together with the code and name columns; the columns carry
  an autofilter and widths that fit their values and the longest word of the header;
* printed, each sheet is A4 landscape, one page wide, with the header row repeated on every page,
  grid lines and "sheet – page N of M" in the footer;
* after the data: "Opis kolumn" (each column: Polish name, sheets, definition, source, and the machine
  name the files for GIS use) and "Metoda i źródła" (what, which version, filters, attribution,
  method, completeness of the register) — the file travels with what a report must cite.

Written in openpyxl's write-only mode, so 100k entities do not build the whole workbook in memory.
"""
from __future__ import annotations

import datetime as dt
import io
import json
import math
from copy import copy
from typing import TYPE_CHECKING

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.properties import PageSetupProperties

from geoes.common.dictionary import NUMBER_KINDS, Column
from geoes.common.values import plain

if TYPE_CHECKING:  # geoes.publish.office builds the sheets and calls this writer
    from geoes.publish.office import Sheet

MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_WIDTH = 60          # characters; longer text wraps
NOTES_WIDTH = 42        # the "Uwagi" column: wrapped, so a sheet stays one page wide
MAX_NUMBER_WIDTH = 16
MIN_WIDTH = 7
WIDE_TEXT = 45          # a text column this wide or more wraps its cells
WIDTH_SAMPLE = 2000     # rows measured for the column widths
PERCENT_DIGITS = 8  # a published percentage has at most 6 decimals: as a fraction, at most 8
MAX_CELL = 32_767       # Excel's limit on the characters of one cell
LINE_HEIGHT = 15.0      # points per line of 11-pt text
MAX_HEADER_LINES = 8
MAX_ROW_LINES = 20
CHARS_PER_WIDTH = 1.15  # a column's width counts digits; a line of text holds a little more letters
COLUMNS_SHEET = "Opis kolumn"
METHOD_SHEET = "Metoda i źródła"
PAPER_A4 = "9"  # the OOXML paper size code of A4

_BOLD = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="E8ECEF")
_HEADER_BORDER = Border(bottom=Side(style="thin", color="808080"))
_HEADER_ALIGN = Alignment(wrap_text=True, vertical="top")
_WRAP = Alignment(wrap_text=True, vertical="top")
_TOP = Alignment(vertical="top")


def number_format(col: Column) -> str | None:
    if col.kind == "code":
        return "@"
    if col.kind == "year" or (col.kind == "int" and col.part in ("rank", "rank_max")):
        return "0"
    if col.kind == "int":
        return "#,##0"
    decimals = col.decimals if col.decimals is not None else 2
    tail = "." + "0" * decimals if decimals else ""
    if col.kind == "percent":
        return f"0{tail}%"
    if col.kind == "points":
        return f"+0{tail};-0{tail};0{tail}"
    if col.kind in ("decimal", "ratio"):
        return f"#,##0{tail}"
    if col.kind == "date":
        return "yyyy-mm-dd"
    return None


def _date(value):
    try:
        return dt.date.fromisoformat(str(value)[:10]) if len(str(value)) >= 10 else None
    except ValueError:
        return None


def _style(ws, fmt: str | None, alignment: Alignment | None):
    """The style of a prototype cell, copied onto each cell of a column: setting a format or an alignment
    cell by cell costs more than writing the cell (a million entity cells)."""
    cell = WriteOnlyCell(ws)
    if fmt:
        cell.number_format = fmt
    if alignment is not None:
        cell.alignment = alignment
    return cell._style


class _Writer:
    """How one column's values become cells: the value's type, its number format and alignment."""

    def __init__(self, ws, col: Column, wrap: bool, top: bool):
        self.ws, self.kind = ws, col.kind
        fmt = number_format(col)
        if col.kind in NUMBER_KINDS:
            self.style = _style(ws, fmt, _TOP if top else None)  # beside a tall wrapped cell: at the top
        elif col.kind == "date":
            self.style = _style(ws, fmt, _TOP if top else None)
        else:
            self.style = _style(ws, fmt, _WRAP if wrap else _TOP if top else None)
        self.text_style = _style(ws, None, _WRAP if wrap else _TOP if top else None)

    def __call__(self, value):
        value = plain(value)
        if value is None:
            return None
        kind = self.kind
        if kind in ("int", "year"):
            cell = WriteOnlyCell(self.ws, value=int(value))
        elif kind == "percent":
            # a percentage is stored as a fraction; rounded back so 10.884 % is 0.10884, not 0.10884000000000001
            cell = WriteOnlyCell(self.ws, value=round(float(value) / 100, PERCENT_DIGITS))
        elif kind in ("decimal", "points", "ratio"):
            cell = WriteOnlyCell(self.ws, value=float(value))
        elif kind == "date" and _date(value) is not None:
            cell = WriteOnlyCell(self.ws, value=_date(value))
        else:
            cell = WriteOnlyCell(self.ws, value=str(value)[:MAX_CELL])
            cell.data_type = "s"  # a string, even if it starts with '=': shown, never evaluated
            cell._style = copy(self.style if kind != "date" else self.text_style)
            return cell
        cell._style = copy(self.style)
        return cell


def _shown_length(value, col: Column) -> int:
    value = plain(value)
    if value is None:
        return 0
    if col.kind in ("int", "year"):
        return len(f"{int(value):,}") if col.kind == "int" else len(str(int(value)))
    if col.kind in NUMBER_KINDS:
        decimals = col.decimals if col.decimals is not None else 2
        return len(f"{float(value):,.{decimals}f}") + (1 if col.kind in ("percent", "points") else 0)
    return len(str(value))


def _width(header: str, series: pd.Series, col: Column) -> float:
    sample = series.head(WIDTH_SAMPLE)
    longest = max((_shown_length(v, col) for v in sample), default=0)
    word = max((len(w) for w in header.split()), default=0) + 2  # bold letters are wider
    numeric = col.kind in NUMBER_KINDS
    cap = MAX_NUMBER_WIDTH if numeric else NOTES_WIDTH if col.kind == "reasons" else MAX_WIDTH
    return float(min(cap, max(MIN_WIDTH, longest + 2, word + 1)))


def _lines(text, width: float) -> int:
    """How many lines `text` wraps to in a column `width` characters wide."""
    text = plain(text)
    if text is None:
        return 1
    per_line = max(1, int(width * CHARS_PER_WIDTH) - 1)
    if len(text := str(text)) <= per_line and "\n" not in text:
        return 1
    # Wrapping breaks at spaces, so a line holds a little less than `per_line`: a tenth more lines.
    return max(1, sum(max(1, math.ceil(len(part) * 1.1 / per_line)) for part in text.split("\n")))


def _print_setup(ws, title: str) -> None:
    """A4 landscape, one page wide, the header row on every page, grid lines, page numbers."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = PAPER_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.print_options.gridLines = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.75
    ws.page_margins.header = ws.page_margins.footer = 0.3
    ws.print_title_rows = "1:1"
    ws.oddFooter.center.text = "&A – strona &P z &N"
    ws.oddHeader.left.text = title.replace("&", "&&")[:200]


def _header_row(ws, headers: list[str]) -> list:
    row = []
    for name in headers:
        cell = WriteOnlyCell(ws, value=name)
        cell.data_type = "s"
        cell.font = _BOLD
        cell.fill = _HEADER_FILL
        cell.border = _HEADER_BORDER
        cell.alignment = _HEADER_ALIGN
        row.append(cell)
    return row


def _data_sheet(wb: Workbook, sheet: Sheet, title: str) -> None:
    ws = wb.create_sheet(sheet.title[:31])
    frame = sheet.frame
    headers = [str(c) for c in frame.columns]
    widths = [_width(h, frame[h], c) for h, c in zip(headers, sheet.columns)]
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    lines = max((_lines(h, w) for h, w in zip(headers, widths)), default=1)
    ws.row_dimensions[1].height = LINE_HEIGHT * min(MAX_HEADER_LINES, lines + 1)  # bold letters are wider
    ws.freeze_panes = "C2" if len(headers) > 2 else "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(max(1, len(headers)))}{len(frame) + 1}"
    _print_setup(ws, title)
    ws.append(_header_row(ws, headers))
    wraps = [c.kind == "reasons" or (c.kind not in NUMBER_KINDS and w >= WIDE_TEXT)
             for c, w in zip(sheet.columns, widths)]
    wrapped = [(i, widths[i]) for i, w in enumerate(wraps) if w]
    writers = [_Writer(ws, c, w, bool(wrapped)) for c, w in zip(sheet.columns, wraps)]
    for number, row in enumerate(frame.itertuples(index=False, name=None), start=2):
        if wrapped:
            # Rows are not re-measured when a file is opened or printed: a wrapped cell needs its height.
            lines = max(_lines(row[i], width) for i, width in wrapped)
            if lines > 1:
                ws.row_dimensions[number].height = LINE_HEIGHT * min(MAX_ROW_LINES, lines)
        ws.append([write(v) for write, v in zip(writers, row)])


def _text_sheet(wb: Workbook, name: str, title: str, headers: list[str], rows: list[list], widths: list[float]) -> None:
    ws = wb.create_sheet(name)
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = "A2"
    _print_setup(ws, title)
    ws.append(_header_row(ws, headers))
    for number, values in enumerate(rows, start=2):
        lines = max((_lines(v, w) for v, w in zip(values, widths)), default=1)
        if lines > 1:
            ws.row_dimensions[number].height = LINE_HEIGHT * min(MAX_ROW_LINES, lines)
        cells = []
        for i, value in enumerate(values):
            cell = WriteOnlyCell(ws, value="" if value is None else str(value)[:MAX_CELL])
            cell.data_type = "s"
            cell.alignment = _WRAP
            if i == 0:
                cell.font = _BOLD
            cells.append(cell)
        ws.append(cells)


def _columns_rows(sheets: list[Sheet]) -> list[list]:
    """One row per column of the data sheets: Polish name, sheets, definition, source, machine name."""
    seen: dict[str, list] = {}
    for sheet in sheets:
        for header, col in zip(sheet.frame.columns, sheet.columns):
            if header in seen:
                seen[header][1].append(sheet.title)
                continue
            seen[header] = [header, [sheet.title], col.definition, col.source, col.name]
    return [[h, ", ".join(s), d, src, name] for h, s, d, src, name in seen.values()]


def _about_value(value) -> str:
    if isinstance(value, dict):
        return "; ".join(f"{k}: {', '.join(map(str, v)) if isinstance(v, list) else v}" for k, v in value.items())
    if isinstance(value, list):
        return json.dumps(value, ensure_ascii=False)
    return "" if value is None else str(value)


def to_xlsx(sheets: list[Sheet], about: list[tuple[str, object]], title: str = "geoes") -> bytes:
    """The workbook bytes: the data `sheets`, then "Opis kolumn" and "Metoda i źródła" (`about`: rows of
    (key, value)); `title` heads every printed page."""
    wb = Workbook(write_only=True)
    for sheet in sheets:
        _data_sheet(wb, sheet, title)
    _text_sheet(wb, COLUMNS_SHEET, title, ["Kolumna", "Arkusz", "Znaczenie", "Źródło",
                                            "Nazwa w plikach dla GIS"],
                _columns_rows(sheets), [40, 22, 70, 34, 26])
    _text_sheet(wb, METHOD_SHEET, title, ["Co", "Opis"], [[k, _about_value(v)] for k, v in about], [30, 110])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


