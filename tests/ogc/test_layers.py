"""geoes.publish.ogc.layers: collections, parameter parsing and the per-version feature cache."""
import numpy as np
import pytest
from werkzeug.datastructures import MultiDict

from geoes.publish.ogc.errors import OGCError
from geoes.publish.ogc.layers import COLLECTIONS, get_def, layer_data, matching_positions, parse_datetime, parse_items


def q(**kw):
    return MultiDict(kw)


def test_collections_defined():
    assert list(COLLECTIONS) == ["entities", "gminy", "powiaty"]
    with pytest.raises(OGCError) as exc:
        get_def("rzeki")
    assert exc.value.status == 404


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
    with pytest.raises(OGCError) as exc:
        parse_items(get_def(cid), q(**args))
    assert exc.value.status == 400


@pytest.mark.parametrize("value", ["2024-01-01", "2024-01-01T10:00:00Z", "2024-01-01T10:00:00+02:00",
                                   "2024-01-01T00:00:00Z/2024-12-31T00:00:00Z", "../2024-01-01", "2024-01-01/..",
                                   "2024-01-01/"])
def test_datetime_valid(value):
    assert parse_datetime(value) == value


@pytest.mark.parametrize("value", ["2024-13-01", "today", "../..", "/", "2024-01-01/2024-01-02/2024-01-03"])
def test_datetime_invalid(value):
    with pytest.raises(OGCError):
        parse_datetime(value)


def test_layer_data_cached_per_version(geo_app, geo_dataset):
    store = geo_app.extensions["geoes_store"]
    a = layer_data(store, "entities")
    assert layer_data(store, "entities") is a
    assert a.count == len(geo_dataset.entities) == len(a.features)
    assert a.index["test-0000"] == int(np.flatnonzero(geo_dataset.entities["id"] == "test-0000")[0])
    pos = matching_positions(a, "entities", parse_items(get_def("entities"), q(type="kgw")).filter)
    assert pos is matching_positions(a, "entities", parse_items(get_def("entities"), q(type="kgw")).filter)
    assert len(pos) == geo_dataset.entities["types"].str.split(";").map(lambda xs: "kgw" in xs).sum()
