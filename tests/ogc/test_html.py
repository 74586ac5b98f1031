"""geoes.publish.ogc.html: autoescaped templates, http(s)-only links, Polish number display."""
from geoes.publish.escape import safe_url
from geoes.publish.ogc.html import render
from geoes.publish.templating import show


def test_safe_url_only_http():
    assert safe_url("https://example.org/a?b=1") == "https://example.org/a?b=1"
    assert safe_url("http://example.org") == "http://example.org"
    for bad in ("javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html,x", "//example.org", "ftp://x",
                "https://user:pw@example.org", "", None, 5, "http://"):
        assert safe_url(bad) is None, bad


def test_show():
    assert show(None) == "–"  # the one missing-value mark (geoes.common.polish.MISSING)
    assert show(True) == "tak"
    assert show(1234.5) == "1\u00a0234,5"
    assert show(50.123456) == "50,123456"
    assert show(float("nan")) == "–"
    assert show("x") == "x"


def test_templates_escape_and_declare_polish():
    hostile = '<script>alert("x")</script>'
    page = render("item.html", title=hostile, root="http://h/ogc", site_root="http://h", crumbs=[(hostile, None)],
                  json_url="http://h/x?f=json", json_type="application/geo+json",
                  properties=[("name", hostile), ("website", "javascript:alert(1)"),
                              ("sources", "https://ok.example/ | javascript:bad()")],
                  link_keys=("website", "sources"), geometry_text="brak").decode()
    assert '<html lang="pl">' in page
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert 'href="javascript' not in page
    assert '<a class="url" href="https://ok.example/"' in page
