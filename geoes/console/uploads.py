"""Reading, mapping and previewing an uploaded register in the background, so that no request waits for it.

An upload (and each later step that makes its preview again — after the mapping is confirmed, a row
fixed, the preview refreshed; the request itself checks and stores the operator's input) is a job: the request stores what the step needs in the console's store (`upload_jobs`; the
uploaded file itself, until the job has read it) and returns at once with the address of a progress
page. The work runs in a child process (`python -m geoes.console.uploads`), not in the web worker:

* bounded in time — the child ends itself after GEOES_UPLOAD_JOB_SECONDS (an alarm), and a job that
  has not been heard of for longer than that is shown as interrupted;
* bounded in memory — the child's address space is limited to GEOES_UPLOAD_JOB_MEMORY_MB, so a file
  that needs more ends with a message instead of pushing the web workers out of memory;
* at a lower CPU priority (nice 10), so on a two-core machine the public site keeps answering;
* one job per operator at a time (another one is refused with 409 until the first ends).

The child records each stage ("odczyt pliku", "rozpoznawanie kolumn (4 000 wierszy)", "podgląd…") and
the outcome — the change set it made, or the Polish reason it failed (with the HTTP status that reason
would have had in a request) — in the same row, so any worker can show it. A change set is written only
whole, at the end of a step, exactly as when the step ran in the request.
"""
from __future__ import annotations

import json
import logging
import os
import re
import resource
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, fields
from pathlib import Path

from geoes.config import REPO_DIR, Settings
from geoes.console import changes, imports
from geoes.console.imports import FIELD_LABELS
from geoes.console.db import connect, transaction
from geoes.errors import Conflict, GeoesError, InvalidInput

ACTIONS = ("upload", "preview")     # read a file and stage it; make a change set's preview again
OPEN = ("queued", "running")
STATE_LABELS = {"queued": "czeka na rozpoczęcie", "running": "trwa", "done": "zakończone", "failed": "nieudane",
                "interrupted": "przerwane"}
ACTION_LABELS = {"upload": "wczytanie pliku", "preview": "przygotowanie podglądu"}
NICE = 10
log = logging.getLogger(__name__)


_OUT_OF_MEMORY = ("Plik wymaga więcej pamięci, niż serwer przeznacza na jeden podgląd ({mb} MB). "
                  "Podziel plik na mniejsze części.")
_MEMORY_WORDS = re.compile(r"out of memory|cannot allocate memory|unable to allocate|failed to map|bad_alloc", re.I)


class UploadBusy(Conflict):
    """The operator already has a job under way."""


class JobTimeout(BaseException):
    """The job's time is up (a BaseException: no `except Exception` in the importer may swallow it)."""


@dataclass
class Job:
    id: int
    actor: str
    action: str
    changeset_id: int | None
    filename: str
    state: str
    stage: str
    message: str
    status: int                    # the HTTP status of a failure (422 for a refused file); 200 when all went well
    args: dict
    next_url: str                  # where the operator goes when it is done ('' = the change set)
    created_at: float
    updated_at: float
    finished_at: float | None

    @property
    def open(self) -> bool:
        return self.state in OPEN

    @property
    def state_label(self) -> str:
        return STATE_LABELS.get(self.state, self.state)

    @property
    def action_label(self) -> str:
        return ACTION_LABELS.get(self.action, self.action)

    @property
    def elapsed(self) -> int:
        return int((self.finished_at or time.time()) - self.created_at)


def _job(row: sqlite3.Row, settings: Settings) -> Job:
    job = Job(row["id"], row["actor"], row["action"], row["changeset_id"], row["filename"], row["state"],
              row["stage"], row["message"], row["status"], json.loads(row["args"] or "{}"), row["next_url"],
              row["created_at"],
              row["updated_at"], row["finished_at"])
    if job.open and time.time() - job.updated_at > settings.upload_job_seconds + 30:
        job.state = "interrupted"     # the process that ran it has gone without a word
        job.message = "Zadanie zostało przerwane (serwer był ponownie uruchamiany albo zadanie przestało odpowiadać)."
    return job


def get(conn: sqlite3.Connection, settings: Settings, job_id: int) -> Job | None:
    row = conn.execute("SELECT * FROM upload_jobs WHERE id = ?", (job_id,)).fetchone()
    return _job(row, settings) if row is not None else None


def open_job(conn: sqlite3.Connection, settings: Settings, actor: str) -> Job | None:
    """The operator's job under way, if any."""
    for row in conn.execute("SELECT * FROM upload_jobs WHERE actor = ? AND state IN ('queued', 'running') "
                            "ORDER BY id DESC", (actor,)):
        job = _job(row, settings)
        if job.open:
            return job
    return None


# --- starting (in the web process) ----------------------------------------------------------------

def start(conn: sqlite3.Connection, settings: Settings, actor: str, action: str, *, filename: str = "",
          data: bytes | None = None, changeset_id: int | None = None, args: dict | None = None) -> Job:
    """Store the job and start its process; UploadBusy when the operator has one under way."""
    if action not in ACTIONS:
        raise ValueError(action)
    now = time.time()
    with transaction(conn):
        busy = open_job(conn, settings, actor)
        if busy is not None:
            raise UploadBusy(f"Trwa już Twoje zadanie: {busy.action_label}"
                             + (f" „{busy.filename}”" if busy.filename else "")
                             + ". Poczekaj, aż się skończy — naraz można przygotowywać jeden plik.")
        # Finished jobs of this operator are of no more use (their outcome is in the change set and the log).
        conn.execute("DELETE FROM upload_jobs WHERE actor = ? AND state NOT IN ('queued', 'running') "
                     "AND updated_at < ?", (actor, now - 86_400))
        job_id = conn.execute(
            "INSERT INTO upload_jobs (actor, action, changeset_id, filename, state, stage, args, data, created_at, "
            "updated_at) VALUES (?, ?, ?, ?, 'queued', 'czeka na rozpoczęcie', ?, ?, ?, ?)",
            (actor, action, changeset_id, changes.upload_name(filename) if filename else "",
             json.dumps(args or {}, ensure_ascii=False), data, now, now)).lastrowid
    try:
        _spawn(settings, job_id)
    except OSError as exc:          # no process could be started (out of processes, memory…)
        _finish(conn, job_id, "failed", f"Nie udało się uruchomić zadania w tle ({exc.strerror}). "
                "Spróbuj ponownie za chwilę.", status=503)
    return get(conn, settings, job_id)


def settings_json(settings: Settings) -> str:
    return json.dumps({f.name: (str(v) if isinstance(v, Path) else v)
                       for f in fields(settings) if (v := getattr(settings, f.name)) is not None})


def _spawn(settings: Settings, job_id: int) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "geoes.console.uploads", str(job_id)], cwd=REPO_DIR,
                            stdin=subprocess.PIPE, start_new_session=True)
    proc.stdin.write(settings_json(settings).encode("utf-8"))
    proc.stdin.close()
    threading.Thread(target=_reap, args=(proc, settings, job_id), name=f"geoes-upload-{job_id}",
                     daemon=True).start()


def _reap(proc: subprocess.Popen, settings: Settings, job_id: int) -> None:
    """Wait for the child; if it died without recording its end (killed, crashed), record that."""
    code = proc.wait()
    if code == 0:
        return
    conn = connect(settings)
    try:
        reason = ("zabrakło pamięci albo czasu" if code in (-signal.SIGKILL, -signal.SIGXCPU)
                  else f"nieoczekiwany błąd procesu (kod {code})")
        _finish(conn, job_id, "failed", f"Nie udało się przygotować podglądu: {reason}.", status=500,
                only_open=True)
    finally:
        conn.close()


def wait(conn: sqlite3.Connection, settings: Settings, job_id: int, timeout: float = 120) -> Job:
    """Wait for a job to end (the command line, benchmarks and tests)."""
    deadline = time.time() + timeout
    while True:
        job = get(conn, settings, job_id)
        if job is None or not job.open or time.time() > deadline:
            return job
        time.sleep(0.1)


# --- running (in the child process) ---------------------------------------------------------------

def _stage(conn: sqlite3.Connection, job_id: int, stage: str) -> None:
    conn.execute("UPDATE upload_jobs SET stage = ?, updated_at = ? WHERE id = ?", (stage, time.time(), job_id))


def _finish(conn: sqlite3.Connection, job_id: int, state: str, message: str = "", *, status: int = 200,
            changeset_id: int | None = None, next_url: str = "", only_open: bool = False) -> None:
    now = time.time()
    with transaction(conn):
        if only_open and conn.execute("SELECT state FROM upload_jobs WHERE id = ?",
                                      (job_id,)).fetchone()[0] not in OPEN:
            return
        conn.execute("UPDATE upload_jobs SET state = ?, message = ?, status = ?, "
                     "changeset_id = COALESCE(?, changeset_id), stage = '', data = NULL, finished_at = ?, "
                     "updated_at = ?, next_url = ? WHERE id = ?",
                     (state, message, status, changeset_id, now, now, next_url, job_id))


def _limit(settings: Settings) -> int:
    """From here on this process may use at most the job's memory and time, and it yields the CPU to the
    web workers. Returns the hard memory limit, to lift the soft one back to when recording a failure."""
    limit = settings.upload_job_memory_mb * 2**20
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (limit if hard == resource.RLIM_INFINITY else min(limit, hard), hard))

    def _time_up(_signum, _frame):
        raise JobTimeout()

    signal.signal(signal.SIGALRM, _time_up)
    signal.alarm(max(1, settings.upload_job_seconds))
    os.nice(NICE)
    return hard


def _prepare(settings: Settings) -> None:
    """What every job needs whatever its file — the region's units and the gazetteer, and the libraries
    that read them — loaded before the memory limit, so that the limit bounds what the file costs."""
    try:
        imports.territory(settings)
        imports.gazetteer(settings)
    except GeoesError:
        pass            # no region data: the step itself says so, in Polish


def _step(conn: sqlite3.Connection, settings: Settings, job: Job, data: bytes | None, progress,
          staged: list[int]) -> tuple[int, str, str, int]:
    """Do the job's step; (change set, a message for the operator, where to go next ('' = the change set),
    200, or 422 when the message says what is still wrong). An upload's new change set goes into `staged`."""
    if job.action == "upload":
        cs = changes.create_upload(conn, settings, job.actor, job.filename, data or b"", progress, staged.append)
        note = "Sprawdź, jak odczytano kolumny pliku, i zatwierdź mapowanie." if cs.state == "mapping" else ""
        return cs.id, note, "", 200
    cs = changes.compute(conn, settings, changes.get(conn, job.changeset_id), progress)
    row = job.args.get("row")
    still = next((r for r in changes.preview_of(conn, cs.id).rejected if r["row"] == row), None) if row else None
    if still:
        return cs.id, f"Wiersz {row} nadal jest odrzucony: " + "; ".join(
            f"{FIELD_LABELS.get(c, c)}: {t}" for c, t in still["reasons"]), job.args.get("fix_url", ""), 422
    return cs.id, job.args.get("done", ""), job.args.get("done_url", ""), 200


def run(settings: Settings, job_id: int) -> None:
    """The child's work: one job under its limits, its end always recorded (the connection is opened and
    the job read before the limits apply, and the memory limit is lifted again to record a failure)."""
    conn = connect(settings)
    try:
        row = conn.execute("SELECT * FROM upload_jobs WHERE id = ?", (job_id,)).fetchone()
        if row is None:
            return
        job, data = _job(row, settings), row["data"]
        data = bytes(data) if data is not None else None
        with transaction(conn):
            conn.execute("UPDATE upload_jobs SET state = 'running', updated_at = ? WHERE id = ?", (time.time(), job_id))
        _prepare(settings)
        staged: list[int] = []
        hard = _limit(settings)
        try:
            outcome = _step(conn, settings, job, data, lambda stage: _stage(conn, job_id, stage), staged)
        except JobTimeout:
            outcome = (None, f"Przygotowanie podglądu trwało dłużej niż {settings.upload_job_seconds} s i zostało "
                       "przerwane. Podziel plik na mniejsze części.", "", 503)
        except MemoryError:
            outcome = (None, _OUT_OF_MEMORY.format(mb=settings.upload_job_memory_mb), "", 503)
        except GeoesError as exc:
            outcome = (None, exc.description, "", 422 if isinstance(exc, InvalidInput) else exc.http_status)
        except Exception as exc:  # noqa: BLE001 — the job must record its end whatever happened
            if _MEMORY_WORDS.search(str(exc)):    # C libraries say it in their own words (pandas, loaders)
                outcome = (None, _OUT_OF_MEMORY.format(mb=settings.upload_job_memory_mb), "", 503)
            else:
                log.exception("zadanie %s zakończone błędem", job_id)
                outcome = (None, f"Nieoczekiwany błąd: {type(exc).__name__}.", "", 500)
        signal.alarm(0)
        resource.setrlimit(resource.RLIMIT_AS, (hard, hard))
        cs_id, message, next_url, status = outcome
        if cs_id is None and staged:      # an upload whose preview failed leaves nothing staged
            changes.discard(conn, staged[0], job.actor, reason=message)
        _finish(conn, job_id, "failed" if cs_id is None else "done", message, status=status, changeset_id=cs_id,
                next_url=next_url)
    finally:
        conn.close()


def main() -> None:
    job_id = int(sys.argv[1])
    settings = Settings.from_env(json.loads(sys.stdin.read()), environ={}, instance_file=None)
    run(settings, job_id)


if __name__ == "__main__":
    main()
