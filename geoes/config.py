"""Settings and the on-disk layout of the data directory.

Everything region-specific is a setting (default: woj. świętokrzyskie, TERYT 26) so the same code
serves another voivodeship or the whole country given its data.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_DIR = PACKAGE_DIR.parent

# Working CRS for areas, distances and buffers (PUWG 1992, metres) and the publishing CRS.
CRS_METRIC = "EPSG:2180"
CRS_PUBLISH = "EPSG:4326"

ACCESS_RADIUS_M = 10_000
ACTIVE_STATUSES = ("active", "unknown")


@dataclass(frozen=True)
class Settings:
    region: str = "26"
    data_dir: Path = field(default_factory=lambda: REPO_DIR / "data")

    @classmethod
    def from_env(cls, **overrides) -> "Settings":
        values = {
            "region": os.environ.get("GEOES_REGION", "26"),
            "data_dir": Path(os.environ.get("GEOES_DATA_DIR", REPO_DIR / "data")),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        values["data_dir"] = Path(values["data_dir"])
        return cls(**values)

    # Fetched third-party data (git-ignored).
    @property
    def boundaries_dir(self) -> Path:
        return self.data_dir / "boundaries"

    @property
    def gminy_path(self) -> Path:
        return self.boundaries_dir / "gminy.geojson"

    @property
    def powiaty_path(self) -> Path:
        return self.boundaries_dir / "powiaty.geojson"

    @property
    def region_path(self) -> Path:
        return self.boundaries_dir / "wojewodztwo.geojson"

    @property
    def population_dir(self) -> Path:
        return self.data_dir / "population"

    @property
    def gminy_population_path(self) -> Path:
        return self.population_dir / "gminy.csv"

    @property
    def powiaty_population_path(self) -> Path:
        return self.population_dir / "powiaty.csv"

    @property
    def gazetteer_dir(self) -> Path:
        return self.data_dir / "gazetteer"

    @property
    def localities_path(self) -> Path:
        return self.gazetteer_dir / "miejscowosci.csv"

    @property
    def gmina_points_path(self) -> Path:
        return self.gazetteer_dir / "gminy_punkty.csv"

    @property
    def terc_path(self) -> Path:
        return self.gazetteer_dir / "terc.csv"

    @property
    def official_counts_path(self) -> Path:
        return self.data_dir / "official" / "statystyki_pes.csv"

    # The project's own curated file (committed).
    @property
    def entities_path(self) -> Path:
        return self.data_dir / "entities.csv"

    # Build outputs: one directory per dataset version, `current` names the served one.
    @property
    def build_dir(self) -> Path:
        return self.data_dir / "build"

    @property
    def geocode_cache_path(self) -> Path:
        return self.data_dir / "cache" / "geocode.sqlite"
