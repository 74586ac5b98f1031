"""Test data for the API tests: the project's real entities plus SYNTHETIC test entities.

The synthetic rows exist only in a temporary data dir built here (never in data/entities.csv): ids
`test-NNNN`, names starting with "TEST (syntetyczny)", placed on the gazetteer's point inside a gmina,
seeded, so every collection has placed points to filter by bbox and page through. One row carries a
formula in its name and a `+48` phone to check CSV neutralisation, one carries HTML in its text.
"""
from __future__ import annotations

import csv
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from geoes.config import REPO_DIR, Settings
from geoes.register.record import COLUMNS

N_SYNTHETIC = 240
FORMULA_ID = "test-formula"
FORMULA_NAME = '=HYPERLINK("http://example.invalid/","kliknij")'
FORMULA_PHONE = "+48 41 000 00 00"
HOSTILE_ID = "test-hostile"
HOSTILE_NAME = '<script>alert("x")</script> & <b>Spółdzielnia</b>'
TYPES = ["spoldzielnia_socjalna", "cis", "kis", "wtz", "zaz", "ngo", "kgw", "spolka_non_profit"]


def gmina_points(settings: Settings) -> list[dict]:
    with open(settings.gmina_points_path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def synthetic_rows(settings: Settings, n: int = N_SYNTHETIC, seed: int = 26) -> list[dict]:
    rng = random.Random(seed)
    points = gmina_points(settings)
    rows = []
    for i in range(n):
        p = points[i % len(points)]
        types = rng.sample(TYPES, rng.choice([1, 1, 2]))
        rows.append({
            "id": f"test-{i:04d}", "name": f"TEST (syntetyczny) podmiot {i:04d} – {p['name']}",
            "types": ";".join(types), "social_enterprise": rng.choice(["true", "false", "unknown"]),
            "locality": p["name"], "gmina_teryt": p["teryt"], "lat": p["lat"], "lon": p["lon"],
            "location_precision": "gmina", "status": rng.choice(["active", "active", "inactive", "unknown"]),
            "employees": str(rng.randint(0, 40)),
            "description": "Syntetyczny podmiot testowy (nie istnieje).",
        })
    first = points[0]
    rows.append({"id": FORMULA_ID, "name": FORMULA_NAME, "types": "cis", "locality": first["name"],
                 "gmina_teryt": first["teryt"], "lat": first["lat"], "lon": first["lon"],
                 "location_precision": "gmina", "status": "active", "phone": FORMULA_PHONE,
                 "description": "@SUM(1+1) — test neutralizacji formuł (syntetyczny)."})
    rows.append({"id": HOSTILE_ID, "name": HOSTILE_NAME, "types": "ngo", "locality": first["name"],
                 "gmina_teryt": first["teryt"], "lat": first["lat"], "lon": first["lon"],
                 "location_precision": "gmina", "status": "active",
                 "description": "<img src=x onerror=alert(1)> \"quotes\" `backticks` \\ (syntetyczny)"})
    return rows


def append_rows(path: Path, rows: list[dict]) -> None:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        header = next(csv.reader(fh))
    with open(path, "a", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=header, extrasaction="ignore")
        for row in rows:
            writer.writerow({c: row.get(c, "") for c in header})


def build_synthetic(source: Settings, target: Path) -> Settings:
    """A private data dir: `source`'s data + the synthetic rows, built."""
    from conftest import clone_settings  # tests/conftest.py (tests/ is on sys.path)
    from geoes.dataset.build import build

    settings = clone_settings(source, target)
    assert set(COLUMNS) >= {"id", "name", "lat", "lon"}
    append_rows(settings.entities_path, synthetic_rows(settings))
    build(settings)
    return settings


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


@contextmanager
def live_server(settings: Settings, host: str = "127.0.0.1", workers: int = 2, log_dir: Path | None = None):
    """The app served by gunicorn (the project's gunicorn.conf.py) in a subprocess; yields the base URL.

    A separate process, not a thread: GDAL (pyogrio) holds the GIL while it downloads, so a server
    thread in the test process would never answer it.
    """
    port = free_port(host)
    env = {**os.environ, "GEOES_DATA_DIR": str(settings.data_dir), "GEOES_REGION": settings.region,
           "GEOES_BIND": f"{host}:{port}", "GEOES_WORKERS": str(workers), "GEOES_LOG_LEVEL": "warning"}
    args = [sys.executable, "-m", "gunicorn", "--bind", f"{host}:{port}", "--workers", str(workers)]
    if (REPO_DIR / "gunicorn.conf.py").exists():
        args[3:3] = ["-c", str(REPO_DIR / "gunicorn.conf.py")]
    args.append("geoes.web:create_app()")
    log_path = (log_dir or Path(tempfile.mkdtemp())) / "gunicorn.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(args, cwd=REPO_DIR, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://{host}:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited ({proc.returncode}): {log_path.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(url + "/healthz", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not answer: {log_path.read_text()[-2000:]}")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
