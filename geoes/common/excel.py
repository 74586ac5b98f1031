"""What office spreadsheets read and write: the one reader of register files and the one rejects writer.

Reading (`read_office_file`) takes a file as Polish offices export it and returns its sheets as rows of
cell texts, numbered as Excel numbers them (row 1 = the first line), before any header is looked for:

* XLSX (and XLSM): every sheet, cached values of formulas (what the person saw in Excel), numbers as
  plain text (no `.0`), dates as ISO. Before openpyxl opens it, the ZIP directory is checked: the
  members' uncompressed sizes together must stay within `ReadLimits.max_unpacked` (a few-kB "ZIP bomb"
  inflating to hundreds of MB is refused; Python's zipfile never inflates a member past its declared
  size, so the declared sizes bound what is read), and it must be a workbook (`xl/workbook.xml`). Its
  shared strings are counted in the raw XML before openpyxl builds them: more than
  `SHARED_STRINGS_PER_ROW` per allowed row (millions of one-letter strings in a few hundred kB) is refused.
* CSV: UTF-8 with or without BOM, UTF-16 with BOM (Excel's "Unicode text"), else Windows-1250; the
  delimiter `;`, `,` or tab chosen by which splits the first lines into a consistent number of
  cells (`sniff_delimiter`, the one sniffer); CRLF or LF; quoted cells may hold line breaks.
* Refused with `UnreadableFile` (a Polish message naming the file): a missing, empty or too large file
  (`max_bytes`), an old binary .xls (or a password-protected workbook, the same container), an ODS, a
  binary file named .csv or .xlsx, a file whose content is not what its name says, more data rows than
  `max_rows` (counted while reading, so a million-row CSV is refused without being held in memory).

Writing: Excel guesses a CSV's encoding from a byte-order mark: without one it reads UTF-8 as the
Windows code page and garbles Polish letters. And it runs a cell that starts with = + - @ (or a tab or
carriage return) as a formula, so text that came from outside — an entity's name, a raw input value —
must be neutralised before it goes into a file a person may open (CSV or formula injection).

* `neutralise_cell(value)` / `neutralise_frame(frame)` — prefix such text with an apostrophe, which
  Excel shows as text ('+48 41 … stays a phone number, not a formula).
* `csv_bytes(frame)` — the bytes of a CSV for Excel: UTF-8 with BOM, comma-separated, CRLF line ends,
  header row, no index, every text cell neutralised (also what the console offers for download).
* `write_rejects(frame, path)` — THE writer of files of rows with reasons (the build's `rejects.csv`,
  `geoes validate --rejects`, the importer's rejects, warnings and review, `geoes geocode --report`):
  `csv_bytes(frame)` written atomically, so a reader sees the old file or the new one. `frame` is
  written as it stands (its columns in their order, typically row, column, reason and the raw values);
  `path` is a `pathlib.Path` or a string; the parent directory is created if missing.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from openpyxl import load_workbook

from geoes.common.atomic import atomic_write_bytes
from geoes.config import APP_SETTINGS
from geoes.errors import InvalidInput

XLSX_SUFFIXES = (".xlsx", ".xlsm")
TEXT_SUFFIXES = (".csv", ".txt", ".tsv")
DELIMITERS = (";", "\t", ",")            # ties go to the first: Polish Excel writes ";"
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")   # OWASP's list for CSV injection
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = b"PK\x03\x04"
_SNIFF_LINES = 50


class UnreadableFile(InvalidInput):
    """The file cannot be read as a table at all (exit code 2; HTTP 400 in the console)."""


@dataclass(frozen=True)
class ReadLimits:
    """How much of a register file is read. Defaults are those of geoes.config.SETTINGS; None: no limit
    (the project's own record file, geoes.register.record)."""
    max_bytes: int | None = APP_SETTINGS["import_max_bytes"].default
    max_unpacked: int | None = APP_SETTINGS["import_max_unpacked"].default
    max_rows: int | None = APP_SETTINGS["import_max_rows"].default

    @classmethod
    def from_settings(cls, settings, rows: bool = True) -> "ReadLimits":
        return cls(settings.import_max_bytes, settings.import_max_unpacked,
                   settings.import_max_rows if rows else None)


@dataclass
class Sheet:
    name: str                                   # the sheet's name; "" for a CSV
    rows: list[tuple[int, list[str]]]           # (row number as Excel shows it, cell texts), blank rows left out


@dataclass
class OfficeFile:
    path: Path
    kind: str                                   # "xlsx" or "csv"
    sheets: list[Sheet]
    encoding: str = ""                          # CSV only
    delimiter: str = ""                         # CSV only
    notes: list[str] = field(default_factory=list)


def cell_text(value) -> str:
    """A spreadsheet cell as text: integral floats without '.0', dates as ISO, None as ''."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value != value:  # NaN
            return ""
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value).strip()


# --- reading --------------------------------------------------------------------------------------

def read_office_file(path: Path | str, limits: ReadLimits | None = None, name: str | None = None) -> OfficeFile:
    """Read an XLSX or CSV register file into sheets of text rows (see the module docstring).

    `name` is how messages call the file (an upload's original name); by default its path.
    """
    path = Path(path)
    limits = limits or ReadLimits()
    label = name or str(path)
    head = _check_size(path, label, limits)
    suffix = Path(name or path.name).suffix.lower()
    kind = _kind(head, suffix, label)
    if kind == "xlsx":
        _check_zip(path, label, limits)
        return OfficeFile(path, "xlsx", _xlsx_sheets(path, label, limits))
    text, encoding = decode_text(path.read_bytes(), label)
    delimiter = sniff_delimiter(text)
    sheet = Sheet("", _csv_rows(text, delimiter, label, limits))
    return OfficeFile(path, "csv", [sheet], encoding=encoding, delimiter=delimiter)


def _check_size(path: Path, label: str, limits: ReadLimits) -> bytes:
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except IsADirectoryError:
        raise UnreadableFile(f"{label}: to katalog, nie plik") from None
    except OSError as exc:
        raise UnreadableFile(f"{label}: nie można otworzyć pliku ({exc.strerror})") from None
    if size == 0:
        raise UnreadableFile(f"{label}: plik jest pusty")
    if limits.max_bytes is not None and size > limits.max_bytes:
        raise UnreadableFile(f"{label}: plik jest za duży ({_mb(size)} MB; najwięcej {_mb(limits.max_bytes)} MB)")
    return head


def _mb(n: int) -> str:
    return f"{n / 2**20:.1f}".replace(".", ",")


def _kind(head: bytes, suffix: str, label: str) -> str:
    if suffix == ".xls" or head.startswith(_OLE2_MAGIC):
        raise UnreadableFile(f"{label}: stary format Excela (.xls) albo skoroszyt chroniony hasłem — "
                             "zapisz go w Excelu jako .xlsx (bez hasła) lub CSV")
    if suffix == ".ods":
        raise UnreadableFile(f"{label}: arkusz OpenDocument (.ods) — zapisz go jako .xlsx lub CSV")
    is_zip = head.startswith(_ZIP_MAGIC)
    if suffix in XLSX_SUFFIXES and not is_zip:
        raise UnreadableFile(f"{label}: plik ma rozszerzenie {suffix}, ale nie jest skoroszytem Excela "
                             "(uszkodzony albo to inny plik pod zmienioną nazwą)")
    if is_zip and suffix in TEXT_SUFFIXES:
        raise UnreadableFile(f"{label}: plik ma rozszerzenie {suffix}, ale jest archiwum ZIP "
                             "(skoroszyt Excela?) — nadaj mu rozszerzenie .xlsx")
    if is_zip:
        return "xlsx"
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise UnreadableFile(f"{label}: to nie jest plik tekstowy CSV (dane binarne)")
    return "csv"


def _check_zip(path: Path, label: str, limits: ReadLimits) -> None:
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise UnreadableFile(f"{label}: uszkodzony skoroszyt XLSX (nieprawidłowe archiwum ZIP)") from None
    names = {i.filename for i in infos}
    if "mimetype" in names and "xl/workbook.xml" not in names:
        raise UnreadableFile(f"{label}: arkusz OpenDocument (.ods) — zapisz go jako .xlsx lub CSV")
    if "xl/workbook.xml" not in names:
        raise UnreadableFile(f"{label}: archiwum ZIP, ale nie skoroszyt Excela (brak xl/workbook.xml)")
    unpacked = sum(i.file_size for i in infos)
    if limits.max_unpacked is not None and unpacked > limits.max_unpacked:
        raise UnreadableFile(
            f"{label}: skoroszyt po rozpakowaniu ma {_mb(unpacked)} MB (najwięcej {_mb(limits.max_unpacked)} MB) "
            "— to nie wygląda na rejestr; zapisz dane jako CSV albo podziel plik")
    if limits.max_rows is not None:
        _check_shared_strings(path, label, limits.max_rows * SHARED_STRINGS_PER_ROW)


# openpyxl builds every shared string of a workbook as a Python object before the first row is read: a
# few hundred kB of ZIP can hold millions of one-letter strings (67 s and gigabytes for 5.5 million). A
# register has at most this many distinct texts per row, so more than that is refused before openpyxl
# starts, by counting the <si> elements in the raw XML (C speed: bytes and a regular expression).
SHARED_STRINGS_PER_ROW = 10
_SI_RE = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?si[\s/>]")
_SHARED_STRINGS_TYPE = "sharedStrings+xml"
_CHUNK = 1 << 20


def _shared_string_parts(zf: zipfile.ZipFile) -> set[str]:
    """The parts the workbook declares as shared strings ([Content_Types].xml), and the usual name."""
    parts = {"xl/sharedStrings.xml"}
    try:
        types = zf.read("[Content_Types].xml")[:1 << 20].decode("utf-8", "replace")
    except KeyError:
        return parts
    for m in re.finditer(r"<(?:\w+:)?Override\b[^>]*>", types):
        tag = m.group(0)
        name = re.search(r'PartName="/?([^"]+)"', tag)
        if name and _SHARED_STRINGS_TYPE in tag:
            parts.add(name.group(1))
    return parts


def _check_shared_strings(path: Path, label: str, limit: int) -> None:
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
        counted = 0
        for part in _shared_string_parts(zf) & names:
            with zf.open(part) as fh:
                tail = b""
                while chunk := fh.read(_CHUNK):
                    buf = tail + chunk
                    edge = max(0, len(buf) - 32)       # a tag cut by the chunk's end is counted next time
                    counted += sum(1 for m in _SI_RE.finditer(buf) if m.start() < edge)
                    tail = buf[edge:]
                    if counted > limit:
                        break
                counted += len(_SI_RE.findall(tail)) if counted <= limit else 0
            if counted > limit:
                raise UnreadableFile(
                    f"{label}: skoroszyt zawiera ponad {limit:,} różnych tekstów (shared strings) — więcej, niż ma "
                    "jakikolwiek rejestr tej wielkości; zapisz dane jako CSV albo podziel plik".replace(",", " "))


def _xlsx_sheets(path: Path, label: str, limits: ReadLimits) -> list[Sheet]:
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a broken workbook
        raise UnreadableFile(f"{label}: nie można odczytać skoroszytu XLSX ({type(exc).__name__})") from None
    sheets, counted = [], 0
    try:
        for ws in wb.worksheets:
            rows = []
            for number, values in enumerate(ws.iter_rows(min_row=1, values_only=True), start=1):
                cells = [cell_text(v) for v in values]
                if not any(cells):
                    continue
                counted += 1
                _check_rows(counted, label, limits)
                rows.append((number, _trim(cells)))
            sheets.append(Sheet(ws.title, rows))
    except UnreadableFile:
        raise
    except Exception as exc:  # a damaged sheet part
        raise UnreadableFile(f"{label}: nie można odczytać skoroszytu XLSX ({type(exc).__name__})") from None
    finally:
        wb.close()
    return sheets


def _trim(cells: list[str]) -> list[str]:
    while cells and not cells[-1]:
        cells.pop()
    return cells


_ROWS_ABOVE_DATA = 20   # a title, notes and the header row above the data are not data rows


def _check_rows(counted: int, label: str, limits: ReadLimits) -> None:
    if limits.max_rows is not None and counted > limits.max_rows + _ROWS_ABOVE_DATA:
        raise UnreadableFile(f"{label}: plik ma więcej niż {limits.max_rows} wierszy danych — podziel go "
                             "na mniejsze części")


def decode_text(raw: bytes, label: str = "<bytes>") -> tuple[str, str]:
    """(text, encoding): UTF-8 (BOM or not), UTF-16 with BOM, else Windows-1250 — what Excel exports here."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            raise UnreadableFile(f"{label}: uszkodzony plik UTF-16") from None
    for encoding in ("utf-8-sig", "cp1250"):
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        return text, ("utf-8" if encoding == "utf-8-sig" else encoding)
    raise UnreadableFile(f"{label}: nieznane kodowanie znaków (oczekiwano UTF-8 lub Windows-1250)")


def sniff_delimiter(text: str) -> str:
    """The delimiter that splits the first lines into the most consistent number (> 1) of cells."""
    sample = "\n".join(text[:65536].splitlines()[:_SNIFF_LINES])
    best, best_score = ",", (0, 0)
    for delimiter in DELIMITERS:
        counts = [len(r) for r in csv.reader(io.StringIO(sample), delimiter=delimiter) if any(c.strip() for c in r)]
        if not counts:
            continue
        mode = max(set(counts), key=lambda n: (counts.count(n), n))
        score = (counts.count(mode), mode) if mode > 1 else (0, 0)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _csv_rows(text: str, delimiter: str, label: str, limits: ReadLimits) -> list[tuple[int, list[str]]]:
    rows, counted = [], 0
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        # Excel shows one row per record, whatever line breaks a quoted cell holds.
        for number, values in enumerate(reader, start=1):
            cells = [v.strip() for v in values]
            if not any(cells):
                continue
            counted += 1
            _check_rows(counted, label, limits)
            rows.append((number, _trim(cells)))
    except csv.Error as exc:
        raise UnreadableFile(f"{label}: nieprawidłowy format CSV ({exc})") from None
    if not rows:
        raise UnreadableFile(f"{label}: plik jest pusty")
    return rows


# --- writing --------------------------------------------------------------------------------------

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
