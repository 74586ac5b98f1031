"""Polish register identifiers: NIP, REGON (9 and 14 digits) and KRS."""
from __future__ import annotations

import re

_NIP_WEIGHTS = (6, 5, 7, 2, 3, 4, 5, 6, 7)
_REGON9_WEIGHTS = (8, 9, 2, 3, 4, 5, 6, 7)
_REGON14_WEIGHTS = (2, 4, 8, 5, 0, 9, 7, 3, 6, 1, 2, 4, 8)


def digits_only(value: str) -> str:
    """Remove the separators people type: spaces, dashes, dots; keep a leading 'PL' out of NIPs."""
    value = value.strip()
    if value.upper().startswith("PL"):
        value = value[2:]
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
    return bool(re.fullmatch(r"\d{10}", d)) and int(d) > 0


def krs_normalise(value: str) -> str:
    d = digits_only(value)
    return d.zfill(10) if d.isdigit() and len(d) <= 10 else d
