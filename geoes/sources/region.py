"""What a fetch produces, whichever source it comes from: `RegionData` and its `FetchError`.

Both sources — the official services (`geoes.sources.services`) and a mirror directory
(`geoes.sources.fetch.load_mirror`) — return a `RegionData`; `geoes.sources.fetch` validates it and
writes it under data/. Kept apart from both so that neither source imports the other.
"""
from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import pandas as pd

from geoes.errors import ServiceError

GMINA_TYPE_NAMES = {1: "gmina miejska", 2: "gmina wiejska", 3: "gmina miejsko-wiejska"}
# The year of the population figures (GUS BDL, people at 31 XII) every source delivers.
POPULATION_YEAR = 2024


class FetchError(ServiceError):
    """Fetched data failed validation or could not be read; nothing was written."""


@dataclass
class RegionData:
    gminy: gpd.GeoDataFrame      # teryt, name, powiat_teryt, powiat_name, type, type_name, area_km2_official
    powiaty: gpd.GeoDataFrame    # teryt, name, city_county, area_km2_official
    region: gpd.GeoDataFrame     # teryt, name
    gminy_population: pd.DataFrame   # teryt, population, population_year, population_2021
    powiaty_population: pd.DataFrame
    localities: pd.DataFrame | None = None      # name, kind, lat, lon, gmina_teryt, powiat_teryt
    gmina_points: pd.DataFrame | None = None    # teryt, name, lat, lon
    terc: pd.DataFrame | None = None
    official_counts: pd.DataFrame | None = None
    unemployment: pd.DataFrame | None = None    # teryt, year, measure (persons|rate), value, source
