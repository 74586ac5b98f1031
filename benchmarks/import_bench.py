"""Benchmark of the register import: read → mapping → preview → apply of a synthetic office register.

    .venv/bin/python benchmarks/import_bench.py                 # 10,000 rows, figures into benchmarks/README.md
    .venv/bin/python benchmarks/import_bench.py --rows 100000 --no-readme

The register is made from geoes.register.synthetic (seeded, every row marked `syn-…` / SYNTETYCZNY) and
laid out as an office writes it — an XLSX with a title row, `Lp.`, Polish headers, gminy and powiaty by
name, the type in `Forma prawna / typ`, decimal numbers — in a temporary directory, never in data/.
The steps are the importer's public API, timed one after another in one process, against a temporary
copy of the project's record (data/entities.csv); peak memory is the process's `ru_maxrss` after each step
(it only grows) and the RSS the step added (psutil). Needs the region's data (`python -m geoes fetch`).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import psutil
from openpyxl import Workbook

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from geoes.common.reference import entity_types  # noqa: E402
from geoes.config import Settings  # noqa: E402
from geoes.register.importer import ImportContext, apply, preview, propose, read_register  # noqa: E402
from geoes.register.record import read_table  # noqa: E402
from geoes.register.synthetic import generate  # noqa: E402
from geoes.sources.territory import load_territory  # noqa: E402

SEED = 20260101
HERE = Path(__file__).resolve().parent
README = HERE / "README.md"
RESULTS = HERE / "results" / "import.json"
BEGIN, END = "<!-- import-bench -->", "<!-- /import-bench -->"
HEADER = ["Lp.", "Identyfikator", "NAZWA PODMIOTU", "Forma prawna / typ", "Miejscowość", "Gmina", "Powiat",
          "Szerokość geograficzna", "Długość geograficzna", "Liczba zatrudnionych", "Status", "Opis"]
STATUS_PL = {"active": "aktywny", "inactive": "nieaktywny", "unknown": "brak danych"}


def write_register(path: Path, settings: Settings, rows: int) -> int:
    """The synthetic register as an office XLSX; returns its size in bytes."""
    units = load_territory(settings)
    frame = generate(units, rows, seed=SEED)
    gmina_names = dict(zip(units.gminy["teryt"], units.gminy["name"]))
    powiat_names = dict(zip(units.powiaty["teryt"], "powiat " + units.powiaty["name"]))
    labels = {code: t.label_pl for code, t in entity_types().items()}
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Rejestr PES")
    ws.append(["Rejestr podmiotów ekonomii społecznej — SYNTETYCZNY, do testów wydajności"])
    ws.append([])
    ws.append(HEADER)
    for n, r in enumerate(frame.itertuples(index=False), start=1):
        ws.append([n, r.id, r.name, labels[r.types.split(";")[0]], r.locality, "gm. " + gmina_names[r.gmina_teryt],
                   powiat_names[r.powiat_teryt], float(r.lat), float(r.lon), int(r.employees) if r.employees else None,
                   STATUS_PL[r.status], r.description])
    wb.save(path)
    return path.stat().st_size


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(settings: Settings, rows: int) -> dict:
    proc = psutil.Process()
    with tempfile.TemporaryDirectory(prefix="geoes-import-bench-") as tmp:
        tmp = Path(tmp)
        xlsx, record = tmp / "rejestr_syntetyczny.xlsx", tmp / "entities.csv"
        size = write_register(xlsx, settings, rows)
        shutil.copy(settings.entities_path, record)
        context = ImportContext.from_settings(settings)
        existing = read_table(record).drop(columns="row")
        steps, out = {}, {}

        def step(name, fn):
            rss0, t0 = proc.memory_info().rss, time.perf_counter()
            value = fn()
            steps[name] = {"s": round(time.perf_counter() - t0, 3), "peak_mb": round(_peak_mb(), 1),
                           "rss_added_mb": round((proc.memory_info().rss - rss0) / 2**20, 1)}
            return value

        register = step("read", lambda: read_register(xlsx, context))
        proposal = step("mapping", lambda: propose(register, context))
        result = step("preview", lambda: preview(proposal, existing, context, accept=True))
        step("apply", lambda: apply(result, record))
        out.update(rows=rows, xlsx_mb=round(size / 2**20, 2), steps=steps,
                   total_s=round(sum(s["s"] for s in steps.values()), 2), counts=result.counts,
                   needs_confirmation=proposal.needs_confirmation,
                   written=len(read_table(record)))
    return out


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return (f"{cpu} ({psutil.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.1f} GiB), "
            f"Python {platform.python_version()}")


def markdown(results: list[dict]) -> str:
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    lines = [BEGIN, "", f"Measured {datetime.now():%Y-%m-%d %H:%M} on {machine()}; load average {load} "
             "(the machine is shared: a busy one stretches every step alike).", "",
             "| rows | XLSX MB | read s | mapping s | preview s | apply s | total s | peak RSS MB after read / "
             "mapping / preview / apply | added | warned | rejected |", "|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|"]
    for r in results:
        s, c = r["steps"], r["counts"]
        peaks = " / ".join(f"{s[k]['peak_mb']:,.0f}" for k in ("read", "mapping", "preview", "apply"))
        lines.append(f"| {r['rows']:,} | {r['xlsx_mb']} | {s['read']['s']} | {s['mapping']['s']} | {s['preview']['s']} "
                     f"| {s['apply']['s']} | **{r['total_s']}** | {peaks} | {c['added']:,} | {c['warned']:,} "
                     f"| {c['rejected']:,} |")
    lines += ["", END]
    return "\n".join(lines)


def update_readme(results: list[dict]) -> None:
    text = README.read_text(encoding="utf-8")
    block = markdown(results)
    if BEGIN in text:
        text = text[:text.index(BEGIN)] + block + text[text.index(END) + len(END):]
    else:
        text = text.rstrip() + "\n\n## Register import (read → mapping → preview → apply)\n\n" + block + "\n"
    README.write_text(text, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="10000", help="comma-separated register sizes (default 10000)")
    parser.add_argument("--no-readme", action="store_true", help="print the table, do not write benchmarks/README.md")
    args = parser.parse_args()
    settings = Settings.from_env()
    results = [measure(settings, int(n)) for n in args.rows.split(",")]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    print(markdown(results))
    if not args.no_readme:
        update_readme(results)


if __name__ == "__main__":
    main()
