"""Several instances on PostgreSQL (GEOES_DATABASE_URL): what publishing into the database costs against the
file build, and what nginx in front of 1 and of 3 instances serves on this machine.

    .venv/bin/python benchmarks/scale_out.py [--sizes 10000,100000] [--duration 15] [--connections 32]

* publish: at each size, synthetic entities (geoes.register.synthetic: seeded, marked `syn-…`, written only
  into temporary directories) are built twice with the real `geoes.dataset.build.build` — into files (the
  embedded default: data/build/<version>/, the `current` link) and into a throw-away PostgreSQL + PostGIS
  (scripts/pgtemp.py: the same build, then the layers COPY'd into PostGIS tables with GiST indexes, the version
  row and the switch with NOTIFY) — plus the register write a console publish adds, and the time an
  instance takes to load the new version (GeoPackage vs PostGIS).
* throughput: the real register (82 entities) in the database, nginx (scripts/scale_test.py's configuration,
  no response cache) in front of 1 and then 3 gunicorn instances (each GEOES_WORKERS=2 × 4 threads), wrk
  `-t2 -cN` through nginx for each URL. Everything — PostgreSQL, nginx, the instances, wrk — shares the same
  2 cores.

Nothing is asserted; the figures go to benchmarks/results/scale_out.json and, as a Markdown table, to stdout
(copied into benchmarks/README.md).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path[:0] = [str(REPO), str(REPO / "scripts"), str(BENCH)]

import pgtemp  # noqa: E402
import scale_test  # noqa: E402
from pages_wrk import run_wrk  # noqa: E402

from geoes.config import Settings  # noqa: E402
from geoes.dataset.build import build  # noqa: E402
from geoes.dataset.reader import load_version  # noqa: E402
from geoes.register import stored  # noqa: E402
from geoes.register.synthetic import generate, write_csv  # noqa: E402
from geoes.sources.territory import load_territory  # noqa: E402

URLS = ("/api/entities.geojson?view=map", "/powiaty/2602", "/healthz")


def _region_copy(target: Path) -> Settings:
    target.mkdir(parents=True)
    for name in scale_test.REGION_DIRS:
        if (REPO / "data" / name).exists():
            shutil.copytree(REPO / "data" / name, target / name)
    return Settings(region="26", data_dir=target)


def _timed(fn) -> tuple[float, object]:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def part_publish(sizes: list[int], root: Path, url: str) -> list[dict]:
    rows = []
    for n in sizes:
        files = _region_copy(root / f"files-{n}")
        frame = generate(load_territory(files), n, seed=20260101)
        csv_path = write_csv(frame, root / f"synthetic-{n}.csv", protected=REPO / "data")
        data = csv_path.read_bytes()
        file_s, result = _timed(lambda: build(files, csv_path))
        file_load_s, _ = _timed(lambda: load_version(files, result.version))
        db = Settings(region="26", data_dir=root / f"db-{n}", database_url=url)
        shutil.copytree(files.data_dir, db.data_dir, ignore=shutil.ignore_patterns("build"))
        db_s, db_result = _timed(lambda: build(db, csv_path))
        register_s, _ = _timed(lambda: stored.write_bytes(db, data))
        db_load_s, _ = _timed(lambda: load_version(db, db_result.version))
        rows.append({"entities": n, "file_build_s": round(file_s, 2), "db_build_s": round(db_s, 2),
                     "db_register_s": round(register_s, 2), "db_publish_s": round(db_s + register_s, 2),
                     "file_load_s": round(file_load_s, 2), "db_load_s": round(db_load_s, 2)})
        print(json.dumps(rows[-1]), flush=True)
    return rows


def part_throughput(root: Path, url: str, duration: int, connections: int) -> list[dict]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GEOES_")}
    env.update(GEOES_DATABASE_URL=url, GEOES_REGION="26")
    builder = root / "builder"
    scale_test.prepare_builder(builder, {**env, "GEOES_DATA_DIR": str(builder)})
    scale_test.run("db", "init", env={**env, "GEOES_DATA_DIR": str(builder)})
    rows = []
    for instances in (1, 3):
        procs, nginx = [], None
        ports = [pgtemp.free_port() for _ in range(instances)]
        try:
            for i, port in enumerate(ports):
                env_i = {**env, "GEOES_WORKERS": "2"}
                procs.append(scale_test.start_instance(root / f"i{instances}-{i}", port, env_i,
                                                       root / f"i{instances}-{i}.log"))
            for port, proc in zip(ports, procs):
                health = scale_test.wait_healthy(f"http://127.0.0.1:{port}", proc)
                deadline = time.monotonic() + 60
                while not health.get("warm") and time.monotonic() < deadline:
                    time.sleep(0.5)
                    health = scale_test.wait_healthy(f"http://127.0.0.1:{port}", proc)
            front = pgtemp.free_port()
            nginx_root = root / f"nginx-{instances}"
            nginx_root.mkdir()
            os.chmod(nginx_root, 0o755)
            nginx = scale_test.start_nginx(nginx_root, front, ports)
            scale_test.wait_healthy(f"http://127.0.0.1:{front}", nginx)
            for path in URLS:
                run_wrk(f"http://127.0.0.1:{front}{path}", 3, connections, 2)   # warm every worker
                result = run_wrk(f"http://127.0.0.1:{front}{path}", duration, connections, 2)
                rows.append({"instances": instances, "url": path, **result})
                print(json.dumps(rows[-1]), flush=True)
        finally:
            if nginx is not None:
                nginx.send_signal(signal.SIGQUIT)
                nginx.wait(timeout=10)
            for proc in procs:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=30)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10000,100000")
    ap.add_argument("--duration", type=int, default=15)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--parts", default="publish,throughput")
    args = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="geoes-scale-bench-"))
    os.chmod(root, 0o755)
    server = pgtemp.TempPostgres()
    out = {"measured": time.strftime("%Y-%m-%d %H:%M"), "cpus": os.cpu_count()}
    try:
        url = server.start()
        parts = args.parts.split(",")
        if "publish" in parts:
            out["publish"] = part_publish([int(s) for s in args.sizes.split(",")], root, url)
        if "throughput" in parts:
            # A fresh database: the publish part's versions are synthetic.
            subprocess.run(["psql", url.rsplit("/", 1)[0] + "/postgres", "-qc", "CREATE DATABASE tp TEMPLATE geoes"],
                           check=True, capture_output=True)
            out["throughput"] = part_throughput(root, url.rsplit("/", 1)[0] + "/tp", args.duration, args.connections)
    finally:
        server.remove()
        shutil.rmtree(root, ignore_errors=True)
    (BENCH / "results").mkdir(exist_ok=True)
    (BENCH / "results" / "scale_out.json").write_text(json.dumps(out, indent=1), encoding="utf-8")
    if "publish" in out:
        print("\n| entities | file build s | PostgreSQL build s | + register s | publish into PostgreSQL s | load: GeoPackage s | load: PostGIS s |")
        print("|---:|---:|---:|---:|---:|---:|---:|")
        for r in out["publish"]:
            print(f"| {r['entities']:,} | {r['file_build_s']} | {r['db_build_s']} | {r['db_register_s']} | "
                  f"**{r['db_publish_s']}** | {r['file_load_s']} | {r['db_load_s']} |")
    if "throughput" in out:
        print("\n| instances | URL | requests/s | p50 ms | p99 ms | non-2xx |")
        print("|---:|---|---:|---:|---:|---:|")
        for r in out["throughput"]:
            print(f"| {r['instances']} | `{r['url']}` | {r['requests_per_s']:.0f} | {r['p50_ms']} | {r['p99_ms']} | "
                  f"{r['non_2xx']} |")


if __name__ == "__main__":
    main()
