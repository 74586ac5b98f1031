"""Official counts of entities by type and year (data/official/statystyki_pes.csv) and the register's
completeness against them.

The file lists figures as published (`wskaznik`, `wartosc`, `jednostka`, `stan_na`, `uwagi`,
`zrodlo_url`): one row per figure, the same type under several wordings over the years (ZAZ: all of
them in 2015 and 2021, those funded by the voivodeship in 2022, those operating in 2026). A type's
wordings are listed in geoes/reference/entity_types.csv (`official_indicator`, separated by `|`).
A year is read from `stan_na` only when it names one year ("2015-11-30", "2026"); "ok. 2017-2018"
stays an estimate without a year. Nothing is interpolated: a year with no row has no figure.
"""
from __future__ import annotations

import re
from urllib.parse import urlsplit

import pandas as pd

from geoes.common.polish import count, is_missing, noun_of_plural, number, plural
from geoes.common.reference import entity_types
from geoes.register.record import TYPES_SEPARATOR

INDICATOR_SEPARATOR = "|"
# The span the trends page shows: the first and the last year the official file covers.
TREND_YEARS = (2015, 2026)


def official_year(stan_na) -> int | None:
    """2015 for "2015-11-30" or "2015"; None for a range or an estimate ("ok. 2017-2018")."""
    text = "" if is_missing(stan_na) else str(stan_na).strip()
    m = re.fullmatch(r"(\d{4})(?:-\d{2}-\d{2})?", text)
    return int(m.group(1)) if m else None


def source_name(url) -> str:
    """The site a figure comes from, for "(źródło, rok)": ckinfo.pl, studylibpl.com …"""
    host = urlsplit(str(url or "")).hostname or ""
    return host[4:] if host.startswith("www.") else host


def type_series(official: pd.DataFrame | None) -> pd.DataFrame:
    """Counts of entities by type: type, label (the source's wording), year, value, note, source — only
    rows with a number and a single year, in type order then year."""
    cols = ["type", "type_label", "label", "year", "value", "note", "source"]
    if official is None or not len(official):
        return pd.DataFrame(columns=cols)
    rows = []
    for code, t in entity_types().items():
        wordings = [w for w in (t.official_indicator or "").split(INDICATOR_SEPARATOR) if w]
        for _, r in official[official["wskaznik"].isin(wordings)].iterrows():
            value, year = pd.to_numeric(r["wartosc"], errors="coerce"), official_year(r["stan_na"])
            if pd.isna(value) or year is None:
                continue
            rows.append({"type": code, "type_label": t.short_pl, "label": r["wskaznik"], "year": year,
                         "value": int(value), "note": "" if is_missing(r.get("uwagi")) else str(r["uwagi"]),
                         "source": r["zrodlo_url"]})
    return pd.DataFrame(rows, columns=cols)


def completeness(counts, official: pd.DataFrame | None) -> list[dict]:
    """Entities in the register per type against the latest official count of that type (any wording).

    `counts` holds the region's `entities_<type>` — the voivodeship's figures of geoes.dataset.indicators,
    so "w rejestrze N" here is the very N of every table by type (not known to be closed, with or without
    a point). A frame of entities is counted as it is (every row), for callers without indicators."""
    if isinstance(counts, pd.DataFrame):
        exploded = counts["types"].str.split(TYPES_SEPARATOR).explode().value_counts()
        in_file = {code: int(exploded.get(code, 0)) for code in entity_types()}
    else:
        in_file = {code: int(counts.get(f"entities_{code}") or 0) for code in entity_types()}
    series = type_series(official)
    rows = []
    for code, t in entity_types().items():
        row = {"type": code, "label": t.label_pl, "short": t.short_pl, "in_file": int(in_file.get(code, 0)),
               "official": None, "official_as_of": None, "official_year": None, "official_label": None,
               "official_source": None, "official_source_name": None, "pct": None}
        mine = series[series["type"] == code].sort_values("year", kind="stable")
        if len(mine):
            latest = mine.iloc[-1]
            row.update(official=int(latest["value"]), official_year=int(latest["year"]),
                       official_as_of=str(latest["year"]), official_label=latest["label"],
                       official_source=latest["source"], official_source_name=source_name(latest["source"]))
            row["pct"] = round(row["in_file"] / row["official"] * 100, 1) if row["official"] else None
        if row["in_file"] or row["official"]:
            rows.append(row)
    return rows


def statement(row: dict) -> str:
    """"ZAZ: w rejestrze 3 z 11 znanych (ckinfo.pl, 2026)" or "KGW: w rejestrze 2 (brak oficjalnej liczby)"."""
    if row.get("official"):
        return (f"{row['short']}: w rejestrze {row['in_file']} z {row['official']} znanych "
                f"({row.get('official_source_name') or 'źródło oficjalne'}, {row['official_as_of']})")
    return f"{row['short']}: w rejestrze {count(row['in_file'], 'podmiot')} (brak oficjalnej liczby)"


def completeness_text(rows: list[dict]) -> str:
    return "; ".join(statement(r) for r in rows)


def incomplete(rows: list[dict]) -> bool:
    """While any type has fewer entities in the register than officially known (or no official count),
    the figures are figures of the known register."""
    return any(r.get("official") is None or r["in_file"] < r["official"] for r in rows)


def trend_table(series: pd.DataFrame | list[dict]) -> tuple[list[int], list[dict]]:
    """Years (TREND_YEARS, every year) and one row per series of `type_series` (a frame, or its records as a
    built version keeps them): type, label, {year: value}, notes, sources. A year no source gives stays
    absent from `values` — shown empty, never filled."""
    series = pd.DataFrame(series, columns=["type", "type_label", "label", "year", "value", "note", "source"])
    years = list(range(TREND_YEARS[0], TREND_YEARS[1] + 1))
    rows = []
    for (code, label), part in series.groupby(["type", "label"], sort=False):
        rows.append({"type": code, "type_label": part["type_label"].iloc[0], "label": label,
                     "values": {int(y): int(v) for y, v in zip(part["year"], part["value"])},
                     "notes": {int(y): n for y, n in zip(part["year"], part["note"]) if n},
                     "sources": {int(y): s for y, s in zip(part["year"], part["source"])}})
    return years, rows


def other_figures(official: pd.DataFrame | None) -> list[dict]:
    """Figures of the file that are no count of one type (estimates, employees, funding), as published."""
    if official is None or not len(official):
        return []
    known = {w for t in entity_types().values() for w in (t.official_indicator or "").split(INDICATOR_SEPARATOR) if w}
    rest = official[~official["wskaznik"].isin(known)]
    def parsed(value) -> float | None:
        got = pd.to_numeric("" if is_missing(value) else str(value), errors="coerce")
        return float(got) if pd.notna(got) else None

    def shown(value) -> str:
        x = parsed(value)
        return number(x, 2, trim=True) if x is not None else ("" if is_missing(value) else str(value))

    def unit(value, name) -> str:
        """The file's unit ("podmioty") in the form its number takes: "280 podmiotów", "3 podmioty"."""
        x, noun = parsed(value), noun_of_plural(str(name))
        return plural(x, noun) if x is not None and noun else str(name)

    return [{"label": r["wskaznik"], "value": shown(r["wartosc"]), "unit": unit(r["wartosc"], r["jednostka"]),
             "as_of": r["stan_na"],
             "note": "" if is_missing(r.get("uwagi")) else r["uwagi"], "source": r["zrodlo_url"]}
            for _, r in rest.iterrows()]
