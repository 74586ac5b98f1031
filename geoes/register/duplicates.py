"""Possible duplicates among imported rows and the register: warned, never merged or dropped.

Two entities may well share a KRS or NIP (a WTZ often lists its operator's numbers), and two KGW in
one gmina may have near names; a person decides. Warned are imported rows that:
* hold the KRS or NIP of another entity (in the file or the register);
* have a name very like another's (token-sort similarity ≥ `SIMILAR_NAME` on the folded names, the
  numbers in both names equal) in the same gmina — or the same locality when no gmina is stated.
"""
from __future__ import annotations

import re

import pandas as pd
from rapidfuzz import fuzz, process

from geoes.common.text import text_key

SIMILAR_NAME = 90
MAX_NAMED = 3           # a warning names at most this many others


def _same_numbers(rows: pd.DataFrame, record: pd.DataFrame) -> list[dict]:
    out = []
    for col, label in (("krs", "KRS"), ("nip", "NIP")):
        given = record[record[col].ne("")]
        holders = given.groupby(col)["id"].agg(list).to_dict()
        for _, r in rows[rows[col].ne("")].iterrows():
            others = [x for x in holders.get(r[col], []) if x != r["id"]]
            if others:
                out.append({"row": r["row"], "column": col, "value": r[col],
                            "reason": f"ten sam {label} co {', '.join(others[:MAX_NAMED])} — możliwy duplikat "
                                      "(albo jednostka tej samej organizacji)"})
    return out


def _place_key(frame: pd.DataFrame) -> pd.Series:
    return frame["gmina_teryt"].where(frame["gmina_teryt"].ne(""), "m:" + frame["locality"].map(text_key))


def _numbers(name: str) -> tuple[str, ...]:
    return tuple(re.findall(r"\d+", name))


def _similar_names(rows: pd.DataFrame, record: pd.DataFrame) -> list[dict]:
    out = []
    rows = rows.assign(_key=_place_key(rows), _name=rows["name"].map(text_key))
    record = record.assign(_key=_place_key(record), _name=record["name"].map(text_key))
    record = record[record["_key"].ne("m:") & record["_name"].ne("")]
    groups = record.groupby("_key")
    for key, mine in rows[rows["_key"].ne("m:") & rows["_name"].ne("")].groupby("_key"):
        if key not in groups.groups:
            continue
        theirs = groups.get_group(key)
        scores = process.cdist(mine["_name"].tolist(), theirs["_name"].tolist(), scorer=fuzz.token_sort_ratio,
                               score_cutoff=SIMILAR_NAME, workers=1)
        for a, (_, r) in enumerate(mine.iterrows()):
            hits = [theirs.iloc[b] for b in scores[a].nonzero()[0]
                    if theirs.iloc[b]["id"] != r["id"] and _numbers(theirs.iloc[b]["_name"]) == _numbers(r["_name"])]
            if hits:
                named = ", ".join(f"{h['id']} „{h['name']}”" for h in hits[:MAX_NAMED])
                out.append({"row": r["row"], "column": "name", "value": r["name"],
                            "reason": f"bardzo podobna nazwa w tej samej gminie: {named} — możliwy duplikat"})
    return out


def find_duplicates(rows: pd.DataFrame, record: pd.DataFrame) -> list[dict]:
    """Warnings (row, column, reason, value) for `rows` (imported: row, id, name, krs, nip, gmina_teryt,
    locality) against `record` (the record after the import, the rows included)."""
    if rows.empty:
        return []
    return _same_numbers(rows, record) + _similar_names(rows, record)
