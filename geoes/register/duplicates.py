"""Duplicate warnings: is this entity (new, or as a proposal would make it) already in the register?

Four signs, each a warning for a person to judge, never a refusal: the same KRS number, the same NIP,
a very similar name in the same gmina or the same locality (a record may state either), or a remark of
the row itself that says it may be the same as an entity of the register ("nie wiadomo, czy to ta sama
placówka co swk-029" — a compiler's caveat the names alone would not show). Names are
compared by their distinctive words — without the words that say the kind of entity ("spółdzielnia
socjalna", "warsztat terapii zajęciowej") and the place ("w Kielcach"): "Spółdzielnia Socjalna „Ares”"
and "Spółdzielnia Socjalna „Arka”" in one town are two entities although their whole names are 92 %
alike, while "SS Ares" and "Spółdzielnia Socjalna „ARES” w Kielcach" may well be one.

`DuplicateIndex` is built once per register. Names are compared only within a block — one place (gmina
or locality) and the same numbers in the name — and a block is compared with many candidates at once:
rapidfuzz's `process.cdist` scores every pair of distinctive parts in C, with a score cut-off, and the
token-subset test runs on arrays of token numbers. No pair is compared in Python, so a file of 10,000
entities in one town (each compared with all the others) costs seconds, where difflib row by row took
minutes; a row reports at most `MAX_PER_ROW` candidates of a kind and how many more there are.
"""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process

from geoes.register.identifiers import digits_only, krs_normalise
from geoes.common.polish import count
from geoes.common.text import ascii_key, text_key, without_diacritics

NAME_SIMILARITY = 0.85        # of the distinctive parts of two names (rapidfuzz's normalised Indel ratio)
FULL_NAME_SIMILARITY = 0.95   # of whole names, when one of them has no distinctive part
MAX_PER_ROW = 5               # similar names (and same numbers) named per row; the rest are counted
CHUNK = 512                   # candidates compared with a block at once (memory: CHUNK × block size bytes)
MAX_WORDS = 8                 # distinctive words of a name taken into the subset rule
# Words that say what kind of entity it is, not which one: two names are compared without them.
GENERIC_WORDS = frozenset("""
spoldzielnia spoldzielni socjalna socjalnej pracy inwalidow stowarzyszenie stowarzyszenia fundacja fundacji
warsztat warsztaty terapii zajeciowej zaklad zakladu aktywnosci zawodowej centrum integracji spolecznej
spoleczna spolecznego klub kolo kola gospodyn wiejskich osrodek wsparcia ekonomii spolka z o sp zoo
ograniczona odpowiedzialnoscia non profit oddzial w we przy im i na rzecz dla oraz likwidacji
zaz cis kis wtz kgw owes ss
""".split())
# The kind of entity a name states; a ZAZ and a CIS of one operator are two entities.
KINDS = (("zaklad aktywnosci zawodowej", "zaz"), ("centrum integracji spolecznej", "cis"),
         ("klub integracji spolecznej", "kis"), ("warsztat terapii zajeciowej", "wtz"),
         ("warsztaty terapii zajeciowej", "wtz"), ("spoldzielnia socjalna", "ss"), ("spoldzielnia pracy", "sp"),
         ("spoldzielnia inwalidow", "si"), ("kolo gospodyn wiejskich", "kgw"),
         ("osrodek wsparcia ekonomii spolecznej", "owes"), ("stowarzyszenie", "stowarzyszenie"),
         ("fundacja", "fundacja"))
_KIND_WORDS = {"zaz", "cis", "kis", "wtz", "kgw", "owes"}


_WORD_RE = re.compile(r"[0-9a-z]+")
_KIND_RE = re.compile(r"\b(" + "|".join(phrase for phrase, _ in KINDS) + r")\b")
_KIND_RANK = {phrase: (i, code) for i, (phrase, code) in enumerate(KINDS)}


def _place_keys(gmina_teryt: str, locality: str, of_entry: bool = False) -> list[str]:
    """The blocks of a record: its gmina (`g:`) and its locality. A candidate with a gmina code is compared
    with the entries of its gmina and with those of its locality that state no gmina (`l0:`), one
    without a code with every entry of its locality (`l:`). An entry is in all the blocks that apply."""
    gmina_teryt = str(gmina_teryt or "").strip()
    locality = _ascii(locality or "")
    keys = ["g:" + gmina_teryt] if gmina_teryt else []
    if locality:
        if of_entry:
            keys += ["l:" + locality] + ([] if gmina_teryt else ["l0:" + locality])
        else:
            keys += ["l0:" + locality] if gmina_teryt else ["l:" + locality]
    return keys


@lru_cache(maxsize=4096)
def _ascii(value: str) -> str:
    return ascii_key(value)


@lru_cache(maxsize=4096)
def _place_words(locality: str) -> tuple[str, ...]:
    return tuple(w for w in re.split(r"[\s-]+", _ascii(locality)) if len(w) >= 4)


def _is_place_word(word: str, place_words: tuple[str, ...]) -> bool:
    """'kielcach' is Kielce, 'jedrzejowie' Jędrzejów: the same stem, a Polish case ending."""
    return any(len(word) >= 4 and word[:max(4, len(p) - 2)] == p[:max(4, len(p) - 2)] for p in place_words)


def _distinctive(words: list[str], locality: str) -> tuple[str, ...]:
    place_words = _place_words(str(locality or ""))
    return tuple(w for w in words if w not in GENERIC_WORDS and not _is_place_word(w, place_words))


def _kind(words: list[str]) -> str:
    found = [_KIND_RANK[m] for m in _KIND_RE.findall(" ".join(words))]
    if found:
        return min(found)[1]         # the first of KINDS that the name states, wherever it stands
    return next((w for w in words if w in _KIND_WORDS), "")


def distinctive(name: str, locality: str = "") -> tuple[str, ...]:
    """The words of a name that tell one entity from another of its kind in the same place."""
    return _distinctive(_WORD_RE.findall(ascii_key(name)), locality)


def kind(name: str) -> str:
    """The kind a name states ('zaz', 'ss', 'fundacja' …), '' when it states none."""
    return _kind(_WORD_RE.findall(ascii_key(name)))


@lru_cache(maxsize=1 << 17)
def name_key(name: str, locality: str = "") -> tuple:
    """(kind, distinctive words, whole-name key); kept for the names of a large register and its file."""
    full = text_key(name)
    words = _WORD_RE.findall(without_diacritics(full))
    return _kind(words), _distinctive(words, locality), full


def _numbers(key: tuple) -> tuple[str, ...]:
    """The numbers among a name's distinctive words (`name_key`)."""
    return tuple(w for w in key[1] if w.isdigit())


_KIND_CODES = {"": 0}            # a kind as a small number, for comparisons over arrays
NO_KIND = 0


@dataclass
class _Names:
    """Names of one block (or a batch of candidates) as arrays: what `_alike` compares."""
    kinds: list[str] = field(default_factory=list)
    distinct: list[str] = field(default_factory=list)     # the distinctive words, joined by spaces
    full: list[str] = field(default_factory=list)         # the whole name's key
    words: list[tuple[str, ...]] = field(default_factory=list)

    def add(self, key: tuple) -> None:
        self.kinds.append(key[0])
        self.distinct.append(" ".join(key[1]))
        self.full.append(key[2])
        self.words.append(tuple(dict.fromkeys(key[1])))

    def arrays(self, vocabulary: dict[str, int]) -> tuple[np.ndarray, ...]:
        """(kinds, a 32-bit mask of the distinctive words, whether there are any, the words' numbers padded
        with -1 to MAX_WORDS); a block's are made once.

        Word number w sets bit w % 32: the mask of a subset is inside the mask of its superset, so the
        masks rule most pairs out at once and only the rest are compared word by word (`_subsets`)."""
        cached = getattr(self, "_arrays", None)
        if cached is not None and cached[0] == len(self.words):
            return cached[1]
        masks = np.zeros(len(self.words), dtype=np.uint32)
        tokens = np.full((len(self.words), MAX_WORDS), -1, dtype=np.int32)
        for i, words in enumerate(self.words):
            numbers = [vocabulary.setdefault(w, len(vocabulary)) for w in words[:MAX_WORDS]]
            tokens[i, :len(numbers)] = numbers
            bits = 0
            for n in numbers:
                bits |= 1 << (n % 32)
            masks[i] = bits
        kinds = np.array([_KIND_CODES.setdefault(k, len(_KIND_CODES)) for k in self.kinds], dtype=np.int16)
        made = kinds, masks, np.array([bool(w) for w in self.words]), tokens
        self._arrays = (len(self.words), made)
        return made


def _subsets(q_tokens: np.ndarray, e_tokens: np.ndarray, pairs: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Which of the pairs (indices into q, e) have the words of one name among the other's (a name's
    first MAX_WORDS distinctive words), compared over arrays a batch of pairs at a time."""
    out = np.zeros(len(pairs[0]), dtype=bool)
    for start in range(0, len(out), 200_000):
        qt, et = q_tokens[pairs[0][start:start + 200_000]], e_tokens[pairs[1][start:start + 200_000]]
        same = qt[:, :, None] == et[:, None, :]
        q_in_e = (same.any(2) | (qt < 0)).all(1)
        e_in_q = (same.any(1) | (et < 0)).all(1)
        out[start:start + 200_000] = q_in_e | e_in_q
    return out


def _pairs(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(rows, columns) of the true cells of a 2-D boolean matrix (faster than np.nonzero on it)."""
    return np.divmod(np.flatnonzero(matrix), matrix.shape[1])


def _alike(q: _Names, e: _Names, vocabulary: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
    """(alike, score) for every pair of names of `q` × `e`, by the rules of `names_alike`; numbers are
    equal within a block, so they are not compared here. The usual case — every name with distinctive
    words — takes the fast path: no masks of the other cases are made."""
    q_kind, q_mask, q_has, q_tokens = q.arrays(vocabulary)
    e_kind, e_mask, e_has, e_tokens = e.arrays(vocabulary)
    everyone = bool(q_has.all() and e_has.all())
    # Both cores for a large matrix: in the console it runs in a job of low priority, which the web
    # workers take the CPU from whenever they need it.
    workers = -1 if len(q.distinct) * len(e.distinct) > 1_000_000 else 1
    score = process.cdist(q.distinct, e.distinct, scorer=fuzz.ratio, processor=None,
                          score_cutoff=NAME_SIMILARITY * 100, dtype=np.uint8, workers=workers)
    if not everyone:
        score[~(q_has[:, None] & e_has[None, :])] = 0
    qm, em = q_mask[:, None], e_mask[None, :]
    common = qm & em
    maybe = common == qm
    maybe |= common == em
    del common
    maybe &= score == 0
    if not everyone:
        maybe &= q_has[:, None] & e_has[None, :]
    pairs = _pairs(maybe)
    del maybe
    if len(pairs[0]):
        subset = _subsets(q_tokens, e_tokens, pairs)
        score[pairs[0][subset], pairs[1][subset]] = 100
    if not everyone:
        none_both = ~q_has[:, None] & ~e_has[None, :]
        score[none_both & (q_kind[:, None] == e_kind[None, :]) & (q_kind != NO_KIND)[:, None]] = 100
        one = q_has[:, None] ^ e_has[None, :]
        if one.any():
            whole = process.cdist(q.full, e.full, scorer=fuzz.ratio, processor=None,
                                  score_cutoff=FULL_NAME_SIMILARITY * 100, dtype=np.uint8, workers=1)
            score[one] = whole[one]
    alike = score > 0
    if (q_kind != NO_KIND).any() and (e_kind != NO_KIND).any():    # two stated kinds must be one
        alike &= (q_kind == NO_KIND)[:, None] | (e_kind == NO_KIND)[None, :] | (q_kind[:, None] == e_kind[None, :])
    return alike, score


def names_alike(a: tuple, b: tuple) -> bool:
    """Two names (`name_key`: kind, distinctive words, whole-name key) that may be one entity: not of two
    different stated kinds, not with different numbers, and the distinctive words of one contain the
    other's or read alike (rapidfuzz ratio ≥ NAME_SIMILARITY); without distinctive words on either side,
    the same stated kind; without them on one side, whole names nearly equal (≥ FULL_NAME_SIMILARITY)."""
    if _numbers(a) != _numbers(b):
        return False         # "Klub Integracji Społecznej nr 1" and "… nr 2" are two clubs
    q, e = _Names(), _Names()
    q.add(a)
    e.add(b)
    return bool(_alike(q, e, {})[0][0, 0])


@dataclass
class _Block:
    ids: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    keys: _Names = field(default_factory=_Names)

    def id_array(self) -> np.ndarray:
        cached = getattr(self, "_ids", None)
        if cached is None or len(cached) != len(self.ids):
            cached = self._ids = np.array(self.ids, dtype=object)
        return cached


def _more(n: int, where: str) -> str:
    return f"i jeszcze {count(n, 'podobna nazwa')} w tej samej {where} (pokazano {MAX_PER_ROW} najbardziej podobnych)"


INDEXED = ("id", "name", "krs", "nip", "gmina_teryt", "locality")


def _column(frame: pd.DataFrame, name: str) -> list[str]:
    """A column as a list of strings ('' for a missing value or column): no per-row pandas access."""
    if name not in frame:
        return [""] * len(frame)
    return ["" if v is None or v != v else str(v) for v in frame[name].tolist()]


class DuplicateIndex:
    def __init__(self, frame: pd.DataFrame):
        self.by_krs: dict[str, list[tuple[str, str]]] = defaultdict(list)
        self.by_nip: dict[str, list[tuple[str, str]]] = defaultdict(list)
        # (place, numbers in the name) → the block's names: names with other numbers are never alike, so
        # a candidate is compared only with its own block.
        self.blocks: dict[tuple[str, tuple], _Block] = defaultdict(_Block)
        self.vocabulary: dict[str, int] = {}
        for ident, name, krs, nip, gmina, locality in zip(*(_column(frame, c) for c in INDEXED)):
            entry = (ident, name)
            if krs:
                self.by_krs[krs_normalise(krs)].append(entry)
            if nip:
                self.by_nip[digits_only(nip)].append(entry)
            key = name_key(name, locality)
            for place in _place_keys(gmina, locality, of_entry=True):
                block = self.blocks[place, _numbers(key)]
                block.ids.append(entry[0])
                block.names.append(entry[1])
                block.keys.add(key)

    def warnings(self, candidate: dict, exclude_id: str = "") -> list[dict]:
        """[{code, text, other_id}] for `candidate` (a record dict); `exclude_id` is the entity itself."""
        return self.warnings_many([candidate], [exclude_id])[0]

    def warnings_many(self, candidates: list[dict], exclude_ids: list[str]) -> list[list[dict]]:
        """`warnings` of many candidates at once: each block is compared with all its candidates in one go."""
        out: list[list[dict]] = [self._same_numbers(c, x) for c, x in zip(candidates, exclude_ids)]
        asked: dict[tuple, list[tuple[int, tuple]]] = defaultdict(list)
        for i, c in enumerate(candidates):
            name = str(c.get("name") or "")
            if not name:
                continue
            key = name_key(name, c.get("locality", ""))
            for place in _place_keys(c.get("gmina_teryt", ""), c.get("locality", "")):
                asked[place, _numbers(key)].append((i, key))
        # i → [(score, -position, other id, other name, where)] of the best hits, and how many there are.
        # A candidate's blocks hold different entries (its gmina's, and its locality's without a gmina).
        found: dict[int, list[tuple]] = defaultdict(list)
        totals: dict[int, int] = defaultdict(int)
        for block_key, queries in asked.items():
            block = self.blocks.get(block_key)
            if block is None:
                continue
            where = "gminie" if block_key[0].startswith("g:") else "miejscowości"  # l: and l0: alike
            ids = block.id_array()
            for start in range(0, len(queries), CHUNK):
                chunk = queries[start:start + CHUNK]
                names = _Names()
                for _i, key in chunk:
                    names.add(key)
                alike, score = _alike(names, block.keys, self.vocabulary)
                r, c = _pairs(alike)
                excluded = np.array([exclude_ids[i] for i, _key in chunk], dtype=object)
                keep = ids[c] != excluded[r]
                r, c = r[keep], c[keep]
                if not len(r):
                    continue
                sc = score[r, c].astype(np.int16)
                order = np.lexsort((c, -sc, r))                 # by row, the best first
                r, c, sc = r[order], c[order], sc[order]
                rank = np.arange(len(r)) - np.searchsorted(r, r)
                for row, n in zip(*np.unique(r, return_counts=True)):
                    totals[chunk[row][0]] += int(n)
                top = rank < MAX_PER_ROW
                for row, j, value in zip(r[top].tolist(), c[top].tolist(), sc[top].tolist()):
                    found[chunk[row][0]].append((value, -j, block.ids[j], block.names[j], where))
        for i, hits in found.items():
            ranked = sorted(hits, reverse=True)[:MAX_PER_ROW]
            for _score, _j, other, name, where in ranked:
                out[i].append({"code": "similar_name", "other_id": other,
                               "text": f"bardzo podobna nazwa w tej samej {where}: {other} ({name})"})
            if totals[i] > len(ranked):
                out[i].append({"code": "similar_name", "other_id": "", "text": _more(totals[i] - len(ranked), ranked[0][4])})
        return out

    def _same_numbers(self, candidate: dict, exclude_id: str) -> list[dict]:
        out: list[dict] = []
        for code, number, others, label in (
                ("duplicate_krs", krs_normalise(str(candidate.get("krs") or "")), self.by_krs, "numer KRS"),
                ("duplicate_nip", digits_only(str(candidate.get("nip") or "")), self.by_nip, "NIP")):
            hits = list(dict.fromkeys(o for o in others.get(number, []) if o[0] != exclude_id)) if number else []
            out += [{"code": code, "other_id": o[0], "text": f"ten sam {label} {number} ma już {o[0]} ({o[1]})"}
                    for o in hits[:MAX_PER_ROW]]
            if len(hits) > MAX_PER_ROW:
                out.append({"code": code, "other_id": "",
                            "text": f"ten sam {label} {number} ma jeszcze {count(len(hits) - MAX_PER_ROW, 'podmiot')}"})
        return out


# A remark that says two records may be one: "ta sama placówka", "ten sam", "to samo", "duplikat".
_SAME_RE = re.compile(r"\b(?:t[aeo] sam[aeo]?|tym samym|duplikat\w*)\b", re.IGNORECASE)
_ID_RE = re.compile(r"\b[a-z]{2,6}-[a-z]?\d{3,}\b", re.IGNORECASE)


def noted_duplicates(rows: pd.DataFrame, record: pd.DataFrame, column: str = "internal_notes") -> list[dict]:
    """Warnings for rows whose remark (`column`) says they may be the same as an entity of `record` it names
    by id; a remark that names an id without saying so ("inna placówka niż swk-012") warns of nothing."""
    if rows.empty or column not in rows:
        return []
    names = dict(zip(record["id"], record["name"]))
    out = []
    for row in rows.to_dict("records"):
        note = str(row.get(column) or "")
        if not _SAME_RE.search(note):
            continue
        for other in dict.fromkeys(_ID_RE.findall(note)):
            if other in names and other != row["id"]:
                out.append({"row": row["row"], "column": column, "value": note[:200],
                            "reason": f"uwaga wiersza mówi, że to może być ten sam podmiot co {other} "
                                      f"({names[other]}) — możliwy duplikat, sprawdź"})
    return out


def find_duplicates(rows: pd.DataFrame, record: pd.DataFrame) -> list[dict]:
    """Import warnings (row, column, reason, value) for `rows` (imported: row, id, name, krs, nip,
    gmina_teryt, locality) against `record` — the record after the import, the rows included, so that
    two rows of one file are compared with each other too."""
    if rows.empty:
        return []
    index = DuplicateIndex(record)
    column = {"duplicate_krs": "krs", "duplicate_nip": "nip", "similar_name": "name"}
    records = [dict(zip(("row", *INDEXED), values))
               for values in zip(rows["row"].tolist(), *(_column(rows, c) for c in INDEXED))]
    out = []
    for row, warnings in zip(records, index.warnings_many(records, [r["id"] for r in records])):
        for w in warnings:
            out.append({"row": row["row"], "column": column[w["code"]], "value": row[column[w["code"]]],
                        "reason": w["text"] + " — możliwy duplikat"})
    return out + noted_duplicates(rows, record)
