"""The review queue: proposed changes that wait for an operator's decision.

One table for every kind of proposal — verification against official registers (`change`, `confirm`,
`unknown`, `new_entity`), public reports (`report`, geoes.console.reports), corrections the importer set
aside for review (`review`) — with the proposal itself as JSON (`payload`), so a new source adds rows,
not tables. Nothing in the queue reaches the public site by itself: accepting a
proposal that changes a field or adds an entity puts that change into the operator's draft of edits,
which is validated and published like any other edit; every decision is in the audit log.

Verification runs write their proposals to review files (`data/review/*.json`, format
`geoes-proposals/1`, geoes.register.proposals); `import_files` takes each pending proposal in once (its
id is the queue's `source_key`), so reading a file again adds nothing twice. A decision on such a
proposal is also recorded in its file by geoes.register.proposals, which applies an accepted one by its
own rules (the field, `verified_at`/`verified_source`, an old point dropped when the address changes) —
here to a copy of the operator's draft, whose changes then go into the draft: the register itself is
written only by publishing.

The importer's corrections for review (`data/import/*.do_przegladu.csv`, geoes.register.importer: a
changed name, operator, identifier… that an import does not apply by itself) are taken in once each by
`import_review_tables`. Accepting a public report or a review item may carry the operator's own values (the
form of the item's page, prefilled with the proposal): a report's proposal is a resident's words, which the
operator checks and corrects before they go into the draft. A report is a claim, not a verification: an
accepted report that changes a fact records the change (`changed_at` today, `change_source` "zgłoszenie"),
never `verified_at`. The operator may record a check of their own with the decision (`check`: a source, or
a phone call with its date and the role of the person reached) — that, and only that, is a verification;
a report that says an entity works ("działa") sets the status only with such a check.
"""
from __future__ import annotations

import csv
import hashlib
import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from geoes.common.polish import today_in_poland
from geoes.config import Settings
from geoes.console import audit, changes
from geoes.console.db import now_iso, transaction
from geoes.errors import Conflict, NotFound
from geoes.register import proposals
from geoes.register.record import COLUMNS, SOURCES_SEPARATOR

REVIEW_FORMAT = "geoes-proposals/1"
KIND_LABELS = {"report": "zgłoszenie mieszkańca", "change": "proponowana zmiana", "confirm": "potwierdzenie danych",
               "unknown": "numer nieznany w rejestrze urzędowym", "new_entity": "nowy podmiot",
               "review": "poprawka do przeglądu (import)"}
STATUS_LABELS = {"pending": "czeka na decyzję", "accepted": "przyjęte", "rejected": "odrzucone"}
STATUSES = tuple(STATUS_LABELS)
# The queue page's filter: which items each choice shows (fixed SQL, never built from the request).
CATEGORIES = {
    "report": ("zgłoszenia mieszkańców", "kind = 'report'"),
    "krs": ("weryfikacja w KRS", "source = 'KRS'"),
    "rjps": ("wykaz przedsiębiorstw społecznych (RJPS)", "source = 'RJPS'"),
    "import": ("poprawki z importu do przeglądu", "kind = 'review'"),
}
REPORT_SOURCE = "zgłoszenie"      # change_source of an accepted public report
IMPORT_SOURCE = "import"
# Kinds whose values an operator may correct before accepting (the others follow their source's rules).
EDITABLE_KINDS = ("report", "review")


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
    name: str = ""          # the entity's name (from the register when the proposal does not say it): `annotate`
    powiat: str = ""        # the TERYT of the entity's powiat, or of the place a new entity is reported in

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)

    @property
    def editable(self) -> bool:
        return self.kind in EDITABLE_KINDS

    @property
    def is_new_entity(self) -> bool:
        return self.kind == "new_entity" or (self.kind == "report" and not self.entity_id)

    def proposed_values(self) -> dict[str, str] | None:
        """The record values accepting this item would set (None: accepting only records the decision)."""
        p = self.payload
        if self.kind == "report":
            values = {k: str(v) for k, v in (p.get("values") or {}).items() if k in COLUMNS and k != "id"}
            return values or None
        if self.kind == "new_entity" and isinstance(p.get("entity"), dict):
            return {k: str(v) for k, v in p["entity"].items() if k in COLUMNS and k != "id" and v not in (None, "")}
        if self.kind == "unknown" and self.entity_id:
            return {"krs": ""}
        field = p.get("field")
        if field in COLUMNS and field != "id" and self.entity_id and "official_value" in p:
            return {field: str(p["official_value"])}
        return None


def _named(item: Item) -> str:
    p = item.payload
    entity = p.get("entity") if isinstance(p.get("entity"), dict) else {}
    return str(p.get("entity_name") or entity.get("name") or (p.get("values") or {}).get("name") or "")


def _place(values: dict) -> str:
    """The powiat a record's values place it in: its powiat, or the first four digits of its gmina."""
    values = values or {}
    return str(values.get("powiat_teryt") or "")[:4] or str(values.get("gmina_teryt") or "")[:4]


def annotate(items: list[Item], register, places: dict[str, str] | None = None) -> list[Item]:
    """Each item's entity name and powiat: the name from the register as it is, the powiat where the served
    data place the entity (`places`: id → powiat TERYT, counted from its point), else as the register states
    it; a new entity's from the proposal's own words. The items themselves, for chaining."""
    known = register.drop_duplicates("id").set_index("id")[["name", "powiat_teryt", "gmina_teryt"]] \
        if len(register) else None
    places = places or {}
    for item in items:
        record = known.loc[item.entity_id].to_dict() if known is not None and item.entity_id in known.index else {}
        item.name = str(record.get("name") or "") or _named(item)
        proposed = item.payload.get("entity") if isinstance(item.payload.get("entity"), dict) \
            else item.payload.get("values") or {}
        item.powiat = str(places.get(item.entity_id) or "") or _place(record) or _place(proposed)
    return items


def entity_name(settings: Settings, item: Item) -> str:
    """The name of the entity an item is about (for the audit log)."""
    return annotate([item], changes.read_register(settings))[0].name


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


def items(conn: sqlite3.Connection, status: str | None = "pending", limit: int = 500,
          category: str | None = None) -> list[Item]:
    """Pending items oldest first, or (`status=None`) the latest decided ones; `category` a key of CATEGORIES."""
    where = [CATEGORIES[category][1]] if category in CATEGORIES else []
    if status is None:
        where.append("status != 'pending'")
        sql = "SELECT * FROM queue WHERE " + " AND ".join(where) + " ORDER BY decided_at DESC, id DESC LIMIT ?"
        rows = conn.execute(sql, (limit,))
    else:
        where.append("status = ?")
        rows = conn.execute("SELECT * FROM queue WHERE " + " AND ".join(where) + " ORDER BY id LIMIT ?",
                            (status, limit))
    return [_item(r) for r in rows]


def counts(conn: sqlite3.Connection) -> dict[str, int]:
    out = {s: 0 for s in STATUSES}
    for status, n in conn.execute("SELECT status, COUNT(*) FROM queue GROUP BY status"):
        out[status] = n
    return out


def pending_by_category(conn: sqlite3.Connection) -> dict[str, int]:
    return {key: int(conn.execute(f"SELECT COUNT(*) FROM queue WHERE status = 'pending' AND {sql}").fetchone()[0])
            for key, (_label, sql) in CATEGORIES.items()}


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


def import_dir(settings: Settings) -> Path:
    return settings.data_dir / "import"


def _review_row(row: dict, table: str) -> tuple[dict, str] | None:
    """(payload, source_key) of one row of an importer's review table; None for a row without an entity."""
    entity_id, column = (row.get("id") or "").strip(), (row.get("column") or "").strip()
    if not entity_id or not column:
        return None
    proposed = row.get("proposed") or ""
    payload = {"entity_name": row.get("name") or "", "field": column, "register_value": row.get("current") or "",
               "official_value": proposed, "note": row.get("note") or "", "reason": row.get("reason") or "",
               "as_of": row.get("as_of") or "", "sources": row.get("sources") or "",
               "file": Path(row.get("file") or "").name, "row": row.get("row") or ""}
    # Keyed by what it proposes, not by its row: a table written again in another order adds nothing twice.
    digest = hashlib.sha1(f"{entity_id}|{column}|{proposed}".encode("utf-8")).hexdigest()[:12]
    return payload, f"{table}:{digest}"


def add_review_rows(conn: sqlite3.Connection, rows: list[dict], table: str) -> int:
    """Queue the importer's corrections for review (rows of its review table `table`: file, row, id, name,
    column, current, proposed, …), each once; how many were new. Called where an import happens — the
    console's publish of an upload, `python -m geoes import` into the register — so the dashboard counts
    them at once (and by `take_in` for tables written before)."""
    fresh = 0
    with transaction(conn):
        for row in rows:
            row = {k: "" if v is None else str(v) for k, v in row.items()}
            taken = _review_row(row, table)
            if taken and add(conn, "review", taken[0], created_by=IMPORT_SOURCE, entity_id=row["id"].strip(),
                             source=IMPORT_SOURCE, source_key=taken[1]) is not None:
                fresh += 1
        if fresh:
            audit.record(conn, "system", "queue_import", table, proposals=fresh)
    return fresh


def import_review_tables(conn: sqlite3.Connection, settings: Settings) -> tuple[int, list[str]]:
    """Take in the importer's corrections for review (data/import/*.do_przegladu.csv) once each; (how many
    were new, problems with files)."""
    folder = import_dir(settings)
    if not folder.is_dir():
        return 0, []
    added, problems = 0, []
    for path in sorted(folder.glob("*.do_przegladu.csv")):
        try:
            with open(path, encoding="utf-8-sig", newline="") as fh:
                rows = list(csv.DictReader(fh))
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            problems.append(f"{path.name}: nieczytelny plik ({exc})")
            continue
        added += add_review_rows(conn, rows, path.name)
    return added, problems


def take_in(conn: sqlite3.Connection, settings: Settings) -> tuple[int, list[str]]:
    """Everything waiting in files: verification proposals and the importer's review tables. Run where files
    are written (the verification job, `verify`, `rjps`, `import`) and when the application starts (files
    put there otherwise, e.g. with the checkout) — never on a page view: the dashboard's count is the
    queue's from the moment an item exists."""
    added, problems = import_files(conn, settings)
    more, other = import_review_tables(conn, settings)
    return added + more, problems + other


def working_record(conn: sqlite3.Connection, settings: Settings, actor: str, entity_id: str) -> dict | None:
    """The entity as the operator's draft has it (or the register, without a current draft)."""
    if not entity_id:
        return None
    draft = changes.open_draft(conn, actor)
    frame = changes.merged_of(conn, draft.id) if draft and not changes.is_stale(draft, settings) \
        else changes.read_register(settings)
    hit = frame[frame["id"] == entity_id]
    return hit.iloc[0].to_dict() if len(hit) else None


def suggested_values(conn: sqlite3.Connection, settings: Settings, item: Item, actor: str) -> dict[str, str]:
    """What accepting an editable item sets unless the operator changes it: the proposed values and, for a
    report with a source link, the link among the entity's sources."""
    values = dict(item.proposed_values() or {})
    link = str(item.payload.get("source_url") or "") if item.kind == "report" else ""
    if link:
        record = working_record(conn, settings, actor, item.entity_id) or {}
        sources = [s.strip() for s in str(record.get("sources") or "").split(SOURCES_SEPARATOR) if s.strip()]
        if link not in sources:
            values["sources"] = SOURCES_SEPARATOR.join([*sources, link])
    return values


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


# What a report may change that counts as a change of the facts (a link added to the sources is not one).
_NOT_A_FACT = ("sources",)


def _values_to_set(conn, settings: Settings, item: Item, actor: str, edited: dict[str, str] | None) -> dict | None:
    """The record values accepting `item` sets: the operator's (an editable item's form) or the proposed
    ones; a report that changes a fact records the change and its source (never a verification)."""
    if item.editable and edited is not None:
        values = {k: str(v).strip() for k, v in edited.items() if k in COLUMNS and k != "id"}
    elif item.editable:
        values = suggested_values(conn, settings, item, actor)
    else:
        values = item.proposed_values() or {}
    for col in ("verified_at", "verified_source", "verified_evidence", "changed_at", "change_source"):
        values.pop(col, None)   # set by the decision's own rules, never by a proposal's values
    if item.kind == "report" and any(k not in _NOT_A_FACT for k in values):
        values.update(changed_at=today_in_poland().isoformat(), change_source=REPORT_SOURCE)
    return values or None


def decide(conn: sqlite3.Connection, settings: Settings, item_id: int, actor: str, accept: bool,
           note: str = "", values: dict[str, str] | None = None, check: dict[str, str] | None = None) -> Item:
    """Accept (its change goes into the operator's draft of edits) or reject one pending item. `values`: the
    operator's own values for a report or a review item (the proposed ones when None); `check`: the
    operator's own check of the entity made with the decision (changes.operator_check: how, source, date,
    role), recorded as a verification."""
    item = get(conn, item_id)
    if item.status != "pending":
        raise Conflict(f"zgłoszenie nr {item_id} jest już {item.status_label}")
    verification = changes.operator_check(**check) if accept and check and item.editable else {}
    from_file = _review_file(settings, item) if item.payload.get("state", "pending") == "pending" else None
    if from_file and accept:
        values = _accept_from_file(conn, settings, item, actor, note)
    else:
        values = _values_to_set(conn, settings, item, actor, values) if accept else None
        if values is not None or verification:
            values = {**(values or {}), **verification} or None
        if from_file:
            proposals.reject(settings, from_file[1], actor, note=note, path=from_file[0])
    draft = None
    if values:
        new_id = str((item.payload.get("entity") or {}).get("id") or "") or None
        draft = changes.edit_entity(conn, settings, actor, None if item.is_new_entity else item.entity_id,
                                    values, action="entity_edit", new_id=new_id, queue_item=item_id)
    with transaction(conn):
        conn.execute("UPDATE queue SET status = ?, decided_at = ?, decided_by = ?, decision_note = ? WHERE id = ?",
                     ("accepted" if accept else "rejected", now_iso(), actor, note[:2000], item_id))
        audit.record(conn, actor, "queue_accept" if accept else "queue_reject", f"zgłoszenie {item_id}",
                     kind=item.kind, entity=item.entity_id, name=entity_name(settings, item),
                     values=values or {},
                     changeset=draft.id if draft else None, note=note[:2000])
    return get(conn, item_id)
