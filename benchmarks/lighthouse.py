"""Lighthouse (mobile preset) and page weight of the public pages, served by gunicorn as in production.

    .venv/bin/python benchmarks/lighthouse.py [--runs 3] [--pages /,/powiaty/2602,/entities]

Starts `python -m geoes serve` on a free port of 127.0.0.1 over the built data (`GEOES_DATA_DIR` or
./data), runs Lighthouse 12 (installed on first use with npm into benchmarks/.lighthouse — Lighthouse 13
needs Node 22) in Debian's Chromium (`CHROME_PATH`, default /usr/bin/chromium) with the mobile preset
(Moto G-class emulation, simulated slow 4G), map tiles blocked as when offline, and writes the median of
each figure over the runs to benchmarks/results/lighthouse.json and a Markdown table to stdout.

Nothing here is asserted: the figures go to benchmarks/README.md.
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
LH_DIR = BENCH_DIR / ".lighthouse"
LH_VERSION = "12.8.2"
CHROME_FLAGS = ("--headless=new --no-sandbox --disable-gpu --disable-background-networking "
                "--disable-component-update --disable-sync --no-first-run")
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
AUDITS = ("first-contentful-paint", "largest-contentful-paint", "total-blocking-time", "cumulative-layout-shift",
          "speed-index", "total-byte-weight")


def lighthouse_bin() -> Path:
    exe = LH_DIR / "node_modules" / ".bin" / "lighthouse"
    if not exe.exists():
        LH_DIR.mkdir(exist_ok=True)
        subprocess.run(["npm", "install", "--prefix", str(LH_DIR), "--no-audit", "--no-fund",
                        f"lighthouse@{LH_VERSION}"], check=True)
    return exe


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int) -> subprocess.Popen:
    env = {**os.environ, "GEOES_WORKERS": os.environ.get("GEOES_WORKERS", "2")}
    proc = subprocess.Popen([sys.executable, "-m", "geoes", "serve", "--port", str(port)], cwd=REPO, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                if json.load(r).get("warm"):
                    return proc
        except OSError:
            pass
        time.sleep(0.5)
    proc.terminate()
    raise SystemExit("serwis nie wystartował w 60 s")


def run_once(exe: Path, url: str) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        subprocess.run([str(exe), url, "--quiet", "--output=json", f"--output-path={out.name}",
                        f"--chrome-flags={CHROME_FLAGS}", "--form-factor=mobile",
                        f"--only-categories={','.join(CATEGORIES)}",
                        "--blocked-url-patterns=*tile.openstreetmap.org*"],
                       check=True, env={**os.environ, "CHROME_PATH": os.environ.get("CHROME_PATH", "/usr/bin/chromium")})
        report = json.load(open(out.name, encoding="utf-8"))
    figures = {c: round(report["categories"][c]["score"] * 100) for c in CATEGORIES}
    figures.update({a: report["audits"][a]["numericValue"] for a in AUDITS})
    figures["failing"] = sorted(k for k, a in report["audits"].items()
                                if a.get("score") is not None and a["score"] < 0.9
                                and a.get("scoreDisplayMode") in ("binary", "numeric", "metricSavings"))
    return figures


def measure(exe: Path, base: str, page: str, runs: int) -> dict:
    samples = [run_once(exe, base + page) for _ in range(runs)]
    out = {k: statistics.median(s[k] for s in samples) for k in (*CATEGORIES, *AUDITS)}
    out["min_performance"] = min(s["performance"] for s in samples)
    out["failing"] = sorted({a for s in samples for a in s["failing"]})
    return out


def table(results: dict) -> str:
    rows = ["| page | perf | a11y | best pr. | SEO | FCP s | LCP s | TBT ms | CLS | weight KiB |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for page, r in results.items():
        rows.append(f"| `{page}` | {r['performance']:.0f} (min {r['min_performance']:.0f}) | {r['accessibility']:.0f} "
                    f"| {r['best-practices']:.0f} | {r['seo']:.0f} | {r['first-contentful-paint'] / 1000:.2f} "
                    f"| {r['largest-contentful-paint'] / 1000:.2f} | {r['total-blocking-time']:.0f} "
                    f"| {r['cumulative-layout-shift']:.3f} | {r['total-byte-weight'] / 1024:.0f} |")
    return "\n".join(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--pages", default="/,/powiaty/2602,/entities")
    ap.add_argument("--base", help="measure a server that is already running (e.g. http://127.0.0.1:8000)")
    args = ap.parse_args()
    exe = lighthouse_bin()
    proc = None
    if args.base:
        base = args.base.rstrip("/")
    else:
        port = free_port()
        proc = start_server(port)
        base = f"http://127.0.0.1:{port}"
    try:
        results = {p: measure(exe, base, p, args.runs) for p in args.pages.split(",")}
    finally:
        if proc:
            proc.terminate()
            proc.wait(10)
    out = BENCH_DIR / "results" / "lighthouse.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"measured": time.strftime("%Y-%m-%d %H:%M"), "lighthouse": LH_VERSION,
                               "runs": args.runs, "pages": results}, indent=1), encoding="utf-8")
    print(table(results))
    for page, r in results.items():
        if r["failing"]:
            print(f"{page}: audits below 0.9: {', '.join(r['failing'])}")


if __name__ == "__main__":
    main()
