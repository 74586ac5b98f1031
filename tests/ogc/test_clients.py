"""Real clients against the app served on 127.0.0.1 by gunicorn (a subprocess, tests/ogc/testdata.py):
GDAL's OAPIF driver (through pyogrio and through the `ogrinfo` program) and OWSLib's OGC API – Features
client. No internet: everything is local."""
from __future__ import annotations

import io
import json
import shutil
import subprocess
import urllib.request

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
    assert frame.crs is not None and frame.crs.to_epsg() == 4326
    if cid == "entities":
        assert {"name", "types", "status", "locality", "gmina_teryt_computed", "powiat_teryt_computed"} <= set(frame.columns)
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
