#!/usr/bin/env python
"""Operator console benchmark: upload → preview → publish (→ restore) of a large register.

    .venv/bin/python benchmarks/console.py [--rows 10000] [--formats xlsx,csv] [--out benchmarks/results]

For each format, in a fresh subprocess and a temporary data directory (the fetched region data cloned,
the project's data/entities.csv, one build): a register of N synthetic entities (geoes.register.synthetic,
seeded, marked SYNTETYCZNY, never written into data/) laid out as an office writes it — Polish headers, the
gmina and powiat by name, no coordinates, XLSX or CSV in Windows-1250 with semicolons — goes through the
console's steps, each timed on its own:

    read       geoes.console.imports.read_upload: the importer's reader (size, type, unpacked size, rows)
    mapping    propose: the importer's mapping proposal for the header row
    preview    preview: the importer's preview of the merge with the register, offline placement from the
               gazetteer, the diff field by field
    stage      create_upload as the console runs it (the three above + storing the file, its rows and the
               preview in SQLite)
    publish    publish: the atomic build of the new version + the register written + the version archived
    restore    restore of the version served before (switching back to its kept directory)
    http       the same upload and publish through the Flask app (test client): POST /admin/upload,
               GET of the preview page, POST …/publish

Peak memory is the subprocess's ru_maxrss after each step. Nothing here is a test; the figures go to
benchmarks/results/console.json and console.md, and by hand into benchmarks/README.md.
"""
from __future__ import annotations

import argparse
import io
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
sys.path.insert(0, str(REPO_DIR))
sys.path.insert(0, str(REPO_DIR / "benchmarks"))

from registers import office_register  # noqa: E402 (after the path is set)

SEED = 20260101
HEADERS = ["Lp.", "Nazwa podmiotu", "Typ podmiotu", "Miejscowość", "Gmina", "Powiat", "Liczba zatrudnionych", "Opis"]
PASSWORD = "benchmark-haslo-2026"


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _register(settings, n: int, fmt: str) -> bytes:
    """A synthetic register as an office exports it: names of gminy and powiaty, no coordinates."""
    import csv

    from geoes.common.reference import entity_types
    from geoes.register.synthetic import generate
    from geoes.sources.territory import load_territory

    units = load_territory(settings)
    frame = generate(units, n, seed=SEED)
    gminy = dict(zip(units.gminy["teryt"], units.gminy["name"]))
    powiaty = dict(zip(units.powiaty["teryt"], units.powiaty["name"]))
    labels = {c: t.label_pl for c, t in entity_types().items()}
    rows = [[str(i + 1), r.name, ", ".join(labels[t] for t in r.types.split(";")), r.locality,
             gminy[r.gmina_teryt], powiaty[r.powiat_teryt], r.employees, r.description]
            for i, r in enumerate(frame.itertuples())]
    return office_register(HEADERS, rows, fmt)


def _data_dir(tmp: Path):
    from geoes.config import Settings
    from geoes.dataset.build import build

    source = Settings.from_env()
    for name in ("boundaries", "population", "gazetteer", "official"):
        shutil.copytree(source.data_dir / name, tmp / name)
    shutil.copy(REPO_DIR / "data" / "entities.csv", tmp / "entities.csv")
    settings = Settings(region=source.region, data_dir=tmp)
    build(settings)
    return settings


def _timed(results: dict, step: str, fn):
    started = time.perf_counter()
    value = fn()
    results[step] = {"s": round(time.perf_counter() - started, 3), "peak_rss_mb": round(_rss_mb(), 1)}
    return value


def one_run(n: int, fmt: str) -> dict:
    """Runs inside the subprocess: every step on one register."""
    from geoes.console import accounts, changes, imports, publish
    from geoes.console.db import connect

    out: dict = {"rows": n, "format": fmt, "rss_start_mb": round(_rss_mb(), 1)}
    with tempfile.TemporaryDirectory() as tmp:
        settings = _data_dir(Path(tmp))
        data = _register(settings, n, fmt)
        out["file_mb"] = round(len(data) / 1024 / 1024, 2)
        name = f"rejestr.{fmt}"
        path = Path(tmp) / name
        path.write_bytes(data)
        steps: dict = {}
        office = _timed(steps, "read", lambda: imports.read_upload(path, name, settings))
        proposal, rows = _timed(steps, "mapping", lambda: imports.propose(office, settings, name=name))
        base = changes.read_register(settings)
        _merged, shown, _rejects = _timed(steps, "preview",
                                          lambda: imports.preview(rows, proposal.mapping(), base, settings))
        out["preview"] = {"added": len(shown.added), "warned": len(shown.warned), "rejected": len(shown.rejected)}
        conn = connect(settings)
        accounts.add_user(conn, "benchmark", PASSWORD)
        before = publish.current_version(settings)
        cs = _timed(steps, "stage", lambda: changes.create_upload(conn, settings, "benchmark", name, data))
        summary = _timed(steps, "publish", lambda: publish.publish(conn, settings, cs.id, "benchmark"))
        out["published"] = {"added": summary["added"], "entities": summary["entities"], "placed": summary["placed"]}
        _timed(steps, "restore", lambda: publish.restore(conn, settings, before, "benchmark"))
        out["steps"] = steps
        out["http"] = _http(settings, data, name)
    return out


def _http(settings, data: bytes, name: str) -> dict:
    import re

    from geoes.web import create_app

    app = create_app({"TESTING": True, "GEOES_DATA_DIR": str(settings.data_dir), "GEOES_REGION": settings.region})
    client = app.test_client()

    def token(html: str) -> str:
        return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)

    t = token(client.get("/admin/login").get_data(as_text=True))
    client.post("/admin/login", data={"login": "benchmark", "password": PASSWORD, "csrf_token": t})
    t = token(client.get("/admin/").get_data(as_text=True))
    out: dict = {}
    started = time.perf_counter()
    r = client.post("/admin/upload", data={"csrf_token": t, "file": (io.BytesIO(data), name)},
                    content_type="multipart/form-data")
    out["upload_s"] = round(time.perf_counter() - started, 3)
    location = r.headers["Location"]
    started = time.perf_counter()
    page = client.get(location).get_data(as_text=True)
    out["preview_page_s"] = round(time.perf_counter() - started, 3)
    out["preview_page_kb"] = round(len(page.encode()) / 1024, 1)
    started = time.perf_counter()
    r = client.post(location + "/publish", data={"csrf_token": token(page)})
    out["publish_s"] = round(time.perf_counter() - started, 3)
    out["status"] = r.status_code
    out["peak_rss_mb"] = round(_rss_mb(), 1)
    return out


def markdown(results: list[dict]) -> str:
    steps = ["read", "mapping", "preview", "stage", "publish", "restore"]
    lines = ["| register | file MB | " + " | ".join(f"{s} s" for s in steps) + " | peak RSS MB | HTTP upload / preview page / publish s |",
             "|---|---:|" + "---:|" * len(steps) + "---:|---|"]
    for r in results:
        st = r["steps"]
        h = r["http"]
        lines.append(f"| {r['rows']:,} rows, {r['format'].upper()} | {r['file_mb']} | "
                     + " | ".join(str(st[s]["s"]) for s in steps)
                     + f" | {max(v['peak_rss_mb'] for v in st.values())} | "
                     f"{h['upload_s']} / {h['preview_page_s']} ({h['preview_page_kb']} KB) / {h['publish_s']} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--formats", default="xlsx,csv")
    parser.add_argument("--out", type=Path, default=BENCH_DIR / "results")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one_run(args.rows, args.one)))
        return
    results = []
    for fmt in args.formats.split(","):
        proc = subprocess.run([sys.executable, __file__, "--rows", str(args.rows), "--one", fmt],
                              capture_output=True, text=True, cwd=REPO_DIR)
        if proc.returncode:
            sys.exit(f"{fmt}: {proc.stderr[-3000:]}")
        results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "console.json").write_text(json.dumps(results, indent=1), encoding="utf-8")
    table = markdown(results)
    (args.out / "console.md").write_text(table + "\n", encoding="utf-8")
    print(table)
    for r in results:
        print(f"{r['format']}: preview {r['preview']}, published {r['published']}, HTTP {r['http']}")


if __name__ == "__main__":
    main()
