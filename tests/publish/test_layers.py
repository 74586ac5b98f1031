"""geoes.publish.layers: each layer serialised once per dataset version, filtered positions cached."""
import numpy as np
import pytest
from werkzeug.datastructures import MultiDict

from geoes.publish.filters import parse_filter
from geoes.publish.layers import LAYERS, layer_data, map_features, matching_positions
from geoes.web.served import served_data


@pytest.fixture()
def served(app):
    return served_data(app)


def test_layer_data_cached_per_version(served):
    ds = served.current()
    a = layer_data(served, "entities")
    assert layer_data(served, "entities") is a
    assert a.count == len(ds.entities) == len(a.features)
    first = ds.entities["id"].iloc[0]
    assert a.index[first] == int(np.flatnonzero(ds.entities["id"] == first)[0])
    flt = parse_filter(MultiDict([("type", "wtz")]), ds)
    pos = matching_positions(served, a, flt)
    assert pos is matching_positions(served, a, parse_filter(MultiDict([("type", "wtz")]), ds))
    assert len(pos) == ds.entities["types"].str.split(";").map(lambda xs: "wtz" in xs).sum() > 0


def test_unit_layers_are_indexed_by_teryt(served):
    for name in LAYERS[1:]:
        data = layer_data(served, name)
        assert data.index["2602" if name == "powiaty" else "2602023"] >= 0
        assert len(data.extent) == 4 and data.extent[0] < data.extent[2]
    with pytest.raises(ValueError):
        layer_data(served, "rzeki")


def test_map_features_are_slim(served):
    data = layer_data(served, "entities")
    slim = map_features(served, data)
    assert slim is map_features(served, data) and len(slim) == data.count
    assert all(b'"description"' not in f for f in slim)
