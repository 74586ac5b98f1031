"""Spatial join of placed entities to gminy (and through the gmina code, to powiaty)."""
from __future__ import annotations

import geopandas as gpd
import pandas as pd

from .config import CRS_PUBLISH


def entities_to_points(valid: pd.DataFrame) -> gpd.GeoDataFrame:
    """All valid entities as a GeoDataFrame; unplaced ones keep an empty geometry."""
    placed = valid["lat"].notna() & valid["lon"].notna()
    geometry = gpd.points_from_xy(valid["lon"].where(placed), valid["lat"].where(placed), crs=CRS_PUBLISH)
    frame = gpd.GeoDataFrame(valid.copy(), geometry=geometry, crs=CRS_PUBLISH)
    frame["placed"] = placed.to_numpy()
    return frame


def join_gminy(entities: gpd.GeoDataFrame, gminy: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Add `gmina_teryt_computed`, `powiat_teryt_computed`, `gmina_name`, `powiat_name`, `gmina_mismatch`.

    One vectorised sjoin over the spatial index. A point exactly on a shared border matches two
    gminy; the first (lowest TERYT) is kept so every entity is counted once.
    """
    units = gminy[["teryt", "name", "powiat_teryt", "powiat_name", "geometry"]].rename(
        columns={"teryt": "gmina_teryt_computed", "name": "gmina_name",
                 "powiat_teryt": "powiat_teryt_computed"})
    left = entities[entities["placed"]]
    joined = gpd.sjoin(left[["geometry"]], units, how="left", predicate="intersects")
    joined = joined.sort_values("gmina_teryt_computed")
    joined = joined[~joined.index.duplicated(keep="first")].drop(columns=["geometry", "index_right"])
    out = entities.join(joined)
    for col in ("gmina_teryt_computed", "gmina_name", "powiat_teryt_computed", "powiat_name"):
        out[col] = out[col].astype(object).where(out[col].notna(), "")
    stated = out["gmina_teryt"].fillna("")
    out["gmina_mismatch"] = out["placed"] & stated.ne("") & stated.ne(out["gmina_teryt_computed"])
    out["outside_region"] = out["placed"] & out["gmina_teryt_computed"].eq("")
    return out


def mismatches(joined: gpd.GeoDataFrame) -> pd.DataFrame:
    """Entities whose point lies in a different gmina than the one the source states."""
    cols = ["id", "name", "gmina_teryt", "gmina_teryt_computed", "gmina_name"]
    return pd.DataFrame(joined.loc[joined["gmina_mismatch"], cols]).reset_index(drop=True)
