"""Duplicate warnings: is this entity (new, or as a proposal would make it) already in the register?

Three signs, each a warning for a person to judge, never a refusal: the same KRS number, the same NIP,
or a very similar name in the same gmina or the same locality (a record may state either). Names are
compared after `text_key` (case, quotes, dashes) with difflib's ratio; the threshold is high because
"Spółdzielnia Socjalna X" and "Spółdzielnia Socjalna Y" in one town are different entities.

`DuplicateIndex` is built once per register so that checking many candidates costs a lookup each, not a
scan of the register (the names are compared only within one gmina).
"""
from __future__ import annotations

from collections import defaultdict
from difflib import SequenceMatcher

import pandas as pd

from geoes.common.polish import percent
from geoes.register.identifiers import digits_only, krs_normalise
from geoes.register.normalise import ascii_key, text_key

NAME_SIMILARITY = 0.9


def _place_keys(gmina_teryt: str, locality: str) -> list[str]:
    """The gmina code and the locality, each a key: a record may have one, the other or both."""
    gmina_teryt = str(gmina_teryt or "").strip()
    locality = ascii_key(locality or "")
    return [k for k in ("g:" + gmina_teryt if gmina_teryt else "", "l:" + locality if locality else "") if k]


def similar(a: str, b: str) -> float:
    return SequenceMatcher(None, text_key(a), text_key(b)).ratio()


class DuplicateIndex:
    def __init__(self, frame: pd.DataFrame):
        self.by_krs: dict[str, list[tuple[str, str]]] = defaultdict(list)
        self.by_nip: dict[str, list[tuple[str, str]]] = defaultdict(list)
        self.by_place: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for row in frame.fillna("").astype(str).to_dict("records"):
            entry = (row.get("id", ""), row.get("name", ""))
            if row.get("krs"):
                self.by_krs[krs_normalise(row["krs"])].append(entry)
            if row.get("nip"):
                self.by_nip[digits_only(row["nip"])].append(entry)
            for place in _place_keys(row.get("gmina_teryt", ""), row.get("locality", "")):
                self.by_place[place].append(entry)

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
        for place in places:
            where = "gminie" if place.startswith("g:") else "miejscowości"
            for other in self.by_place.get(place, []):
                score = similar(name, other[1])
                if score >= NAME_SIMILARITY:
                    add("similar_name", other, f"bardzo podobna nazwa w tej samej {where}: {other[0]} ({other[1]}), "
                                               f"podobieństwo {percent(score * 100, 0)}")
        return out
