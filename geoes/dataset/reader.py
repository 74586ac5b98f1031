"""A built dataset version as readers (CLI, web app, notebook) see it."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd

from geoes.dataset.build import GPKG_NAME, INDICATORS_NAME, current_version
from geoes.config import Settings
from geoes.dataset.indicators import RANKED
from geoes.errors import DataMissing


class NoDataset(DataMissing):
    """Nothing has been built yet."""


# Columns of `stats` records and of the indicator tables (geoes.dataset.indicators), in display order.
INDICATOR_COLUMNS = [
    "teryt", "name", "level", "population", "area_km2", "area_km2_computed", "entities",
    "entities_per_10k", "entities_per_100km2", "employees", "employees_per_10k", "employees_known_pct",
    "gminy_with_entity", "gminy_total", "gmina_coverage_pct", "population_coverage_pct", "access_10km_pct",
]


@dataclass
class Dataset:
    version: str
    path: Path
    entities: gpd.GeoDataFrame
    gminy: gpd.GeoDataFrame
    powiaty: gpd.GeoDataFrame
    summary: dict

    @property
    def voivodeship(self) -> dict:
        return self.summary["voivodeship"]

    def type_columns(self) -> list[str]:
        return [c for c in self.powiaty.columns if c.startswith("entities_") and not c.startswith("entities_per")]

    def indicator_table(self, level: str) -> pd.DataFrame:
        frame = self.powiaty if level == "powiat" else self.gminy
        table = pd.DataFrame(frame.drop(columns="geometry"))
        table["level"] = level
        extra = ["powiat_teryt", "powiat_name"] if level == "gmina" else []
        cols = [*INDICATOR_COLUMNS[:3], *extra, *INDICATOR_COLUMNS[3:]]
        cols += self.type_columns()
        cols += [f"rank_{c}" for c in RANKED] + [f"ratio_{c}" for c in RANKED]
        return table[[c for c in cols if c in table.columns]].reset_index(drop=True)

    def voivodeship_record(self) -> dict:
        v = dict(self.voivodeship)
        v["level"] = "wojewodztwo"
        return v


def load_dataset(path: Path) -> Dataset:
    path = Path(path)
    gpkg = path / GPKG_NAME
    entities = gpd.read_file(gpkg, layer="entities", engine="pyogrio")
    gminy = gpd.read_file(gpkg, layer="gminy", engine="pyogrio")
    powiaty = gpd.read_file(gpkg, layer="powiaty", engine="pyogrio")
    for frame in (entities, gminy, powiaty):
        for col in frame.columns:
            if col.endswith("teryt") or col.endswith("teryt_computed") or col in ("id", "krs", "nip", "regon", "postal_code"):
                frame[col] = frame[col].astype(object).where(frame[col].notna(), "").astype(str)
    entities["employees"] = entities["employees"].astype("Int64")
    summary = json.loads((path / INDICATORS_NAME).read_text(encoding="utf-8"))
    return Dataset(summary["version"], path, entities, gminy, powiaty, summary)


def load_current(settings: Settings) -> Dataset:
    version = current_version(settings)
    if version is None:
        raise NoDataset("brak zbudowanych danych: uruchom `python -m geoes build`")
    return load_dataset(settings.build_dir / version)
