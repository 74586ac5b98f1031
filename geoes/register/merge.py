"""Laying an imported register over the entity record: which row is which entity, and what changes.

Matching (`match_rows`), in order: the row's id; the id a row without one gets (`stable_id` of name and
locality, so a re-import finds its rows again); a KRS or NIP of an existing entity whose name is the
same or similar — a WTZ that lists its operator's KRS is not its operator, so a shared number with a
different name matches nothing (the duplicate check warns instead). Two rows of one file that come to
the same entity: the second is rejected as a repetition of the first (the entity is kept).

Merging a register export (`merge_rows`): what a row states (non-empty cells) is laid over its entity;
an empty cell or a missing column never erases a value; `sources` are united; coordinates are replaced
only by ones of at least the same precision; when the place of a placed entity changes (locality,
gmina, powiat; or the street of a street- or address-level point) and the row gives no coordinates, the
old point is removed so that `geocode` places it again.

Corrections (`correct_rows`): facts from a third party about existing entities, one field at a time.
They never overwrite: an empty field is filled (a street, also when it only gains its house number:
"ul. Pietraszki" → "ul. Pietraszki 15"); `description`, `as_of`, `sources` and `internal_notes` are
added to; a value that differs from the register's, and any change to who or what the entity is (name,
types, legal form, operator, identifiers, status) or to its point, is not applied but proposed for review.
So is a value a person must check first: a phone number (numbers go stale, and a wrong one rings a
stranger), a value whose note asks for a check ("sprawdzić", "potwierdzić", "nie potwierdzone"…), and a
contact or address of the unit whose note speaks of its operator ("strona prowadzącego…"): an operator's
contact goes to the operator's fields (`operator_phone`…), never silently to the unit's own. The note of
an applied correction is kept in the entity's internal notes (never published).
"""
from __future__ import annotations

import hashlib
import re

import numpy as np
import pandas as pd
from rapidfuzz import fuzz

from geoes.common.labels import FIELD_LABELS
from geoes.common.text import fold, text_key
from geoes.register.normalise import is_specific_type, name_type
from geoes.register.record import COLUMNS, OPERATOR_CONTACTS, SOURCES_SEPARATOR

PRECISION_RANK = {"none": 0, "gmina": 1, "locality": 2, "street": 3, "address": 4}
PLACE_COLUMNS = ("locality", "gmina_teryt", "powiat_teryt")
COORDINATE_COLUMNS = ("lat", "lon", "location_precision", "geocoder")
IDENTITY_FIELDS = ("id", "name", "types", "legal_form", "operator", "krs", "nip", "regon", "status",
                   "social_enterprise")
# Numbers of the organisation that runs a unit: facts about the operator the register names, so they are
# filled in only where it names one (otherwise they would say who runs the unit: identity, for review).
OPERATOR_NUMBERS = ("operator_krs", "operator_nip")
# The same for the operator's contacts: Caritas's phone is a fact about the Caritas the register names.
OPERATOR_FIELDS = (*OPERATOR_NUMBERS, *OPERATOR_CONTACTS)
ADDITIVE_FIELDS = {"description": "; ", "as_of": "; ", "sources": SOURCES_SEPARATOR, "internal_notes": "; "}
PHONE_FIELDS = ("phone", "operator_phone")
# The unit's own contacts and address: a note that speaks of the operator makes such a value a question.
OWN_CONTACT_FIELDS = ("phone", "email", "website", "street", "postal_code", "locality")
# A note that asks for a check (folded: no diacritics, lower case).
CHECK_NOTE_RE = re.compile(r"\b(?:sprawdzic|potwierdzic|rozstrzygnac|zweryfikowac|do sprawdzenia|do weryfikacji|"
                           r"nie potwierdzon\w*|niepotwierdzon\w*)\b")
OPERATOR_NOTE_RE = re.compile(r"\bprowadzac\w*")
REVIEW_COLUMNS = ["row", "id", "name", "column", "current", "proposed", "as_of", "sources", "note", "reason"]
ID_PREFIX = "pes-"
SAME_NAME = 80          # token-set similarity (0–100) above which a shared KRS/NIP means the same entity


def stable_id(name: str, locality: str) -> str:
    """A deterministic id for a row without one: the same name and locality always give the same id."""
    key = f"{text_key(name)}|{text_key(locality)}"
    return ID_PREFIX + hashlib.sha1(key.encode("utf-8")).hexdigest()[:10]


def similar_names(a: str, b: str) -> bool:
    return not a or not b or fuzz.token_set_ratio(text_key(a), text_key(b)) >= SAME_NAME


def _stated_types(row: pd.Series) -> set[str]:
    types = {t for t in row["types"].split(";") if t}
    named = name_type(row["name"])[0]
    return types or ({named} if is_specific_type(named) else set())


def same_entity(row: pd.Series, other: pd.Series) -> bool:
    """A row sharing a KRS/NIP with an entity is that entity when the names are alike and the types
    do not differ ("WTZ Caritas" with Caritas's KRS is a unit Caritas runs, not Caritas)."""
    mine, theirs = _stated_types(row), {t for t in other["types"].split(";") if t}
    return similar_names(row["name"], other["name"]) and not (mine and theirs and not mine & theirs)


# --- matching -------------------------------------------------------------------------------------

def _by_number(existing: pd.DataFrame, row: pd.Series) -> int | None:
    """The one existing entity that holds the row's KRS or NIP and is the same entity (see `same_entity`)."""
    for col in ("krs", "nip"):
        if not row[col]:
            continue
        hits = [i for i in existing.index[existing[col].eq(row[col])] if same_entity(row, existing.loc[i])]
        if len(hits) == 1:
            return hits[0]
    return None


def match_rows(frame: pd.DataFrame, existing: pd.DataFrame) -> tuple[pd.DataFrame, list[dict]]:
    """Add `_target` (position in `existing`, -1 for a new entity) and the resolved `id` to each row.

    Returns (the rows that go on, rejections of rows repeating an earlier row's entity).
    """
    by_id = pd.Series(existing.index, index=existing["id"])
    by_id = by_id[~by_id.index.duplicated() & (by_id.index != "")]
    given = frame["id"].ne("")
    ident = frame["id"].where(given, [stable_id(n, loc) if n else "" for n, loc in zip(frame["name"], frame["locality"])])
    target = ident.map(by_id).fillna(-1).astype(int)
    # A row without an id that matches no id: its KRS or NIP may name an existing entity (few rows: a loop).
    for i in frame.index[~given & target.lt(0) & (frame["krs"].ne("") | frame["nip"].ne(""))]:
        hit = _by_number(existing, frame.loc[i])
        if hit is not None:
            target[i], ident[i] = hit, existing.at[hit, "id"]
    key = pd.Series(np.where(target.ge(0), "old:" + target.astype(str), "new:" + ident), index=frame.index)
    repeated = ident.ne("") & key.duplicated(keep="first")
    first_row = frame.loc[~key.duplicated(keep="first")].set_index(key[~key.duplicated(keep="first")])["row"]
    problems = [{"_index": i, "row": frame.at[i, "row"], "column": "id",
                 "reason": f"ten sam podmiot co wiersz {first_row[key[i]]} ({ident[i]}) — pominięto powtórzenie"}
                for i in frame.index[repeated]]
    kept = frame.loc[~repeated].copy()
    kept["_target"], kept["id"] = target[~repeated], ident[~repeated]
    return kept, problems


# --- merging a register export --------------------------------------------------------------------

def _union(old: str, new: str, sep: str = SOURCES_SEPARATOR) -> str:
    items: list[str] = []
    for part in old.split(sep.strip()) + new.split(sep.strip()):
        part = part.strip()
        if part and part not in items:
            items.append(part)
    return sep.join(items)


def _rank(precision: pd.Series, lat: pd.Series) -> pd.Series:
    rank = precision.replace("", "locality").map(PRECISION_RANK).fillna(0).astype(int)
    return rank.where(lat.ne(""), 0)


def merge_rows(rows: pd.DataFrame, existing: pd.DataFrame, source_label: str) -> tuple[pd.DataFrame, list[str]]:
    """Candidate records (`row`, COLUMNS, `_target`) for matched rows (`_target` ≥ 0) and new ones.

    Returns (candidates, ids whose old point was removed because their place changed).
    """
    new = rows.reindex(columns=["row", *COLUMNS, "_target"]).fillna("")
    coords = new["lat"].ne("") & new["lon"].ne("")
    new.loc[coords, "location_precision"] = new.loc[coords, "location_precision"].replace("", "locality")
    new.loc[coords, "geocoder"] = new.loc[coords, "geocoder"].replace("", source_label)
    matched = new["_target"].ge(0)
    fresh = new[~matched].copy()
    fresh.loc[~coords[~matched], ["lat", "lon", "location_precision", "geocoder"]] = ["", "", "none", ""]
    if not matched.any():
        return fresh, []
    over, relocated = _overlay(new[matched], existing, coords[matched])
    return pd.concat([over, fresh]).sort_index(), relocated


def _overlay(new: pd.DataFrame, existing: pd.DataFrame, coords: pd.Series):
    old = existing.loc[new["_target"].to_numpy(), COLUMNS].set_axis(new.index)
    out = new.copy()
    plain = [c for c in COLUMNS if c not in ("id", "sources", *COORDINATE_COLUMNS)]
    out[plain] = new[plain].where(new[plain].ne(""), old[plain])
    out["id"] = old["id"]
    out["sources"] = [_union(o, n) for o, n in zip(old["sources"], new["sources"])]
    moved = (out[list(PLACE_COLUMNS)] != old[list(PLACE_COLUMNS)]).any(axis=1) | (
        out["street"].ne(old["street"]) & old["location_precision"].isin(["street", "address"]))
    better = coords & (_rank(new["location_precision"], new["lat"]) >= _rank(old["location_precision"], old["lat"]))
    keep_old = ~better
    out.loc[keep_old, list(COORDINATE_COLUMNS)] = old.loc[keep_old, list(COORDINATE_COLUMNS)]
    clear = keep_old & ~coords & old["lat"].ne("") & moved
    out.loc[clear, list(COORDINATE_COLUMNS)] = ["", "", "none", ""]
    return out, list(out.loc[clear, "id"])


# --- corrections ----------------------------------------------------------------------------------

def _review(p: dict, current: str, reason: str) -> dict:
    return {**{k: p.get(k, "") for k in REVIEW_COLUMNS}, "current": current, "reason": reason}


def _to_check(p: dict, col: str) -> str:
    """Why a correction waits for a person's check before it is applied ('' when it need not)."""
    note = fold(p.get("note") or "")
    if col in PHONE_FIELDS:
        return "numer telefonu z pliku poprawek trafia na stronę dopiero po sprawdzeniu (numery się " \
               "dezaktualizują, a błędny numer to telefon do obcej osoby) — nie zastosowano"
    if CHECK_NOTE_RE.search(note):
        return f"źródło prosi o sprawdzenie („{p['note']}”) — nie zastosowano"
    if col in OWN_CONTACT_FIELDS and OPERATOR_NOTE_RE.search(note):
        return "uwaga źródła mówi o podmiocie prowadzącym: wartość może być kontaktem prowadzącego, nie jednostki " \
               "(pola prowadzącego: operator_phone, operator_email, operator_website, operator_address) — nie zastosowano"
    return ""


def _correct_one(p: dict, record: dict) -> tuple[str, str]:
    """('apply', new value) | ('same', '') | ('review', reason) for one proposed field value."""
    col, value, current = p["column"], p["proposed"], record.get(p["column"], "")
    if col in ADDITIVE_FIELDS:
        if text_key(value) in text_key(current):
            return "same", ""
        return "apply", _union(current, value, ADDITIVE_FIELDS[col]) if current else value
    if current == value:
        return "same", ""
    if col in OPERATOR_FIELDS and not record.get("operator"):
        return "review", "dane podmiotu prowadzącego, a rejestr nie podaje prowadzącego — najpierw ustal " \
                         "prowadzącego (np. w KRS) — nie zastosowano"
    if col in IDENTITY_FIELDS:
        why = "sprzeczne z rejestrem: " if current else ""
        return "review", why + "zmiana tożsamości podmiotu (nazwa, typ, forma prawna, prowadzący, numery, status) " \
                               "wymaga sprawdzenia, np. w KRS — nie zastosowano"
    if col in COORDINATE_COLUMNS:
        return "review", "współrzędne z poprawki nie zastępują punktu z geokodera — nie zastosowano"
    check = _to_check(p, col)
    if check:
        return "review", ("sprzeczne z rejestrem; " if current else "") + check
    if current and not (col == "street" and adds_house_number(current, value)):
        return "review", "sprzeczne z rejestrem — nie zastosowano"
    return "apply", value


def adds_house_number(current: str, value: str) -> bool:
    """"ul. Pietraszki" → "ul. Pietraszki 15": the same street with its number — a fact added, not contradicted."""
    old, new = text_key(current), text_key(value)
    return new.startswith(old + " ") and bool(re.fullmatch(r"\d+[a-z]?(?:/\d+[a-z]?)?", new[len(old) + 1:]))


def correct_rows(proposals: list[dict], existing: pd.DataFrame):
    """Apply field corrections (dicts: row, id, name, column, proposed, as_of, sources, note).

    Returns (candidate records of changed entities with `row` and `_target`, applied changes as dicts
    row/id/name/column/old/new, review rows, rejections).
    """
    by_id = {v: i for i, v in existing["id"].items()}
    records: dict[int, dict] = {}
    first_row: dict[int, int] = {}
    applied, review, problems = [], [], []
    for p in proposals:
        target = by_id.get(p["id"])
        if target is None:
            problems.append({"row": p["row"], "column": "id",
                             "reason": f"brak podmiotu o identyfikatorze „{p['id']}” w rejestrze — poprawka pominięta"})
            continue
        record = records.setdefault(target, existing.loc[target, COLUMNS].to_dict())
        if p.get("name") and not similar_names(p["name"], record["name"]):
            review.append(_review(p, record["name"], "nazwa w pliku nie odpowiada nazwie w rejestrze — nie zastosowano"))
            continue
        if not p["column"]:
            review.append(_review(p, "", p.get("reason") or "nieznane pole — nie zastosowano"))
            continue
        action, result = _correct_one(p, record)
        if action == "review":
            review.append(_review(p, record.get(p["column"], ""), result))
        elif action == "apply":
            applied.append({"row": p["row"], "id": p["id"], "name": record["name"], "column": p["column"],
                            "old": record.get(p["column"], ""), "new": result, "proposed": p["proposed"],
                            "note": p.get("note", "")})
            record[p["column"]] = result
            _credit(record, p)
            first_row.setdefault(target, p["row"])
    changed = [t for t in records if t in first_row]
    cand = pd.DataFrame([{**records[t], "row": first_row[t], "_target": t} for t in changed],
                        columns=["row", *COLUMNS, "_target"])
    return cand, applied, review, problems


def _credit(record: dict, p: dict) -> None:
    """A fact applied from a source: its URLs join the entity's sources, its date (if it has one) as_of, and
    the source's note about it (why it is so, what to watch) the internal notes — never published."""
    if p.get("sources"):
        record["sources"] = _union(record["sources"], p["sources"])
    if any(ch.isdigit() for ch in p.get("as_of", "")) and p["column"] != "as_of":
        record["as_of"] = _union(record["as_of"], p["as_of"], "; ")
    note = str(p.get("note") or "").strip()
    if note and p["column"] != "internal_notes":
        label = FIELD_LABELS.get(p["column"], p["column"])
        record["internal_notes"] = _union(record.get("internal_notes", ""), f"{label}: {note}", "; ")


def field_changes(valid: pd.DataFrame, existing: pd.DataFrame) -> pd.DataFrame:
    """Field-by-field differences of matched candidates: row, id, name, column, old, new."""
    matched = valid[valid["_target"].ge(0)]
    if matched.empty:
        return pd.DataFrame(columns=["row", "id", "name", "column", "old", "new"])
    old = existing.loc[matched["_target"].to_numpy(), COLUMNS].to_numpy(dtype=object)
    new = matched[COLUMNS].to_numpy(dtype=object)
    r, c = np.nonzero(old != new)
    return pd.DataFrame({"row": matched["row"].to_numpy()[r], "id": matched["id"].to_numpy()[r],
                         "name": matched["name"].to_numpy()[r], "column": np.array(COLUMNS)[c],
                         "old": old[r, c], "new": new[r, c]})
