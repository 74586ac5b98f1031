"""Duplicate warnings against the project's real register (the candidates are test inputs, not facts)."""
from __future__ import annotations

import re

import pandas as pd
import pytest

from geoes.config import REPO_DIR
from geoes.register.duplicates import DuplicateIndex, distinctive, kind


@pytest.fixture(scope="module")
def index() -> DuplicateIndex:
    return DuplicateIndex(pd.read_csv(REPO_DIR / "data" / "entities.csv", dtype=str, keep_default_na=False))


def codes(warnings):
    return [(w["code"], w["other_id"]) for w in warnings]


@pytest.mark.parametrize("name, locality, expected", [
    ("Spółdzielnia Socjalna ARES w Kielcach", "Kielce", [("similar_name", "swk-033")]),
    ("Ares", "Kielce", [("similar_name", "swk-033")]),
    ("WTZ w Jędrzejowie", "Jędrzejów", [("similar_name", "swk-015")]),
    ("Spółdzielnia Socjalna „Arka”", "Kielce", []),            # 92 % alike as whole names, yet another one
    ("Zakład Aktywności Zawodowej w Jędrzejowie", "Jędrzejów", []),   # a ZAZ is not the WTZ
    ("Spółdzielnia Socjalna „Ares”", "Sandomierz", []),         # another place
])
def test_similar_names_in_the_same_place(index, name, locality, expected):
    assert codes(index.warnings({"name": name, "locality": locality})) == expected


def test_same_identifiers_and_the_entity_itself(index):
    caritas = {"name": "Caritas Diecezji Kieleckiej", "locality": "Kielce", "krs": "198087", "nip": "657-038-94-52"}
    assert ("duplicate_krs", "swk-044") in codes(index.warnings(caritas))
    assert ("duplicate_nip", "swk-044") in codes(index.warnings(caritas))
    assert not [w for w in index.warnings(caritas, exclude_id="swk-044") if w["other_id"] == "swk-044"]


def test_distinctive_words_and_kind():
    assert distinctive("Spółdzielnia Socjalna „ARES” w Kielcach", "Kielce") == ("ares",)
    assert distinctive("Warsztat Terapii Zajęciowej w Jędrzejowie", "Jędrzejów") == ()
    assert kind("Warsztat Terapii Zajęciowej w Busku-Zdroju") == "wtz" and kind("ZAZ w Końskich") == "zaz"
    assert kind("Caritas Diecezji Kieleckiej") == ""


# --- blocking: many alike names in one place (synthetic rows, seeded, marked SYNTETYCZNY) ------------

@pytest.fixture(scope="module")
def one_town(fetched_settings):
    """3,000 synthetic entities all in Kielce, named with a few words: most names have alike ones."""
    from geoes.register.synthetic import generate
    from geoes.sources.territory import load_territory

    frame = generate(load_territory(fetched_settings), 3_000, seed=7, gminy=["2661011"], names="words")
    frame.insert(0, "row", range(2, len(frame) + 2))
    return frame


def test_a_town_of_alike_names_is_checked_at_once_and_capped_per_row(one_town):
    import time

    from geoes.register.duplicates import MAX_PER_ROW, find_duplicates

    started = time.perf_counter()
    found = find_duplicates(one_town, one_town)
    # A DoS regression bound only (difflib row by row took minutes for this): the figures are in benchmarks/.
    assert time.perf_counter() - started < 60
    per_row = pd.DataFrame(found).groupby("row")
    assert per_row.size().max() <= MAX_PER_ROW + 1        # five named, the rest counted in one line
    capped = [r for r in found if "i jeszcze" in r["reason"]]
    assert capped and all(re.search(r"i jeszcze \d+\xa0podobn\w+ nazw\w* w tej samej gminie", r["reason"]) for r in capped)
    assert all(r["reason"].endswith("— możliwy duplikat") for r in found)


def test_the_batch_agrees_with_one_candidate_at_a_time(one_town):
    sample = one_town.sample(40, random_state=1).to_dict("records")
    index = DuplicateIndex(one_town)
    batch = index.warnings_many(sample, [r["id"] for r in sample])
    assert batch == [index.warnings(r, exclude_id=r["id"]) for r in sample]
    assert any(batch)


@pytest.mark.parametrize("a, b, alike", [
    ("Stowarzyszenie Ares", "Stowarzyszenie Ares Plus", True),        # the words of one among the other's
    ("Fundacja Zielona Dolina", "Fundacja Zielona Dolinna", True),    # a typo: ratio ≥ 0.85
    ("Fundacja Zielona Dolina", "Fundacja Biała Dolina", False),
    ("Fundacja Zielona Dolina", "Stowarzyszenie Zielona Dolina", False),   # two stated kinds
    ("Klub Integracji Społecznej nr 1", "Klub Integracji Społecznej nr 2", False),
    ("WTZ w Kielcach", "Warsztat Terapii Zajęciowej w Kielcach", True),   # no distinctive words, one kind
])
def test_names_alike_rules(a, b, alike):
    from geoes.register.duplicates import name_key, names_alike

    assert names_alike(name_key(a, "Kielce"), name_key(b, "Kielce")) is alike
