"""Row-level validation of entity records.

Every problem is named by file, row (as Excel numbers it, header = 1), column and a reason in Polish.
A rejected row is kept, with its original fields, in the rejects table; valid rows are returned typed
and normalised. The checks are vectorised over the whole frame so a national register stays fast.
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd
import shapely

from geoes.config import CRS_METRIC, Settings
from geoes.register.record import COLUMNS, PRECISIONS, REQUIRED, SOURCES_SEPARATOR, STATUSES, TYPES_SEPARATOR
from geoes.register.identifiers import digits_only, krs_normalise, krs_valid, nip_valid, regon_valid
from geoes.common.reference import entity_types

# Poland's extent with a small margin (WGS84).
POLAND_LAT = (48.9, 54.9)
POLAND_LON = (14.0, 24.2)
REJECT_COLUMNS = ["row", "column", "reason"]
TRUE_VALUES = {"true", "tak", "t", "1", "yes", "y", "prawda"}
FALSE_VALUES = {"false", "nie", "n", "0", "no", "fałsz"}
URL_RE = re.compile(r"^https?://[^\s<>\"']+$", re.IGNORECASE)
EMAIL_RE = re.compile(r"^[^@\s<>\"']+@[^@\s<>\"']+\.[^@\s<>\"']+$")


def parse_decimal(series: pd.Series) -> pd.Series:
    """Numbers as Excel writes them in Poland: decimal comma, spaces or NBSP as thousands separators."""
    # Fast path: most cells parse as they are; only those that do not are cleaned and parsed again
    # (cleaning does not change a cell that already parses, so the result is the same).
    parsed = pd.to_numeric(series.where(series != ""), errors="coerce")
    retry = parsed.isna() & series.notna() & series.ne("")
    if retry.any():
        raw = series[retry]
        cleaned = raw.str.replace("\u00a0", "", regex=False).str.replace(" ", "", regex=False)
        cleaned = cleaned.str.replace(",", ".", regex=False)
        parsed = parsed.astype(float)
        parsed[retry] = pd.to_numeric(cleaned.where(cleaned != ""), errors="coerce")
    return parsed


def _strip_all(frame: pd.DataFrame) -> pd.DataFrame:
    """Every column as stripped strings (missing → ""), like `.fillna("").astype(str).str.strip()`."""
    out = {}
    for col in frame.columns:
        s = frame[col].fillna("").astype(str)
        values = s.to_numpy(dtype=object)
        out[col] = pd.Series([v.strip() for v in values], index=frame.index, dtype=s.dtype)
    return pd.DataFrame(out, index=frame.index)


def _per_distinct(series: pd.Series, func, skip_empty=None) -> pd.Series:
    """`series.map(func)` evaluated once per distinct value (registers repeat values a lot).

    With `skip_empty`, empty cells get that result without a call.
    """
    codes, uniques = pd.factorize(series, use_na_sentinel=False)
    results = np.empty(len(uniques), dtype=object)
    for i, value in enumerate(uniques):
        results[i] = skip_empty if (skip_empty is not None and value == "") else func(value)
    return pd.Series(results[codes], index=series.index, dtype=object)


class _Problems:
    def __init__(self, frame: pd.DataFrame):
        self.frame = frame
        self.items: list[pd.DataFrame] = []

    def add(self, mask: pd.Series, column: str, reason) -> None:
        mask = mask.fillna(False).astype(bool)
        if not mask.any():
            return
        hit = self.frame.loc[mask, ["row"]].copy()
        hit["column"] = column
        hit["reason"] = reason.loc[hit.index] if isinstance(reason, pd.Series) else reason
        hit["_index"] = hit.index
        self.items.append(hit)

    def table(self) -> pd.DataFrame:
        if not self.items:
            return pd.DataFrame(columns=["_index", *REJECT_COLUMNS])
        return pd.concat(self.items, ignore_index=True).sort_values(["row", "column"], kind="stable")


def validate_frame(frame: pd.DataFrame, settings: Settings | None = None, source_name: str = "",
                   units=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return (valid rows typed and normalised, rejects: original fields + row, column, reason).

    `frame` comes from `entities.read_table` (strings, a `row` column). `units` (geoes.sources.territory.Units) enables
    the checks that need the region: TERYT codes that exist and coordinates inside the region; when it is
    None they are loaded from `settings` if the data were fetched, and skipped otherwise.
    """
    f = frame.copy()
    for col in COLUMNS:
        if col not in f.columns:
            f[col] = ""
    if "row" not in f.columns:
        f.insert(0, "row", range(2, len(f) + 2))
    f[COLUMNS] = _strip_all(f[COLUMNS])
    p = _Problems(f)

    for col in REQUIRED:
        p.add(f[col] == "", col, "pole wymagane jest puste")

    dup = f["id"].ne("") & f["id"].duplicated(keep="first")
    if dup.any():
        first_row = f.drop_duplicates("id").set_index("id")["row"]
        p.add(dup, "id", "powtórzony identyfikator (pierwszy raz w wierszu "
              + f.loc[dup, "id"].map(first_row).astype(str) + ")")

    known = set(entity_types())
    # Per distinct value of the cell: a register has few distinct type combinations.
    unknown = _per_distinct(f["types"], lambda v: ", ".join(
        x for x in (y.strip() for y in v.lower().replace(",", TYPES_SEPARATOR).split(TYPES_SEPARATOR))
        if x and x not in known)).astype(f["types"].dtype)
    bad_types = f["types"].ne("") & unknown.ne("")
    p.add(bad_types, "types",
          "nieznany typ: " + unknown[bad_types] + " (dozwolone: " + ", ".join(sorted(known)) + ")")
    f["types"] = _per_distinct(f["types"], lambda v: TYPES_SEPARATOR.join(
        x.strip() for x in v.lower().replace(",", TYPES_SEPARATOR).split(TYPES_SEPARATOR) if x.strip())
    ).astype(f["types"].dtype)

    se = f["social_enterprise"].str.lower()
    p.add(~(se.isin(TRUE_VALUES | FALSE_VALUES | {"unknown", "nieznane", ""})), "social_enterprise",
          "oczekiwano true/false/unknown (tak/nie)")
    f["social_enterprise"] = np.where(se.isin(TRUE_VALUES), "true",
                                      np.where(se.isin(FALSE_VALUES), "false", "unknown"))

    _check_coordinates(f, p, settings, units)

    prec = f["location_precision"].str.lower()
    p.add(~prec.isin([*PRECISIONS, ""]), "location_precision",
          "nieznana precyzja (dozwolone: " + ", ".join(PRECISIONS) + ")")
    placed = f["lat"].notna() & f["lon"].notna()
    p.add(placed & prec.eq("none"), "location_precision", "podano współrzędne, a precyzja to 'none'")
    f["location_precision"] = np.where(prec.eq("") | ~placed, np.where(placed, "locality", "none"), prec)

    _check_identifiers(f, p)

    postal = f["postal_code"].copy()
    given = postal.ne("")
    if given.any():
        postal[given] = postal[given].str.replace(r"^(\d{2})(\d{3})$", r"\1-\2", regex=True)
        p.add(given & ~postal[given].str.fullmatch(r"\d{2}-\d{3}").reindex(f.index, fill_value=True),
              "postal_code", "kod pocztowy w formacie 00-000")
    f["postal_code"] = postal

    employees = parse_decimal(f["employees"])
    p.add(f["employees"].ne("") & (employees.isna() | (employees < 0) | (employees % 1 != 0)),
          "employees", "liczba zatrudnionych musi być nieujemną liczbą całkowitą")

    aliases = {"aktywny": "active", "nieaktywny": "inactive", "nieznany": "unknown", "": "unknown"}
    status = _per_distinct(f["status"], lambda v: aliases.get(v.lower(), v.lower())).astype(f["status"].dtype)
    p.add(~status.isin(STATUSES), "status", "status: active, inactive lub unknown")
    f["status"] = status

    p.add(_per_distinct(f["website"], lambda v: not URL_RE.match(v), skip_empty=False).astype(bool),
          "website", "adres strony musi zaczynać się od http:// lub https://")
    p.add(_per_distinct(f["email"], lambda v: not EMAIL_RE.match(v), skip_empty=False).astype(bool),
          "email", "nieprawidłowy adres e-mail")
    bad_source = _per_distinct(f["sources"], lambda v: any(
        x.strip() and not URL_RE.match(x.strip()) for x in v.split(SOURCES_SEPARATOR.strip())),
        skip_empty=False).astype(bool)
    p.add(bad_source, "sources", "źródła: adresy http(s) rozdzielone ' | '")

    problems = p.table()
    bad_index = problems["_index"].unique()
    valid = f.drop(index=bad_index)
    valid = _typed(valid)
    original = frame.reindex(columns=[c for c in frame.columns if c != "row"])
    rejects = problems.join(original, on="_index").drop(columns="_index")
    if source_name:
        rejects.insert(0, "file", source_name)
    return valid.reset_index(drop=True), rejects.reset_index(drop=True)


def _check_coordinates(f: pd.DataFrame, p: _Problems, settings, units) -> None:
    lat, lon = parse_decimal(f["lat"]), parse_decimal(f["lon"])
    p.add(f["lat"].ne("") & lat.isna(), "lat", "szerokość geograficzna nie jest liczbą")
    p.add(f["lon"].ne("") & lon.isna(), "lon", "długość geograficzna nie jest liczbą")
    p.add(f["lat"].ne("") ^ f["lon"].ne(""), "lat", "podano tylko jedną współrzędną (lat/lon)")
    both = lat.notna() & lon.notna()
    in_lat = lat.between(*POLAND_LAT)
    in_lon = lon.between(*POLAND_LON)
    swapped = both & ~(in_lat & in_lon) & lon.between(*POLAND_LAT) & lat.between(*POLAND_LON)
    p.add(swapped, "lat", "zamienione współrzędne: szerokość i długość geograficzna są odwrotnie")
    outside = both & ~swapped & ~(in_lat & in_lon)
    p.add(outside, "lat", "współrzędne poza Polską (" + lat[outside].astype(str) + ", "
          + lon[outside].astype(str) + ")")
    units = units if units is not None else _maybe_units(settings)
    if units is not None:
        inside_pl = both & in_lat & in_lon
        if inside_pl.any():
            from pyproj import Transformer

            t = Transformer.from_crs("EPSG:4326", CRS_METRIC, always_xy=True)
            x, y = t.transform(lon[inside_pl].to_numpy(), lat[inside_pl].to_numpy())
            # The outline is simplified (±0.5 km): allow that much.
            region = units.region_metric.buffer(500)
            shapely.prepare(region)
            inside = pd.Series(shapely.contains_xy(region, x, y), index=lat[inside_pl].index)
            p.add(~inside.reindex(f.index, fill_value=True), "lat",
                  f"współrzędne poza regionem {units.region_code}")
        gminy = set(units.gminy["teryt"])
        p.add(f["gmina_teryt"].ne("") & ~f["gmina_teryt"].isin(gminy), "gmina_teryt",
              "nieznany kod TERYT gminy w regionie (7 cyfr, np. 2602023)")
        powiaty = set(units.powiaty["teryt"])
        p.add(f["powiat_teryt"].ne("") & ~f["powiat_teryt"].isin(powiaty), "powiat_teryt",
              "nieznany kod TERYT powiatu w regionie (4 cyfry, np. 2602)")
    else:
        p.add(f["gmina_teryt"].ne("") & ~f["gmina_teryt"].str.fullmatch(r"\d{7}"), "gmina_teryt",
              "kod TERYT gminy ma 7 cyfr")
    f["lat"], f["lon"] = lat.round(6), lon.round(6)


def _maybe_units(settings):
    if settings is None:
        return None
    from geoes.sources.territory import MissingData, load_territory

    try:
        return load_territory(settings)
    except MissingData:
        return None


def _check_identifiers(f: pd.DataFrame, p: _Problems) -> None:
    # Checked once per distinct non-empty value; empty cells (most of a register) cost nothing.
    for col, normalise, valid, reason in (
        ("krs", krs_normalise, krs_valid, "numer KRS to 10 cyfr"),
        ("nip", digits_only, nip_valid, "NIP: błędna suma kontrolna lub nie 10 cyfr"),
        ("regon", digits_only, regon_valid, "REGON: błędna suma kontrolna lub nie 9/14 cyfr"),
    ):
        raw = f[col]
        given = raw.ne("")
        value = raw.copy()
        if given.any():
            value[given] = _per_distinct(raw[given], normalise).astype(raw.dtype)
            ok = _per_distinct(value[given], lambda v: bool(v == "" or valid(v))).astype(bool)
            p.add(~ok.reindex(f.index, fill_value=True), col, reason)
        f[col] = value


def _typed(valid: pd.DataFrame) -> pd.DataFrame:
    out = valid.copy()
    out["employees"] = parse_decimal(out["employees"].astype(str)).astype("Int64")
    return out


def summarise(rejects: pd.DataFrame) -> str:
    if rejects.empty:
        return "wszystkie wiersze poprawne"
    rows = rejects["row"].nunique()
    return f"odrzucono {rows} wierszy ({len(rejects)} problemów)"
