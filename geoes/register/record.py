"""The entity record (COLUMNS: one row per entity, as data/entities.csv keeps it) and a reader for files as
offices export them."""
from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd

from geoes.common.reference import header_aliases
from geoes.errors import InvalidInput

COLUMNS = [
    "id", "name", "types", "social_enterprise", "legal_form", "operator", "street", "postal_code",
    "locality", "gmina_teryt", "powiat_teryt", "lat", "lon", "location_precision", "geocoder", "krs", "nip", "regon",
    "employees", "status", "as_of", "website", "email", "phone", "description", "sources",
]
REQUIRED = ("id", "name", "types")
PRECISIONS = ("address", "street", "locality", "gmina", "none")
STATUSES = ("active", "inactive", "unknown")
SOURCES_SEPARATOR = " | "
TYPES_SEPARATOR = ";"

# Header spellings of office exports (Polish and English) → record columns, kept as a data file
# (geoes/reference/header_aliases.csv); the importer adds a mapping file for layouts it does not know.
HEADER_ALIASES = header_aliases()

MAX_FILE_BYTES = 50 * 1024 * 1024


class UnreadableFile(InvalidInput):
    """The file cannot be read as a table at all (exit code 2 of `validate`)."""


def normalise_header(name: str) -> str:
    key = name.strip().strip("\ufeff").strip().lower()
    if key in COLUMNS:
        return key
    return HEADER_ALIASES.get(key, key)


def decode_bytes(raw: bytes, path: Path | str = "<bytes>") -> str:
    """UTF-8 (with or without BOM) first, then cp1250 — the two encodings Excel exports here."""
    if b"\x00" in raw[:4096]:
        raise UnreadableFile(f"{path}: to nie jest plik tekstowy CSV (dane binarne)")
    for enc in ("utf-8-sig", "cp1250"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    raise UnreadableFile(f"{path}: nieznane kodowanie znaków (oczekiwano UTF-8 lub Windows-1250)")


def sniff_delimiter(text: str) -> str:
    first = text.split("\n", 1)[0]
    counts = {d: first.count(d) for d in (";", ",", "\t")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def check_file(path: Path | str) -> Path:
    """The file exists, is not empty and within the size limit; else UnreadableFile naming it."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise UnreadableFile(f"{path}: nie można otworzyć pliku ({exc.strerror})") from None
    if size == 0:
        raise UnreadableFile(f"{path}: plik jest pusty")
    if size > MAX_FILE_BYTES:
        raise UnreadableFile(f"{path}: plik jest za duży ({size} B > {MAX_FILE_BYTES} B)")
    return path


def read_table(path: Path | str) -> pd.DataFrame:
    """Read a CSV export into a frame of strings with record column names; row numbers kept.

    `row` is the line number a person sees in Excel (header = 1).
    """
    path = check_file(path)
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        frame = _read_xlsx(path)
    else:
        text = decode_bytes(path.read_bytes(), path)
        if not text.strip():
            raise UnreadableFile(f"{path}: plik jest pusty")
        delimiter = sniff_delimiter(text)
        try:
            rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
        except csv.Error as exc:
            raise UnreadableFile(f"{path}: nieprawidłowy format CSV ({exc})") from None
        rows = [r for r in rows if any(c.strip() for c in r)] if rows else rows
        if not rows:
            raise UnreadableFile(f"{path}: plik jest pusty")
        header, body = rows[0], rows[1:]
        width = len(header)
        body = [(r + [""] * width)[:width] for r in body]
        frame = pd.DataFrame(body, columns=header, dtype=object)
    frame.columns = [normalise_header(str(c)) for c in frame.columns]
    known = [c for c in frame.columns if c in COLUMNS]
    if "name" not in known:
        raise UnreadableFile(
            f"{path}: brak znanych kolumn (oczekiwano m.in. 'id', 'name'/'Nazwa', 'types'/'Typ')"
        )
    frame = frame.loc[:, ~frame.columns.duplicated()]
    frame = frame.fillna("").astype(str).apply(lambda s: s.str.strip())
    frame.insert(0, "row", range(2, len(frame) + 2))
    return frame


def _read_xlsx(path: Path) -> pd.DataFrame:
    try:
        frame = pd.read_excel(path, dtype=str, engine="openpyxl")
    except Exception as exc:  # openpyxl raises many types for a broken file
        raise UnreadableFile(f"{path}: nie można odczytać pliku XLSX ({type(exc).__name__})") from None
    return frame


def write_entities(frame: pd.DataFrame, path: Path | str) -> None:
    """Write the record file: UTF-8, comma, header, the columns in their canonical order."""
    from geoes.common.atomic import atomic_write_text

    out = frame.reindex(columns=COLUMNS).fillna("")
    atomic_write_text(path, out.to_csv(index=False, lineterminator="\n"))
