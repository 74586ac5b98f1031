"""Fetching from a mirror: normalised, validated, written atomically."""
import json
import shutil

import geopandas as gpd
import pytest

from geoes.config import Settings
from geoes.sources.fetch import fetch
from geoes.sources.region import FetchError


def test_fetch_from_mirror(fetched_settings):
    s = fetched_settings
    gminy = gpd.read_file(s.gminy_path)
    powiaty = gpd.read_file(s.powiaty_path)
    assert len(gminy) == 102 and gminy["teryt"].is_unique and len(powiaty) == 14
    assert gminy.crs.to_epsg() == 4326
    assert set(gminy["powiat_teryt"]) == set(powiaty["teryt"])
    assert s.localities_path.exists() and s.gmina_points_path.exists() and s.official_counts_path.exists()


def _broken_mirror(mirror_dir, tmp_path, edit):
    copy = tmp_path / "mirror"
    shutil.copytree(mirror_dir, copy)
    edit(copy)
    return copy


def test_bad_mirror_leaves_previous_files(tmp_path, mirror_dir):
    settings = Settings(region="26", data_dir=tmp_path / "data")
    fetch(settings, mirror=mirror_dir)
    before = settings.gminy_path.read_bytes()

    def duplicate_code(m):
        path = m / "boundaries" / "gminy_26.geojson"
        doc = json.loads(path.read_text(encoding="utf-8"))
        doc["features"][1]["properties"]["teryt"] = doc["features"][0]["properties"]["teryt"]
        path.write_text(json.dumps(doc), encoding="utf-8")

    with pytest.raises(FetchError, match="powtórzone kody TERYT"):
        fetch(settings, mirror=_broken_mirror(mirror_dir, tmp_path, duplicate_code))
    assert settings.gminy_path.read_bytes() == before
    assert not list(settings.boundaries_dir.glob(".*"))  # no temporary leftovers


def test_missing_population_is_named(tmp_path, mirror_dir):
    def drop_row(m):
        path = m / "population" / "gminy_26_ludnosc_powierzchnia.csv"
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        path.write_text("".join(lines[:-1]), encoding="utf-8")

    with pytest.raises(FetchError, match="ludność gminy: brak danych dla 2661011"):
        fetch(Settings(region="26", data_dir=tmp_path / "d"), mirror=_broken_mirror(mirror_dir, tmp_path, drop_row))


def test_wrong_region_is_rejected(tmp_path, mirror_dir):
    with pytest.raises(FetchError, match="brak pliku"):
        fetch(Settings(region="12", data_dir=tmp_path / "d"), mirror=mirror_dir)
