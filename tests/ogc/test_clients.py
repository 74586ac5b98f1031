"""Real clients against the app served on 127.0.0.1 by gunicorn (a subprocess, tests/ogc/testdata.py):
GDAL's OAPIF driver (through pyogrio and through the `ogrinfo` program) and OWSLib's OGC API – Features
client. No internet: everything is local."""
from __future__ import annotations

import io
import json
import shutil
import subprocess
import urllib.request
from pathlib import Path

import pandas as pd
import pytest

COLLECTIONS = ("entities", "gminy", "powiaty")


def oapif(url: str) -> str:
    return f"OAPIF:{url}/ogc"


def fetch(url: str, headers: dict | None = None) -> tuple[bytes, dict]:
    req = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.read(), dict(r.headers)


def test_gdal_lists_the_three_collections(server_url):
    import pyogrio

    layers = pyogrio.list_layers(oapif(server_url))
    assert [str(name) for name, _ in layers] == list(COLLECTIONS)


@pytest.mark.parametrize("cid", COLLECTIONS)
def test_gdal_reads_every_collection(server_url, geo_dataset, cid):
    import pyogrio

    frame = pyogrio.read_dataframe(oapif(server_url), layer=cid)
    source = getattr(geo_dataset, cid)
    assert len(frame) == len(source)
    # the collections declare CRS84 (lon/lat WGS84) as storage CRS: GDAL reads them as OGC:CRS84
    assert frame.crs is not None and frame.crs.equals("OGC:CRS84")
    if cid == "entities":
        assert {"name", "types", "status", "locality", "gmina_teryt", "powiat_teryt", "gmina_teryt_stated",
                "powiat_teryt_stated", "gmina_teryt_computed", "powiat_teryt_computed"} <= set(frame.columns)
        assert set(frame["id"]) == set(source["id"])
        placed = ~source.geometry.is_empty
        got = frame.set_index("id")
        one = source[placed].iloc[0]
        pt = got.loc[one["id"], "geometry"]
        assert abs(pt.x - one.geometry.x) < 1e-6 and abs(pt.y - one.geometry.y) < 1e-6  # lon/lat order kept
    else:
        assert {"teryt", "name", "population", "entities", "entities_per_10k", "access_10km_pct"} <= set(frame.columns)
        assert sorted(frame["teryt"].astype(str)) == sorted(source["teryt"])
        merged = frame.set_index("teryt")["entities"].astype(int).sort_index()
        assert merged.to_dict() == source.set_index("teryt")["entities"].astype(int).sort_index().to_dict()


def test_gdal_counts_match_stats(server_url, geo_settings, runner, geo_dataset):
    import pyogrio

    counts = {str(name): pyogrio.read_info(oapif(server_url), layer=str(name))["features"]
              for name, _ in pyogrio.list_layers(oapif(server_url))}
    powiaty = json.loads(runner.invoke("stats", "--format", "json", settings=geo_settings).output)
    gminy = json.loads(runner.invoke("stats", "--level", "gmina", "--format", "json", settings=geo_settings).output)
    assert counts["powiaty"] == len(powiaty) == 14
    assert counts["gminy"] == len(gminy) == 102
    assert counts["entities"] == geo_dataset.summary["entities_total"] == len(geo_dataset.entities)
    # the sum of per-powiat entity counts (placed, counted) never exceeds the collection
    assert sum(r["entities"] for r in powiaty) <= counts["entities"]


def test_gdal_bbox_filter(server_url, geo_dataset):
    import pyogrio
    import shapely

    bbox = (20.3, 50.5, 21.0, 51.0)
    frame = pyogrio.read_dataframe(oapif(server_url), layer="entities", bbox=bbox)
    inside = shapely.intersects(geo_dataset.entities.geometry.to_numpy(), shapely.box(*bbox))
    assert set(frame["id"]) == set(geo_dataset.entities.loc[inside, "id"])


@pytest.mark.skipif(shutil.which("ogrinfo") is None, reason="gdal-bin (ogrinfo) not installed")
def test_ogrinfo_summary(server_url, geo_dataset):
    out = subprocess.run(["ogrinfo", "-ro", "-so", "-al", oapif(server_url)], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    for cid in COLLECTIONS:
        assert f"Layer name: {cid}" in out.stdout
        assert f"Feature Count: {len(getattr(geo_dataset, cid))}" in out.stdout
    assert "name: String" in out.stdout


def test_owslib_lists_collections_and_pages_items(server_url, geo_dataset):
    from owslib.ogcapi.features import Features

    api = Features(server_url + "/ogc")
    assert [c["id"] for c in api.collections()["collections"]] == list(COLLECTIONS)
    assert set(api.conformance()["conformsTo"]) >= {
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson"}
    assert api.collection("gminy")["id"] == "gminy"
    assert "paths" in api.api()
    seen: list[str] = []
    offset, limit = 0, 50
    while True:
        page = api.collection_items("entities", limit=limit, offset=offset)
        assert page["numberMatched"] == len(geo_dataset.entities)
        seen += [f["id"] for f in page["features"]]
        if not any(lk["rel"] == "next" for lk in page["links"]):
            break
        offset += limit
    assert len(seen) == len(set(seen)) == len(geo_dataset.entities)
    one = api.collection_item("powiaty", "2602")
    assert one["id"] == "2602" and one["properties"]["name"]
    page = api.collection_items("gminy", bbox=[20.3, 50.5, 20.4, 50.6])
    assert 0 < page["numberMatched"] < 102


def test_geojson_api_over_http_gzip(server_url):
    import gzip

    body, headers = fetch(server_url + "/api/gminy.geojson", {"Accept-Encoding": "gzip"})
    assert headers["Content-Encoding"] == "gzip"
    doc = json.loads(gzip.decompress(body))
    assert len(doc["features"]) == 102


@pytest.mark.parametrize("fmt", ["geojson", "csv", "gpkg"])
def test_downloads_over_http_read_back(server_url, tmp_path, fmt):
    import pyogrio

    query = "type=cis&type=wtz&powiat=2602"
    body, _ = fetch(f"{server_url}/api/entities.geojson?{query}")
    expected = {f["id"] for f in json.loads(body)["features"]}
    assert expected
    data, headers = fetch(f"{server_url}/api/entities.geojson?{query}&format={fmt}")
    assert headers["Content-Disposition"].startswith("attachment; filename=\"geoes_entities_")
    if fmt == "csv":
        got = set(pd.read_csv(io.BytesIO(data), dtype=str, encoding="utf-8-sig")["id"])
    else:
        path = tmp_path / f"x.{fmt}"
        path.write_bytes(data)
        got = set(pyogrio.read_dataframe(path)["id"])
    assert got == expected


# ------------------------------------------------------------------------------------ GDAL -where pushdown

GDAL_CLI = shutil.which("ogrinfo") is not None and shutil.which("ogr2ogr") is not None
needs_gdal_cli = pytest.mark.skipif(not GDAL_CLI, reason="gdal-bin (ogrinfo, ogr2ogr) not installed")


def ogr_ids(source: str, layer: str, where: str, key: str = "id") -> set[str]:
    """The `key` values `ogrinfo -where` (Debian's GDAL) reads from a source; no warning may be printed."""
    out = subprocess.run(["ogrinfo", "-ro", "-q", source, layer, "-where", where], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert "Warning" not in out.stderr and "ERROR" not in out.stderr, out.stderr
    prefix = f"  {key} (String) = "
    return {line[len(prefix):] for line in out.stdout.splitlines() if line.startswith(prefix)}


@pytest.fixture(scope="module")
def downloads(server_url, tmp_path_factory):
    """The full layers downloaded as a user would: GeoPackage (all three) and GeoJSON (each)."""
    folder = tmp_path_factory.mktemp("downloads")
    (folder / "warstwy.gpkg").write_bytes(fetch(f"{server_url}/api/download.gpkg")[0])
    for layer in COLLECTIONS:
        (folder / f"{layer}.geojson").write_bytes(fetch(f"{server_url}/api/{layer}.geojson")[0])
    return folder


WHERES = [
    ("entities", "powiat_teryt='2604'"),
    ("entities", "gmina_teryt='2609022'"),
    ("entities", "powiat_teryt_stated='2604'"),
    ("entities", "gmina_teryt_stated='2609022'"),
    ("entities", "powiat_teryt_computed='2604'"),
    ("entities", "status='inactive'"),
    ("entities", "employees=5"),
    ("entities", "location_precision='gmina' AND status='unknown'"),
    ("powiaty", "city_county=1"),
    ("gminy", "powiat_teryt='2602'"),
]


@needs_gdal_cli
@pytest.mark.parametrize("layer,where", WHERES)
def test_gdal_where_same_ids_over_oapif_and_downloads(server_url, downloads, geo_dataset, layer, where):
    key = "id" if layer == "entities" else "teryt"
    over_oapif = ogr_ids(oapif(server_url), layer, where, key)
    on_gpkg = ogr_ids(str(downloads / "warstwy.gpkg"), layer, where, key)
    on_geojson = ogr_ids(str(downloads / f"{layer}.geojson"), layer, where, key)
    assert over_oapif == on_gpkg == on_geojson
    assert over_oapif


def api_ids(server_url: str, query: str) -> set[str]:
    return {f["id"] for f in json.loads(fetch(f"{server_url}/api/entities.geojson?{query}")[0])["features"]}


@needs_gdal_cli
def test_gdal_where_register_code_is_not_the_counted_place(server_url, geo_dataset):
    """The stated and the counted powiat differ for some entities, so the tests here can tell them apart;
    `powiat_teryt` is the one the site counts by."""
    ents = geo_dataset.entities  # the dataset's own names: powiat_teryt is the register's
    counted = ogr_ids(oapif(server_url), "entities", "powiat_teryt='2604'")
    stated = ogr_ids(oapif(server_url), "entities", "powiat_teryt_stated='2604'")
    assert counted == api_ids(server_url, "powiat=2604") == set(ents.loc[ents["powiat_teryt_computed"] == "2604", "id"])
    assert stated == set(ents.loc[ents["powiat_teryt"] == "2604", "id"])
    assert stated != counted


@needs_gdal_cli
def test_ogr2ogr_where_powiat_gives_the_sites_powiat_for_every_powiat(server_url, geo_dataset, tmp_path):
    """The README's example, for each of the 14 powiaty: `ogr2ogr … OAPIF:…/ogc entities -where
    "powiat_teryt='XXXX'"` writes exactly the entities of /api/entities.geojson?powiat=XXXX — the entities
    the county page counts, those known only to the powiat (no geometry) included."""
    powiaty = sorted(geo_dataset.powiaty["teryt"])
    assert len(powiaty) == 14
    for teryt in powiaty:
        out = tmp_path / f"{teryt}.geojson"
        run = subprocess.run(["ogr2ogr", "-f", "GeoJSON", str(out), oapif(server_url), "entities",
                              "-where", f"powiat_teryt='{teryt}'"], capture_output=True, text=True, timeout=120)
        assert run.returncode == 0 and "Warning" not in run.stderr, run.stderr
        written = json.loads(out.read_text())["features"]
        expected = api_ids(server_url, f"powiat={teryt}")
        assert {f["properties"]["id"] for f in written} == expected and len(written) == len(expected), teryt
        assert all(f["properties"]["powiat_teryt"] == teryt for f in written)


@needs_gdal_cli
def test_ogrinfo_on_the_plain_url_says_to_use_oapif(server_url):
    """`ogrinfo http://…/ogc` without the OAPIF: prefix: GDAL's GeoJSON driver opens it and the one layer's
    name is the command to use — not GeoJSONSeq's one-feature layer of the landing document."""
    out = subprocess.run(["ogrinfo", "-ro", f"{server_url}/ogc"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "using driver `GeoJSON'" in out.stdout and "GeoJSONSeq" not in out.stdout
    assert f"1: OGC API – Features: użyj OAPIF:{server_url}/ogc" in out.stdout
    full = subprocess.run(["ogrinfo", "-ro", "-al", "-q", f"{server_url}/ogc"], capture_output=True, text=True,
                          timeout=120)
    for cid in COLLECTIONS:
        assert f"gdal (String) = ogr2ogr -f GPKG {cid}.gpkg OAPIF:{server_url}/ogc {cid}" in full.stdout


def test_pyogrio_where_matches_ogrinfo(server_url, geo_dataset):
    import pyogrio

    frame = pyogrio.read_dataframe(oapif(server_url), layer="entities", where="powiat_teryt='2604'")
    assert set(frame["id"]) == api_ids(server_url, "powiat=2604")
    one = pyogrio.read_dataframe(oapif(server_url), layer="entities", where="id='swk-001'")
    assert list(one["id"]) == ["swk-001"]
    city = pyogrio.read_dataframe(oapif(server_url), layer="powiaty", where="city_county=1")
    assert list(city["teryt"]) == ["2661"]


@needs_gdal_cli
@pytest.mark.parametrize("fid", ["swk-001", "test-0007"])
def test_ogr2ogr_id_lookup(server_url, tmp_path, fid):
    out = tmp_path / "one.geojson"
    run = subprocess.run(["ogr2ogr", "-f", "GeoJSON", str(out), oapif(server_url), "entities", "-where",
                          f"id='{fid}'"], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert [f["properties"]["id"] for f in json.loads(out.read_text())["features"]] == [fid]


@needs_gdal_cli
def test_gpkg_download_opens_in_gdal_without_warning_and_validates(downloads, geo_dataset):
    path = str(downloads / "warstwy.gpkg")
    out = subprocess.run(["ogrinfo", "-ro", "-so", "-al", path], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stderr == "", out.stderr
    assert "employees: Integer " in out.stdout and "rank_entities: Integer " in out.stdout
    assert "krs: String" in out.stdout and "teryt: String" in out.stdout
    validator = Path("/usr/lib/python3/dist-packages/osgeo_utils/samples/validate_gpkg.py")
    if validator.exists() and Path("/usr/bin/python3").exists():
        check = subprocess.run(["/usr/bin/python3", str(validator), path], capture_output=True, text=True,
                               timeout=120)
        assert check.returncode == 0, check.stdout + check.stderr
    unplaced = int(geo_dataset.entities.geometry.is_empty.sum())
    assert unplaced > 0
    sql = subprocess.run(["ogrinfo", "-ro", "-q", path, "-sql", "SELECT COUNT(*) AS n FROM entities WHERE geom IS NULL"],
                         capture_output=True, text=True, timeout=60)
    assert f"n (Integer) = {unplaced}" in sql.stdout
    nulls = [f for f in json.loads((downloads / "entities.geojson").read_text())["features"] if f["geometry"] is None]
    assert len(nulls) == unplaced


def test_pyogrio_reads_epsg2180_in_the_right_axis_order(server_url, geo_dataset):
    """GDAL asks for crs=EPSG:2180 and turns the server's (northing, easting) into its own (x=easting)."""
    import pyogrio
    from pyproj import Transformer

    frame = pyogrio.read_dataframe(oapif(server_url), layer="entities", CRS="EPSG:2180")
    assert frame.crs.to_epsg() == 2180
    ents = geo_dataset.entities.set_index("id")
    t = Transformer.from_crs("EPSG:4326", "EPSG:2180", always_xy=True)
    for fid in ("test-0000", "test-0050"):
        src = ents.loc[fid, "geometry"]
        easting, northing = t.transform(src.x, src.y)
        got = frame.set_index("id").loc[fid, "geometry"]
        assert abs(got.x - easting) < 1.0 and abs(got.y - northing) < 1.0


def test_owslib_queryables(server_url):
    from owslib.ogcapi.features import Features

    api = Features(server_url + "/ogc")
    props = api.collection_queryables("entities")["properties"]
    assert {"powiat_teryt", "powiat_teryt_stated", "powiat_teryt_computed", "gmina_teryt", "gmina_teryt_stated",
            "gmina_teryt_computed", "geometry"} <= set(props)
    page = api.collection_items("entities", powiat_teryt_computed="2602", limit=500)
    assert page["numberMatched"] > 0
    assert all(f["properties"]["powiat_teryt_computed"] == "2602" for f in page["features"])
