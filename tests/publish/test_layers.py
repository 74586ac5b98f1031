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


def test_features_are_made_as_responses_ask_for_them(app, built_settings):
    """One entity's item (a map popup) serialises that entity, not the layer; whatever order the rows are
    asked in, each feature is the bytes the whole layer serialised at once gives."""
    from geoes.publish import serialise
    from geoes.publish.layers import Features
    from geoes.web import create_app

    fresh = create_app({"TESTING": True, "WARM_UP": False, "GEOES_DATA_DIR": str(built_settings.data_dir)})
    served = served_data(fresh)
    ds = served.current()
    eid = ds.entities["id"].iloc[5]
    r = fresh.test_client().get(f"/ogc/collections/entities/items/{eid}?f=json")
    assert r.status_code == 200 and r.json["id"] == eid
    data = layer_data(served, "entities")
    assert isinstance(data.features, Features) and int(data.features._done.sum()) == 1
    whole = [f.encode("utf-8") for f in serialise.features_json(data.frame)]
    rng = np.random.default_rng(1)
    picks = rng.choice(len(whole), size=min(20, len(whole)), replace=False)
    assert data.features.take(picks) == [whole[i] for i in picks]
    assert data.features[-1] == whole[-1] and data.features[2:5] == whole[2:5]
    assert list(data.features) == whole and len(data.features) == len(whole)
    with pytest.raises(IndexError):
        data.features[len(whole)]
