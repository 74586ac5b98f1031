"""Bounded load test against gunicorn on 127.0.0.1 with a rebuild in the middle.

    .venv/bin/python benchmarks/load.py --requests 20000 --concurrency 32

Builds a temporary data dir (boundaries/population from the mirror ../shared/data or GEOES_MIRROR, plus
data/entities.csv), starts gunicorn with the project's gunicorn.conf.py on a free port, sends a mix of
the map page, GeoJSON layers (filtered), OGC items (type filter, bbox) and downloads (CSV, GeoPackage)
over keep-alive connections from `--concurrency` threads, runs `python -m geoes build` against the served
data dir when half the requests are done, then stops gunicorn and prints requests/s, p50/p99 latency,
errors, bodies that fail to parse or are shorter than announced (a partial file), the dataset versions
seen, and the workers' RSS before and after (psutil). It checks what the atomic versioned build promises:
no request fails or gets half a file while a new version is switched in. Not a CI test; exit code 1 on
any error.
"""
from __future__ import annotations

import argparse
import csv
import http.client
import io
import itertools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # run as a script from a checkout: the package is not installed

from geoes.config import Settings  # noqa: E402
from geoes.dataset.build import build, current_version  # noqa: E402
from geoes.sources.fetch import fetch  # noqa: E402

MIX = [  # (weight, path, kind)
    (4, "/", "html"),
    (3, "/api/entities.geojson?type=wtz,cis", "json"),
    (2, "/api/entities.geojson?powiat=2661&q=caritas", "json"),
    (3, "/api/gminy.geojson", "json"),
    (2, "/api/powiaty.geojson", "json"),
    (3, "/ogc/collections/entities/items?limit=100&type=wtz", "json"),
    (3, "/ogc/collections/entities/items?bbox=20.3,50.6,20.9,51.0&limit=100", "json"),
    (2, "/ogc/collections/gminy/items?bbox=20.0,50.4,21.0,51.0&limit=50", "json"),
    (1, "/entities?type=cis", "html"),
    (1, "/powiaty/2602", "html"),
    (1, "/api/entities.geojson?format=csv", "csv"),
    (1, "/api/gminy.geojson?format=csv&powiat=2604", "csv"),
    (1, "/api/entities.geojson?format=gpkg&type=zaz", "gpkg"),
    (1, "/healthz", "json"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(tmp: Path) -> Path:
    mirror = Path(os.environ.get("GEOES_MIRROR", REPO.parent / "shared" / "data"))
    settings = Settings(region="26", data_dir=tmp / "data")
    fetch(settings, mirror=mirror)
    shutil.copy(REPO / "data" / "entities.csv", settings.data_dir / "entities.csv")
    build(settings)
    return settings.data_dir


def worker_rss(master: psutil.Process) -> dict[int, int]:
    return {c.pid: c.memory_info().rss for c in master.children(recursive=True)}


def valid_body(kind: str, body: bytes) -> str | None:
    """None if the body is complete and parses, else why not."""
    try:
        if kind == "json":
            json.loads(body)
        elif kind == "html":
            text = body.decode("utf-8")
            if not text.rstrip().endswith("</html>"):
                return "HTML ends early"
        elif kind == "csv":
            rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
            if not rows or len({len(r) for r in rows}) != 1:
                return "CSV rows of different widths"
        elif kind == "gpkg":
            if not body.startswith(b"SQLite format 3\x00"):
                return "not a GeoPackage"
            page = int.from_bytes(body[16:18], "big") or 65536
            pages = int.from_bytes(body[28:32], "big")
            if pages and len(body) != page * pages:
                return f"GeoPackage {len(body)} bytes, header says {page * pages}"
    except Exception as exc:  # noqa: BLE001 — reported, not raised
        return f"{type(exc).__name__}: {exc}"
    return None


def start_gunicorn(tmp: Path, data_dir: Path, workers: int | None) -> tuple[subprocess.Popen, int, dict]:
    """gunicorn with the project's config on a free port, once /healthz answers; (process, port, env)."""
    port = free_port()
    env = {**os.environ, "GEOES_DATA_DIR": str(data_dir), "GEOES_REGION": "26",
           "GEOES_BIND": f"127.0.0.1:{port}", "PYTHONPATH": str(REPO), "GEOES_LOG_LEVEL": "warning"}
    if workers:
        env["GEOES_WORKERS"] = str(workers)
    log = open(tmp / "gunicorn.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", str(REPO / "gunicorn.conf.py"),
                             "--access-logfile", "/dev/null", "app:app"], cwd=REPO, env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 60
    while True:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            c.request("GET", "/healthz")
            if c.getresponse().status == 200:
                return proc, port, env
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            print((tmp / "gunicorn.log").read_text()[-3000:])
            raise SystemExit("gunicorn did not start")
        time.sleep(0.2)


def warm(port: int, master: psutil.Process) -> None:
    """Warm every worker's caches so "before" is the steady state, not an empty process."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    for _ in range(4 * max(1, len(master.children()))):
        for _w, path, _k in MIX:
            conn.request("GET", path)
            conn.getresponse().read()


@dataclass
class Tally:
    """What the client threads saw, under one lock."""
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    partial: list[str] = field(default_factory=list)
    versions: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, path: str, dt: float, why: str | None, bad: str | None, version: str) -> None:
        with self.lock:
            self.latencies.append(dt)
            if why:
                self.errors.append(f"{path}: {why}")
            if bad:
                self.partial.append(f"{path}: {bad}")
            if version:
                self.versions[version] = self.versions.get(version, 0) + 1

    def error(self, message: str) -> None:
        with self.lock:
            self.errors.append(message)


def client(port: int, n_total: int, counter, half: threading.Event, tally: Tally) -> None:
    """One keep-alive connection taking the next request of the mix until `n_total` are sent."""
    weighted = [(p, k) for w, p, k in MIX for _ in range(w)]
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    while True:
        i = next(counter)
        if i >= n_total:
            break
        if i == n_total // 2:
            half.set()
        path, kind = weighted[i % len(weighted)]
        t0 = time.perf_counter()
        try:
            conn.request("GET", path)
            r = conn.getresponse()
            body = r.read()
        except (OSError, http.client.HTTPException) as exc:
            tally.error(f"{path}: {type(exc).__name__}: {exc}")
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            continue
        dt = time.perf_counter() - t0
        why = None
        if r.status != 200:
            why = f"status {r.status}"
        elif r.getheader("Content-Length") and int(r.getheader("Content-Length")) != len(body):
            why = "body shorter than Content-Length"
        bad = valid_body(kind, body) if why is None else None
        etag = (r.getheader("ETag") or '""').split('"')
        v = r.getheader("X-Dataset-Version") or "-".join(etag[1].split("-")[:2]) if len(etag) > 1 else ""
        tally.record(path, dt, why, bad, v)
    conn.close()


def rebuild_at_half(half: threading.Event, data_dir: Path, env: dict, rebuild: dict) -> None:
    """`python -m geoes build` against the served data dir once half the requests are done."""
    half.wait()
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "geoes", "--data-dir", str(data_dir), "--region", "26",
                        "build"], cwd=REPO, env=env, capture_output=True, text=True)
    rebuild.update(code=r.returncode, seconds=time.perf_counter() - t0,
                   version=current_version(Settings(region="26", data_dir=data_dir)), stderr=r.stderr[-500:])


def report(tally: Tally, elapsed: float, rebuild: dict, rss_before: dict, rss_after: dict) -> None:
    lat = sorted(tally.latencies)

    def pct(p):
        return lat[min(len(lat) - 1, int(p / 100 * len(lat)))] * 1000 if lat else float("nan")

    mb = 1024 * 1024
    print(f"requests/s: {len(lat) / elapsed:.0f}  ({len(lat)} in {elapsed:.1f} s)")
    print(f"latency p50: {pct(50):.1f} ms  p90: {pct(90):.1f} ms  p99: {pct(99):.1f} ms  max: {lat[-1] * 1000:.0f} ms")
    print(f"errors: {len(tally.errors)}  partial/unparseable bodies: {len(tally.partial)}")
    for e in (tally.errors + tally.partial)[:10]:
        print("  ", e)
    if rebuild:
        print(f"rebuild: exit {rebuild['code']} in {rebuild['seconds']:.1f} s → version {rebuild['version']}"
              + (f" ({rebuild['stderr']})" if rebuild["code"] else ""))
    print("dataset versions seen in responses: "
          + ", ".join(f"{v}: {n}" for v, n in sorted(tally.versions.items())))
    print(f"worker RSS before: {sum(rss_before.values()) / mb:.0f} MB total "
          f"({', '.join(f'{v / mb:.0f}' for v in rss_before.values())} MB)")
    print(f"worker RSS after:  {sum(rss_after.values()) / mb:.0f} MB total "
          f"({', '.join(f'{v / mb:.0f}' for v in rss_after.values())} MB)")
    if set(rss_before) != set(rss_after):
        print("note: worker processes changed during the run (a worker was restarted)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--requests", type=int, default=20_000)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--workers", type=int, default=None, help="gunicorn workers (default: gunicorn.conf.py)")
    ap.add_argument("--no-rebuild", action="store_true")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="geoes-load-"))
    proc = None
    try:
        print("building the data dir…", flush=True)
        data_dir = prepare(tmp)
        proc, port, env = start_gunicorn(tmp, data_dir, args.workers)
        master = psutil.Process(proc.pid)
        warm(port, master)
        rss_before = worker_rss(master)

        tally, rebuild, half, counter = Tally(), {}, threading.Event(), itertools.count()
        print(f"{args.requests} requests, {args.concurrency} connections, {len(rss_before)} workers…", flush=True)
        rb = threading.Thread(target=rebuild_at_half, args=(half, data_dir, env, rebuild))
        if not args.no_rebuild:
            rb.start()
        t0 = time.perf_counter()
        threads = [threading.Thread(target=client, args=(port, args.requests, counter, half, tally))
                   for _ in range(args.concurrency)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - t0
        half.set()
        if not args.no_rebuild:
            rb.join()
        report(tally, elapsed, rebuild, rss_before, worker_rss(master))
        ok = not tally.errors and not tally.partial and (args.no_rebuild or rebuild.get("code") == 0)
        return 0 if ok else 1
    finally:
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
