"""Online sources behind `python -m geoes fetch` (without `--mirror`).

Two official services, asked sequentially through one `requests.Session` with retries:

* **GUS BDL** (Bank Danych Lokalnych, REST/JSON, https://bdl.stat.gov.pl/api/v1/) gives the list of units
  (`units?parent-id=…&level=5|6`, paged via `links.next`) and the population: variable **72305**,
  "ludność ogółem" (subject P2137, people at 31 XII), `data/by-variable/72305?unit-parent-id=…&
  unit-level=5|6&year=2024&year=2021`. The year 2021 fills `population_2021`.
  The same client asks for registered unemployment (`geoes.sources.needs`: variables 10514, persons,
  and 60270, the rate in %; 2022–2024) for the voivodeship, the powiaty and the gminy.
* **GUGiK ULDK** (https://uldk.gugik.gov.pl/) gives the geometry: `GetCommuneById&id=WWPPGG_R`,
  `GetCountyById&id=WWPP`, `GetVoivodeshipById&id=WW`, `result=geom_wkb`. The body is text: the first
  line is a status (`0` = OK, otherwise e.g. `-1 brak wyników`), the next line hex WKB in EPSG:2180,
  possibly prefixed with `SRID=2180;`.

BDL unit ids have 12 digits: makroregion (2), voivodeship (2), region (1), podregion (2), powiat (2),
gmina (2), kind (1). TERYT is `id[2:4] + id[7:9] + id[9:11] + id[11]`, e.g. Kraków `011212161011` →
`1261011` (see `teryt_from_bdl_id`). The voivodeship's BDL id is not derived from a table: the level-2
units are listed and the one whose digits 3-4 equal the region code is taken.

BDL lists units independently of the year, so a gmina whose kind changed (e.g. Sobków, 2602082 until
2024, 2602083 from 2025-01-01) may appear under two ids, and BDL data for a year use the codes valid in
that year. Units are therefore grouped by the first six TERYT digits: the population comes from
whichever id carries it, and the code kept is the one ULDK (current PRG) knows — the BDL candidates are
tried first, then the other kind digits.

What the online source does **not** give:

* official areas: ULDK has no areas, so `area_km2_official` holds the area computed from the ULDK
  geometry in EPSG:2180 and the column `area_source` says `computed` (gminy and powiaty);
* the gazetteer (localities, gmina points, TERC) and the official PES counts: `RegionData.localities`,
  `gmina_points`, `terc` and `official_counts` stay `None`; they come from a mirror only
  (`python -m geoes fetch --mirror DIR`).

Every failure — network, timeout, HTTP status after the retries, an ULDK status other than 0, a body
that cannot be parsed — becomes a `FetchError` naming the unit and the URL.
"""
from __future__ import annotations

import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

import geopandas as gpd
import pandas as pd
import requests
import shapely
import shapely.wkb
import urllib3

from geoes.config import CRS_METRIC
from geoes.sources import needs
from geoes.sources.http import make_session as http_session
from geoes.sources.http import user_agent
from geoes.sources.region import GMINA_TYPE_NAMES, POPULATION_YEAR, FetchError, RegionData

# HTTP header values must be Latin-1 (http.client refuses "ł"), so the Polish name is written in ASCII.
USER_AGENT = user_agent("granice i ludnosc")
ULDK_URL = "https://uldk.gugik.gov.pl/"
BDL_URL = "https://bdl.stat.gov.pl/api/v1/"

# GUS BDL variable "ludność ogółem" (subject P2137 "Ludność wg grup wieku i płci"), people at 31 XII.
BDL_POPULATION_VARIABLE = 72305
POPULATION_BASE_YEAR = 2021
BDL_PAGE_SIZE = 100
BDL_MAX_PAGES = 50
BDL_LEVEL_VOIVODESHIP = 2
BDL_LEVEL_POWIAT = 5
BDL_LEVEL_GMINA = 6

AREA_SOURCE = "computed"


# --------------------------------------------------------------------------------------------------
# BDL ids


def teryt_from_bdl_id(bdl_id: str) -> str:
    """TERYT code of a BDL unit id: 2 digits (voivodeship), 4 (powiat) or 7 (gmina or gmina part).

    Layout of the 12 digits: makroregion (2), voivodeship (2), region (1), podregion (2), powiat (2),
    gmina (2), kind (1); TERYT = voivodeship + powiat + gmina + kind. Other levels (country,
    makroregion, region, podregion) have no TERYT code and raise ValueError.
    """
    bdl_id = str(bdl_id).strip()
    if not re.fullmatch(r"\d{12}", bdl_id):
        raise ValueError(f"identyfikator jednostki BDL musi mieć 12 cyfr: {bdl_id!r}")
    woj, powiat, gmina, kind = bdl_id[2:4], bdl_id[7:9], bdl_id[9:11], bdl_id[11]
    if woj == "00":
        raise ValueError(f"jednostka BDL {bdl_id} nie leży w województwie")
    if bdl_id[4:] == "00000000":
        return woj
    if powiat != "00" and gmina == "00" and kind == "0":
        return woj + powiat
    if powiat != "00" and gmina != "00" and kind != "0":
        return woj + powiat + gmina + kind
    raise ValueError(f"jednostka BDL {bdl_id} nie jest województwem, powiatem ani gminą")


def powiat_name_from_bdl(name: str) -> str:
    """'Powiat jędrzejowski' → 'jędrzejowski', 'Powiat m. Kielce' → 'Kielce' (TERC naming)."""
    name = " ".join(str(name).split())
    for prefix in ("Powiat m. st. ", "Powiat m.st. ", "Powiat m. ", "Powiat "):
        if name.lower().startswith(prefix.lower()):
            return name[len(prefix):]
    return name


def is_city_county(powiat_teryt: str) -> bool:
    """Powiat digits 61 and above are cities with powiat rights (e.g. 2661 Kielce)."""
    return int(str(powiat_teryt)[2:4]) >= 61


# --------------------------------------------------------------------------------------------------
# ULDK bodies


class UldkStatusError(ValueError):
    """ULDK answered with a status other than 0 (e.g. "-1 brak wyników")."""


class UldkNotFound(FetchError):
    """FetchError for an ULDK status other than 0: the unit is unknown to ULDK under that id."""


def parse_uldk_geometry(body: str):
    """Geometry from an ULDK `result=geom_wkb` body; ValueError with the service's text otherwise."""
    lines = [line.strip() for line in body.replace("\r", "").split("\n") if line.strip()]
    if not lines:
        raise ValueError("pusta odpowiedź")
    status = lines[0]
    if status != "0":
        raise UldkStatusError(f"status „{status[:200]}”")
    if len(lines) < 2:
        raise ValueError("status 0, ale brak geometrii")
    payload = lines[1].split("|", 1)[0].strip()
    srid = None
    match = re.match(r"SRID=(\d+);(.*)$", payload, flags=re.IGNORECASE | re.DOTALL)
    if match:
        srid, payload = int(match.group(1)), match.group(2).strip()
    try:
        geom = shapely.wkb.loads(bytes.fromhex(payload))
    except (ValueError, shapely.errors.ShapelyError) as exc:
        raise ValueError(f"nieczytelny WKB ({exc})") from None
    srid = srid or shapely.get_srid(geom) or None
    if srid not in (None, 2180):
        raise ValueError(f"geometria w układzie EPSG:{srid}, oczekiwano EPSG:2180")
    if geom.is_empty or geom.geom_type not in ("Polygon", "MultiPolygon"):
        raise ValueError(f"oczekiwano poligonu, jest {geom.geom_type}{' (pusta)' if geom.is_empty else ''}")
    return shapely.set_srid(geom, 0)


# --------------------------------------------------------------------------------------------------
# HTTP


def make_session(retries: int | None = None, backoff: float | None = None) -> requests.Session:
    return http_session(USER_AGENT, retries=retries, backoff=backoff)


def _full_url(url: str, params: dict | None) -> str:
    return requests.Request("GET", url, params=params).prepare().url or url


@dataclass
class _Http:
    session: requests.Session
    timeout: float
    pause: float = 0.0
    _last: float = field(default=0.0, repr=False)

    def get(self, url: str, params: dict | None, what: str, accept: str) -> requests.Response:
        full = _full_url(url, params)
        wait = self._last + self.pause - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        try:
            response = self.session.get(url, params=params, timeout=self.timeout, headers={"Accept": accept})
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError, UnicodeError) as exc:
            if _is_timeout(exc):
                raise FetchError(f"{what}: brak odpowiedzi w {self.timeout:g} s ({full})") from None
            raise FetchError(f"{what}: błąd połączenia: {_reason(exc)} ({full})") from None
        finally:
            self._last = time.monotonic()
        if response.status_code != 200:
            hint = " — przekroczony limit zapytań, spróbuj później" if response.status_code == 429 else ""
            raise FetchError(f"{what}: HTTP {response.status_code}{hint} ({response.url or full})")
        return response


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception and the reasons wrapped inside it (requests → urllib3 → socket)."""
    chain = [exc]
    for _ in range(6):
        current = chain[-1]
        inner = getattr(current, "reason", None)
        if not isinstance(inner, BaseException) and current.args and isinstance(current.args[0], BaseException):
            inner = current.args[0]
        if not isinstance(inner, BaseException) or inner in chain:
            break
        chain.append(inner)
    return chain


def _is_timeout(exc: BaseException) -> bool:
    chain = _chain(exc)
    if any(isinstance(e, urllib3.exceptions.NewConnectionError) for e in chain):
        return False  # urllib3 makes "connection refused" a subclass of ConnectTimeoutError
    return any(isinstance(e, (requests.Timeout, urllib3.exceptions.TimeoutError, TimeoutError)) for e in chain)


def _reason(exc: BaseException) -> str:
    """The innermost message of a requests/urllib3 exception chain."""
    reason = _chain(exc)[-1]
    return str(reason) or type(reason).__name__


# --------------------------------------------------------------------------------------------------
# BDL


@dataclass
class BdlClient:
    http: _Http
    base_url: str = BDL_URL

    def _url(self, path: str) -> str:
        return self.base_url.rstrip("/") + "/" + path.lstrip("/")

    def get_all(self, path: str, params: dict, what: str) -> list[dict]:
        """All `results` of a paged BDL resource, following `links.next`."""
        url: str | None = self._url(path)
        query: dict | None = {**params, "format": "json", "lang": "pl", "page-size": BDL_PAGE_SIZE}
        results: list[dict] = []
        seen: set[str] = set()
        for _ in range(BDL_MAX_PAGES):
            full = _full_url(url, query)
            seen.add(full)
            response = self.http.get(url, query, what, "application/json")
            try:
                body = response.json()
                page = body["results"]
                if not isinstance(page, list):
                    raise TypeError("results nie jest listą")
            except (ValueError, KeyError, TypeError) as exc:
                raise FetchError(f"{what}: nieczytelna odpowiedź BDL ({exc}) ({full})") from None
            results.extend(page)
            total = body.get("totalRecords")
            next_url = (body.get("links") or {}).get("next")
            if not next_url or not page or (isinstance(total, int) and len(results) >= total):
                return results
            if next_url in seen:
                raise FetchError(f"{what}: BDL wskazuje wciąż tę samą stronę ({next_url})")
            url, query = next_url, None
        raise FetchError(f"{what}: ponad {BDL_MAX_PAGES} stron wyników BDL ({url})")

    def voivodeship(self, region: str) -> dict:
        what = f"BDL: lista województw (szukam {region})"
        units = self.get_all("units", {"level": BDL_LEVEL_VOIVODESHIP}, what)
        found = [u for u in units if str(u.get("id", ""))[2:4] == region and str(u["id"])[4:] == "00000000"]
        if len(found) != 1:
            raise FetchError(f"{what}: BDL nie zna województwa o kodzie {region} ({self._url('units')})")
        return found[0]

    def units(self, parent_id: str, level: int, what: str) -> list[dict]:
        return self.get_all("units", {"parent-id": parent_id, "level": level}, what)

    def values(self, variable: int, parent_id: str | None, level: int, years: Iterable[int],
               what: str) -> dict[str, dict[int, float]]:
        """BDL id → {year: value} of `variable` for the units of `level` (under `parent_id`, if given).
        A year BDL gives no value for is absent, never filled."""
        params = {"unit-level": level, "year": list(years)}
        if parent_id:
            params["unit-parent-id"] = parent_id
        rows = self.get_all(f"data/by-variable/{variable}", params, what)
        out: dict[str, dict[int, float]] = {}
        for row in rows:
            values: dict[int, float] = {}
            for value in row.get("values") or []:
                try:
                    if value.get("val") is not None:
                        values[int(value["year"])] = float(value["val"])
                except (KeyError, TypeError, ValueError):
                    raise FetchError(f"{what}: nieczytelna wartość BDL dla {row.get('id')}: {value!r}") from None
            out[str(row.get("id"))] = values
        return out

    def population(self, parent_id: str, level: int, years: Iterable[int], what: str) -> dict[str, dict[int, int]]:
        """BDL id → {year: population} for the units of `level` under `parent_id`."""
        rows = self.values(BDL_POPULATION_VARIABLE, parent_id, level, years, what)
        return {uid: {y: int(round(v)) for y, v in values.items()} for uid, values in rows.items()}


# --------------------------------------------------------------------------------------------------
# ULDK


@dataclass
class UldkClient:
    http: _Http
    base_url: str = ULDK_URL

    def geometry(self, request: str, uldk_id: str, what: str):
        params = {"request": request, "id": uldk_id, "result": "geom_wkb", "srid": "2180"}
        response = self.http.get(self.base_url, params, what, "text/plain")
        if not response.encoding or response.encoding.lower() == "iso-8859-1":
            response.encoding = "utf-8"
        try:
            return parse_uldk_geometry(response.text)
        except UldkStatusError as exc:
            raise UldkNotFound(f"{what}: ULDK {exc} ({response.url})") from None
        except ValueError as exc:
            raise FetchError(f"{what}: ULDK {exc} ({response.url})") from None

    def commune(self, teryt: str, name: str, candidates: list[str]):
        """(teryt, geometry) for a gmina, trying the kind digits in `candidates` order."""
        errors: list[str] = []
        for code in candidates:
            try:
                geom = self.geometry("GetCommuneById", f"{code[:6]}_{code[6]}", f"ULDK: gmina {code} {name}")
                return code, geom
            except UldkNotFound as exc:  # unknown under this kind digit: try the next one
                errors.append(str(exc))
        raise FetchError(f"ULDK: brak granicy gminy {teryt} {name} (próbowano kodów {', '.join(candidates)}): "
                         f"{errors[0]}")


def _commune_candidates(codes: list[str]) -> list[str]:
    """BDL codes first (newer kind digit first), then the other gmina kinds of the same 6 digits."""
    prefix = codes[0][:6]
    ordered = sorted(set(codes), key=lambda c: c[6], reverse=True)
    others = [prefix + d for d in "321" if prefix + d not in ordered]
    return ordered + others


# --------------------------------------------------------------------------------------------------
# The whole region


class _Progress:
    def __init__(self, progress, total: int):
        self.progress, self.total, self.done = progress, total, 0
        if progress is not None and not callable(progress) and hasattr(progress, "update"):
            progress.total = total
            if hasattr(progress, "refresh"):
                progress.refresh()

    def step(self, label: str) -> None:
        self.done += 1
        if self.progress is None:
            return
        if callable(self.progress):
            self.progress(self.done, self.total, label)
        else:  # a tqdm bar
            if hasattr(self.progress, "set_postfix_str"):
                self.progress.set_postfix_str(label, refresh=False)
            self.progress.update(1)


def load_online(
    region: str,
    *,
    timeout: float = 30.0,
    uldk_url: str = ULDK_URL,
    bdl_url: str = BDL_URL,
    session: requests.Session | None = None,
    progress=None,
    retries: int = 3,
    backoff: float = 0.5,
    pause: float = 0.1,
) -> RegionData:
    """Fetch units, population (GUS BDL) and boundaries (GUGiK ULDK) of voivodeship `region`.

    `progress` is None, a callable `(done, total, label)` called after each ULDK unit, or a tqdm bar.
    `pause` is the minimum time (s) between two requests; requests are always sequential.
    A given `session` is used as it is (its adapters decide retries); otherwise one is made with
    `retries` and `backoff`.
    """
    region = str(region).strip()
    if not re.fullmatch(r"\d{2}", region):
        raise FetchError(f"pobieranie z usług działa dla województwa (2 cyfry TERYT), podano: {region!r}")
    own_session = session is None
    session = session or make_session(retries=retries, backoff=backoff)
    http = _Http(session, timeout=timeout, pause=pause)
    try:
        return _load(region, BdlClient(http, bdl_url), UldkClient(http, uldk_url), progress)
    finally:
        if own_session:
            session.close()


def _load(region: str, bdl: BdlClient, uldk: UldkClient, progress) -> RegionData:
    years = (POPULATION_YEAR, POPULATION_BASE_YEAR)
    woj = bdl.voivodeship(region)
    woj_id = str(woj["id"])
    region_name = str(woj.get("name", "")).strip().lower()

    # Units and population from BDL.
    powiat_units = bdl.units(woj_id, BDL_LEVEL_POWIAT, f"BDL: powiaty województwa {region} ({woj_id})")
    gmina_units = bdl.units(woj_id, BDL_LEVEL_GMINA, f"BDL: gminy województwa {region} ({woj_id})")
    ppop = bdl.population(woj_id, BDL_LEVEL_POWIAT, years, f"BDL: ludność powiatów województwa {region}")
    gpop = bdl.population(woj_id, BDL_LEVEL_GMINA, years, f"BDL: ludność gmin województwa {region}")
    if not any(POPULATION_YEAR in v for v in gpop.values()):
        raise FetchError(f"BDL: brak danych o ludności gmin za {POPULATION_YEAR} (zmienna {BDL_POPULATION_VARIABLE}, "
                         f"{bdl._url(f'data/by-variable/{BDL_POPULATION_VARIABLE}')})")
    powiaty = {}
    for unit in powiat_units:
        teryt = _teryt(unit, 4, region, "powiat")
        powiaty[teryt] = {"bdl_id": str(unit["id"]), "name": powiat_name_from_bdl(unit.get("name", ""))}
    groups = _gmina_groups(gmina_units, gpop, region)

    # Geometry from ULDK.
    tick = _Progress(progress, len(groups) + len(powiaty) + 1)
    gminy, gminy_population = _gminy(groups, gpop, powiaty, uldk, tick)
    powiaty_frame, powiaty_population = _powiaty(powiaty, ppop, uldk, tick)
    region_geom = uldk.geometry("GetVoivodeshipById", region, f"ULDK: województwo {region} {region_name}")
    tick.step(f"województwo {region}")
    region_frame = gpd.GeoDataFrame({"teryt": [region], "name": [region_name]}, geometry=[region_geom], crs=CRS_METRIC)
    teryt_of = {woj_id: region, **{p["bdl_id"]: t for t, p in powiaty.items()}}
    current = {t[:6]: t for t in gminy["teryt"]}
    teryt_of.update({u["bdl_id"]: current[prefix] for prefix, units in groups.items() for u in units
                     if prefix in current})
    return RegionData(gminy=gminy, powiaty=powiaty_frame, region=region_frame,
                      gminy_population=gminy_population, powiaty_population=powiaty_population,
                      unemployment=_unemployment(bdl, woj_id, region, teryt_of))


def _unemployment(bdl: BdlClient, woj_id: str, region: str, teryt_of: dict[str, str]) -> pd.DataFrame:
    """Registered unemployed (voivodeship, powiaty, gminy) and the rate (voivodeship, powiaty) from BDL,
    each BDL id under the current TERYT code of its unit (a gmina's older kind digit included)."""
    frames = []
    asks = [("persons", needs.UNEMPLOYED_VARIABLE, (BDL_LEVEL_VOIVODESHIP, BDL_LEVEL_POWIAT, BDL_LEVEL_GMINA)),
            ("rate", needs.RATE_VARIABLE, (BDL_LEVEL_VOIVODESHIP, BDL_LEVEL_POWIAT))]
    for measure, variable, levels in asks:
        for level in levels:
            parent = None if level == BDL_LEVEL_VOIVODESHIP else woj_id
            rows = bdl.values(variable, parent, level, needs.YEARS,
                              f"BDL: zmienna {variable} ({measure}), poziom {level}, województwo {region}")
            frames.append(needs.from_bdl_values(rows, teryt_of, measure))
    table = needs.combine(frames, f"BDL {bdl._url('data/by-variable')}")
    if not (table["measure"].eq("persons") & table["teryt"].str.len().eq(7)).any():
        raise FetchError(f"BDL: brak liczby bezrobotnych w gminach (zmienna {needs.UNEMPLOYED_VARIABLE}, "
                         f"{bdl._url(f'data/by-variable/{needs.UNEMPLOYED_VARIABLE}')})")
    return table


def _gmina_groups(gmina_units: list[dict], gpop: dict[str, dict[int, int]], region: str) -> dict[str, list[dict]]:
    """BDL gmina ids grouped by the first six TERYT digits (one gmina, possibly under two kind digits)."""
    groups: dict[str, list[dict]] = {}
    for unit in gmina_units:
        uid = str(unit.get("id", ""))
        if uid[-1:] not in ("1", "2", "3"):
            continue  # 4 town / 5 rural part of an urban-rural gmina, 8/9 districts: not gminy
        teryt = _teryt(unit, 7, region, "gmina")
        name = str(unit.get("name", "")).strip()
        groups.setdefault(teryt[:6], []).append({"bdl_id": uid, "teryt": teryt, "name": name})
    # A group none of whose ids has any population in the years asked is a gmina that no longer exists.
    return {prefix: units for prefix, units in groups.items() if any(gpop.get(u["bdl_id"]) for u in units)}


def _gminy(groups: dict[str, list[dict]], gpop: dict[str, dict[int, int]], powiaty: dict[str, dict],
           uldk: UldkClient, tick: _Progress) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Each gmina's boundary from ULDK under the code ULDK knows, with its population."""
    rows: list[dict] = []
    geoms = []
    pop_rows: list[dict] = []
    for prefix in sorted(groups):
        units = groups[prefix]
        current = _current_unit(units, gpop)
        teryt, geom = uldk.commune(current["teryt"], current["name"], _commune_candidates([u["teryt"] for u in units]))
        powiat_teryt = teryt[:4]
        rows.append({
            "teryt": teryt,
            "name": current["name"],
            "powiat_teryt": powiat_teryt,
            "powiat_name": powiaty.get(powiat_teryt, {}).get("name"),
            "type": int(teryt[6]),
            "type_name": GMINA_TYPE_NAMES.get(int(teryt[6]), ""),
        })
        geoms.append(geom)
        ordered = [current] + [u for u in units if u is not current]
        pop_rows.append(_population_row(teryt, [gpop.get(u["bdl_id"], {}) for u in ordered]))
        tick.step(f"gmina {teryt} {current['name']}")
    gminy = gpd.GeoDataFrame(pd.DataFrame(rows, columns=[
        "teryt", "name", "powiat_teryt", "powiat_name", "type", "type_name"]), geometry=geoms, crs=CRS_METRIC)
    _add_area(gminy)
    return gminy, _population_frame(pop_rows)


def _powiaty(powiaty: dict[str, dict], ppop: dict[str, dict[int, int]], uldk: UldkClient,
             tick: _Progress) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Each powiat's boundary from ULDK, with its population."""
    rows: list[dict] = []
    geoms = []
    pop_rows: list[dict] = []
    for teryt in sorted(powiaty):
        name = powiaty[teryt]["name"]
        geoms.append(uldk.geometry("GetCountyById", teryt, f"ULDK: powiat {teryt} {name}"))
        rows.append({"teryt": teryt, "name": name, "city_county": is_city_county(teryt)})
        pop_rows.append(_population_row(teryt, [ppop.get(powiaty[teryt]["bdl_id"], {})]))
        tick.step(f"powiat {teryt} {name}")
    frame = gpd.GeoDataFrame(pd.DataFrame(rows, columns=["teryt", "name", "city_county"]),
                             geometry=geoms, crs=CRS_METRIC)
    _add_area(frame)
    return frame, _population_frame(pop_rows)


def _teryt(unit: dict, digits: int, region: str, label: str) -> str:
    uid = str(unit.get("id", ""))
    try:
        teryt = teryt_from_bdl_id(uid)
    except ValueError as exc:
        raise FetchError(f"BDL: {label} {unit.get('name', '')}: {exc}") from None
    if len(teryt) != digits or not teryt.startswith(region):
        raise FetchError(f"BDL: {label} {unit.get('name', '')} ({uid}) ma kod TERYT {teryt} spoza regionu {region}")
    return teryt


def _current_unit(units: list[dict], gpop: dict[str, dict[int, int]]) -> dict:
    """Of a gmina's BDL ids, the one with population in the target year (else the newest kind)."""
    with_year = [u for u in units if POPULATION_YEAR in gpop.get(u["bdl_id"], {})]
    pool = with_year or units
    return max(pool, key=lambda u: u["teryt"][6])


def _population_row(teryt: str, series: list[dict[int, int]]) -> dict:
    def first(year: int):
        for values in series:
            if year in values:
                return values[year]
        return None

    return {"teryt": teryt, "population": first(POPULATION_YEAR), "population_year": POPULATION_YEAR,
            "population_2021": first(POPULATION_BASE_YEAR)}


def _population_frame(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["teryt", "population", "population_year", "population_2021"])
    frame["population"] = frame["population"].astype("Int64")
    frame["population_year"] = frame["population_year"].astype(int)
    frame["population_2021"] = frame["population_2021"].astype("Int64")
    return frame


def _add_area(frame: gpd.GeoDataFrame) -> None:
    frame["area_km2_official"] = (frame.geometry.area / 1e6).round(2)
    frame["area_source"] = AREA_SOURCE
