"""The README's GDAL examples run as written: every `ogrinfo`/`ogr2ogr` line of its ```sh blocks, with
HOST:PORT replaced by the address of the app served by gunicorn (tests/ogc/conftest.py), runs with
Debian's GDAL 3.6 without an error or a warning — and the files they write hold what the README says."""
from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import urllib.request

import pyogrio
import pytest
import shapely

from geoes.config import REPO_DIR

pytestmark = pytest.mark.skipif(shutil.which("ogrinfo") is None or shutil.which("ogr2ogr") is None,
                                reason="gdal-bin (ogrinfo, ogr2ogr) not installed")


def readme_gdal_commands() -> list[str]:
    text = (REPO_DIR / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```sh\n(.*?)```", text, flags=re.S)
    return [line.strip() for block in blocks for line in block.splitlines()
            if line.strip().startswith(("ogrinfo ", "ogr2ogr "))]


COMMANDS = readme_gdal_commands()


def api_ids(server_url: str, query: str) -> set[str]:
    with urllib.request.urlopen(f"{server_url}/api/entities.geojson?{query}", timeout=60) as r:
        return {f["id"] for f in json.loads(r.read())["features"]}


def test_the_readme_has_the_gdal_examples():
    assert len(COMMANDS) >= 8
    assert any("-t_srs EPSG:2180" in c for c in COMMANDS)
    assert any("powiat_teryt='2602'" in c for c in COMMANDS)
    assert all("OAPIF:http://HOST:PORT/ogc" in c for c in COMMANDS)
    assert not any("-oo CRS=" in c for c in COMMANDS)  # needs GDAL ≥ 3.7


@pytest.fixture(scope="module")
def ran(server_url, tmp_path_factory):
    """Each README command run once in one folder: {command: CompletedProcess}."""
    folder = tmp_path_factory.mktemp("readme")
    host_port = server_url.removeprefix("http://")
    out = {}
    for command in COMMANDS:
        args = [a.replace("HOST:PORT", host_port) for a in shlex.split(command)]
        out[command] = subprocess.run(args, cwd=folder, capture_output=True, text=True, timeout=180)
    return folder, out


@pytest.mark.parametrize("command", COMMANDS)
def test_readme_command_runs_without_error_or_warning(ran, command):
    proc = ran[1][command]
    assert proc.returncode == 0, proc.stderr
    assert "ERROR" not in proc.stderr and "Warning" not in proc.stderr, proc.stderr


def test_readme_outputs_hold_what_the_readme_says(ran, server_url, geo_dataset):
    folder, procs = ran
    # powiat_teryt='2602': exactly the entities of /api/entities.geojson?powiat=2602
    frame = pyogrio.read_dataframe(folder / "jedrzejowski.gpkg")
    assert set(frame["id"]) == api_ids(server_url, "powiat=2602") and len(frame) > 0
    # -t_srs EPSG:2180: metres of PUWG 1992, every placed entity, unplaced ones without a geometry
    pts = pyogrio.read_dataframe(folder / "podmioty_puwg1992.gpkg")
    assert pts.crs.to_epsg() == 2180 and len(pts) == len(geo_dataset.entities)
    placed = pts[~(pts.geometry.isna() | pts.geometry.is_empty)]
    assert ((placed.geometry.x > 150_000) & (placed.geometry.x < 900_000)
            & (placed.geometry.y > 100_000) & (placed.geometry.y < 800_000)).all()
    gminy = pyogrio.read_dataframe(folder / "gminy_puwg1992.gpkg")
    assert gminy.crs.to_epsg() == 2180 and len(gminy) == 102
    assert abs(float(shapely.area(gminy.geometry).sum()) / 1e6 - float(geo_dataset.gminy["area_km2"].sum())) < 150
    # powiat_teryt_stated: the register's own code
    ents = geo_dataset.entities
    stated = pyogrio.read_dataframe(folder / "wg_rejestru.csv")
    assert set(stated["id"]) == set(ents.loc[ents["powiat_teryt"] == "2602", "id"])
    one = next(p for c, p in procs.items() if "id='swk-001'" in c)
    assert "id (String) = swk-001" in one.stdout and one.stdout.count("OGRFeature(entities)") == 1
