"""The spatial join against small hand-made polygons with known answers."""
import geopandas as gpd
import pandas as pd
from shapely.geometry import Polygon

from geoes.dataset.join import JOINED_COLUMNS, entities_to_points, join_gminy, join_gminy_sjoin


def _gminy():
    # Two unit squares side by side (lon 20..21 and 21..22, lat 50..51) and one farther away.
    return gpd.GeoDataFrame({
        "teryt": ["2601011", "2601022", "2602013"],
        "name": ["A", "B", "C"],
        "powiat_teryt": ["2601", "2601", "2602"],
        "powiat_name": ["p1", "p1", "p2"],
    }, geometry=[Polygon([(20, 50), (21, 50), (21, 51), (20, 51)]),
                 Polygon([(21, 50), (22, 50), (22, 51), (21, 51)]),
                 Polygon([(23, 50), (24, 50), (24, 51), (23, 51)])], crs="EPSG:4326")


def _entities(rows):
    frame = pd.DataFrame(rows, columns=["id", "lat", "lon", "gmina_teryt"])
    return entities_to_points(frame)


def test_points_land_in_the_right_gmina_and_powiat():
    joined = join_gminy(_entities([
        ["in-a", 50.5, 20.5, ""], ["in-b", 50.5, 21.5, "2601022"], ["in-c", 50.2, 23.9, ""],
        ["border", 50.5, 21.0, ""], ["nowhere", 50.5, 22.5, ""], ["unplaced", None, None, "2601011"],
    ]), _gminy()).set_index("id")
    assert joined.loc["in-a", "gmina_teryt_computed"] == "2601011"
    assert joined.loc["in-b", "powiat_teryt_computed"] == "2601"
    assert joined.loc["in-c", "powiat_teryt_computed"] == "2602"
    # A point on a shared border is counted once, in the lower code.
    assert joined.loc["border", "gmina_teryt_computed"] == "2601011"
    assert len(joined) == 6
    assert joined.loc["nowhere", "outside_region"]
    assert joined.loc["unplaced", "gmina_teryt_computed"] == "" and not joined.loc["unplaced", "placed"]


def test_stated_gmina_differing_from_the_point_is_flagged():
    joined = join_gminy(_entities([["x", 50.5, 20.5, "2601022"], ["y", 50.5, 20.5, "2601011"]]), _gminy())
    assert list(joined["gmina_mismatch"]) == [True, False]


def test_sjoin_baseline_gives_the_same_answers():
    # The benchmarks measure the point-in-polygon join against this one; they must agree, border rule included.
    points = _entities([
        ["in-a", 50.5, 20.5, ""], ["in-b", 50.5, 21.5, "2601022"], ["border", 50.5, 21.0, ""],
        ["corner", 51.0, 21.0, "2601022"], ["nowhere", 50.5, 22.5, ""], ["unplaced", None, None, "2601011"],
    ])
    ours, baseline = join_gminy(points, _gminy()), join_gminy_sjoin(points, _gminy())
    columns = [*JOINED_COLUMNS, "gmina_mismatch", "outside_region"]
    pd.testing.assert_frame_equal(pd.DataFrame(ours[columns]), pd.DataFrame(baseline[columns]))
    assert baseline.set_index("id").loc["corner", "gmina_teryt_computed"] == "2601011"
