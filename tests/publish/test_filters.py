"""geoes.publish.filters: the one way every surface reads query parameters (400 = ParamError)."""
import pytest
from werkzeug.datastructures import MultiDict

from geoes.errors import InvalidInput
from geoes.publish.filters import (ParamError, choice, choices, parse_int, parse_teryts, reject_unknown, single,
                                   values)


def q(*pairs):
    return MultiDict(pairs)


def test_param_errors_are_invalid_input_naming_the_parameter():
    with pytest.raises(ParamError) as exc:
        reject_unknown(q(("powait", "2602")), ("powiat", "gmina"))
    assert isinstance(exc.value, InvalidInput) and exc.value.http_status == 400
    assert exc.value.description == "powait: nieznany parametr; dozwolone: powiat, gmina"
    with pytest.raises(ParamError, match="nie przyjmuje parametrów"):
        reject_unknown(q(("x", "1")), ())
    reject_unknown(q(("powiat", "2602")), ("powiat",))


def test_single_values_and_repeats():
    assert single(q(("a", " 1 "), ("a", "1")), "a") == "1"
    with pytest.raises(ParamError, match="różnymi wartościami"):
        single(q(("a", "1"), ("a", "2")), "a")
    with pytest.raises(ParamError, match="za wiele"):
        values(q(*[("a", str(i)) for i in range(21)]), "a")
    with pytest.raises(ParamError, match="niedozwolone znaki"):
        values(q(("a", "x\x00")), "a")


def test_choice_choices_and_int():
    assert choice(q(("format", "CSV")), "format", ("json", "csv")) == "csv"
    assert choice(q(), "format", ("json", "csv"), "json") == "json"
    with pytest.raises(ParamError, match="dozwolone wartości: json, csv"):
        choice(q(("format", "xml")), "format", ("json", "csv"))
    assert choices(q(("layer", "gminy,Powiaty"), ("layer", "gminy")), "layer", ("entities", "gminy", "powiaty")) == \
        ("gminy", "powiaty")
    with pytest.raises(ParamError, match="dozwolone warstwy"):
        choices(q(("layer", "rzeki")), "layer", ("gminy",), "warstwy")
    assert parse_int(q(("limit", "99999")), "limit", 100, 1, 10_000, clamp=True) == 10_000
    for bad in ("0", "-1", "1.5", "abc"):
        with pytest.raises(ParamError):
            parse_int(q(("page", bad)), "page", 1, 1, 999)


@pytest.mark.parametrize("given,message", [
    ("2602", "od 2 do 4"), ("2602,2602023", "tego samego poziomu"), ("26,2602", "nie jest kodem"),
])
def test_parse_teryts(given, message):
    assert parse_teryts(q(("teryt", "2602,2601"), ("teryt", "2602"))) == ["2602", "2601"]
    with pytest.raises(ParamError, match=message):
        parse_teryts(q(("teryt", given)))
