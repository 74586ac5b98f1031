"""Text folding: the comparison keys names are matched by (localities, gminy, powiaty, entity names).

Registers spell the same name in many ways — „Gmina” in typographic quotes, an en dash in
"Kałków–Godów", doubled spaces, upper case, or no Polish letters at all ("Jedrzejow"). Matching goes
through one of two keys, so every layer that compares names compares them alike:

* `text_key(value)` — NFC, case-folded, quotes removed, every dash a hyphen with no spaces around it,
  runs of white space one space;
* `ascii_key(value)` — `text_key` without diacritics (ł → l too), for registers typed without them.
"""
from __future__ import annotations

import re
import unicodedata

QUOTES = "\"'„”“‟«»‚‘’`"
DASHES = "‐‑‒–—―−"
_SPACE_RE = re.compile(r"\s+")
_DROP_QUOTES = {ord(c): None for c in QUOTES}
_HYPHENATE = {ord(c): "-" for c in DASHES}


def text_key(value: str) -> str:
    """A comparison key for names: case-folded, quotes removed, dashes and spaces unified."""
    value = unicodedata.normalize("NFC", str(value))
    value = value.translate(_DROP_QUOTES).translate(_HYPHENATE)
    value = re.sub(r"\s*-\s*", "-", value)
    return _SPACE_RE.sub(" ", value).strip().casefold()


def ascii_key(value: str) -> str:
    """`text_key` without Polish diacritics, for registers typed without them ("Jedrzejow")."""
    key = text_key(value).replace("ł", "l")
    return "".join(c for c in unicodedata.normalize("NFKD", key) if not unicodedata.combining(c))
