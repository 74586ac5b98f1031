"""Indicators per gmina, per powiat and for the voivodeship: what planners compare units by.

One count, one definition: `entities` is the number of entities **in the register** — every entity whose
status is not known to be closed (ACTIVE_STATUSES: `active`, confirmed by a dated source, and `unknown`)
— placed in the unit. Every other count of entities (by type, of employees, verified, with a point, the
status split "status potwierdzony / nieznany / zamknięte") is made by the same function (`_base_counts`)
from the same place rules, so no page or file shows two figures for one thing:

* a gmina counts the entities whose point lies in it;
* a powiat, the sum of its gminy plus the entities known only to the powiat (`entities_without_gmina`);
* the voivodeship, the sum of its powiaty plus the entities of the register with no location at all
  (`entities_without_location`): they are in the region's register but in no unit;
* `entities_with_point` is the subset on the map; `entities_status_active`/`_unknown` split `entities`,
  `entities_status_inactive` counts the closed ones, which `entities` leaves out;
* an entity whose point lies outside the region counts nowhere.

Counts (in total, per type and of employees), densities per 10 thousand
inhabitants and per 100 km², the share of gminy with an entity and of their population ("białe plamy":
gminy without one), the share of the area within ACCESS_RADIUS_M of an entity, and for each of RANKED a
rank among the units of the level and a ratio to the voivodeship value.

Entities known only to their powiat (precision `powiat`, no point) count in the powiat's and the
voivodeship's totals and by type (`entities_without_gmina` says how many), in no gmina and not in the
area within reach. Registered unemployment (geoes.sources.needs) stands beside the supply: unemployed per
10 thousand inhabitants, the rate where BDL gives it (powiaty), the change since NEEDS_BASE_YEAR and
entities per 1000 unemployed. Beside every count of entities stands how many of them were verified
within the last VERIFIED_MONTHS months (`verified_at`, by the build date) and that share. What may be
ranked or related, and why not otherwise, is decided in geoes.dataset.figures.

Plain functions over GeoDataFrames, no web code: the CLI, the web app and the notebook call the same.
Areas and the access buffer are computed in EPSG:2180; densities use the official (2025) area.
"""
from __future__ import annotations

import calendar
import datetime as dt
import json
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from geoes.common.dictionary import is_whole
from geoes.common.labels import INDICATOR_LABELS
from geoes.common.polish import today_in_poland
from geoes.common.reference import entity_types
from geoes.config import ACCESS_RADIUS_M, ACTIVE_STATUSES, CRS_METRIC
from geoes.dataset import figures
from geoes.dataset.official import completeness, completeness_text  # noqa: F401 - read from here too
from geoes.register.record import STATUSES, TYPES_SEPARATOR
from geoes.sources.needs import SOURCE as NEEDS_SOURCE, from_local_copy
from geoes.sources.region import POPULATION_YEAR

# Indicators that get a rank among units of the same level and a ratio to the voivodeship value, under
# the small-number rules of geoes.dataset.figures.
RANKED = figures.RANKED
LABELS_PL = INDICATOR_LABELS
# The year of the need figures (the population's year, so per-inhabitant figures share one year) and the
# year changes are measured from.
NEEDS_YEAR = POPULATION_YEAR
NEEDS_BASE_YEAR = 2022
# Above this many distinct locations the exact buffer union is replaced by a fine grid (see method).
EXACT_ACCESS_MAX_POINTS = 5_000
ACCESS_GRID_M = 250
# "Zweryfikowane w ostatnich 24 miesiącach": entities whose facts were confirmed (KRS, RJPS, an operator, an
# accepted public report) at most this many months before the build.
VERIFIED_MONTHS = figures.VERIFIED_MONTHS


@dataclass
class Indicators:
    gminy: gpd.GeoDataFrame
    powiaty: gpd.GeoDataFrame
    voivodeship: dict
    white_spots: pd.DataFrame
    method: dict = field(default_factory=dict)


def in_register_mask(entities: pd.DataFrame) -> pd.Series:
    """Entities the register counts: status not known to be closed (active or unknown)."""
    return entities["status"].isin(ACTIVE_STATUSES)


def in_gmina_mask(entities: pd.DataFrame) -> pd.Series:
    """Entities (of any status) whose point lies in a gmina of the region."""
    return entities["placed"] & entities["gmina_teryt_computed"].ne("")


def powiat_only_mask(entities: pd.DataFrame) -> pd.Series:
    """Entities (of any status) placed only to their powiat (precision `powiat`, no point): they count in
    the powiat's and the voivodeship's totals and by type, in no gmina and not in the area within reach."""
    if "powiat_teryt_computed" not in entities:
        return pd.Series(False, index=entities.index)
    return (~entities["placed"] & entities["location_precision"].eq("powiat")
            & entities["powiat_teryt_computed"].ne(""))


def without_location_mask(entities: pd.DataFrame) -> pd.Series:
    """Entities of the register with no place in any unit: no point and not known to a powiat."""
    return ~entities["placed"] & ~powiat_only_mask(entities)


def _type_counts(entities: pd.DataFrame, key: str) -> pd.DataFrame:
    """Entities per unit and type (an entity of two types counts in both).

    Counted per distinct `types` value, then expanded: (units × combinations) @ (combinations × types).
    A register has a few dozen distinct combinations, so no per-row string splitting is needed.
    """
    codes = list(entity_types())
    if len(entities) == 0:
        return pd.DataFrame(columns=[f"entities_{c}" for c in codes], dtype="int64")
    keys, key_values = pd.factorize(entities[key], sort=True)
    combos, combo_values = pd.factorize(entities["types"].fillna(""))
    per_combo = np.zeros((len(combo_values), len(codes)), dtype=np.int64)
    position = {c: i for i, c in enumerate(codes)}
    for j, value in enumerate(combo_values):
        for code in str(value).split(TYPES_SEPARATOR):
            if code in position:
                per_combo[j, position[code]] += 1
    valid = keys >= 0
    counts = np.zeros((len(key_values), len(combo_values)), dtype=np.int64)
    np.add.at(counts, (keys[valid], combos[valid]), 1)
    table = pd.DataFrame(counts @ per_combo, index=pd.Index(key_values, name=key),
                         columns=[f"entities_{c}" for c in codes])
    return table


STATUS_COUNTS = [f"entities_status_{s}" for s in STATUSES]


def _base_counts(entities: pd.DataFrame, key: str) -> pd.DataFrame:
    """THE count of entities per unit (`key`): from entities of any status placed by one rule, the number in
    the register (`entities`: not known to be closed) and, of those, by type, with a point, of employees,
    verified; and the status split (closed ones included). The key is factorized once and every count is
    a bincount over it (a national register has a million rows)."""
    codes, units = pd.factorize(entities[key], sort=True)
    ok = codes >= 0
    size = len(units)
    counted = in_register_mask(entities).to_numpy() & ok

    def tally(mask: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        return np.bincount(codes[mask], weights=None if weights is None else weights[mask], minlength=size)

    employees = entities["employees"].astype("Float64")
    known = employees.notna().to_numpy()
    columns = {
        "entities": tally(counted),
        "entities_with_point": tally(counted & entities["placed"].to_numpy(dtype=bool)),
        "employees": tally(counted, employees.fillna(0).to_numpy(dtype=float)),
        "employees_known": tally(counted & known),
        "verified_24m": tally(counted & entities["verified_24m"].to_numpy(dtype=bool)),
    }
    status = entities["status"].to_numpy()
    for code, column in zip(STATUSES, STATUS_COUNTS):
        columns[column] = tally(ok & (status == code))
    base = pd.DataFrame(columns, index=pd.Index(units, name=key), dtype=float)
    return base.join(_type_counts(entities[counted], key)).fillna(0)


def verified_since(today: dt.date, months: int = VERIFIED_MONTHS) -> str:
    """The first day (ISO) that counts as "in the last `months` months" on `today`."""
    year, month = divmod(today.year * 12 + today.month - 1 - months, 12)
    day = min(today.day, calendar.monthrange(year, month + 1)[1])   # 29 February → 28 February
    return dt.date(year, month + 1, day).isoformat()


def verified_mask(entities: pd.DataFrame, since: str) -> pd.Series:
    """Entities verified on or after `since`. `verified_at` is validated as an ISO date not in the future,
    so comparing the strings compares the dates."""
    if "verified_at" not in entities:
        return pd.Series(False, index=entities.index)
    when = entities["verified_at"].astype(object).where(entities["verified_at"].notna(), "").astype(str)
    return when.ne("") & when.ge(since)


def _rates(frame: pd.DataFrame) -> pd.DataFrame:
    pop = frame["population"].astype(float)
    # Unrounded here: ratios are taken from exact values, rounding happens once at the end.
    frame["entities_per_10k"] = frame["entities"] / pop * 10_000
    frame["entities_per_100km2"] = frame["entities"] / frame["area_km2"] * 100
    frame["employees_per_10k"] = frame["employees"] / pop * 10_000
    frame["employees_known_pct"] = np.where(
        frame["entities"] > 0, (frame["employees_known"] / frame["entities"].where(frame["entities"] > 0) * 100), np.nan)
    frame["employees_known_pct"] = frame["employees_known_pct"].round(1)
    frame["verified_24m_pct"] = np.where(
        frame["entities"] > 0, frame["verified_24m"] / frame["entities"].where(frame["entities"] > 0) * 100, np.nan)
    frame["verified_24m_pct"] = frame["verified_24m_pct"].astype(float).round(1)
    return frame


def _unique_locations(points_metric: np.ndarray) -> np.ndarray:
    """`np.unique(np.round(points, 0), axis=0)` — the same rows in the same (x, then y) order, faster.

    Viewing each (x, y) pair as one complex number turns the row-wise unique (a slow structured
    sort) into a 1-D sort; complex numbers sort by real then imaginary part, i.e. by x then y.
    """
    rounded = np.ascontiguousarray(np.round(np.asarray(points_metric, dtype=np.float64), 0))
    rounded += 0.0  # -0.0 → 0.0, as np.unique on rows would treat them
    as_complex = rounded.view(np.complex128).ravel()
    unique = np.unique(as_complex)
    return np.column_stack([unique.real, unique.imag])


class _AccessIndex:
    """The distinct locations of a point set and, when there are many, their KD-tree (built once)."""

    def __init__(self, points_metric: np.ndarray):
        self.unique = _unique_locations(points_metric) if len(points_metric) else np.empty((0, 2))
        self.exact = len(self.unique) <= EXACT_ACCESS_MAX_POINTS
        self._reach = None
        self._tree = None

    @property
    def reach(self):
        if self._reach is None:
            self._reach = shapely.union_all(
                shapely.buffer(shapely.points(self.unique), ACCESS_RADIUS_M, quad_segs=16))
        return self._reach

    @property
    def tree(self):
        if self._tree is None:
            # scipy is not a direct dependency (it comes with mapclassify) and only registers above
            # EXACT_ACCESS_MAX_POINTS distinct locations need the tree: imported when first needed.
            from scipy.spatial import cKDTree

            self._tree = cKDTree(self.unique)
        return self._tree


def access_fraction(points_metric: np.ndarray, units_metric: gpd.GeoSeries,
                    index: _AccessIndex | None = None) -> tuple[np.ndarray, str]:
    """Share of each unit's area within ACCESS_RADIUS_M (straight line) of any of the points.

    `index` (optional) reuses the distinct locations and KD-tree of the same points across calls.
    """
    if len(points_metric) == 0:
        return np.zeros(len(units_metric)), "exact"
    index = index if index is not None else _AccessIndex(points_metric)
    areas = units_metric.area.to_numpy()
    if index.exact:
        covered = shapely.intersection(units_metric.to_numpy(), index.reach)
        return shapely.area(covered) / areas, "exact"
    tree = index.tree
    fractions = np.empty(len(units_metric))
    for i, geom in enumerate(units_metric.to_numpy()):
        minx, miny, maxx, maxy = geom.bounds
        xs = np.arange(minx + ACCESS_GRID_M / 2, maxx, ACCESS_GRID_M)
        ys = np.arange(miny + ACCESS_GRID_M / 2, maxy, ACCESS_GRID_M)
        gx, gy = np.meshgrid(xs, ys)
        gx, gy = gx.ravel(), gy.ravel()
        shapely.prepare(geom)
        inside = shapely.contains_xy(geom, gx, gy)
        cells = np.column_stack([gx[inside], gy[inside]])
        if len(cells) == 0:
            fractions[i] = 0.0
            continue
        dist, _ = tree.query(cells, k=1, distance_upper_bound=ACCESS_RADIUS_M)
        fractions[i] = np.isfinite(dist).mean()
    return fractions, f"grid {ACCESS_GRID_M} m"


def _metric_xy(points: gpd.GeoSeries) -> np.ndarray:
    """(x, y) of points in CRS_METRIC: the transformer `to_crs` uses, without building a GeoSeries."""
    if len(points) == 0:
        return np.empty((0, 2))
    transformer = Transformer.from_crs(points.crs, CRS_METRIC, always_xy=True)
    x, y = transformer.transform(shapely.get_x(points.to_numpy()), shapely.get_y(points.to_numpy()))
    return np.column_stack([np.asarray(x, dtype=float), np.asarray(y, dtype=float)])


def _is_count(column: str) -> bool:
    return column.startswith(("entities", "employees")) or column == "verified_24m"


def _counted_columns(joined: gpd.GeoDataFrame, mask: pd.Series, key: str, verified: pd.Series) -> pd.DataFrame:
    """The columns the counts read, of the entities `mask` selects (copying every record column of 1M rows
    is the slow part)."""
    cols = ["types", "employees", "status", "placed"] + ([key] if key in joined.columns else [])
    out = pd.DataFrame(joined.loc[mask, cols])
    if key not in out.columns:   # one group: the whole region
        out[key] = ""
    return out.assign(verified_24m=verified[mask].to_numpy())


def compute(joined: gpd.GeoDataFrame, gminy: gpd.GeoDataFrame, powiaty: gpd.GeoDataFrame,
            region_code: str = "26", region_name: str = "", needs: pd.DataFrame | None = None,
            today: dt.date | None = None) -> Indicators:
    """All indicators from entities joined to gminy (see join.join_gminy) and units with population;
    `needs` (geoes.sources.needs, optional) adds registered unemployment beside the supply; `today` (the
    build date by default) is what "verified in the last 24 months" counts back from."""
    since = verified_since(today or today_in_poland())
    verified = verified_mask(joined, since)
    in_gmina = in_gmina_mask(joined)
    g = _gmina_counts(gminy, _counted_columns(joined, in_gmina, "gmina_teryt_computed", verified))
    count_cols = [c for c in g.columns if _is_count(c)]
    p = _powiat_counts(powiaty, g, count_cols,
                       _counted_columns(joined, powiat_only_mask(joined), "powiat_teryt_computed", verified))
    # The 10 km reach is measured from the points of the entities in the register.
    reach = joined.loc[in_gmina & in_register_mask(joined)]
    v_frac, access_method = _add_access(g, p, reach)
    g = _rates(g)
    p = _rates(p)
    unlocated = _counted_columns(joined, without_location_mask(joined) & ~joined["outside_region"], "_region",
                                 verified)
    v, ratio_base = _voivodeship(g, p, count_cols, v_frac, region_code, region_name,
                                 _base_counts(unlocated, "_region").reindex(columns=count_cols).sum())
    needs_method = _add_needs(g, p, v, ratio_base, needs, region_code)
    v["entities_outside_region"] = int(joined["outside_region"].sum())
    figures.reference_rules(v)
    for name in v["suppressed"]:
        ratio_base[name] = None
    for frame in (g, p):
        _rank_and_round(frame, count_cols, ratio_base)
    if from_local_copy(needs):
        _local_gaps(g, p, v)
    white = _white_spots(g)
    v["white_spots"] = int(len(white))
    v["white_spots_population"] = int(white["population"].sum())
    method = _method(access_method)
    method["verified"] = {"months": VERIFIED_MONTHS, "since": since, "min_for_share": figures.MIN_VERIFIED}
    if needs_method:
        method["needs"] = needs_method
    return Indicators(g, p, v, white, method)


def _gmina_counts(gminy: gpd.GeoDataFrame, placed: pd.DataFrame) -> gpd.GeoDataFrame:
    """Per gmina: official area, entity and employee counts (by type and status too) and whether it has an
    entity in the register."""
    g = gminy.copy()
    g["area_km2"] = g["area_km2_official"].astype(float)
    g = g.join(_base_counts(placed, "gmina_teryt_computed"), on="teryt")
    count_cols = [c for c in g.columns if _is_count(c)]
    g[count_cols] = g[count_cols].fillna(0)
    g["gminy_total"] = 1
    g["gminy_with_entity"] = (g["entities"] > 0).astype(int)
    g["gmina_coverage_pct"] = g["gminy_with_entity"] * 100.0
    g["population_coverage_pct"] = g["gminy_with_entity"] * 100.0
    return g


def _powiat_counts(powiaty: gpd.GeoDataFrame, g: gpd.GeoDataFrame, count_cols: list[str],
                   powiat_only: pd.DataFrame) -> gpd.GeoDataFrame:
    """Per powiat: the sums of its gminy plus the entities known only to the powiat, the share of gminy
    with an entity and of their population."""
    p = powiaty.copy()
    p["area_km2"] = p["area_km2_official"].astype(float)
    sums = g.groupby("powiat_teryt")[count_cols + ["gminy_total", "gminy_with_entity"]].sum()
    covered_pop = g["population"].where(g["gminy_with_entity"] > 0, 0).groupby(g["powiat_teryt"]).sum()
    gmina_pop = g.groupby("powiat_teryt")["population"].sum()
    p = p.join(sums, on="teryt")
    extra = _base_counts(powiat_only, "powiat_teryt_computed").reindex(columns=count_cols).fillna(0)
    extra = extra.reindex(p["teryt"]).fillna(0)
    p[count_cols] = p[count_cols].fillna(0).to_numpy(dtype=float) + extra.to_numpy(dtype=float)
    p["entities_without_gmina"] = extra["entities"].to_numpy().astype(int)
    p["gmina_coverage_pct"] = (p["gminy_with_entity"] / p["gminy_total"] * 100).round(1)
    # Covered share uses the gminy's own population so numerator and denominator agree.
    p["population_coverage_pct"] = (p["teryt"].map(covered_pop) / p["teryt"].map(gmina_pop) * 100).astype(float).round(1)
    return p


def _add_access(g: gpd.GeoDataFrame, p: gpd.GeoDataFrame, reach: gpd.GeoDataFrame) -> tuple[np.ndarray, str]:
    """Add `access_10km_pct` to gminy and powiaty; returns the region's fraction and the method used."""
    pts = _metric_xy(reach.geometry)
    index = _AccessIndex(pts) if len(pts) else None
    g_metric = g.geometry.to_crs(CRS_METRIC)
    g_frac, access_method = access_fraction(pts, g_metric, index)
    p_frac, _ = access_fraction(pts, p.geometry.to_crs(CRS_METRIC), index)
    region_geom = gpd.GeoSeries([g_metric.union_all()], crs=CRS_METRIC)
    v_frac, _ = access_fraction(pts, region_geom, index)
    g["access_10km_pct"] = (g_frac * 100).round(1)
    p["access_10km_pct"] = (p_frac * 100).round(1)
    return v_frac, access_method


def _voivodeship(g: gpd.GeoDataFrame, p: gpd.GeoDataFrame, count_cols: list[str], v_frac: np.ndarray,
                 region_code: str, region_name: str, unlocated: pd.Series) -> tuple[dict, dict]:
    """The voivodeship's values (rounded for display) and the exact ones the ratios are taken from.
    Counts are the powiaty's sums (they hold the entities known only to a powiat as well) plus the
    entities of the register with no location (`unlocated`: their counts)."""
    v = {c: float(p[c].sum()) + float(unlocated.get(c, 0)) for c in count_cols}
    v["entities_without_gmina"] = float(p["entities_without_gmina"].sum())
    v["entities_without_location"] = float(unlocated.get("entities", 0))
    v.update({
        "teryt": region_code, "name": region_name,
        # The gminy sum equals GUS's voivodeship figure; powiat rows are rounded separately.
        "population": int(g["population"].sum()),
        "area_km2": round(float(p["area_km2"].sum()), 2),
        "gminy_total": int(len(g)), "gminy_with_entity": int(g["gminy_with_entity"].sum()),
    })
    v["gmina_coverage_pct"] = round(v["gminy_with_entity"] / v["gminy_total"] * 100, 1)
    v["population_coverage_pct"] = round(
        float(g.loc[g["gminy_with_entity"] > 0, "population"].sum()) / float(g["population"].sum()) * 100, 1)
    v["access_10km_pct"] = round(float(v_frac[0]) * 100, 1)
    vf = _rates(pd.DataFrame([v])).iloc[0]
    for c in ("entities_per_10k", "entities_per_100km2", "employees_per_10k", "employees_known_pct",
              "verified_24m_pct"):
        v[c] = None if pd.isna(vf[c]) else float(vf[c])
    ratio_base = dict(v)
    for c in ("entities_per_10k", "entities_per_100km2", "employees_per_10k"):
        v[c] = None if v[c] is None else round(v[c], 3)
    for c in count_cols + ["entities_without_gmina", "entities_without_location"]:
        v[c] = int(v[c])
    return v, ratio_base


def _rank_and_round(frame: gpd.GeoDataFrame, count_cols: list[str], ratio_base: dict) -> None:
    """Ranks among units of the level and ratios to the voivodeship (from exact values, under the rules of
    geoes.dataset.figures), then round."""
    for c in count_cols + ["gminy_total", "gminy_with_entity"]:
        frame[c] = frame[c].astype(int)
    if "entities_without_gmina" in frame:
        frame["entities_without_gmina"] = frame["entities_without_gmina"].astype(int)
    figures.apply_rules(frame, ratio_base)
    for c in ("entities_per_10k", "entities_per_100km2", "employees_per_10k", "unemployed_per_10k",
              "entities_per_1k_unemployed"):
        if c in frame:
            frame[c] = frame[c].round(3)
    for c in ("unemployed_change_pct", "unemployment_rate_change_pp"):
        if c in frame:
            frame[c] = frame[c].round(1)


def _need_series(needs: pd.DataFrame, measure: str, year: int) -> pd.Series:
    rows = needs[(needs["measure"] == measure) & (needs["year"] == year)]
    return pd.Series(rows["value"].to_numpy(dtype=float), index=rows["teryt"].astype(str).to_numpy())


NEED_COLUMNS = ("unemployed", "unemployed_2022", "unemployed_per_10k", "unemployed_change_pct",
                "entities_per_1k_unemployed", "unemployment_rate", "unemployment_rate_2022",
                "unemployment_rate_change_pp")


def _need_columns(frame: pd.DataFrame, needs: pd.DataFrame, with_rate: bool) -> None:
    """Registered unemployment of the need year beside the supply; a year the source lacks stays empty."""
    persons = _need_series(needs, "persons", NEEDS_YEAR)
    before = _need_series(needs, "persons", NEEDS_BASE_YEAR)
    frame["unemployed"] = frame["teryt"].map(persons)
    frame["unemployed_2022"] = frame["teryt"].map(before)
    frame["unemployed_per_10k"] = frame["unemployed"] / frame["population"].astype(float) * 10_000
    frame["unemployed_change_pct"] = (frame["unemployed"] - frame["unemployed_2022"]) / frame["unemployed_2022"] * 100
    frame["entities_per_1k_unemployed"] = frame["entities"] / frame["unemployed"].where(frame["unemployed"] > 0) * 1000
    if with_rate:
        frame["unemployment_rate"] = frame["teryt"].map(_need_series(needs, "rate", NEEDS_YEAR))
        frame["unemployment_rate_2022"] = frame["teryt"].map(_need_series(needs, "rate", NEEDS_BASE_YEAR))
        frame["unemployment_rate_change_pp"] = frame["unemployment_rate"] - frame["unemployment_rate_2022"]


def _add_needs(g: pd.DataFrame, p: pd.DataFrame, v: dict, ratio_base: dict, needs: pd.DataFrame | None,
               region_code: str) -> dict:
    """Add the need columns to gminy (persons only: BDL gives no rate for gminy), powiaty and the
    voivodeship; returns their description for the method (source, years)."""
    if needs is None or not len(needs):
        return {}
    needs = needs.assign(teryt=needs["teryt"].astype(str))
    _need_columns(g, needs, with_rate=False)
    _need_columns(p, needs, with_rate=True)
    vf = pd.DataFrame([{"teryt": region_code, "population": v["population"], "entities": v["entities"]}])
    _need_columns(vf, needs, with_rate=True)
    for c in vf.columns.drop(["teryt", "population", "entities"]):
        value = vf.at[0, c]
        ratio_base[c] = None if pd.isna(value) else float(value)
        v[c] = None if pd.isna(value) else int(round(value)) if is_whole(c) else round(float(value), 3)
    return {"year": NEEDS_YEAR, "base_year": NEEDS_BASE_YEAR, "unemployed_source": NEEDS_SOURCE["persons"],
            "rate_source": NEEDS_SOURCE["rate"],
            "rate_levels": "powiaty" + (" i województwo" if v.get("unemployment_rate") is not None else "")}


def _local_gaps(g: pd.DataFrame, p: pd.DataFrame, v: dict) -> None:
    """Need figures fetched from a local copy: what it lacks is "brak w danych lokalnych" (e.g. the
    voivodeship's unemployment rate, which BDL has and the copy does not), not "brak danych źródłowych"."""
    figures.local_gaps(v["suppressed"], v, NEED_COLUMNS)
    # A relation to a voivodeship figure the copy lacks is missing for the same reason.
    bases = [f"ratio_{c}" for c in NEED_COLUMNS if v["suppressed"].get(c) == "not_in_local_data"]
    for frame in (g, p):
        fields = [c for c in NEED_COLUMNS if c in frame.columns]
        frame["suppressed"] = [_local_row(s, row, fields, bases)
                               for s, row in zip(frame["suppressed"], frame[fields].to_dict("records"))]


def _local_row(suppressed: str, values: dict, fields: list[str], bases: list[str]) -> str:
    found = figures.local_gaps(figures.suppressed_map({"suppressed": suppressed}), values, fields)
    for ratio in bases:
        if found.get(ratio) == "unknown_base":
            found[ratio] = "not_in_local_data"
    return json.dumps(found, sort_keys=True) if found else ""


def _white_spots(g: gpd.GeoDataFrame) -> pd.DataFrame:
    """Gminy with no entity in the register ("białe plamy"), ranked by need: the most registered
    unemployed first where the need figures are there, else the most populous."""
    cols = ["teryt", "name", "powiat_teryt", "powiat_name", "population", "area_km2", "access_10km_pct"]
    need = [c for c in ("unemployed", "unemployed_per_10k") if c in g.columns]
    white = pd.DataFrame(g.loc[g["entities"] == 0, cols + need])
    order = ["unemployed", "population"] if need else ["population"]
    return white.sort_values(order, ascending=False, na_position="last").reset_index(drop=True)


# What a count of entities counts, in the words every page, table and file states it.
COUNTED_TEXT = (
    "Podmioty w rejestrze: o statusie potwierdzonym (działalność potwierdzona źródłem z datą) lub nieznanym "
    "(podmiot jest w rejestrze, działalność niepotwierdzona); zamknięte nie są liczone. Gmina liczy podmioty "
    "z punktem w gminie; powiat — sumę swoich gmin i podmioty znane tylko z dokładnością do powiatu; "
    "województwo — sumę powiatów i podmioty rejestru bez lokalizacji. Zasięg 10 km liczony od podmiotów z punktem.")


def _method(access_method: str) -> dict:
    return {
        "active_statuses": list(ACTIVE_STATUSES),
        "counted": COUNTED_TEXT,
        "access_radius_m": ACCESS_RADIUS_M,
        "access_method": access_method,
        "crs_metric": CRS_METRIC,
        "area": "powierzchnia urzędowa wg rejestru GUGiK na 2025-01-01 (do gęstości); "
                "powierzchnia z geometrii w EPSG:2180 (do zasięgu 10 km)",
        "population": "GUS BDL, stan na 31.12.2024 (w tys. z dokładnością do 10 osób ×1000)",
    }
