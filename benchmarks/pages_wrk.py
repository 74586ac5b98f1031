"""Pages under load: wrk against gunicorn on 127.0.0.1, as the public hits the service.

    .venv/bin/python benchmarks/pages_wrk.py [--duration 15] [--connections 32] [--pages /,/powiaty/2602]

Starts gunicorn with the project's gunicorn.conf.py (`GEOES_WORKERS`, default 2 workers × 4 threads,
access log off) over the built data (`GEOES_DATA_DIR` or ./data), waits until the workers report their
caches warm (/healthz), checks once per page that the answer is complete, gzipped and carries a fresh
CSP nonce, then runs `wrk -t2 -c32 --latency -H 'Accept-Encoding: gzip'` (Debian's wrk: apt-get install
wrk) on each page in turn and writes requests/s and the latency percentiles to
benchmarks/results/pages_wrk.json and a Markdown table to stdout. wrk runs on the same machine (the
same 2 cores) as gunicorn. Nothing here is asserted: the figures go to benchmarks/README.md.
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
PAGES = "/,/powiaty/2602"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(port: int, workers: str, log: Path) -> subprocess.Popen:
    env = {**os.environ, "GEOES_BIND": f"127.0.0.1:{port}", "GEOES_WORKERS": workers,
           "GEOES_LOG_LEVEL": "warning", "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", str(REPO / "gunicorn.conf.py"),
                             "--access-logfile", "/dev/null", "app:app"], cwd=REPO, env=env,
                            stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 90
    warm_seen = 0
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
                # Each answer comes from one worker: several warm answers in a row → all workers warm.
                warm_seen = warm_seen + 1 if json.load(r).get("warm") else 0
                if warm_seen >= 6:
                    return proc
        except OSError:
            pass
        if proc.poll() is not None:
            break
        time.sleep(0.3)
    stop(proc)
    raise SystemExit("gunicorn nie wystartował:\n" + log.read_text()[-3000:])


def stop(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(proc.pid, signal.SIGKILL)


def check(url: str) -> dict:
    """One request as wrk sends it: complete HTML, gzip, a CSP nonce that differs between requests."""
    seen = []
    for _ in range(2):
        req = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"})
        with urllib.request.urlopen(req, timeout=30) as r:
            raw = r.read()
            encoding = r.headers.get("Content-Encoding")
            csp = r.headers.get("Content-Security-Policy", "")
        body = gzip.decompress(raw) if encoding == "gzip" else raw
        nonce = re.search(r"'nonce-([^']+)'", csp)
        seen.append(nonce.group(1) if nonce else None)
        text = body.decode("utf-8")
    if not text.rstrip().endswith("</html>"):
        raise SystemExit(f"{url}: niepełny HTML")
    if seen[0] and f'nonce="{seen[1]}"' not in text:
        raise SystemExit(f"{url}: nonce z nagłówka CSP nie trafił do strony")
    return {"bytes": len(body), "gzip_bytes": len(raw) if encoding == "gzip" else None, "encoding": encoding,
            "fresh_nonce": bool(seen[0]) and seen[0] != seen[1]}


def ms(value: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s)", value)
    factor = {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]
    return float(m.group(1)) * factor


def run_wrk(url: str, duration: int, connections: int, threads: int) -> dict:
    out = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency",
                          "-H", "Accept-Encoding: gzip", url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    pct = {p: ms(v) for p, v in re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", out, re.M)}
    total = int(re.search(r"(\d+) requests in", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {"requests_per_s": rps, "p50_ms": pct.get("50"), "p90_ms": pct.get("90"), "p99_ms": pct.get("99"),
            "requests": total, "non_2xx": int(bad.group(1)) if bad else 0,
            "socket_errors": errors.group(1) if errors else None}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", default=PAGES)
    ap.add_argument("--duration", type=int, default=15)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2, help="wrk threads")
    ap.add_argument("--workers", default=os.environ.get("GEOES_WORKERS", "2"))
    args = ap.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("brak wrk: apt-get install wrk")
    load_before = os.getloadavg()[0]  # the machine is shared: say how busy it was
    tmp = Path(tempfile.mkdtemp(prefix="geoes-wrk-"))
    port = free_port()
    proc = start_gunicorn(port, args.workers, tmp / "gunicorn.log")
    results = {}
    try:
        for page in args.pages.split(","):
            url = f"http://127.0.0.1:{port}{page}"
            info = check(url)
            run_wrk(url, 2, args.connections, args.threads)  # warm every worker thread on this page
            results[page] = {**info, **run_wrk(url, args.duration, args.connections, args.threads)}
            print(f"{page}: {results[page]}", flush=True)
    finally:
        stop(proc)
    out = BENCH_DIR / "results" / "pages_wrk.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"measured": time.strftime("%Y-%m-%d %H:%M"), "load_before": load_before,
                               "workers": args.workers,
                               "connections": args.connections, "duration_s": args.duration,
                               "pages": results}, indent=1), encoding="utf-8")
    print(f"load average before: {load_before:.2f}")
    print("| page | requests/s | p50 ms | p90 ms | p99 ms | HTML KB (gzip) | non-2xx |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for page, r in results.items():
        gz = f"{r['gzip_bytes'] / 1024:.1f}" if r["gzip_bytes"] else "–"
        print(f"| `{page}` | {r['requests_per_s']:,.0f} | {r['p50_ms']:.1f} | {r['p90_ms']:.1f} | {r['p99_ms']:.1f} "
              f"| {r['bytes'] / 1024:.1f} ({gz}) | {r['non_2xx']} |")


if __name__ == "__main__":
    main()
