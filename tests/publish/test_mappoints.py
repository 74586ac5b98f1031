"""The map's light payload (geoes.dataset.mappoints) and the server's clusters (geoes.publish.mappoints,
/api/points.json, /api/clusters): what the browser gets stands for exactly the entities the layer has."""
from __future__ import annotations

import gzip
import json

import numpy as np
import pytest

from geoes.dataset.mappoints import POINTS_NAME, decode, encode, points_table, type_codes
from geoes.dataset.reader import load_current
from geoes.publish import mappoints as mp
from geoes.register.record import PRECISIONS

REGION = "19.6,50.1,21.9,51.4"


@pytest.fixture(scope="module")
def ds(built_settings):
    return load_current(built_settings)


def _placed(ds):
    geoms = ds.entities.geometry
    return ds.entities[~(geoms.isna() | geoms.is_empty).to_numpy()]


def test_payload_is_every_placed_entity_with_its_point_type_and_precision(ds):
    doc = decode((ds.path / POINTS_NAME).read_bytes())  # written by the build
    assert doc["version"] == ds.version
    placed = _placed(ds)
    assert doc["count"] == len(placed) == len(doc["id"]) and doc["unplaced"] == len(ds.entities) - len(placed)
    assert sorted(doc["id"]) == sorted(placed["id"])
    by_id = placed.set_index("id")
    types = doc["types"]
    for i, eid in enumerate(doc["id"]):
        row = by_id.loc[eid]
        assert doc["lon"][i] == pytest.approx(row.geometry.x, abs=6e-6)
        assert doc["lat"][i] == pytest.approx(row.geometry.y, abs=6e-6)
        codes = row["types"].split(";")
        assert types[doc["type"][i]] == codes[0]  # the icon
        assert {types[b] for b in range(len(types)) if doc["also"][i] >> b & 1} == set(codes[1:])
        assert doc["precisions"][doc["precision"][i]] == row["location_precision"]


def test_payload_is_compact(built_settings, tmp_path):
    """Coordinates as short differences along a space-filling curve: 100k synthetic entities in well under
    the 2.5 MB the map may fetch before its first render."""
    from geoes.register.synthetic import generate
    from geoes.sources.territory import load_territory
    import geopandas as gpd

    frame = generate(load_territory(built_settings), 100_000, seed=3)
    geo = gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(frame["lon"].astype(float), frame["lat"].astype(float)))
    body = encode(points_table(geo), "v1")
    assert len(gzip.compress(body, 6)) < 1_000_000
    doc = decode(body)
    assert doc["count"] == 100_000 and len(set(doc["id"])) == 100_000
    assert np.allclose(sorted(doc["lon"]), sorted(frame["lon"].astype(float).round(5)), atol=1e-9)


def test_points_api_serves_the_payload_pinned_to_a_version(client, ds):
    r = client.get("/api/points.json")
    assert r.status_code == 200 and r.headers["Cache-Control"] == "public, max-age=0"
    assert r.data == (ds.path / POINTS_NAME).read_bytes()  # the build's file, as it is
    zipped = client.get(f"/api/points.json?v={ds.version}", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert gzip.decompress(zipped.data) == r.data if len(r.data) >= 1024 else zipped.data == r.data
    again = client.get("/api/points.json", headers={"If-None-Match": r.headers["ETag"]})
    assert again.status_code == 304
    stale = client.get("/api/points.json?v=20000101T000000000000Z-00000000")
    assert "immutable" not in stale.headers["Cache-Control"] and stale.json["version"] == ds.version


def test_points_api_filters_as_the_layer_does(client):
    """The same entities, with and without a point, as the layer gives for the same filters."""
    for query in ("powiat=2602", "type=wtz", "q=caritas", "type=cis,kis&powiat=2661", "gmina=2602023", "type=zaz"):
        doc = client.get(f"/api/points.json?{query}").json
        layer = client.get(f"/api/entities.geojson?{query}").json["features"]
        assert sorted(doc["id"]) == sorted(f["id"] for f in layer if f["geometry"]), query
        assert doc["unplaced"] == sum(1 for f in layer if not f["geometry"]), query
        clusters = client.get(f"/api/clusters?bbox={REGION}&zoom=8&{query}").json
        assert (clusters["count"], clusters["unplaced"]) == (doc["count"], doc["unplaced"]), query


@pytest.mark.parametrize("url, param", [
    ("/api/clusters?zoom=8", "bbox"),
    (f"/api/clusters?bbox={REGION}", "zoom"),
    (f"/api/clusters?bbox={REGION}&zoom=8.5", "zoom"),
    (f"/api/clusters?bbox={REGION}&zoom=23", "zoom"),
    ("/api/clusters?bbox=21,50,20,51&zoom=8", "bbox"),
    ("/api/clusters?bbox=-180,-85,180,85&zoom=16", "bbox"),
    (f"/api/clusters?bbox={REGION}&zoom=8&powiat=99", "powiat"),
    (f"/api/clusters?bbox={REGION}&zoom=8&typ=wtz", "typ"),
    ("/api/points.json?type=xyz", "type"),
])
def test_bad_parameters_are_a_400_naming_the_parameter(client, url, param):
    r = client.get(url)
    assert r.status_code == 400 and r.json["description"].startswith(param + ":"), r.json


def _counted(doc) -> set:
    return {p[0] for p in doc["points"]}, sum(c[2] for c in doc["clusters"]) + len(doc["points"])


def test_clusters_account_for_every_entity_in_view(client, ds):
    """Each placed entity in view is in one cluster or is one point, filtered like the layer."""
    for query in ("", "&type=wtz", "&powiat=2661", "&q=spółdzielnia"):
        doc = client.get(f"/api/clusters?bbox={REGION}&zoom=8{query}").json
        expected = client.get(f"/api/points.json?{query.lstrip('&')}").json["count"]
        points, total = _counted(doc)
        assert doc["total"] == total == expected, query
        assert doc["version"] == ds.version


def test_entities_at_one_place_stay_one_cluster_the_map_can_list(client, ds):
    """Ten entities share a point in the centre of Kielce: they come as one cluster whose extent is that point."""
    placed = _placed(ds)
    xy = placed.geometry.apply(lambda g: (round(g.x, 5), round(g.y, 5)))
    (x, y), n = xy.value_counts().index[0], int(xy.value_counts().iloc[0])
    assert n > 1
    doc = client.get(f"/api/clusters?bbox={x - 0.01},{y - 0.01},{x + 0.01},{y + 0.01}&zoom=18").json
    same = [c for c in doc["clusters"] if c[3] == c[5] and c[4] == c[6]]
    assert [c[2] for c in same if abs(c[0] - x) < 1e-5 and abs(c[1] - y) < 1e-5] == [n]


def test_grid_clusters_a_large_set_and_keeps_cells_fixed_while_panning(built_settings):
    """Synthetic 20k points: above FEW_POINTS the view gets clusters whose counts add up to the points in
    view; a cluster fully inside two overlapping views is the same in both."""
    from geoes.register.synthetic import generate
    from geoes.sources.territory import load_territory
    import geopandas as gpd

    frame = generate(load_territory(built_settings), 20_000, seed=5)
    geo = gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(frame["lon"].astype(float), frame["lat"].astype(float)))
    index = mp.ClusterIndex(points_table(geo))
    a = mp.view_clusters(index, (20.0, 50.5, 21.0, 51.0), 10, None)
    b = mp.view_clusters(index, (20.2, 50.5, 21.2, 51.0), 10, None)
    inside = index.in_view((20.0, 50.5, 21.0, 51.0), None)
    assert a["total"] == len(inside) > mp.FEW_POINTS
    assert sum(c[2] for c in a["clusters"]) + len(a["points"]) == len(inside)
    middle = lambda doc: {tuple(c) for c in doc["clusters"]  # noqa: E731
                          if 20.3 < c[3] and c[5] < 20.9 and 50.55 < c[4] and c[6] < 50.95}
    assert middle(a) and middle(a) == middle(b)
    # The precomputed low-zoom grid gives the view the same clusters as clustering the view on the spot.
    whole = mp.grid(index.points, np.arange(len(index.points)), 10)
    c = mp.view_clusters(index, (20.0, 50.5, 21.0, 51.0), 10, None, low_grid=lambda z: whole)
    assert middle(c) == middle(a)
    # A filter mask narrows the points and the counts.
    mask = index.points.type == type_codes().index("ngo")
    d = mp.view_clusters(index, (20.0, 50.5, 21.0, 51.0), 10, mask)
    assert d["total"] == int(mask[inside].sum()) < a["total"]


def test_precision_index_is_the_records(ds):
    doc = json.loads((ds.path / POINTS_NAME).read_bytes())
    assert doc["precisions"] == list(PRECISIONS) and doc["types"] == type_codes()


@pytest.mark.parametrize("threshold, entity_view", [(200_000, True), (10, False)])
def test_warm_up_prepares_the_payload_and_first_clusters(built_settings, threshold, entity_view):
    """Each server process prepares the light payload and the region's clusters; the entity layer's map
    view only while the register is small enough for the map to take it (GEOES_MAP_SERVER_CLUSTERS)."""
    from geoes.web import create_app, warm_up
    from geoes.web.served import served_data

    app = create_app({"TESTING": True, "WARM_UP": False, "GEOES_DATA_DIR": str(built_settings.data_dir),
                      "GEOES_MAP_SERVER_CLUSTERS": threshold})
    served = served_data(app)
    warm_up(app)
    version = served.current().version
    assert (version, "map-points-body") in served.values and (version, "map-points-index") in served.values
    assert any(k[1] == "clusters" and k[4] == 8 for k in served.api_bodies._data)
    warmed = {key[2] for key in served.values if key[0] == version and key[1] == "map-view"}
    assert ("entities" in warmed) is entity_view and {"gminy", "powiaty"} <= warmed
