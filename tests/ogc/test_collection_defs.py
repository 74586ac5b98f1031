"""geoes.publish.ogc.collection_defs: the collections, their queryables and the parsing of an items request."""
import pytest
from werkzeug.datastructures import MultiDict

from geoes.errors import GeoesError
from geoes.publish.filters import parse_datetime
from geoes.publish.layers import layer_data
from geoes.publish.ogc.collection_defs import COLLECTIONS, get_def, parse_items as parse_with, property_queryables
from geoes.web.served import served_data

PROPS = {}


@pytest.fixture(autouse=True, scope="module")
def _props(geo_app):
    for cid, cdef in COLLECTIONS.items():
        PROPS[cid] = property_queryables(cdef, layer_data(served_data(geo_app), cdef.layer).frame)


def parse_items(cdef, args, **kw):
    return parse_with(cdef, PROPS[cdef.id], args, **kw)


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
    # powiat_teryt is the property of that name (the powiat the site counts the entity in), not /api's powiat=
    assert p.filter.types == ("cis", "wtz") and p.filter.powiat is None
    assert dict(p.filter.properties) == {"powiat_teryt": "2602", "status": "active"}
    assert p.filter.bbox == (20, 50, 21, 51)
    p = parse_items(cdef, q(powiat_teryt_stated="2602", employees="5", gmina_mismatch="0"))
    assert dict(p.filter.properties) == {"powiat_teryt_stated": "2602", "employees": 5, "gmina_mismatch": False}
    g = parse_items(get_def("gminy"), q(type="3", powiat_teryt="2602"))
    assert dict(g.filter.properties) == {"powiat_teryt": "2602", "type": 3}
    for value, expected in (("true", True), ("1", True), ("FALSE", False), ("0", False)):
        pw = parse_items(get_def("powiaty"), q(city_county=value))
        assert pw.filter.properties == (("city_county", expected),)


def test_queryables_are_the_properties(geo_dataset):
    names = [qb.name for qb in PROPS["entities"]]
    assert {"gmina_teryt", "powiat_teryt", "gmina_teryt_stated", "powiat_teryt_stated", "gmina_teryt_computed",
            "powiat_teryt_computed", "krs", "employees", "status"} <= set(names)
    types = {qb.name: qb.json_type for qb in PROPS["entities"]}
    assert types["employees"] == "integer" and types["krs"] == "string" and types["gmina_mismatch"] == "boolean"
    assert {qb.name: qb.json_type for qb in PROPS["powiaty"]}["city_county"] == "boolean"
    assert all(qb.description for props in PROPS.values() for qb in props)


@pytest.mark.parametrize("cid,args", [
    ("entities", {"limit": "0"}), ("entities", {"offset": "-3"}), ("entities", {"bbox": "1,2,3,4,5"}),
    ("entities", {"type": "x"}), ("entities", {"teryt": "2602"}), ("gminy", {"status": "active"}),
    ("gminy", {"type": "7"}), ("gminy", {"teryt": "26"}), ("powiaty", {"city_county": "maybe"}),
    ("powiaty", {"city_county": "2"}), ("entities", {"employees": "many"}), ("entities", {"powiat_teryt": "26"}),
    ("entities", {"q": "x" * 300}), ("entities", {"q": "a\x00b"}), ("entities", {"crs": "EPSG:3857"}),
    ("entities", {"bbox-crs": "EPSG:9999", "bbox": "1,2,3,4"}), ("entities", {"filter": "status ="}),
    ("entities", {"filter": "nie_ma = 1"}), ("entities", {"filter": "status = 'x'", "filter-lang": "cql-json"}),
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
