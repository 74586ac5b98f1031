"""One JSON error shape {"code", "description"} on /api, /ogc, pages asked for JSON and /healthz, and the
Polish HTML error page for everyone else (geoes.web.errors)."""
from __future__ import annotations

import json

import pytest

JSON = {"Accept": "application/json"}

ERRORS = [
    # (url, headers, status)
    ("/api/entities.geojson?powiat=26", {}, 400),
    ("/api/nie-ma-takiego", {}, 404),
    ("/api/entities.geojson?powait=2602", {}, 400),
    ("/ogc/collections/entities/items?limit=0", {}, 400),
    ("/ogc/collections/rzeki", {}, 404),
    ("/ogc/nie-ma-takiego", {}, 404),
    ("/entities?sort=zly", JSON, 400),
    ("/powiaty/9999", JSON, 404),
    ("/nie-ma-takiej-strony", JSON, 404),
    ("/entities?q=%FF", JSON, 400),
    ("/api/entities.geojson?q=%FF", {}, 400),
]


def assert_error_shape(r, status: int) -> dict:
    assert r.status_code == status, (r.status_code, r.data[:300])
    assert r.content_type.startswith("application/json"), r.content_type
    doc = json.loads(r.data)
    assert set(doc) == {"code", "description"}, doc
    assert doc["code"] and doc["description"]
    return doc


@pytest.mark.parametrize("url,headers,status", ERRORS)
def test_one_json_error_shape(client, url, headers, status):
    doc = assert_error_shape(client.get(url, headers=headers), status)
    assert doc["code"] == {400: "InvalidParameterValue", 404: "NotFound"}[status]


def test_page_errors_say_the_same_in_json_and_html(client):
    doc = assert_error_shape(client.get("/entities?sort=zly", headers=JSON), 400)
    assert doc["description"].startswith("sort: ")
    page = client.get("/entities?sort=zly", headers={"Accept": "text/html"})
    assert page.status_code == 400 and '<html lang="pl">' in page.get_data(as_text=True)
    assert "Błędny parametr" in page.get_data(as_text=True)


def test_write_methods_keep_the_shape_and_allow(client):
    for url in ("/api/entities.geojson", "/ogc/collections", "/healthz"):
        r = client.post(url)
        doc = assert_error_shape(r, 405)
        assert doc["code"] == "MethodNotAllowed" and "GET" in r.headers["Allow"], url


def test_healthz_without_a_dataset(tmp_path):
    from geoes.web import create_app

    app = create_app({"TESTING": True, "GEOES_DATA_DIR": str(tmp_path), "GEOES_REGION": "26"})
    c = app.test_client()
    doc = assert_error_shape(c.get("/healthz"), 503)
    assert doc["code"] == "ServiceUnavailable"
    assert_error_shape(c.get("/api/entities.geojson"), 503)
    assert_error_shape(c.get("/ogc/collections"), 503)
    assert_error_shape(c.get("/powiaty/2602", headers=JSON), 503)
    page = c.get("/powiaty/2602")
    assert page.status_code == 503 and "Brak danych" in page.get_data(as_text=True)
