"""geoes.common.polish: Polish numbers and plural forms."""
import math
from datetime import date, datetime, timezone

import numpy as np
import pandas as pd
import pytest

from geoes.common import polish
from geoes.common.polish import NBSP, agree, count, count_verb, number, percent, plural, ratio


@pytest.mark.parametrize("n, form", [
    (0, "podmiotów"), (1, "podmiot"), (2, "podmioty"), (4, "podmioty"), (5, "podmiotów"), (11, "podmiotów"),
    (12, "podmiotów"), (14, "podmiotów"), (21, "podmiotów"), (22, "podmioty"), (24, "podmioty"),
    (25, "podmiotów"), (101, "podmiotów"), (102, "podmioty"), (112, "podmiotów"), (1000, "podmiotów"),
])
def test_plural_forms_of_podmiot(n, form):
    assert plural(n, "podmiot") == form


def test_plural_of_other_nouns_and_fractions():
    assert [plural(n, "gmina") for n in (1, 3, 9, 23)] == ["gmina", "gminy", "gmin", "gminy"]
    assert [plural(n, "osoba") for n in (1, 2, 5)] == ["osoba", "osoby", "osób"]
    assert plural(80370, "mieszkaniec") == "mieszkańców"
    assert plural(0.5, "podmiot") == "podmiotu"
    assert [plural(n, "plik") for n in (1, 9, 22)] == ["plik", "plików", "pliki"]
    assert [plural(n, "obiekt") for n in (1, 14, 102)] == ["obiekt", "obiektów", "obiekty"]
    assert plural(np.int64(3), "podmiot") == "podmioty"
    with pytest.raises(KeyError):
        plural(2, "koń")


@pytest.mark.parametrize("n, text", [
    (0, "0 zgłoszeń czeka"), (1, "1 zgłoszenie czeka"), (3, "3 zgłoszenia czekają"), (5, "5 zgłoszeń czeka"),
    (12, "12 zgłoszeń czeka"), (22, "22 zgłoszenia czekają"), (101, "101 zgłoszeń czeka"),
])
def test_the_verb_agrees_with_the_count(n, text):
    assert count_verb(n, "zgłoszenie", "czekać").replace(NBSP, " ") == text


def test_agree_and_the_entity_types_nouns():
    from geoes.common.reference import entity_types

    assert [agree(n, "być") for n in (1, 2, 5)] == ["jest", "są", "jest"]
    types = entity_types()
    assert count(3, types["spoldzielnia_socjalna"].forms) == f"3{NBSP}spółdzielnie socjalne"
    assert count(5, types["spoldzielnia_socjalna"].forms) == f"5{NBSP}spółdzielni socjalnych"
    assert count(1, types["wtz"].forms) == f"1{NBSP}warsztat terapii zajęciowej"
    assert count(2, types["kgw"].forms) == f"2{NBSP}koła gospodyń wiejskich"
    # Every type of the one dictionary has its four forms (the console counts every type it shows).
    assert all(len(t.forms) == 4 and all(t.forms) for t in types.values())


def test_count_joins_number_and_form():
    assert count(1, "podmiot") == f"1{NBSP}podmiot"
    assert count(80370, "mieszkaniec") == f"80{NBSP}370{NBSP}mieszkańców"


@pytest.mark.parametrize("value, decimals, text", [
    (80370, None, f"80{NBSP}370"), (0.1244, None, "0,12"), (1256.79, None, f"1{NBSP}256,8"),
    (1256.79, 2, f"1{NBSP}256,79"), (5.0, None, "5"), (np.float64(2.5), 1, "2,5"), (np.int64(7), None, "7"),
    (None, None, "–"), (math.nan, None, "–"), (pd.NA, None, "–"), (math.inf, None, "–"),
])
def test_number(value, decimals, text):
    assert number(value, decimals) == text


def test_number_trim_percent_ratio_and_text_passthrough():
    assert number(0.5, 2, trim=True) == "0,5"
    assert number(3.0, 2, trim=True) == "3"
    assert percent(41.37) == f"41,4{NBSP}%"
    assert ratio(0.354) == f"0,35{NBSP}×"
    assert ratio(None) == "–"
    assert number("abc") == "abc"


def test_plain_values():
    from geoes.common.values import plain, plain_record

    assert plain(np.int64(3)) == 3 and type(plain(np.int64(3))) is int
    assert plain(np.float64(0.5)) == 0.5 and type(plain(np.float64(0.5))) is float
    assert plain(np.bool_(True)) is True
    assert [plain(v) for v in (None, math.nan, pd.NA, pd.NaT, np.float64("nan"))] == [None] * 5
    assert plain("") == "" and plain("x") == "x"
    assert plain_record(pd.Series({"a": np.int64(1), "b": math.nan, "geometry": "P"})) == {"a": 1, "b": None}


def test_count_after_z_takes_the_genitive():
    from geoes.common.polish import count_genitive, genitive

    assert count_genitive(82, "podmiot") == f"82{NBSP}podmiotów"  # "68 z 82 podmiotów", not "z 82 podmioty"
    assert [genitive(n, "podmiot") for n in (1, 2, 4, 5, 22, 0.5)] == [
        "podmiotu", "podmiotów", "podmiotów", "podmiotów", "podmiotów", "podmiotu"]
    assert [genitive(n, "gmina") for n in (1, 3, 102)] == ["gminy", "gmin", "gmin"]


def test_dates_distances_and_directions_in_words():
    import datetime

    from geoes.common.polish import date_text, direction, distance_text

    assert date_text(datetime.date(2026, 12, 6)) == f"6{NBSP}grudnia 2026"
    assert date_text(datetime.date(2027, 1, 31)) == f"31{NBSP}stycznia 2027"
    assert distance_text(2.43) == f"2,4{NBSP}km" and distance_text(0.06) == f"0,1{NBSP}km"
    assert distance_text(9.96) == f"10{NBSP}km" and distance_text(12.6) == f"13{NBSP}km"
    assert distance_text(0.0) == f"mniej niż 0,1{NBSP}km"
    assert [direction(b) for b in (0, 22.4, 22.6, 90, 135, 180, 225, 270, 315, 337.6, 359.9, -45)] == [
        "na północ", "na północ", "na północny wschód", "na wschód", "na południowy wschód", "na południe",
        "na południowy zachód", "na zachód", "na północny zachód", "na północ", "na północ", "na północny zachód"]


def test_a_data_files_unit_takes_the_form_of_its_number():
    from geoes.common.polish import noun_of_plural, plural

    assert noun_of_plural("podmioty") == "podmiot" and noun_of_plural("osoby") == "osoba"
    assert noun_of_plural("PLN") is None
    assert [plural(n, noun_of_plural("podmioty")) for n in (1, 3, 280, 22, 12)] == [
        "podmiot", "podmioty", "podmiotów", "podmioty", "podmiotów"]


def test_today_is_the_date_in_poland_not_on_the_servers_clock(monkeypatch):
    """At 23:30 UTC on 6 December it is already 7 December in Poland: a date an operator types for today
    ("sprawdzono dziś") must not be refused as a date in the future, nor a download dated the day before."""
    late = datetime(2026, 12, 6, 23, 30, tzinfo=timezone.utc)

    class Clock(datetime):
        @classmethod
        def now(cls, tz=None):
            return late.astimezone(tz) if tz else late.replace(tzinfo=None)

    monkeypatch.setattr(polish, "datetime", Clock)
    assert polish.today_in_poland() == date(2026, 12, 7)
    late = datetime(2026, 6, 30, 22, 30, tzinfo=timezone.utc)   # summer time: UTC+2
    assert polish.today_in_poland() == date(2026, 7, 1)
