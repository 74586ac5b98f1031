"""geoes.publish.unitmap: the map's unit layers, framework-free (the web's view=map is tested in
tests/web/test_mapconfig.py)."""
import math

import pytest

from geoes.common.polish import MISSING
from geoes.publish import serialise
from geoes.publish.classes import ZERO_COLOR
from geoes.publish.unitmap import UNIT_MAP_PROPERTIES, need_year, unit_map_frame
from geoes.web.served import served_data


@pytest.fixture()
def ds(app):
    return served_data(app).current()


def test_properties_and_rows_of_each_level(ds):
    year = need_year(ds.summary)
    assert year == str(ds.summary["method"]["needs"]["year"]) and year
    for layer, frame in (("powiaty", ds.powiaty), ("gminy", ds.gminy)):
        out = unit_map_frame(layer, serialise.published(frame.reset_index(drop=True)), year)
        assert [c for c in out.columns if c != out.geometry.name] == list(UNIT_MAP_PROPERTIES[layer])
        assert out["teryt"].tolist() == frame["teryt"].tolist() and len(out) == len(frame)
    powiaty = unit_map_frame("powiaty", ds.powiaty, year).set_index("teryt")
    assert powiaty.loc["2661", "label"] == "Kielce (miasto na prawach powiatu)"
    assert powiaty.loc["2602", "label"] == "powiat jędrzejowski"


def test_a_unit_without_figures_has_no_colour_and_dashes(ds):
    gminy = ds.gminy.copy()
    gminy["unemployed"] = math.nan
    gminy["unemployed_per_10k"] = math.nan
    out = unit_map_frame("gminy", gminy, "")
    assert set(out["need_color"]) == {ZERO_COLOR}
    assert set(out["unemployed"]) == {MISSING} and set(out["unemployed_per_10k"]) == {MISSING}
    # The supply colours do not depend on the need figures; white spots are the gminy without an entity.
    assert out["color"].tolist() == unit_map_frame("gminy", ds.gminy, "")["color"].tolist()
    assert out["white_spot"].tolist() == (ds.gminy["entities"] == 0).tolist() and out["white_spot"].any()
    features = serialise.features_json(out.head(1))
    assert '"white_spot":' in features[0] and '"need_year":""' in features[0]


def test_unknown_layer_is_refused(ds):
    with pytest.raises(ValueError):
        unit_map_frame("entities", ds.entities, "2024")
