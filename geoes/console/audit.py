"""The audit log: who uploaded, changed, published or restored what, and when.

Entries are only ever appended (nothing in the console edits or deletes them). `record` is called inside
the transaction of the change it describes, so a change and its entry are committed together.
"""
from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

from geoes.console.db import now_iso

ACTIONS = {
    "sign_in": "logowanie",
    "sign_out": "wylogowanie",
    "user_add": "dodanie użytkownika",
    "user_remove": "usunięcie użytkownika",
    "user_password": "zmiana hasła",
    "user_gender": "formy czasowników w dzienniku",
    "upload": "wczytanie pliku",
    "mapping": "zatwierdzenie mapowania",
    "mapping_saved": "zapisanie mapowania",
    "row_fix": "poprawka wiersza",
    "refresh": "odświeżenie podglądu",
    "discard": "porzucenie zmian",
    "entity_add": "dodanie podmiotu",
    "entity_edit": "edycja podmiotu",
    "entity_inactive": "oznaczenie jako zamknięty",
    "publish": "publikacja",
    "publish_failed": "nieudana publikacja",
    "restore": "przywrócenie wersji",
    "queue_accept": "przyjęcie zgłoszenia",
    "queue_reject": "odrzucenie zgłoszenia",
    "queue_import": "wczytanie propozycji",
    "report_received": "zgłoszenie z formularza publicznego",
    "verify_start": "weryfikacja w KRS: start",
    "verify_done": "weryfikacja w KRS: koniec",
    "verify_failed": "weryfikacja w KRS: nieudana",
    "report_emails_deleted": "usunięcie e-maili zgłaszających (po terminie)",
}


@dataclass(frozen=True)
class Entry:
    id: int
    at: str
    actor: str
    action: str
    target: str
    detail: dict

    @property
    def label(self) -> str:
        return ACTIONS.get(self.action, self.action)


def record(conn: sqlite3.Connection, actor: str, action: str, target: str = "", **detail) -> None:
    conn.execute("INSERT INTO audit (at, actor, action, target, detail) VALUES (?, ?, ?, ?, ?)",
                 (now_iso(), actor, action, str(target),
                  json.dumps(detail, ensure_ascii=False, default=str, sort_keys=True)))


@dataclass(frozen=True)
class Filters:
    """Which entries to show: an action, a person, an entity (by id), a time range [since, until) in ISO (UTC)."""
    action: str | None = None
    actor: str | None = None
    entity: str | None = None
    since: str | None = None
    until: str | None = None


# The entries that name an entity: its own edits (the target), queue decisions and reports (`"entity": id` in
# the detail, written with json.dumps' separators), and publishes and restores that added, changed or removed it
# (their ids in the detail).
_ENTITY_SQL = ("(target = ? OR detail LIKE ? ESCAPE '\\' OR (action IN ('publish', 'restore') AND detail LIKE ? "
               "ESCAPE '\\'))")


def _where(filters: Filters, before: int | None = None) -> tuple[str, list]:
    where, args = [], []
    if before is not None:
        where.append("id < ?")
        args.append(before)
    if filters.action:
        where.append("action = ?")
        args.append(filters.action)
    if filters.actor:
        where.append("actor = ?")
        args.append(filters.actor)
    if filters.since:
        where.append("at >= ?")
        args.append(filters.since)
    if filters.until:
        where.append("at < ?")
        args.append(filters.until)
    if filters.entity:
        quoted = json.dumps(filters.entity, ensure_ascii=False)
        where.append(_ENTITY_SQL)
        args += [filters.entity, f'%"entity": {_like(quoted)}%', f"%{_like(quoted)}%"]
    return (" WHERE " + " AND ".join(where) if where else ""), args


def _like(text: str) -> str:
    """`text` matched literally by LIKE (SQLite and PostgreSQL both take a backslash escape with ESCAPE)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def entries(conn: sqlite3.Connection, limit: int = 100, offset: int = 0, action: str | None = None,
            actor: str | None = None, before: int | None = None, filters: Filters | None = None) -> list[Entry]:
    """The newest entries first; `filters` (or the older `action`/`actor` arguments) choose which."""
    filters = filters or Filters(action=action, actor=actor)
    where, args = _where(filters, before)
    rows = conn.execute("SELECT * FROM audit" + where + " ORDER BY id DESC LIMIT ? OFFSET ?", (*args, limit, offset))
    return [Entry(r["id"], r["at"], r["actor"], r["action"], r["target"], json.loads(r["detail"])) for r in rows]


def total(conn: sqlite3.Connection, filters: Filters | None = None) -> int:
    where, args = _where(filters or Filters())
    return int(conn.execute("SELECT COUNT(*) FROM audit" + where, args).fetchone()[0])


def actors(conn: sqlite3.Connection) -> list[str]:
    """Everyone (and everything) with an entry, for the log's filter."""
    return [r[0] for r in conn.execute("SELECT DISTINCT actor FROM audit ORDER BY actor")]
