"""Where the register lives: `data/entities.csv` (the embedded default) or, with GEOES_DATABASE_URL, the table
`register_entities` in PostgreSQL, shared by every instance.

The table has one text column per record column (geoes.register.record.COLUMNS, so a column added to the
record is added to the table by the schema runner) and `position`, the row's place in the file. Its bytes
are the record file's bytes as `record.write_entities` writes them, so a register read from either backend
compares, hashes (a staged change is bound to the register's SHA-256) and builds the same way. A write
replaces every row and the register's hash in one transaction: another instance sees the old register
or the new one, never a mix.

Tools that read a file (the build, the verification against KRS) get the stored register as a file
through `as_file`.
"""
from __future__ import annotations

import csv
import hashlib
import io
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from geoes.common import database
from geoes.common.atomic import atomic_write_bytes
from geoes.config import Settings
from geoes.register.record import COLUMNS

TABLE = "register_entities"


def _ddl() -> str:
    columns = "\n".join(f'ALTER TABLE {TABLE} ADD COLUMN IF NOT EXISTS "{c}" TEXT NOT NULL DEFAULT \'\';'
                        for c in COLUMNS)
    return (f"CREATE TABLE IF NOT EXISTS {TABLE} (position BIGINT PRIMARY KEY);\n{columns}\n"
            "CREATE TABLE IF NOT EXISTS register_state (id BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (id), "
            "sha TEXT NOT NULL, rows BIGINT NOT NULL, updated_at TIMESTAMPTZ NOT NULL DEFAULT now());")


def _connect(settings: Settings):
    conn = database.raw_connect(settings.database_url)
    database.ensure_schema(conn, settings.database_url, "register", _ddl())
    return conn


def read_bytes(settings: Settings) -> bytes:
    """The register file's bytes (b"" when there is none yet)."""
    if not settings.uses_database:
        try:
            return settings.entities_path.read_bytes()
        except FileNotFoundError:
            return b""
    with _connect(settings) as conn:
        if conn.execute("SELECT 1 FROM register_state").fetchone() is None:
            return b""
        names = ", ".join(f'"{c}"' for c in COLUMNS)   # record columns: fixed names, never user input
        with conn.cursor() as cur:
            cur.execute(f"SELECT {names} FROM {TABLE} ORDER BY position")
            return _file_bytes(cur)


def _file_bytes(rows) -> bytes:
    """The record file of these rows (record columns, in order), byte for byte as write_entities writes it."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def sha(settings: Settings) -> str:
    """SHA-256 of the register's bytes (kept beside the stored register, so reading it costs one row)."""
    if not settings.uses_database:
        return hashlib.sha256(read_bytes(settings)).hexdigest()
    with _connect(settings) as conn:
        row = conn.execute("SELECT sha FROM register_state").fetchone()
    return row[0] if row else hashlib.sha256(b"").hexdigest()


def write_bytes(settings: Settings, data: bytes) -> None:
    """Make `data` (a record file, as the console and the build write it) the register."""
    if not settings.uses_database:
        atomic_write_bytes(settings.entities_path, data)
        return
    text = data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    header, body = (rows[0], rows[1:]) if rows else (COLUMNS, [])
    index = {name: i for i, name in enumerate(header)}
    picks = [index.get(c) for c in COLUMNS]
    records = [[row[i] if i is not None and i < len(row) else "" for i in picks] for row in body]
    names = ", ".join(f'"{c}"' for c in COLUMNS)
    with _connect(settings) as conn, conn.transaction():
        conn.execute(f"DELETE FROM {TABLE}")
        with conn.cursor().copy(f"COPY {TABLE} (position, {names}) FROM STDIN") as copy:
            for position, record in enumerate(records):
                copy.write_row([position, *record])
        conn.execute("INSERT INTO register_state (id, sha, rows) VALUES (TRUE, %s, %s) ON CONFLICT (id) DO UPDATE "
                     "SET sha = EXCLUDED.sha, rows = EXCLUDED.rows, updated_at = now()",
                     (hashlib.sha256(_file_bytes(records)).hexdigest(), len(records)))


def exists(settings: Settings) -> bool:
    if not settings.uses_database:
        return settings.entities_path.exists()
    with _connect(settings) as conn:
        return conn.execute("SELECT 1 FROM register_state").fetchone() is not None


@contextmanager
def as_file(settings: Settings) -> Iterator[Path]:
    """The register as a file for tools that read one: data/entities.csv itself, or a private temporary copy
    of the stored register (removed afterwards)."""
    if not settings.uses_database:
        yield settings.entities_path
        return
    folder = Path(tempfile.mkdtemp(prefix="geoes-register-"))
    path = folder / "entities.csv"
    try:
        path.write_bytes(read_bytes(settings))
        yield path
    finally:
        if path.exists():
            os.unlink(path)
        os.rmdir(folder)
