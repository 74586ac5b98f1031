import pytest

from geoes.register.identifiers import krs_normalise, krs_valid, nip_valid, regon_valid


# Caritas Diecezji Kieleckiej's identifiers as published (the one row of the sample that has them).
def test_real_identifiers_pass():
    assert nip_valid("6570389452")
    assert nip_valid("657-038-94-52")
    assert nip_valid("PL 657 038 94 52")
    assert regon_valid("290505494")
    assert krs_valid("0000198087")


@pytest.mark.parametrize("bad", ["6570389453", "657038945", "abcdefghij", "0000000000x", ""])
def test_bad_nip(bad):
    assert not nip_valid(bad)


def test_regon_checksum_catches_single_digit_change():
    assert not regon_valid("290505495")
    assert not regon_valid("29050549")


def test_regon_14_digits_uses_both_checksums():
    # Build a 14-digit REGON from the valid 9-digit one and its computed check digit.
    base = "2905054940001"
    weights = (2, 4, 8, 5, 0, 9, 7, 3, 6, 1, 2, 4, 8)
    check = sum(int(d) * w for d, w in zip(base, weights)) % 11 % 10
    assert regon_valid(base + str(check))
    assert not regon_valid(base + str((check + 1) % 10))


def test_krs_format():
    assert krs_normalise("198087") == "0000198087"
    assert not krs_valid("0000000000")
    assert not krs_valid("12345678901")


@pytest.mark.parametrize("typed, stored", [
    ("198087", "0000198087"), ("0000198087", "0000198087"), (" 0000 198 087 ", "0000198087"),
    ("198087.0", "0000198087"),          # Excel saved the number as a float
    ("12345678901", "12345678901"),      # too long: kept as typed, so validation names it
    ("", ""),
])
def test_krs_is_ten_digits_zero_padded(typed, stored):
    assert krs_normalise(typed) == stored
    assert krs_valid(stored) == (len(stored) == 10)


def test_identifiers_that_went_through_a_float_keep_their_digits():
    from geoes.register.identifiers import digits_only

    assert digits_only("6570389452.0") == "6570389452" and nip_valid("6570389452.0")
    assert regon_valid("290505494.0")
    assert digits_only("PL 657-038-94-52") == "6570389452"
