"""Publishing a staged change and restoring an earlier version.

Publish = build a new dataset version from the change set's register with the existing atomic build
(geoes.dataset.build: written aside, switched in one rename; the web store picks the new version up
without a restart), then put that register in place as `data/entities.csv` (an atomic rename too).
The build reads a staged copy, so a publish killed before the switch leaves both the served version
and the register as they were; the change set stays ready to publish again.

Two publishes cannot mix: the whole publish runs under a lock of its own (the second operator is told
who is publishing), the build under the build lock (a build started from the command line is reported
the same way), and a change set prepared against another register than the current one is refused
until its preview is made again.

Every version published or restored here keeps the entities file it was built from — in the version's
directory and, compressed, in the console's store — so it can be restored after the build has pruned
its directory: restoring switches back to the kept directory, or builds the kept input again.

With GEOES_DATABASE_URL the register, the versions and the console's store are in PostgreSQL, and the
publish lock is an advisory lock there: two operators on two instances get the same 409 as on one (the
holder's name is kept beside the lock), and a lock whose instance died is released with its connection.
"""
from __future__ import annotations

import fcntl
import json
import re
import sqlite3
import zlib
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from geoes.common import database
from geoes.common.atomic import atomic_write_bytes
from geoes.common.polish import POLISH_TIME
from geoes.config import Settings
from geoes.console import audit, changes, queue
from geoes.console.db import connect, console_dir, now_iso, transaction
from geoes.dataset import pgstore
from geoes.dataset.build import (INDICATORS_NAME, INPUT_NAME, BuildLocked, build, build_lock, current_version,
                                 switch_current)
from geoes.errors import Conflict, GeoesError, NotFound
from geoes.register import stored

STAGING_NAME = "entities.csv"
# A version is a directory name under data/build: no dots or slashes, so it cannot point elsewhere.
VERSION_RE = re.compile(r"[0-9A-Za-z][0-9A-Za-z_-]{0,127}")


class PublishBusy(Conflict):
    """Another publish or build is running."""


PUBLISH_LOCK = "geoes:publish"


def _busy(holder: str) -> PublishBusy:
    return PublishBusy(f"Trwa publikacja ({holder or 'inny operator'}). Poczekaj, aż się skończy, i spróbuj "
                       "ponownie — zmiany nie zostały opublikowane.")


def _holder(actor: str) -> str:
    return f"{actor}, od {datetime.now(POLISH_TIME):%H:%M:%S}"


@contextmanager
def _database_publish_lock(settings: Settings, actor: str):
    with database.advisory_lock(settings.database_url, PUBLISH_LOCK) as held:
        conn = connect(settings)
        try:
            if held is None:
                row = conn.execute("SELECT holder FROM publish_holder").fetchone()
                raise _busy(row[0] if row else "")
            conn.execute("INSERT OR REPLACE INTO publish_holder (id, holder) VALUES (TRUE, ?)", (_holder(actor),))
        finally:
            conn.close()
        yield


@contextmanager
def publish_lock(settings: Settings, actor: str):
    if settings.uses_database:
        with _database_publish_lock(settings, actor):
            yield
        return
    path = console_dir(settings) / "publish.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            raise _busy(fh.read().strip()) from None
        fh.seek(0)
        fh.truncate()
        fh.write(_holder(actor))
        fh.flush()
        try:
            yield
        finally:
            fh.truncate(0)
            fcntl.flock(fh, fcntl.LOCK_UN)


def _build_from(settings: Settings, data: bytes):
    """Build a version from register bytes staged beside the console's store (not data/entities.csv)."""
    staging = console_dir(settings) / "staging" / STAGING_NAME
    atomic_write_bytes(staging, data)
    try:
        return build(settings, staging)
    except BuildLocked:
        raise PublishBusy("Trwa przebudowa danych (np. uruchomiona z wiersza poleceń). Spróbuj ponownie za "
                          "chwilę — zmiany nie zostały opublikowane.") from None


def summarise(old: pd.DataFrame, new: pd.DataFrame) -> dict:
    """What changed between two registers: counts added / changed / removed, overall and by type."""
    diff = changes.diff_registers(old, new)
    by_type: dict[str, dict[str, int]] = {}

    def count(frame: pd.DataFrame, ids, key: str) -> None:
        types = frame.drop_duplicates("id").set_index("id")["types"]
        for entity_id in ids:
            for code in filter(None, str(types.get(entity_id, "")).split(";")):
                by_type.setdefault(code, {"added": 0, "changed": 0, "removed": 0})[key] += 1

    count(new, diff.added, "added")
    count(new, diff.changed, "changed")
    count(old, diff.removed, "removed")
    return {"added": len(diff.added), "changed": len(diff.changed), "removed": len(diff.removed),
            "by_type": dict(sorted(by_type.items())), "entities": int(len(new)),
            "added_ids": diff.added[:200], "changed_ids": list(diff.changed)[:200], "removed_ids": diff.removed[:200]}


def _archive(conn: sqlite3.Connection, version: str, action: str, actor: str, data: bytes,
             summary: dict, changeset_id: int | None = None, restored_from: str = "") -> None:
    conn.execute(
        "INSERT OR IGNORE INTO versions (version, action, at, actor, changeset_id, restored_from, entities_sha, "
        "entities, summary) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (version, action, now_iso(), actor, changeset_id, restored_from, changes.sha(data), zlib.compress(data, 6),
         json.dumps(summary, ensure_ascii=False)))


class SiteChanged(Conflict):
    """The public site changed between the summary the operator confirmed and the confirmation."""


def _check_expected(settings: Settings, expected: str | None) -> str | None:
    """The served version, which must still be the one the confirmed summary named (`expected`; None: not
    asked). Otherwise the operator confirmed a summary that is no longer true: refused."""
    served = current_version(settings)
    if expected is not None and (served or "") != expected:
        raise SiteChanged("Od pokazania podsumowania strona publiczna przełączyła się na inną wersję (ktoś inny "
                          "opublikował lub przywrócił dane). Nic nie zostało zmienione — sprawdź podsumowanie "
                          "jeszcze raz i potwierdź ponownie.")
    return served


def source_of(cs: changes.Changeset) -> dict:
    """Where a published change set came from: a file (its name), edits in the console, public reports or
    other queue items accepted into the edits (their numbers)."""
    if cs.kind == "upload":
        return {"kind": "file", "file": cs.filename, "changeset": cs.id}
    edits = cs.fixes.get("edits", [])
    items = sorted({int(e["queue_item"]) for e in edits if e.get("queue_item")})
    return {"kind": "edit", "changeset": cs.id, "queue_items": items,
            "edits": sum(1 for e in edits if not e.get("queue_item")),
            "entities": len({e["id"] for e in edits})}


def plan_publish(conn: sqlite3.Connection, settings: Settings, cs_id: int) -> dict:
    """What publishing the change set would change — the summary the operator confirms: counts added /
    changed / removed by type, the version it would replace, where it comes from. Nothing is written."""
    cs = changes.get(conn, cs_id)
    if cs.state != "preview":
        raise Conflict(f"zestaw zmian nr {cs_id} jest {cs.state_label} — nie można go opublikować")
    old_bytes = changes.register_bytes(settings)
    summary = summarise(changes.frame_from_csv(old_bytes), changes.merged_of(conn, cs_id))
    summary.update(replaces=current_version(settings), stale=changes.sha(old_bytes) != cs.base_sha,
                   source=source_of(cs))
    return summary


def plan_restore(conn: sqlite3.Connection, settings: Settings, version: str) -> dict:
    """What restoring `version` would change (the register as it is → the version's register) and the
    version it would replace. Nothing is written."""
    _check_version_name(settings, version)
    data = _input_of(conn, settings, version)
    if data is None:
        raise NotFound(f"Wersji {version} nie da się przywrócić: nie zachował się plik podmiotów, "
                       "z którego ją zbudowano.")
    summary = summarise(changes.read_register(settings), changes.frame_from_csv(data))
    summary.update(replaces=current_version(settings), restored_from=version)
    return summary


def publish(conn: sqlite3.Connection, settings: Settings, cs_id: int, actor: str,
            expected: str | None = None) -> dict:
    """Publish a change set; returns what changed (version, counts, by type). `expected`: the version the
    operator saw served when confirming (a confirmation of a summary that has since changed is refused)."""
    with publish_lock(settings, actor):
        cs = changes.get(conn, cs_id)
        if cs.state != "preview":
            raise Conflict(f"zestaw zmian nr {cs_id} jest {cs.state_label} — nie można go opublikować")
        old_bytes = changes.register_bytes(settings)
        if changes.sha(old_bytes) != cs.base_sha:
            raise Conflict("Rejestr zmienił się od przygotowania tego podglądu (ktoś opublikował inne zmiany). "
                           "Odśwież podgląd, sprawdź go i opublikuj ponownie.")
        data = changes.load_file(conn, cs_id, "merged")
        previous = _check_expected(settings, expected)
        sync_archive(conn, settings)  # before this build prunes the oldest directory
        try:
            result = _build_from(settings, data)
        except GeoesError as exc:
            with transaction(conn):
                audit.record(conn, actor, "publish_failed", f"zestaw {cs_id}", reason=exc.description)
            raise
        stored.write_bytes(settings, data)
        summary = summarise(changes.frame_from_csv(old_bytes), changes.frame_from_csv(data))
        summary.update(version=result.version, previous=previous, placed=result.placed,
                       rejected_rows=result.rejected_rows, changeset=cs_id, source=source_of(cs))
        with transaction(conn):
            _archive(conn, result.version, "publish", actor, data, summary, cs_id)
            changes._update(conn, cs_id, state="published", published_version=result.version)
            audit.record(conn, actor, "publish", result.version, changeset=cs_id, **_outcome(summary))
        _queue_review(conn, cs)
    return summary


def _queue_review(conn: sqlite3.Connection, cs: changes.Changeset) -> None:
    """The corrections the published upload set aside for review go to the queue now: the import happened."""
    shown = changes.preview_of(conn, cs.id) if cs.kind == "upload" else None
    if shown is not None and shown.review:
        queue.add_review_rows(conn, shown.review, f"{Path(cs.filename).stem}.do_przegladu.csv")


# --- versions -------------------------------------------------------------------------------------

@dataclass
class Version:
    version: str
    built_at: str
    entities: int | None
    current: bool
    kept_dir: bool                 # the build directory is still there (switching back is instant)
    restorable: bool               # its entities file is kept (in the directory or the store)
    action: str = ""
    actor: str = ""
    at: str = ""
    summary: dict | None = None
    source: dict = field(default_factory=dict)   # where it came from (publish.source_of; restore; the CLI)
    restored: tuple[str, str] | None = None      # (when, who) it was last put back on the site by a restore


def _dir_versions(settings: Settings) -> dict[str, dict]:
    """The built versions still kept: {version: {"built_at", "entities", "input"}} (directories under
    data/build, or the versions stored in the database)."""
    if settings.uses_database:
        return pgstore.kept(settings)
    out = {}
    if not settings.build_dir.is_dir():
        return out
    for p in settings.build_dir.iterdir():
        if p.is_dir() and not p.is_symlink() and not p.name.startswith(".") and (p / INDICATORS_NAME).exists():
            try:
                meta = json.loads((p / INDICATORS_NAME).read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            out[p.name] = {"built_at": meta.get("built_at", ""), "entities": meta.get("entities_total"),
                           "input": (p / INPUT_NAME).exists()}
    return out


def sync_archive(conn: sqlite3.Connection, settings: Settings) -> None:
    """Keep the input of every built version (also those built from the command line) in the store, so
    that pruning its directory does not make it unrestorable; a command-line build is kept with what it
    changed against the version before it (so the version list can say it too)."""
    known = {r[0] for r in conn.execute("SELECT version FROM versions")}
    dirs = _dir_versions(settings)
    for name in sorted(dirs):
        meta = dirs[name]
        if name in known or not meta["input"]:
            continue
        data = _kept_input(settings, name)
        if data is None:
            continue  # pruned meanwhile
        summary = {"entities": meta["entities"], "source": {"kind": "cli"}}
        before = [v for v in sorted(known | set(dirs)) if v < name]
        old = _input_of(conn, settings, before[-1]) if before else None
        if old is not None:
            summary.update(summarise(changes.frame_from_csv(old), changes.frame_from_csv(data)), previous=before[-1])
        with transaction(conn):
            _archive(conn, name, "build", "wiersz poleceń", data, summary)
        known.add(name)


def _source(row, changesets: dict[int, changes.Changeset]) -> dict:
    """A version's origin: recorded with it, or (a version published before that was recorded) its change set."""
    summary = json.loads(row["summary"]) if row["summary"] else {}
    if summary.get("source"):
        return summary["source"]
    if row["action"] == "publish" and row["changeset_id"] in changesets:
        return source_of(changesets[row["changeset_id"]])
    return {"kind": {"restore": "restore", "build": "cli"}.get(row["action"], ""),
            "restored_from": row["restored_from"]}


def versions(conn: sqlite3.Connection, settings: Settings) -> list[Version]:
    """Every version known, newest first: those still built, and those the store keeps the input of."""
    sync_archive(conn, settings)
    dirs = _dir_versions(settings)
    current = current_version(settings)
    rows = {r["version"]: r for r in conn.execute(
        "SELECT version, action, at, actor, summary, changeset_id, restored_from FROM versions")}
    # A kept version restored is switched back to, not built again: the restore is an event of the version.
    restored = {r["target"]: (r["at"], r["actor"]) for r in conn.execute(
        "SELECT target, at, actor FROM audit WHERE action = 'restore' ORDER BY id")}
    numbers = sorted({r["changeset_id"] for r in rows.values() if r["changeset_id"]})
    sets = {n: changes.get(conn, n) for n in numbers
            if conn.execute("SELECT 1 FROM changesets WHERE id = ?", (n,)).fetchone()}
    out = []
    for name in sorted(set(dirs) | set(rows), reverse=True):
        d, r = dirs.get(name), rows.get(name)
        summary = json.loads(r["summary"]) if r else None
        out.append(Version(
            name, d["built_at"] if d else _stamp(name), d["entities"] if d else (summary or {}).get("entities"),
            name == current, d is not None, bool(r) or bool(d and d["input"]),
            r["action"] if r else "", r["actor"] if r else "", r["at"] if r else "", summary,
            _source(r, sets) if r else {}, restored.get(name)))
    return out


def version_info(conn: sqlite3.Connection, settings: Settings, version: str | None) -> Version | None:
    """One version as the list shows it (None: no such version, or none served yet)."""
    if not version:
        return None
    return next((v for v in versions(conn, settings) if v.version == version), None)


@dataclass
class VersionDiff:
    """What a version changed against the one before it (on the site before it, or built before it)."""
    previous: str | None
    added: list[dict]            # id, name, types
    changed: list[dict]          # id, name, diffs [(column, old, new)]
    removed: list[dict]          # id, name, types
    known: bool = True           # False: the previous version's register is not kept, nothing to compare


def version_diff(conn: sqlite3.Connection, settings: Settings, version: str) -> VersionDiff | None:
    """The entities a version added, changed (field by field) and removed — read from the registers the two
    versions were built from. None when the version's own register is not kept."""
    new_bytes = _input_of(conn, settings, version)
    if new_bytes is None:
        return None
    row = conn.execute("SELECT summary FROM versions WHERE version = ?", (version,)).fetchone()
    previous = (json.loads(row[0]) if row else {}).get("previous")
    if not previous:
        names = sorted({r[0] for r in conn.execute("SELECT version FROM versions")} | set(_dir_versions(settings)))
        before = [v for v in names if v < version]
        previous = before[-1] if before else None
    old_bytes = _input_of(conn, settings, previous) if previous else None
    if previous and old_bytes is None:
        return VersionDiff(previous, [], [], [], known=False)
    old, new = changes.frame_from_csv(old_bytes or b""), changes.frame_from_csv(new_bytes)
    diff = changes.diff_registers(old, new)
    new_by, old_by = new.drop_duplicates("id").set_index("id"), old.drop_duplicates("id").set_index("id")

    def entity(frame, entity_id) -> dict:
        return {"id": entity_id, "name": frame.at[entity_id, "name"], "types": frame.at[entity_id, "types"]}

    return VersionDiff(previous, [entity(new_by, i) for i in diff.added],
                       [{**entity(new_by, i), "diffs": d} for i, d in diff.changed.items()],
                       [entity(old_by, i) for i in diff.removed])


def _stamp(version: str) -> str:
    try:
        when = datetime.strptime(version.split("-")[0], "%Y%m%dT%H%M%S%fZ").replace(tzinfo=timezone.utc)
    except ValueError:
        return ""
    return when.isoformat(timespec="seconds")


def _kept_input(settings: Settings, version: str) -> bytes | None:
    """The entities file a kept version was built from (None when it is not kept)."""
    if settings.uses_database:
        return pgstore.input_of(settings, version)
    path = settings.build_dir / version / INPUT_NAME
    return path.read_bytes() if path.exists() else None


def _input_of(conn: sqlite3.Connection, settings: Settings, version: str) -> bytes | None:
    row = conn.execute("SELECT entities FROM versions WHERE version = ?", (version,)).fetchone()
    if row is not None:
        return zlib.decompress(row[0])
    return _kept_input(settings, version)


def _is_kept(settings: Settings, version: str) -> bool:
    """The version's layers are still there: switching back to it needs no build."""
    if settings.uses_database:
        return version in pgstore.kept(settings)
    kept = settings.build_dir / version
    return (kept / INDICATORS_NAME).exists() and (kept / INPUT_NAME).exists()


def _check_version_name(settings: Settings, version: str) -> None:
    if not VERSION_RE.fullmatch(version or "") or (
            not settings.uses_database and (settings.build_dir / version).is_symlink()):
        raise NotFound(f"nie ma wersji „{version}”")  # `current` is the link, not a version


def restore(conn: sqlite3.Connection, settings: Settings, version: str, actor: str,
            expected: str | None = None) -> dict:
    """Serve `version` again and put its entities file back as the register. `expected`: as in `publish`."""
    _check_version_name(settings, version)
    with publish_lock(settings, actor):
        data = _input_of(conn, settings, version)
        if data is None:
            raise NotFound(f"Wersji {version} nie da się przywrócić: nie zachował się plik podmiotów, "
                           "z którego ją zbudowano.")
        old_bytes = changes.register_bytes(settings)
        previous = _check_expected(settings, expected)
        sync_archive(conn, settings)
        if _is_kept(settings, version):
            try:
                with build_lock(settings):
                    switch_current(settings, version)
            except BuildLocked:
                raise PublishBusy("Trwa przebudowa danych. Spróbuj ponownie za chwilę.") from None
            served = version
        else:  # pruned: build the kept input again (a new version with the same register)
            served = _build_from(settings, data).version
        stored.write_bytes(settings, data)
        summary = summarise(changes.frame_from_csv(old_bytes), changes.frame_from_csv(data))
        summary.update(version=served, previous=previous, restored_from=version,
                       source={"kind": "restore", "restored_from": version})
        with transaction(conn):
            _archive(conn, served, "restore", actor, data, summary, restored_from=version)
            audit.record(conn, actor, "restore", served, **_outcome(summary))
    return summary


def _outcome(summary: dict) -> dict:
    keys = ("version", "previous", "restored_from", "added", "changed", "removed", "by_type", "entities",
            "placed", "rejected_rows", "source", "added_ids", "changed_ids", "removed_ids")
    return {k: summary[k] for k in keys if k in summary}


def outcome(conn: sqlite3.Connection, version: str) -> tuple[audit.Entry, dict] | None:
    """The latest publish or restore that made `version` the served one, and what it changed."""
    row = conn.execute("SELECT id FROM audit WHERE action IN ('publish', 'restore') AND target = ? "
                       "ORDER BY id DESC LIMIT 1", (version,)).fetchone()
    if row is None:
        return None
    entry = next(e for e in audit.entries(conn, limit=1, offset=0, before=row[0] + 1))
    return entry, entry.detail

