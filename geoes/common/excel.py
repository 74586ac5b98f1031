"""What Excel reads and writes: CSV files an operator opens in a spreadsheet.

Excel guesses a CSV's encoding from a byte-order mark: without one it reads UTF-8 as the Windows code
page and garbles Polish letters. And it runs a cell that starts with = + - @ (or a tab or carriage
return) as a formula, so text that came from outside — an entity's name, a raw input value — must be
neutralised before it goes into a file a person may open (CSV or formula injection).

* `neutralise_cell(value)` / `neutralise_frame(frame)` — prefix such text with an apostrophe, which
  Excel shows as text ('+48 41 … stays a phone number, not a formula).
* `csv_bytes(frame)` — the bytes of a CSV for Excel: UTF-8 with BOM, comma-separated, CRLF line ends,
  header row, no index, every text cell neutralised.
* `write_rejects(frame, path)` — THE writer of files of rows with reasons (the build's `rejects.csv`,
  `geoes validate --rejects`, the importer's rejects, `geoes geocode --report`): `csv_bytes(frame)`
  written atomically, so a reader sees the old file or the new one. `frame` is written as it stands
  (its columns in their order, typically row, column, reason and the raw values); `path` is a
  `pathlib.Path` or a string; the parent directory is created if missing.
"""
from __future__ import annotations

import io
from pathlib import Path

import pandas as pd

from geoes.common.atomic import atomic_write_bytes

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"


def neutralise_cell(value):
    """Keep spreadsheet programs from executing a cell (CSV/formula injection); a '+48' phone too."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text cells cannot run as spreadsheet formulas (for every CSV a person may open)."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(neutralise_cell)
    return out


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """A table as CSV for Excel: UTF-8 with BOM, comma, CRLF, formula cells neutralised."""
    buf = io.StringIO()
    neutralise_frame(frame).to_csv(buf, index=False, lineterminator="\r\n")
    return (BOM + buf.getvalue()).encode("utf-8")


def write_rejects(frame: pd.DataFrame, path: Path | str) -> Path:
    """Write rows with reasons (rejected or not placed) for Excel, atomically; returns the path."""
    atomic_write_bytes(path, csv_bytes(frame))
    return Path(path)
