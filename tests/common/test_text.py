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


def test_polish_key_puts_names_in_polish_alphabetical_order():
    from geoes.common.text import polish_key

    # Code point order puts Ćmielów, Łagów and Łoniów after Żytno; Polish has them after C and L.
    names = ["Łoniów", "Żytno", "Ćmielów", "Łagów", "Chmielnik", "Lipnik", "Źródła", "Zagnańsk", "Ożarów",
             "Osiek", "Ostrowiec Świętokrzyski", "Kąty", "Kazimierza Wielka", "Sędziszów", "Secemin", "Śladków"]
    assert sorted(names, key=polish_key) == [
        "Chmielnik", "Ćmielów", "Kazimierza Wielka", "Kąty", "Lipnik", "Łagów", "Łoniów", "Osiek",
        "Ostrowiec Świętokrzyski", "Ożarów", "Secemin", "Sędziszów", "Śladków", "Zagnańsk", "Źródła", "Żytno"]
    # Case only breaks ties; a space and punctuation come before letters; missing values sort first.
    assert sorted(["b", "A", "a", "B"], key=polish_key) == ["a", "A", "b", "B"]
    assert sorted(["Nowa Wieś", "Nowak", "Nowa-Wola"], key=polish_key) == ["Nowa Wieś", "Nowa-Wola", "Nowak"]
    assert sorted(["Ala", None, float("nan")], key=polish_key)[-1] == "Ala"
    # Other Latin letters sit with their base letter.
    assert sorted(["Zürich", "Zabrze", "Zyrardów"], key=polish_key) == ["Zabrze", "Zürich", "Zyrardów"]
