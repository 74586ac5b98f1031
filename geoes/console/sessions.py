"""Console sessions kept on the server: a random token in the (signed) cookie, a row in the store.

A session is what makes a cookie worth anything: the cookie carries only a random token (32 bytes from
`secrets`), the store keeps its SHA-256 with the operator, when it began and when it was last used. Every
console request looks the row up (`check`), so:

* signing out deletes the row — a cookie saved before is refused afterwards, CSRF token and all;
* a session ends after GEOES_SESSION_IDLE_MINUTES without a request and, however busy, after
  GEOES_SESSION_MAX_HOURS from signing in (ASVS 3.3.1, 3.3.2);
* changing a password or removing an account deletes all of that operator's sessions (`end_all`).

The store keeps only the token's hash, so a copy of console.sqlite opens no session. Statements are
plain SQL on one table with the connection passed in (no SQLite-only syntax), so the same functions can
run against PostgreSQL when the console's state moves there.
"""
from __future__ import annotations

import hashlib
import secrets
import sqlite3
import time
from dataclasses import dataclass

from geoes.config import Settings
from geoes.console.db import transaction

TOKEN_BYTES = 32
TOUCH_SECONDS = 30          # `seen_at` is written at most this often: not one write per request


@dataclass(frozen=True)
class Check:
    """The outcome of looking a session up: the operator's id, or why there is none."""
    user_id: int | None
    ended: str = ""          # "" (valid or no token), "idle", "expired", "unknown"


def _key(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start(conn: sqlite3.Connection, settings: Settings, user_id: int, now: float | None = None) -> str:
    """A new session of this operator; the token for the cookie. Ended sessions of anyone are cleared."""
    now = time.time() if now is None else now
    token = secrets.token_urlsafe(TOKEN_BYTES)
    with transaction(conn):
        purge(conn, settings, now)
        conn.execute("INSERT INTO sessions (id, user_id, created_at, seen_at) VALUES (?, ?, ?, ?)",
                     (_key(token), user_id, now, now))
    return token


def check(conn: sqlite3.Connection, settings: Settings, token: str | None, now: float | None = None) -> Check:
    """The session of this token if it is still valid (its use recorded); an ended one is deleted."""
    if not isinstance(token, str) or not token:
        return Check(None)
    now = time.time() if now is None else now
    key = _key(token)
    row = conn.execute("SELECT user_id, created_at, seen_at FROM sessions WHERE id = ?", (key,)).fetchone()
    if row is None:
        return Check(None, "unknown")
    ended = ("expired" if now - row["created_at"] > settings.session_max_hours * 3600
             else "idle" if now - row["seen_at"] > settings.session_idle_minutes * 60 else "")
    if ended:
        conn.execute("DELETE FROM sessions WHERE id = ?", (key,))
        return Check(None, ended)
    if now - row["seen_at"] > TOUCH_SECONDS:
        conn.execute("UPDATE sessions SET seen_at = ? WHERE id = ?", (now, key))
    return Check(int(row["user_id"]))


def end(conn: sqlite3.Connection, token: str | None) -> None:
    """Sign-out: the session is gone, whatever copies of its cookie exist."""
    if isinstance(token, str) and token:
        conn.execute("DELETE FROM sessions WHERE id = ?", (_key(token),))


def end_all(conn: sqlite3.Connection, user_id: int) -> int:
    """Every session of one operator (password changed, account removed); how many there were."""
    return conn.execute("DELETE FROM sessions WHERE user_id = ?", (user_id,)).rowcount


def purge(conn: sqlite3.Connection, settings: Settings, now: float | None = None) -> None:
    now = time.time() if now is None else now
    conn.execute("DELETE FROM sessions WHERE created_at < ? OR seen_at < ?",
                 (now - settings.session_max_hours * 3600, now - settings.session_idle_minutes * 60))


def count(conn: sqlite3.Connection, user_id: int) -> int:
    return conn.execute("SELECT COUNT(*) FROM sessions WHERE user_id = ?", (user_id,)).fetchone()[0]
