#!/usr/bin/env python
"""How long `verify` takes for N entities against a local fake of the KRS API (tests/fake_krs.py).

    .venv/bin/python benchmarks/verify_bench.py [--n 1000] [--rate 0] [--limited-rate 100]

The register is generated in a temporary directory, never in data/: N **synthetic** entities (id
`syn-krs-…`, name `SYNTETYCZNY …`, description saying so) with KRS numbers from 9100000000 up — KRS
numbers have no checksum, only ten digits, so these are numbers far above any KRS has assigned — and
NIP/REGON from the prefix 998 that pass their checksums. Half are associations (register S), half social
cooperatives (register P); the seats are the region's real gminy (from the fetched gazetteer, so the seat's
gmina is resolved as in a real run). The fake answers 90 % with an agreeing extract, 5 % with a different
street number, and 5 % not at all (404 in both registers, so two requests each).

Timed, each in the same process, each against a fresh cache unless said:

* **cold, no rate limit** (`--rate 0`: no sleep between requests) — the client, the comparison, the duplicate
  index, the review file; the HTTP round trips are local, so this is the cost of geoes itself;
* **warm** — the same again, every answer from the SQLite cache (zero requests);
* **cold, limited** (`--limited-rate` requests/s) — shows that the rate limit sets the pace; at the default
  `GEOES_KRS_RATE` = 1 the time is at least the number of requests in seconds;
* **report** — the CSV report of the run's proposals.

Results: printed as Markdown and written to benchmarks/results/verify.json.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
sys.path.insert(0, str(REPO_DIR))
sys.path.insert(0, str(REPO_DIR / "tests"))

import pandas as pd  # noqa: E402

from fake_krs import FakeKrs, synthetic_extract, synthetic_nip, synthetic_regon  # noqa: E402
from geoes.config import Settings  # noqa: E402
from geoes.register.record import COLUMNS, write_entities  # noqa: E402

KRS_BASE = 9_100_000_000
MARK = "SYNTETYCZNY"


def seats(settings: Settings) -> list[tuple[str, str, str]]:
    """(gmina TERYT, gmina name, powiat name) of the region, from the fetched gazetteer."""
    from geoes.sources.gazetteer import Gazetteer

    g = Gazetteer.load(settings)
    powiaty = dict(zip(g.powiaty["teryt"], g.powiaty["name"]))
    return [(t, n, powiaty[p]) for t, n, p in g.gminy[["teryt", "name", "powiat_teryt"]].itertuples(index=False)]


def generate(n: int, places: list[tuple[str, str, str]]) -> tuple[pd.DataFrame, list[dict]]:
    rows, extracts = [], []
    for i in range(n):
        krs = str(KRS_BASE + i)
        coop = i % 2 == 1
        teryt, gmina, powiat = places[i % len(places)]
        nip, regon = synthetic_nip(i), synthetic_regon(i)
        name = f"{MARK} {'Spółdzielnia Socjalna' if coop else 'Stowarzyszenie'} {i:05d}"
        rows.append({c: "" for c in COLUMNS} | {
            "id": f"syn-krs-{i:05d}", "name": name, "types": "spoldzielnia_socjalna" if coop else "ngo",
            "social_enterprise": "unknown", "legal_form": "spółdzielnia socjalna" if coop else "stowarzyszenie",
            "street": f"ul. Syntetyczna {i + 1}", "postal_code": "25-001", "locality": gmina, "gmina_teryt": teryt,
            "krs": krs, "nip": nip, "regon": regon, "status": "unknown", "location_precision": "none",
            "description": f"{MARK}: podmiot wygenerowany do pomiaru weryfikacji, nie istnieje"})
        if i % 20 == 0:
            continue                                        # unknown to KRS
        number = str(i + 1 if i % 20 != 1 else i + 10_001)  # 5 %: a different street number
        extracts.append(synthetic_extract(krs, "P" if coop else "S", name.upper(), locality=gmina.upper(),
                                          street="UL. SYNTETYCZNA", number=number, postal="25-001", nip=nip,
                                          regon=regon, legal_form="SPÓŁDZIELNIA" if coop else "STOWARZYSZENIE",
                                          seat={"powiat": powiat.upper(), "gmina": gmina.upper()}))
    return pd.DataFrame(rows, columns=COLUMNS), extracts


def timed_run(settings: Settings) -> dict:
    from geoes.register.verify import run
    from geoes.sources.krs import KrsClient

    client = KrsClient.from_settings(settings)
    start = time.perf_counter()
    result = run(settings, client=client)
    seconds = time.perf_counter() - start
    client.close()
    return {"seconds": round(seconds, 3), "requests": result.requests, "cache_hits": result.cache_hits,
            "checked": result.checked, "found": result.found, "unknown": result.unknown,
            "changes": len(result.changes), "confirmations": len(result.proposals) - len(result.changes),
            "_result": result}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--rate", type=float, default=0.0, help="requests/s in the cold run (0 = no limit)")
    ap.add_argument("--limited-rate", type=float, default=100.0, help="requests/s in the limited run (0 = skip)")
    ap.add_argument("--out", type=Path, default=BENCH_DIR / "results")
    args = ap.parse_args()

    source = Settings.from_env()
    places = seats(source)
    frame, extracts = generate(args.n, places)
    out: dict = {"n": args.n, "machine": f"{platform.processor() or platform.machine()}, Python {platform.python_version()}"}
    with tempfile.TemporaryDirectory(prefix="geoes-verify-bench-") as tmp, FakeKrs(extracts={}) as fake:
        for e in extracts:
            fake.add(e)
        data = Path(tmp) / "data"
        data.mkdir()
        for name in ("boundaries", "gazetteer"):
            shutil.copytree(source.data_dir / name, data / name)
        write_entities(frame, data / "entities.csv")
        settings = Settings(region=source.region, data_dir=data, krs_api=fake.base, krs_rate=args.rate)
        cold = timed_run(settings)
        warm = timed_run(settings)
        from geoes.publish.proposals_report import write_report

        start = time.perf_counter()
        write_report(cold.pop("_result").proposals, data / "raport.csv", "benchmark")
        report_s = time.perf_counter() - start
        warm.pop("_result")
        out |= {"cold": cold, "warm": warm, "report_csv_s": round(report_s, 3)}
        if args.limited_rate > 0:
            (data / "cache" / "krs.sqlite").unlink()
            limited = timed_run(dataclasses.replace(settings, krs_rate=args.limited_rate))
            limited.pop("_result")
            out["limited"] = limited | {"rate": args.limited_rate}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "verify.json").write_text(json.dumps(out, indent=1), encoding="utf-8")
    print(markdown(out))


def markdown(r: dict) -> str:
    c, w = r["cold"], r["warm"]
    lines = ["| run | entities | requests | from cache | s | ms / entity |", "|---|---:|---:|---:|---:|---:|",
             f"| cold, no rate limit | {r['n']:,} | {c['requests']:,} | {c['cache_hits']:,} | {c['seconds']} | "
             f"{c['seconds'] / r['n'] * 1000:.2f} |",
             f"| warm (cache) | {r['n']:,} | {w['requests']:,} | {w['cache_hits']:,} | {w['seconds']} | "
             f"{w['seconds'] / r['n'] * 1000:.2f} |"]
    if "limited" in r:
        lim = r["limited"]
        lines.append(f"| cold, {lim['rate']:g} requests/s | {r['n']:,} | {lim['requests']:,} | {lim['cache_hits']:,} | "
                     f"{lim['seconds']} | {lim['seconds'] / r['n'] * 1000:.2f} |")
    lines.append("")
    lines.append(f"Found {c['found']:,}, unknown {c['unknown']:,}; {c['changes']:,} change proposals, "
                 f"{c['confirmations']:,} confirmations; CSV report {r['report_csv_s']} s. {r['machine']}.")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
