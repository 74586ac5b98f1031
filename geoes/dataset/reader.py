"""A built dataset version as readers (CLI, web app, notebook) see it."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd

from geoes.dataset import pgstore
from geoes.dataset.build import GPKG_NAME, INDICATORS_NAME, current_version
from geoes.config import Settings
from geoes.common.dictionary import is_whole
from geoes.common.values import plain
from geoes.dataset.figures import RANKED, RELATED, reasons_text
from geoes.dataset.gpkg import read_layers
from geoes.errors import DataMissing


class NoDataset(DataMissing):
    """Nothing has been built yet."""


# Columns of `stats` records and of the indicator tables (geoes.dataset.indicators), in display order.
INDICATOR_COLUMNS = [
    "teryt", "name", "level", "population", "area_km2", "area_km2_computed", "entities",
    "entities_per_10k", "entities_per_100km2", "employees", "employees_per_10k", "employees_known_pct",
    "gminy_with_entity", "gminy_total", "gmina_coverage_pct", "population_coverage_pct", "access_10km_pct",
    "entities_without_gmina", "verified_24m", "verified_24m_pct", "unemployed", "unemployed_2022",
    "unemployed_per_10k", "unemployed_change_pct",
    "unemployment_rate", "unemployment_rate_2022", "unemployment_rate_change_pp", "entities_per_1k_unemployed",
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
        return [c for c in self.powiaty.columns if c.startswith("entities_") and not c.startswith("entities_per")
                and c != "entities_without_gmina"]

    def indicator_table(self, level: str, reasons: str = "text", meta: bool | None = None) -> pd.DataFrame:
        """The indicators of a level in display order. A left-out figure is empty and the `suppressed`
        column says why: as text "field: reason; …" (`reasons="text"`, for the CSV for GIS) or as a dict
        {field: reason} (`reasons="map"`, for JSON: see `indicator_records`, and for the files for people,
        geoes.publish.office). `meta` (default: with text reasons) adds the columns saying what the figures
        are figures of (completeness of the register, year and source of the need figures)."""
        frame = self.powiaty if level == "powiat" else self.gminy
        table = pd.DataFrame(frame.drop(columns="geometry"))
        table["level"] = level
        extra = ["powiat_teryt", "powiat_name"] if level == "gmina" else []
        cols = [*INDICATOR_COLUMNS[:3], *extra, *INDICATOR_COLUMNS[3:]]
        cols += self.type_columns()
        cols += [f"rank_{c}{end}" for c in RANKED for end in ("", "_max")] + [f"ratio_{c}" for c in RELATED]
        cols.append("suppressed")
        table = table[[c for c in cols if c in table.columns]].reset_index(drop=True)
        if "suppressed" in table:
            maps = [reasons_text({"suppressed": s}) for s in table["suppressed"]]
            table["suppressed"] = maps if reasons == "map" else ["; ".join(f"{k}: {v}" for k, v in m.items())
                                                                  for m in maps]
        if meta if meta is not None else reasons == "text":
            # A spreadsheet has no place for metadata: every row says what its figures are figures of.
            table["kompletnosc_rejestru"] = self.completeness_statement()
            needs = (self.summary.get("method") or {}).get("needs")
            if needs and "unemployed" in table:
                # The year and source of the need figures travel with them.
                table["bezrobocie_rok"] = int(needs["year"])
                table["bezrobocie_zrodlo"] = f"{needs['unemployed_source']}; {needs['rate_source']}"
        return table

    def completeness_statement(self) -> str:
        """"W rejestrze wobec oficjalnych liczb: … N z M znanych (źródło, rok) …" for files and charts."""
        return (self.summary.get("method") or {}).get("completeness") or ""

    def indicator_records(self, level: str) -> list[dict]:
        """The indicator table as plain records for JSON: null where a figure is left out, and
        `suppressed` {field: reason} beside it."""
        table = self.indicator_table(level, reasons="map")
        return [{k: (v if k == "suppressed" else plain(v)) for k, v in rec.items()} for rec in table.to_dict("records")]

    def voivodeship_record(self, reasons: str = "text") -> dict:
        v = {k: int(x) if isinstance(x, float) and x.is_integer() and is_whole(k) else x
             for k, x in self.voivodeship.items()}
        v["level"] = "wojewodztwo"
        why = reasons_text(v)
        v["suppressed"] = why if reasons == "map" else "; ".join(f"{k}: {t}" for k, t in why.items())
        return v


def load_dataset(path: Path) -> Dataset:
    path = Path(path)
    layers = read_layers(path / GPKG_NAME)
    summary = json.loads((path / INDICATORS_NAME).read_text(encoding="utf-8"))
    return Dataset(summary["version"], path, layers["entities"], layers["gminy"], layers["powiaty"], summary)


def load_version(settings: Settings, version: str) -> Dataset:
    """A built version from where the settings keep versions: data/build/<version>, or the database
    (FileNotFoundError when it is not there, e.g. pruned meanwhile)."""
    if not settings.uses_database:
        return load_dataset(settings.build_dir / version)
    try:
        layers, summary = pgstore.load(settings, version)
    except LookupError:
        raise FileNotFoundError(f"wersja {version} nie jest zapisana w bazie danych") from None
    return Dataset(version, settings.build_dir / version, layers["entities"], layers["gminy"], layers["powiaty"],
                   json.loads(summary))


def load_current(settings: Settings) -> Dataset:
    version = current_version(settings)
    if version is None:
        raise NoDataset("brak zbudowanych danych: uruchom `python -m geoes build`")
    return load_version(settings, version)
