"""OGC API – Features Part 2 (CRS by reference): `crs`, `bbox-crs`, `Content-Crs`, the collections' CRS list,
coordinates in each CRS's own axis order — checked against pyproj on the gazetteer's gmina points."""
from __future__ import annotations

import csv
import json

import pytest
import shapely
from pyproj import Transformer

from geoes.publish.ogc.crs import CRS84, EPSG_2180, EPSG_4326

from .testdata import gmina_points


def get_json(client, url, status=200):
    r = client.get(url)
    assert r.status_code == status, (url, r.status_code, r.data[:300])
    return r, json.loads(r.data)


@pytest.fixture(scope="module")
def placed_points(geo_settings):
    """The synthetic entities test-NNNN stand on the gazetteer's point inside each gmina (testdata.py)."""
    points = gmina_points(geo_settings)
    return {f"test-{i:04d}": (float(points[i]["lon"]), float(points[i]["lat"])) for i in range(12)}


def test_collections_list_the_crs(geo_client):
    _, doc = get_json(geo_client, "/ogc/collections")
    for c in doc["collections"]:
        assert c["crs"] == [CRS84, EPSG_4326, EPSG_2180]
        assert c["storageCrs"] == CRS84


@pytest.mark.parametrize("fid", ["test-0000", "test-0005", "test-0011"])
def test_epsg2180_is_northing_easting_to_the_metre(geo_client, placed_points, fid):
    lon, lat = placed_points[fid]
    # pyproj in EPSG's own axis order: (lat, lon) in, (northing, easting) out
    northing, easting = Transformer.from_crs("EPSG:4326", "EPSG:2180").transform(lat, lon)
    assert 100_000 < northing < 800_000 and 100_000 < easting < 900_000  # Poland in PUWG 1992
    r, doc = get_json(geo_client, f"/ogc/collections/entities/items/{fid}?crs={EPSG_2180}")
    assert r.headers["Content-Crs"] == f"<{EPSG_2180}>"
    x1, x2 = doc["geometry"]["coordinates"]
    assert abs(x1 - northing) < 1.0 and abs(x2 - easting) < 1.0  # right to the metre, northing first
    assert any(lk["rel"] == "self" and "crs=" in lk["href"] for lk in doc["links"])


def test_epsg4326_is_lat_lon_and_crs84_lon_lat(geo_client, placed_points):
    lon, lat = placed_points["test-0003"]
    r, doc = get_json(geo_client, f"/ogc/collections/entities/items/test-0003?crs={EPSG_4326}")
    assert r.headers["Content-Crs"] == f"<{EPSG_4326}>"
    assert doc["geometry"]["coordinates"] == pytest.approx([lat, lon], abs=1e-6)
    r, doc = get_json(geo_client, "/ogc/collections/entities/items/test-0003")
    assert r.headers["Content-Crs"] == f"<{CRS84}>"
    assert doc["geometry"]["coordinates"] == pytest.approx([lon, lat], abs=1e-6)


def test_items_in_epsg2180_polygons_and_paging_links(geo_client, geo_dataset):
    r, doc = get_json(geo_client, f"/ogc/collections/powiaty/items?crs={EPSG_2180}&limit=5")
    assert r.headers["Content-Crs"] == f"<{EPSG_2180}>"
    nxt = [lk["href"] for lk in doc["links"] if lk["rel"] == "next"][0]
    assert "crs=" in nxt
    first = doc["features"][0]
    served = shapely.get_coordinates(shapely.geometry.shape(first["geometry"]))
    source = shapely.get_coordinates(geo_dataset.powiaty.set_index("teryt").loc[first["id"], "geometry"])
    assert len(served) == len(source)
    # every vertex, by pyproj in EPSG order ((lat, lon) → (northing, easting)), to the metre
    n, e = Transformer.from_crs("EPSG:4326", "EPSG:2180").transform(source[:, 1], source[:, 0])
    assert abs(served[:, 0] - n).max() < 1.0 and abs(served[:, 1] - e).max() < 1.0
    coords = json.dumps(first["geometry"]["coordinates"])
    assert max(len(t.split(".")[1]) for t in coords.replace("]", "").replace("[", "").split(",") if "." in t) <= 2


def test_unlocated_entity_has_null_geometry_in_every_crs(geo_client, geo_dataset):
    unplaced = geo_dataset.entities.loc[geo_dataset.entities.geometry.is_empty, "id"].iloc[0]
    for crs in (CRS84, EPSG_4326, EPSG_2180):
        _, doc = get_json(geo_client, f"/ogc/collections/entities/items/{unplaced}?crs={crs}")
        assert doc["geometry"] is None


def test_bbox_crs_selects_the_same_features(geo_client):
    box84 = (20.3, 50.5, 21.0, 51.0)
    _, ref = get_json(geo_client, "/ogc/collections/entities/items?limit=10000&bbox=" + ",".join(map(str, box84)))
    expected = {f["id"] for f in ref["features"]}
    assert expected
    # the same box in EPSG:4326 axis order
    lat_lon = f"{box84[1]},{box84[0]},{box84[3]},{box84[2]}"
    _, doc = get_json(geo_client, f"/ogc/collections/entities/items?limit=10000&bbox={lat_lon}&bbox-crs={EPSG_4326}")
    assert {f["id"] for f in doc["features"]} == expected
    # in EPSG:2180: a box around the CRS84 box's points, in (northing, easting)
    t = Transformer.from_crs("OGC:CRS84", "EPSG:2180", always_xy=True)
    pts = [f["geometry"]["coordinates"] for f in ref["features"]]
    e, n = t.transform([p[0] for p in pts], [p[1] for p in pts])
    box2180 = f"{min(n) - 1},{min(e) - 1},{max(n) + 1},{max(e) + 1}"
    _, doc = get_json(geo_client, f"/ogc/collections/entities/items?limit=10000&bbox={box2180}&bbox-crs={EPSG_2180}")
    got = {f["id"] for f in doc["features"]}
    assert expected <= got
    links = [lk["href"] for lk in doc["links"] if lk["rel"] == "self"]
    assert "bbox-crs=" in links[0]


@pytest.mark.parametrize("query", ["crs=EPSG:3857", "crs=http://www.opengis.net/def/crs/EPSG/0/3857",
                                   "bbox=1,2,3,4&bbox-crs=urn:x", "bbox=51,20,50,21&bbox-crs=EPSG:4326"])
def test_unsupported_crs_is_400(geo_client, query):
    r, doc = get_json(geo_client, f"/ogc/collections/entities/items?{query}", status=400)
    assert doc["code"] and doc["description"]


def test_short_crs_spellings_accepted(geo_client):
    for crs in ("EPSG:2180", "[EPSG:2180]", "urn:ogc:def:crs:EPSG::2180"):
        r, _ = get_json(geo_client, f"/ogc/collections/gminy/items?limit=1&crs={crs}")
        assert r.headers["Content-Crs"] == f"<{EPSG_2180}>"


def test_gazetteer_points_are_real(geo_settings):
    """The reference points come from the fetched gazetteer, not from the code under test."""
    with open(geo_settings.gmina_points_path, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 102 and all(49.0 < float(r["lat"]) < 52.0 for r in rows)
