"""Geocoding chain: cache → offline gazetteer → GUGiK address geocoder → Nominatim.

Every placed row records how precise its point is (`location_precision`) and where it came from
(`geocoder`); nothing is guessed:

* the gazetteer places localities within the stated gmina/powiat and reports homonyms as ambiguous
  (`geoes.sources.gazetteer`);
* an online answer is taken only when it is unique (several answers within 1 km count as one place) and
  lies inside the stated gmina, or powiat, or the region (boundaries ±500 m, their stated accuracy);
* coordinates are never replaced by ones of lower (or equal) precision;
* online answers — found or not — are kept in a SQLite cache, so a re-run makes no request; errors
  (HTTP, timeouts, no network) are not cached and leave the row unplaced with the reason.
"""
from __future__ import annotations

import json
import math
import re
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import geopandas as gpd
import numpy as np
import pandas as pd
import requests
import shapely
from geopy import exc as gexc
from geopy.adapters import RequestsAdapter
from geopy.geocoders import Nominatim
from pyproj import Transformer
from tqdm import tqdm

from geoes.common.polish import count
from geoes.config import CRS_METRIC, Settings
from geoes.errors import InvalidInput, ServiceError
from geoes.register.record import COLUMNS, read_table, write_entities
from geoes.sources.gazetteer import Gazetteer
from geoes.sources.http import ClockedRateLimiter
from geoes.sources.http import user_agent as http_user_agent
from geoes.sources.territory import load_territory

# `powiat`: the place is known to the powiat only (no point; see geoes.sources.gazetteer).
PRECISION_RANK = {"none": 0, "powiat": 1, "gmina": 2, "locality": 3, "street": 4, "address": 5}
PROVIDERS = ("gazetteer", "gugik", "nominatim")
ONLINE_PROVIDERS = ("gugik", "nominatim")
# The gmina polygons (PRG as of c. 2015, simplified) can be up to ~0.5 km off at street zoom: 484 m
# Hausdorff distance to the detailed voivodeship outline, as the data mirror documents its boundaries.
BOUNDARY_TOLERANCE_M = 500
SAME_PLACE_M = 1000             # several online answers this close together are one place
MAX_CONSECUTIVE_ERRORS = 5      # a provider failing this many times in a row is not asked again in the run

GUGIK_URL = "https://services.gugik.gov.pl/uug/"
NOMINATIM_DOMAIN = "nominatim.openstreetmap.org"


class CacheUnreadable(InvalidInput):
    """The cache file is not a SQLite database geoes wrote (damaged, or another file given as --cache)."""


class ProviderError(ServiceError):
    """An online service failed for this query (HTTP error, timeout, unreadable answer); not cached."""


class ProviderUnavailable(ProviderError):
    """The service cannot be reached at all (no network): it is not asked again in this run."""


@dataclass(frozen=True)
class Candidate:
    lat: float
    lon: float
    precision: str
    label: str
    description: str = ""

    def to_json(self) -> dict:
        return {"lat": self.lat, "lon": self.lon, "precision": self.precision, "label": self.label,
                "description": self.description}

    @classmethod
    def from_json(cls, d: dict) -> "Candidate":
        return cls(float(d["lat"]), float(d["lon"]), d["precision"], d["label"], d.get("description", ""))


def user_agent(contact: str | None = None) -> str:
    """Nominatim's policy asks for an identifying User-Agent; a contact address is appended if set."""
    ua = http_user_agent("geokodowanie")
    return f"{ua} kontakt: {contact}" if contact else ua


# --- cache ----------------------------------------------------------------------------------------

class GeocodeCache:
    """Online answers keyed by (provider, query); an empty list records 'not found'.

    A cache file SQLite cannot use raises CacheUnreadable naming the file (never a bare sqlite3.Error).
    """

    def __init__(self, path: Path | str | None):
        self.path = str(path) if path else ":memory:"
        if path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.hits = 0
        with self._sqlite():
            self._db = sqlite3.connect(self.path)
            self._db.execute("CREATE TABLE IF NOT EXISTS answers (provider TEXT NOT NULL, query TEXT NOT NULL, "
                             "candidates TEXT NOT NULL, created TEXT NOT NULL, PRIMARY KEY (provider, query))")
            self._db.commit()

    @contextmanager
    def _sqlite(self):
        try:
            yield
        except sqlite3.Error as exc:
            raise CacheUnreadable(f"pamięć podręczna {self.path}: {exc} (usuń plik lub użyj --no-cache)") from exc

    def get(self, provider: str, query: str) -> list[Candidate] | None:
        with self._sqlite():
            row = self._db.execute("SELECT candidates FROM answers WHERE provider = ? AND query = ?",
                                   (provider, query)).fetchone()
        if row is None:
            return None
        self.hits += 1
        return [Candidate.from_json(d) for d in json.loads(row[0])]

    def put(self, provider: str, query: str, candidates: list[Candidate]) -> None:
        with self._sqlite():
            self._db.execute("INSERT OR REPLACE INTO answers VALUES (?, ?, ?, datetime('now'))",
                             (provider, query, json.dumps([c.to_json() for c in candidates], ensure_ascii=False)))
            self._db.commit()

    def __len__(self) -> int:
        with self._sqlite():
            return self._db.execute("SELECT count(*) FROM answers").fetchone()[0]

    def close(self) -> None:
        self._db.close()


# --- online providers -----------------------------------------------------------------------------

def _street_text(street: str) -> str:
    return re.sub(r"^(?:ul\.|ulica)\s*", "", street.strip(), flags=re.IGNORECASE)


class GugikProvider:
    """GUGiK's address geocoder (UUG): GET {url}?request=GetAddress&address=Miejscowość, Ulica Numer.

    The answer is JSON: {"type": "address"|"street"|"city", "found objects": n, "results": {"1": {city,
    street, number, code, teryt, simc, x, y, geometry_wkt, ...}}} with x/y in EPSG:2180 (x = easting).
    The comma after the locality is required, without it the service finds nothing.
    """

    name = "gugik"
    label = "gugik"

    def __init__(self, url: str = GUGIK_URL, timeout: float = 10.0, session: requests.Session | None = None,
                 agent: str | None = None, min_delay_seconds: float = 0.2, clock=None, sleep=None):
        self.url = url
        self.timeout = timeout
        self.session = session or requests.Session()
        self.session.headers["User-Agent"] = agent or user_agent()
        self.requests = 0
        self._limited = ClockedRateLimiter(self._get, min_delay_seconds=min_delay_seconds, clock=clock,
                                           sleep=sleep)
        self._to_wgs84 = Transformer.from_crs(CRS_METRIC, "EPSG:4326", always_xy=True)

    def query(self, row: pd.Series) -> str | None:
        locality = row["locality"].strip()
        if not locality:
            return None
        street = _street_text(row["street"])
        return f"{locality}, {street}" if street else locality

    def _get(self, address: str) -> requests.Response:
        self.requests += 1
        try:
            return self.session.get(self.url, params={"request": "GetAddress", "address": address},
                                    timeout=self.timeout)
        except requests.Timeout:
            raise ProviderError(f"GUGiK: przekroczono limit czasu ({self.timeout:g} s)") from None
        except requests.ConnectionError as exc:
            raise ProviderUnavailable(f"GUGiK: brak połączenia z {self.url} ({type(exc).__name__})") from None
        except requests.RequestException as exc:
            raise ProviderError(f"GUGiK: błąd zapytania ({type(exc).__name__})") from None

    def lookup(self, address: str) -> list[Candidate]:
        response = self._limited(address)
        if response.status_code != 200:
            raise ProviderError(f"GUGiK: HTTP {response.status_code}")
        try:
            data = response.json()
        except ValueError:
            raise ProviderError("GUGiK: odpowiedź nie jest w formacie JSON") from None
        if not isinstance(data, dict):
            raise ProviderError("GUGiK: nieoczekiwany format odpowiedzi")
        results = data.get("results") or {}
        if isinstance(results, dict):
            items = [results[k] for k in sorted(results, key=lambda k: int(k) if str(k).isdigit() else 0)]
        elif isinstance(results, list):
            items = results
        else:
            raise ProviderError("GUGiK: nieoczekiwany format pola results")
        kind = str(data.get("type") or "")
        out = []
        for item in items:
            try:
                x, y = float(item["x"]), float(item["y"])
            except (KeyError, TypeError, ValueError):
                continue
            lon, lat = self._to_wgs84.transform(x, y)
            if item.get("number"):
                precision = "address"
            elif item.get("street") or kind == "street":
                precision = "street"
            else:
                precision = "locality"
            desc = " ".join(str(item.get(k) or "") for k in ("code", "city", "street", "number")).strip()
            out.append(Candidate(round(lat, 6), round(lon, 6), precision, self.label, desc))
        return out


class NominatimProvider:
    """OpenStreetMap Nominatim through geopy, at most one request per second, with a real User-Agent."""

    name = "nominatim"
    label = "nominatim"

    def __init__(self, agent: str | None = None, domain: str = NOMINATIM_DOMAIN, scheme: str = "https",
                 timeout: float = 10.0, min_delay_seconds: float = 1.0, clock=None, sleep=None):
        # No hidden transport retries: every request goes through the rate limiter (Nominatim's policy).
        def adapter(proxies, ssl_context):
            return RequestsAdapter(proxies=proxies, ssl_context=ssl_context, max_retries=0)

        self.geocoder = Nominatim(user_agent=agent or user_agent(), domain=domain, scheme=scheme,
                                  timeout=timeout, adapter_factory=adapter)
        self.requests = 0
        self._limited = ClockedRateLimiter(self._geocode, min_delay_seconds=min_delay_seconds, clock=clock,
                                           sleep=sleep)

    def query(self, row: pd.Series) -> dict | None:
        locality = row["locality"].strip()
        if not locality:
            return None
        q = {"city": locality, "country": "Polska"}
        street = _street_text(row["street"])
        if street:
            q["street"] = street
        if row.get("postal_code", "").strip():
            q["postalcode"] = row["postal_code"].strip()
        return q

    def _geocode(self, query: dict):
        self.requests += 1
        return self.geocoder.geocode(query, exactly_one=False, limit=5, addressdetails=True,
                                     country_codes="pl", language="pl")

    def lookup(self, query: dict) -> list[Candidate]:
        try:
            found = self._limited(query)
        except gexc.GeocoderUnavailable:
            raise ProviderUnavailable(f"Nominatim: brak połączenia z {self.geocoder.domain}") from None
        except gexc.GeocoderTimedOut:
            raise ProviderError("Nominatim: przekroczono limit czasu") from None
        except gexc.GeopyError as e:
            raise ProviderError(f"Nominatim: {type(e).__name__}: {str(e)[:120]}") from None
        out = []
        for loc in found or []:
            raw = loc.raw or {}
            address = raw.get("address") or {}
            if address.get("house_number") and "street" in query:
                precision = "address"
            elif "street" in query and (raw.get("class") == "highway" or raw.get("addresstype") == "road"
                                        or (address.get("road") and raw.get("class") not in ("place", "boundary"))):
                precision = "street"
            else:
                precision = "locality"
            out.append(Candidate(round(float(loc.latitude), 6), round(float(loc.longitude), 6), precision,
                                 self.label, raw.get("display_name", "")))
        return out


# --- areas: is an answer inside the stated gmina / powiat / region? -------------------------------

class Areas:
    """Gmina, powiat and region polygons in EPSG:2180, buffered by the boundaries' stated accuracy."""

    def __init__(self, settings: Settings, tolerance_m: float = BOUNDARY_TOLERANCE_M):
        territory = load_territory(settings)
        self.region_code = territory.region_code
        self._to_metric = Transformer.from_crs("EPSG:4326", CRS_METRIC, always_xy=True)
        self.gminy = dict(zip(territory.gminy["teryt"],
                              territory.gminy.to_crs(CRS_METRIC).geometry.buffer(tolerance_m)))
        self.powiaty = dict(zip(territory.powiaty["teryt"],
                                territory.powiaty.to_crs(CRS_METRIC).geometry.buffer(tolerance_m)))
        self.region = territory.region_metric.buffer(tolerance_m)
        for geom in (*self.gminy.values(), *self.powiaty.values(), self.region):
            shapely.prepare(geom)

    def area_for(self, gmina: str, powiat: str):
        if gmina and gmina in self.gminy:
            return self.gminy[gmina], f"gminie {gmina}"
        if powiat and powiat in self.powiaty:
            return self.powiaty[powiat], f"powiecie {powiat}"
        return self.region, f"regionie {self.region_code}"

    def contains(self, geom, lat: float, lon: float) -> bool:
        x, y = self._to_metric.transform(lon, lat)
        return bool(shapely.contains_xy(geom, x, y))


def _distance_m(a: Candidate, b: Candidate) -> float:
    dlat = math.radians(b.lat - a.lat)
    dlon = math.radians(b.lon - a.lon) * math.cos(math.radians((a.lat + b.lat) / 2))
    return 6_371_000 * math.hypot(dlat, dlon)


# --- the chain ------------------------------------------------------------------------------------

@dataclass
class GeocodeReport:
    frame: pd.DataFrame                      # the record, geocoded (strings, COLUMNS + row)
    counts: dict[str, int]                   # precision → rows, whole file after the run
    unplaced: pd.DataFrame                   # row, id, name, reason, candidates
    notes: pd.DataFrame                      # row, id, name, note (town chosen, gmina-level fallbacks…)
    outside: pd.DataFrame | None             # placed rows outside their stated gmina/powiat (None: unchecked)
    placed_now: int = 0
    improved: int = 0
    kept_better: int = 0
    below_target: int = 0
    requests: dict[str, int] = field(default_factory=dict)
    cache_hits: int = 0
    offline: bool = False
    errors: list[str] = field(default_factory=list)


def _rank(values: pd.Series) -> pd.Series:
    return values.map(PRECISION_RANK).fillna(0).astype(int)


def target_precision(frame: pd.DataFrame) -> pd.Series:
    """The best precision a row's own data allow: a street with a number → address, …, gmina, none."""
    street = frame["street"].str.strip()
    target = pd.Series("none", index=frame.index)
    target[frame["powiat_teryt"].ne("")] = "powiat"
    target[frame["gmina_teryt"].ne("")] = "gmina"
    target[frame["locality"].ne("")] = "locality"
    target[frame["locality"].ne("") & street.ne("")] = "street"
    target[frame["locality"].ne("") & street.str.contains(r"\d", regex=True)] = "address"
    return target


def existing_precision(frame: pd.DataFrame) -> pd.Series:
    placed = frame["lat"].ne("") & frame["lon"].ne("")
    prec = frame["location_precision"].where(frame["location_precision"].isin(PRECISION_RANK), "")
    prec = prec.where(prec.ne("") & prec.ne("none"), "locality")  # coordinates without precision
    powiat_only = ~placed & frame["location_precision"].eq("powiat") & frame["powiat_teryt"].ne("")
    return prec.where(placed, np.where(powiat_only, "powiat", "none"))


def build_providers(names: Iterable[str], *, agent: str | None = None, timeout: float = 10.0,
                    gugik_url: str = GUGIK_URL, nominatim_domain: str = NOMINATIM_DOMAIN,
                    nominatim_scheme: str = "https") -> dict:
    providers = {}
    for name in names:
        if name == "gugik":
            providers[name] = GugikProvider(gugik_url, timeout=timeout, agent=agent)
        elif name == "nominatim":
            providers[name] = NominatimProvider(agent, domain=nominatim_domain, scheme=nominatim_scheme,
                                                timeout=timeout)
    return providers


def geocode_frame(frame: pd.DataFrame, settings: Settings, *, providers: Iterable[str] = PROVIDERS,
                  offline: bool = False, cache: GeocodeCache | None = None, online: dict | None = None,
                  gazetteer: Gazetteer | None = None, progress: bool | None = None,
                  check_areas: bool = True) -> GeocodeReport:
    """Geocode the rows of `frame` (strings, record columns) that lack coordinates or can get better ones.

    `online` maps provider names to provider objects (tests inject ones pointing at a local server);
    by default they are built for the real services. With `offline` no online provider is used.
    The steps: the gazetteer for every row still to place, then the online chain for the rows the
    gazetteer could not place as precisely as their data allow, then only strictly better points are
    written into the record.
    """
    providers = [p for p in providers if p in PROVIDERS]
    run = _Run.start(frame)
    gaz = pd.DataFrame(columns=["status", "candidates", "reason"])
    if "gazetteer" in providers and len(run.todo):
        gaz = run.take_gazetteer((gazetteer or Gazetteer.load(settings)).locate(run.f.loc[run.todo]))
    online_names = [p for p in providers if p in ONLINE_PROVIDERS]
    cache = cache if cache is not None else GeocodeCache(None)
    hits_before = cache.hits
    requests_made: dict[str, int] = {}
    if online_names:
        # Offline, cached online answers are still used; only new requests are not made.
        objs = online if online is not None else build_providers(online_names)
        chain = _OnlineChain(settings, online_names, objs, cache, offline, run.errors)
        chain.run(run, _online_rows(run, gaz, offline and len(cache) == 0), gaz, progress)
        requests_made = {n: getattr(o, "requests", 0) for n, o in objs.items()}
    old_rank, new_rank = run.apply()
    outside = None
    if check_areas:
        try:
            outside = check_stated_units(run.f, settings)
        except Exception as exc:  # boundaries not fetched: report, do not fail the geocoding
            run.errors.append(f"nie sprawdzono położenia w gminach: {exc}")
    return run.report(gaz, old_rank, new_rank, outside, requests=requests_made,
                      cache_hits=cache.hits - hits_before, offline=offline or not online_names)


@dataclass
class _Run:
    """One geocoding run: the record being placed and, per row, the best point found and why not."""
    f: pd.DataFrame                 # the record (strings, COLUMNS + row)
    before: pd.Series               # the precision each row had
    target: pd.Series               # the best precision each row's data allow
    best: pd.DataFrame              # lat, lon, precision, geocoder: the best point found in this run
    reasons: dict                   # row index → reasons it was not placed (better)
    notes: dict                     # row index → notes on how it was placed
    todo: pd.Index                  # rows that lack a point or can get a better one
    errors: list[str] = field(default_factory=list)

    @classmethod
    def start(cls, frame: pd.DataFrame) -> "_Run":
        f = frame.copy()
        for col in COLUMNS:
            if col not in f.columns:
                f[col] = ""
        f[COLUMNS] = f[COLUMNS].fillna("").astype(str)
        if "row" not in f.columns:
            f.insert(0, "row", range(2, len(f) + 2))
        before, target = existing_precision(f), target_precision(f)
        best = pd.DataFrame({"lat": np.nan, "lon": np.nan, "precision": "none", "geocoder": "", "powiat": ""},
                            index=f.index)
        todo = f.index[(_rank(before) < _rank(target)) | before.eq("none")]
        return cls(f, before, target, best, {i: [] for i in f.index}, {i: [] for i in f.index}, todo)

    def short_of_target(self, i) -> bool:
        return PRECISION_RANK[self.best.at[i, "precision"]] < PRECISION_RANK[self.target.at[i]]

    def take_gazetteer(self, gaz: pd.DataFrame) -> pd.DataFrame:
        """Record the gazetteer's places, reasons and notes; returns its answer for the later steps."""
        placed = gaz.index[gaz["status"].eq("placed")]
        self.best.loc[placed, ["lat", "lon"]] = gaz.loc[placed, ["lat", "lon"]].astype(float).to_numpy()
        self.best.loc[placed, "precision"] = gaz.loc[placed, "precision"]
        self.best.loc[placed, "geocoder"] = gaz.loc[placed, "geocoder"]
        if "powiat" in gaz:
            self.best.loc[placed, "powiat"] = gaz.loc[placed, "powiat"].fillna("")
        for i in gaz.index[gaz["reason"].ne("")]:
            self.reasons[i].append(gaz.at[i, "reason"])
        for i in gaz.index[gaz["note"].ne("")]:
            self.notes[i].append(gaz.at[i, "note"])
        return gaz

    def take(self, i, chosen: Candidate) -> None:
        if PRECISION_RANK[chosen.precision] > PRECISION_RANK[self.best.at[i, "precision"]]:
            self.best.loc[i, ["lat", "lon"]] = [chosen.lat, chosen.lon]
            self.best.at[i, "precision"] = chosen.precision
            self.best.at[i, "geocoder"] = chosen.label

    def apply(self) -> tuple[pd.Series, pd.Series]:
        """Write the points found into the record where strictly better; returns (old, new) ranks."""
        f, best = self.f, self.best
        new_rank, old_rank = _rank(best["precision"]), _rank(self.before)
        better = new_rank > old_rank
        point = better & best["lat"].notna()
        f.loc[point, "lat"] = best.loc[point, "lat"].map(lambda v: f"{v:.6f}")
        f.loc[point, "lon"] = best.loc[point, "lon"].map(lambda v: f"{v:.6f}")
        # Known only to the powiat: no point, the powiat's code is the place.
        powiat = better & best["precision"].eq("powiat")
        f.loc[powiat, ["lat", "lon"]] = ""
        f.loc[powiat, "powiat_teryt"] = best.loc[powiat, "powiat"]
        f.loc[better, "location_precision"] = best.loc[better, "precision"]
        f.loc[better, "geocoder"] = best.loc[better, "geocoder"]
        unplaced_now = ~(f["lat"].ne("") & f["lon"].ne("")) & ~(f["location_precision"].eq("powiat")
                                                                 & f["powiat_teryt"].ne(""))
        f.loc[unplaced_now, "location_precision"] = "none"
        f.loc[unplaced_now & f["geocoder"].ne(""), "geocoder"] = ""
        return old_rank, new_rank

    def report(self, gaz: pd.DataFrame, old_rank: pd.Series, new_rank: pd.Series, outside, **run_facts) -> GeocodeReport:
        f = self.f
        better = new_rank > old_rank
        final = existing_precision(f)
        counts = {p: int((final == p).sum()) for p in PRECISION_RANK if p != "none"}
        counts["none"] = int((final == "none").sum())
        rows_unplaced = f.index[final.eq("none")]
        cand_col = gaz["candidates"] if len(gaz) else pd.Series(dtype=object)
        unplaced = pd.DataFrame({
            "row": f.loc[rows_unplaced, "row"], "id": f.loc[rows_unplaced, "id"], "name": f.loc[rows_unplaced, "name"],
            "reason": [_join_reasons(self.reasons[i]) or "brak danych o położeniu" for i in rows_unplaced],
            "candidates": [cand_col.get(i, "") if len(cand_col) else "" for i in rows_unplaced],
        })
        note_rows = [i for i in f.index if self.notes[i] and better.get(i, False)]
        notes = pd.DataFrame({"row": [f.at[i, "row"] for i in note_rows], "id": [f.at[i, "id"] for i in note_rows],
                              "name": [f.at[i, "name"] for i in note_rows],
                              "note": ["; ".join(self.notes[i]) for i in note_rows]})
        below = (final.map(PRECISION_RANK) < self.target.map(PRECISION_RANK)) & self.target.isin(["street", "address"])
        return GeocodeReport(
            frame=f, counts=counts, unplaced=unplaced.reset_index(drop=True), notes=notes, outside=outside,
            placed_now=int((better & old_rank.eq(0)).sum()), improved=int((better & old_rank.gt(0)).sum()),
            kept_better=int((new_rank.gt(0) & new_rank.lt(old_rank)).sum()),
            below_target=int((below & final.ne("none")).sum()), errors=sorted(set(self.errors)), **run_facts,
        )


def _online_rows(run: _Run, gaz: pd.DataFrame, nothing_to_ask: bool) -> list:
    """Rows worth asking online: a locality, short of their target, and — a homonym the gazetteer could not
    resolve — only with a street, since only an address match can resolve it."""
    if nothing_to_ask:
        return []
    no_location = set(gaz.index[gaz["status"].eq("no_location")]) if len(gaz) else set()
    ambiguous = _homonyms(gaz)
    f = run.f
    return [i for i in run.todo if i not in no_location and f.at[i, "locality"] and run.short_of_target(i)
            and (i not in ambiguous or f.at[i, "street"].strip())]


def _homonyms(gaz: pd.DataFrame) -> set:
    """Rows whose locality names several places: left ambiguous, or placed only to their common powiat."""
    if not len(gaz):
        return set()
    to_powiat = gaz["status"].eq("placed") & gaz.get("precision", pd.Series("", index=gaz.index)).eq("powiat") \
        & gaz["candidates"].fillna("").ne("")
    return set(gaz.index[gaz["status"].eq("ambiguous") | to_powiat])


class _OnlineChain:
    """The online providers in order, with the cache, and the providers given up on in this run."""

    def __init__(self, settings: Settings, names: list[str], providers: dict, cache: GeocodeCache,
                 offline: bool, errors: list[str]):
        self.settings, self.names, self.providers, self.cache = settings, names, providers, cache
        self.offline, self.errors = offline, errors
        self.disabled: dict[str, str] = {}
        self.failures: dict[str, int] = {}       # consecutive errors per provider
        self.areas: Areas | None = None

    def run(self, run: _Run, rows: list, gaz: pd.DataFrame, progress: bool | None) -> None:
        ambiguous_rows = _homonyms(gaz)
        bar = tqdm(rows, desc="Pamięć podręczna" if self.offline else "Geokodowanie online", unit="wiersz",
                   disable=(not progress) if progress is not None else None, leave=False)
        for i in bar:
            row = run.f.loc[i]
            for name in self.names:
                if not run.short_of_target(i):
                    break
                if name in self.disabled:
                    run.reasons[i].append(self.disabled[name])
                    continue
                cands = self.ask(name, row, run.reasons[i])
                if cands is None:
                    continue
                chosen, why = _choose(cands, row, self._areas() if cands else None, i in ambiguous_rows, name)
                if chosen is None:
                    run.reasons[i].append(why)
                else:
                    run.take(i, chosen)
        bar.close()

    def _areas(self) -> Areas:
        if self.areas is None:  # loaded on the first answer: a run answered from nothing needs no boundaries
            self.areas = Areas(self.settings)
        return self.areas

    def ask(self, name: str, row: pd.Series, reasons: list[str]) -> list[Candidate] | None:
        """The provider's candidates for the row (from the cache if asked before); None if not asked."""
        provider = self.providers.get(name)
        query = provider.query(row) if provider is not None else None
        if query is None:
            return None
        key = query if isinstance(query, str) else json.dumps(query, sort_keys=True, ensure_ascii=False)
        try:
            cands = self.cache.get(name, key)
            if cands is None and self.offline:
                return None
            if cands is None:
                cands = provider.lookup(query)
                self.cache.put(name, key, cands)
        except ProviderUnavailable as exc:
            self.disabled[name] = f"{name}: usługa niedostępna w tym przebiegu"
            reasons.append(str(exc))
            self.errors.append(str(exc))
            return None
        except ProviderError as exc:
            reasons.append(str(exc))
            self.errors.append(str(exc))
            self.failures[name] = self.failures.get(name, 0) + 1
            if self.failures[name] >= MAX_CONSECUTIVE_ERRORS:
                self.disabled[name] = f"{name}: pominięto po {self.failures[name]} kolejnych błędach"
                self.errors.append(self.disabled[name])
            return None
        self.failures[name] = 0
        return cands


def _join_reasons(items: list[str]) -> str:
    seen = []
    for item in items:
        if item and item not in seen:
            seen.append(item)
    return "; ".join(seen)


def _choose(cands: list[Candidate], row: pd.Series, areas: Areas | None, ambiguous: bool, name: str):
    """The one candidate to take, or (None, why not): inside the stated area, unique, precise enough."""
    if not cands:
        return None, f"{name}: nie znaleziono"
    area, area_name = areas.area_for(row["gmina_teryt"], row["powiat_teryt"] or row["gmina_teryt"][:4])
    inside = [c for c in cands if areas.contains(area, c.lat, c.lon)]
    if not inside:
        return None, f"{name}: wynik poza {area_name} ({cands[0].description or 'bez opisu'})"
    top = max(PRECISION_RANK[c.precision] for c in inside)
    inside = [c for c in inside if PRECISION_RANK[c.precision] == top]
    first = inside[0]
    if any(_distance_m(first, c) > SAME_PLACE_M for c in inside[1:]):
        return None, (f"{name}: niejednoznaczny wynik ({len(inside)} miejsc: "
                      + "; ".join(c.description for c in inside[:5]) + ")")
    if ambiguous and PRECISION_RANK[first.precision] < PRECISION_RANK["street"]:
        return None, f"{name}: wynik na poziomie miejscowości nie rozstrzyga homonimu"
    return first, ""


# --- checks ---------------------------------------------------------------------------------------

def check_stated_units(frame: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    """Placed rows whose point is not inside the gmina (or powiat) the record states, with the gmina the
    point falls in. Vectorised: one spatial join for the whole frame."""
    territory = load_territory(settings)
    placed = frame[frame["lat"].ne("") & frame["lon"].ne("")
                   & (frame["gmina_teryt"].ne("") | frame["powiat_teryt"].ne(""))]
    cols = ["row", "id", "name", "stated", "computed_gmina", "computed_name", "distance_m"]
    if placed.empty:
        return pd.DataFrame(columns=cols)
    pts = gpd.GeoDataFrame(placed[["row", "id", "name", "gmina_teryt", "powiat_teryt"]].copy(),
                           geometry=gpd.points_from_xy(placed["lon"].astype(float), placed["lat"].astype(float)),
                           crs="EPSG:4326").to_crs(CRS_METRIC)
    gminy = territory.gminy[["teryt", "name", "geometry"]].to_crs(CRS_METRIC)
    joined = gpd.sjoin(pts, gminy, how="left", predicate="within").drop(columns="index_right")
    joined = joined[~joined.index.duplicated()]
    computed = joined["teryt"].fillna("")
    stated = joined["gmina_teryt"].where(joined["gmina_teryt"].ne(""), joined["powiat_teryt"])
    bad = stated.ne("") & (computed.eq("") | ~pd.Series([c.startswith(s) for c, s in zip(computed, stated)],
                                                         index=computed.index))
    out = joined[bad].copy()
    if out.empty:
        return pd.DataFrame(columns=cols)
    geoms = gminy.set_index("teryt").geometry
    powiaty = territory.powiaty.set_index("teryt").to_crs(CRS_METRIC).geometry
    out["stated"] = stated[bad]
    out["distance_m"] = [round(float(g.distance(geoms[s] if len(s) == 7 else powiaty[s])))
                         if (s in geoms.index or s in powiaty.index) else np.nan
                         for g, s in zip(out.geometry, out["stated"])]
    out = out.rename(columns={"teryt": "computed_gmina", "name_right": "computed_name", "name_left": "name"})
    return pd.DataFrame(out.reindex(columns=cols)).fillna({"computed_gmina": "", "computed_name": ""})


# --- files and the report -------------------------------------------------------------------------

def read_record(path: Path | str) -> pd.DataFrame:
    frame = read_table(path)
    for col in COLUMNS:
        if col not in frame.columns:
            frame[col] = ""
    return frame


def geocode_file(path: Path | str, settings: Settings, output: Path | str | None = None, dry_run: bool = False,
                 cache_path: Path | str | None = None, **kwargs) -> GeocodeReport:
    frame = read_record(path)
    cache = GeocodeCache(cache_path)
    try:
        report = geocode_frame(frame, settings, cache=cache, **kwargs)
    finally:
        cache.close()
    if not dry_run:
        write_entities(report.frame.drop(columns=["row"]), output or path)
    return report


def format_report(report: GeocodeReport, total_label: str = "") -> str:
    f = report.frame
    total = len(f)
    powiat_only = report.counts.get("powiat", 0)
    placed = total - report.counts.get("none", 0) - powiat_only
    lines = [f"Umieszczono na mapie: {placed} z {total} podmiotów{total_label}"
             + (f"; tylko w powiecie (bez punktu): {powiat_only}." if powiat_only else ".")]
    lines.append("Według precyzji: " + ", ".join(f"{p}: {report.counts.get(p, 0)}"
                                                  for p in ("address", "street", "locality", "gmina", "powiat", "none")))
    by_source = f.loc[f["geocoder"].ne(""), "geocoder"].value_counts()
    if len(by_source):
        lines.append("Według źródła: " + ", ".join(f"{k}: {v}" for k, v in by_source.items()))
    asked = ", ".join(f"{k} {v}" for k, v in report.requests.items() if v) or "0"
    lines.append(f"W tym przebiegu: nowo umieszczone {report.placed_now}, z lepszą precyzją {report.improved}; "
                 f"zapytania online: {asked}; odpowiedzi z pamięci podręcznej: {report.cache_hits}"
                 + (" (tryb offline)." if report.offline else "."))
    if report.kept_better:
        lines.append(f"Zachowano istniejące dokładniejsze punkty: {report.kept_better}.")
    if report.below_target:
        why = ("geokoder adresowy działa tylko online, a ten przebieg był offline" if report.offline
               else "usługi online były niedostępne — zob. uwagi" if report.errors
               else "usługi adresowe nie znalazły adresu w podanej gminie")
        lines.append(f"{count(report.below_target, 'podmiot')} z ulicą w adresie umieszczono mniej dokładnie, niż pozwala "
                     f"adres ({why}).")
    for err in report.errors:
        lines.append(f"Uwaga: {err}")
    if len(report.notes):
        lines.append(f"Uwagi ({len(report.notes)}):")
        lines += [f"  wiersz {r.row} {r.id} {r.name}: {r.note}" for r in report.notes.itertuples()]
    if len(report.unplaced):
        lines.append(f"Nieumieszczone ({len(report.unplaced)}):")
        lines += [f"  wiersz {r.row} {r.id} {r.name}: {r.reason}" for r in report.unplaced.itertuples()]
    if report.outside is not None:
        if len(report.outside):
            lines.append(f"Punkty poza podaną gminą/powiatem ({len(report.outside)}):")
            lines += [f"  wiersz {r.row} {r.id} {r.name}: podano {r.stated}, punkt w gminie {r.computed_gmina} "
                      f"{r.computed_name} ({r.distance_m:.0f} m od granicy)" for r in report.outside.itertuples()]
        else:
            stated = int(((f["gmina_teryt"].ne("") | f["powiat_teryt"].ne("")) & f["lat"].ne("")).sum())
            lines.append(f"Wszystkie umieszczone podmioty z podaną gminą lub powiatem ({stated}) leżą w jej granicach.")
    return "\n".join(lines)
