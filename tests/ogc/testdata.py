"""Test data for the API tests: the project's real entities plus SYNTHETIC test entities.

The synthetic rows exist only in a temporary data dir built here (never in data/entities.csv): ids
`test-NNNN`, names starting with "TEST (syntetyczny)", placed on the gazetteer's point inside a gmina,
seeded, so every collection has placed points to filter by bbox and page through. One row carries a
formula in its name and a `+48` phone to check CSV neutralisation, one carries HTML in its text.
"""
from __future__ import annotations

import csv
import random
import threading
from contextlib import contextmanager
from pathlib import Path

from geoes.config import Settings
from geoes.entities import COLUMNS

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
    from geoes.build import build

    settings = clone_settings(source, target)
    assert set(COLUMNS) >= {"id", "name", "lat", "lon"}
    append_rows(settings.entities_path, synthetic_rows(settings))
    build(settings)
    return settings


@contextmanager
def live_server(app, host: str = "127.0.0.1"):
    """The app served by werkzeug's real HTTP server in a thread; yields the base URL."""
    from werkzeug.serving import make_server

    server = make_server(host, 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
