"""Bytes of the map pages' HTML shells and of the layers the map fetches, raw and gzipped as served.

    .venv/bin/python benchmarks/page_sizes.py [--data-dir DIR]

Over the built data (`--data-dir`, `GEOES_DATA_DIR` or ./data) the app answers each URL in-process
(Flask's test client: the same bytes gunicorn sends), once without and once with `Accept-Encoding:
gzip` (the transfer as served, compression by the app). Writes benchmarks/results/page_sizes.json and a
Markdown table to stdout. Nothing here is asserted (tests/web/test_mapconfig.py holds the pages under
50 KB): the figures go to benchmarks/README.md.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
sys.path.insert(0, str(REPO))

PAGES = ("/", "/embed", "/powiaty/2602", "/gminy/2602023", "/compare?teryt=2602&teryt=2601")
LAYERS = ("/api/powiaty.geojson?view=map", "/api/gminy.geojson?view=map", "/api/powiaty.geojson",
          "/api/gminy.geojson", "/api/entities.geojson?view=map")


def measure(client, url: str) -> dict:
    raw = client.get(url)
    zipped = client.get(url, headers={"Accept-Encoding": "gzip"})
    out = {"url": url, "status": raw.status_code, "raw_bytes": len(raw.data),
           "transfer_bytes": len(zipped.data), "encoding": zipped.headers.get("Content-Encoding", "")}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", default=os.environ.get("GEOES_DATA_DIR") or str(REPO / "data"))
    args = ap.parse_args()
    from geoes.web import create_app

    app = create_app({"GEOES_DATA_DIR": args.data_dir, "WARM_UP": False})
    rows = []
    with app.test_client() as client:
        for url in (*PAGES, *LAYERS):
            rows.append(measure(client, url))
    out_dir = BENCH_DIR / "results"
    out_dir.mkdir(exist_ok=True)
    (out_dir / "page_sizes.json").write_text(json.dumps(rows, indent=2), encoding="utf-8")
    print("| URL | status | bytes | gzip bytes (as served) |\n|---|---:|---:|---:|")
    for r in rows:
        enc = "" if r["encoding"] == "gzip" else f" ({r['encoding'] or 'not compressed'})"
        print(f"| `{r['url']}` | {r['status']} | {r['raw_bytes']:,} | {r['transfer_bytes']:,}{enc} |")


if __name__ == "__main__":
    main()
