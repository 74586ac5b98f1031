"""Row-level validation of entity records: what is rejected, what is repaired, what is dropped.

One rule, for `validate`, `build` and the importer (a bad optional value costs that
value, never the entity):

* rejected (the row is kept, with its original fields, in the rejects table): no name; no id or an id
  used twice; no type that can be read; a place outside the region — coordinates outside Poland or
  outside the region's outline, or a TERYT code of another voivodeship;
* repaired silently: what has one certain reading ("www.wtz-busko.pl" → "https://www.wtz-busko.pl",
  "tak" → "true", 28300 → 28-300, KRS without its leading zeros);
* dropped with a warning naming row, column, reason and the value: an invalid optional value — a
  website, e-mail or phone that cannot be read, an impossible headcount, a bad postal code, a
  NIP/REGON/KRS with a bad checksum, an unknown type beside known ones, an unknown status or
  precision, a TERYT code not in the region's data, half a coordinate pair or swapped coordinates, a
  verification date in the future or without its source (`verified_at`/`verified_source`), an operator's
  verification that does not say how it was checked (`verified_evidence`), a change date without its
  source or in the future (`changed_at`/`change_source`); the operator's contacts as the unit's own.

A legacy record that a public report "verified" (`verified_source` = zgłoszenie, before reports stopped
counting as verification) is repaired silently: its date becomes the date of a change from a report.

`validate_frame(frame, units=None, source_name="")` returns a `Validation`: it unpacks as the pair
(valid rows typed and normalised, rejects) and carries `.warnings` (file, row, column, reason, value).
`units` (geoes.sources.territory.Territory) is the region's territorial data; the caller loads it once
and hands it in. Without it the checks that need the region (outline, TERYT codes in the region) are
left out and TERYT codes are only checked for their form. The checks are vectorised over the whole
frame, once per distinct value where they cost more, so a national register stays fast.
"""
from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from geoes.common.reference import entity_types
from geoes.config import CRS_METRIC
from geoes.register.identifiers import digits_only, krs_normalise, krs_valid, nip_valid, regon_valid
from geoes.common.polish import count, today_in_poland
from geoes.register.normalise import boolean, email as normalise_email, phone as normalise_phone, postal_code, website
from geoes.register.normalise import status as normalise_status
from geoes.register.record import (CHANGE_SOURCES, COLUMNS, PRECISIONS, SOURCES_SEPARATOR, STATUSES, TYPES_SEPARATOR,
                                   VERIFIED_SOURCES)

# Poland's extent with a small margin (WGS84).
POLAND_LAT = (48.9, 54.9)
POLAND_LON = (14.0, 24.2)
REJECT_COLUMNS = ["row", "column", "reason"]
WARNING_COLUMNS = ["file", "row", "column", "reason", "value"]
MAX_EMPLOYEES = 100_000          # more than any Polish social-economy entity employs: a typo
REGION_TOLERANCE_M = 500         # the outline is simplified (±0.5 km)
# The same set as ^https?://[^\s<>"']+\.[^\s<>"']+$ in linear time: the look-ahead checks every character
# once, then the shortest run before a dot is found (the greedy form backtracks over every dot: quadratic).
URL_RE = re.compile(r"^https?://(?=[^\s<>\"']*$)[^\s<>\"']+?\.[^\s<>\"']", re.IGNORECASE)
EMAIL_RE = re.compile(r"^[^@\s<>\"'(),;:]+@[^@\s<>\"'(),;:]+\.[a-z]{2,}$", re.IGNORECASE)
PHONE_RE = re.compile(r"^\+48(?: \d{2,3}){3,4}(?: wew\. \d{1,5})?$")


class Validation(tuple):
    """(valid, rejects) — unpacks as the pair `validate_frame` always returned — plus `.warnings`."""

    def __new__(cls, valid: pd.DataFrame, rejects: pd.DataFrame, warnings: pd.DataFrame):
        self = super().__new__(cls, (valid, rejects))
        self.warnings = warnings
        return self

    @property
    def valid(self) -> pd.DataFrame:
        return self[0]

    @property
    def rejects(self) -> pd.DataFrame:
        return self[1]


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

    With `skip_empty`, empty cells get that result without a call. Text results keep the input's
    string dtype (vectorised comparisons stay fast on a national register).
    """
    codes, uniques = pd.factorize(series, use_na_sentinel=False)
    results = np.empty(len(uniques), dtype=object)
    for i, value in enumerate(uniques):
        results[i] = skip_empty if (skip_empty is not None and value == "") else func(value)
    out = pd.Series(results[codes], index=series.index, dtype=object)
    if len(results) and all(isinstance(r, str) for r in results):
        out = out.astype(series.dtype)
    return out


class _Problems:
    """Rejections and warnings found so far, each on the frame's index."""

    def __init__(self, frame: pd.DataFrame):
        self.frame = frame
        self.rejections: list[pd.DataFrame] = []
        self.warnings: list[pd.DataFrame] = []

    def _hits(self, mask: pd.Series, column: str, reason) -> pd.DataFrame | None:
        mask = mask.fillna(False).astype(bool)
        if not mask.any():
            return None
        hit = self.frame.loc[mask, ["row"]].copy()
        hit["column"] = column
        # A reason may be text, a Series, or a function of the rows hit (built only for them).
        reason = reason(hit.index) if callable(reason) else reason
        hit["reason"] = reason.loc[hit.index] if isinstance(reason, pd.Series) else reason
        hit["_index"] = hit.index
        return hit

    def reject(self, mask: pd.Series, column: str, reason) -> None:
        hit = self._hits(mask, column, reason)
        if hit is not None:
            self.rejections.append(hit)

    def drop(self, mask: pd.Series, column: str, reason, columns: tuple[str, ...] | None = None) -> None:
        """Warn and empty the value (or `columns`) where `mask` holds; the row stays."""
        hit = self._hits(mask, column, reason)
        if hit is None:
            return
        hit["value"] = self.frame.loc[hit.index, column].to_numpy()
        self.warnings.append(hit)
        for col in columns or (column,):
            self.frame.loc[hit["_index"].to_numpy(), col] = ""

    @staticmethod
    def _table(items: list[pd.DataFrame], columns: list[str]) -> pd.DataFrame:
        if not items:
            return pd.DataFrame(columns=["_index", *columns])
        return pd.concat(items, ignore_index=True).sort_values(["row", "column"], kind="stable")

    def rejects(self) -> pd.DataFrame:
        return self._table(self.rejections, REJECT_COLUMNS)

    def warned(self) -> pd.DataFrame:
        return self._table(self.warnings, [*REJECT_COLUMNS, "value"])


def validate_frame(frame: pd.DataFrame, units=None, source_name: str = "", *, complete: bool = True) -> Validation:
    """Validate a record frame (strings; a `row` column as Excel numbers rows, added if missing).

    See the module docstring for what is rejected, repaired or dropped. `complete=False` checks rows
    that state only some fields (an update laid over an existing entity): a missing name, id or type
    is not asked for and empty flags are not given their defaults, so the update does not erase them.
    """
    f = _prepare(frame)
    p = _Problems(f)
    if complete:
        _check_required(f, p)
    _check_types(f, p, complete)
    _check_flags(f, p, complete)
    _check_coordinates(f, p, units)
    _check_units(f, p, units)
    _check_precision(f, p)
    _check_identifiers(f, p)
    _check_contacts(f, p)
    _check_employees(f, p)
    _check_verification(f, p)
    return _result(frame, f, p, source_name)


def _prepare(frame: pd.DataFrame) -> pd.DataFrame:
    f = frame.copy()
    for col in COLUMNS:
        if col not in f.columns:
            f[col] = ""
    if "row" not in f.columns:
        f.insert(0, "row", range(2, len(f) + 2))
    f[COLUMNS] = _strip_all(f[COLUMNS])
    return f


def _result(frame: pd.DataFrame, f: pd.DataFrame, p: _Problems, source_name: str) -> Validation:
    problems = p.rejects()
    bad_index = problems["_index"].unique()
    valid = _typed(f.drop(index=bad_index))
    original = frame.reindex(columns=[c for c in frame.columns if c != "row"])
    rejects = problems.join(original, on="_index").drop(columns="_index")
    warned = p.warned()
    warned = warned[~warned["_index"].isin(bad_index)].drop(columns="_index")
    warned.insert(0, "file", source_name)
    if source_name:
        rejects.insert(0, "file", source_name)
    return Validation(valid.reset_index(drop=True), rejects.reset_index(drop=True),
                      warned.reindex(columns=WARNING_COLUMNS).reset_index(drop=True))


def _check_required(f: pd.DataFrame, p: _Problems) -> None:
    p.reject(f["name"].eq(""), "name", "brak nazwy podmiotu")
    p.reject(f["id"].eq(""), "id", "brak identyfikatora podmiotu")
    dup = f["id"].ne("") & f["id"].duplicated(keep="first")
    if dup.any():
        first_row = f.drop_duplicates("id").set_index("id")["row"]
        p.reject(dup, "id", "powtórzony identyfikator (pierwszy raz w wierszu "
                 + f.loc[dup, "id"].map(first_row).astype(str) + ")")


def _split_types(value: str) -> list[str]:
    return [x.strip() for x in value.lower().replace(",", TYPES_SEPARATOR).split(TYPES_SEPARATOR) if x.strip()]


def _check_types(f: pd.DataFrame, p: _Problems, complete: bool) -> None:
    known = set(entity_types())
    allowed = " (dozwolone: " + ", ".join(sorted(known)) + ")"
    if complete:
        p.reject(f["types"].eq(""), "types", "nie podano typu podmiotu i nie da się go ustalić")
    # Per distinct value of the cell: a register has few distinct type combinations.
    good = _per_distinct(f["types"], lambda v: TYPES_SEPARATOR.join(x for x in _split_types(v) if x in known))
    bad = _per_distinct(f["types"], lambda v: ", ".join(x for x in _split_types(v) if x not in known))
    none_known = f["types"].ne("") & good.eq("")
    p.reject(none_known, "types", lambda idx: "nieznany typ: " + bad[idx] + allowed)
    some_unknown = good.ne("") & bad.ne("")
    p.drop(some_unknown, "types", lambda idx: "pominięto nieznany typ: " + bad[idx] + allowed, columns=())
    f["types"] = good.where(good.ne(""), f["types"])


def _check_flags(f: pd.DataFrame, p: _Problems, complete: bool) -> None:
    se = _per_distinct(f["social_enterprise"], boolean)
    p.drop(~se.isin(["true", "false", "unknown", ""]), "social_enterprise",
           "oczekiwano true/false/unknown (tak/nie) — pominięto")
    f["social_enterprise"] = se.where(se.isin(["true", "false", "unknown"]), "unknown" if complete else "")
    status = _per_distinct(f["status"], lambda v: normalise_status(v).lower() if v else "")
    p.drop(status.ne("") & ~status.isin(STATUSES), "status", "status: active, inactive lub unknown — pominięto")
    f["status"] = status.where(status.isin(STATUSES), "unknown" if complete else "")


def _check_coordinates(f: pd.DataFrame, p: _Problems, units) -> None:
    lat, lon = parse_decimal(f["lat"]), parse_decimal(f["lon"])
    point = ("lat", "lon", "location_precision", "geocoder")     # a point is dropped whole
    lat_bad, lon_bad = f["lat"].ne("") & lat.isna(), f["lon"].ne("") & lon.isna()
    p.drop(lat_bad, "lat", "szerokość geograficzna nie jest liczbą", point)
    p.drop(lon_bad & ~lat_bad, "lon", "długość geograficzna nie jest liczbą", point)
    lat, lon = lat.where(f["lat"].ne("")), lon.where(f["lon"].ne(""))
    p.drop(lat.notna() ^ lon.notna(), "lat", "podano tylko jedną współrzędną (lat/lon)", point)
    lat, lon = lat.where(f["lat"].ne("")), lon.where(f["lon"].ne(""))
    both = lat.notna() & lon.notna()
    in_pl = lat.between(*POLAND_LAT) & lon.between(*POLAND_LON)
    swapped = both & ~in_pl & lon.between(*POLAND_LAT) & lat.between(*POLAND_LON)
    p.drop(swapped, "lat", "zamienione współrzędne: szerokość i długość geograficzna są odwrotnie", point)
    outside = both & ~swapped & ~in_pl
    p.reject(outside, "lat", "współrzędne poza Polską (" + lat[outside].astype(str) + ", "
             + lon[outside].astype(str) + ")")
    if units is not None:
        _check_region(f, p, lat, lon, both & in_pl, units)
    keep = both & ~swapped
    f["lat"], f["lon"] = lat.where(keep).round(6), lon.where(keep).round(6)


def _check_region(f: pd.DataFrame, p: _Problems, lat: pd.Series, lon: pd.Series, mask: pd.Series, units) -> None:
    if not mask.any():
        return
    t = Transformer.from_crs("EPSG:4326", CRS_METRIC, always_xy=True)
    x, y = t.transform(lon[mask].to_numpy(), lat[mask].to_numpy())
    region = units.region_metric.buffer(REGION_TOLERANCE_M)
    shapely.prepare(region)
    inside = pd.Series(shapely.contains_xy(region, x, y), index=lat[mask].index)
    p.reject(~inside.reindex(f.index, fill_value=True), "lat", f"współrzędne poza regionem {units.region_code}")


def _unit_code(value: str, digits: int, known: set | None, region: str) -> tuple[str, str]:
    """(code without spaces, what is wrong with it: '' | 'form' | 'region' | 'unknown')."""
    code = re.sub(r"\s", "", value)
    if not re.fullmatch(rf"\d{{{digits}}}", code):
        return code, "form"
    if known is None:
        return code, ""
    if not code.startswith(region):
        return code, "region"
    return code, "" if code in known else "unknown"


def _check_units(f: pd.DataFrame, p: _Problems, units) -> None:
    region = units.region_code if units is not None else ""
    for col, digits, example in (("gmina_teryt", 7, "2602023"), ("powiat_teryt", 4, "2602")):
        known = None if units is None else set(units.gminy["teryt"] if col == "gmina_teryt" else units.powiaty["teryt"])
        # Once per distinct code: a register names each of its ~100 gminy many times.
        codes, uniques = pd.factorize(f[col], use_na_sentinel=False)
        found = [_unit_code(v, digits, known, region) if v else ("", "") for v in uniques]
        f[col] = pd.Series(np.array([c for c, _ in found], dtype=object)[codes], index=f.index, dtype=f[col].dtype)
        problem = pd.Series(np.array([w for _, w in found], dtype=object)[codes], index=f.index)
        p.drop(problem.eq("form"), col, f"kod TERYT ma {digits} cyfr (np. {example})")
        p.reject(problem.eq("region"), col, lambda idx: f"kod TERYT spoza regionu {region}: " + f.loc[idx, col])
        p.drop(problem.eq("unknown"), col, "nieznany kod TERYT w danych regionu")
    clash = f["gmina_teryt"].ne("") & f["powiat_teryt"].ne("") & f["gmina_teryt"].str[:4].ne(f["powiat_teryt"])
    p.drop(clash, "powiat_teryt",
           lambda idx: "powiat nie zgadza się z gminą " + f.loc[idx, "gmina_teryt"] + " — pominięto powiat")


def _check_precision(f: pd.DataFrame, p: _Problems) -> None:
    prec = f["location_precision"].str.lower()
    placed = f["lat"].notna() & f["lon"].notna()
    # `powiat`: the place is known to the powiat only — no point (it would name a gmina), a powiat code.
    point_with_powiat = placed & prec.eq("powiat")
    p.drop(point_with_powiat, "lat", "precyzja 'powiat' oznacza podmiot bez punktu — pominięto współrzędne",
           ("geocoder",))
    f.loc[point_with_powiat, ["lat", "lon"]] = np.nan
    placed = placed & ~point_with_powiat
    powiat_code = f["powiat_teryt"].where(f["powiat_teryt"].ne(""), f["gmina_teryt"].str[:4])
    p.drop(~placed & prec.eq("powiat") & powiat_code.eq(""), "location_precision",
           "precyzja 'powiat' wymaga kodu powiatu (powiat_teryt) — przyjęto none")
    p.drop(placed & ~prec.isin([*PRECISIONS, ""]), "location_precision",
           "nieznana precyzja (dozwolone: " + ", ".join(PRECISIONS) + ") — przyjęto locality")
    p.drop(placed & prec.eq("none"), "location_precision", "podano współrzędne, a precyzja to 'none' — przyjęto locality")
    prec = f["location_precision"].str.lower()
    powiat_only = ~placed & prec.eq("powiat")
    f["powiat_teryt"] = f["powiat_teryt"].where(~powiat_only, powiat_code)
    f["location_precision"] = np.where(placed, np.where(prec.isin(PRECISIONS) & ~prec.isin(["none", "powiat"]),
                                                        prec, "locality"),
                                       np.where(powiat_only, "powiat", "none"))
    f.loc[~placed & ~powiat_only, "geocoder"] = ""


def _check_identifiers(f: pd.DataFrame, p: _Problems) -> None:
    # Checked once per distinct non-empty value; empty cells (most of a register) cost nothing.
    for col, normalise, valid, reason in (
        ("krs", krs_normalise, krs_valid, "numer KRS to 10 cyfr"),
        ("nip", digits_only, nip_valid, "NIP: błędna suma kontrolna lub nie 10 cyfr"),
        ("regon", digits_only, regon_valid, "REGON: błędna suma kontrolna lub nie 9/14 cyfr"),
        ("operator_krs", krs_normalise, krs_valid, "KRS podmiotu prowadzącego to 10 cyfr"),
        ("operator_nip", digits_only, nip_valid, "NIP podmiotu prowadzącego: błędna suma kontrolna lub nie 10 cyfr"),
    ):
        given = f[col].ne("")
        if not given.any():
            continue
        value = _per_distinct(f.loc[given, col], normalise)
        ok = _per_distinct(value, lambda v: bool(valid(v)))
        f.loc[given, col] = value
        p.drop(~ok.astype(bool).reindex(f.index, fill_value=True), col, reason + " — pominięto")


def _check_contacts(f: pd.DataFrame, p: _Problems) -> None:
    f["postal_code"] = _per_distinct(f["postal_code"], postal_code, skip_empty="")
    p.drop(f["postal_code"].ne("") & ~f["postal_code"].str.fullmatch(r"\d{2}-\d{3}"), "postal_code",
           "kod pocztowy w formacie 00-000 — pominięto")
    # The unit's own contacts, then its operator's (the same rules: Caritas's phone is a phone).
    for prefix, whose in (("", ""), ("operator_", " podmiotu prowadzącego")):
        col = prefix + "website"
        f[col] = _per_distinct(f[col], website, skip_empty="")
        p.drop(_per_distinct(f[col], lambda v: not URL_RE.match(v), skip_empty=False).astype(bool),
               col, f"nieprawidłowy adres strony{whose} (oczekiwano http(s)://…) — pominięto")
        col = prefix + "email"
        f[col] = _per_distinct(f[col], normalise_email, skip_empty="")
        p.drop(_per_distinct(f[col], lambda v: not EMAIL_RE.match(v), skip_empty=False).astype(bool),
               col, f"nieprawidłowy adres e-mail{whose} — pominięto")
        col = prefix + "phone"
        phones = _per_distinct(f[col], _phones, skip_empty="")
        p.drop(f[col].ne("") & phones.eq(""), col, f"nieprawidłowy numer telefonu{whose} — pominięto")
        f[col] = phones
    _check_sources(f, p)


def _phones(value: str) -> str:
    """The numbers in the cell that read as Polish phone numbers, normalised ('' when none does)."""
    parts = [x.strip() for x in normalise_phone(value).split(",") if x.strip()]
    return ", ".join(x for x in parts if PHONE_RE.match(x))


def _check_sources(f: pd.DataFrame, p: _Problems) -> None:
    sep = SOURCES_SEPARATOR.strip()

    def keep(v: str) -> str:
        return SOURCES_SEPARATOR.join(x.strip() for x in v.split(sep) if URL_RE.match(x.strip()))

    kept = _per_distinct(f["sources"], keep, skip_empty="")
    dropped = f["sources"].ne("") & _per_distinct(f["sources"], lambda v: any(
        x.strip() and not URL_RE.match(x.strip()) for x in v.split(sep)), skip_empty=False).astype(bool)
    p.drop(dropped, "sources", "źródła: adresy http(s) rozdzielone ' | ' — pominięto te, które nimi nie są", columns=())
    f["sources"] = kept


def _check_employees(f: pd.DataFrame, p: _Problems) -> None:
    employees = parse_decimal(f["employees"])
    bad = f["employees"].ne("") & (employees.isna() | (employees < 0) | (employees % 1 != 0)
                                   | (employees > MAX_EMPLOYEES))
    p.drop(bad, "employees", "liczba zatrudnionych musi być nieujemną liczbą całkowitą — pominięto")


def _iso_date_ok(value: str) -> bool:
    """An ISO date (RRRR-MM-DD) not in the future."""
    try:
        return dt.date.fromisoformat(value) <= today_in_poland() and len(value) == 10
    except ValueError:
        return False


# A public report's words for itself, as old records and files may spell the legacy verification source.
_REPORT_WORDS = {"zgłoszenie", "zgloszenie", "zgłoszenie mieszkańca", "report"}


def _check_verification(f: pd.DataFrame, p: _Problems) -> None:
    """`verified_at`: an ISO date not in the future; `verified_source`: one of VERIFIED_SOURCES (any case);
    an operator's verification says how it was checked (`verified_evidence`). A date needs its source and
    a source its date: half a verification says nothing, and is dropped. The same for a change
    (`changed_at`, `change_source`). A legacy "verification" by a public report becomes what it was: a change.
    """
    legacy = f["verified_source"].str.casefold().isin(_REPORT_WORDS)
    if legacy.any():
        take = legacy & (f["changed_at"].eq("") | f["changed_at"].lt(f["verified_at"]))
        f.loc[take, "changed_at"] = f.loc[take, "verified_at"]
        f.loc[take, "change_source"] = CHANGE_SOURCES[0]
        f.loc[legacy, ["verified_at", "verified_source", "verified_evidence"]] = ""
    canonical = {s.casefold(): s for s in VERIFIED_SOURCES}
    known = _per_distinct(f["verified_source"], lambda v: canonical.get(v.casefold(), ""), skip_empty="")
    check = ("verified_at", "verified_source", "verified_evidence")
    p.drop(_per_distinct(f["verified_at"], lambda v: not _iso_date_ok(v), skip_empty=False).astype(bool), "verified_at",
           "data weryfikacji w formacie RRRR-MM-DD, nie z przyszłości — pominięto", check)
    p.drop(f["verified_source"].ne("") & known.eq(""), "verified_source",
           "źródło weryfikacji: " + ", ".join(VERIFIED_SOURCES) + " — pominięto", check)
    f["verified_source"] = known.where(f["verified_source"].ne(""), "").astype(f["verified_source"].dtype)
    p.drop(f["verified_at"].ne("") ^ f["verified_source"].ne(""), "verified_at",
           "podaj razem datę i źródło weryfikacji — pominięto", check)
    p.drop(f["verified_source"].eq("operator") & f["verified_evidence"].eq(""), "verified_evidence",
           "potwierdzenie operatora bez opisu, jak sprawdzono (adres źródła lub dokument albo rozmowa telefoniczna: "
           "data i funkcja osoby) — pominięto", check)
    p.drop(f["verified_evidence"].ne("") & f["verified_at"].eq(""), "verified_evidence",
           "opis sprawdzenia bez daty i źródła weryfikacji — pominięto")
    _check_change(f, p)


def _check_change(f: pd.DataFrame, p: _Problems) -> None:
    change = ("changed_at", "change_source")
    canonical = {s.casefold(): s for s in CHANGE_SOURCES} | {w: CHANGE_SOURCES[0] for w in _REPORT_WORDS}
    known = _per_distinct(f["change_source"], lambda v: canonical.get(v.casefold(), ""), skip_empty="")
    p.drop(_per_distinct(f["changed_at"], lambda v: not _iso_date_ok(v), skip_empty=False).astype(bool), "changed_at",
           "data zmiany w formacie RRRR-MM-DD, nie z przyszłości — pominięto", change)
    p.drop(f["change_source"].ne("") & known.eq(""), "change_source",
           "źródło zmiany: " + ", ".join(CHANGE_SOURCES) + " — pominięto", change)
    f["change_source"] = known.where(f["change_source"].ne(""), "").astype(f["change_source"].dtype)
    p.drop(f["changed_at"].ne("") ^ f["change_source"].ne(""), "changed_at",
           "podaj razem datę i źródło zmiany — pominięto", change)


def _typed(valid: pd.DataFrame) -> pd.DataFrame:
    out = valid.copy()
    out["employees"] = parse_decimal(out["employees"].astype(str)).astype("Int64")
    return out


def summarise(rejects: pd.DataFrame, warnings: pd.DataFrame | None = None) -> str:
    parts = ["wszystkie wiersze poprawne" if rejects.empty else
             f"odrzucono {count(rejects['row'].nunique(), 'wiersz')} ({count(len(rejects), 'problem')})"]
    if warnings is not None and len(warnings):
        parts.append(f"pominięto {count(len(warnings), 'nieprawidłową wartość')} "
                     f"(wiersze: {warnings['row'].nunique()})")
    return "; ".join(parts)
