"""Spatial join of placed entities to gminy (and through the gmina code, to powiaty)."""
from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoes.config import CRS_PUBLISH


def entities_to_points(valid: pd.DataFrame) -> gpd.GeoDataFrame:
    """All valid entities as a GeoDataFrame; unplaced ones keep an empty geometry."""
    placed = valid["lat"].notna() & valid["lon"].notna()
    geometry = gpd.points_from_xy(valid["lon"].where(placed), valid["lat"].where(placed), crs=CRS_PUBLISH)
    frame = gpd.GeoDataFrame(valid.copy(), geometry=geometry, crs=CRS_PUBLISH)
    frame["placed"] = placed.to_numpy()
    return frame


JOINED_COLUMNS = ("gmina_teryt_computed", "gmina_name", "powiat_teryt_computed", "powiat_name")
# Everything the join adds to an entity (and a built version keeps beside the record's published fields).
DERIVED_COLUMNS = (*JOINED_COLUMNS, "gmina_mismatch", "outside_region")


def _gmina_columns(gminy: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The gminy with their columns named as the join adds them to the entities."""
    return gminy[["teryt", "name", "powiat_teryt", "powiat_name", "geometry"]].rename(
        columns={"teryt": "gmina_teryt_computed", "name": "gmina_name",
                 "powiat_teryt": "powiat_teryt_computed"})


def join_gminy(entities: gpd.GeoDataFrame, gminy: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Add `gmina_teryt_computed`, `powiat_teryt_computed`, `gmina_name`, `powiat_name`, `gmina_mismatch`.

    Vectorised point-in-polygon: each gmina (prepared, in ascending TERYT order) tests at once the
    points inside its bounding box that no earlier gmina took (`shapely.intersects_xy`, boundary
    included). A point exactly on a shared border matches two gminy; the first (lowest TERYT) is kept
    so every entity is counted once. Non-point geometries fall back to `join_gminy_sjoin`.
    """
    placed = entities["placed"].to_numpy(dtype=bool)
    geoms = entities.geometry.to_numpy()[placed]
    if len(geoms) and not (shapely.get_type_id(geoms) == 0).all():
        return join_gminy_sjoin(entities, gminy)
    units = _gmina_columns(gminy)
    match = _first_containing(shapely.get_x(geoms), shapely.get_y(geoms), units)
    out = entities.copy()
    for col in JOINED_COLUMNS:
        values = units[col].astype(object).to_numpy()
        column = np.full(len(out), "", dtype=object)
        hit = match >= 0
        taken = values[match[hit]]
        taken = np.where(pd.isna(taken), "", taken)
        column[np.flatnonzero(placed)[hit]] = taken
        out[col] = pd.Series(column, index=out.index, dtype=object)
    return _flags(_powiat_only(out, gminy))


def _first_containing(x: np.ndarray, y: np.ndarray, units: gpd.GeoDataFrame) -> np.ndarray:
    """Row position in `units` of the lowest-coded unit intersecting each (x, y); -1 for none."""
    match = np.full(len(x), -1, dtype=np.int64)
    if not len(x):
        return match
    codes = units["gmina_teryt_computed"].astype(object)
    order = sorted(range(len(units)), key=lambda i: (pd.isna(codes.iloc[i]), str(codes.iloc[i])))
    # Sort the points by x once so each bounding box is a slice, not a scan of all points.
    by_x = np.argsort(x, kind="stable")
    xs = x[by_x]
    for i in order:
        geom = units.geometry.iloc[i]
        if geom is None or geom.is_empty:
            continue
        minx, miny, maxx, maxy = geom.bounds
        lo, hi = np.searchsorted(xs, [minx, maxx], side="left")[0], np.searchsorted(xs, maxx, side="right")
        cand = by_x[lo:hi]
        cand = cand[(match[cand] < 0) & (y[cand] >= miny) & (y[cand] <= maxy)]
        if not len(cand):
            continue
        shapely.prepare(geom)
        inside = shapely.intersects_xy(geom, x[cand], y[cand])
        match[cand[inside]] = i
    return match


def join_gminy_sjoin(entities: gpd.GeoDataFrame, gminy: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """`join_gminy` by `geopandas.sjoin` (spatial index, `intersects`): the same columns and the same
    border rule (the lowest TERYT of the gminy a geometry touches is kept).

    Slower for points; used for other geometries, and by the benchmarks as the baseline the
    point-in-polygon join is measured (and checked) against.
    """
    left = entities[entities["placed"]]
    joined = gpd.sjoin(left[["geometry"]], _gmina_columns(gminy), how="left", predicate="intersects")
    joined = joined.sort_values("gmina_teryt_computed")
    joined = joined[~joined.index.duplicated(keep="first")].drop(columns=["geometry", "index_right"])
    out = entities.join(joined)
    for col in JOINED_COLUMNS:
        out[col] = out[col].astype(object).where(out[col].notna(), "")
    return _flags(_powiat_only(out, gminy))


def _powiat_only(out: gpd.GeoDataFrame, gminy: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Entities whose place is known only to the powiat (precision `powiat`, no point) are assigned to
    that powiat — `powiat_teryt_computed` — and to no gmina."""
    if "location_precision" not in out or "powiat_teryt" not in out:
        return out
    names = gminy.drop_duplicates("powiat_teryt").set_index("powiat_teryt")["powiat_name"]
    only = ~out["placed"] & out["location_precision"].eq("powiat") & out["powiat_teryt"].isin(names.index)
    if only.any():
        out.loc[only, "powiat_teryt_computed"] = out.loc[only, "powiat_teryt"]
        out.loc[only, "powiat_name"] = out.loc[only, "powiat_teryt"].map(names).fillna("")
    return out


def _flags(out: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    stated = out["gmina_teryt"].fillna("")
    out["gmina_mismatch"] = out["placed"] & stated.ne("") & stated.ne(out["gmina_teryt_computed"])
    out["outside_region"] = out["placed"] & out["gmina_teryt_computed"].eq("")
    return out


def mismatches(joined: gpd.GeoDataFrame) -> pd.DataFrame:
    """Entities whose point lies in a different gmina than the one the source states."""
    cols = ["id", "name", "gmina_teryt", "gmina_teryt_computed", "gmina_name"]
    return pd.DataFrame(joined.loc[joined["gmina_mismatch"], cols]).reset_index(drop=True)
