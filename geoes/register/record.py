"""The entity record (COLUMNS: one row per entity, as data/entities.csv keeps it), the reader of record
files and the writer.

`read_table` reads a file laid out as the record (data/entities.csv, or an export with the record's
column names or their plain Polish/English names) through the one office-file reader
(geoes.common.excel): XLSX or CSV in any encoding and delimiter Excel writes. Registers laid out as
offices keep them — other headers, combined columns, gminy by name — come in through
geoes.register.importer instead.
"""
from __future__ import annotations

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

# The default size limit of a file read as a record or imported (GEOES_IMPORT_MAX_BYTES).
MAX_FILE_BYTES = ReadLimits().max_bytes

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

    `row` is the row number a person sees in Excel (header = 1). Only the byte limits apply by default:
    the record file is the project's own, not an upload.
    """
    limits = limits or ReadLimits(max_rows=None)
    office = read_office_file(path, limits)
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


def write_entities(frame: pd.DataFrame, path: Path | str) -> None:
    """Write the record file: UTF-8, comma, header, the columns in their canonical order, atomically."""
    out = frame.reindex(columns=COLUMNS, fill_value="").fillna("")
    atomic_write_text(path, out.to_csv(index=False, lineterminator="\n"))
