"""Value normalisation for register imports: what people type into Excel → the entity record's form.

Each function takes a cell and returns the canonical form of the entity record (`geoes.register.record`). When a
value cannot be normalised with certainty it is returned trimmed but otherwise unchanged, so that
validation (`geoes.register.validate`) drops it with a warning naming it instead of it being guessed.

Types: `type_codes` reads a type cell ("WTZ, ZAZ" → "wtz;zaz"); `legal_form_type` reads a legal form
or a combined "Forma prawna / typ" cell; `name_type` infers the type from the entity's name with the
patterns of geoes/reference/type_name_patterns.csv (the earliest pattern in the name wins, so
"Warsztat Terapii Zajęciowej przy Stowarzyszeniu …" is a WTZ, "Stowarzyszenie na rzecz Warsztatu …"
an NGO). Combined cells: `split_identifiers` (KRS/NIP/REGON by length and checksum), `split_address`,
`split_contacts`.
"""
from __future__ import annotations

import csv
import re
from functools import lru_cache

from geoes.common.reference import REFERENCE_DIR, entity_types
from geoes.common.text import ascii_key, fold, text_key  # noqa: F401 (text_key, ascii_key: re-exported)
from geoes.register.identifiers import digits_only, krs_normalise, krs_valid, nip_valid, regon_valid
from geoes.register.record import TYPES_SEPARATOR

_SPACE_RE = re.compile(r"\s+")


# --- entity types -------------------------------------------------------------------------------

@lru_cache(maxsize=None)
def _type_table() -> tuple[dict[str, str], frozenset[str]]:
    """(folded spelling → type code, folded spellings that are legal forms)."""
    aliases: dict[str, str] = {}
    legal: set[str] = set()
    for code, t in entity_types().items():
        for name in (code, t.label_pl, t.label_en, t.short_pl):
            if name:
                aliases[fold(name)] = code
    with open(REFERENCE_DIR / "type_aliases.csv", encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            code = row["code"].strip()
            if code not in entity_types():
                raise ValueError(f"type_aliases.csv: nieznany kod typu {code!r} dla {row['alias']!r}")
            aliases[fold(row["alias"])] = code
            if row.get("legal_form", "").strip() == "1":
                legal.add(fold(row["alias"]))
    return aliases, frozenset(legal)


def type_aliases() -> dict[str, str]:
    """Known spellings (folded: geoes.common.text.fold) → type code."""
    return _type_table()[0]


_TYPE_SPLIT_RE = re.compile(r"\s*(?:[;,/|+]|\s+oraz\s+|\s+i\s+)\s*")


def _type_code(piece: str) -> str | None:
    key = fold(piece)
    return type_aliases().get(key) or type_aliases().get(fold(re.sub(r"\(.*?\)", " ", piece)))


def type_codes(value: str) -> str:
    """'Spółdzielnia socjalna' → 'spoldzielnia_socjalna'; 'WTZ, ZAZ' → 'wtz;zaz'.

    Unknown pieces are kept (lower-cased) so that validation names them.
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


@lru_cache(maxsize=4096)
def known_type_codes(value: str) -> str:
    """Like `type_codes` but '' unless every piece is a known type."""
    codes = type_codes(value)
    known = set(entity_types())
    return codes if codes and all(c in known for c in codes.split(TYPES_SEPARATOR)) else ""


@lru_cache(maxsize=4096)
def legal_form_type(value: str) -> tuple[str, str]:
    """A legal form or a combined "Forma prawna / typ" cell → (legal form to record, type codes).

    'stowarzyszenie' → ('stowarzyszenie', 'ngo'); 'WTZ' → ('', 'wtz') (a kind of unit, not a legal form);
    'kościelna osoba prawna' → ('kościelna osoba prawna', '') (a legal form that says no type).
    """
    value = _SPACE_RE.sub(" ", str(value)).strip()
    if not value:
        return "", ""
    codes = known_type_codes(value)
    if not codes:
        return value, ""
    legal = _type_table()[1]
    pieces = [fold(p) for p in _TYPE_SPLIT_RE.split(value) if p.strip()]
    is_legal = fold(value) in legal or fold(re.sub(r"\(.*?\)", " ", value)) in legal or any(p in legal for p in pieces)
    return (value if is_legal else ""), codes


@lru_cache(maxsize=None)
def _name_patterns() -> list[tuple[re.Pattern, str, bool]]:
    patterns = []
    with open(REFERENCE_DIR / "type_name_patterns.csv", encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            code = row["code"].strip()
            if code not in entity_types():
                raise ValueError(f"type_name_patterns.csv: nieznany kod typu {code!r}")
            words = [re.escape(w.rstrip("*")) + (r"\w*" if w.endswith("*") else "")
                     for w in row["pattern"].split()]
            patterns.append((re.compile(r"\b" + r"\s+".join(words) + r"\b"), code, row["specific"].strip() == "1"))
    return patterns


def name_type(name: str) -> tuple[str, str]:
    """The type a name states, and the words that state it: ('wtz', 'Warsztat Terapii Zajęciowej').

    The pattern found earliest in the name wins ("WTZ przy Stowarzyszeniu X" is a WTZ); at the same
    place a specific type (WTZ, KGW…) wins over the generic NGO. ('', '') when the name says no type.
    """
    folded = fold(name)
    best = None
    for order, (pattern, code, specific) in enumerate(_name_patterns()):
        m = pattern.search(folded)
        if m and (best is None or (m.start(), not specific, order) < best[0]):
            best = ((m.start(), not specific, order), code, m.group(0))
    return (best[1], best[2]) if best else ("", "")


def is_specific_type(code: str) -> bool:
    return bool(code) and code != "ngo"


# --- combined cells -----------------------------------------------------------------------------

_NUMBER_RE = re.compile(r"(?:(KRS|NIP|REGON)\s*(?:nr|numer)?\s*[:.]?\s*)?((?:PL\s*)?\d[\d\s\-.]{3,20}\d)", re.IGNORECASE)


def split_identifiers(value: str) -> tuple[dict[str, str], list[str]]:
    """A "NIP/REGON" or "KRS, NIP, REGON" cell → ({'krs'|'nip'|'regon': digits}, numbers not recognised).

    A labelled number goes where its label says; an unlabelled one by length and checksum: 10 digits
    passing the NIP checksum → NIP, 9 or 14 passing REGON's → REGON, 10 starting with 000 or at most 7
    digits (a KRS number whose leading zeros Excel dropped) → KRS. Validation checks them afterwards.
    """
    found: dict[str, str] = {}
    unknown: list[str] = []
    for label, number in _NUMBER_RE.findall(str(value)):
        digits = re.sub(r"\D", "", number)
        kind = label.lower() if label else _identifier_kind(digits)
        if kind and kind not in found:
            found[kind] = krs(digits) if kind == "krs" else digits
        else:
            unknown.append(number.strip())
    return found, unknown


def _identifier_kind(digits: str) -> str:
    if (len(digits) == 10 and digits.startswith("000") or len(digits) <= 7) and krs_valid(krs(digits)):
        return "krs"
    if len(digits) == 10 and nip_valid(digits):
        return "nip"
    if len(digits) in (9, 14) and regon_valid(digits):
        return "regon"
    return ""


_ADDRESS_RE = re.compile(r"^(?P<street>.*?)[,;\s]*(?P<postal>\d{2}\s?-\s?\d{3})\s+(?P<locality>[^\d,;]+?)\s*$")


def split_address(value: str) -> dict[str, str]:
    """'ul. Słoneczna 9, 25-001 Kielce' → street, postal_code, locality; without a postal code → street."""
    value = _SPACE_RE.sub(" ", str(value)).strip()
    m = _ADDRESS_RE.match(value)
    if not m:
        return {"street": value} if value else {}
    out = {"postal_code": postal_code(m["postal"]), "locality": m["locality"].strip()}
    if m["street"].strip(" ,;"):
        out["street"] = m["street"].strip(" ,;")
    return out


_EMAIL_IN_RE = re.compile(r"[^\s,;<>]+@[^\s,;<>]+\.[a-z]{2,}", re.IGNORECASE)
_WEB_IN_RE = re.compile(r"(?:https?://|www\.)[^\s,;<>]+", re.IGNORECASE)
_SEPARATORS_RE = re.compile(r"[\s,;<>]+")
MAX_EMAIL = 320


def _emails_in(text: str) -> list[str]:
    """The e-mail addresses in a text, as _EMAIL_IN_RE finds them, token by token: searched over a whole
    long token without "@" that pattern backtracks from every position (quadratic), and no address is
    longer than MAX_EMAIL characters."""
    out = []
    for token in _SEPARATORS_RE.split(text):
        if "@" in token and len(token) <= MAX_EMAIL:
            m = _EMAIL_IN_RE.match(token)
            if m:
                out.append(m.group(0))
    return out


def split_contacts(value: str) -> dict[str, str]:
    """'tel. 41 344 55 66, biuro@x.pl, www.x.pl' → phone, email, website (the first of each)."""
    text = str(value)
    out: dict[str, str] = {}
    emails = _emails_in(text)
    if emails:
        out["email"] = emails[0]
        for found in emails:
            text = text.replace(found, " ")
    webs = _WEB_IN_RE.findall(text)
    if webs:
        out["website"] = webs[0].rstrip(".")
        text = _WEB_IN_RE.sub(" ", text)
    rest = re.sub(r"\b(?:e-?mail|www|strona)\s*:?", " ", text, flags=re.IGNORECASE).strip(" ,;:")
    if re.search(r"\d{3}", rest):
        out["phone"] = rest
    return out


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
    text = re.sub(r"\s*\([^)]*[^\d\s)\-][^)]*\)", "", text).strip()   # "(sekretariat)", not "(0-41)"
    ext = re.search(r"\s*(?:wew\.?|w\.)\s*(\d{1,5})\s*$", text)
    if ext:
        text = text[:ext.start()]
    digits = re.sub(r"\D", "", text)
    if text.startswith("+48") or (text.startswith("0048") and len(digits) == 13):
        digits = digits[2:] if text.startswith("+") else digits[4:]
    elif len(digits) == 10 and digits.startswith("0"):  # trunk prefix: (0-41) 344 55 66
        digits = digits[1:]
    if len(digits) != 9 or re.search(r"[^\d\s()\-+./]", text):
        return raw
    suffix = f" wew. {ext.group(1)}" if ext else ""
    if digits[:2] in _MOBILE_PREFIXES:
        return f"+48 {digits[:3]} {digits[3:6]} {digits[6:]}{suffix}"
    return f"+48 {digits[:2]} {digits[2:5]} {digits[5:7]} {digits[7:]}{suffix}"


def phone(value: str) -> str:
    """'(0-41) 344-55-66' → '+48 41 344 55 66'; '600123456' → '+48 600 123 456'; several → ', '."""
    value = str(value).strip()
    if not value:
        return ""
    parts = [p for p in _PHONE_SPLIT_RE.split(value) if p.strip()]
    return ", ".join(_one_phone(p) for p in parts)


def digits_id(value: str) -> str:
    """NIP/REGON/KRS as typed ('PL 657-038-94-52', '657 038 94 52', 6570389452.0) → digits."""
    return digits_only(value)


def krs(value: str) -> str:
    """KRS digits, padded to ten (Excel drops the leading zeros of 0000198087)."""
    return krs_normalise(digits_id(value))


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
