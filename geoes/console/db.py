"""The console's own store: users, sign-in attempts, the audit log, staged changes, saved mappings,
the review queue, the counts of public reports per address, background jobs and the published versions,
in one SQLite file under the data directory — or, with GEOES_DATABASE_URL, in PostgreSQL, shared by
every instance.

`data/console/console.sqlite` is created on first use (git-ignored). WAL lets readers go on while one
writer commits; each request or thread opens its own connection (`connect`), as sqlite3 connections
must not be shared between threads.

`SCHEMA` is the one schema of both backends: in PostgreSQL it is translated (geoes.common.database:
`sqlite_ddl`) and applied by the schema runner, and the statements of the console run there through the
same adapter, so a table or a query added here works in both. The session-signing key is a row of
`secrets` there, so every instance signs with the same one.
"""
from __future__ import annotations

import os
import secrets
import sqlite3
import threading
from datetime import datetime, timezone
from pathlib import Path

from geoes.common import database
from geoes.config import Settings

DB_NAME = "console.sqlite"
SECRET_NAME = "secret_key"
BUSY_TIMEOUT_MS = 15_000

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY,
    login TEXT NOT NULL UNIQUE COLLATE NOCASE,
    password_hash TEXT NOT NULL,
    session_key TEXT NOT NULL,            -- changes when the password changes: old sessions end
    created_at TEXT NOT NULL,
    last_login_at TEXT
);
CREATE TABLE IF NOT EXISTS login_attempts (
    id INTEGER PRIMARY KEY,
    login TEXT NOT NULL COLLATE NOCASE,
    address TEXT NOT NULL,
    at REAL NOT NULL,
    ok INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS login_attempts_login ON login_attempts (login, at);
CREATE INDEX IF NOT EXISTS login_attempts_address ON login_attempts (address, at);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL DEFAULT '',
    detail TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS changesets (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,                   -- upload | edit
    state TEXT NOT NULL,                  -- mapping | preview | published | discarded
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    filename TEXT NOT NULL DEFAULT '',
    base_sha TEXT NOT NULL,               -- sha256 of data/entities.csv the preview was made against
    layout TEXT NOT NULL DEFAULT '',      -- key of the upload's header row (saved mappings)
    mapping TEXT NOT NULL DEFAULT '{}',   -- header → record column, as confirmed
    fixes TEXT NOT NULL DEFAULT '{}',     -- row → {column: value} typed in the browser
    summary TEXT NOT NULL DEFAULT '{}',
    published_version TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS changeset_files (
    changeset_id INTEGER NOT NULL REFERENCES changesets (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (changeset_id, name)
);
CREATE TABLE IF NOT EXISTS mappings (
    layout TEXT PRIMARY KEY,
    headers TEXT NOT NULL,
    mapping TEXT NOT NULL,
    saved_by TEXT NOT NULL,
    saved_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS queue (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,                   -- report | change | confirm | unknown | new_entity | …
    entity_id TEXT NOT NULL DEFAULT '',
    payload TEXT NOT NULL DEFAULT '{}',
    status TEXT NOT NULL DEFAULT 'pending',   -- pending | accepted | rejected
    source TEXT NOT NULL DEFAULT '',      -- who or what proposed it: KRS, RJPS, a public report…
    source_key TEXT UNIQUE,               -- the proposal's own id, so that a file is taken in once
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    decided_at TEXT,
    decided_by TEXT,
    decision_note TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS queue_status ON queue (status, created_at);
CREATE TABLE IF NOT EXISTS report_attempts (
    id INTEGER PRIMARY KEY,
    address TEXT NOT NULL,                -- a keyed hash of the sender's address, never the address itself
    at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS report_attempts_address ON report_attempts (address, at);
CREATE TABLE IF NOT EXISTS jobs (
    name TEXT PRIMARY KEY,                -- verify
    state TEXT NOT NULL,                  -- running | done | failed
    started_by TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    message TEXT NOT NULL DEFAULT '',
    result TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,                  -- SHA-256 of the random token in the operator's cookie
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at REAL NOT NULL,             -- signing in: the absolute lifetime counts from here
    seen_at REAL NOT NULL                 -- the last request: the idle expiry counts from here
);
CREATE INDEX IF NOT EXISTS sessions_user ON sessions (user_id);
CREATE TABLE IF NOT EXISTS upload_jobs (
    id INTEGER PRIMARY KEY,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,                 -- upload | mapping | fix | refresh (geoes.console.uploads)
    changeset_id INTEGER,                 -- the change set it made or works on
    filename TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL,                  -- queued | running | done | failed
    stage TEXT NOT NULL DEFAULT '',       -- what it is doing now, in Polish
    message TEXT NOT NULL DEFAULT '',
    status INTEGER NOT NULL DEFAULT 200,  -- the HTTP status its outcome is shown with
    args TEXT NOT NULL DEFAULT '{}',
    next_url TEXT NOT NULL DEFAULT '',
    data BLOB,                            -- the uploaded file, until the job has read it
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    finished_at REAL
);
CREATE INDEX IF NOT EXISTS upload_jobs_actor ON upload_jobs (actor, state);
CREATE TABLE IF NOT EXISTS versions (
    version TEXT PRIMARY KEY,
    action TEXT NOT NULL,                 -- publish | restore
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    changeset_id INTEGER,
    restored_from TEXT NOT NULL DEFAULT '',
    entities_sha TEXT NOT NULL,
    entities BLOB NOT NULL,               -- zlib-compressed input of the build: restorable after pruning
    summary TEXT NOT NULL DEFAULT '{}'
);
"""

# PostgreSQL only: what the embedded default keeps in files under data/console.
PG_SCHEMA = """
CREATE EXTENSION IF NOT EXISTS citext;
CREATE TABLE IF NOT EXISTS secrets (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS publish_holder (   -- who holds the publish lock (an advisory lock), for the 409
    id BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (id),
    holder TEXT NOT NULL
);
"""

_ready: set[str] = set()
_ready_lock = threading.Lock()


def console_dir(settings: Settings) -> Path:
    return settings.data_dir / "console"


def db_path(settings: Settings) -> Path:
    return console_dir(settings) / DB_NAME


def now_iso() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def connect(settings: Settings) -> sqlite3.Connection:
    """A new connection (one per request or thread), the schema created on first use."""
    if settings.uses_database:
        return _connect_database(settings)
    path = db_path(settings)
    key = str(path)
    if key not in _ready or not path.exists():
        private_store(path)
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                           check_same_thread=True)
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys = ON")
    if key not in _ready or not path.exists():
        with _ready_lock:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.executescript(SCHEMA)
            _ready.add(key)
    return conn


def private_store(path: Path) -> None:
    """The store's directory 0700 and its file 0600 (password hashes, reporters' e-mails): created so
    before SQLite opens it, and made so if an older version left them readable. SQLite gives its -wal
    and -shm files the mode of the database file."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    for part in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if part.exists():
            os.chmod(part, 0o600)


def _connect_database(settings: Settings) -> database.PgConnection:
    conn = database.connect(settings.database_url)
    try:
        database.ensure_schema(conn, settings.database_url, "console", PG_SCHEMA + database.sqlite_ddl(SCHEMA))
    except BaseException:
        conn.close()
        raise
    return conn


class transaction:
    """`with transaction(conn):` BEGIN IMMEDIATE … COMMIT (or ROLLBACK on error).

    IMMEDIATE takes the write lock at the start, so two writers queue up (busy timeout) instead of one
    failing half-way with "database is locked".
    """

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn

    def __enter__(self):
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, exc_type, exc, tb):
        self.conn.execute("ROLLBACK" if exc_type else "COMMIT")
        return False


def secret_key(settings: Settings) -> str:
    """GEOES_SECRET_KEY, or a key generated once and kept in data/console/secret_key (0600).

    The file is written completely under a temporary name and linked into place, so two workers
    starting at once agree on one key and none reads a half-written file.
    """
    if settings.secret_key:
        return settings.secret_key
    if settings.uses_database:
        return _database_secret(settings)
    path = console_dir(settings) / SECRET_NAME
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{SECRET_NAME}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(secrets.token_hex(32) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
    finally:
        os.unlink(tmp)
    return path.read_text(encoding="ascii").strip()


_secrets: dict[str, str] = {}


def _database_secret(settings: Settings) -> str:
    """The key kept in the database: the first instance to ask creates it, every other one reads the same."""
    url = settings.database_url
    if url not in _secrets:
        conn = connect(settings)
        try:
            conn.execute("INSERT OR IGNORE INTO secrets (name, value) VALUES (?, ?)", (SECRET_NAME, secrets.token_hex(32)))
            _secrets[url] = conn.execute("SELECT value FROM secrets WHERE name = ?", (SECRET_NAME,)).fetchone()[0]
        finally:
            conn.close()
    return _secrets[url]
