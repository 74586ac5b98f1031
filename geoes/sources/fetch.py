"""Get boundaries, population, registered unemployment and the gazetteer for the configured region.

Two sources with one result: the official services (GUGiK ULDK for geometry, GUS BDL for population;
see `services.py`) or a mirror directory laid out like `../shared/data`. Whatever the source, the data
are normalised, validated and only then written under `data/`, each file atomically, so a failed fetch
leaves the previous files intact.
"""
from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd

from geoes.common.atomic import atomic_path, atomic_write_text
from geoes.config import CRS_METRIC, CRS_PUBLISH, Settings
from geoes.sources.needs import load_mirror_needs
from geoes.sources.region import POPULATION_YEAR, FetchError, RegionData
from geoes.sources.services import load_online


def _read_csv(path: Path) -> pd.DataFrame:
    if not path.exists():
        raise FetchError(f"brak pliku w kopii lokalnej: {path}")
    return pd.read_csv(path, dtype={"teryt": str, "powiat_teryt": str, "gmina_teryt": str, "kod_bdl": str})


def _read_geo(path: Path) -> gpd.GeoDataFrame:
    if not path.exists():
        raise FetchError(f"brak pliku w kopii lokalnej: {path}")
    frame = gpd.read_file(path)
    frame["teryt"] = frame["teryt"].astype(str)
    return frame


def load_mirror(mirror: Path | str, region: str) -> RegionData:
    """Read a directory laid out like ../shared/data (files suffixed with the region code)."""
    m = Path(mirror)
    if not m.is_dir():
        raise FetchError(f"katalog kopii lokalnej nie istnieje: {m}")
    g = _read_geo(m / "boundaries" / f"gminy_{region}.geojson")
    gminy = gpd.GeoDataFrame({
        "teryt": g["teryt"],
        "name": g["nazwa"],
        "powiat_teryt": g["powiat_teryt"].astype(str),
        "powiat_name": g["powiat_nazwa"],
        "type": g["typ"].astype(int),
        "type_name": g["typ_nazwa"],
        "area_km2_official": g["pow_km2_2025"].astype(float),
    }, geometry=g.geometry, crs=g.crs)
    p = _read_geo(m / "boundaries" / f"powiaty_{region}.geojson")
    powiaty = gpd.GeoDataFrame({
        "teryt": p["teryt"],
        "name": p["nazwa"],
        "city_county": p["miasto_na_prawach_powiatu"].astype(str).str.lower().eq("true"),
        "area_km2_official": p["pow_km2_2025"].astype(float),
    }, geometry=p.geometry, crs=p.crs)
    w = _read_geo(m / "boundaries" / f"wojewodztwo_{region}.geojson")
    region_frame = gpd.GeoDataFrame({"teryt": w["teryt"], "name": w["nazwa"]}, geometry=w.geometry, crs=w.crs)

    def population(path: Path) -> pd.DataFrame:
        raw = _read_csv(path)
        return pd.DataFrame({
            "teryt": raw["teryt"],
            "population": raw["ludnosc_2024_approx"].astype("Int64"),
            "population_year": POPULATION_YEAR,
            "population_2021": raw["ludnosc_2021"].astype("Int64"),
        })

    gpop = population(m / "population" / f"gminy_{region}_ludnosc_powierzchnia.csv")
    ppop = population(m / "population" / f"powiaty_{region}_ludnosc_powierzchnia.csv")

    data = RegionData(gminy, powiaty, region_frame, gpop, ppop)
    gaz = m / "gazetteer"
    if (gaz / f"miejscowosci_{region}.csv").exists():
        loc = _read_csv(gaz / f"miejscowosci_{region}.csv")
        data.localities = pd.DataFrame({
            "name": loc["nazwa"], "kind": loc["rodzaj_2025"], "lat": loc["lat"], "lon": loc["lon"],
            "gmina_teryt": loc["gmina_teryt"], "powiat_teryt": loc["powiat_teryt"].astype(str),
            "source": loc["zrodlo"],
        })
    if (gaz / f"gminy_punkty_{region}.csv").exists():
        pts = _read_csv(gaz / f"gminy_punkty_{region}.csv")
        data.gmina_points = pd.DataFrame({
            "teryt": pts["teryt"], "name": pts["nazwa"],
            "lat": pts["lat_punkt_wewn"], "lon": pts["lon_punkt_wewn"],
        })
    if (gaz / f"terc_{region}.csv").exists():
        data.terc = pd.read_csv(gaz / f"terc_{region}.csv", dtype=str)
    stats = m / "entities" / "statystyki_pes_swietokrzyskie.csv"
    if region == "26" and stats.exists():
        data.official_counts = pd.read_csv(stats, dtype=str)
    data.unemployment = load_mirror_needs(m, region)
    return data


def validate_region_data(data: RegionData, region: str) -> None:
    """Raise FetchError naming what is wrong; the checks a fetch must pass before anything is written."""
    problems: list[str] = []
    for label, frame, digits in (("gminy", data.gminy, 7), ("powiaty", data.powiaty, 4)):
        if frame.empty:
            problems.append(f"{label}: brak jednostek")
            continue
        bad = frame.loc[~frame["teryt"].str.fullmatch(rf"{region}\d{{{digits - len(region)}}}"), "teryt"]
        if len(bad):
            problems.append(f"{label}: kody TERYT spoza regionu {region}: {', '.join(bad[:5])}")
        dup = frame.loc[frame["teryt"].duplicated(), "teryt"]
        if len(dup):
            problems.append(f"{label}: powtórzone kody TERYT: {', '.join(dup[:5])}")
        invalid = frame.loc[~frame.geometry.is_valid | frame.geometry.is_empty, "teryt"]
        if len(invalid):
            problems.append(f"{label}: nieprawidłowe geometrie: {', '.join(invalid[:5])}")
    if not problems:
        missing = set(data.gminy["powiat_teryt"]) - set(data.powiaty["teryt"])
        if missing:
            problems.append(f"gminy wskazują nieznane powiaty: {', '.join(sorted(missing))}")
        counts = data.gminy.groupby("powiat_teryt").size()
        empty = set(data.powiaty["teryt"]) - set(counts.index)
        if empty:
            problems.append(f"powiaty bez gmin: {', '.join(sorted(empty))}")
        # Every gmina must lie inside the region outline (which is more detailed, so allow ~1 km).
        outline = data.region.to_crs(CRS_METRIC).union_all().buffer(1000)
        outside = data.gminy.loc[~data.gminy.to_crs(CRS_METRIC).within(outline), "teryt"]
        if len(outside):
            problems.append(f"gminy poza granicą województwa: {', '.join(outside[:5])}")
    for label, units, pop in (("gminy", data.gminy, data.gminy_population),
                              ("powiaty", data.powiaty, data.powiaty_population)):
        have = set(pop.loc[pop["population"].notna() & (pop["population"] > 0), "teryt"])
        lacking = sorted(set(units["teryt"]) - have)
        if lacking:
            problems.append(f"ludność {label}: brak danych dla {', '.join(lacking[:5])}")
    if problems:
        raise FetchError("; ".join(problems))


def store(data: RegionData, settings: Settings) -> list[Path]:
    """Write everything atomically, each file replacing its previous version in one rename."""
    written: list[Path] = []

    def geo(frame: gpd.GeoDataFrame, path: Path) -> None:
        out = frame.to_crs(CRS_PUBLISH)
        with atomic_path(path, suffix=".geojson") as tmp:
            out.to_file(tmp, driver="GeoJSON", engine="pyogrio", COORDINATE_PRECISION=6)
        written.append(path)

    def table(frame: pd.DataFrame, path: Path) -> None:
        atomic_write_text(path, frame.to_csv(index=False, lineterminator="\n"))
        written.append(path)

    geo(data.gminy, settings.gminy_path)
    geo(data.powiaty, settings.powiaty_path)
    geo(data.region, settings.region_path)
    table(data.gminy_population, settings.gminy_population_path)
    table(data.powiaty_population, settings.powiaty_population_path)
    if data.localities is not None:
        table(data.localities, settings.localities_path)
    if data.gmina_points is not None:
        table(data.gmina_points, settings.gmina_points_path)
    if data.terc is not None:
        table(data.terc, settings.terc_path)
    if data.official_counts is not None:
        table(data.official_counts, settings.official_counts_path)
    if data.unemployment is not None:
        table(data.unemployment, settings.unemployment_path)
    return written


def fetch(settings: Settings, mirror: Path | str | None = None, **online_options) -> list[Path]:
    if mirror is not None:
        data = load_mirror(mirror, settings.region)
    else:
        data = load_online(settings.region, **online_options)
    validate_region_data(data, settings.region)
    return store(data, settings)

