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
