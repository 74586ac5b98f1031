"""Indicators for powiat jędrzejowski (2602) against values worked out by hand from the mirror files.

The expected figures below are computed here with the csv module straight from ../shared/data, not with
geoes, so a mistake in the pipeline (population, area, coverage, ranks, ratios) shows up as a mismatch.
"""
import csv
import json

import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer

from geoes.common.polish import today_in_poland
from geoes.dataset.build import compute_all

CSV_HEADER = "id,name,types,lat,lon,employees,status,location_precision\n"


def _mirror_rows(mirror_dir, name):
    with open(mirror_dir / name, encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def scenario(tmp_path_factory, fetched_settings, mirror_dir):
    from tests.conftest import clone_settings

    points = {r["teryt"]: (float(r["lat_punkt_wewn"]), float(r["lon_punkt_wewn"]))
              for r in _mirror_rows(mirror_dir, "gazetteer/gminy_punkty_26.csv")}
    rows = [
        ("j1", "wtz", points["2602023"], "10", "active"),
        ("j2", "spoldzielnia_socjalna;kis", points["2602023"], "20", "unknown"),
        ("j3", "cis", points["2602023"], "", "active"),
        ("s1", "zaz", points["2602063"], "", "active"),
        ("x1", "wtz", points["2602093"], "7", "inactive"),   # does not count
        ("k1", "ngo", points["2661011"], "4", "active"),
    ]
    settings = clone_settings(fetched_settings, tmp_path_factory.mktemp("ind"))
    body = "".join(f"{i},Podmiot {i},{t},{lat},{lon},{e},{s},gmina\n" for i, t, (lat, lon), e, s in rows)
    body += "u1,Podmiot u1,ngo,,,3,unknown,none\n"      # in the register, no location: the voivodeship only
    path = settings.data_dir / "scenario.csv"
    path.write_text(CSV_HEADER + body, encoding="utf-8")
    joined, ind, rejects, extra = compute_all(settings, path)
    assert rejects.empty
    return ind, points, rows


def test_powiat_jedrzejowski_by_hand(scenario, mirror_dir):
    ind, _, _ = scenario
    powiat = {r["teryt"]: r for r in _mirror_rows(mirror_dir, "population/powiaty_26_ludnosc_powierzchnia.csv")}
    gminy = [r for r in _mirror_rows(mirror_dir, "population/gminy_26_ludnosc_powierzchnia.csv")]
    pop = int(powiat["2602"]["ludnosc_2024_approx"])
    area = float(powiat["2602"]["pow_km2_2025"])
    pop_gminy_2602 = sum(int(r["ludnosc_2024_approx"]) for r in gminy if r["powiat_teryt"] == "2602")
    covered = sum(int(r["ludnosc_2024_approx"]) for r in gminy if r["teryt"] in ("2602023", "2602063"))
    voiv_pop = sum(int(r["ludnosc_2024_approx"]) for r in gminy)

    p = ind.powiaty.set_index("teryt").loc["2602"]
    assert p["population"] == pop == 80370
    assert p["entities"] == 4
    assert p["entities_wtz"] == 1 and p["entities_kis"] == 1 and p["entities_zaz"] == 1
    assert p["entities_per_10k"] == pytest.approx(4 / pop * 10_000, abs=1e-3)
    assert p["entities_per_100km2"] == pytest.approx(4 / area * 100, abs=1e-3)
    assert p["employees"] == 30
    assert p["employees_known_pct"] == pytest.approx(50.0)
    assert p["employees_per_10k"] == pytest.approx(30 / pop * 10_000, abs=1e-3)
    assert (p["gminy_with_entity"], p["gminy_total"]) == (2, 9)
    assert p["gmina_coverage_pct"] == pytest.approx(round(2 / 9 * 100, 1))
    assert p["population_coverage_pct"] == pytest.approx(round(covered / pop_gminy_2602 * 100, 1))

    # The status split of the same entities: confirmed active, unknown, and the closed one left out of `entities`.
    assert (p["entities_status_active"], p["entities_status_unknown"], p["entities_status_inactive"]) == (3, 1, 1)
    assert p["entities_with_point"] == 4

    v = ind.voivodeship
    # The voivodeship counts every entity of its register, also the one with no location (in no powiat).
    assert v["entities"] == 6 and v["population"] == voiv_pop
    assert (v["entities_with_point"], v["entities_without_location"], v["entities_without_gmina"]) == (5, 1, 0)
    assert v["entities"] == sum(ind.powiaty["entities"]) + v["entities_without_location"]
    assert v["entities_ngo"] == 2 and v["employees"] == 30 + 4 + 3
    assert (v["entities_status_active"], v["entities_status_unknown"], v["entities_status_inactive"]) == (4, 2, 1)
    assert p["ratio_entities_per_10k"] == pytest.approx((4 / pop) / (6 / voiv_pop), abs=2e-3)
    # Only two powiaty have an entity: a rank among fewer than three units says nothing, so none is given,
    # and the twelve empty powiaty are not ranked on a zero (no "3 z 14" for an empty county).
    frame = ind.powiaty.set_index("teryt")
    assert frame["rank_entities"].isna().all()
    assert json.loads(frame.loc["2602", "suppressed"])["rank_entities"] == "few_units"
    assert json.loads(frame.loc["2601", "suppressed"])["rank_entities"] == "no_entity"
    assert pd.isna(frame.loc["2601", "ratio_entities_per_10k"])
    # White spots: every gmina but the three with an active entity.
    assert len(ind.white_spots) == 99
    assert "2602093" in set(ind.white_spots["teryt"])  # its only entity is inactive


def test_access_10km_agrees_with_a_sampled_estimate(scenario):
    """Monte Carlo in EPSG:2180: share of random points in 2602 within 10 km of an active entity."""
    ind, points, rows = scenario
    powiat = ind.powiaty.set_index("teryt").loc[["2602"]].geometry.to_crs(2180).iloc[0]
    rng = np.random.default_rng(26)
    minx, miny, maxx, maxy = powiat.bounds
    xs, ys = rng.uniform(minx, maxx, 60_000), rng.uniform(miny, maxy, 60_000)
    import shapely

    inside = shapely.contains_xy(powiat, xs, ys)
    xs, ys = xs[inside], ys[inside]
    t = Transformer.from_crs(4326, 2180, always_xy=True)
    active = [(lon, lat) for _, _, (lat, lon), _, s in rows if s != "inactive"]
    ex, ey = t.transform([a[0] for a in active], [a[1] for a in active])
    d = np.min(np.hypot(xs[:, None] - np.array(ex)[None, :], ys[:, None] - np.array(ey)[None, :]), axis=1)
    expected = (d <= 10_000).mean() * 100
    got = ind.powiaty.set_index("teryt").loc["2602", "access_10km_pct"]
    assert got == pytest.approx(expected, abs=1.0)
    assert 0 < got < 100


def test_grid_access_matches_exact(monkeypatch, scenario):
    """The grid method used for very many points gives the exact method's answer within 0.5 pp."""
    import geoes.dataset.indicators as indicators

    ind, _, _ = scenario
    gminy = ind.gminy
    pts = gminy.to_crs(2180).representative_point()
    xy = np.column_stack([pts.x, pts.y])[:20]
    exact, m1 = indicators.access_fraction(xy, gminy.geometry.to_crs(2180))
    monkeypatch.setattr(indicators, "EXACT_ACCESS_MAX_POINTS", 0)
    grid, m2 = indicators.access_fraction(xy, gminy.geometry.to_crs(2180))
    assert m1 == "exact" and m2.startswith("grid")
    assert np.abs(exact - grid).max() < 0.01


def test_completeness_against_official_counts(built_settings):

    from geoes.dataset.reader import load_current

    summary = load_current(built_settings).summary
    by_type = {r["type"]: r for r in summary["completeness"]}
    assert by_type["wtz"]["in_file"] == 23 and by_type["wtz"]["official"] == 26
    assert by_type["zaz"]["official"] == 11 and by_type["zaz"]["official_as_of"] == "2026"
    assert by_type["kgw"]["official"] is None


def test_entities_verified_in_the_last_24_months(fetched_settings, mirror_dir, tmp_path):
    """Counted like `entities` (active, in the unit), by the build date; the share only from 5 verifications."""
    import datetime as dt

    from geoes.dataset.indicators import verified_since
    from tests.conftest import clone_settings

    today = today_in_poland()
    since = dt.date.fromisoformat(verified_since(today))
    assert verified_since(dt.date(2028, 2, 29)) == "2026-02-28" and verified_since(dt.date(2026, 1, 15)) == "2024-01-15"
    points = {r["teryt"]: (float(r["lat_punkt_wewn"]), float(r["lon_punkt_wewn"]))
              for r in _mirror_rows(mirror_dir, "gazetteer/gminy_punkty_26.csv")}
    day = dt.timedelta(days=1)
    rows = [  # (id, gmina, status, verified_at) — test entities placed at gmina points
        ("a1", "2602023", "active", today), ("a2", "2602023", "active", since), ("a3", "2602023", "unknown", today),
        ("a4", "2602063", "active", today - 30 * day), ("a5", "2602063", "active", since + day),
        ("a6", "2602063", "active", since - day),      # verified 24 months and a day ago: not counted
        ("a7", "2602093", "active", None), ("a8", "2602093", "inactive", today),   # inactive: not an entity here
    ]
    settings = clone_settings(fetched_settings, tmp_path)
    head = "id,name,types,lat,lon,status,location_precision,verified_at,verified_source\n"
    body = "".join(f"{i},Podmiot {i},ngo,{points[g][0]},{points[g][1]},{s},gmina,{v.isoformat() if v else ''},"
                   f"{'KRS' if v else ''}\n" for i, g, s, v in rows)
    # A public report is no verification: a record a report once "verified" counts as not verified.
    body += f"a9,Podmiot a9,ngo,{points['2602093'][0]},{points['2602093'][1]},unknown,gmina,{today.isoformat()},zgłoszenie\n"
    path = settings.data_dir / "verified.csv"
    path.write_text(head + body, encoding="utf-8")
    _joined, ind, rejects, _extra = compute_all(settings, path)
    assert rejects.empty
    p = ind.powiaty.set_index("teryt").loc["2602"]
    assert (p["entities"], p["verified_24m"], p["verified_24m_pct"]) == (8, 5, 62.5)
    g = ind.gminy.set_index("teryt")
    assert [g.at[t, "verified_24m"] for t in ("2602023", "2602063", "2602093")] == [3, 2, 0]
    assert g["verified_24m_pct"].isna().all()                    # no gmina has 5 verified entities
    assert json.loads(g.at["2602023", "suppressed"])["verified_24m_pct"] == "few_verified"
    assert (ind.voivodeship["verified_24m"], ind.voivodeship["verified_24m_pct"]) == (5, 62.5)
    assert ind.method["verified"]["since"] == since.isoformat()
