"""Text folding for comparisons: names, localities and spreadsheet headers as people type them.

* `text_key` — case-folded, quotes removed, dashes and spaces unified (names, localities);
* `ascii_key` — `text_key` without Polish diacritics ("Jedrzejow" finds "Jędrzejów");
* `fold` — `ascii_key` with every run of punctuation, underscores and spaces made one space
  ("Adres_E-mail:" → "adres e mail"): the key of a header or a pattern word.
"""
from __future__ import annotations

import re
import unicodedata

_QUOTES = "\"'„”“‟«»‚‘’`"
_DASHES = "‐‑‒–—―−"
_TABLE = str.maketrans({**{c: None for c in _QUOTES}, **{c: "-" for c in _DASHES}})
_SPACE_RE = re.compile(r"\s+")
_DASH_RE = re.compile(r"\s*-\s*")
_NON_WORD_RE = re.compile(r"[^a-z0-9]+")


def text_key(value: str) -> str:
    """A comparison key for names: case-folded, quotes removed, dashes and spaces unified."""
    value = unicodedata.normalize("NFC", str(value)).translate(_TABLE)
    return _SPACE_RE.sub(" ", _DASH_RE.sub("-", value)).strip().casefold()


def ascii_key(value: str) -> str:
    """`text_key` without Polish diacritics, for registers typed without them ("Jedrzejow")."""
    key = text_key(value).replace("ł", "l")
    return "".join(c for c in unicodedata.normalize("NFKD", key) if not unicodedata.combining(c))


def fold(value: str) -> str:
    """Lower case, no diacritics, punctuation/underscores/spaces → one space: 'Nr_KRS:' → 'nr krs'."""
    return _NON_WORD_RE.sub(" ", ascii_key(value)).strip()
