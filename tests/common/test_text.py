"""One text folding rule: the keys the gazetteer and the importer match names by."""
import pytest

from geoes.common.text import ascii_key, text_key
from geoes.register import normalise


@pytest.mark.parametrize("a, b", [
    ("Gmina „Szydłów”", "gmina szydłów"),
    ("Kałków – Godów", "kałków-godów"),
    ("  JĘDRZEJÓW\u00a0 ", "jędrzejów"),
    ("Sobko\u0301w", "sobków"),            # decomposed ó from a copy-paste: NFC first
])
def test_text_key_unifies_how_names_are_typed(a, b):
    assert text_key(a) == b


def test_ascii_key_matches_names_typed_without_polish_letters():
    assert ascii_key("Łączna") == ascii_key("Laczna") == "laczna"
    assert ascii_key("Jędrzejów") == "jedrzejow"


@pytest.mark.parametrize("name", ["Gmina „Szydłów”", "Kałków–Godów", "ŁĄCZNA", "Sobko\u0301w"])
def test_the_register_folds_names_the_same_way(name):
    # The importer's normalise module must not fold names differently from the gazetteer.
    assert normalise.text_key(name) == text_key(name) and normalise.ascii_key(name) == ascii_key(name)
