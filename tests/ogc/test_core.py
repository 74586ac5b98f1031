"""Contract tests of the OGC API – Features core, the way the OGC test suite (ETS ogcapi-features-1.0)
checks a server: landing page links, conformance, collections, paging by `next`, bbox, limits, errors,
media types — through the Flask adapter, plus the core called directly without Flask."""
from __future__ import annotations

import gzip
import json
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import pytest

from geoes.publish.ogc import core
from geoes.publish.ogc.core import CONFORMANCE, OGCRequest
from geoes.web.served import served_data

GEOJSON = "application/geo+json"
COLLECTIONS = ("entities", "gminy", "powiaty")


def get_json(client, url, status=200, **kw):
    r = client.get(url, **kw)
    assert r.status_code == status, (url, r.status_code, r.data[:300])
    return r, json.loads(r.data)


def rels(doc) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for link in doc["links"]:
        assert "href" in link and "rel" in link
        out.setdefault(link["rel"], []).append(link)
    return out


def local(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")


def layer_len(ds, cid):
    return len(getattr(ds, cid))


# ------------------------------------------------------------------------------------ landing, conformance

@pytest.mark.parametrize("url,cids", [("/ogc", COLLECTIONS), ("/ogc/collections", COLLECTIONS),
                                      ("/ogc/collections/gminy", ("gminy",))])
def test_a_geojson_reader_on_a_page_without_features_is_told_how_to_open_the_api(geo_client, geo_dataset, url, cids):
    """GDAL's GeoJSON driver (Accept: text/plain, application/json) opening the landing page or the
    collections gets a FeatureCollection named after the OAPIF command, one feature per collection."""
    r, doc = get_json(geo_client, url, headers={"Accept": "text/plain, application/json"})
    assert r.content_type == GEOJSON and "Accept" in r.headers["Vary"]
    base = "http://localhost/ogc"
    assert doc["type"] == "FeatureCollection" and doc["name"] == f"OGC API – Features: użyj OAPIF:{base}"
    assert f"ogrinfo OAPIF:{base}" in doc["description"]
    assert [f["id"] for f in doc["features"]] == list(cids)
    for f in doc["features"]:
        assert f["geometry"] is None
        assert f["properties"]["gdal"] == f"ogr2ogr -f GPKG {f['id']}.gpkg OAPIF:{base} {f['id']}"
        assert f["properties"]["features"] == layer_len(geo_dataset, f["id"])
        assert geo_client.get(local(f["properties"]["items"])).status_code == 200
    assert {"service", "data", "service-desc", "items"} <= set(rels(doc))
    # every other client gets what it got before: the document as JSON, or HTML for a browser
    r2, plain = get_json(geo_client, url, headers={"Accept": "application/json"})
    assert r2.content_type == "application/json" and "features" not in plain and r.headers["ETag"] != r2.headers["ETag"]
    r3, _ = get_json(geo_client, url + "?f=json", headers={"Accept": "text/plain, application/json"})
    assert r3.content_type == "application/json"


def test_landing_page_links(geo_client):
    r, doc = get_json(geo_client, "/ogc")
    assert r.content_type == "application/json"
    links = rels(doc)
    for rel in ("self", "alternate", "service-desc", "service-doc", "conformance", "data"):
        assert rel in links, rel
    assert links["service-desc"][0]["type"].startswith("application/vnd.oai.openapi+json")
    assert local(links["service-desc"][0]["href"]) == "/ogc/api"
    assert links["service-doc"][0]["type"].startswith("text/html")
    assert local(links["conformance"][0]["href"]) == "/ogc/conformance"
    assert local(links["data"][0]["href"]) == "/ogc/collections"
    assert links["alternate"][0]["type"].startswith("text/html")
    # every link resolves
    for link in doc["links"]:
        assert geo_client.get(local(link["href"])).status_code == 200, link
    assert doc["title"]


def test_landing_trailing_slash_and_html(geo_client):
    assert geo_client.get("/ogc/").status_code == 200
    r = geo_client.get("/ogc?f=html")
    assert r.status_code == 200 and r.content_type.startswith("text/html")
    assert b'<html lang="pl">' in r.data


def test_conformance_declares_only_passing_classes(geo_client):
    r, doc = get_json(geo_client, "/ogc/conformance")
    assert sorted(doc["conformsTo"]) == sorted(CONFORMANCE)
    part1 = {c.rsplit("/", 1)[-1] for c in doc["conformsTo"] if "/ogcapi-features-1/" in c}
    assert part1 == {"core", "geojson", "html", "oas30"}
    assert "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs" in doc["conformsTo"]
    part3 = {c.rsplit("/", 1)[-1] for c in doc["conformsTo"] if "/ogcapi-features-3/" in c}
    assert part3 == {"queryables", "queryables-query-parameters", "filter", "features-filter"}
    cql2 = {c.rsplit("/", 1)[-1] for c in doc["conformsTo"] if "/cql2/" in c}
    assert {"cql2-text", "basic-cql2", "advanced-comparison-operators", "basic-spatial-functions"} <= cql2
    assert "cql2-json" not in cql2 and "temporal-functions" not in cql2 and "arithmetic" not in cql2


def test_service_doc_is_html(geo_client):
    r = geo_client.get("/ogc/api?f=html")
    assert r.status_code == 200 and r.content_type.startswith("text/html")
    assert b"/collections/entities/items" in r.data and b"limit" in r.data


# ------------------------------------------------------------------------------------ collections

def test_collections_list(geo_client, geo_dataset):
    r, doc = get_json(geo_client, "/ogc/collections")
    assert "self" in rels(doc) and "alternate" in rels(doc)
    ids = [c["id"] for c in doc["collections"]]
    assert ids == list(COLLECTIONS)
    for c in doc["collections"]:
        assert c["title"] and c["description"]
        assert c["itemType"] == "feature"
        assert c["extent"]["spatial"]["crs"] == "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
        bbox = c["extent"]["spatial"]["bbox"][0]
        assert len(bbox) == 4 and bbox[0] <= bbox[2] and bbox[1] <= bbox[3]
        assert 14 < bbox[0] < 25 and 49 < bbox[1] < 55  # Poland, lon/lat order
        items = [lk for lk in c["links"] if lk["rel"] == "items"]
        assert any(lk["type"] == GEOJSON for lk in items)


@pytest.mark.parametrize("cid", COLLECTIONS)
def test_each_collection(geo_client, cid):
    r, doc = get_json(geo_client, f"/ogc/collections/{cid}")
    assert doc["id"] == cid
    links = rels(doc)
    assert local(links["self"][0]["href"]).startswith(f"/ogc/collections/{cid}")
    item_links = links["items"]
    assert {lk["type"] for lk in item_links} >= {GEOJSON}
    for lk in item_links:
        assert geo_client.get(local(lk["href"])).status_code == 200
    r = geo_client.get(f"/ogc/collections/{cid}?f=html")
    assert r.status_code == 200 and b'lang="pl"' in r.data


# ------------------------------------------------------------------------------------ items

@pytest.mark.parametrize("cid", COLLECTIONS)
def test_items_response(geo_client, geo_dataset, cid):
    before = datetime.now(timezone.utc).replace(microsecond=0)
    r, doc = get_json(geo_client, f"/ogc/collections/{cid}/items")
    after = datetime.now(timezone.utc)
    assert r.content_type == GEOJSON
    assert doc["type"] == "FeatureCollection"
    total = layer_len(geo_dataset, cid)
    assert doc["numberMatched"] == total
    assert doc["numberReturned"] == len(doc["features"]) == min(100, total)  # default limit 100
    stamp = datetime.strptime(doc["timeStamp"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    assert before - timedelta(seconds=1) <= stamp <= after
    links = rels(doc)
    assert links["self"][0]["type"] == GEOJSON
    assert "alternate" in links
    assert ("next" in links) == (total > 100)
    assert "prev" not in links
    for f in doc["features"]:
        assert f["type"] == "Feature" and "id" in f and "properties" in f and "geometry" in f
        assert "crs" not in f


def walk(client, url) -> tuple[list[str], int, int]:
    """Follow `next` links until the end: (ids seen, numberMatched, pages)."""
    seen: list[str] = []
    matched = None
    pages = 0
    while url:
        r, doc = get_json(client, url)
        pages += 1
        matched = doc["numberMatched"] if matched is None else matched
        assert doc["numberMatched"] == matched
        assert doc["numberReturned"] == len(doc["features"])
        seen += [str(f["id"]) for f in doc["features"]]
        nxt = [lk for lk in doc["links"] if lk["rel"] == "next"]
        url = local(nxt[0]["href"]) if nxt else None
        assert pages < 1000
    return seen, matched, pages


@pytest.mark.parametrize("cid,limit", [("entities", 37), ("entities", 1), ("gminy", 25), ("powiaty", 5)])
def test_paging_by_next_sees_every_feature_once(geo_client, geo_dataset, cid, limit):
    seen, matched, pages = walk(geo_client, f"/ogc/collections/{cid}/items?limit={limit}")
    assert matched == layer_len(geo_dataset, cid)
    assert len(seen) == matched
    assert len(set(seen)) == matched  # no duplicates
    assert pages == -(-matched // limit)


def test_paging_keeps_filters(geo_client, geo_dataset):
    ents = geo_dataset.entities
    expected = int(ents["types"].str.split(";").map(lambda xs: "cis" in xs).sum())
    assert expected > 5
    seen, matched, _ = walk(geo_client, "/ogc/collections/entities/items?type=cis&limit=4")
    assert matched == expected == len(set(seen))


def test_prev_link(geo_client):
    r, doc = get_json(geo_client, "/ogc/collections/entities/items?limit=10&offset=20")
    prev = [lk for lk in doc["links"] if lk["rel"] == "prev"][0]
    q = parse_qs(urlsplit(prev["href"]).query)
    assert q["offset"] == ["10"] and q["limit"] == ["10"]


def test_offset_past_the_end(geo_client, geo_dataset):
    n = len(geo_dataset.entities)
    r, doc = get_json(geo_client, f"/ogc/collections/entities/items?offset={n + 5}")
    assert doc["numberReturned"] == 0 and doc["features"] == [] and doc["numberMatched"] == n
    assert not [lk for lk in doc["links"] if lk["rel"] == "next"]


def test_limit_bounds(geo_client, geo_dataset):
    n = len(geo_dataset.entities)
    _, doc = get_json(geo_client, "/ogc/collections/entities/items?limit=1")
    assert doc["numberReturned"] == 1
    _, doc = get_json(geo_client, "/ogc/collections/entities/items?limit=10000")
    assert doc["numberReturned"] == n
    # above the maximum: clamped to it (OGC API – Features: not an error)
    _, doc = get_json(geo_client, "/ogc/collections/entities/items?limit=20000")
    assert doc["numberReturned"] == min(n, 10_000)
    for bad in ("0", "-1", "abc", "1.5", "", "1e3"):
        if bad == "":
            continue
        r, err = get_json(geo_client, f"/ogc/collections/entities/items?limit={bad}", status=400)
        assert err["code"] and "limit" in err["description"]


@pytest.mark.parametrize("query", [
    "bbox=1,2,3", "bbox=a,b,c,d", "bbox=21,50,20,51", "bbox=0,95,1,96", "bbox=nan,50,21,51",
    "offset=-1", "offset=x", "f=xml", "datetime=yesterday", "datetime=../..", "type=unknown_type",
    "status=zombie", "powiat_teryt=26", "gmina_teryt=abc", "unknown_param=1", "limit=5&limit=6",
])
def test_invalid_parameters_give_400_json(geo_client, query):
    r, err = get_json(geo_client, f"/ogc/collections/entities/items?{query}", status=400)
    assert r.content_type == "application/json"
    assert set(err) == {"code", "description"}


def test_valid_datetime_is_accepted(geo_client):
    for value in ("2024-01-01T00:00:00Z", "2024-01-01T00:00:00Z/..", "../2024-12-31T23:59:59Z", "2024-01-01"):
        get_json(geo_client, f"/ogc/collections/entities/items?datetime={value}")


def test_bbox_filters(geo_client, geo_dataset):
    import shapely

    bbox = (20.3, 50.5, 21.0, 51.0)
    ents = geo_dataset.entities
    geoms = ents.geometry.to_numpy()
    inside = shapely.intersects(geoms, shapely.box(*bbox))
    expected = set(ents.loc[inside, "id"])
    assert 0 < len(expected) < len(ents)
    seen, matched, _ = walk(geo_client, "/ogc/collections/entities/items?bbox=" + ",".join(map(str, bbox)))
    assert set(seen) == expected and matched == len(expected)
    _, doc = get_json(geo_client, "/ogc/collections/entities/items?limit=10000&bbox=" + ",".join(map(str, bbox)))
    for f in doc["features"]:
        lon, lat = f["geometry"]["coordinates"]
        assert bbox[0] <= lon <= bbox[2] and bbox[1] <= lat <= bbox[3]
    # a 3D bbox is accepted, heights ignored
    _, doc3 = get_json(geo_client, "/ogc/collections/entities/items?bbox=20.3,50.5,0,21.0,51.0,100")
    assert doc3["numberMatched"] == len(expected)
    # polygons: gminy intersecting
    _, doc = get_json(geo_client, "/ogc/collections/gminy/items?bbox=20.3,50.5,20.4,50.6")
    assert 0 < doc["numberMatched"] < 102


def test_property_filters(geo_client, geo_dataset):
    ents = geo_dataset.entities
    _, doc = get_json(geo_client, "/ogc/collections/entities/items?status=inactive&limit=10000")
    assert doc["numberMatched"] == int((ents["status"] == "inactive").sum()) > 0
    assert all(f["properties"]["status"] == "inactive" for f in doc["features"])
    powiat = "2602"
    # powiat_teryt is the powiat the site counts an entity in: the same entities as /api's powiat=
    # (the dataset's powiat_teryt_computed); powiat_teryt_stated is what the register says
    counted = set(ents.loc[ents["powiat_teryt_computed"] == powiat, "id"])
    _, doc = get_json(geo_client, f"/ogc/collections/entities/items?powiat_teryt={powiat}&limit=10000")
    assert {f["id"] for f in doc["features"]} == counted and doc["numberMatched"] == len(counted) > 0
    assert all(f["properties"]["powiat_teryt"] == powiat for f in doc["features"])
    api = json.loads(geo_client.get(f"/api/entities.geojson?powiat={powiat}").data)
    assert {f["id"] for f in api["features"]} == counted
    _, doc = get_json(geo_client, f"/ogc/collections/entities/items?powiat_teryt_computed={powiat}&limit=10000")
    assert {f["id"] for f in doc["features"]} == counted  # the deprecated alias: the same values
    assert all(f["properties"]["powiat_teryt_computed"] == powiat for f in doc["features"])
    _, doc = get_json(geo_client, "/ogc/collections/entities/items?powiat_teryt_stated=2604&limit=10000")
    assert {f["id"] for f in doc["features"]} == set(ents.loc[ents["powiat_teryt"] == "2604", "id"])
    assert all(f["properties"]["powiat_teryt_stated"] == "2604" for f in doc["features"]) and doc["numberMatched"] > 0
    _, doc = get_json(geo_client, "/ogc/collections/gminy/items?powiat_teryt=2602")
    assert doc["numberMatched"] == 9  # powiat jędrzejowski: 9 gminy
    assert all(f["properties"]["powiat_teryt"] == "2602" for f in doc["features"])
    _, doc = get_json(geo_client, "/ogc/collections/gminy/items?type=1")
    assert doc["numberMatched"] == int((geo_dataset.gminy["type"] == 1).sum()) > 0
    _, doc = get_json(geo_client, "/ogc/collections/powiaty/items?teryt=2661")
    assert [f["id"] for f in doc["features"]] == ["2661"]
    _, doc = get_json(geo_client, "/ogc/collections/powiaty/items?city_county=true")
    assert [f["id"] for f in doc["features"]] == ["2661"]
    _, doc = get_json(geo_client, "/ogc/collections/entities/items?type=cis,wtz&status=active&limit=10000")
    for f in doc["features"]:
        assert set(f["properties"]["types"].split(";")) & {"cis", "wtz"} and f["properties"]["status"] == "active"


def test_unknown_value_of_known_property_is_empty_not_error(geo_client):
    _, doc = get_json(geo_client, "/ogc/collections/gminy/items?teryt=2699999")
    assert doc["numberMatched"] == 0


# ------------------------------------------------------------------------------------ single features

@pytest.mark.parametrize("cid,fid", [("entities", "test-0001"), ("gminy", "2602042"), ("powiaty", "2602")])
def test_feature(geo_client, cid, fid):
    r, doc = get_json(geo_client, f"/ogc/collections/{cid}/items/{fid}")
    assert r.content_type == GEOJSON
    assert doc["type"] == "Feature" and str(doc["id"]) == fid
    links = rels(doc)
    assert {"self", "alternate", "collection"} <= set(links)
    r = geo_client.get(f"/ogc/collections/{cid}/items/{fid}?f=html")
    assert r.status_code == 200 and b'lang="pl"' in r.data


def test_unknown_collection_and_feature_404_json(geo_client):
    for url in ("/ogc/collections/nope", "/ogc/collections/nope/items", "/ogc/collections/nope/items/1",
                "/ogc/collections/entities/items/does-not-exist", "/ogc/collections/gminy/items/0000000",
                "/ogc/whatever"):
        r, err = get_json(geo_client, url, status=404)
        assert r.content_type == "application/json" and err["code"] == "NotFound" and err["description"]


def test_write_methods_are_405_json(geo_client):
    r = geo_client.post("/ogc/collections/entities/items", data="{}")
    assert r.status_code == 405 and json.loads(r.data)["code"] == "MethodNotAllowed"


# ------------------------------------------------------------------------------------ negotiation, HTML

def test_accept_header_negotiation(geo_client):
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    for url in ("/ogc", "/ogc/collections", "/ogc/collections/gminy", "/ogc/collections/gminy/items"):
        r = geo_client.get(url, headers={"Accept": browser})
        assert r.content_type.startswith("text/html"), url
        assert "Accept" in r.headers["Vary"]
        r = geo_client.get(url, headers={"Accept": "application/json"})
        assert "json" in r.content_type, url
        r = geo_client.get(url, headers={"Accept": "*/*"})
        assert "json" in r.content_type, url
        r = geo_client.get(url + "?f=json", headers={"Accept": browser})
        assert "json" in r.content_type, url
    r = geo_client.get("/ogc/collections/gminy/items", headers={"Accept": "application/geo+json"})
    assert r.content_type == GEOJSON


def test_html_items_escape_entity_text(geo_client):
    from .testdata import HOSTILE_ID

    r = geo_client.get("/ogc/collections/entities/items?f=html&limit=10000")
    assert r.status_code == 200
    assert b"<script>alert" not in r.data
    assert b"&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in r.data
    r = geo_client.get(f"/ogc/collections/entities/items/{HOSTILE_ID}?f=html")
    assert b"<script>alert" not in r.data and b"<img src=x" not in r.data
    assert b"&lt;img src=x onerror=alert(1)&gt;" in r.data
    # and exact in JSON
    _, doc = get_json(geo_client, f"/ogc/collections/entities/items/{HOSTILE_ID}")
    assert doc["properties"]["name"].startswith("<script>")


def test_html_items_paging_links(geo_client):
    r = geo_client.get("/ogc/collections/gminy/items?f=html&limit=10&offset=10")
    assert b'rel="next"' in r.data and b'rel="prev"' in r.data


# ------------------------------------------------------------------------------------ HTTP behaviour

def test_etag_and_304(geo_client):
    r = geo_client.get("/ogc/collections/entities/items?limit=5")
    etag = r.headers["ETag"]
    version = served_data(geo_client.application).current().version
    assert version in etag
    r2 = geo_client.get("/ogc/collections/entities/items?limit=5", headers={"If-None-Match": etag})
    assert r2.status_code == 304 and r2.data == b"" and r2.headers["ETag"] == etag
    r3 = geo_client.get("/ogc/collections/entities/items?limit=5", headers={"If-None-Match": 'W/"other"'})
    assert r3.status_code == 200
    # HTML and JSON representations have different tags
    assert geo_client.get("/ogc/collections?f=html").headers["ETag"] != geo_client.get("/ogc/collections").headers["ETag"]


def test_cors_and_cache_control(geo_client):
    for url in ("/ogc", "/ogc/api", "/ogc/collections/entities/items"):
        r = geo_client.get(url, headers={"Origin": "http://example.org"})
        assert r.headers["Access-Control-Allow-Origin"] == "*"
        assert "max-age" in r.headers["Cache-Control"]
    r = geo_client.get("/ogc/collections/nope")
    assert r.headers["Access-Control-Allow-Origin"] == "*" and r.headers["Cache-Control"] == "no-store"
    r = geo_client.options("/ogc/collections/entities/items",
                           headers={"Origin": "http://example.org", "Access-Control-Request-Method": "GET"})
    assert r.status_code == 200 and "GET" in r.headers["Access-Control-Allow-Methods"]


def test_gzip(geo_client):
    url = "/ogc/collections/gminy/items?limit=50"
    plain = geo_client.get(url)
    assert "Content-Encoding" not in plain.headers
    for _ in range(2):  # the second answer reuses the cached deflate of the body
        r = geo_client.get(url, headers={"Accept-Encoding": "gzip, deflate"})
        assert r.headers["Content-Encoding"] == "gzip"
        assert len(r.data) < len(plain.data) / 3
        doc = json.loads(gzip.decompress(r.data))
        ref = json.loads(plain.data)
        ref.pop("timeStamp"), doc.pop("timeStamp")
        assert doc == ref
    r = geo_client.get(url, headers={"Accept-Encoding": "gzip;q=0"})
    assert "Content-Encoding" not in r.headers


def test_head_request(geo_client):
    r = geo_client.head("/ogc/collections/entities/items")
    assert r.status_code == 200 and r.data == b""


def test_gdal_style_page_of_1000_is_cached(geo_client):
    url = "/ogc/collections/entities/items?f=json&limit=1000"
    a = geo_client.get(url)
    bodies = served_data(geo_client.application).ogc_bodies
    before = bodies.hits
    b = geo_client.get(url)
    assert bodies.hits == before + 1
    ja, jb = json.loads(a.data), json.loads(b.data)
    ja.pop("timeStamp"), jb.pop("timeStamp")
    assert ja == jb


# ------------------------------------------------------------------------------------ core without Flask

def test_core_is_framework_free(geo_app):
    served = served_data(geo_app)
    req = OGCRequest("http://example.org/ogc", {"limit": "2"})
    headers, status, content = core.items(served, req, "powiaty")
    assert status == 200 and headers["Content-Type"] == GEOJSON
    doc = json.loads(b"".join(content))
    assert doc["numberReturned"] == 2
    assert doc["links"][0]["href"].startswith("http://example.org/ogc/collections/powiaty/items?")
    headers, status, content = core.item(served, OGCRequest("http://example.org/ogc"), "powiaty", "9999")
    assert status == 404 and json.loads(content)["code"] == "NotFound"
    headers, status, content = core.collections(served, OGCRequest("http://example.org/ogc", {"f": "bad"}))
    assert status == 400
    from pathlib import Path

    import geoes.publish.ogc

    for path in Path(geoes.publish.ogc.__file__).parent.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "from flask" not in text and "import flask" not in text, path
