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
from dataclasses import dataclass
from datetime import datetime, timezone

import pandas as pd

from geoes.common import database
from geoes.common.atomic import atomic_write_bytes
from geoes.config import Settings
from geoes.console import audit, changes
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
    return f"{actor}, od {datetime.now().strftime('%H:%M:%S')}"


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


def publish(conn: sqlite3.Connection, settings: Settings, cs_id: int, actor: str) -> dict:
    """Publish a change set; returns what changed (version, counts, by type)."""
    with publish_lock(settings, actor):
        cs = changes.get(conn, cs_id)
        if cs.state != "preview":
            raise Conflict(f"zestaw zmian nr {cs_id} jest {cs.state_label} — nie można go opublikować")
        old_bytes = changes.register_bytes(settings)
        if changes.sha(old_bytes) != cs.base_sha:
            raise Conflict("Rejestr zmienił się od przygotowania tego podglądu (ktoś opublikował inne zmiany). "
                           "Odśwież podgląd, sprawdź go i opublikuj ponownie.")
        data = changes.load_file(conn, cs_id, "merged")
        previous = current_version(settings)
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
                       rejected_rows=result.rejected_rows, changeset=cs_id)
        with transaction(conn):
            _archive(conn, result.version, "publish", actor, data, summary, cs_id)
            changes._update(conn, cs_id, state="published", published_version=result.version)
            audit.record(conn, actor, "publish", result.version, changeset=cs_id, **_outcome(summary))
    return summary


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
    that pruning its directory does not make it unrestorable."""
    known = {r[0] for r in conn.execute("SELECT version FROM versions")}
    for name, meta in _dir_versions(settings).items():
        if name not in known and meta["input"]:
            data = _kept_input(settings, name)
            if data is None:
                continue  # pruned meanwhile
            with transaction(conn):
                _archive(conn, name, "build", "wiersz poleceń", data, {"entities": meta["entities"]})


def versions(conn: sqlite3.Connection, settings: Settings) -> list[Version]:
    sync_archive(conn, settings)
    dirs = _dir_versions(settings)
    current = current_version(settings)
    rows = {r["version"]: r for r in conn.execute("SELECT version, action, at, actor, summary FROM versions")}
    out = []
    for name in sorted(set(dirs) | set(rows), reverse=True):
        d, r = dirs.get(name), rows.get(name)
        summary = json.loads(r["summary"]) if r else None
        out.append(Version(
            name, d["built_at"] if d else _stamp(name), d["entities"] if d else (summary or {}).get("entities"),
            name == current, d is not None, bool(r) or bool(d and d["input"]),
            r["action"] if r else "", r["actor"] if r else "", r["at"] if r else "", summary))
    return out


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


def restore(conn: sqlite3.Connection, settings: Settings, version: str, actor: str) -> dict:
    """Serve `version` again and put its entities file back as the register."""
    if not VERSION_RE.fullmatch(version or "") or (
            not settings.uses_database and (settings.build_dir / version).is_symlink()):
        raise NotFound(f"nie ma wersji „{version}”")  # `current` is the link, not a version
    with publish_lock(settings, actor):
        data = _input_of(conn, settings, version)
        if data is None:
            raise NotFound(f"Wersji {version} nie da się przywrócić: nie zachował się plik podmiotów, "
                           "z którego ją zbudowano.")
        old_bytes = changes.register_bytes(settings)
        previous = current_version(settings)
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
        summary.update(version=served, previous=previous, restored_from=version)
        with transaction(conn):
            _archive(conn, served, "restore", actor, data, summary, restored_from=version)
            audit.record(conn, actor, "restore", served, **_outcome(summary))
    return summary


def _outcome(summary: dict) -> dict:
    keys = ("version", "previous", "restored_from", "added", "changed", "removed", "by_type", "entities",
            "placed", "rejected_rows")
    return {k: summary[k] for k in keys if k in summary}


def outcome(conn: sqlite3.Connection, version: str) -> tuple[audit.Entry, dict] | None:
    """The latest publish or restore that made `version` the served one, and what it changed."""
    row = conn.execute("SELECT id FROM audit WHERE action IN ('publish', 'restore') AND target = ? "
                       "ORDER BY id DESC LIMIT 1", (version,)).fetchone()
    if row is None:
        return None
    entry = next(e for e in audit.entries(conn, limit=1, offset=0, before=row[0] + 1))
    return entry, entry.detail

