"""Duplicate warnings against the project's real register (the candidates are test inputs, not facts)."""
from __future__ import annotations

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
