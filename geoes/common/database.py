"""PostgreSQL behind `GEOES_DATABASE_URL`: the connection every layer uses when the state is shared by several
instances, with the SQLite dialect the console is written in.

Why psycopg 3 and not SQLAlchemy: the console's store is plain SQL through the DB-API (sqlite3), and the
same statements run on PostgreSQL once a few SQLite idioms are translated here — so there is one set of
statements for both backends and no second query layer to keep in step. psycopg 3 also gives what the
rest needs directly: COPY for the layers of a published version, LISTEN/NOTIFY for the switch to a new
version, advisory locks for the publish lock.

`PgConnection` behaves like the `sqlite3.Connection` the console uses (autocommit, explicit transactions):

* `?` placeholders (outside quoted text) become psycopg's `%s`, a literal `%` becomes `%%`;
* `BEGIN IMMEDIATE` (SQLite: take the write lock now) becomes `BEGIN` and a transaction-level advisory
  lock, so writers queue up one after another as they do in SQLite — a check and the insert it guards
  (sign-in throttling, the report rate limit) stay one step across instances;
* `INSERT OR IGNORE` becomes `… ON CONFLICT DO NOTHING`, `INSERT OR REPLACE` an upsert on the table's
  primary key, and an INSERT into a table with an `id` column returns it (`cursor.lastrowid`);
* rows are read by column name or position (`row["login"]`, `row[0]`), like `sqlite3.Row`.

`sqlite_ddl` turns the console's SQLite schema into PostgreSQL's (`INTEGER PRIMARY KEY` → identity,
`BLOB` → `BYTEA`, `COLLATE NOCASE` → `CITEXT`…), so a table added to that schema exists in both backends.
`ensure_schema` is the small migration runner: each part of the schema (the console's, the register's,
the published versions') is applied again when its text changes — idempotent DDL, `IF NOT EXISTS` — and
numbered steps, if a part has any, run once each, in order, under an advisory lock so that instances
starting together apply them once.
"""
from __future__ import annotations

import hashlib
import re
import sqlite3
import threading
from contextlib import contextmanager
from functools import lru_cache
from typing import Iterator, Sequence

import psycopg
from psycopg import sql

from geoes.errors import DataMissing, InvalidInput

IntegrityError = (sqlite3.IntegrityError, psycopg.IntegrityError)
URL_SCHEMES = ("postgresql://", "postgres://")
CONNECT_TIMEOUT = 5


def lock_key(name: str) -> int:
    """A stable 64-bit advisory-lock key for a name (the same in every instance)."""
    return int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:8], "big", signed=True)


WRITE_LOCK = lock_key("geoes:write")      # BEGIN IMMEDIATE: one writer at a time, as in SQLite
SCHEMA_LOCK = lock_key("geoes:schema")


def check_url(url: str) -> str:
    if not url.startswith(URL_SCHEMES):
        raise InvalidInput("GEOES_DATABASE_URL: oczekiwano adresu bazy PostgreSQL, np. "
                           "postgresql://geoes:HASŁO@127.0.0.1:5432/geoes")
    return url


def raw_connect(url: str, **kwargs) -> psycopg.Connection:
    """A psycopg connection (autocommit); DataMissing with the reason when the database cannot be reached."""
    try:
        return psycopg.connect(check_url(url), autocommit=True, connect_timeout=CONNECT_TIMEOUT,
                               application_name="geoes", **kwargs)
    except psycopg.OperationalError as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataMissing(f"brak połączenia z bazą danych (GEOES_DATABASE_URL): {reason}") from None


# --- rows and the SQLite dialect ------------------------------------------------------------------

class Row:
    """A result row read by column name or by position, like sqlite3.Row."""
    __slots__ = ("_values", "_index")

    def __init__(self, values: Sequence, index: dict[str, int]):
        self._values = values
        self._index = index

    def __getitem__(self, key):
        return self._values[self._index[key] if isinstance(key, str) else key]

    def __iter__(self):
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def keys(self) -> list[str]:
        return list(self._index)

    def __repr__(self) -> str:
        return f"Row({dict(zip(self._index, self._values))!r})"


def _row_factory(cursor):
    description = cursor.description
    index = {c.name: i for i, c in enumerate(description or ())}
    return lambda values: Row(values, index)


_TOKEN_RE = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*|\?|%")
_INSERT_RE = re.compile(r"^\s*INSERT\s+(?:OR\s+(IGNORE|REPLACE)\s+)?INTO\s+([A-Za-z_][A-Za-z0-9_]*)\s*"
                        r"(?:\(([^)]*)\))?", re.IGNORECASE)
_BEGIN_IMMEDIATE_RE = re.compile(r"^\s*BEGIN\s+(IMMEDIATE|EXCLUSIVE)\s*;?\s*$", re.IGNORECASE)


def placeholders(statement: str) -> str:
    """`?` → `%s` and `%` → `%%`, leaving quoted text and comments alone (except the `%` psycopg reads)."""
    def swap(match: re.Match) -> str:
        token = match.group(0)
        if token == "?":
            return "%s"
        if token == "%":
            return "%%"
        return token.replace("%", "%%")
    return _TOKEN_RE.sub(swap, statement)


class _Table:
    def __init__(self, columns: list[str], primary_key: list[str]):
        self.columns = columns
        self.primary_key = primary_key
        self.has_id = "id" in columns


class PgCursor:
    """The part of sqlite3.Cursor the console uses."""

    def __init__(self, cursor: psycopg.Cursor, lastrowid=None, returned: bool = False):
        self._cursor = cursor
        self.lastrowid = lastrowid
        self._returned = returned   # the statement's rows were the added RETURNING id, not the caller's

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def description(self):
        return self._cursor.description

    def fetchone(self):
        return None if self._returned else self._cursor.fetchone()

    def fetchall(self) -> list:
        return [] if self._returned else self._cursor.fetchall()

    def __iter__(self) -> Iterator:
        return iter(self.fetchall())

    def close(self) -> None:
        self._cursor.close()


class PgConnection:
    """A PostgreSQL connection that speaks the console's SQLite dialect (see the module's docstring)."""
    dialect = "postgresql"

    def __init__(self, raw: psycopg.Connection):
        self.raw = raw
        raw.row_factory = _row_factory

    def execute(self, statement: str, params: Sequence = ()) -> PgCursor:
        if _BEGIN_IMMEDIATE_RE.match(statement):
            self.raw.execute("BEGIN")
            cur = self.raw.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
            return PgCursor(cur)
        text, adds_id = self._translate(statement, bind=bool(params))
        cur = self.raw.cursor()
        cur.execute(text, tuple(params) if params else None)
        if adds_id:
            row = cur.fetchone() if cur.rowcount else None
            return PgCursor(cur, lastrowid=row[0] if row else None, returned=True)
        return PgCursor(cur)

    def executemany(self, statement: str, seq_of_params) -> None:
        text, _ = self._translate(statement, want_id=False)
        with self.raw.cursor() as cur:
            cur.executemany(text, [tuple(p) for p in seq_of_params])

    def executescript(self, script: str) -> None:
        self.raw.execute(script)

    def _translate(self, statement: str, want_id: bool = True, bind: bool = True) -> tuple[str, bool]:
        """The statement in PostgreSQL's dialect, and whether it returns the new row's id. Without parameters
        psycopg sends the text as it is, so `?` and `%` are translated only when there are some (`bind`)."""
        params = _placeholders_cached if bind else (lambda text: text)
        insert = _INSERT_RE.match(statement)
        if not insert:
            return params(statement), False
        mode, table, columns = insert.group(1), insert.group(2).lower(), insert.group(3)
        info = self._table(table)
        body = statement.rstrip().rstrip(";")
        if mode:
            body = re.sub(r"^\s*INSERT\s+OR\s+(IGNORE|REPLACE)\s+", "INSERT ", body, count=1, flags=re.IGNORECASE)
            if mode.upper() == "IGNORE" or not info.primary_key:
                body += " ON CONFLICT DO NOTHING"
            else:
                names = [c.strip().strip('"') for c in columns.split(",") if c.strip()] if columns else info.columns
                updates = [n for n in names if n not in info.primary_key]
                target = ", ".join(info.primary_key)
                body += (f" ON CONFLICT ({target}) DO UPDATE SET "
                         + ", ".join(f"{n} = EXCLUDED.{n}" for n in updates)) if updates \
                    else f" ON CONFLICT ({target}) DO NOTHING"
        adds_id = want_id and info.has_id and not re.search(r"\bRETURNING\b", body, re.IGNORECASE)
        if adds_id:
            body += " RETURNING id"
        return params(body), adds_id

    def _table(self, name: str) -> _Table:
        with _tables_lock:
            if name in _tables:
                return _tables[name]
        rows = self.raw.execute(
            "SELECT a.attname, coalesce(a.attnum = ANY(i.indkey), false) FROM pg_attribute a "
            "LEFT JOIN pg_index i ON i.indrelid = a.attrelid AND i.indisprimary "
            "WHERE a.attrelid = to_regclass(%s) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
            (name,)).fetchall()
        info = _Table([r[0] for r in rows], [r[0] for r in rows if r[1]])
        if rows:
            with _tables_lock:
                _tables[name] = info
        return info

    # sqlite3.Connection's context manager: commit or roll back, keep the connection open.
    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if self.raw.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            self.raw.execute("ROLLBACK" if exc_type else "COMMIT")
        return False

    def commit(self) -> None:
        if self.raw.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            self.raw.execute("COMMIT")

    def rollback(self) -> None:
        if self.raw.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            self.raw.execute("ROLLBACK")

    def close(self) -> None:
        try:
            self.rollback()
        except psycopg.Error:
            pass
        self.raw.close()


_tables: dict[str, _Table] = {}
_tables_lock = threading.Lock()


@lru_cache(maxsize=2048)
def _placeholders_cached(statement: str) -> str:
    return placeholders(statement)


def connect(url: str) -> PgConnection:
    return PgConnection(raw_connect(url))


def is_postgres(conn) -> bool:
    return getattr(conn, "dialect", "sqlite") == "postgresql"


# --- schema ---------------------------------------------------------------------------------------

_DDL_RULES = (
    (re.compile(r"^\s*PRAGMA[^;]*;\s*$", re.IGNORECASE | re.MULTILINE), ""),
    (re.compile(r"\bINTEGER\s+PRIMARY\s+KEY(\s+AUTOINCREMENT)?\b", re.IGNORECASE),
     "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"),
    (re.compile(r"\bTEXT\b([^,\n]*?)\s+COLLATE\s+NOCASE\b", re.IGNORECASE), r"CITEXT\1"),
    (re.compile(r"\bINTEGER\b", re.IGNORECASE), "BIGINT"),
    (re.compile(r"\bREAL\b", re.IGNORECASE), "DOUBLE PRECISION"),
    (re.compile(r"\bBLOB\b", re.IGNORECASE), "BYTEA"),
    (re.compile(r"\)\s*(WITHOUT\s+ROWID|STRICT)\s*;", re.IGNORECASE), ");"),
)


def sqlite_ddl(ddl: str) -> str:
    """The console's SQLite schema (CREATE TABLE/INDEX IF NOT EXISTS) as PostgreSQL DDL."""
    text = "\n".join(line.split("--", 1)[0].rstrip() for line in ddl.splitlines())  # comments hold type words
    for pattern, replacement in _DDL_RULES:
        text = pattern.sub(replacement, text)
    return text


_ensured: set[tuple[str, str, str]] = set()
_ensured_lock = threading.Lock()


def ensure_schema(conn: PgConnection | psycopg.Connection, url: str, part: str, ddl: str,
                  steps: Sequence[str] = ()) -> None:
    """Apply a part of the schema once per process: its idempotent DDL when its text changed since the last
    application, then each numbered step not yet applied (the migration runner)."""
    digest = hashlib.sha256((ddl + "\x00".join(steps)).encode("utf-8")).hexdigest()
    key = (url, part, digest)
    if key in _ensured:
        return
    raw = conn.raw if isinstance(conn, PgConnection) else conn
    with _ensured_lock, raw.transaction():
        raw.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
        raw.execute("CREATE TABLE IF NOT EXISTS geoes_schema (part TEXT PRIMARY KEY, ddl_sha TEXT NOT NULL, "
                    "step INTEGER NOT NULL DEFAULT 0, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())")
        row = raw.execute("SELECT ddl_sha, step FROM geoes_schema WHERE part = %s", (part,)).fetchone()
        ddl_sha = hashlib.sha256(ddl.encode("utf-8")).hexdigest()
        if row is None or row[0] != ddl_sha:
            raw.execute(ddl)
        done = row[1] if row else 0
        for number, step in enumerate(steps, start=1):
            if number > done:
                raw.execute(step)
        raw.execute("INSERT INTO geoes_schema (part, ddl_sha, step) VALUES (%s, %s, %s) ON CONFLICT (part) DO "
                    "UPDATE SET ddl_sha = EXCLUDED.ddl_sha, step = EXCLUDED.step, applied_at = now()",
                    (part, ddl_sha, max(len(steps), done)))
    with _tables_lock:
        _tables.clear()   # a column or table may have been added
    _ensured.add(key)


# --- locks and notifications ----------------------------------------------------------------------

@contextmanager
def advisory_lock(url: str, name: str) -> Iterator[psycopg.Connection | None]:
    """Hold the session-level advisory lock `name` for the block on a connection of its own (yielded), or
    yield None at once when another session holds it. A process that dies releases it with its connection."""
    conn = raw_connect(url)
    try:
        key = lock_key(name)
        if not conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()[0]:
            yield None
            return
        try:
            yield conn
        finally:
            if not conn.closed:
                conn.execute("SELECT pg_advisory_unlock(%s)", (key,))
    finally:
        conn.close()


def identifier(*names: str) -> sql.Identifier:
    """A quoted identifier (schema, table or column) for psycopg.sql: names are never pasted into SQL text."""
    return sql.Identifier(*names)
