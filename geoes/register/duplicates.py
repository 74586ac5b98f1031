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
    """Compared only within one place and one set of numbers in the name ("nr 1" is not "nr 2")."""
    def keyed(frame: pd.DataFrame) -> pd.DataFrame:
        names = frame["name"].map(text_key)
        key = _place_key(frame) + "|" + names.map(lambda n: ",".join(_numbers(n)))
        out = pd.DataFrame({"key": key, "name_key": names, "id": frame["id"], "name": frame["name"],
                            "row": frame.get("row", pd.Series("", index=frame.index))})
        return out[~key.str.startswith("m:|") & names.ne("")]

    mine, theirs = keyed(rows), keyed(record)
    # Only places (and name numbers) held by at least two entities can hold a duplicate.
    crowded = theirs["key"].value_counts()
    crowded = set(crowded.index[crowded.ge(2)]) & set(mine["key"])
    mine, theirs = mine[mine["key"].isin(crowded)], theirs[theirs["key"].isin(crowded)]
    groups = dict(list(theirs.groupby("key")))
    out = []
    for key, group in mine.groupby("key"):
        other = groups[key]
        scores = process.cdist(group["name_key"].tolist(), other["name_key"].tolist(), scorer=fuzz.token_sort_ratio,
                               score_cutoff=SIMILAR_NAME, workers=1)
        ids, names = other["id"].to_numpy(), other["name"].to_numpy()
        for a, (row, own_id, name) in enumerate(zip(group["row"], group["id"], group["name"])):
            hits = [f"{ids[b]} „{names[b]}”" for b in scores[a].nonzero()[0] if ids[b] != own_id]
            if hits:
                out.append({"row": row, "column": "name", "value": name,
                            "reason": "bardzo podobna nazwa w tej samej gminie: " + ", ".join(hits[:MAX_NAMED])
                                      + " — możliwy duplikat"})
    return out


def find_duplicates(rows: pd.DataFrame, record: pd.DataFrame) -> list[dict]:
    """Warnings (row, column, reason, value) for `rows` (imported: row, id, name, krs, nip, gmina_teryt,
    locality) against `record` (the record after the import, the rows included)."""
    if rows.empty:
        return []
    return _same_numbers(rows, record) + _similar_names(rows, record)
