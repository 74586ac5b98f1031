"""Writers for the published layers: GeoJSON (RFC 7946), CSV (two dialects), XLSX, GeoPackage.

Shared by `python -m geoes export`, the API downloads and the OGC API, so a file is the same whichever
way it is got. Every writer starts from `published(frame)`, the one form of a layer that leaves the
service:

* WGS84 longitude/latitude, coordinates rounded to 6 decimal places (about 0.1 m) — points and polygons —
  and written as the shortest text that reads back as the rounded number (`20.933033`, never GEOS's
  17 digits `20.933032999999998`); every other real value has at most 6 decimals too;
* one name, one meaning for the units of an entity: `gmina_teryt`/`powiat_teryt` are the units the site
  counts the entity in (its point's gmina and powiat, or the stated powiat of an entity known only to the
  powiat — what the `powiat`/`gmina` filters, the indicators and the county pages use); what the register
  states is `gmina_teryt_stated`/`powiat_teryt_stated`. `gmina_teryt_computed`/`powiat_teryt_computed`,
  the names these codes had before, stay in the files for GIS and scripts as deprecated aliases with the
  same values (not in the files for people: XLSX and the CSV for Excel). Inside the package the frames keep
  the record's names (`gmina_teryt` is what the source states) — only what leaves the service is renamed;
* an unlocated entity has no geometry: `null` in GeoJSON, a NULL geometry in the GeoPackage, empty
  lon/lat in CSV and XLSX (never POINT EMPTY, so `geom IS NULL` finds the same features everywhere);
* a value that is not known is null/NULL/an empty cell — never an empty string, so `IS NULL` finds it;
* whole numbers stay integers (GeoPackage Integer, `5` in CSV), identifiers stay text.

GeoPackages are written as version 1.2 (GDAL's `VERSION=1.2`): GDAL 3.6 and QGIS 3.22, today's Debian
stable, open 1.4 files with a "may only be partially supported" warning and their validator rejects them.
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
from shapely.geometry import mapping

from geoes.common import polish
from geoes.common.atomic import atomic_path, atomic_write_bytes
from geoes.common.values import plain
from geoes.config import CRS_PUBLISH
from geoes.common.dictionary import whole_numbers
from geoes.common.excel import csv_bytes
from geoes.common.reference import attribution, attribution_text
from geoes.dataset.join import DERIVED_COLUMNS
from geoes.publish import office, tables, xlsx
from geoes.register.record import PUBLISHED_COLUMNS

FORMATS = {
    "geojson": "application/geo+json",
    "csv": "text/csv; charset=utf-8",
    "gpkg": "application/geopackage+sqlite3",
    "xlsx": xlsx.MIME,
    "zip": "application/zip",
}
EXTENSIONS = {"geojson": "geojson", "csv": "csv", "gpkg": "gpkg", "xlsx": "xlsx", "zip": "zip"}
INTERNAL_COLUMNS = ("row",)
COORDINATE_DECIMALS = tables.COORDINATE_DECIMALS
VALUE_DECIMALS = 6  # any real value that leaves the service (indicators are rounded further at the build)
# Record/dataset name → published name of the unit codes of an entity (see the module docstring).
PUBLISHED_NAMES = {"gmina_teryt": "gmina_teryt_stated", "powiat_teryt": "powiat_teryt_stated",
                   "gmina_teryt_computed": "gmina_teryt", "powiat_teryt_computed": "powiat_teryt"}
# Deprecated names kept with the same values as the published name (files for GIS and scripts only).
DEPRECATED_ALIASES = {"gmina_teryt_computed": "gmina_teryt", "powiat_teryt_computed": "powiat_teryt"}
# The one allow-list of an entity's properties that leave the service (every download, the GeoJSON and OGC
# APIs, the queryables): the record's published fields and what the join adds, under their published names.
# A column not named here — the operator's internal notes, a field added to the record tomorrow — is never
# written out.
ENTITY_PROPERTIES = tuple(dict.fromkeys([*PUBLISHED_COLUMNS, *DERIVED_COLUMNS, *PUBLISHED_NAMES.values()]))
UNIT_CODES_PL = ("gmina_teryt i powiat_teryt to jednostki, w których serwis liczy podmiot (gmina i powiat jego "
                 "punktu, a dla podmiotu znanego tylko z dokładnością do powiatu — ten powiat); gmina_teryt_stated "
                 "i powiat_teryt_stated — kody podane w rejestrze.")
DEPRECATED_PL = "gmina_teryt_computed i powiat_teryt_computed to przestarzałe nazwy gmina_teryt i powiat_teryt."
GPKG_VERSION = "1.2"


def is_entity_layer(frame: pd.DataFrame) -> bool:
    return "id" in frame.columns and "types" in frame.columns


def public_columns(frame: pd.DataFrame) -> list[str]:
    """The columns of a layer that are published: for entities, those of ENTITY_PROPERTIES (in the frame's
    order); for units (computed figures), all but the internal ones."""
    geometry = frame.geometry.name
    if is_entity_layer(frame):
        allowed = set(ENTITY_PROPERTIES)
        return [c for c in frame.columns if c in allowed and c != geometry]
    return [c for c in frame.columns if c not in INTERNAL_COLUMNS and c != geometry]


def feature_id(frame: gpd.GeoDataFrame) -> pd.Series:
    return frame["id"] if "id" in frame.columns else frame["teryt"]


def round_geometries(geoms: np.ndarray, decimals: int = COORDINATE_DECIMALS) -> np.ndarray:
    return shapely.transform(geoms, lambda xy: np.round(xy, decimals))


def _coordinates_json(coords) -> str:
    """Nested coordinate tuples as JSON; each number is Python's repr of the (rounded) float — the
    shortest text that reads back as the same number."""
    if isinstance(coords, float):
        return float.__repr__(coords)
    return "[" + ",".join(_coordinates_json(c) for c in coords) + "]"


def _shape_json(geom) -> str:
    shape = mapping(geom)
    if shape["type"] == "GeometryCollection":
        return ('{"type":"GeometryCollection","geometries":['
                + ",".join(_shape_json(g) for g in geom.geoms) + "]}")
    return '{"type":%s,"coordinates":%s}' % (json.dumps(shape["type"]), _coordinates_json(shape["coordinates"]))


def geometry_json(geoms: np.ndarray, decimals: int = COORDINATE_DECIMALS) -> list[str]:
    """The GeoJSON geometry text of each geometry, rounded to `decimals` and written with the shortest
    repr of each number (shapely's to_geojson writes 17 significant digits: 20.933032999999998 for
    20.933033); "null" for a missing or empty geometry. Points, the bulk of a layer, are formatted in
    one pass."""
    geoms = np.asarray(geoms, dtype=object)
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    out = ["null"] * len(geoms)
    points = ~missing & (shapely.get_type_id(geoms) == 0)
    where = np.flatnonzero(points)
    if len(where):
        xy = np.round(shapely.get_coordinates(geoms[where]), decimals).tolist()
        for i, (x, y) in zip(where.tolist(), xy):
            out[i] = '{"type":"Point","coordinates":[%r,%r]}' % (x, y)
    others = np.flatnonzero(~missing & ~points)
    if len(others):
        for i, geom in zip(others.tolist(), round_geometries(geoms[others], decimals)):
            out[i] = _shape_json(geom)
    return out


def _published_names(frame: pd.DataFrame) -> pd.DataFrame:
    """The entity layer with the published names of its unit codes and the deprecated aliases (at the
    end); a frame already published, or without those codes (the unit layers), is returned as it is."""
    if "gmina_teryt_computed" not in frame.columns or "gmina_teryt_stated" in frame.columns:
        return frame
    renamed = frame.rename(columns={k: v for k, v in PUBLISHED_NAMES.items() if k in frame.columns})
    for alias, name in DEPRECATED_ALIASES.items():
        renamed[alias] = renamed[name]
    return renamed


def published(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The layer as it leaves the service (see the module docstring): public columns under their
    published names, WGS84 rounded to 6 decimals, no geometry (None) for unlocated features, null for every
    unknown value, real values with at most 6 decimals. Applying it again changes nothing."""
    frame = frame.to_crs(CRS_PUBLISH) if frame.crs and frame.crs.to_epsg() != 4326 else frame
    frame = _published_names(frame)
    cols = public_columns(frame)
    out = pd.DataFrame({c: frame[c] for c in cols}, index=frame.index)
    for col in cols:
        series = out[col]
        if series.dtype == object or pd.api.types.is_string_dtype(series.dtype):
            blank = series.isna() | (series.astype(object) == "")
            if blank.any():
                out[col] = series.astype(object).where(~blank, None)
        elif pd.api.types.is_float_dtype(series.dtype):
            out[col] = series.round(COORDINATE_DECIMALS if col in ("lat", "lon") else VALUE_DECIMALS)
    whole_numbers(out, "entities" if "id" in out.columns else "units")
    geoms = round_geometries(frame.geometry.to_numpy())
    geoms[shapely.is_empty(geoms)] = None
    return gpd.GeoDataFrame(out, geometry=gpd.GeoSeries(geoms, index=frame.index, crs=CRS_PUBLISH),
                            crs=CRS_PUBLISH)


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


def features_json(frame: gpd.GeoDataFrame, drop_empty: bool = False,
                  decimals: int = COORDINATE_DECIMALS) -> list[str]:
    """Each row as a GeoJSON Feature string (lon/lat, 6 decimals, stable id, nulls for missing).

    `drop_empty` leaves out properties that are null or "" (a lighter layer for the map page); `decimals`
    of the coordinates (a projected CRS has its own, geoes.publish.ogc.crs)."""
    frame = frame.to_crs(CRS_PUBLISH) if frame.crs and frame.crs.to_epsg() != 4326 else frame
    cols = public_columns(frame)
    geo_text = geometry_json(frame.geometry.to_numpy(), decimals)
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
    return feature_collection(features_json(published(frame)), meta)


def layer_of(frame: pd.DataFrame) -> str:
    """Which layer a frame is (entities have ids, gminy their powiat)."""
    if "id" in frame.columns:
        return "entities"
    return "gminy" if "powiat_teryt" in frame.columns else "powiaty"


def for_people(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """A published layer for the files people open (XLSX, the CSV for Excel): without the deprecated
    aliases, which only scripts written against the old names need."""
    out = published(frame)
    return out.drop(columns=[c for c in DEPRECATED_ALIASES if c in out.columns])


def to_csv(frame: gpd.GeoDataFrame, dialect: str = "gis", layer: str | None = None) -> bytes:
    """A layer as CSV (UTF-8 with BOM, CRLF). `gis`: machine names, lon/lat columns for points, WKT for
    polygons (geoes.publish.tables); `excel-pl`: the table for people, Polish headers, no polygons and no
    deprecated aliases (geoes.publish.office)."""
    if dialect == "gis":
        return tables.to_csv(tables.flat_table(published(frame)), dialect)
    if dialect not in tables.DIALECTS:
        raise ValueError(f"unknown CSV dialect {dialect!r}; dialects: {', '.join(tables.DIALECTS)}")
    scope, level = office.LAYER_SCOPES[layer or layer_of(frame)]
    return office.csv_for_excel(tables.flat_table(for_people(frame), office=True), scope, level)


LAYER_TITLES = {"entities": "Podmioty", "gminy": "Gminy", "powiaty": "Powiaty"}


def to_xlsx(frame: gpd.GeoDataFrame, layer: str, about: list[tuple[str, object]]) -> bytes:
    """A layer as an XLSX workbook for people: lon/lat for points, no polygon geometry (geoes.publish.office,
    geoes.publish.xlsx)."""
    scope, level = office.LAYER_SCOPES[layer]
    return office.workbook(tables.flat_table(for_people(frame), office=True), scope, level, about,
                           f"geoes – {LAYER_TITLES[layer].lower()}")


def table_to_csv(table: pd.DataFrame, dialect: str = "gis") -> bytes:
    """A plain table as CSV for Excel: UTF-8 with BOM, CRLF, formula cells neutralised."""
    if dialect == "gis":
        return csv_bytes(table)
    return tables.to_csv(table, dialect)


def filters_text(filters: dict | None) -> str:
    """Filters of a download as people read them: "type: cis, wtz; powiat: 2602"."""
    return "; ".join(f"{k}: {', '.join(map(str, v)) if isinstance(v, (list, tuple)) else v}"
                     for k, v in (filters or {}).items())


def about_rows(summary: dict | None, name: str, count: int, filters: dict | None = None,
               method: dict | None = None) -> list[tuple[str, object]]:
    """The "Metoda i źródła" sheet of an XLSX download: what, which version, filters, attribution, method."""
    a = attribution()
    summary = summary or {}
    rows: list[tuple[str, object]] = [
        ("Zawartość", f"geoes — {name}: {polish.count(count, 'wiersz')}"),
        ("Wersja danych", summary.get("version", "")),
        ("Zbudowano", summary.get("built_at", "")),
        ("Pobrano", polish.today_in_poland().isoformat()),
        ("Filtry", filters_text(filters) or "brak (pełna tabela)"),
        ("Źródła danych", a["data"]),
        ("Attribution", a["data_en"]),
        ("Podmioty", a["entities"]),
        ("Podkład mapy", a["tiles"]["text"]),
        ("Współrzędne", "WGS84 (EPSG:4326): długość i szerokość geograficzna, 6 miejsc po przecinku; "
                        "granice gmin i powiatów są w GeoPackage i GeoJSON."),
        ("Identyfikatory", "TERYT, KRS, NIP, REGON, kody pocztowe i telefony zapisano jako tekst."),
        ("Pliki dla GIS", "Te same dane z nazwami kolumn dla programów (np. entities_per_10k): CSV dla GIS, "
                          "GeoJSON, GeoPackage, OGC API – Features; arkusz „Opis kolumn” podaje nazwę każdej "
                          "kolumny w tych plikach."),
        ("Kody jednostek", UNIT_CODES_PL),
    ]
    return rows + office.method_rows(method or summary.get("method") or {})


def write_gpkg(layers: dict[str, gpd.GeoDataFrame], path: Path | str, method: dict | None = None,
               extra_meta: dict | None = None) -> None:
    """Layers into one GeoPackage 1.2; attribution, method (and `extra_meta`, e.g. version and filters) go
    into each layer's metadata (gpkg_metadata, shown by QGIS under Layer Properties › Metadata).
    Whole-number columns are Integer (Integer64 only beyond 2^31), booleans Integer(Boolean), identifiers String,
    unlocated features a NULL geometry."""
    meta = {"attribution": attribution_text(), "attribution_en": attribution()["data_en"],
            "exported": polish.today_in_poland().isoformat()}
    if method:
        meta["method"] = json.dumps(method, ensure_ascii=False)
    for key, value in (extra_meta or {}).items():
        meta[key] = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    for name, frame in layers.items():
        out = published(frame)
        for col in out.columns:
            if col != out.geometry.name and tables.is_integer_column(out[col]):
                out[col] = out[col].astype(tables.integer_dtype(out[col]))
        out.to_file(path, layer=name, driver="GPKG", engine="pyogrio", layer_metadata=meta,
                    VERSION=GPKG_VERSION)


def to_gpkg(layers: dict[str, gpd.GeoDataFrame], method: dict | None = None, extra_meta: dict | None = None) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "export.gpkg"
        write_gpkg(layers, path, method, extra_meta)
        return path.read_bytes()


def filename(layer: str, fmt: str, when: date | None = None) -> str:
    return f"geoes_{layer}_{(when or polish.today_in_poland()).isoformat()}.{EXTENSIONS[fmt]}"


def readme_text(summary: dict, contents: dict[str, int], filters: dict | None = None) -> str:
    """README.txt that travels with a download: what is inside, attribution, method, filters, version."""
    a = attribution()
    lines = [
        "geoes — podmioty ekonomii społecznej / social-economy entities",
        "",
        f"Wersja danych / dataset version: {summary.get('version', '')}",
        f"Zbudowano / built: {summary.get('built_at', '')}",
        f"Pobrano / exported: {polish.today_in_poland().isoformat()}",
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
        "Współrzędne: WGS84 (EPSG:4326), długość/szerokość geograficzna, 6 miejsc po przecinku; CSV: kolumny "
        "lon/lat dla punktów, WKT dla poligonów; podmioty bez współrzędnych mają puste lon/lat.",
        "CSV (domyślny, dla GIS): przecinek, kropka dziesiętna, UTF-8 z BOM; plik .csvt obok podaje typy kolumn "
        "(GDAL, QGIS: identyfikatory jako tekst). Dla Excela z polskimi ustawieniami: "
        "?format=csv&dialect=excel-pl (średnik, przecinek dziesiętny) albo ?format=xlsx.",
        "Komórki zaczynające się od = + - @ poprzedzone apostrofem.",
        "Podmioty: " + UNIT_CODES_PL + " " + DEPRECATED_PL,
        "Coordinates: WGS84 lon/lat, 6 decimals; CSV: lon/lat columns for points, WKT for polygons; UTF-8 with "
        "BOM; the .csvt gives column types; cells starting with = + - @ are prefixed with an apostrophe.",
        "Entities: gmina_teryt/powiat_teryt are the units the site counts an entity in (where its point lies, or "
        "the stated powiat of an entity known only to the powiat); gmina_teryt_stated/powiat_teryt_stated are what "
        "the register states; gmina_teryt_computed/powiat_teryt_computed are deprecated aliases (same values).",
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


def csvt_path(path: Path | str) -> Path:
    """Where a `gis` CSV export's column types go for GDAL and QGIS: `<stem>.csvt` beside it."""
    return Path(path).with_suffix(".csvt")


def export_layer(frame: gpd.GeoDataFrame, layer: str, fmt: str, path: Path | str, method: dict | None = None,
                 summary: dict | None = None, dialect: str = "gis") -> None:
    """Write one layer; GeoJSON carries attribution and method as foreign members, GeoPackage in its
    metadata, XLSX on its `Informacje` sheet; a CSV gets a README alongside (CSV has no place for them)
    and, in the `gis` dialect, a `.csvt` with the column types (identifiers as text in QGIS)."""
    info = dict(summary or {})
    if method:
        info["method"] = method
    if fmt == "geojson":
        extra = {"name": layer}
        if method:
            extra["method"] = method
        atomic_write_bytes(path, to_geojson(frame, extra))
    elif fmt == "csv":
        atomic_write_bytes(path, to_csv(frame, dialect, layer))
        if dialect == "gis":
            table = tables.flat_table(published(frame))
            atomic_write_bytes(csvt_path(path), tables.csvt_line(table).encode("ascii"))
        atomic_write_bytes(readme_path(path), readme_text(info, {layer: len(frame)}).encode("utf-8"))
    elif fmt == "xlsx":
        atomic_write_bytes(path, to_xlsx(frame, layer, about_rows(info, layer, len(frame), method=method)))
    elif fmt == "gpkg":
        with atomic_path(path, suffix=".gpkg") as tmp:
            write_gpkg({layer: frame}, tmp, method)
    else:
        raise ValueError(f"nieznany format: {fmt}")
