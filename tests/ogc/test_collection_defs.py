"""geoes.publish.ogc.collection_defs: the collections and the parsing of an items request."""
import pytest
from werkzeug.datastructures import MultiDict

from geoes.errors import GeoesError
from geoes.publish.filters import parse_datetime
from geoes.publish.ogc.collection_defs import COLLECTIONS, get_def, parse_items


def q(**kw):
    return MultiDict(kw)


def test_collections_defined():
    assert list(COLLECTIONS) == ["entities", "gminy", "powiaty"]
    with pytest.raises(GeoesError) as exc:
        get_def("rzeki")
    assert exc.value.http_status == 404


def test_parse_items_defaults_and_clamp():
    cdef = get_def("entities")
    p = parse_items(cdef, q())
    assert (p.limit, p.offset, p.f) == (100, 0, None) and p.filter.is_empty()
    assert parse_items(cdef, q(limit="99999")).limit == 10_000
    assert parse_items(cdef, q(limit="50"), page_size=10, max_page_size=20).limit == 20


def test_parse_items_filters():
    cdef = get_def("entities")
    p = parse_items(cdef, MultiDict([("type", "cis"), ("type", "wtz,cis"), ("powiat_teryt", "2602"),
                                     ("status", "Active"), ("bbox", "20,50,21,51")]))
    assert p.filter.types == ("cis", "wtz") and p.filter.powiat == "2602"
    assert p.filter.properties == (("status", "active"),) and p.filter.bbox == (20, 50, 21, 51)
    g = parse_items(get_def("gminy"), q(type="3", powiat_teryt="2602"))
    assert g.filter.properties == (("type", "3"),) and g.filter.powiat == "2602"
    pw = parse_items(get_def("powiaty"), q(city_county="true"))
    assert pw.filter.properties == (("city_county", "True"),)


@pytest.mark.parametrize("cid,args", [
    ("entities", {"limit": "0"}), ("entities", {"offset": "-3"}), ("entities", {"bbox": "1,2,3,4,5"}),
    ("entities", {"type": "x"}), ("entities", {"teryt": "2602"}), ("gminy", {"status": "active"}),
    ("gminy", {"type": "7"}), ("gminy", {"teryt": "26"}), ("powiaty", {"city_county": "maybe"}),
    ("entities", {"q": "x" * 300}), ("entities", {"q": "a\x00b"}),
])
def test_parse_items_rejects(cid, args):
    with pytest.raises(GeoesError) as exc:
        parse_items(get_def(cid), q(**args))
    assert exc.value.http_status == 400


@pytest.mark.parametrize("value", ["2024-01-01", "2024-01-01T10:00:00Z", "2024-01-01T10:00:00+02:00",
                                   "2024-01-01T00:00:00Z/2024-12-31T00:00:00Z", "../2024-01-01", "2024-01-01/..",
                                   "2024-01-01/"])
def test_datetime_valid(value):
    assert parse_datetime(value) == value


@pytest.mark.parametrize("value", ["2024-13-01", "today", "../..", "/", "2024-01-01/2024-01-02/2024-01-03"])
def test_datetime_invalid(value):
    with pytest.raises(GeoesError):
        parse_datetime(value)
