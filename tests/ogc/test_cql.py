"""OGC API – Features Part 3: /queryables and CQL2 text filters, checked against SQLite evaluating the same
conditions on the GeoPackage download (the file a GIS user filters), and against shapely for S_ functions."""
from __future__ import annotations

import json
import sqlite3
from urllib.parse import quote

import pytest
import shapely

from geoes.publish.ogc.crs import EPSG_2180
from geoes.publish.serialise import public_columns, published


def items(client, cid, cql, status=200, extra="", limit=10000):
    r = client.get(f"/ogc/collections/{cid}/items?limit={limit}&filter-lang=cql2-text&filter={quote(cql)}{extra}")
    assert r.status_code == status, (cql, r.status_code, r.data[:300])
    return json.loads(r.data)


def ids(doc) -> set[str]:
    return {f["id"] for f in doc["features"]}


@pytest.fixture(scope="module")
def gpkg(geo_app, tmp_path_factory):
    path = tmp_path_factory.mktemp("cql") / "warstwy.gpkg"
    path.write_bytes(geo_app.test_client().get("/api/download.gpkg").data)
    con = sqlite3.connect(path)
    con.execute("PRAGMA case_sensitive_like = ON")  # CQL2 LIKE is case-sensitive
    yield con
    con.close()


# Conditions written the same in CQL2 text and SQLite SQL: the API must select what SQLite selects on the
# downloaded GeoPackage (NULL in SQL's three-valued logic, as in CQL2).
SAME_IN_SQL = [
    ("entities", "powiat_teryt = '2604'"),
    ("entities", "powiat_teryt_stated = '2604'"),
    ("entities", "powiat_teryt_computed = '2604'"),
    ("entities", "gmina_teryt IS NULL AND powiat_teryt IS NOT NULL"),
    ("entities", "status = 'active' AND employees > 10"),
    ("entities", "status = 'inactive' OR employees BETWEEN 5 AND 7"),
    ("entities", "NOT (krs = '0000000000')"),
    ("entities", "NOT (employees > 20)"),
    ("entities", "krs IS NULL"),
    ("entities", "krs IS NOT NULL"),
    ("entities", "employees IS NULL AND location_precision <> 'none'"),
    ("entities", "name LIKE 'Zakład%'"),
    ("entities", "name NOT LIKE '%TEST%'"),
    ("entities", "location_precision IN ('locality', 'street')"),
    ("entities", "gmina_mismatch = 1"),
    ("entities", "social_enterprise NOT IN ('unknown')"),
    ("gminy", "type = 3 AND entities >= 1"),
    ("gminy", "entities_per_10k > 1.5 OR access_10km_pct < 50"),
    ("powiaty", "city_county = 0"),
    ("powiaty", "rank_entities <= 3"),
]


@pytest.mark.parametrize("cid,cql", SAME_IN_SQL)
def test_cql_selects_what_sqlite_selects_on_the_gpkg(geo_client, gpkg, cid, cql):
    key = "id" if cid == "entities" else "teryt"
    expected = {row[0] for row in gpkg.execute(f"SELECT {key} FROM {cid} WHERE {cql}")}
    got = ids(items(geo_client, cid, cql))
    assert got == expected
    doc = items(geo_client, cid, cql)
    assert doc["numberMatched"] == len(expected)


def test_not_keeps_unknown_out(geo_client, geo_dataset):
    """An entity without KRS is neither `krs = X` nor `NOT (krs = X)`."""
    ents = geo_dataset.entities
    without = set(ents.loc[ents["krs"] == "", "id"])
    assert without
    assert not (ids(items(geo_client, "entities", "NOT (krs = '0000000000')")) & without)


def test_casei_accenti(geo_client, geo_dataset):
    ents = geo_dataset.entities
    expected = set(ents.loc[ents["name"].str.lower().str.contains("spółdzielnia"), "id"])
    assert expected
    assert ids(items(geo_client, "entities", "CASEI(name) LIKE CASEI('%SPÓŁDZIELNIA%')")) == expected
    assert ids(items(geo_client, "entities", "ACCENTI(CASEI(name)) LIKE '%spoldzielnia%'")) == expected


def test_spatial_functions(geo_client, geo_dataset):
    ents = geo_dataset.entities
    geoms = ents.geometry.to_numpy()
    box = shapely.box(20.3, 50.5, 21.0, 51.0)
    expected = set(ents.loc[shapely.intersects(geoms, box), "id"])
    assert expected
    assert ids(items(geo_client, "entities", "S_INTERSECTS(geometry, BBOX(20.3,50.5,21.0,51.0))")) == expected
    poly = "POLYGON((20.3 50.5, 21.0 50.5, 21.0 51.0, 20.3 51.0, 20.3 50.5))"
    assert ids(items(geo_client, "entities", f"S_INTERSECTS(geometry, {poly})")) == expected
    within = set(ents.loc[shapely.within(geoms, box), "id"])  # not the points on the edge
    assert ids(items(geo_client, "entities", f"S_WITHIN(geometry, {poly})")) == within
    tri = shapely.Polygon([(20.3, 50.5), (21.0, 50.5), (20.3, 51.0)])
    inside = set(ents.loc[shapely.intersects(geoms, tri), "id"])
    assert inside < expected
    assert ids(items(geo_client, "entities", f"S_INTERSECTS(geometry, {tri.wkt})")) == inside
    # the gminy a point lies in
    one = ents[ents["id"] == "test-0000"].geometry.iloc[0]
    got = ids(items(geo_client, "gminy", f"S_INTERSECTS(geometry, POINT({one.x} {one.y}))"))
    assert got == {ents.loc[ents["id"] == "test-0000", "gmina_teryt_computed"].iloc[0]}
    # combined with a property, and NOT of a spatial predicate (unlocated entities are unknown: left out)
    placed = ~(shapely.is_empty(geoms) | shapely.is_missing(geoms))
    outside = set(ents.loc[placed & ~shapely.intersects(geoms, box), "id"])
    assert ids(items(geo_client, "entities", "NOT S_INTERSECTS(geometry, BBOX(20.3,50.5,21.0,51.0))")) == outside


def test_filter_crs_epsg2180(geo_client, geo_dataset):
    from pyproj import Transformer

    t = Transformer.from_crs("OGC:CRS84", "EPSG:2180", always_xy=True)
    e, n = t.transform([20.3, 21.0, 21.0, 20.3], [50.5, 50.5, 51.0, 51.0])  # the four corners
    box2180 = f"BBOX({min(n)},{min(e)},{max(n)},{max(e)})"  # northing, easting: EPSG:2180's axis order
    got = ids(items(geo_client, "entities", f"S_INTERSECTS(geometry, {box2180})", extra=f"&filter-crs={EPSG_2180}"))
    inner = ids(items(geo_client, "entities", "S_INTERSECTS(geometry, BBOX(20.3,50.5,21.0,51.0))"))
    assert inner and inner <= got
    # read with the axes swapped, the same numbers fall outside Poland and select nothing
    swapped = f"BBOX({min(e)},{min(n)},{max(e)},{max(n)})"
    assert not (ids(items(geo_client, "entities", f"S_INTERSECTS(geometry, {swapped})",
                          extra=f"&filter-crs={EPSG_2180}")) & inner)


def test_filter_combines_with_parameters_and_pages(geo_client):
    doc = items(geo_client, "entities", "status = 'active'", extra="&type=cis", limit=5)
    assert all(f["properties"]["status"] == "active" and "cis" in f["properties"]["types"] for f in doc["features"])
    nxt = [lk["href"] for lk in doc["links"] if lk["rel"] == "next"]
    assert nxt and "filter=" in nxt[0] and "filter-lang=cql2-text" in nxt[0]


@pytest.mark.parametrize("cql", [
    "status = ", "status = 'active' AND", "ooga = booga", "nie_ma_takiej = 1", "employees + 1 > 2",
    "employees = 'dużo'", "T_AFTER(as_of, TIMESTAMP('2020-01-01T00:00:00Z'))", "S_INTERSECTS(geometry, 5)",
    "city_county = 'może'", "status", "FOO(name) = 'x'",
])
def test_invalid_cql_is_400_in_polish(geo_client, cql):
    cid = "powiaty" if "city_county" in cql else "entities"
    doc = items(geo_client, cid, cql, status=400)
    assert doc["code"] == "InvalidParameterValue"
    assert doc["description"].startswith("filter:")
    assert any(ch in doc["description"] for ch in "ąęółśżźćń") or "CQL2" in doc["description"]


def test_unknown_filter_lang_is_400(geo_client):
    r = geo_client.get("/ogc/collections/entities/items?filter=status%3D'active'&filter-lang=cql2-json")
    assert r.status_code == 400 and json.loads(r.data)["description"].startswith("filter-lang:")


def test_queryables_resource(geo_client, geo_dataset):
    r = geo_client.get("/ogc/collections/entities/queryables", headers={"Accept": "application/schema+json"})
    assert r.status_code == 200 and r.content_type == "application/schema+json"
    doc = json.loads(r.data)
    assert doc["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert doc["$id"].endswith("/ogc/collections/entities/queryables") and doc["type"] == "object"
    props = doc["properties"]
    assert props["geometry"]["format"] == "geometry-point" and props["geometry"]["x-ogc-role"] == "primary-geometry"
    assert props["employees"]["type"] == "integer" and props["krs"]["type"] == "string"
    assert props["gmina_mismatch"]["type"] == "boolean" and props["lat"]["type"] == "number"
    assert props["status"]["enum"] == ["active", "inactive", "unknown"]
    assert "liczy podmiot" in props["powiat_teryt"]["description"]
    assert "rejestrze" in props["powiat_teryt_stated"]["description"]
    assert "Przestarzała" in props["powiat_teryt_computed"]["description"]
    assert set(props) - {"geometry"} == set(public_columns(published(geo_dataset.entities)))
    units = json.loads(geo_client.get("/ogc/collections/powiaty/queryables").data)
    assert units["properties"]["city_county"]["type"] == "boolean"
    assert units["properties"]["geometry"]["format"] == "geometry-polygon-or-multipolygon"
    html = geo_client.get("/ogc/collections/gminy/queryables?f=html")
    assert html.status_code == 200 and b"entities_per_10k" in html.data and b'lang="pl"' in html.data


def test_collection_links_to_queryables(geo_client):
    doc = json.loads(geo_client.get("/ogc/collections/gminy").data)
    q = [lk for lk in doc["links"] if lk["rel"] == "http://www.opengis.net/def/rel/ogc/1.0/queryables"]
    assert q and q[0]["type"] == "application/schema+json"
    items_links = [lk for lk in doc["links"] if lk["rel"] == "items" and lk["type"] == "application/geo+json"]
    assert items_links[0]["href"].endswith("/collections/gminy/items")  # no query: GDAL appends /{id}
