"""Duplicate warnings: is this entity (new, or as a proposal would make it) already in the register?

Four signs, each a warning for a person to judge, never a refusal: the same KRS number, the same NIP,
a very similar name in the same gmina or the same locality (a record may state either), or a remark of
the row itself that says it may be the same as an entity of the register ("nie wiadomo, czy to ta sama
placówka co swk-029" — a compiler's caveat the names alone would not show). Names are
compared by their distinctive words — without the words that say the kind of entity ("spółdzielnia
socjalna", "warsztat terapii zajęciowej") and the place ("w Kielcach"): "Spółdzielnia Socjalna „Ares”"
and "Spółdzielnia Socjalna „Arka”" in one town are two entities although their whole names are 92 %
alike, while "SS Ares" and "Spółdzielnia Socjalna „ARES” w Kielcach" may well be one.

`DuplicateIndex` is built once per register so that checking many candidates costs a lookup each, not a
scan of the register (the names are compared only within one gmina).
"""
from __future__ import annotations

import re
from collections import defaultdict
from difflib import SequenceMatcher

import pandas as pd

from geoes.register.identifiers import digits_only, krs_normalise
from geoes.common.text import ascii_key, text_key

NAME_SIMILARITY = 0.85        # of the distinctive parts of two names
FULL_NAME_SIMILARITY = 0.95   # of whole names, when one of them has no distinctive part
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


def _place_keys(gmina_teryt: str, locality: str) -> list[str]:
    """The gmina code and the locality, each a key: a record may have one, the other or both."""
    gmina_teryt = str(gmina_teryt or "").strip()
    locality = ascii_key(locality or "")
    return [k for k in ("g:" + gmina_teryt if gmina_teryt else "", "l:" + locality if locality else "") if k]


def _is_place_word(word: str, place_words: list[str]) -> bool:
    """'kielcach' is Kielce, 'jedrzejowie' Jędrzejów: the same stem, a Polish case ending."""
    return any(len(word) >= 4 and word[:max(4, len(p) - 2)] == p[:max(4, len(p) - 2)] for p in place_words)


def distinctive(name: str, locality: str = "") -> tuple[str, ...]:
    """The words of a name that tell one entity from another of its kind in the same place."""
    place_words = [w for w in re.split(r"[\s-]+", ascii_key(locality)) if len(w) >= 4]
    words = re.findall(r"[0-9a-z]+", ascii_key(name))
    return tuple(w for w in words if w not in GENERIC_WORDS and not _is_place_word(w, place_words))


def kind(name: str) -> str:
    """The kind a name states ('zaz', 'ss', 'fundacja' …), '' when it states none."""
    words = " ".join(re.findall(r"[0-9a-z]+", ascii_key(name)))
    for phrase, code in KINDS:
        if re.search(rf"\b{phrase}\b", words):
            return code
    return next((w for w in words.split() if w in _KIND_WORDS), "")


def name_key(name: str, locality: str = "") -> tuple:
    return kind(name), distinctive(name, locality), text_key(name)


def similar(a: str, b: str) -> float:
    return SequenceMatcher(None, text_key(a), text_key(b)).ratio()


def _ratio(a: str, b: str, threshold: float) -> float:
    """difflib's ratio, 0 as soon as its cheap upper bounds rule the threshold out."""
    m = SequenceMatcher(None, a, b)
    if m.real_quick_ratio() < threshold or m.quick_ratio() < threshold:
        return 0.0
    return m.ratio()


def _numbers(key: tuple) -> tuple[str, ...]:
    """The numbers among a name's distinctive words (`name_key`)."""
    return tuple(w for w in key[1] if w.isdigit())


def names_alike(a: tuple, b: tuple) -> bool:
    """Two names (`name_key`: kind, distinctive words, whole-name key) that may be one entity: not of two
    different stated kinds, not with different numbers, and the distinctive words of one contain the
    other's or read alike; without distinctive words, the whole names are nearly equal."""
    (da, wa, ka), (db, wb, kb) = a, b
    if da and db and da != db:
        return False
    if _numbers(a) != _numbers(b):
        return False         # "Klub Integracji Społecznej nr 1" and "… nr 2" are two clubs
    if not wa and not wb and da and da == db:
        return True          # "WTZ w Jędrzejowie" and "Warsztat Terapii Zajęciowej w Jędrzejowie"
    if wa and wb:
        if set(wa) <= set(wb) or set(wb) <= set(wa):
            return True
        return _ratio(" ".join(wa), " ".join(wb), NAME_SIMILARITY) >= NAME_SIMILARITY
    return _ratio(ka, kb, FULL_NAME_SIMILARITY) >= FULL_NAME_SIMILARITY


class DuplicateIndex:
    def __init__(self, frame: pd.DataFrame):
        self.by_krs: dict[str, list[tuple[str, str]]] = defaultdict(list)
        self.by_nip: dict[str, list[tuple[str, str]]] = defaultdict(list)
        # place → numbers in the name → [(id, name, name_key)]: names with other numbers are never alike,
        # so a candidate is compared only with its own bucket (a 100,000-row register stays fast).
        self.by_place: dict[tuple[str, tuple], list[tuple]] = defaultdict(list)
        for row in frame.fillna("").astype(str).to_dict("records"):
            entry = (row.get("id", ""), row.get("name", ""))
            if row.get("krs"):
                self.by_krs[krs_normalise(row["krs"])].append(entry)
            if row.get("nip"):
                self.by_nip[digits_only(row["nip"])].append(entry)
            named = (*entry, name_key(entry[1], row.get("locality", "")))
            for place in _place_keys(row.get("gmina_teryt", ""), row.get("locality", "")):
                self.by_place[place, _numbers(named[2])].append(named)

    def warnings(self, candidate: dict, exclude_id: str = "") -> list[dict]:
        """[{code, text, other_id}] for `candidate` (a record dict); `exclude_id` is the entity itself."""
        out: list[dict] = []
        seen: set[tuple[str, str]] = set()

        def add(code: str, other: tuple[str, str], text: str) -> None:
            if other[0] == exclude_id or (code, other[0]) in seen:
                return
            seen.add((code, other[0]))
            out.append({"code": code, "other_id": other[0], "text": text})

        krs = krs_normalise(str(candidate.get("krs") or ""))
        for other in self.by_krs.get(krs, []) if krs else []:
            add("duplicate_krs", other, f"ten sam numer KRS {krs} ma już {other[0]} ({other[1]})")
        nip = digits_only(str(candidate.get("nip") or ""))
        for other in self.by_nip.get(nip, []) if nip else []:
            add("duplicate_nip", other, f"ten sam NIP {nip} ma już {other[0]} ({other[1]})")
        name = str(candidate.get("name") or "")
        places = _place_keys(candidate.get("gmina_teryt", ""), candidate.get("locality", "")) if name else []
        key = name_key(name, candidate.get("locality", ""))
        compared: set[str] = set()
        for place in places:
            where = "gminie" if place.startswith("g:") else "miejscowości"
            for other_id, other_name, other_key in self.by_place.get((place, _numbers(key)), []):
                if other_id in compared or other_id == exclude_id:
                    continue
                compared.add(other_id)
                if names_alike(key, other_key):
                    add("similar_name", (other_id, other_name),
                        f"bardzo podobna nazwa w tej samej {where}: {other_id} ({other_name})")
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
    out = []
    for row in rows.to_dict("records"):
        for w in index.warnings(row, exclude_id=row["id"]):
            out.append({"row": row["row"], "column": column[w["code"]], "value": row[column[w["code"]]],
                        "reason": w["text"] + " — możliwy duplikat"})
    return out + noted_duplicates(rows, record)
