"""geoes.publish.ogc.formats: the one map of formats and content negotiation."""
import pytest

from geoes.errors import InvalidInput
from geoes.publish.ogc.formats import FORMATS, negotiate, wants_features

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"


def test_formats_map():
    assert FORMATS["geojson"] == "application/geo+json"
    assert FORMATS["json"] == "application/json"
    assert FORMATS["html"].startswith("text/html")
    assert FORMATS["openapi"].startswith("application/vnd.oai.openapi+json")


@pytest.mark.parametrize("f,accept,expected", [
    (None, "", "json"),
    (None, "*/*", "json"),
    (None, BROWSER, "html"),
    (None, "application/json", "json"),
    (None, "application/geo+json, application/json;q=0.9", "json"),
    (None, "application/json, text/html", "json"),
    (None, "text/html;q=0.5, application/json;q=0.9", "json"),
    (None, "application/json;q=0.5, text/html", "html"),
    (None, "text/html;q=0", "json"),
    (None, "garbage;;q=x,", "json"),
    ("json", BROWSER, "json"),
    ("geojson", BROWSER, "json"),
    ("HTML", "application/json", "html"),
])
def test_negotiate(f, accept, expected):
    assert negotiate(f, accept) == expected


GDAL_GEOJSON_DRIVER = "text/plain, application/json"  # what GDAL 3.6 sends opening a plain http URL


@pytest.mark.parametrize("f,accept,expected", [
    (None, GDAL_GEOJSON_DRIVER, True),
    (None, "application/geo+json", True),
    (None, "application/geo+json, application/json;q=0.9", True),
    (None, "application/json;q=0.9, text/plain", True),
    (None, "application/json", False),     # GDAL's OAPIF driver, QGIS, OWSLib
    (None, "*/*", False),                  # curl, requests
    (None, "", False),
    (None, BROWSER, False),
    (None, "text/plain;q=0, application/json", False),
    ("json", GDAL_GEOJSON_DRIVER, False),  # f= always wins
])
def test_wants_features(f, accept, expected):
    assert wants_features(f, accept) is expected


@pytest.mark.parametrize("f", ["xml", "", "jsonx", "<script>"])
def test_unknown_f_is_400(f):
    with pytest.raises(InvalidInput) as exc:
        negotiate(f, "")
    assert exc.value.http_status == 400 and "f" in exc.value.description
