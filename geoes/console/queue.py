"""The review queue: proposed changes that wait for an operator's decision.

One table for every kind of proposal — verification against official registers (`change`, `confirm`,
`unknown`, `new_entity`), public reports (`report`) — with the proposal itself as JSON (`payload`), so a
new source adds rows, not tables. Nothing in the queue reaches the public site by itself: accepting a
proposal that changes a field or adds an entity puts that change into the operator's draft of edits,
which is validated and published like any other edit; every decision is in the audit log.

Verification runs write their proposals to review files (`data/review/*.json`, format
`geoes-proposals/1`, geoes.register.proposals); `import_files` takes each pending proposal in once (its
id is the queue's `source_key`), so reading a file again adds nothing twice. A decision on such a
proposal is also recorded in its file by geoes.register.proposals, which applies an accepted one by its
own rules (the field, `verified_at`/`verified_source`, an old point dropped when the address changes) —
here to a copy of the operator's draft, whose changes then go into the draft: the register itself is
written only by publishing.
"""
from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from geoes.config import Settings
from geoes.console import audit, changes
from geoes.console.db import now_iso, transaction
from geoes.errors import Conflict, NotFound
from geoes.register import proposals
from geoes.register.record import COLUMNS

REVIEW_FORMAT = "geoes-proposals/1"
KIND_LABELS = {"report": "zgłoszenie", "change": "proponowana zmiana", "confirm": "potwierdzenie danych",
               "unknown": "numer nieznany w rejestrze urzędowym", "new_entity": "nowy podmiot"}
STATUS_LABELS = {"pending": "czeka na decyzję", "accepted": "przyjęte", "rejected": "odrzucone"}
STATUSES = tuple(STATUS_LABELS)


@dataclass
class Item:
    id: int
    kind: str
    entity_id: str
    payload: dict
    status: str
    source: str
    source_key: str | None
    created_at: str
    created_by: str
    decided_at: str | None
    decided_by: str | None
    decision_note: str

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)

    def proposed_values(self) -> dict[str, str] | None:
        """The record values accepting this item would set (None: accepting only records the decision)."""
        p = self.payload
        if self.kind == "new_entity" and isinstance(p.get("entity"), dict):
            return {k: str(v) for k, v in p["entity"].items() if k in COLUMNS and k != "id" and v not in (None, "")}
        if self.kind == "unknown" and self.entity_id:
            return {"krs": ""}
        field = p.get("field")
        if field in COLUMNS and field != "id" and self.entity_id and "official_value" in p:
            return {field: str(p["official_value"])}
        return None


def _item(row: sqlite3.Row) -> Item:
    return Item(row["id"], row["kind"], row["entity_id"], json.loads(row["payload"]), row["status"], row["source"],
                row["source_key"], row["created_at"], row["created_by"], row["decided_at"], row["decided_by"],
                row["decision_note"])


def add(conn: sqlite3.Connection, kind: str, payload: dict, *, created_by: str, entity_id: str = "",
        source: str = "", source_key: str | None = None) -> int | None:
    """Queue one proposal; None when one with the same `source_key` is already there."""
    cur = conn.execute(
        "INSERT OR IGNORE INTO queue (kind, entity_id, payload, source, source_key, created_at, created_by) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (kind, entity_id, json.dumps(payload, ensure_ascii=False), source, source_key, now_iso(), created_by))
    return cur.lastrowid if cur.rowcount else None


def items(conn: sqlite3.Connection, status: str | None = "pending", limit: int = 500) -> list[Item]:
    if status is None:
        rows = conn.execute("SELECT * FROM queue ORDER BY id DESC LIMIT ?", (limit,))
    else:
        rows = conn.execute("SELECT * FROM queue WHERE status = ? ORDER BY id LIMIT ?", (status, limit))
    return [_item(r) for r in rows]


def counts(conn: sqlite3.Connection) -> dict[str, int]:
    out = {s: 0 for s in STATUSES}
    for status, n in conn.execute("SELECT status, COUNT(*) FROM queue GROUP BY status"):
        out[status] = n
    return out


def get(conn: sqlite3.Connection, item_id: int) -> Item:
    row = conn.execute("SELECT * FROM queue WHERE id = ?", (item_id,)).fetchone()
    if row is None:
        raise NotFound(f"nie ma zgłoszenia nr {item_id}")
    return _item(row)


def review_dir(settings: Settings):
    return settings.data_dir / "review"


def import_files(conn: sqlite3.Connection, settings: Settings) -> tuple[int, list[str]]:
    """Take in the pending proposals of the review files; (how many were new, problems with files)."""
    folder = review_dir(settings)
    if not folder.is_dir():
        return 0, []
    added, problems = 0, []
    for path in sorted(folder.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            problems.append(f"{path.name}: nieczytelny plik ({exc})")
            continue
        if not isinstance(data, dict) or data.get("format") != REVIEW_FORMAT:
            problems.append(f"{path.name}: to nie jest plik propozycji {REVIEW_FORMAT}")
            continue
        fresh = 0
        with transaction(conn):
            for p in data.get("proposals", []):
                if not isinstance(p, dict) or p.get("state", "pending") != "pending" or not p.get("id"):
                    continue
                kind = str(p.get("kind", "change"))
                if add(conn, kind, p, created_by=str(p.get("source") or path.name), entity_id=str(p.get("entity_id") or ""),
                       source=str(p.get("source") or ""), source_key=f"{path.name}:{p['id']}") is not None:
                    fresh += 1
            if fresh:
                audit.record(conn, "system", "queue_import", path.name, proposals=fresh)
        added += fresh
    return added, problems


def _review_file(settings: Settings, item: Item) -> tuple[Path, str] | None:
    """(the review file, the proposal's id) for an item taken in from a review file still there."""
    name, _, proposal_id = (item.source_key or "").partition(":")
    path = review_dir(settings) / name
    return (path, proposal_id) if proposal_id and name.endswith(".json") and path.is_file() else None


def _accept_from_file(conn, settings: Settings, item: Item, actor: str, note: str) -> dict[str, str]:
    """Accept a review-file proposal by geoes.register.proposals' rules, applied to a copy of the register
    as the operator's draft has it; returns the values it sets."""
    path, proposal_id = _review_file(settings, item)
    draft = changes.open_draft(conn, actor)
    current = changes.merged_of(conn, draft.id) if draft and not changes.is_stale(draft, settings) \
        else changes.read_register(settings)
    with changes.scratch_file(settings, changes.frame_to_csv(current), "entities.csv") as copy:
        applied = proposals.accept(settings, proposal_id, actor, note=note, path=path, entities_path=copy)
    return {column: str(new) for column, (_old, new) in applied.changed.items() if column != "id"}


def decide(conn: sqlite3.Connection, settings: Settings, item_id: int, actor: str, accept: bool,
           note: str = "") -> Item:
    """Accept (its change goes into the operator's draft of edits) or reject one pending item."""
    item = get(conn, item_id)
    if item.status != "pending":
        raise Conflict(f"zgłoszenie nr {item_id} jest już {item.status_label}")
    from_file = _review_file(settings, item) if item.payload.get("state", "pending") == "pending" else None
    if from_file and accept:
        values = _accept_from_file(conn, settings, item, actor, note)
    else:
        values = item.proposed_values() if accept else None
        if from_file:
            proposals.reject(settings, from_file[1], actor, note=note, path=from_file[0])
    draft = None
    if values:
        new_id = str((item.payload.get("entity") or {}).get("id") or "") or None
        draft = changes.edit_entity(conn, settings, actor, None if item.kind == "new_entity" else item.entity_id,
                                    values, action="entity_edit", new_id=new_id)
    with transaction(conn):
        conn.execute("UPDATE queue SET status = ?, decided_at = ?, decided_by = ?, decision_note = ? WHERE id = ?",
                     ("accepted" if accept else "rejected", now_iso(), actor, note[:2000], item_id))
        audit.record(conn, actor, "queue_accept" if accept else "queue_reject", f"zgłoszenie {item_id}",
                     kind=item.kind, entity=item.entity_id, values=values or {},
                     changeset=draft.id if draft else None, note=note[:2000])
    return get(conn, item_id)
