"""The region's territory as fetched into data/: gminy and powiaty with population, and the region outline.

"Territory" means the territorial units (TERYT); measurement units are something else and live elsewhere.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import pandas as pd

from geoes.config import CRS_METRIC, Settings
from geoes.errors import DataMissing


class MissingData(DataMissing):
    """The fetched data are not there yet; tell the user to run `fetch`."""


@dataclass(frozen=True)
class Territory:
    gminy: gpd.GeoDataFrame     # EPSG:4326, with population and area columns
    powiaty: gpd.GeoDataFrame
    region: gpd.GeoDataFrame
    region_code: str

    @property
    def region_metric(self):
        return self.region.to_crs(CRS_METRIC).union_all()


def _require(path: Path) -> Path:
    if not path.exists():
        raise MissingData(
            f"brak pliku {path}: uruchom najpierw `python -m geoes fetch` (lub `fetch --mirror KATALOG`)"
        )
    return path


def _with_population(frame: gpd.GeoDataFrame, pop_path: Path) -> gpd.GeoDataFrame:
    pop = pd.read_csv(_require(pop_path), dtype={"teryt": str})
    merged = frame.merge(pop, on="teryt", how="left", validate="one_to_one")
    merged["population"] = merged["population"].astype("Int64")
    metric = merged.geometry.to_crs(CRS_METRIC)
    merged["area_km2_computed"] = (metric.area / 1e6).round(2)
    return merged


@lru_cache(maxsize=4)
def _load(data_dir: str, region: str, stamp: tuple) -> Territory:
    s = Settings(region=region, data_dir=Path(data_dir))
    gminy = gpd.read_file(_require(s.gminy_path), engine="pyogrio")
    powiaty = gpd.read_file(_require(s.powiaty_path), engine="pyogrio")
    region_frame = gpd.read_file(_require(s.region_path), engine="pyogrio")
    for frame in (gminy, powiaty, region_frame):
        frame["teryt"] = frame["teryt"].astype(str)
    gminy["powiat_teryt"] = gminy["powiat_teryt"].astype(str)
    gminy = _with_population(gminy, s.gminy_population_path).sort_values("teryt", ignore_index=True)
    powiaty = _with_population(powiaty, s.powiaty_population_path).sort_values("teryt", ignore_index=True)
    return Territory(gminy, powiaty, region_frame, region)


def load_territory(settings: Settings) -> Territory:
    """Load (and cache until the files change) the fetched gminy, powiaty and outline of the configured region."""
    paths = (settings.gminy_path, settings.powiaty_path, settings.region_path,
             settings.gminy_population_path, settings.powiaty_population_path)
    stamp = tuple(p.stat().st_mtime_ns if p.exists() else 0 for p in paths)
    return _load(str(settings.data_dir), settings.region, stamp)
