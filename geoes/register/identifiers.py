"""Polish register identifiers: NIP, REGON (9 and 14 digits) and KRS — the one rule for each.

* As people and spreadsheets type them: separators (spaces, dashes, dots) and a leading "PL" go, and a
  number Excel turned into a float ("198087.0") loses its ".0" — `digits_only`.
* KRS: ten digits with leading zeros, not all zero; a shorter number is zero-padded ("198087" →
  "0000198087"), a longer one is left as typed (and invalid) — `krs_normalise`, `krs_valid`.
* NIP: ten digits with the weighted check digit (a remainder of 10 is never valid) — `nip_valid`.
* REGON: nine digits with their check digit, or fourteen whose first nine are a valid REGON and whose
  last is the check digit of the thirteen before it — `regon_valid`.

Validation, the importer's matching of rows to entities and anything else that reads an identifier
go through these functions, so an identifier is the same value everywhere.
"""
from __future__ import annotations

import re

KRS_DIGITS = 10

_NIP_WEIGHTS = (6, 5, 7, 2, 3, 4, 5, 6, 7)
_REGON9_WEIGHTS = (8, 9, 2, 3, 4, 5, 6, 7)
_REGON14_WEIGHTS = (2, 4, 8, 5, 0, 9, 7, 3, 6, 1, 2, 4, 8)


def digits_only(value: str) -> str:
    """Remove the separators people type (spaces, dashes, dots) and a leading 'PL' (NIP for VAT-EU);
    a number that went through a float in a spreadsheet ('198087.0') loses its '.0', not gains a digit."""
    value = str(value).strip()
    if value.upper().startswith("PL"):
        value = value[2:].strip()
    if re.fullmatch(r"\d+\.0", value):
        return value[:-2]
    return re.sub(r"[\s\-.]", "", value)


def _check_digit(digits: str, weights: tuple[int, ...]) -> int:
    return sum(int(d) * w for d, w in zip(digits, weights)) % 11


def nip_valid(value: str) -> bool:
    d = digits_only(value)
    if not re.fullmatch(r"\d{10}", d):
        return False
    check = _check_digit(d, _NIP_WEIGHTS)
    return check != 10 and check == int(d[9])


def regon_valid(value: str) -> bool:
    d = digits_only(value)
    if re.fullmatch(r"\d{9}", d):
        return _check_digit(d, _REGON9_WEIGHTS) % 10 == int(d[8])
    if re.fullmatch(r"\d{14}", d):
        return regon_valid(d[:9]) and _check_digit(d, _REGON14_WEIGHTS) % 10 == int(d[13])
    return False


def krs_valid(value: str) -> bool:
    """KRS numbers have no checksum: ten digits, leading zeros included, not all zero."""
    d = digits_only(value)
    return bool(re.fullmatch(rf"\d{{{KRS_DIGITS}}}", d)) and int(d) > 0


def krs_normalise(value: str) -> str:
    """A KRS number as stored: its digits zero-padded to ten; more than ten digits stay as typed."""
    d = digits_only(value)
    return d.zfill(KRS_DIGITS) if d.isdigit() else d


# The notation of checksum notes in compiled source files (`checksum_ok` of identyfikatory_prowadzacych.csv,
# copied into the notes of its corrections): "krs:ok(10 digits); nip:ok; regon9:ok",
# "regon14:FAIL (14-digit check digit); 9-digit prefix 040092844:ok", "n/a (no identifier found)".
_CHECK_NOTE = re.compile(
    r"(?P<what>krs|nip|regon9|regon14|9-digit prefix (?P<prefix>\d{9})):(?P<ok>ok|fail)\s*(?:\((?P<why>[^)]*)\))?",
    re.IGNORECASE)
_CHECKED = {"krs": "KRS", "nip": "NIP", "regon9": "REGON (9 cyfr)", "regon14": "REGON (14 cyfr)"}
_NOTHING_FOUND = re.compile(r"n/a \(no identifier found\)", re.IGNORECASE)


def _check_words(m: re.Match) -> str:
    what = m["what"].lower()
    ok = m["ok"].lower() == "ok"
    if m["prefix"]:
        return f"pierwsze 9 cyfr ({m['prefix']}) jako REGON: " + ("poprawna suma kontrolna" if ok else
                                                                   "błędna suma kontrolna")
    if what == "krs":
        return "KRS: poprawny numer (10 cyfr)" if ok else "KRS: niepoprawny numer"
    return f"{_CHECKED[what]}: " + ("poprawna suma kontrolna" if ok else "błędna cyfra kontrolna")


def checks_in_words(text: str) -> str:
    """A note's checksum results in Polish: "krs:ok(10 digits); nip:ok" → "KRS: poprawny numer (10 cyfr);
    NIP: poprawna suma kontrolna". The rest of the note is left as it is."""
    text = _NOTHING_FOUND.sub("nie znaleziono numeru", str(text or ""))
    return _CHECK_NOTE.sub(_check_words, text)
