"""The entity record (COLUMNS: one row per entity, as data/entities.csv keeps it), the reader of record
files and the writer.

`read_table` reads a file laid out as the record (data/entities.csv, or an export with the record's
column names or their plain Polish/English names) through the one office-file reader
(geoes.common.excel): XLSX or CSV in any encoding and delimiter Excel writes. Registers laid out as
offices keep them — other headers, combined columns, gminy by name — come in through
geoes.register.importer instead.

The record file is the project's own (written by `write_entities`, the importer, the console's publish),
not an upload: `read_table` applies no size or row limits unless a caller passes them (the upload limits
`GEOES_IMPORT_MAX_*` guard what arrives from outside — the console's uploads and `geoes import`). So a
register of any size builds. The canonical file as `write_entities` writes it (UTF-8, comma, a header of
record column names) is read by pandas' C parser — a 1M-entity register (~200 MB) in seconds and without
a Python list per row; anything else (another encoding, delimiter or layout, XLSX, a row with more cells
than the header) goes through the office reader, which gives the same frame.
"""
from __future__ import annotations

import csv
import warnings
from pathlib import Path

import pandas as pd

from geoes.common.atomic import atomic_write_text
from geoes.common.excel import ReadLimits, UnreadableFile, read_office_file  # noqa: F401 (UnreadableFile re-exported)
from geoes.common.reference import header_aliases
from geoes.common.text import fold

COLUMNS = [
    "id", "name", "types", "social_enterprise", "legal_form", "operator", "street", "postal_code",
    "locality", "gmina_teryt", "powiat_teryt", "lat", "lon", "location_precision", "geocoder", "krs", "nip", "regon",
    "operator_krs", "operator_nip", "employees", "status", "as_of", "website", "email", "phone", "description", "sources",
    "verified_at", "verified_source", "verified_evidence", "changed_at", "change_source",
    "operator_phone", "operator_email", "operator_website", "operator_address", "internal_notes",
]
REQUIRED = ("id", "name", "types")
# How precisely `lat`/`lon` place the entity; `powiat`: its place is known only to the powiat
# (`powiat_teryt`), it has no point and counts in the powiat's totals but in no gmina.
PRECISIONS = ("address", "street", "locality", "gmina", "powiat", "none")
STATUSES = ("active", "inactive", "unknown")
# Who last confirmed the entity's facts — evidence, never a claim: a match with the KRS extract or the ministry's
# list of social enterprises (RJPS), or an operator's check that records how it was made (`verified_evidence`:
# a source URL or document, or a phone call with its date and the role of the person reached). `verified_at` is
# that ISO date. A public report is a claim: accepting one records a change (`changed_at`, `change_source`).
VERIFIED_SOURCES = ("KRS", "RJPS", "operator")
# Where the last change of the facts that nobody verified came from: a public report an operator accepted.
CHANGE_SOURCES = ("zgłoszenie",)
# The contacts of the organisation that runs the unit (Caritas for its workshops): shown as the operator's,
# never as the unit's own.
OPERATOR_CONTACTS = ("operator_phone", "operator_email", "operator_website", "operator_address")
# The record's fields that leave the service (pages, downloads, OGC API, the report, JSON-LD) — an allow-list,
# so that a field added to COLUMNS stays internal until it is named here. `internal_notes` (an office
# register's "Uwagi": research notes, "do sprawdzenia") is for the operator: in the register and the console only.
PUBLISHED_COLUMNS = tuple(c for c in COLUMNS if c != "internal_notes")
INTERNAL_COLUMNS = tuple(c for c in COLUMNS if c not in PUBLISHED_COLUMNS)
SOURCES_SEPARATOR = " | "
TYPES_SEPARATOR = ";"

# The default size limit of a file imported (GEOES_IMPORT_MAX_BYTES); the record itself has none.
MAX_FILE_BYTES = ReadLimits().max_bytes
# How the record file is read: no size or row limit (the project's own file, not an upload).
RECORD_LIMITS = ReadLimits(max_bytes=None, max_unpacked=None, max_rows=None)
_UTF8_BOM = b"\xef\xbb\xbf"

_FOLDED_COLUMNS = {fold(c): c for c in COLUMNS}


def normalise_header(name: str) -> str:
    """A header → its record column when it is one or a plain alias of one; else the header folded."""
    key = fold(name)
    if key in _FOLDED_COLUMNS:
        return _FOLDED_COLUMNS[key]
    target = header_aliases().get(key, key)
    return target if target in COLUMNS else key


def read_table(path: Path | str, limits: ReadLimits | None = None) -> pd.DataFrame:
    """Read a record file into a frame of strings with record column names and a `row` column.

    `row` is the row number a person sees in Excel (header = 1). No limits apply by default (the record
    file is the project's own, not an upload); the canonical CSV takes the fast path (module docstring).
    """
    fast = _read_canonical_csv(Path(path)) if limits is None else None
    if fast is not None:
        return fast
    office = read_office_file(path, limits or RECORD_LIMITS)
    sheet = next((s for s in office.sheets if s.rows), None)
    if sheet is None:
        raise UnreadableFile(f"{path}: plik jest pusty")
    (_, header), body = sheet.rows[0], sheet.rows[1:]
    columns = [normalise_header(h) for h in header]
    if "name" not in columns:
        raise UnreadableFile(
            f"{path}: brak znanych kolumn (oczekiwano m.in. 'id', 'name'/'Nazwa', 'types'/'Typ'); "
            "rejestr w innym układzie wczytaj poleceniem `python -m geoes import`")
    width = len(columns)
    data = [(cells + [""] * width)[:width] for _, cells in body]
    frame = pd.DataFrame(data, columns=columns, dtype=object)
    frame = frame.loc[:, ~frame.columns.duplicated()]
    frame.insert(0, "row", [n for n, _ in body])
    return frame


def _canonical_header(path: Path) -> list[str] | None:
    """The header of a CSV laid out as `write_entities` writes it (UTF-8, comma, record column names,
    each once, `name` among them), or None for any other file."""
    if path.suffix.lower() != ".csv":
        return None
    try:
        with open(path, "rb") as fh:
            first = fh.readline(65536)
    except OSError:
        return None  # the office reader says what is wrong, in its words
    first = first.removeprefix(_UTF8_BOM).rstrip(b"\r\n")
    try:
        header = first.decode("utf-8").split(",")
    except UnicodeDecodeError:
        return None
    if "name" not in header or len(set(header)) != len(header) or not set(header) <= set(COLUMNS):
        return None
    return header


def _read_canonical_csv(path: Path) -> pd.DataFrame | None:
    """The canonical record CSV read by pandas' C parser, as `read_table` returns any file: text cells
    stripped, blank rows left out, `row` numbered as Excel numbers the records. None when the file is not
    canonical or does not parse as such (not UTF-8, a row wider than the header): the office reader then
    reads it and names the problem."""
    header = _canonical_header(path)
    if header is None:
        return None
    try:
        with warnings.catch_warnings():
            # A first row wider than the header loses its extra cells, as in the office reader.
            warnings.simplefilter("ignore", pd.errors.ParserWarning)
            # Blank lines are kept as rows so that `row` counts records as Excel (and the office reader) do.
            frame = pd.read_csv(path, dtype=object, keep_default_na=False, na_filter=False, encoding="utf-8-sig",
                                skip_blank_lines=False, quoting=csv.QUOTE_MINIMAL, index_col=False, engine="c")
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError):
        return None
    if list(frame.columns) != header:
        return None
    rows = pd.RangeIndex(2, len(frame) + 2)
    for col in frame.columns:
        frame[col] = pd.Series([v.strip() for v in frame[col].fillna("").to_numpy()], index=frame.index,
                               dtype=object)
    # A blank row has an empty first cell: only those rows are looked at whole.
    first = frame.iloc[:, 0].eq("").to_numpy()
    keep = ~first
    if first.any():
        keep[first] = frame.loc[first].ne("").any(axis=1).to_numpy()
    frame.insert(0, "row", rows)
    frame = frame.loc[keep].reset_index(drop=True)
    if frame.empty:
        return None
    return frame


def write_entities(frame: pd.DataFrame, path: Path | str) -> None:
    """Write the record file: UTF-8, comma, header, the columns in their canonical order, atomically."""
    out = frame.reindex(columns=COLUMNS, fill_value="").fillna("")
    atomic_write_text(path, out.to_csv(index=False, lineterminator="\n"))
