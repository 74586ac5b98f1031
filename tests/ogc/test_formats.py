"""geoes.publish.ogc.formats: the one map of formats and content negotiation."""
import pytest

from geoes.errors import InvalidInput
from geoes.publish.ogc.formats import FORMATS, negotiate

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


@pytest.mark.parametrize("f", ["xml", "", "jsonx", "<script>"])
def test_unknown_f_is_400(f):
    with pytest.raises(InvalidInput) as exc:
        negotiate(f, "")
    assert exc.value.http_status == 400 and "f" in exc.value.description
