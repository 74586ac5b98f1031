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

from .config import CRS_METRIC, Settings
from .entities import COLUMNS, PRECISIONS, REQUIRED, SOURCES_SEPARATOR, STATUSES, TYPES_SEPARATOR
from .identifiers import digits_only, krs_normalise, krs_valid, nip_valid, regon_valid
from .reference import entity_types

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
    cleaned = series.str.replace("\u00a0", "", regex=False).str.replace(" ", "", regex=False)
    cleaned = cleaned.str.replace(",", ".", regex=False)
    return pd.to_numeric(cleaned.where(cleaned != ""), errors="coerce")


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
        hit["reason"] = reason[mask] if isinstance(reason, pd.Series) else reason
        hit["_index"] = hit.index
        self.items.append(hit)

    def table(self) -> pd.DataFrame:
        if not self.items:
            return pd.DataFrame(columns=["_index", *REJECT_COLUMNS])
        return pd.concat(self.items, ignore_index=True).sort_values(["row", "column"], kind="stable")


def validate_frame(frame: pd.DataFrame, settings: Settings | None = None, source_name: str = "",
                   units=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return (valid rows typed and normalised, rejects: original fields + row, column, reason).

    `frame` comes from `entities.read_table` (strings, a `row` column). `units` (geoes.units.Units) enables
    the checks that need the region: TERYT codes that exist and coordinates inside the region; when it is
    None they are loaded from `settings` if the data were fetched, and skipped otherwise.
    """
    f = frame.copy()
    for col in COLUMNS:
        if col not in f.columns:
            f[col] = ""
    if "row" not in f.columns:
        f.insert(0, "row", range(2, len(f) + 2))
    f[COLUMNS] = f[COLUMNS].fillna("").astype(str).apply(lambda s: s.str.strip())
    p = _Problems(f)

    for col in REQUIRED:
        p.add(f[col] == "", col, "pole wymagane jest puste")

    dup = f["id"].ne("") & f["id"].duplicated(keep="first")
    if dup.any():
        first_row = f.drop_duplicates("id").set_index("id")["row"]
        p.add(dup, "id", "powtórzony identyfikator (pierwszy raz w wierszu "
              + f["id"].map(first_row).astype(str) + ")")

    known = set(entity_types())
    codes = f["types"].str.lower().str.replace(",", TYPES_SEPARATOR, regex=False).str.split(TYPES_SEPARATOR)
    codes = codes.map(lambda xs: [x.strip() for x in xs if x.strip()])
    unknown = codes.map(lambda xs: [x for x in xs if x not in known])
    p.add(f["types"].ne("") & unknown.map(bool), "types",
          "nieznany typ: " + unknown.map(", ".join) + " (dozwolone: " + ", ".join(sorted(known)) + ")")
    f["types"] = codes.map(TYPES_SEPARATOR.join)

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

    postal = f["postal_code"].str.replace(r"^(\d{2})(\d{3})$", r"\1-\2", regex=True)
    p.add(postal.ne("") & ~postal.str.fullmatch(r"\d{2}-\d{3}"), "postal_code",
          "kod pocztowy w formacie 00-000")
    f["postal_code"] = postal

    employees = parse_decimal(f["employees"])
    p.add(f["employees"].ne("") & (employees.isna() | (employees < 0) | (employees % 1 != 0)),
          "employees", "liczba zatrudnionych musi być nieujemną liczbą całkowitą")

    status = f["status"].str.lower().replace({"aktywny": "active", "nieaktywny": "inactive",
                                               "nieznany": "unknown", "": "unknown"})
    p.add(~status.isin(STATUSES), "status", "status: active, inactive lub unknown")
    f["status"] = status

    p.add(f["website"].ne("") & ~f["website"].str.match(URL_RE), "website",
          "adres strony musi zaczynać się od http:// lub https://")
    p.add(f["email"].ne("") & ~f["email"].str.match(EMAIL_RE), "email", "nieprawidłowy adres e-mail")
    bad_source = f["sources"].str.split(SOURCES_SEPARATOR.strip()).map(
        lambda xs: any(x.strip() and not URL_RE.match(x.strip()) for x in xs))
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
    p.add(outside, "lat", "współrzędne poza Polską (" + lat.astype(str) + ", " + lon.astype(str) + ")")
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
    from .units import MissingData, load_units

    try:
        return load_units(settings)
    except MissingData:
        return None


def _check_identifiers(f: pd.DataFrame, p: _Problems) -> None:
    krs = f["krs"].map(krs_normalise)
    p.add(krs.ne("") & ~krs.map(krs_valid).astype(bool), "krs", "numer KRS to 10 cyfr")
    f["krs"] = krs
    nip = f["nip"].map(digits_only)
    p.add(nip.ne("") & ~nip.map(nip_valid).astype(bool), "nip", "NIP: błędna suma kontrolna lub nie 10 cyfr")
    f["nip"] = nip
    regon = f["regon"].map(digits_only)
    p.add(regon.ne("") & ~regon.map(regon_valid).astype(bool), "regon",
          "REGON: błędna suma kontrolna lub nie 9/14 cyfr")
    f["regon"] = regon


def _typed(valid: pd.DataFrame) -> pd.DataFrame:
    out = valid.copy()
    out["employees"] = parse_decimal(out["employees"].astype(str)).astype("Int64")
    return out


def summarise(rejects: pd.DataFrame) -> str:
    if rejects.empty:
        return "wszystkie wiersze poprawne"
    rows = rejects["row"].nunique()
    return f"odrzucono {rows} wierszy ({len(rejects)} problemów)"
