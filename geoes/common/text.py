"""Text folding: the comparison keys names and headers are matched by (localities, gminy, powiaty,
entity names, spreadsheet headers).

Registers spell the same name in many ways — „Gmina” in typographic quotes, an en dash in
"Kałków–Godów", doubled spaces, upper case, or no Polish letters at all ("Jedrzejow"). Matching goes
through one of these keys, so every layer that compares names compares them alike:

* `text_key(value)` — NFC, case-folded, quotes removed, every dash a hyphen with no spaces around it,
  runs of white space one space;
* `ascii_key(value)` — `text_key` without diacritics (ł → l too), for registers typed without them;
* `fold(value)` — `ascii_key` with every run of punctuation, underscores and spaces made one space
  ("Adres_E-mail:" → "adres e mail"): the key of a header or a pattern word.

And one sort key for names as people read lists: `polish_key(value)` puts names in Polish alphabetical
order (a ą b c ć … ł … ó … ś … ź ż: "Chmielnik" before "Ćmielów", "Lipnik" before "Łagów"), where code
point order puts every name with a Polish first letter at the end. It is a small table rather than ICU
(PyICU needs a compiler and the ICU headers on every machine): letters by the Polish alphabet, other
Latin letters with diacritics beside their base letter, case and accents only breaking ties; the tests
hold it to Chromium's `Intl.Collator('pl')` on every name of the region.
"""
from __future__ import annotations

import re
import unicodedata

QUOTES = "\"'„”“‟«»‚‘’`"
DASHES = "‐‑‒–—―−"
_SPACE_RE = re.compile(r"\s+")
_DASH_RE = re.compile(r" ?- ?")
_NON_WORD_RE = re.compile(r"[^a-z0-9]+")
_TABLE = str.maketrans({**{c: None for c in QUOTES}, **{c: "-" for c in DASHES}})


def text_key(value: str) -> str:
    """A comparison key for names: case-folded, quotes removed, dashes and spaces unified."""
    value = unicodedata.normalize("NFC", str(value)).translate(_TABLE)
    # White space first, then dashes: `\s*-\s*` over a long run of spaces without a dash would try every
    # start of the run (quadratic); after the runs are single spaces it is linear.
    return _DASH_RE.sub("-", _SPACE_RE.sub(" ", value)).strip().casefold()


def ascii_key(value: str) -> str:
    """`text_key` without Polish diacritics, for registers typed without them ("Jedrzejow")."""
    return without_diacritics(text_key(value))


_POLISH = str.maketrans("ąćęłńóśźż", "acelnoszz")


def without_diacritics(key: str) -> str:
    """A `text_key` without diacritics (ł → l too): Polish letters by a table, anything else through NFKD."""
    key = key.translate(_POLISH)
    if key.isascii():
        return key
    return "".join(c for c in unicodedata.normalize("NFKD", key) if not unicodedata.combining(c))


def fold(value: str) -> str:
    """Lower case, no diacritics, punctuation/underscores/spaces → one space: 'Nr_KRS:' → 'nr krs'."""
    return _NON_WORD_RE.sub(" ", ascii_key(value)).strip()


POLISH_ALPHABET = "aąbcćdeęfghijklłmnńoópqrsśtuvwxyzźż"
_PRIMARY = {c: i for i, c in enumerate(POLISH_ALPHABET)}
_LETTER_BASE = 0x100  # letters after spaces, punctuation and digits, as in ICU's order


def _primary(ch: str) -> str:
    """One character's place in the Polish order, as a character (so a key is a plain string)."""
    if ch in _PRIMARY:
        return chr(_LETTER_BASE + 2 * _PRIMARY[ch])
    base = unicodedata.normalize("NFKD", ch)[0]
    if base in _PRIMARY:  # é, ü, č…: with their base letter
        return chr(_LETTER_BASE + 2 * _PRIMARY[base])
    if ch.isspace():
        return " "
    if unicodedata.category(ch)[0] in "PS":  # punctuation and symbols („ ” - . …) before digits and letters
        return "!"
    return ch


def sort_by_name(frame, column: str = "name"):
    """A frame's rows in Polish alphabetical order of `column` (stable: equal names keep their order)."""
    return frame.sort_values(column, key=lambda s: s.map(polish_key), kind="stable")


def polish_key(value) -> str:
    """A sort key putting names in Polish alphabetical order (case and accents of other languages only
    break ties); None and NaN sort as the empty name."""
    text = "" if value is None or value != value else unicodedata.normalize("NFC", str(value))
    folded = text.casefold()
    # Ties: accents, then case with lower case first (as ICU has it): swapcase puts it first.
    return "".join(_primary(c) for c in folded) + "\x00" + folded + "\x00" + text.swapcase()
