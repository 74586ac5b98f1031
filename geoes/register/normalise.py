"""Value normalisation for register imports: type names → codes, postal codes, phones, identifiers.

Each function takes what people type into Excel and returns the canonical form of the entity record
(PRODUCT.md §3). When a value cannot be normalised with certainty it is returned trimmed but otherwise
unchanged, so that validation (`geoes.register.validate`) rejects it with a reason instead of it being guessed.
"""
from __future__ import annotations

import csv
import datetime as dt
import re
import unicodedata
from functools import lru_cache

from geoes.register.record import TYPES_SEPARATOR
from geoes.common.reference import REFERENCE_DIR, entity_types

_QUOTES = "\"'„”“‟«»‚‘’`"
_DASHES = "‐‑‒–—―−"
_SPACE_RE = re.compile(r"\s+")


def text_key(value: str) -> str:
    """A comparison key for names: case-folded, quotes removed, dashes and spaces unified."""
    value = unicodedata.normalize("NFC", str(value))
    value = value.translate({ord(c): None for c in _QUOTES})
    value = value.translate({ord(c): "-" for c in _DASHES})
    value = re.sub(r"\s*-\s*", "-", value)
    return _SPACE_RE.sub(" ", value).strip().casefold()


def ascii_key(value: str) -> str:
    """`text_key` without Polish diacritics, for registers typed without them ("Jedrzejow")."""
    key = text_key(value).replace("ł", "l")
    return "".join(c for c in unicodedata.normalize("NFKD", key) if not unicodedata.combining(c))


# --- entity types -------------------------------------------------------------------------------

@lru_cache(maxsize=None)
def type_aliases() -> dict[str, str]:
    """Known spellings → type code: codes and labels from entity_types.csv plus type_aliases.csv."""
    aliases: dict[str, str] = {}
    for code, t in entity_types().items():
        for name in (code, t.label_pl, t.label_en, t.short_pl):
            if name:
                aliases[text_key(name)] = code
    with open(REFERENCE_DIR / "type_aliases.csv", encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            code = row["code"].strip()
            if code not in entity_types():
                raise ValueError(f"type_aliases.csv: nieznany kod typu {code!r} dla {row['alias']!r}")
            aliases[text_key(row["alias"])] = code
    return aliases


_TYPE_SPLIT_RE = re.compile(r"\s*(?:[;,/|+]|\s+oraz\s+)\s*")


def _type_code(piece: str) -> str | None:
    key = text_key(piece).rstrip(".")
    aliases = type_aliases()
    if key in aliases:
        return aliases[key]
    akey = ascii_key(key)
    for alias, code in aliases.items():
        if ascii_key(alias) == akey:
            return code
    return None


def type_codes(value: str) -> str:
    """'Spółdzielnia socjalna' → 'spoldzielnia_socjalna'; 'WTZ, ZAZ' → 'wtz;zaz'.

    Unknown pieces are kept (lower-cased) so that validation rejects them with their text.
    """
    value = str(value).strip()
    if not value:
        return ""
    whole = _type_code(value)
    if whole:
        return whole
    out: list[str] = []
    for piece in _TYPE_SPLIT_RE.split(value):
        if not piece.strip():
            continue
        code = _type_code(piece) or piece.strip().lower()
        if code not in out:
            out.append(code)
    return TYPES_SEPARATOR.join(out)


def known_type_codes(value: str) -> str:
    """Like `type_codes` but '' unless every piece is a known type (used for `Forma prawna`)."""
    codes = type_codes(value)
    known = set(entity_types())
    return codes if codes and all(c in known for c in codes.split(TYPES_SEPARATOR)) else ""


# --- postal codes, phones, identifiers ---------------------------------------------------------

def postal_code(value: str) -> str:
    """'25001', '25 001', '25-001' → '25-001'; a 4-digit number (Excel ate the leading 0) is padded."""
    value = str(value).strip()
    digits = re.sub(r"[\s\-\u2013.]", "", value)
    if re.fullmatch(r"\d{5}", digits):
        return f"{digits[:2]}-{digits[2:]}"
    if re.fullmatch(r"\d{4}", digits) and value.isdigit():
        return f"0{digits[0]}-{digits[1:]}"
    return value


# Polish mobile numbers start with these two digits; everything else is a landline with an area code.
_MOBILE_PREFIXES = {"45", "50", "51", "53", "57", "60", "66", "69", "72", "73", "78", "79", "88"}
_PHONE_SPLIT_RE = re.compile(r"\s*(?:[,;/]|\s+lub\s+|\s+i\s+)\s*")


def _one_phone(value: str) -> str:
    raw = value.strip()
    text = re.sub(r"^(?:tel(?:efon)?|kom(?:órka)?|fax|faks)\.?\s*:?\s*", "", raw, flags=re.IGNORECASE)
    digits = re.sub(r"\D", "", text)
    if text.startswith("+48") or (text.startswith("0048") and len(digits) == 13):
        digits = digits[2:] if text.startswith("+") else digits[4:]
    elif len(digits) == 10 and digits.startswith("0"):  # trunk prefix: (0-41) 344 55 66
        digits = digits[1:]
    if len(digits) != 9:
        return raw
    if digits[:2] in _MOBILE_PREFIXES:
        return f"+48 {digits[:3]} {digits[3:6]} {digits[6:]}"
    return f"+48 {digits[:2]} {digits[2:5]} {digits[5:7]} {digits[7:]}"


def phone(value: str) -> str:
    """'(0-41) 344-55-66' → '+48 41 344 55 66'; '600123456' → '+48 600 123 456'; several → ', '."""
    value = str(value).strip()
    if not value:
        return ""
    parts = [p for p in _PHONE_SPLIT_RE.split(value) if p.strip()]
    return ", ".join(_one_phone(p) for p in parts)


def digits_id(value: str) -> str:
    """NIP/REGON/KRS as typed ('PL 657-038-94-52', '657 038 94 52') → digits; KRS padding is validate's."""
    value = str(value).strip()
    if value.upper().startswith("PL"):
        value = value[2:]
    cleaned = re.sub(r"[\s\-.]", "", value)
    if re.fullmatch(r"\d+\.0", value):  # a number that went through a float
        cleaned = value[:-2]
    return cleaned


def krs(value: str) -> str:
    d = digits_id(value)
    return d.zfill(10) if d.isdigit() and len(d) < 10 else d


def decimal(value: str) -> str:
    """'50,8717' → '50.8717'; spaces and NBSP as thousands separators removed."""
    value = str(value).strip().replace("\u00a0", "").replace(" ", "")
    if re.fullmatch(r"[+-]?\d+,\d+", value):
        value = value.replace(",", ".")
    return value


def integer(value: str) -> str:
    """'12', '12,0', '12.0', '1 200' → '12'/'1200'; anything else unchanged for validation."""
    value = decimal(value)
    m = re.fullmatch(r"(\d+)(?:\.0+)?", value)
    return m.group(1) if m else value


_TRUE = {"tak", "t", "x", "✓", "✔", "yes", "y", "true", "1", "prawda"}
_FALSE = {"nie", "n", "no", "false", "0", "fałsz"}


def boolean(value: str) -> str:
    key = str(value).strip().casefold()
    if key in _TRUE:
        return "true"
    if key in _FALSE:
        return "false"
    if key in {"", "unknown", "nieznane", "brak danych", "?"}:
        return "unknown" if key else ""
    return str(value).strip()


_STATUS = {
    "active": "active", "aktywny": "active", "aktywna": "active", "aktywne": "active", "działa": "active",
    "działający": "active", "działająca": "active", "czynny": "active", "czynna": "active",
    "inactive": "inactive", "nieaktywny": "inactive", "nieaktywna": "inactive", "nieaktywne": "inactive",
    "nie działa": "inactive", "zawieszony": "inactive", "zawieszona": "inactive",
    "zawieszenie działalności": "inactive", "w likwidacji": "inactive", "zlikwidowany": "inactive",
    "zlikwidowana": "inactive", "wykreślony": "inactive", "wykreślona": "inactive",
    "unknown": "unknown", "nieznany": "unknown", "brak danych": "unknown",
}


def status(value: str) -> str:
    key = _SPACE_RE.sub(" ", str(value).strip().casefold())
    return _STATUS.get(key, str(value).strip())


_PRECISION = {
    "address": "address", "adres": "address", "street": "street", "ulica": "street",
    "locality": "locality", "miejscowość": "locality", "miejscowosc": "locality", "gmina": "gmina",
    "none": "none", "brak": "none",
}


def precision(value: str) -> str:
    key = str(value).strip().casefold()
    return _PRECISION.get(key, str(value).strip())


def website(value: str) -> str:
    """'www.example.pl' → 'https://www.example.pl'; anything with spaces is left for validation."""
    value = str(value).strip()
    if value and not re.match(r"^[a-z][a-z0-9+.-]*://", value, re.IGNORECASE) \
            and re.fullmatch(r"[\w.-]+\.[a-z]{2,}(?:[/?#]\S*)?", value, re.IGNORECASE):
        return "https://" + value
    return value


def email(value: str) -> str:
    value = str(value).strip()
    if value.lower().startswith("mailto:"):
        value = value[7:]
    return value.strip().lower()


def cell_text(value) -> str:
    """A spreadsheet cell as text: integral floats without '.0', dates as ISO, None as ''."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value != value:  # NaN
            return ""
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()
