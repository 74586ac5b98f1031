"""Social need beside the supply: registered unemployment from GUS BDL, fetched like population.

Two measures, one long table (`COLUMNS`) written to data/needs/bezrobocie.csv:

* `persons` — registered unemployed, all (BDL table RYNE/1944 "Bezrobotni zarejestrowani wg płci",
  variable UNEMPLOYED_VARIABLE "ogółem"), at 31 December, for the voivodeship, powiaty and gminy;
* `rate` — registered unemployment rate in % (BDL subject P2392, variable RATE_VARIABLE), published for
  powiaty and up only.

Sources: a mirror directory (`needs/bezrobotni_zarejestrowani_<region>.csv` and
`needs/stopa_bezrobocia_<region>.csv`, columns teryt, name, value, unit, reference_date, …) or the BDL
API (`data/by-variable/<id>?unit-parent-id=…&unit-level=…&year=…`). A year a source does not give stays
absent: nothing is filled in or carried over.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from geoes.sources.region import FetchError

# GUS BDL variables (BDL metadata: RYNE/1944 "ogółem" at gmina level from 2003; P2392 rate, powiat level).
UNEMPLOYED_VARIABLE = 10514
RATE_VARIABLE = 60270
YEARS = (2022, 2023, 2024)
COLUMNS = ["teryt", "year", "measure", "value", "source", "origin"]
# Where a row was fetched from: the BDL API, or a local copy (a mirror directory). A figure missing from a
# local copy may well be in BDL: pages then say "brak w danych lokalnych", not "brak danych".
ORIGIN_BDL, ORIGIN_MIRROR = "bdl", "mirror"
SOURCE = {
    "persons": "GUS, Bank Danych Lokalnych, bezrobotni zarejestrowani ogółem (RYNE/1944), stan na 31 XII",
    "rate": "GUS, Bank Danych Lokalnych, stopa bezrobocia rejestrowanego (P2392), stan na 31 XII",
}
MIRROR_FILES = {"persons": "bezrobotni_zarejestrowani_{region}.csv", "rate": "stopa_bezrobocia_{region}.csv"}


def load_mirror_needs(mirror: Path | str, region: str) -> pd.DataFrame | None:
    """The mirror's unemployment files as one long table (None when the mirror has none)."""
    folder = Path(mirror) / "needs"
    frames = []
    for measure, pattern in MIRROR_FILES.items():
        path = folder / pattern.format(region=region)
        if not path.exists():
            continue
        raw = pd.read_csv(path, dtype={"teryt": str, "value": str, "reference_date": str})
        year = pd.to_numeric(raw["reference_date"].str[:4], errors="coerce")
        value = pd.to_numeric(raw["value"], errors="coerce")
        bad = raw.index[year.isna() | value.isna() | ~raw["teryt"].str.fullmatch(rf"{region}(\d{{2}}|\d{{5}})?")]
        if len(bad):
            i = bad[0]
            raise FetchError(f"{path}: wiersz {i + 2}: nieczytelny kod, rok lub wartość "
                             f"({raw.at[i, 'teryt']!r}, {raw.at[i, 'reference_date']!r}, {raw.at[i, 'value']!r})")
        frames.append(pd.DataFrame({"teryt": raw["teryt"], "year": year.astype(int), "measure": measure,
                                    "value": value, "source": SOURCE[measure], "origin": ORIGIN_MIRROR}))
    if not frames:
        return None
    return _checked(pd.concat(frames, ignore_index=True), str(folder))


def _checked(table: pd.DataFrame, where: str) -> pd.DataFrame:
    dup = table.duplicated(["teryt", "year", "measure"])
    if dup.any():
        row = table[dup].iloc[0]
        raise FetchError(f"{where}: powtórzona wartość {row['measure']} dla {row['teryt']} w {row['year']} r.")
    negative = table["value"] < 0
    if negative.any():
        raise FetchError(f"{where}: ujemna wartość dla {table.loc[negative, 'teryt'].iloc[0]}")
    return table.sort_values(["measure", "teryt", "year"], ignore_index=True)[COLUMNS]


def from_bdl_values(rows: dict[str, dict[int, float]], teryt_of: dict[str, str], measure: str) -> pd.DataFrame:
    """BDL answers ({bdl id: {year: value}}) as table rows, under the TERYT code `teryt_of` gives each id
    (ids without a code — parts of gminy, other units — are left out)."""
    out = []
    for bdl_id, values in rows.items():
        teryt = teryt_of.get(bdl_id)
        if not teryt:
            continue
        for year, value in values.items():
            out.append({"teryt": teryt, "year": int(year), "measure": measure, "value": float(value),
                        "source": SOURCE[measure], "origin": ORIGIN_BDL})
    return pd.DataFrame(out, columns=COLUMNS)


def combine(frames: list[pd.DataFrame], where: str) -> pd.DataFrame:
    return _checked(pd.concat([f for f in frames if len(f)], ignore_index=True), where)


def from_local_copy(table: pd.DataFrame | None) -> bool:
    """Whether the need figures came from a local copy (mirror) rather than the BDL API."""
    return table is not None and "origin" in table.columns and len(table) > 0 \
        and table["origin"].eq(ORIGIN_MIRROR).all()


def load_needs(path: Path) -> pd.DataFrame | None:
    """The fetched table (data/needs/bezrobocie.csv), or None before a fetch that brought it."""
    if not Path(path).exists():
        return None
    return pd.read_csv(path, dtype={"teryt": str, "measure": str, "source": str, "origin": str})
