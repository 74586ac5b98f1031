"""Verification against KRS started from the console (the button `Weryfikuj w KRS`), in the background.

`start_verify` runs `geoes.register.verify.run` — the same run as `python -m geoes verify` — in a thread
of the web process and returns at once; its proposals go to the review file and from there into the queue.
One run at a time for the whole server: a lock file held by the running thread (a second click, in any
worker process, is told a run is under way). The state — running, done (with the figures) or failed
(with the Polish reason) — is kept in the console's store (`jobs`), so every worker shows it, and every
start and end is in the audit log. A run the process died in leaves the state "running" with its lock
released: `status` reports it as interrupted. With GEOES_DATABASE_URL the lock is an advisory lock in
PostgreSQL (one run across every instance; released with the connection of a process that died) and the
run reads the stored register.
"""
from __future__ import annotations

import fcntl
import json
import logging
import sqlite3
import threading
from dataclasses import dataclass

from geoes.common import database
from geoes.config import Settings
from geoes.console import audit, queue
from geoes.console.db import connect, console_dir, now_iso, transaction
from geoes.errors import Conflict, GeoesError
from geoes.register import stored, verify

VERIFY = "verify"
STATE_LABELS = {"running": "trwa", "done": "zakończona", "failed": "nieudana", "interrupted": "przerwana"}
log = logging.getLogger(__name__)
_threads: dict[str, threading.Thread] = {}


class VerifyBusy(Conflict):
    """A verification is already running."""


@dataclass
class Job:
    name: str
    state: str
    started_by: str
    started_at: str
    finished_at: str | None
    message: str
    result: dict

    @property
    def state_label(self) -> str:
        return STATE_LABELS.get(self.state, self.state)

    @property
    def running(self) -> bool:
        return self.state == "running"


def _lock_path(settings: Settings):
    return console_dir(settings) / f"{VERIFY}.lock"


def _try_lock(settings: Settings):
    """The open lock file (or database connection), held; None when another run holds it."""
    if settings.uses_database:
        conn = database.raw_connect(settings.database_url)
        if conn.execute("SELECT pg_try_advisory_lock(%s)", (database.lock_key(f"geoes:{VERIFY}"),)).fetchone()[0]:
            return conn
        conn.close()
        return None
    path = _lock_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    fh = open(path, "a+")
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        fh.close()
        return None
    return fh


def status(conn: sqlite3.Connection, settings: Settings, name: str = VERIFY) -> Job | None:
    row = conn.execute("SELECT * FROM jobs WHERE name = ?", (name,)).fetchone()
    if row is None:
        return None
    job = Job(row["name"], row["state"], row["started_by"], row["started_at"], row["finished_at"], row["message"],
              json.loads(row["result"] or "{}"))
    if job.running and not (name in _threads and _threads[name].is_alive()):
        held = _try_lock(settings)
        if held is not None:           # nobody runs it: the process that did has gone
            held.close()
            job.state = "interrupted"
    return job


def start_verify(settings: Settings, actor: str, conn: sqlite3.Connection) -> None:
    """Start a verification in the background; VerifyBusy when one is running."""
    lock = _try_lock(settings)
    if lock is None:
        running = status(conn, settings)
        who = f" (uruchomił ją {running.started_by})" if running and running.started_by else ""
        raise VerifyBusy(f"Weryfikacja w KRS już trwa{who}. Wynik pojawi się na tej stronie, gdy się skończy.")
    try:
        with transaction(conn):
            conn.execute("INSERT OR REPLACE INTO jobs (name, state, started_by, started_at, finished_at, message, "
                         "result) VALUES (?, 'running', ?, ?, NULL, '', '{}')", (VERIFY, actor, now_iso()))
            audit.record(conn, actor, "verify_start", "weryfikacja w KRS", api=settings.krs_api)
        thread = threading.Thread(target=_run, args=(settings, actor, lock), name="geoes-verify", daemon=True)
        _threads[VERIFY] = thread
        thread.start()
    except BaseException:
        lock.close()
        raise


def _summary(result: verify.VerifyResult, added: int) -> dict:
    return {"with_krs": result.with_krs, "checked": result.checked, "found": result.found,
            "unknown": result.unknown, "changes": len(result.changes),
            "confirmed": len(result.proposals) - len(result.changes), "invalid_krs": len(result.invalid_krs),
            "with_operator_krs": result.with_operator_krs, "operators_checked": result.operators_checked,
            "operators_unknown": result.operators_unknown,
            "requests": result.requests, "cache_hits": result.cache_hits, "queued": added}


def _finish(conn: sqlite3.Connection, actor: str, state: str, message: str, result: dict) -> None:
    with transaction(conn):
        conn.execute("UPDATE jobs SET state = ?, finished_at = ?, message = ?, result = ? WHERE name = ?",
                     (state, now_iso(), message, json.dumps(result, ensure_ascii=False), VERIFY))
        audit.record(conn, actor, "verify_done" if state == "done" else "verify_failed", "weryfikacja w KRS",
                     message=message, **result)


def _run(settings: Settings, actor: str, lock) -> None:
    conn = connect(settings)
    try:
        try:
            with stored.as_file(settings) as register:
                result = verify.run(settings, progress=False, entities_path=register)
            added, problems = queue.take_in(conn, settings)
            summary = _summary(result, added)
            message = (f"podmioty z numerem KRS: {result.with_krs}, sprawdzone: {result.checked}; propozycje zmian: "
                       f"{summary['changes']}; zgodne z KRS: {summary['confirmed']}; numery nieznane w KRS: "
                       f"{result.unknown}; jednostki z numerem KRS prowadzącego: {result.with_operator_krs}, "
                       f"sprawdzone: {result.operators_checked}, nieznane w KRS: {result.operators_unknown}; "
                       f"nowe pozycje w kolejce: {added}")
            _finish(conn, actor, "done", message + ("; " + "; ".join(problems) if problems else ""), summary)
        except GeoesError as exc:       # KRS unreachable, a wrong address…: nothing was proposed
            _finish(conn, actor, "failed", exc.description, {})
        except Exception as exc:  # noqa: BLE001 — the thread must record its end whatever happened
            log.exception("weryfikacja w KRS zakończona błędem")
            _finish(conn, actor, "failed", f"nieoczekiwany błąd: {type(exc).__name__}", {})
    finally:
        conn.close()
        lock.close()


def wait(name: str = VERIFY, timeout: float | None = None) -> bool:
    """Wait for this process's run to end (the command line and tests); True when none is running."""
    thread = _threads.get(name)
    if thread is not None:
        thread.join(timeout)
        return not thread.is_alive()
    return True
