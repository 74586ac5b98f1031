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


def entries(conn: sqlite3.Connection, limit: int = 100, offset: int = 0, action: str | None = None,
            actor: str | None = None, before: int | None = None) -> list[Entry]:
    where, args = [], []
    if before is not None:
        where.append("id < ?")
        args.append(before)
    if action:
        where.append("action = ?")
        args.append(action)
    if actor:
        where.append("actor = ?")
        args.append(actor)
    sql = "SELECT * FROM audit" + (" WHERE " + " AND ".join(where) if where else "")
    rows = conn.execute(sql + " ORDER BY id DESC LIMIT ? OFFSET ?", (*args, limit, offset))
    return [Entry(r["id"], r["at"], r["actor"], r["action"], r["target"], json.loads(r["detail"])) for r in rows]


def total(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT COUNT(*) FROM audit").fetchone()[0])
