"""Named operator accounts and sign-in throttling.

Passwords are stored only as werkzeug's scrypt hashes (`generate_password_hash(..., "scrypt")`: a slow,
memory-hard hash with a per-password salt), and only passwords of 12 characters or more that zxcvbn does
not rate easy to guess are taken (`check_password`). A sign-in is refused without checking the password when the
account or the address has had `login_max_failures` failed attempts within `login_window_minutes`
(`Throttled`, HTTP 429); the password of an unknown login is still checked against a dummy hash so that
the answer takes as long as for a real one and does not tell which logins exist.
"""
from __future__ import annotations

import re
import secrets
import sqlite3
import time
from dataclasses import dataclass

from werkzeug.security import check_password_hash, generate_password_hash
from zxcvbn import zxcvbn

from geoes.common.polish import count
from geoes.common.database import IntegrityError
from geoes.config import Settings
from geoes.console import audit, sessions
from geoes.console.db import now_iso, transaction
from geoes.errors import Conflict, GeoesError, InvalidInput, NotFound

HASH_METHOD = "scrypt"
LOGIN_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{1,63}")
MIN_PASSWORD = 12
MAX_PASSWORD = 1024       # scrypt of a megabyte "password" would be a cheap way to burn CPU
MIN_STRENGTH = 3          # zxcvbn's score (0–4)
# zxcvbn's warnings (English) in Polish; one that is not here is left out of the message.
WEAKNESS = {
    "This is a top-10 common password.": "to jedno z najczęstszych haseł",
    "This is a top-100 common password.": "to jedno z najczęstszych haseł",
    "This is a very common password.": "to bardzo częste hasło",
    "This is similar to a commonly used password.": "jest podobne do często używanego hasła",
    'Repeats like "aaa" are easy to guess.': "powtórzenia w rodzaju „aaa” łatwo odgadnąć",
    'Repeats like "abcabcabc" are only slightly harder to guess than "abc".': "powtarza ten sam fragment",
    "Sequences like abc or 6543 are easy to guess.": "ciągi w rodzaju abc albo 6543 łatwo odgadnąć",
    "Straight rows of keys are easy to guess.": "rzędy klawiszy łatwo odgadnąć",
    "Short keyboard patterns are easy to guess.": "krótkie wzory z klawiatury łatwo odgadnąć",
    "Recent years are easy to guess.": "niedawne lata łatwo odgadnąć",
    "Dates are often easy to guess.": "daty łatwo odgadnąć",
    "A word by itself is easy to guess.": "pojedyncze słowo łatwo odgadnąć",
    "Names and surnames by themselves are easy to guess.": "imiona i nazwiska łatwo odgadnąć",
    "Common names and surnames are easy to guess.": "popularne imiona i nazwiska łatwo odgadnąć",
}
_DUMMY_HASH = generate_password_hash("geoes-no-such-user", method=HASH_METHOD)


class Throttled(GeoesError):
    """Too many failed sign-ins for this account or from this address."""
    http_status = 429
    code = "TooManyRequests"

    def __init__(self, description: str, retry_after: int):
        super().__init__(description)
        self.retry_after = retry_after


@dataclass(frozen=True)
class User:
    id: int
    login: str
    session_key: str
    created_at: str
    last_login_at: str | None


def _user(row: sqlite3.Row | None) -> User | None:
    if row is None:
        return None
    return User(row["id"], row["login"], row["session_key"], row["created_at"], row["last_login_at"])


def check_login(login: str) -> str:
    login = (login or "").strip()
    if not LOGIN_RE.fullmatch(login):
        raise InvalidInput(f"nieprawidłowa nazwa użytkownika „{login}”: 2–64 znaki, litery łacińskie, cyfry "
                           "i . _ @ - (zaczyna się literą lub cyfrą)")
    return login


def check_password(password: str, login: str = "") -> str:
    """The password if it is long enough and not easy to guess: zxcvbn (Dropbox's strength estimator,
    which knows common passwords, words, names, keyboard patterns, repeats and sequences, and the login
    itself) must rate it at least MIN_STRENGTH of 4 (about 10^8 guesses and more)."""
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"hasło jest za krótkie: co najmniej {MIN_PASSWORD} znaków")
    if len(password) > MAX_PASSWORD:
        raise InvalidInput(f"hasło jest za długie: najwyżej {MAX_PASSWORD} znaków")
    if not password.strip():
        raise InvalidInput("hasło nie może składać się z samych odstępów")
    # zxcvbn's time grows with the length; its first 100 characters judge the password well enough.
    rating = zxcvbn(password[:100], user_inputs=[login, *re.split(r"[._@-]", login)] if login else [])
    if rating["score"] < MIN_STRENGTH:
        hint = WEAKNESS.get(rating["feedback"].get("warning", ""), "")
        raise InvalidInput("hasło jest zbyt łatwe do odgadnięcia" + (f" ({hint})" if hint else "")
                           + ": użyj kilku niepowiązanych słów albo dłuższego zdania, bez nazwy użytkownika")
    return password


def add_user(conn: sqlite3.Connection, login: str, password: str, actor: str = "cli") -> User:
    login = check_login(login)
    digest = generate_password_hash(check_password(password, login), method=HASH_METHOD)
    try:
        with transaction(conn):
            conn.execute("INSERT INTO users (login, password_hash, session_key, created_at) VALUES (?, ?, ?, ?)",
                         (login, digest, secrets.token_urlsafe(16), now_iso()))
            audit.record(conn, actor, "user_add", login)
    except IntegrityError:
        raise Conflict(f"użytkownik „{login}” już istnieje") from None
    return get_user(conn, login)


def set_password(conn: sqlite3.Connection, login: str, password: str, actor: str = "cli") -> None:
    """A new password; every session of the operator ends."""
    digest = generate_password_hash(check_password(password, login), method=HASH_METHOD)
    with transaction(conn):
        user = get_user(conn, login)
        if user is None:
            raise NotFound(f"nie ma użytkownika „{login}”")
        conn.execute("UPDATE users SET password_hash = ?, session_key = ? WHERE id = ?",
                     (digest, secrets.token_urlsafe(16), user.id))
        ended = sessions.end_all(conn, user.id)
        audit.record(conn, actor, "user_password", login, sessions_ended=ended)


def remove_user(conn: sqlite3.Connection, login: str, actor: str = "cli") -> None:
    """The account and every session of it."""
    with transaction(conn):
        user = get_user(conn, login)
        if user is None:
            raise NotFound(f"nie ma użytkownika „{login}”")
        ended = sessions.end_all(conn, user.id)
        conn.execute("DELETE FROM users WHERE id = ?", (user.id,))
        audit.record(conn, actor, "user_remove", login, sessions_ended=ended)


def get_user(conn: sqlite3.Connection, login: str) -> User | None:
    return _user(conn.execute("SELECT * FROM users WHERE login = ?", (login,)).fetchone())


def user_by_id(conn: sqlite3.Connection, user_id) -> User | None:
    if not isinstance(user_id, int):
        return None
    return _user(conn.execute("SELECT * FROM users WHERE id = ?", (user_id,)).fetchone())


def list_users(conn: sqlite3.Connection) -> list[User]:
    return [_user(r) for r in conn.execute("SELECT * FROM users ORDER BY login")]


# --- signing in -----------------------------------------------------------------------------------

def _failures(conn: sqlite3.Connection, column: str, value: str, since: float) -> tuple[int, float]:
    row = conn.execute(f"SELECT COUNT(*), MIN(at) FROM login_attempts WHERE {column} = ? AND ok = 0 AND at >= ?",
                       (value, since)).fetchone()
    return int(row[0]), float(row[1] or 0)


def throttle_wait(conn: sqlite3.Connection, settings: Settings, login: str, address: str,
                  now: float | None = None) -> int:
    """Seconds until this login or address may try again (0: now)."""
    now = time.time() if now is None else now
    window = settings.login_window_minutes * 60
    wait = 0
    for column, value in (("login", login.strip()), ("address", address)):
        n, first = _failures(conn, column, value, now - window)
        if n >= settings.login_max_failures:
            wait = max(wait, int(first + window - now) + 1)
    return wait


def wait_message(seconds: int) -> str:
    minutes = max(1, -(-seconds // 60))
    return (f"Zbyt wiele nieudanych prób logowania. Spróbuj ponownie za {count(minutes, 'minuta')} "
            "albo poproś administratora o pomoc.")


def authenticate(conn: sqlite3.Connection, settings: Settings, login: str, password: str, address: str,
                 now: float | None = None) -> User | None:
    """The user when login and password match; None when they do not; Throttled when blocked.

    The throttle is checked and the attempt recorded — as a failure, until the password proves right —
    in one transaction (BEGIN IMMEDIATE: one writer at a time), before the slow password check. So
    parallel sign-ins cannot all pass the check before any of them is counted: at most
    `login_max_failures` passwords are ever checked per window, however many requests arrive at once."""
    now = time.time() if now is None else now
    login = (login or "").strip()[:64]
    with transaction(conn):
        wait = throttle_wait(conn, settings, login, address, now)
        if not wait:
            attempt = conn.execute("INSERT INTO login_attempts (login, address, at, ok) VALUES (?, ?, ?, 0)",
                                   (login, address, now)).lastrowid
    if wait:
        raise Throttled(wait_message(wait), wait)
    row = conn.execute("SELECT * FROM users WHERE login = ?", (login,)).fetchone()
    digest = row["password_hash"] if row is not None else _DUMMY_HASH
    ok = check_password_hash(digest, (password or "")[:MAX_PASSWORD]) and row is not None
    with transaction(conn):
        if ok:
            conn.execute("UPDATE login_attempts SET ok = 1 WHERE id = ?", (attempt,))
            # A success ends the account's run of failures (the address keeps its count).
            conn.execute("DELETE FROM login_attempts WHERE login = ? AND ok = 0", (login,))
            conn.execute("UPDATE users SET last_login_at = ? WHERE id = ?", (now_iso(), row["id"]))
            audit.record(conn, row["login"], "sign_in", row["login"], address=address)
        # Attempts older than a day are of no use to the throttle.
        conn.execute("DELETE FROM login_attempts WHERE at < ?", (now - 86_400,))
    return _user(conn.execute("SELECT * FROM users WHERE id = ?", (row["id"],)).fetchone()) if ok else None
