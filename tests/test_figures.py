"""The small-number rules (geoes.dataset.figures) on frames made for the purpose, and as the build, the CLI
and the API apply them to the real register (powiat jędrzejowski, 2602)."""
import json
import re

import numpy as np
import pandas as pd
import pytest

from geoes.dataset import figures


def units(entities, per_10k, employees_known_pct=None, employees_per_10k=None):
    n = len(entities)
    return pd.DataFrame({
        "teryt": [f"26{i:02d}" for i in range(1, n + 1)], "entities": entities,
        "entities_per_10k": per_10k,
        "employees_known_pct": employees_known_pct if employees_known_pct is not None else [np.nan] * n,
        "employees_per_10k": employees_per_10k if employees_per_10k is not None else [np.nan] * n,
    })


def why(frame, i, field):
    return json.loads(frame["suppressed"].iloc[i] or "{}").get(field)


def test_ties_share_a_rank_shown_as_a_range():
    f = figures.apply_rules(units([3, 5, 5, 5, 1, 2], [1.0, 3.0, 3.0, 3.0, 0.5, 2.0]),
                            {"entities_per_10k": 2.0}, ["entities_per_10k"])
    recs = f.to_dict("records")
    assert [(r["rank_entities_per_10k"], r["rank_entities_per_10k_max"]) for r in recs] == \
        [(5, 5), (1, 3), (1, 3), (1, 3), (6, 6), (4, 4)]
    assert figures.rank_text(recs[1], "entities_per_10k", 6) == "1–3 z 6"
    assert figures.rank_data(recs[1], "entities_per_10k") == "1-3"
    assert figures.rank_text(recs[0], "entities_per_10k", 6) == "5 z 6"


def test_units_without_an_entity_get_no_rank_and_no_relation():
    f = figures.apply_rules(units([0, 4, 2, 1, 0], [0.0, 2.0, 1.0, 0.5, 0.0]), {"entities_per_10k": 1.0},
                            ["entities_per_10k"])
    assert f["rank_entities_per_10k"].isna().tolist() == [True, False, False, False, True]
    # ranks among the units that have the value: 1, 2, 3 of 3 — never "24 z 102" for an empty gmina
    assert f["rank_entities_per_10k"].dropna().tolist() == [1, 2, 3]
    assert figures.ranked_count(f, "entities_per_10k") == 3
    assert why(f, 0, "rank_entities_per_10k") == "no_entity"
    assert why(f, 0, "ratio_entities_per_10k") == "no_entity"
    assert np.isnan(f["ratio_entities_per_10k"].iloc[0])
    assert f["entities_per_10k"].iloc[0] == 0.0  # the count of the register itself stands
    rec = f.iloc[0].to_dict()
    assert figures.rank_text(rec, "entities_per_10k", 3) == "brak podmiotu w rejestrze"


def test_no_relation_to_a_zero_or_unknown_voivodeship_value():
    zero = figures.apply_rules(units([1, 2, 3], [1.0, 2.0, 3.0]), {"entities_per_10k": 0.0}, ["entities_per_10k"])
    assert zero["ratio_entities_per_10k"].isna().all()
    assert {why(zero, i, "ratio_entities_per_10k") for i in range(3)} == {"zero_base"}
    unknown = figures.apply_rules(units([1, 2, 3], [1.0, 2.0, 3.0]), {"entities_per_10k": None},
                                  ["entities_per_10k"])
    assert {why(unknown, i, "ratio_entities_per_10k") for i in range(3)} == {"unknown_base"}
    # the ranks do not depend on the base
    assert unknown["rank_entities_per_10k"].tolist() == [3, 2, 1]


def test_employment_figures_need_known_headcounts_for_half_the_entities():
    f = figures.apply_rules(
        units([4, 2, 3, 5, 1], [1.0] * 5, employees_known_pct=[50.0, 100.0, 33.3, 80.0, 0.0],
              employees_per_10k=[10.0, 20.0, 99.0, 5.0, 0.0]),
        {"employees_per_10k": 8.0}, ["employees_per_10k"])
    assert f["employees_per_10k"].isna().tolist() == [False, False, True, False, True]
    assert why(f, 2, "employees_per_10k") == "few_employees_known"
    assert why(f, 2, "rank_employees_per_10k") == "few_employees_known"
    assert f["rank_employees_per_10k"].tolist()[:2] == [2, 1]
    assert f["ratio_employees_per_10k"].iloc[1] == pytest.approx(2.5)
    assert figures.short_reason(f.iloc[2].to_dict(), "employees_per_10k") == "za mało danych"
    assert "50" in figures.reason(f.iloc[2].to_dict(), "employees_per_10k")


def test_no_rank_among_fewer_than_three_units_with_the_value():
    f = figures.apply_rules(units([1, 2, 0, 0], [1.0, 2.0, 0.0, 0.0]), {"entities_per_10k": 1.0},
                            ["entities_per_10k"])
    assert f["rank_entities_per_10k"].isna().all()
    assert why(f, 0, "rank_entities_per_10k") == "few_units"
    assert f["ratio_entities_per_10k"].iloc[1] == pytest.approx(2.0)  # the relation still stands


def test_official_figures_rank_every_unit_that_has_them_and_unknown_years_stay_empty():
    frame = pd.DataFrame({"teryt": ["a", "b", "c", "d"], "entities": [0, 0, 1, 0],
                          "unemployed_per_10k": [100.0, np.nan, 300.0, 300.0]})
    f = figures.apply_rules(frame, {"unemployed_per_10k": 200.0}, ["unemployed_per_10k"])
    assert f["rank_unemployed_per_10k"].tolist()[0] == 3  # no entity needed for a figure of GUS
    assert pd.isna(f["rank_unemployed_per_10k"].iloc[1]) and why(f, 1, "unemployed_per_10k") == "unknown_value"
    assert (f["rank_unemployed_per_10k"].iloc[2], f["rank_unemployed_per_10k_max"].iloc[2]) == (1, 2)


def test_the_voivodeship_loses_employment_figures_on_too_few_known_headcounts():
    v = figures.reference_rules({"employees_known_pct": 2.3, "employees": 30, "employees_per_10k": 0.3,
                                 "entities_per_10k": 0.38})
    assert v["employees"] is None and v["employees_per_10k"] is None and v["entities_per_10k"] == 0.38
    assert v["suppressed"] == {"employees": "few_employees_known", "employees_per_10k": "few_employees_known"}


# ---------------------------------------------------------------- the real register, powiat 2602

def test_stats_json_carries_null_with_the_reason(runner):
    result = runner.invoke("stats", "--powiat", "2602", "--format", "json")
    assert result.exit_code == 0, result.output
    rec = json.loads(result.output)[0]
    # headcounts are known for none of the county's entities: no employment figure, rank or relation
    for field in ("employees_per_10k", "rank_employees_per_10k", "ratio_employees_per_10k"):
        assert rec[field] is None
        assert "za mało danych" in rec["suppressed"][field]
    assert isinstance(rec["rank_entities"], int) and rec["rank_entities"] <= rec["rank_entities_max"]
    assert isinstance(rec["entities_per_10k"], float)
    # ties share a rank: powiaty with the same number of entities have one range of places
    every = json.loads(runner.invoke("stats", "--format", "json").output)
    tied = [r for r in every if r["rank_entities"] is not None and r["rank_entities"] < r["rank_entities_max"]]
    assert tied, "the real register has powiaty with equal counts"
    for r in tied:
        same = [o for o in every if o["entities"] == r["entities"]]
        assert len(same) == r["rank_entities_max"] - r["rank_entities"] + 1, r["teryt"]


def test_stats_table_shows_ties_and_reasons(runner):
    result = runner.invoke("stats", "--powiat", "2602")
    assert result.exit_code == 0, result.output
    line = next(x for x in result.output.splitlines() if x.strip().startswith("Podmioty w rejestrze "))
    assert line.rstrip().split("miejsce ")[1].startswith("8 z 13 powiatów z wartością"), line   # the base stated
    employees = next(x for x in result.output.splitlines() if "Zatrudnieni (znani) na 10 tys." in x)
    assert "za mało danych" in employees and "miejsce" not in employees


def test_no_rank_for_a_powiat_without_an_entity_in_the_api(client):
    body = client.get("/api/indicators?level=powiat").get_json()
    items = {i["teryt"]: i for i in body["items"]}
    empty = [i for i in items.values() if i["entities"] == 0]
    assert empty, "the register leaves some powiat without an entity"
    for rec in empty:
        assert rec["rank_entities_per_10k"] is None and rec["ratio_entities_per_10k"] is None
        assert rec["suppressed"]["rank_entities_per_10k"] == "brak podmiotu w rejestrze"
    ranked = [i["rank_entities_per_10k"] for i in items.values() if i["rank_entities_per_10k"] is not None]
    assert max(ranked) <= len(ranked)


def test_the_share_of_verified_entities_needs_enough_verifications():
    frame = pd.DataFrame({"teryt": ["2601", "2602", "2603"], "entities": [10, 10, 0], "verified_24m": [6, 4, 0],
                          "verified_24m_pct": [60.0, 40.0, np.nan]})
    f = figures.apply_rules(frame, {}, [])
    assert f["verified_24m_pct"].iloc[0] == 60.0 and f["verified_24m"].tolist() == [6, 4, 0]
    assert np.isnan(f["verified_24m_pct"].iloc[1]) and why(f, 1, "verified_24m_pct") == "few_verified"
    assert why(f, 2, "verified_24m_pct") == "no_entity"
    assert figures.short_reason(f.iloc[1].to_dict(), "verified_24m_pct") == "za mało danych"
    v = figures.reference_rules({"entities": 20, "verified_24m": 4, "verified_24m_pct": 20.0})
    assert v["verified_24m_pct"] is None and v["suppressed"] == {"verified_24m_pct": "few_verified"}


def test_nobody_verified_yet_gives_0_and_too_few_for_the_share(runner, client):
    """Every entity of the real register is unverified today: the honest figures are 0 and "za mało danych"."""
    too_few = "za mało danych: mniej niż 5 podmiotów zweryfikowanych w ostatnich 24 miesiącach"
    rec = json.loads(runner.invoke("stats", "--powiat", "2602", "--format", "json").output)[0]
    assert rec["entities"] > 0 and rec["verified_24m"] == 0
    assert rec["verified_24m_pct"] is None and rec["suppressed"]["verified_24m_pct"] == too_few
    body = client.get("/api/indicators?level=gmina").get_json()
    assert all(i["verified_24m"] == 0 and i["verified_24m_pct"] is None for i in body["items"])
    assert body["voivodeship"]["verified_24m"] == 0 and body["voivodeship"]["verified_24m_pct"] is None
    assert body["voivodeship"]["suppressed"]["verified_24m_pct"] == too_few
    assert body["method"]["verified"]["months"] == 24
    page = re.sub(r"<[^>]+>", "", client.get("/powiaty/2602").get_data(as_text=True))
    assert (f"Podmioty zweryfikowane w ostatnich 24 miesiącach: 0 (wszystkie w rejestrze: {rec['entities']}); "
            f"udział zweryfikowanych: {too_few}.") in page
