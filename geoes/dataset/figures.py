"""The small-number rules: when a value, a rank or a relation to the voivodeship may be given at all.

The register is a partial list of the region's entities, and headcounts are known for few of them, so a
figure built on nothing is easy to make and wrong to publish. Every consumer — the build (which stores
the results), `geoes stats`, the API, the pages, the charts and the county report — takes ranks,
relations and the reasons for leaving them out from here, never computes its own.

Rules (each leaves the field empty and records why in the row's `suppressed` map, field → reason code):

* a value is left out when it is unknown (a source gives no figure for that unit and year), when its
  base is zero (per 1 000 unemployed where nobody is registered), and for the employment indicators
  when headcounts are known for fewer than MIN_EMPLOYEES_KNOWN_PCT % of the unit's entities;
* a rank is given only among the units that have the value and, for figures of the register, at least
  one entity ("brak podmiotu w rejestrze" is not a measurement of the territory); ties share a rank,
  stored as `rank_<x>` (the best place) and `rank_<x>_max` (the worst), shown "3–5 z 14"; fewer than
  MIN_RANKED_UNITS units with the value → no rank at all;
* a relation to the voivodeship (`ratio_<x>`) only when the unit's value stands and the voivodeship's
  value is known and not zero;
* the share of entities verified in the last VERIFIED_MONTHS months (`verified_24m_pct`) only where at
  least MIN_VERIFIED of the unit's entities were verified: fewer verifications say which entities someone
  happened to check, not how current the unit's register is. The count itself (`verified_24m`) always
  stands (0 is a count) beside the count of all entities in the register. Neither is ranked or related.
"""
from __future__ import annotations

import json

import numpy as np
import pandas as pd

from geoes.common.polish import NBSP, is_missing

# Employment figures need headcounts of at least this share of the unit's entities.
MIN_EMPLOYEES_KNOWN_PCT = 50.0
# A rank among fewer units than this says nothing.
MIN_RANKED_UNITS = 3
# What a page, chart or report shows in place of a left-out figure.
TOO_FEW = "za mało danych"
# "Zweryfikowane w ostatnich 24 miesiącach" and the fewest verified entities a share of them needs.
VERIFIED_MONTHS = 24
MIN_VERIFIED = 5

REASONS = {
    "no_entity": "brak podmiotu w rejestrze",
    "few_employees_known": (f"{TOO_FEW}: zatrudnienie znane dla mniej niż "
                            f"{MIN_EMPLOYEES_KNOWN_PCT:.0f}{NBSP}% podmiotów"),
    "unknown_value": "brak danych źródłowych",
    # The figure exists in the source (GUS BDL) but not in the local copy the data were fetched from.
    "not_in_local_data": "brak w danych lokalnych",
    "zero_base": "podstawa równa zero",
    "unknown_base": "brak wartości dla województwa",
    "few_units": f"{TOO_FEW}: mniej niż {MIN_RANKED_UNITS} jednostki z wartością",
    "few_verified": (f"{TOO_FEW}: mniej niż {MIN_VERIFIED} podmiotów zweryfikowanych w ostatnich "
                     f"{VERIFIED_MONTHS} miesiącach"),
}

# How each ranked indicator's figures may be used:
#   register     counts of the register: a value always (0 is a count), rank and relation need an entity;
#   employment   as register, and the value itself needs known headcounts (MIN_EMPLOYEES_KNOWN_PCT);
#   measured     a value computed for every unit (area within reach): ranked among all that have it;
#   official     a figure of an official source: unknown where the source has none;
#   register_per official base (entities per 1 000 unemployed): the base must be known and not zero,
#                rank and relation need an entity.
_CODES = {text: code for code, text in REASONS.items()}

RULES = {
    "entities": "register", "entities_per_10k": "register", "entities_per_100km2": "register",
    "gmina_coverage_pct": "register", "population_coverage_pct": "register",
    "employees": "employment", "employees_per_10k": "employment",
    "access_10km_pct": "measured",
    "unemployed_per_10k": "official", "unemployment_rate": "official", "unemployed_change_pct": "official",
    "unemployment_rate_change_pp": "official",
    "entities_per_1k_unemployed": "register_per",
}
RANKED = list(RULES)
# Changes over time are ranked but not related: a multiple of the voivodeship's change (two falls, or a
# fall against a rise) means nothing.
NOT_RELATED = {"unemployed_change_pct", "unemployment_rate_change_pp"}
RELATED = [name for name in RANKED if name not in NOT_RELATED]
# The base a `register_per` indicator is divided by.
BASES = {"entities_per_1k_unemployed": "unemployed"}


def _value_reasons(frame: pd.DataFrame, name: str) -> pd.Series:
    """Why each unit's own value of `name` cannot be given (None: it can)."""
    rule = RULES[name]
    reasons = pd.Series([None] * len(frame), index=frame.index, dtype=object)
    value = pd.to_numeric(frame[name], errors="coerce") if name in frame else pd.Series(np.nan, index=frame.index)
    if rule == "employment":
        known = pd.to_numeric(frame["employees_known_pct"], errors="coerce")
        reasons[known.isna() | (known < MIN_EMPLOYEES_KNOWN_PCT)] = "few_employees_known"
        reasons[frame["entities"].fillna(0) <= 0] = "no_entity"
    elif rule == "register_per":
        base = pd.to_numeric(frame[BASES[name]], errors="coerce")
        reasons[base.eq(0)] = "zero_base"
        reasons[base.isna()] = "unknown_value"
    reasons[reasons.isna() & value.isna()] = "unknown_value"
    return reasons


def _rank_reasons(frame: pd.DataFrame, name: str, value_reasons: pd.Series) -> pd.Series:
    reasons = value_reasons.copy()
    if RULES[name] in ("register", "employment", "register_per"):
        reasons[reasons.isna() & (frame["entities"].fillna(0) <= 0)] = "no_entity"
    return reasons


def apply_rules(frame: pd.DataFrame, reference: dict, names: list[str] | None = None) -> pd.DataFrame:
    """Leave out values, rank and relate `frame`'s units (one level) by the rules; `reference` holds the
    voivodeship's exact values. Adds rank_<x>, rank_<x>_max, ratio_<x> and the `suppressed` map (JSON)."""
    suppressed: list[dict] = [{} for _ in range(len(frame))]
    for name in names or RANKED:
        if name not in frame.columns:
            continue
        value_why = _value_reasons(frame, name)
        rank_why = _rank_reasons(frame, name, value_why)
        value = pd.to_numeric(frame[name], errors="coerce").where(value_why.isna())
        frame[name] = value if RULES[name] != "register" else frame[name]
        rankable = value.where(rank_why.isna())
        if rankable.notna().sum() < MIN_RANKED_UNITS:
            rank_why = rank_why.where(rank_why.notna(), "few_units")
            rankable = rankable * np.nan
        frame[f"rank_{name}"] = rankable.rank(ascending=False, method="min").astype("Int64")
        frame[f"rank_{name}_max"] = rankable.rank(ascending=False, method="max").astype("Int64")
        for i, (vw, rw) in enumerate(zip(value_why, rank_why)):
            for field, why in ((name, vw), (f"rank_{name}", rw)):
                if why is not None and not is_missing(why):
                    suppressed[i][field] = why
        if name in NOT_RELATED:
            continue
        base = reference.get(name)
        # A relation does not depend on how many units have the value: only few_units is not inherited.
        ratio_why = rank_why.where(rank_why.ne("few_units"), None).copy()
        if is_missing(base):
            ratio_why[ratio_why.isna()] = "unknown_base"
        elif float(base) == 0:
            ratio_why[ratio_why.isna()] = "zero_base"
        ok = ratio_why.isna() & value.notna()
        frame[f"ratio_{name}"] = (value / float(base)).where(ok).round(3) if ok.any() else np.nan
        for i, why in enumerate(ratio_why):
            if why is not None and not is_missing(why):
                suppressed[i][f"ratio_{name}"] = why
    _verified_share(frame, suppressed)
    frame["suppressed"] = [json.dumps(s, sort_keys=True) if s else "" for s in suppressed]
    return frame


def _verified_why(entities, verified) -> str | None:
    if is_missing(entities) or entities <= 0:
        return "no_entity"
    if is_missing(verified) or verified < MIN_VERIFIED:
        return "few_verified"
    return None


def _verified_share(frame: pd.DataFrame, suppressed: list[dict]) -> None:
    """Leave out the share of verified entities where too few were verified (MIN_VERIFIED)."""
    if "verified_24m_pct" not in frame.columns or "verified_24m" not in frame.columns:
        return
    why = [_verified_why(e, v) for e, v in zip(frame["entities"], frame["verified_24m"])]
    frame["verified_24m_pct"] = pd.to_numeric(frame["verified_24m_pct"], errors="coerce").where(
        pd.Series([w is None for w in why], index=frame.index))
    for i, w in enumerate(why):
        if w is not None:
            suppressed[i]["verified_24m_pct"] = w


def reference_rules(v: dict) -> dict:
    """Leave out the voivodeship's own employment figures on too few known headcounts; its `suppressed`."""
    out = {}
    known = v.get("employees_known_pct")
    for name, rule in RULES.items():
        if name not in v:
            continue
        if rule == "employment" and (is_missing(known) or known < MIN_EMPLOYEES_KNOWN_PCT):
            v[name] = None
            out[name] = "few_employees_known"
        elif is_missing(v.get(name)):
            v[name] = None
            out[name] = "unknown_value"
    if "verified_24m_pct" in v:
        why = _verified_why(v.get("entities"), v.get("verified_24m"))
        if why is not None:
            v["verified_24m_pct"] = None
            out["verified_24m_pct"] = why
    v["suppressed"] = out
    return v


def local_gaps(suppressed: dict, values: dict, fields) -> dict:
    """For figures fetched from a local copy (not the source's API): each of `fields` the copy lacks
    (`values` has no value, or the rules recorded it as unknown) is "brak w danych lokalnych" — the
    source may have it, the copy does not. Changes and returns `suppressed` ({field: reason code})."""
    for name in fields:
        if name in values and is_missing(values[name]) and suppressed.get(name, "unknown_value") == "unknown_value":
            suppressed[name] = "not_in_local_data"
    return suppressed


# ---------------------------------------------------------------- reading the stored results

def suppressed_map(rec: dict) -> dict[str, str]:
    """A row's `suppressed` (stored as JSON text, or already a dict) as {field: reason code}."""
    raw = rec.get("suppressed")
    if isinstance(raw, dict):
        return raw
    if not raw or is_missing(raw):
        return {}
    return json.loads(raw)


def reason(rec: dict, field: str) -> str | None:
    """The Polish reason `field` of this row is left out, or None when it stands."""
    code = suppressed_map(rec).get(field)
    return REASONS.get(code, code) if code else None


def reasons_text(rec: dict) -> dict[str, str]:
    """{field: Polish reason} — what JSON consumers get beside each null."""
    return {k: REASONS.get(v, v) for k, v in suppressed_map(rec).items()}


def rank_range(rec: dict, name: str) -> tuple[int, int] | None:
    lo, hi = rec.get(f"rank_{name}"), rec.get(f"rank_{name}_max")
    if is_missing(lo):
        return None
    return int(lo), int(hi if not is_missing(hi) else lo)


def rank_data(rec: dict, name: str) -> str | None:
    """"3" or, for a tie, "3-5" (the form data files carry)."""
    r = rank_range(rec, name)
    if r is None:
        return None
    return str(r[0]) if r[0] == r[1] else f"{r[0]}-{r[1]}"


def rank_text(rec: dict, name: str, of: int) -> str:
    """"3 z 14", a tie "3–5 z 14", or the reason there is none."""
    r = rank_range(rec, name)
    if r is None:
        return reason(rec, f"rank_{name}") or TOO_FEW
    place = str(r[0]) if r[0] == r[1] else f"{r[0]}–{r[1]}"
    return f"{place} z {of}"


def ranked_count(frame: pd.DataFrame, name: str) -> int:
    """How many units of the level have a rank for `name` (the "z N" of a rank)."""
    col = f"rank_{name}"
    return int(frame[col].notna().sum()) if col in frame.columns else 0


def short_reason(rec: dict, field: str) -> str:
    """What a table cell shows for a left-out figure: "brak podmiotu w rejestrze" or "za mało danych"."""
    code = suppressed_map(rec).get(field)
    code = _CODES.get(code, code)  # a map of reasons already in words (JSON records) reads the same
    if code is None or code in ("unknown_value", "unknown_base"):
        return "brak danych"
    if code in ("no_entity", "not_in_local_data"):
        return REASONS[code]
    return TOO_FEW
