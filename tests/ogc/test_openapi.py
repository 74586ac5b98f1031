"""geoes.publish.ogc.openapi: the OpenAPI 3.0 document describes every path and parameter, and the server
accepts every parameter it documents (a test that fails when something goes undocumented)."""
import json

import pytest

from geoes.publish.ogc.collection_defs import COLLECTIONS
from geoes.publish.ogc.core import props_of
from geoes.publish.ogc.openapi import document, resolved_parameters
from geoes.web.served import served_data


@pytest.fixture(scope="module")
def doc(geo_app):
    props = {cid: props_of(served_data(geo_app), cdef) for cid, cdef in COLLECTIONS.items()}
    return document("http://example.org/ogc", 100, 10_000, "t", "v1", props)


def _refs(node, out):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref":
                out.append(v)
            else:
                _refs(v, out)
    elif isinstance(node, list):
        for v in node:
            _refs(v, out)
    return out


def test_document_basics(doc):
    assert doc["openapi"].startswith("3.0")
    assert doc["servers"][0]["url"] == "http://example.org/ogc"
    expected = {"/", "/conformance", "/api", "/collections"}
    for cid in COLLECTIONS:
        expected |= {f"/collections/{cid}", f"/collections/{cid}/items", f"/collections/{cid}/items/{{featureId}}",
                     f"/collections/{cid}/queryables"}
    assert set(doc["paths"]) == expected
    json.dumps(doc)


def test_all_refs_resolve(doc):
    for ref in _refs(doc, []):
        node = doc
        for part in ref.lstrip("#/").split("/"):
            node = node[part]


def test_every_parameter_is_described(doc):
    for path, item in doc["paths"].items():
        op = item["get"]
        assert op["summary"] and op["operationId"] and "200" in op["responses"]
        for p in resolved_parameters(doc, op):
            assert p["name"] and p["in"] in ("query", "path") and p["description"] and "schema" in p, (path, p)


def test_limit_default_and_maximum_documented(doc):
    limit = [p for p in doc["paths"]["/collections/entities/items"]["get"]["parameters"] if p.get("name") == "limit"][0]
    assert limit["schema"] == {"type": "integer", "minimum": 1, "maximum": 10_000, "default": 100}
    assert "10000" in limit["description"] and "100" in limit["description"]


def test_queryables_documented(doc, geo_app):
    for cid, cdef in COLLECTIONS.items():
        names = {p["name"] for p in resolved_parameters(doc, doc["paths"][f"/collections/{cid}/items"]["get"])}
        props = props_of(served_data(geo_app), cdef)
        assert names == {"f", "limit", "offset", "bbox", "bbox-crs", "datetime", "crs", "filter", "filter-lang",
                         "filter-crs", *(q.name for q in cdef.params), *(q.name for q in props)}


def _example(p):
    s = p["schema"]
    if "enum" in s:
        return s["enum"][0]
    if s.get("type") == "array":
        return s["items"]["enum"][0] if "enum" in s["items"] else "20,50,21,51"
    if s.get("type") in ("integer", "number"):
        return str(s.get("default", 1))
    if s.get("type") == "boolean":
        return "1"
    return {"datetime": "2024-01-01T00:00:00Z", "q": "test", "filter": "name LIKE 'K%' OR employees > 5"}.get(
        p["name"], "2602" if "4}" in s.get("pattern", "") else "2602042")


def test_server_accepts_every_documented_parameter(geo_client):
    r = geo_client.get("/ogc/api")
    assert r.status_code == 200 and r.content_type.startswith("application/vnd.oai.openapi+json")
    doc = json.loads(r.data)
    for path, item in doc["paths"].items():
        op = item["get"]
        for p in resolved_parameters(doc, op):
            if p["in"] != "query":
                continue
            url = "/ogc" + path.replace("{featureId}", {"entities": "test-0001", "gminy": "2602042",
                                                        "powiaty": "2602"}.get(path.split("/")[2] if path.count("/") > 1 else "", "x"))
            url = url.rstrip("/") or "/ogc"
            resp = geo_client.get(url, query_string={p["name"]: _example(p)})
            assert resp.status_code == 200, (url, p["name"], _example(p), resp.data[:200])
