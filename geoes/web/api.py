"""GeoJSON API and downloads (the HTTP interface in the README): /api/entities.geojson, /api/gminy.geojson,
/api/powiaty.geojson, /api/indicators, /api/download.gpkg, /api/download.zip.

Filters: `type` (repeatable or comma-separated), `powiat`, `gmina`, `q`, `bbox`; on the unit layers
`type` is validated but does not narrow the units. `powiat` and `gmina` select the units the site counts an
entity in — the published `powiat_teryt`/`gmina_teryt` of its features (its point's unit, or the stated
powiat of an entity known only to the powiat) — not the codes the register states (`*_teryt_stated`).
`format=geojson|csv|gpkg|xlsx` turns a layer response into a download of exactly the filtered set;
`format=csv&dialect=excel-pl` is the CSV Polish Excel opens by double-click (geoes.publish.tables), the
default `dialect=gis` the comma CSV for GIS tools. Every parameter is read by geoes.publish.filters, and any other
parameter is a 400 (so a typo such as `powait=2602` does not silently return everything).
`view=map` (GeoJSON only) is a layer as the public map draws it: entities with what popups show; powiaty
and gminy with their boundaries, choropleth colours and the tooltips' figures (geoes.publish.unitmap).
`/api/points.json` is the map's light payload (every placed entity's id, point, type and precision:
geoes.dataset.mappoints) and `/api/clusters` the clusters of one view for a register too large for the
browser (geoes.publish.mappoints); both take the map's filters.

For `W pobliżu` on the map: /api/nearest (`lat`, `lon`, `limit` and the same filters) lists the nearest
entities with great-circle distance and direction; /api/places (`q`) finds the place a person typed. Both
answer about one person's whereabouts, so they are computed per request and never kept by shared caches.

Attribution and method travel with every download: GeoJSON as foreign members (`attribution`,
`method`, `version`, `filters`), GeoPackage in the layer metadata, CSV — which has no place for them —
in the `X-Attribution` response header and a `Link` to `/api/download.zip`, which packs the same
filtered layer(s) with a README.txt (attribution, method, filters, version).

Bodies are serialised once per dataset version and filter (the per-feature JSON strings come from the
per-version layers of geoes.publish.layers, shared with the OGC API) and served from memory with
ETag/304, gzip and CORS (web.http).
"""
from __future__ import annotations

import json
from datetime import date
from urllib.parse import urlencode

from flask import Blueprint, current_app, request, url_for
from werkzeug.datastructures import MultiDict

from geoes.common.polish import today_in_poland
from geoes.common.reference import attribution
from geoes.errors import NotFound
from geoes.publish import essglobal, murmurations, serialise as export
from geoes.publish.filters import (Filter, ParamError, choice, choices, parse_bbox, parse_filter, parse_float,
                                   parse_int, parse_teryts, reject_unknown, single)
from geoes.publish.layers import LAYERS, layer_data, map_features, matching_positions, take
from geoes.publish.mappoints import MAX_ZOOM, clusters as view_clusters, points_body, view_too_large
from geoes.publish.nearest import nearest as nearest_entities
from geoes.publish.places import AddressLookup, find_place, region_shape
from geoes.publish.tables import DIALECTS, csvt_line, flat_table, to_csv as table_csv, with_voivodeship
from geoes.publish.office import csv_for_excel, workbook
from geoes.sources.gazetteer import Gazetteer
from geoes.web.http import install_cors, json_error, respond
from geoes.web.served import served_data

bp = Blueprint("api", __name__, url_prefix="/api")
install_cors(bp)

GET = ["GET", "HEAD", "OPTIONS"]
FILTER_PARAMS = ("type", "powiat", "gmina", "q", "bbox")
DOWNLOAD_FORMATS = ("geojson", "csv", "gpkg", "xlsx")
LEVELS = ("powiat", "gmina")
COMPARE_MAX_UNITS = 20  # `teryt` of /api/indicators: a comparison shows 2–4; a few more are harmless

def _check_names(allowed) -> None:
    reject_unknown(request.args, allowed)


def _choice(name: str, allowed, default=None):
    return choice(request.args, name, allowed, default)


def _filters_dict(flt: Filter) -> dict:
    out = {}
    if flt.types:
        out["type"] = list(flt.types)
    for k in ("powiat", "gmina", "q"):
        if getattr(flt, k):
            out[k] = getattr(flt, k)
    if flt.bbox:
        out["bbox"] = list(flt.bbox)
    return out


def _filter_query(flt: Filter) -> list[tuple[str, str]]:
    q = []
    if flt.types:
        q.append(("type", ",".join(flt.types)))
    for k in ("powiat", "gmina", "q"):
        if getattr(flt, k):
            q.append((k, getattr(flt, k)))
    if flt.bbox:
        q.append(("bbox", ",".join(repr(v) for v in flt.bbox)))
    return q


def _subset(layer: str, flt: Filter):
    """(LayerData, positions) of the filtered features of a layer."""
    data = layer_data(served_data(), layer)
    if layer != "entities" and flt.types:
        flt = Filter(powiat=flt.powiat, gmina=flt.gmina, q=flt.q, bbox=flt.bbox)  # `type` narrows entities only
    return data, matching_positions(served_data(), data, flt)


def _dataset_date(ds) -> date:
    try:
        return date.fromisoformat(str(ds.summary.get("built_at", ""))[:10])
    except ValueError:
        return today_in_poland()


def _meta(ds, layer: str, flt: Filter) -> dict:
    a = attribution()
    meta = {"name": layer, "attribution": export.attribution_text(), "attribution_en": a["data_en"],
            "version": ds.version, "method": ds.summary.get("method")}
    filters = _filters_dict(flt)
    if filters:
        meta["filters"] = filters
    return meta


def _download_headers(ds, name: str, fmt: str) -> dict:
    return {"Content-Type": export.FORMATS[fmt],
            "Content-Disposition": f'attachment; filename="{name}"',
            "X-Attribution": attribution()["data_en"],
            "X-Dataset-Version": ds.version}


def _etag(ds, variant: str) -> str:
    return f'W/"{ds.version}-{variant}"' if variant else f'W/"{ds.version}"'


# `view=map`: a layer as the public map draws it (geoes.publish.layers.map_features): the slim entity
# layer; the unit layers with the map's colours and formatted figures (geoes.publish.unitmap).
VIEWS = ("full", "map")


def _dialect(fmt: str | None) -> str:
    """`dialect` of a CSV download: `gis` (default) or `excel-pl`; only with format=csv."""
    dialect = _choice("dialect", DIALECTS)
    if dialect is not None and fmt != "csv":
        raise ParamError("dialect", "parametr dotyczy tylko format=csv")
    return dialect or "gis"


def _about(ds, name: str, count: int, flt: Filter | None = None, more: dict | None = None) -> list:
    filters = {**(_filters_dict(flt) if flt is not None else {}), **(more or {})}
    return export.about_rows({**ds.summary, "version": ds.version}, name, count, filters or None)


def _make_layer_body(layer: str, flt: Filter, fmt: str, view: str = "full", dialect: str = "gis"):
    ds = served_data().current()
    data, positions = _subset(layer, flt)
    if fmt == "json":
        features = map_features(served_data(), data) if view == "map" else data.features
        meta = _meta(ds, layer, flt)
        if view == "map":
            meta.pop("method", None)
            meta["view"] = "map"
        return export.feature_collection_bytes(take(features, positions), meta)
    frame = data.frame.iloc[positions]
    if fmt == "csv":
        return export.to_csv(frame, dialect, layer)
    if fmt == "xlsx":
        return export.to_xlsx(frame, layer, _about(ds, layer, len(frame), flt))
    return export.to_gpkg({layer: frame}, ds.summary.get("method"),
                          {"version": ds.version, "filters": _filters_dict(flt) or "brak"})


def _download_name(ds, stem: str, fmt: str, dialect: str = "gis") -> str:
    return export.filename(stem + ("_excel-pl" if dialect == "excel-pl" else ""), fmt, _dataset_date(ds))


def _layer(layer: str):
    _check_names((*FILTER_PARAMS, "format", "dialect", "view"))
    ds = served_data().current()
    flt = parse_filter(request.args, ds)
    fmt = _choice("format", DOWNLOAD_FORMATS)
    dialect = _dialect(fmt)
    view = _choice("view", VIEWS, "full")
    if view == "map" and fmt not in (None, "geojson"):
        raise ParamError("view", "widok 'map' jest dostępny tylko jako GeoJSON")
    body_fmt = "json" if fmt in (None, "geojson") else fmt
    body = served_data().api_bodies.get_or_make((ds.version, "layer", layer, flt.key(), body_fmt, view, dialect),
                               lambda: _make_layer_body(layer, flt, body_fmt, view, dialect))
    if fmt is None:
        headers = {"Content-Type": export.FORMATS["geojson"], "X-Dataset-Version": ds.version}
    else:
        headers = _download_headers(ds, _download_name(ds, layer, fmt, dialect), fmt)
        if fmt == "csv":
            q = urlencode([("layer", layer), ("format", "csv"), *_filter_query(flt)])
            headers["Link"] = (f'<{request.url_root.rstrip("/")}/api/download.zip?{q}>; rel="describedby"; '
                               f'type="application/zip"; title="CSV + README.txt (attribution, method)"')
    headers["ETag"] = _etag(ds, (fmt or "") + ("-map" if view == "map" else "") + ("-" + dialect if fmt == "csv" else ""))
    return respond(body, 200, headers)


@bp.route("/entities.geojson", methods=GET)
def entities():
    return _layer("entities")


@bp.route("/gminy.geojson", methods=GET)
def gminy():
    return _layer("gminy")


@bp.route("/powiaty.geojson", methods=GET)
def powiaty():
    return _layer("powiaty")


def _units(ds, level: str) -> tuple[str, ...]:
    """`teryt` of /api/indicators: the units of `level` to keep (repeatable or comma-separated), e.g. the
    units a comparison shows; () keeps all."""
    if not request.args.getlist("teryt"):
        return ()
    teryts = parse_teryts(request.args, "teryt", 1, COMPARE_MAX_UNITS)
    known = set((ds.powiaty if level == "powiat" else ds.gminy)["teryt"])
    for t in teryts:
        if t not in known:
            raise ParamError("teryt", f"nieznany kod TERYT {'powiatu' if level == 'powiat' else 'gminy'} {t}")
    return tuple(teryts)


def _records(table) -> list[dict]:
    return json.loads(table.to_json(orient="records", force_ascii=False))


@bp.route("/indicators", methods=GET)
def indicators():
    """Indicator table per powiat or gmina (`level`), JSON (default), CSV (`dialect`) or XLSX; `powiat`
    narrows it. The tables end with the voivodeship's row."""
    _check_names(("level", "format", "powiat", "dialect", "teryt"))
    ds = served_data().current()
    level = _choice("level", LEVELS, "powiat")
    teryts = _units(ds, level)
    fmt = _choice("format", ("json", "csv", "xlsx"), "json")
    dialect = _dialect(fmt)
    powiat = parse_filter(MultiDict([("powiat", v) for v in request.args.getlist("powiat")]), ds).powiat

    def make() -> bytes:
        # Left-out figures are null; `suppressed` says why: {field: reason} in JSON and in the files for
        # people (which turn it into "Uwagi"), text in the CSV for GIS.
        gis = fmt == "csv" and dialect == "gis"
        table = ds.indicator_table(level, reasons="text" if gis else "map", meta=fmt != "json")
        if powiat:
            col = "teryt" if level == "powiat" else "powiat_teryt"
            table = table[table[col] == powiat]
        if teryts:
            table = table[table["teryt"].isin(teryts)]
        if fmt in ("csv", "xlsx"):
            full = with_voivodeship(table, ds.voivodeship_record(reasons="text" if gis else "map"))
            if fmt == "xlsx":
                name = f"wskaźniki – {'powiaty' if level == 'powiat' else 'gminy'}"
                return workbook(full, "units", level, _about(ds, name, len(full), Filter(powiat=powiat),
                                                             {"teryt": list(teryts)} if teryts else None),
                                f"geoes – {name}")
            return table_csv(full) if gis else csv_for_excel(full, "units", level)
        doc = {"level": level, "version": ds.version, "built_at": ds.summary.get("built_at"),
               "attribution": export.attribution_text(), "method": ds.summary.get("method"),
               "completeness": ds.summary.get("completeness"), "columns": list(table.columns),
               "items": _records(table), "voivodeship": ds.voivodeship_record(reasons="map")}
        return json.dumps(doc, ensure_ascii=False, default=export._json_default).encode("utf-8")

    body = served_data().api_bodies.get_or_make((ds.version, "indicators", level, fmt, powiat, dialect, teryts), make)
    if fmt in ("csv", "xlsx"):
        headers = _download_headers(ds, _download_name(ds, f"wskazniki_{level}", fmt, dialect), fmt)
    else:
        headers = {"Content-Type": "application/json", "X-Dataset-Version": ds.version}
    headers["ETag"] = _etag(ds, f"indicators-{fmt}-{dialect}")  # the URL's query tells filtered files apart
    return respond(body, 200, headers)


def _layers_param() -> tuple[str, ...]:
    return choices(request.args, "layer", LAYERS, "warstwy") or LAYERS


def _filtered_gpkg(ds, flt: Filter, layers: tuple[str, ...]) -> tuple[bytes, dict[str, int]]:
    """One GeoPackage of the filtered `layers` with the method and the filters in its metadata; and how many
    features each layer got."""
    frames = {}
    for layer in layers:
        data, positions = _subset(layer, flt)
        frames[layer] = data.frame.iloc[positions]
    body = export.to_gpkg(frames, ds.summary.get("method"),
                          {"version": ds.version, "filters": _filters_dict(flt) or "brak"})
    return body, {layer: len(frame) for layer, frame in frames.items()}


@bp.route("/download.gpkg", methods=GET)
def download_gpkg():
    """One GeoPackage with the three layers (entities, gminy, powiaty), optionally filtered."""
    _check_names(FILTER_PARAMS)
    ds = served_data().current()
    flt = parse_filter(request.args, ds)

    body = served_data().api_bodies.get_or_make((ds.version, "download.gpkg", flt.key()),
                                                lambda: _filtered_gpkg(ds, flt, LAYERS)[0])
    headers = _download_headers(ds, export.filename("warstwy", "gpkg", _dataset_date(ds)), "gpkg")
    headers["ETag"] = _etag(ds, "all-gpkg")
    return respond(body, 200, headers)


@bp.route("/download.zip", methods=GET)
def download_zip():
    """The filtered layer(s) in one format (`format`, default csv) plus README.txt with attribution and method;
    a `gis` CSV comes with its `.csvt` (column types: GDAL and QGIS keep identifiers as text)."""
    _check_names((*FILTER_PARAMS, "format", "layer", "dialect"))
    ds = served_data().current()
    flt = parse_filter(request.args, ds)
    fmt = _choice("format", DOWNLOAD_FORMATS, "csv")
    dialect = _dialect(fmt)
    layers = _layers_param()

    def make() -> bytes:
        files: dict[str, bytes] = {}
        counts: dict[str, int] = {}
        day = _dataset_date(ds)
        body_fmt = "json" if fmt == "geojson" else fmt
        if fmt == "gpkg":
            files[export.filename("_".join(layers), "gpkg", day)], counts = _filtered_gpkg(ds, flt, layers)
        else:
            for layer in layers:
                data, positions = _subset(layer, flt)
                counts[layer] = len(positions)
                name = _download_name(ds, layer, fmt, dialect)
                files[name] = served_data().api_bodies.get_or_make(
                    (ds.version, "layer", layer, flt.key(), body_fmt, "full", dialect),
                    lambda: _make_layer_body(layer, flt, body_fmt, "full", dialect))
                if fmt == "csv" and dialect == "gis":
                    table = flat_table(data.frame.iloc[positions])
                    files[name[:-len(".csv")] + ".csvt"] = csvt_line(table).encode("ascii")
        files["README.txt"] = export.readme_text(ds.summary, counts, _filters_dict(flt)).encode("utf-8")
        return export.to_zip(files)

    body = served_data().api_bodies.get_or_make((ds.version, "download.zip", layers, fmt, flt.key(), dialect), make)
    name = export.filename("_".join(layers) if len(layers) < 3 else "warstwy", "zip", _dataset_date(ds))
    headers = _download_headers(ds, name, "zip")
    headers["ETag"] = _etag(ds, "zip-" + "-".join(layers) + "-" + fmt + "-" + dialect)
    return respond(body, 200, headers)


@bp.route("/essglobal.csv", methods=GET)
def essglobal_csv():
    """The entities as the ESSGlobal standard CSV (geoes.publish.essglobal), filtered like every download."""
    _check_names(FILTER_PARAMS)
    ds = served_data().current()
    flt = parse_filter(request.args, ds)

    def make() -> bytes:
        data, positions = _subset("entities", flt)
        table = essglobal.essglobal_table(data.frame.iloc[positions], ds.voivodeship.get("name") or "")
        return essglobal.to_csv(table)

    body = served_data().api_bodies.get_or_make((ds.version, "essglobal", flt.key()), make)
    headers = _download_headers(ds, export.filename("essglobal", "csv", _dataset_date(ds)), "csv")
    headers["ETag"] = _etag(ds, "essglobal")
    return respond(body, 200, headers)


def _json_body(doc) -> bytes:
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


@bp.route("/murmurations/<entity_id>.json", methods=GET)
def murmurations_profile(entity_id: str):
    """One entity as a Murmurations profile (organizations_schema-v1.0.0, geoes.publish.murmurations)."""
    _check_names(())
    ds = served_data().current()
    data = layer_data(served_data(), "entities")
    position = data.index.get(entity_id)
    if position is None:
        raise NotFound(f"brak podmiotu {entity_id[:80]!r}")
    root = request.url_root
    body = served_data().api_bodies.get_or_make(
        (ds.version, "murmurations", entity_id, root),
        lambda: _json_body(murmurations.layer_profile(data.frame, position, root, ds.voivodeship.get("name") or "")))
    return respond(body, 200, {"Content-Type": "application/json", "X-Dataset-Version": ds.version,
                               "ETag": _etag(ds, "murmurations")})


@bp.route("/murmurations.json", methods=GET)
def murmurations_index():
    """The site's Murmurations profiles (id, name, status, profile_url, primary_url), filtered like the layers."""
    _check_names(FILTER_PARAMS)
    ds = served_data().current()
    flt = parse_filter(request.args, ds)
    root = request.url_root

    def make() -> bytes:
        data, positions = _subset("entities", flt)
        entries = murmurations.index_entries(data.frame, positions, root)
        return _json_body(murmurations.index_document(entries, ds.version, export.attribution_text()))

    body = served_data().api_bodies.get_or_make((ds.version, "murmurations-index", flt.key(), root), make)
    return respond(body, 200, {"Content-Type": "application/json", "X-Dataset-Version": ds.version,
                               "ETag": _etag(ds, "murmurations-index")})


@bp.route("", methods=GET, strict_slashes=False)
def index():
    """What the API offers, with its parameters (machine-readable; the OGC API has an OpenAPI document)."""
    _check_names(())
    ds = served_data().current()
    root = request.url_root.rstrip("/")

    def make() -> bytes:
        doc = {
            "title": "geoes – GeoJSON API",
            "version": ds.version,
            "attribution": export.attribution_text(),
            "filters": {
                "type": "typ podmiotu; powtarzalny lub kody po przecinku (na warstwach gmin/powiatów bez wpływu)",
                "powiat": "kod TERYT powiatu (4 cyfry): podmioty, które serwis liczy w tym powiecie "
                          "(właściwość powiat_teryt; kod z rejestru: powiat_teryt_stated)",
                "gmina": "kod TERYT gminy (7 cyfr): podmioty, które serwis liczy w tej gminie (właściwość gmina_teryt)",
                "q": "szukany tekst (nazwa, miejscowość, prowadzący)",
                "bbox": "minLon,minLat,maxLon,maxLat (WGS84)",
            },
            "downloads": {
                "format": "geojson|csv|gpkg|xlsx: pobranie dokładnie wybranego zbioru",
                "dialect": "przy format=csv: gis (domyślny: przecinek, kropka dziesiętna, nazwy kolumn dla programów, "
                           "dla GDAL/QGIS) albo excel-pl (średnik, przecinek dziesiętny, polskie nazwy kolumn z "
                           "jednostkami, identyfikatory jako tekst: dla Excela)",
                "teryt": "przy /api/indicators: kody TERYT jednostek do pokazania (powtarzalny lub po przecinku)",
            },
            "links": [
                {"href": f"{root}/api/entities.geojson", "rel": "item", "type": "application/geo+json",
                 "title": "Podmioty (filtry; format=geojson|csv|gpkg|xlsx)"},
                {"href": f"{root}/api/gminy.geojson", "rel": "item", "type": "application/geo+json",
                 "title": "Gminy ze wskaźnikami (filtry; format=geojson|csv|gpkg|xlsx)"},
                {"href": f"{root}/api/powiaty.geojson", "rel": "item", "type": "application/geo+json",
                 "title": "Powiaty ze wskaźnikami (filtry; format=geojson|csv|gpkg|xlsx)"},
                {"href": f"{root}/api/indicators?level=powiat", "rel": "item", "type": "application/json",
                 "title": "Wskaźniki (level=powiat|gmina, format=json|csv|xlsx, dialect, powiat, teryt)"},
                {"href": f"{root}/api/download.gpkg", "rel": "enclosure", "type": export.FORMATS["gpkg"],
                 "title": "Trzy warstwy w jednym GeoPackage (filtry)"},
                {"href": f"{root}/api/download.zip", "rel": "enclosure", "type": "application/zip",
                 "title": "Warstwy (layer, format=csv|geojson|gpkg|xlsx, dialect, filtry) + README.txt"},
                {"href": f"{root}/api/nearest?lat=50.6403&lon=20.3036", "rel": "item", "type": "application/json",
                 "title": "Najbliższe podmioty (lat, lon, limit, filtry): odległość po kole wielkim i kierunek"},
                {"href": f"{root}/api/places?q=J%C4%99drzej%C3%B3w", "rel": "item", "type": "application/json",
                 "title": "Miejscowość lub adres (q) → punkt, od którego liczyć odległości"},
                {"href": f"{root}/api/essglobal.csv", "rel": "alternate", "type": "text/csv",
                 "title": "Podmioty jako standardowy CSV ESSGlobal (SEA / Digital Commons, Mykomap; filtry)"},
                {"href": f"{root}/api/murmurations.json", "rel": "alternate", "type": "application/json",
                 "title": "Profile Murmurations podmiotów (organizations_schema-v1.0.0; filtry)"},
                {"href": f"{root}/ogc", "rel": "service", "type": "application/json",
                 "title": "OGC API – Features"},
            ],
        }
        return json.dumps(doc, ensure_ascii=False).encode("utf-8")

    body = served_data().api_bodies.get_or_make((ds.version, "index", root), make)
    return respond(body, 200, {"Content-Type": "application/json", "ETag": _etag(ds, "index")})


# `W pobliżu`: the nearest entities to a point under the map's filters, and the places a person types.
NEAREST_DEFAULT, NEAREST_MAX = 10, 50


def _private_json(doc: dict):
    """A JSON answer about one person's whereabouts: never kept by shared caches."""
    resp = respond(json.dumps(doc, ensure_ascii=False).encode("utf-8"), 200, {"Content-Type": "application/json"})
    resp.headers["Cache-Control"] = "private, no-store"
    return resp


@bp.route("/nearest", methods=GET)
def nearest():
    """The entities nearest to `lat`,`lon` (WGS84) among those the filters select (`type`, `powiat`, `gmina`,
    `q`, `bbox`: the map's), nearest first, with great-circle distance and direction (geoes.publish.nearest)."""
    _check_names((*FILTER_PARAMS, "lat", "lon", "limit"))
    ds = served_data().current()
    lat = parse_float(request.args, "lat", -90, 90)
    lon = parse_float(request.args, "lon", -180, 180)
    limit = parse_int(request.args, "limit", NEAREST_DEFAULT, 1, NEAREST_MAX)
    flt = parse_filter(request.args, ds)
    doc = nearest_entities(ds.entities, flt, lat, lon, limit, url_for("entities.entity", entity_id="__ID__"))
    doc["version"] = ds.version
    filters = _filters_dict(flt)
    if filters:
        doc["filters"] = filters
    return _private_json(doc)


def _gazetteer() -> Gazetteer:
    return served_data().cached(("gazetteer",), lambda _ds: Gazetteer.load(current_app.extensions["geoes_settings"]))


def _address_lookup():
    """The configured address geocoder (GEOES_PLACES_GEOCODER) for typed places, or None."""
    settings = current_app.extensions["geoes_settings"]
    if not settings.places_geocoder:
        return None
    lookup = current_app.extensions.get("geoes_address_lookup")
    if lookup is None:
        lookup = current_app.extensions["geoes_address_lookup"] = AddressLookup(settings.places_geocoder,
                                                                                 settings.geocode_cache_path)
    region = served_data().cached(("region-shape",), lambda ds: region_shape(ds.powiaty))
    return lambda text: lookup(text, region)


@bp.route("/places", methods=GET)
def places():
    """The places a typed `q` names (localities of the region; addresses where a geocoder is configured) and
    which one the nearest entities are counted from (geoes.publish.places)."""
    _check_names(("q",))
    text = single(request.args, "q")
    if not text:
        raise ParamError("q", "podaj nazwę miejscowości lub adres")
    return _private_json(find_place(_gazetteer(), text, _address_lookup()))


MAP_FILTER_PARAMS = ("type", "powiat", "gmina", "q")
IMMUTABLE_AGE = 31536000


def _map_filter(ds) -> Filter:
    """The map's filters of the request (`bbox` is the view of /api/clusters, not a filter there)."""
    return parse_filter(MultiDict([(k, v) for k, v in request.args.items(multi=True) if k in MAP_FILTER_PARAMS]), ds)


@bp.route("/points.json", methods=GET)
def points():
    """The map's light payload of the filtered entities. With `v` = the served dataset version (the map
    page puts it there) the URL names that version's bytes: cached by the browser for a year."""
    _check_names((*MAP_FILTER_PARAMS, "v"))
    ds = served_data().current()
    flt = _map_filter(ds)
    pinned = single(request.args, "v") == ds.version
    body = points_body(served_data(), flt)
    headers = {"Content-Type": "application/json", "ETag": _etag(ds, "points"), "X-Dataset-Version": ds.version}
    # gzip, deflated once per body (web.http); brotli at a quality that beats it costs seconds at 100k.
    return respond(body, 200, headers, max_age=IMMUTABLE_AGE if pinned else 0, immutable=pinned)


@bp.route("/clusters", methods=GET)
def clusters():
    """Clusters and single points of the map's view `bbox` at `zoom`, for the filtered entities
    (geoes.publish.mappoints): what the map shows when the register is too large to send whole."""
    _check_names(("bbox", "zoom", *MAP_FILTER_PARAMS))
    ds = served_data().current()
    bbox_text = single(request.args, "bbox")
    if bbox_text is None:
        raise ParamError("bbox", "podaj widok mapy: minLon,minLat,maxLon,maxLat (WGS84)")
    bbox = parse_bbox(bbox_text)
    if single(request.args, "zoom") is None:
        raise ParamError("zoom", f"podaj poziom przybliżenia mapy (liczba całkowita 0–{MAX_ZOOM})")
    zoom = parse_int(request.args, "zoom", 0, 0, MAX_ZOOM)
    if view_too_large(bbox, zoom):
        raise ParamError("bbox", "widok jest za duży dla tego przybliżenia (mapa pokazuje najwyżej kilka "
                                 "tysięcy pikseli); zmniejsz widok albo poziom przybliżenia")
    flt = _map_filter(ds)
    body = served_data().api_bodies.get_or_make(
        (ds.version, "clusters", flt.key(), bbox, zoom),
        lambda: json.dumps(view_clusters(served_data(), flt, bbox, zoom), separators=(",", ":")).encode("utf-8"))
    return respond(body, 200, {"Content-Type": "application/json", "ETag": _etag(ds, "clusters"),
                               "X-Dataset-Version": ds.version})


@bp.route("/<path:rest>", methods=GET)
def unknown(rest: str):
    raise NotFound(f"brak zasobu {request.path[:120]}")


@bp.route("", methods=["POST", "PUT", "PATCH", "DELETE"], strict_slashes=False)
@bp.route("/<path:rest>", methods=["POST", "PUT", "PATCH", "DELETE"])
def read_only(rest: str = ""):
    resp = json_error(405, "MethodNotAllowed", "API tylko do odczytu: dozwolone GET, HEAD, OPTIONS")
    resp.headers["Allow"] = "GET, HEAD, OPTIONS"
    return resp
