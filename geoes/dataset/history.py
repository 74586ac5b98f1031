"""The register's own history: for each kept dataset version, its entities by type and powiat.

Read from the versions under data/build/ (or stored in the database: geoes.dataset.pgstore; the build keeps
the last few, see build.KEEP_VERSIONS): each
version's `powiaty` layer already holds the counts by powiat and type, and its indicators.json the time
it was built. Only what the versions say — a version that is gone is not reconstructed.
"""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyogrio

from geoes.common.reference import entity_types
from geoes.config import Settings
from geoes.dataset import pgstore
from geoes.dataset.build import GPKG_NAME, INDICATORS_NAME

COLUMNS = ["version", "built_at", "powiat_teryt", "powiat_name", "type", "type_label", "entities"]


def versions(settings: Settings) -> list[Path]:
    """The complete versions kept under the build directory, oldest first."""
    root = settings.build_dir
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.is_dir() and not p.is_symlink() and not p.name.startswith(".")
                  and (p / GPKG_NAME).exists() and (p / INDICATORS_NAME).exists())


def version_counts(path: Path) -> pd.DataFrame:
    """One version's active entities by powiat and type (long table, COLUMNS)."""
    summary = json.loads((path / INDICATORS_NAME).read_text(encoding="utf-8"))
    table = pyogrio.read_dataframe(path / GPKG_NAME, layer="powiaty", read_geometry=False)
    return _counts(summary, table, path.name)


def _counts(summary: dict, table: pd.DataFrame, name: str) -> pd.DataFrame:
    rows = []
    for code, t in entity_types().items():
        col = f"entities_{code}"
        if col not in table:
            continue
        for teryt, name, n in zip(table["teryt"].astype(str), table["name"], table[col]):
            rows.append({"version": summary.get("version", name), "built_at": summary.get("built_at"),
                         "powiat_teryt": teryt, "powiat_name": name, "type": code, "type_label": t.short_pl,
                         "entities": int(n)})
    return pd.DataFrame(rows, columns=COLUMNS)


def register_history(settings: Settings) -> pd.DataFrame:
    """Every kept version's counts by powiat and type, oldest version first (from data/build, or from the
    versions stored in the database)."""
    if settings.uses_database:
        columns = ["teryt", "name", *(f"entities_{code}" for code in entity_types())]
        frames = [_counts(summary, table, summary.get("version", ""))
                  for summary, table in pgstore.layer_columns(settings, "powiaty", columns)]
    else:
        frames = [version_counts(p) for p in versions(settings)]
    if not frames:
        return pd.DataFrame(columns=COLUMNS)
    return pd.concat(frames, ignore_index=True)


def totals_by_type(history: pd.DataFrame) -> pd.DataFrame:
    """Versions × types: the region's active entities of each type in each version."""
    if history.empty:
        return pd.DataFrame()
    table = history.pivot_table(index=["version", "built_at"], columns="type_label", values="entities",
                                aggfunc="sum", sort=False)
    return table.reset_index()
