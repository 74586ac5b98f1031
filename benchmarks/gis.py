"""GIS and office outputs at scale: CQL2 filters, EPSG:2180 features, XLSX and excel-pl CSV.

    .venv/bin/python benchmarks/gis.py [--sizes 10000,100000]

For each size: a temporary data dir (the fetched region data of ./data cloned + seeded synthetic entities,
geoes.register.synthetic) built by the real `geoes.dataset.build.build`; then, on the published entity
layer (geoes.publish.layers), the median of 5 runs of
* each CQL2 filter of FILTERS, parsed and evaluated over the whole frame (geoes.publish.ogc.cql);
* the same selection by a property parameter (`status=active`, geoes.publish.filters.property_mask);
* serialising every feature in CRS84 (geoes.publish.serialise.features_json: coordinates written as the
  shortest text of the rounded number) and in EPSG:2180 (geoes.publish.layers.crs_features without the
  cache);
and one run of the XLSX, the excel-pl CSV and the ESSGlobal CSV of the whole layer, and of every
Murmurations profile built and validated against the vendored schemas. Figures go to stdout (Markdown) and
benchmarks/results/gis.json. Nothing here runs in the tests.
"""
from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # run as a script from a checkout: the package is not installed

from geoes.config import Settings  # noqa: E402
from geoes.dataset.build import build  # noqa: E402
from geoes.dataset.reader import load_current  # noqa: E402
from geoes.publish import essglobal, murmurations, serialise  # noqa: E402
from geoes.publish.filters import property_mask  # noqa: E402
from geoes.publish.ogc import cql  # noqa: E402
from geoes.publish.ogc.crs import CRS84, EPSG_2180, SUPPORTED  # noqa: E402
from geoes.register.synthetic import as_read_table, generate, write_csv  # noqa: E402
from geoes.sources.territory import load_territory  # noqa: E402

COPY_DIRS = ("boundaries", "population", "gazetteer", "official")
SEED = 20260101
FILTERS = [
    "status = 'active'",
    "status = 'active' AND employees > 10",
    "CASEI(name) LIKE '%ngo%' OR types IN ('cis', 'wtz')",
    "employees BETWEEN 5 AND 20 AND NOT (location_precision = 'gmina')",
    "S_INTERSECTS(geometry, BBOX(20.3,50.5,21.0,51.0))",
    "S_INTERSECTS(geometry, POLYGON((20.3 50.5, 21.0 50.5, 20.3 51.0, 20.3 50.5))) AND krs IS NULL",
]


def timed(fn, runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def prepare(n: int, tmp: Path) -> Settings:
    source = Settings.from_env().data_dir
    for name in COPY_DIRS:
        if (source / name).exists():
            shutil.copytree(source / name, tmp / name)
    settings = Settings(region="26", data_dir=tmp)
    frame = as_read_table(generate(load_territory(settings), n, seed=SEED))
    write_csv(frame, settings.entities_path)
    build(settings)
    return settings


def measure(n: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        ds = load_current(prepare(n, Path(tmp)))
    frame = serialise.published(ds.entities.reset_index(drop=True))
    types = {c: ("integer" if str(frame[c].dtype) in ("Int64", "int64") else
                 "number" if frame[c].dtype.kind == "f" else
                 "boolean" if frame[c].dtype == bool else "string") for c in frame.columns if c != "geometry"}
    out: dict = {"n": n, "cql": {}}
    for text in FILTERS:
        f = cql.parse(text, types, SUPPORTED[CRS84])
        out["cql"][text] = {"seconds": timed(lambda: f.mask(frame)), "matched": int(f.mask(frame).sum())}
    out["property_param_s"] = timed(lambda: property_mask(frame, "status", "active"))
    out["crs84_features_s"] = timed(lambda: serialise.features_json(frame), 3)
    crs = SUPPORTED[EPSG_2180]
    out["epsg2180_features_s"] = timed(
        lambda: serialise.features_json(frame.set_geometry(crs.project(frame.geometry.to_numpy()), crs=None)), 3)
    t = time.perf_counter()
    data = serialise.to_xlsx(frame, "entities", serialise.about_rows(ds.summary, "entities", len(frame)))
    out["xlsx_s"], out["xlsx_mb"] = time.perf_counter() - t, len(data) / 1e6
    t = time.perf_counter()
    data = serialise.to_csv(frame, "excel-pl")
    out["csv_excel_pl_s"], out["csv_excel_pl_mb"] = time.perf_counter() - t, len(data) / 1e6
    t = time.perf_counter()
    data = essglobal.to_csv(essglobal.essglobal_table(frame, "świętokrzyskie"))
    out["essglobal_s"], out["essglobal_mb"] = time.perf_counter() - t, len(data) / 1e6
    t = time.perf_counter()
    profiles = murmurations.site_profiles(ds, "https://mapa.example.pl")
    out["murmurations_s"], out["murmurations_invalid"] = time.perf_counter() - t, sum(bool(p.problems) for p in profiles)
    return out


def markdown(results: list[dict]) -> str:
    sizes = [r["n"] for r in results]
    lines = ["| | " + " | ".join(f"{n:,} entities".replace(",", " ") for n in sizes) + " |",
             "|---|" + "---|" * len(sizes)]
    for text in FILTERS:
        lines.append(f"| CQL2 `{text}` | " + " | ".join(
            f"{r['cql'][text]['seconds'] * 1000:.1f} ms ({r['cql'][text]['matched']})" for r in results) + " |")
    lines.append("| property parameter `status=active` | "
                 + " | ".join(f"{r['property_param_s'] * 1000:.1f} ms" for r in results) + " |")
    lines.append("| all features in CRS84 | "
                 + " | ".join(f"{r['crs84_features_s']:.2f} s" for r in results) + " |")
    lines.append("| all features in EPSG:2180 | "
                 + " | ".join(f"{r['epsg2180_features_s']:.2f} s" for r in results) + " |")
    lines.append("| XLSX of the layer | "
                 + " | ".join(f"{r['xlsx_s']:.1f} s, {r['xlsx_mb']:.1f} MB" for r in results) + " |")
    lines.append("| CSV excel-pl of the layer | "
                 + " | ".join(f"{r['csv_excel_pl_s']:.2f} s, {r['csv_excel_pl_mb']:.1f} MB" for r in results) + " |")
    lines.append("| ESSGlobal CSV of the layer | "
                 + " | ".join(f"{r['essglobal_s']:.2f} s, {r['essglobal_mb']:.1f} MB" for r in results) + " |")
    lines.append("| every Murmurations profile, built and validated | "
                 + " | ".join(f"{r['murmurations_s']:.1f} s ({r['murmurations_invalid']} invalid)" for r in results)
                 + " |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    args = parser.parse_args()
    results = [measure(int(n)) for n in args.sizes.split(",")]
    out = REPO / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "gis.json").write_text(json.dumps(results, indent=1), encoding="utf-8")
    print(markdown(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
