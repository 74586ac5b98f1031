"""Staged changes to the register: uploads and single-entity edits, waiting to be published.

A change set holds what an operator is about to publish: for an upload, the file as sent, the confirmed
header mapping, the rows as read, the fixes typed in the browser, and the register as it would be after
the merge; for edits, the edited entities. Nothing here touches `data/entities.csv`: publishing does
(geoes.console.publish), and only a change set whose preview was made against the register as it is
now — `base_sha`, the SHA-256 of the file — may be published, so that two operators' changes cannot
overwrite each other. A stale change set is recomputed against the current register (`refresh`): an
upload is merged again with its fixes, edits are applied again.

States: `mapping` (the header mapping waits for confirmation), `preview`, `published`, `discarded`.
"""
from __future__ import annotations

import json
import re
import shutil
import sqlite3
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from geoes.common.polish import count
from geoes.config import Settings
from geoes.console import audit, imports
from geoes.console.db import console_dir, now_iso, transaction
# The register file's helpers are part of this module's interface (publish, queue and the views use them).
from geoes.console.registers import (diff_registers, frame_from_csv, frame_to_csv,  # noqa: F401
                                     read_register, register_bytes, register_sha, sha)
from geoes.errors import Conflict, InvalidInput, NotFound
from geoes.register.record import COLUMNS, STATUSES
from geoes.register.validate import validate_frame

# How an operator checked an entity (the form's choice) → the words `verified_evidence` records.
CHECK_KINDS = {"source": "źródło (adres strony lub dokument)", "phone": "rozmowa telefoniczna"}
ACTIVE_NEEDS_CHECK = ("status: „działa” wymaga potwierdzenia ze źródłem i datą — zapisz, jak to sprawdzono "
                      "(adres źródła lub dokument albo rozmowa telefoniczna z datą i funkcją rozmówcy)")

ADDRESS_FIELDS = ("street", "postal_code", "locality", "gmina_teryt", "powiat_teryt")
POINT_FIELDS = ("lat", "lon", "location_precision", "geocoder")
OPEN_STATES = ("mapping", "preview")
STATE_LABELS = {"mapping": "czeka na mapowanie", "preview": "gotowe do publikacji", "published": "opublikowane",
                "discarded": "porzucone"}
KIND_LABELS = {"upload": "wczytany plik", "edit": "edycja podmiotów"}


class EntityInvalid(InvalidInput):
    """A single-entity edit that validation rejects; `problems` lists (column, reason)."""

    def __init__(self, problems: list[tuple[str, str]]):
        super().__init__("; ".join(f"{imports.FIELD_LABELS.get(c, c)}: {r}" for c, r in problems))
        self.problems = problems


@dataclass
class Changeset:
    id: int
    kind: str
    state: str
    created_by: str
    created_at: str
    updated_at: str
    filename: str
    base_sha: str
    layout: str
    mapping: dict
    fixes: dict
    summary: dict
    published_version: str

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def state_label(self) -> str:
        return STATE_LABELS.get(self.state, self.state)

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)


# --- storage --------------------------------------------------------------------------------------

def _changeset(row: sqlite3.Row) -> Changeset:
    return Changeset(row["id"], row["kind"], row["state"], row["created_by"], row["created_at"], row["updated_at"],
                     row["filename"], row["base_sha"], row["layout"], json.loads(row["mapping"]),
                     json.loads(row["fixes"]), json.loads(row["summary"]), row["published_version"])


def get(conn: sqlite3.Connection, changeset_id: int) -> Changeset:
    row = conn.execute("SELECT * FROM changesets WHERE id = ?", (changeset_id,)).fetchone()
    if row is None:
        raise NotFound(f"nie ma zestawu zmian nr {changeset_id}")
    return _changeset(row)


def listing(conn: sqlite3.Connection, states: tuple[str, ...] = OPEN_STATES, limit: int = 50) -> list[Changeset]:
    marks = ",".join("?" * len(states))
    rows = conn.execute(f"SELECT * FROM changesets WHERE state IN ({marks}) ORDER BY id DESC LIMIT ?",
                        (*states, limit))
    return [_changeset(r) for r in rows]


def load_file(conn: sqlite3.Connection, changeset_id: int, name: str) -> bytes | None:
    row = conn.execute("SELECT data FROM changeset_files WHERE changeset_id = ? AND name = ?",
                       (changeset_id, name)).fetchone()
    return bytes(row[0]) if row is not None else None


def _store_file(conn: sqlite3.Connection, changeset_id: int, name: str, data: bytes) -> None:
    conn.execute("INSERT OR REPLACE INTO changeset_files (changeset_id, name, data) VALUES (?, ?, ?)",
                 (changeset_id, name, data))


def _update(conn: sqlite3.Connection, cs_id: int, **values) -> None:
    for key in ("mapping", "fixes", "summary"):
        if key in values:
            values[key] = json.dumps(values[key], ensure_ascii=False)
    values["updated_at"] = now_iso()
    sets = ", ".join(f"{k} = ?" for k in values)
    conn.execute(f"UPDATE changesets SET {sets} WHERE id = ?", (*values.values(), cs_id))


def preview_of(conn: sqlite3.Connection, changeset_id: int) -> imports.Preview | None:
    data = load_file(conn, changeset_id, "preview")
    return imports.Preview.from_json(json.loads(data)) if data else None


def proposal_of(conn: sqlite3.Connection, changeset_id: int) -> imports.MappingProposal | None:
    data = load_file(conn, changeset_id, "proposal")
    return imports.MappingProposal.from_json(json.loads(data)) if data else None


def merged_of(conn: sqlite3.Connection, changeset_id: int) -> pd.DataFrame:
    data = load_file(conn, changeset_id, "merged")
    if data is None:
        raise Conflict(f"zestaw zmian nr {changeset_id} nie ma jeszcze podglądu")
    return frame_from_csv(data)


def rows_of(conn: sqlite3.Connection, changeset_id: int) -> imports.StagedRows:
    data = load_file(conn, changeset_id, "rows")
    if data is None:
        raise Conflict(f"zestaw zmian nr {changeset_id}: plik nie został jeszcze odczytany")
    return imports.StagedRows.from_json(json.loads(data))


def require_open(cs: Changeset) -> None:
    if not cs.is_open:
        raise Conflict(f"zestaw zmian nr {cs.id} jest już {cs.state_label} — nie można go zmienić")


# --- uploads --------------------------------------------------------------------------------------

_HIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
MAX_NAME = 200


def upload_name(filename: str | None) -> str:
    """The file's name as the operator sent it, fit to show and store: its last path part, without control
    or text-direction characters, at most MAX_NAME characters (the extension kept)."""
    name = _HIDDEN.sub("", str(filename or "")).replace("\\", "/").rsplit("/", 1)[-1].strip() or "rejestr"
    if len(name) > MAX_NAME:
        suffix = Path(name).suffix[:10]
        name = name[:MAX_NAME - len(suffix) - 1] + "…" + suffix
    return name


class scratch_file:
    """Bytes as a file in a private temporary directory (the importer reads paths), removed afterwards
    whatever happens. On disk the file has a short name of its own with the upload's extension — the
    operator's name (which may be long, Polish or odd) is only what messages call it."""

    def __init__(self, settings: Settings, data: bytes, filename: str):
        self.root = console_dir(settings) / "tmp"
        self.data = data
        suffix = Path(upload_name(filename)).suffix.lower()
        self.name = "plik" + (suffix if re.fullmatch(r"\.[a-z0-9]{1,9}", suffix) else ".csv")

    def __enter__(self) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        self.dir = Path(tempfile.mkdtemp(dir=self.root))
        self.path = self.dir / self.name
        try:
            with open(self.path, "xb") as fh:
                fh.write(self.data)
        except BaseException:
            shutil.rmtree(self.dir, ignore_errors=True)
            raise
        return self.path

    def __exit__(self, *exc):
        shutil.rmtree(self.dir, ignore_errors=True)
        return False


def saved_mapping(conn: sqlite3.Connection, layout: str) -> dict[str, str]:
    row = conn.execute("SELECT mapping FROM mappings WHERE layout = ?", (layout,)).fetchone()
    return json.loads(row[0]) if row else {}


def _store_json(conn, cs_id: int, name: str, value: dict) -> None:
    _store_file(conn, cs_id, name, json.dumps(value, ensure_ascii=False).encode("utf-8"))


def _quiet(_stage: str) -> None:
    pass


def create_upload(conn: sqlite3.Connection, settings: Settings, actor: str, filename: str, data: bytes,
                  progress: Callable[[str], None] = _quiet, staged: Callable[[int], None] = lambda _id: None) -> Changeset:
    """Read and stage an uploaded register; its preview when the mapping is certain (or saved). A file
    the importer refuses stages nothing. `progress` is told each stage (Polish), for the progress page;
    `staged` the change set's number as soon as it is stored (before its preview is made)."""
    name = upload_name(filename)
    progress("odczyt pliku")
    with scratch_file(settings, data, name) as path:
        office = imports.read_upload(path, name, settings)
    progress(f"rozpoznawanie kolumn ({count(sum(len(s.rows) for s in office.sheets), 'wiersz')} w pliku)")
    proposal, rows = imports.propose(office, settings, name=name)
    saved = saved_mapping(conn, proposal.layout)
    if saved:
        proposal, rows = imports.propose(office, settings, saved, name=name)
    with transaction(conn):
        now = now_iso()
        cur = conn.execute(
            "INSERT INTO changesets (kind, state, created_by, created_at, updated_at, filename, base_sha, layout, "
            "mapping) VALUES ('upload', 'mapping', ?, ?, ?, ?, ?, ?, ?)",
            (actor, now, now, name, register_sha(settings), proposal.layout,
             json.dumps(proposal.mapping(), ensure_ascii=False)))
        cs_id = cur.lastrowid
        _store_file(conn, cs_id, "upload", data)
        _store_json(conn, cs_id, "proposal", proposal.to_json())
        _store_json(conn, cs_id, "rows", rows.to_json())
        audit.record(conn, actor, "upload", f"zestaw {cs_id}", file=name, bytes=len(data), rows=len(rows.data),
                     saved_mapping=bool(saved))
    staged(cs_id)
    if not proposal.needs_confirmation:
        compute(conn, settings, get(conn, cs_id), progress)
    return get(conn, cs_id)


def confirm_mapping(conn: sqlite3.Connection, settings: Settings, cs_id: int, actor: str,
                    choices: dict[int, str], save: bool, progress: Callable[[str], None] = _quiet,
                    preview: bool = True) -> Changeset:
    """The operator's mapping, checked and stored; the preview made (`preview=False`: left to a job)."""
    cs = get(conn, cs_id)
    require_open(cs)
    if cs.kind != "upload":
        raise Conflict("mapowanie dotyczy tylko wczytanych plików")
    proposal = imports.confirm_mapping(rows_of(conn, cs_id), settings, choices)
    mapping = proposal.mapping()
    with transaction(conn):
        _store_json(conn, cs_id, "proposal", proposal.to_json())
        _update(conn, cs_id, mapping=mapping)
        audit.record(conn, actor, "mapping", f"zestaw {cs_id}", mapping=mapping)
        if save:
            conn.execute("INSERT OR REPLACE INTO mappings (layout, headers, mapping, saved_by, saved_at) "
                         "VALUES (?, ?, ?, ?, ?)",
                         (cs.layout, json.dumps([c.header for c in proposal.columns], ensure_ascii=False),
                          json.dumps(mapping, ensure_ascii=False), actor, now_iso()))
            audit.record(conn, actor, "mapping_saved", cs.filename, layout=cs.layout)
    return compute(conn, settings, get(conn, cs_id), progress) if preview else get(conn, cs_id)


def compute(conn: sqlite3.Connection, settings: Settings, cs: Changeset,
            progress: Callable[[str], None] = _quiet) -> Changeset:
    """(Re)make the preview of a change set against the register as it is now."""
    progress("podgląd: porównanie z rejestrem, możliwe duplikaty, umieszczanie na mapie")
    base_bytes = register_bytes(settings)
    base = frame_from_csv(base_bytes)
    rejects = b""
    if cs.kind == "upload":
        merged, shown, rejects = imports.preview(rows_of(conn, cs.id), cs.mapping, base, settings, cs.fixes)
    else:
        merged, shown = _apply_edits(base, cs.fixes.get("edits", []), settings)
    counts = {"added": len(shown.added), "changed": len(shown.changed), "unchanged": shown.unchanged,
              "warned": len(shown.warned), "rejected": len(shown.rejected), "rows": shown.rows_read,
              "ignored": list(shown.ignored_columns)}
    progress("zapisywanie podglądu")
    with transaction(conn):
        _store_file(conn, cs.id, "merged", frame_to_csv(merged))
        _store_json(conn, cs.id, "preview", shown.to_json())
        _store_file(conn, cs.id, "rejects", rejects)
        _update(conn, cs.id, state="preview", base_sha=sha(base_bytes), summary=counts)
    return get(conn, cs.id)


def fix_row(conn: sqlite3.Connection, settings: Settings, cs_id: int, actor: str, row: int,
            values: dict[str, str], progress: Callable[[str], None] = _quiet, preview: bool = True) -> Changeset:
    """The operator's correction of one row of an upload; the preview is made again (`preview=False`: by
    a job)."""
    cs = get(conn, cs_id)
    require_open(cs)
    if cs.kind != "upload" or cs.state != "preview":
        raise Conflict("poprawiać można wiersze wczytanego pliku po zatwierdzeniu mapowania")
    if rows_of(conn, cs_id).values(row, cs.mapping) is None:
        raise NotFound(f"w pliku nie ma wiersza {row}")
    allowed = {t for t, _ in imports.mapping_targets()}
    clean = {k: str(v).strip() for k, v in values.items() if k in allowed}
    fixes = dict(cs.fixes)
    fixes[str(int(row))] = {**fixes.get(str(int(row)), {}), **clean}
    with transaction(conn):
        _update(conn, cs_id, fixes=fixes)
        audit.record(conn, actor, "row_fix", f"zestaw {cs_id}, wiersz {row}", values=clean)
    return compute(conn, settings, get(conn, cs_id), progress) if preview else get(conn, cs_id)


def refresh(conn: sqlite3.Connection, settings: Settings, cs_id: int, actor: str,
            progress: Callable[[str], None] = _quiet, preview: bool = True) -> Changeset:
    cs = get(conn, cs_id)
    require_open(cs)
    if cs.state != "preview":
        raise Conflict("najpierw zatwierdź mapowanie")
    with transaction(conn):
        audit.record(conn, actor, "refresh", f"zestaw {cs_id}")
    return compute(conn, settings, cs, progress) if preview else cs


def discard(conn: sqlite3.Connection, cs_id: int, actor: str, reason: str = "") -> None:
    cs = get(conn, cs_id)
    require_open(cs)
    with transaction(conn):
        _update(conn, cs_id, state="discarded")
        conn.execute("DELETE FROM changeset_files WHERE changeset_id = ? AND name IN ('upload', 'rows', 'merged')",
                     (cs_id,))
        audit.record(conn, actor, "discard", f"zestaw {cs_id}", file=cs.filename, **({"reason": reason} if reason else {}))


def is_stale(cs: Changeset, settings: Settings) -> bool:
    return cs.state == "preview" and cs.base_sha != register_sha(settings)


# --- single-entity edits --------------------------------------------------------------------------

def open_draft(conn: sqlite3.Connection, actor: str) -> Changeset | None:
    row = conn.execute("SELECT * FROM changesets WHERE kind = 'edit' AND state = 'preview' AND created_by = ? "
                       "ORDER BY id DESC LIMIT 1", (actor,)).fetchone()
    return _changeset(row) if row else None


def _strings(valid: pd.DataFrame) -> dict[str, str]:
    rec = valid.iloc[0]
    out = {c: ("" if pd.isna(rec[c]) else str(rec[c])) for c in COLUMNS}
    for c in ("lat", "lon"):
        out[c] = "" if pd.isna(rec[c]) else f"{float(rec[c]):.6f}"
    return out


def validate_entity(record: dict[str, str], settings: Settings) -> dict[str, str]:
    """The record normalised by geoes.register.validate, or EntityInvalid with its reasons.

    Where an import drops a bad optional value with a warning (a file's row should not be lost for
    it), an operator typing into the form is asked to correct it instead: a warning refuses the edit too.
    """
    one = pd.DataFrame([{c: str(record.get(c, "") or "").strip() for c in COLUMNS}], dtype=object)
    one.insert(0, "row", [2])
    checked = validate_frame(one, units=imports.territory(settings))
    problems = [(str(r.column), str(r.reason)) for r in checked.rejects.itertuples()]
    # "— pominięto" tells an import the value was dropped; here the operator is asked to correct it.
    problems += [(str(r.column), str(r.reason).removesuffix(" — pominięto")) for r in checked.warnings.itertuples()]
    if problems:
        raise EntityInvalid(problems)
    return _strings(checked.valid)


def _apply_one(frame: pd.DataFrame, entity_id: str, values: dict, settings: Settings) -> tuple[pd.DataFrame, str]:
    hit = frame.index[frame["id"] == entity_id]
    if len(hit):
        old = frame.loc[hit[0], COLUMNS].to_dict()
        record = {**old, **values, "id": entity_id}
        moved = any(record[c] != old[c] for c in ADDRESS_FIELDS)
        kept_point = all(record[c] == old[c] for c in ("lat", "lon"))
        if moved and kept_point and not old["geocoder"].startswith(imports.GEOCODER_CLICK):
            record.update(lat="", lon="", location_precision="none", geocoder="")  # placed again below
        clean = validate_entity(record, settings)
        frame = frame.copy()
        for c in COLUMNS:
            frame.at[hit[0], c] = clean[c]
        return frame, entity_id
    record = {c: "" for c in COLUMNS}
    record.update(values)
    record["id"] = entity_id
    clean = validate_entity(record, settings)
    return pd.concat([frame, pd.DataFrame([clean], columns=COLUMNS, dtype=object)], ignore_index=True), entity_id


def _apply_edits(base: pd.DataFrame, edits: list[dict], settings: Settings) -> tuple[pd.DataFrame, imports.Preview]:
    merged = base.copy()
    touched = []
    for edit in edits:
        merged, entity_id = _apply_one(merged, edit["id"], edit["values"], settings)
        touched.append(entity_id)
    merged, warnings = imports.place_rows(merged, set(touched), settings)
    diff = diff_registers(base, merged)
    by_id = merged.set_index("id")
    shown = imports.Preview(rows_read=len(edits), source="edycja w konsoli")
    shown.added = [{"row": 0, "id": i, "name": by_id.at[i, "name"], "types": by_id.at[i, "types"],
                    "locality": by_id.at[i, "locality"], "precision": by_id.at[i, "location_precision"]}
                   for i in diff.added]
    shown.changed = [{"row": 0, "id": i, "name": by_id.at[i, "name"], "diffs": [list(d) for d in ds]}
                     for i, ds in diff.changed.items()]
    shown.warned = [{"row": 0, "id": i, "name": by_id.at[i, "name"], "reasons": r, "candidates": c}
                    for i, r, c in warnings]
    return merged, shown


def operator_check(how: str, source: str = "", date: str = "", role: str = "") -> dict[str, str]:
    """An operator's check as the record keeps it: `verified_at` (the date of the check), `verified_source`
    "operator" and `verified_evidence` — the source's address or document, or a phone call with its date
    and the role of the person reached (never a name: the evidence is published). {} when `how` is empty;
    EntityInvalid when what the check rests on is missing."""
    how, source, date, role = (str(v or "").strip() for v in (how, source, date, role))
    if not how:
        return {}
    problems = []
    if how not in CHECK_KINDS:
        problems.append(("verified_evidence", "wybierz, jak sprawdzono: źródło albo rozmowa telefoniczna"))
    if not date:
        problems.append(("verified_at", "podaj datę sprawdzenia"))
    if how == "source" and not source:
        problems.append(("verified_evidence", "podaj adres źródła (strony) albo nazwę dokumentu, w którym to sprawdzono"))
    if how == "phone" and not role:
        problems.append(("verified_evidence", "podaj funkcję osoby, z którą rozmawiano (np. kierownik warsztatu) — "
                                              "bez imienia i nazwiska"))
    if problems:
        raise EntityInvalid(problems)
    evidence = f"źródło: {source}" if how == "source" else f"rozmowa telefoniczna {date}, rozmówca: {role}"
    return {"verified_at": date, "verified_source": "operator", "verified_evidence": evidence[:500]}


def _check_status(values: dict[str, str], current: pd.DataFrame, entity_id: str | None) -> None:
    """A status becomes "active" only from evidence: a check recorded in the same edit."""
    if values.get("status") != "active" or values.get("verified_evidence"):
        return
    hit = current[current["id"] == entity_id] if entity_id else current.iloc[0:0]
    if len(hit) and hit.iloc[0]["status"] == "active":
        return
    raise EntityInvalid([("status", ACTIVE_NEEDS_CHECK)])


def new_entity_id(name: str, locality: str, register: pd.DataFrame) -> str:
    entity_id = imports.new_entity_id(name, locality)
    if (register["id"] == entity_id).any():
        raise EntityInvalid([("name", f"podmiot o tej nazwie w tej miejscowości już jest w rejestrze ({entity_id})")])
    return entity_id


def edit_entity(conn: sqlite3.Connection, settings: Settings, actor: str, entity_id: str | None,
                values: dict[str, str], action: str = "entity_edit", new_id: str | None = None) -> Changeset:
    """Add (entity_id None; the id is `new_id` or made from the name and locality) or edit one entity in
    the operator's open draft, with the register's validation; the draft is published like an upload."""
    values = {k: str(v).strip() for k, v in values.items() if k in COLUMNS and k != "id"}
    if "status" in values and values["status"] not in STATUSES:
        raise EntityInvalid([("status", "status: active, inactive lub unknown")])
    draft = open_draft(conn, actor)
    if draft is not None and is_stale(draft, settings):
        draft = compute(conn, settings, draft)
    base = read_register(settings)
    current = merged_of(conn, draft.id) if draft else base
    if entity_id is None:
        action = "entity_add"
        entity_id = new_id or new_entity_id(values.get("name", ""), values.get("locality", ""), current)
        if (current["id"] == entity_id).any():
            raise EntityInvalid([("id", f"podmiot {entity_id} już jest w rejestrze")])
    elif not (current["id"] == entity_id).any():
        raise NotFound(f"w rejestrze nie ma podmiotu {entity_id}")
    _check_status(values, current, entity_id if action != "entity_add" else None)
    _apply_one(current, entity_id, values, settings)  # refuses an invalid edit before anything is stored
    edits = list(draft.fixes.get("edits", [])) if draft else []
    edits.append({"id": entity_id, "values": values})
    with transaction(conn):
        if draft is None:
            now = now_iso()
            cur = conn.execute("INSERT INTO changesets (kind, state, created_by, created_at, updated_at, base_sha) "
                               "VALUES ('edit', 'preview', ?, ?, ?, ?)", (actor, now, now, register_sha(settings)))
            cs_id = cur.lastrowid
        else:
            cs_id = draft.id
        _update(conn, cs_id, fixes={"edits": edits})
        audit.record(conn, actor, action, entity_id, values=values, changeset=cs_id)
    return compute(conn, settings, get(conn, cs_id))
