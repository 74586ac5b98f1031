"""Writers for the published layers: GeoJSON (RFC 7946), CSV for Excel, GeoPackage.

Shared by `python -m geoes export` and the API downloads, so a file is the same whichever way it is got.
"""
from __future__ import annotations

import io
import json
import tempfile
import zipfile
from datetime import date
from pathlib import Path
from typing import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoes.common.values import plain
from geoes.config import CRS_PUBLISH
from geoes.common.excel import csv_bytes
from geoes.common.reference import attribution, attribution_text

FORMATS = {
    "geojson": "application/geo+json",
    "csv": "text/csv; charset=utf-8",
    "gpkg": "application/geopackage+sqlite3",
    "zip": "application/zip",
}
EXTENSIONS = {"geojson": "geojson", "csv": "csv", "gpkg": "gpkg", "zip": "zip"}
INTERNAL_COLUMNS = ("row",)
COORDINATE_DECIMALS = 6


def public_columns(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if c not in INTERNAL_COLUMNS and c != frame.geometry.name]


def feature_id(frame: gpd.GeoDataFrame) -> pd.Series:
    return frame["id"] if "id" in frame.columns else frame["teryt"]


def round_geometries(geoms: np.ndarray) -> np.ndarray:
    return shapely.transform(geoms, lambda xy: np.round(xy, COORDINATE_DECIMALS))


_encode_str = json.encoder.encode_basestring  # C-accelerated where available; keeps non-ASCII as is


def _column_json(series: pd.Series) -> list[str]:
    """JSON text of every value of one column, a column at a time (nulls for missing values).

    The same text json.dumps(plain(value), ensure_ascii=False) gives, about ten times faster than
    converting row by row: serialising 100k entities is what a cold map request waits for.
    """
    missing = series.isna().to_numpy()
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype) and not missing.any():
        out = np.where(series.to_numpy(dtype=bool), "true", "false").tolist()
    elif pd.api.types.is_integer_dtype(dtype):
        out = [str(v) for v in series.to_numpy(dtype=object, na_value=0).tolist()]
    elif pd.api.types.is_float_dtype(dtype):
        values = series.to_numpy(dtype="float64", na_value=np.nan)
        if not np.isfinite(values[~missing]).all():
            return [json.dumps(plain(v)) for v in series.tolist()]
        out = [float.__repr__(v) for v in values.tolist()]
    elif pd.api.types.is_string_dtype(dtype) and all(isinstance(v, str) for v in series[~missing].tolist()):
        out = [_encode_str(v) for v in series.fillna("").astype(str).tolist()]
    else:
        return [json.dumps(plain(v), ensure_ascii=False) for v in series.tolist()]
    if missing.any():
        out = ["null" if m else v for v, m in zip(out, missing.tolist())]
    return out


def features_json(frame: gpd.GeoDataFrame, drop_empty: bool = False) -> list[str]:
    """Each row as a GeoJSON Feature string (lon/lat, 6 decimals, stable id, nulls for missing).

    `drop_empty` leaves out properties that are null or "" (a lighter layer for the map page)."""
    frame = frame.to_crs(CRS_PUBLISH) if frame.crs and frame.crs.to_epsg() != 4326 else frame
    cols = public_columns(frame)
    geoms = round_geometries(frame.geometry.to_numpy())
    geo_strings = shapely.to_geojson(geoms)
    empty = shapely.is_empty(geoms) | shapely.is_missing(geoms)
    geo_text = ["null" if e else g for g, e in zip(geo_strings.tolist(), empty.tolist())]
    columns = []
    for col in cols:
        prefix = json.dumps(col, ensure_ascii=False) + ":"
        columns.append([prefix + v for v in _column_json(frame[col])])
    ids = [_encode_str(v) for v in feature_id(frame).astype(str).tolist()]
    if drop_empty:
        props = ["{" + ",".join(p for p in row if not (p.endswith(':""') or p.endswith(":null"))) + "}"
                 for row in zip(*columns)] if columns else ["{}"] * len(frame)
    else:
        props = ["{" + ",".join(row) + "}" for row in zip(*columns)] if columns else ["{}"] * len(frame)
    return ['{"type":"Feature","id":%s,"geometry":%s,"properties":%s}' % row
            for row in zip(ids, geo_text, props)]


def feature_collection(features: list[str], extra: dict | None = None) -> bytes:
    head = {"type": "FeatureCollection"}
    if extra:
        head.update(extra)
    head_text = json.dumps(head, ensure_ascii=False)[:-1]
    return (head_text + ',"features":[' + ",".join(features) + "]}").encode("utf-8")


def feature_collection_bytes(features: Sequence[bytes], extra: dict | None = None) -> bytes:
    """Like feature_collection, from features already encoded as UTF-8 (the web app's per-version cache)."""
    head = {"type": "FeatureCollection"}
    if extra:
        head.update(extra)
    head_bytes = json.dumps(head, ensure_ascii=False, default=_json_default).encode("utf-8")[:-1]
    return head_bytes + b',"features":[' + b",".join(features) + b"]}"


def _json_default(value):
    cleaned = plain(value)
    if cleaned is not value:
        return cleaned
    return str(value)


def to_geojson(frame: gpd.GeoDataFrame, extra: dict | None = None) -> bytes:
    meta = {"attribution": attribution_text()}
    if extra:
        meta.update(extra)
    return feature_collection(features_json(frame), meta)


def to_csv(frame: gpd.GeoDataFrame) -> bytes:
    """UTF-8 with BOM so Excel opens Polish text; lon/lat columns for points, WKT for polygons."""
    frame = frame.to_crs(CRS_PUBLISH) if frame.crs and frame.crs.to_epsg() != 4326 else frame
    table = pd.DataFrame(frame[public_columns(frame)]).copy()
    geoms = round_geometries(frame.geometry.to_numpy())
    types = set(shapely.get_type_id(geoms[~shapely.is_missing(geoms)]).tolist())
    if types <= {0, 7}:  # points (or empty)
        empty = shapely.is_empty(geoms) | shapely.is_missing(geoms)
        lon, lat = np.full(len(geoms), np.nan), np.full(len(geoms), np.nan)
        lon[~empty], lat[~empty] = shapely.get_x(geoms[~empty]), shapely.get_y(geoms[~empty])
        table["lon"], table["lat"] = lon, lat
    else:
        table["wkt"] = shapely.to_wkt(geoms, rounding_precision=COORDINATE_DECIMALS)
    return table_to_csv(table)


def table_to_csv(table: pd.DataFrame) -> bytes:
    """A plain table as CSV for Excel: UTF-8 with BOM, CRLF, formula cells neutralised."""
    return csv_bytes(table)


def write_gpkg(layers: dict[str, gpd.GeoDataFrame], path: Path | str, method: dict | None = None,
               extra_meta: dict | None = None) -> None:
    """Layers into one GeoPackage; attribution, method (and `extra_meta`, e.g. version and filters) go into
    each layer's metadata (gpkg_metadata, shown by QGIS under Layer Properties › Metadata)."""
    meta = {"attribution": attribution_text(), "attribution_en": attribution()["data_en"],
            "exported": date.today().isoformat()}
    if method:
        meta["method"] = json.dumps(method, ensure_ascii=False)
    for key, value in (extra_meta or {}).items():
        meta[key] = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    for name, frame in layers.items():
        out = frame[[*public_columns(frame), frame.geometry.name]].copy()
        for col in out.columns:
            if str(out[col].dtype) in ("Int64", "boolean"):
                out[col] = out[col].astype("float64") if str(out[col].dtype) == "Int64" else out[col].astype(bool)
        out.to_file(path, layer=name, driver="GPKG", engine="pyogrio", layer_metadata=meta)


def to_gpkg(layers: dict[str, gpd.GeoDataFrame], method: dict | None = None, extra_meta: dict | None = None) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "export.gpkg"
        write_gpkg(layers, path, method, extra_meta)
        return path.read_bytes()


def filename(layer: str, fmt: str, when: date | None = None) -> str:
    return f"geoes_{layer}_{(when or date.today()).isoformat()}.{EXTENSIONS[fmt]}"


def readme_text(summary: dict, contents: dict[str, int], filters: dict | None = None) -> str:
    """README.txt that travels with a download: what is inside, attribution, method, filters, version."""
    a = attribution()
    lines = [
        "geoes — podmioty ekonomii społecznej / social-economy entities",
        "",
        f"Wersja danych / dataset version: {summary.get('version', '')}",
        f"Zbudowano / built: {summary.get('built_at', '')}",
        f"Pobrano / exported: {date.today().isoformat()}",
        "",
        "Zawartość / contents:",
        *(f"  {name}: {count} obiektów / features" for name, count in contents.items()),
        "",
        "Filtry / filters: " + (json.dumps(filters, ensure_ascii=False) if filters else "brak (pełne warstwy)"),
        "",
        "Źródła i licencje / attribution:",
        f"  {a['data']}",
        f"  {a['data_en']}",
        f"  {a['entities']}",
        f"  Podkład mapy / map tiles: {a['tiles']['text']}",
        "",
        "Metoda / method:",
        *(f"  {k}: {v}" for k, v in (summary.get("method") or {}).items()),
        "",
        "Współrzędne: WGS84 (EPSG:4326), długość/szerokość geograficzna; CSV: kolumny lon/lat dla punktów, "
        "WKT dla poligonów; UTF-8 z BOM; komórki zaczynające się od = + - @ poprzedzone apostrofem.",
        "Coordinates: WGS84 lon/lat; CSV: lon/lat columns for points, WKT for polygons; UTF-8 with BOM; "
        "cells starting with = + - @ are prefixed with an apostrophe.",
        "",
    ]
    return "\r\n".join(lines)


def to_zip(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=(2000, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, data)
    return buf.getvalue()


def readme_path(path: Path | str) -> Path:
    """Where a CSV export's README (attribution, method) goes: next to it, `<stem>_README.txt`."""
    path = Path(path)
    return path.with_name(path.stem + "_README.txt")


def export_layer(frame: gpd.GeoDataFrame, layer: str, fmt: str, path: Path | str, method: dict | None = None,
                 summary: dict | None = None) -> None:
    """Write one layer; GeoJSON carries attribution and method as foreign members, GeoPackage in its
    metadata, and a CSV gets a README alongside (CSV has no place for them)."""
    from geoes.common.atomic import atomic_path, atomic_write_bytes

    if fmt == "geojson":
        extra = {"name": layer}
        if method:
            extra["method"] = method
        atomic_write_bytes(path, to_geojson(frame, extra))
    elif fmt == "csv":
        atomic_write_bytes(path, to_csv(frame))
        info = dict(summary or {})
        if method:
            info["method"] = method
        atomic_write_bytes(readme_path(path), readme_text(info, {layer: len(frame)}).encode("utf-8"))
    elif fmt == "gpkg":
        with atomic_path(path, suffix=".gpkg") as tmp:
            write_gpkg({layer: frame}, tmp, method)
    else:
        raise ValueError(f"nieznany format: {fmt}")
