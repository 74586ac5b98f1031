"""OGC API – Features, Part 1 (Core), Part 2 (CRS by reference: `crs`, `bbox-crs`, `Content-Crs`) and
Part 3 (queryables, CQL2 text `filter`): plain functions returning (headers, status, content).

They know nothing of Flask (pygeoapi style): a request is an `OGCRequest` (absolute base URL of the API,
query arguments as a multi-dict, the Accept header), the data and the caches come from the app's
`geoes.publish.served.ServedData` (`served`). Content is
bytes, or — for items, whose `timeStamp` is per request — a list of byte chunks whose first chunk is a
cached object the adapter can gzip once (see `geoes.web.http`). Every function turns bad input into a
400 and unknown ids into a 404 with a JSON body `{"code", "description"}`; nothing raises.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from urllib.parse import quote, urlencode

from geoes.common.reference import attribution
from geoes.errors import GeoesError, NotFound
from geoes.publish.filters import reject_unknown, single
from geoes.publish.layers import crs_features, layer_data, matching_positions, take
from geoes.publish.ogc.html import render as render_html
from geoes.publish.ogc.openapi import document as openapi_document, resolved_parameters
from geoes.publish.ogc.collection_defs import (COLLECTIONS, CollectionDef, get_def, parse_f, parse_items,
                                               property_queryables)
from geoes.publish.ogc import cql
from geoes.publish.ogc.crs import CRS84, STORAGE_CRS, SUPPORTED, parse_crs
from geoes.publish.ogc.formats import FORMATS, OPENAPI_MIME, negotiate, wants_features
from geoes.publish.serialise import DEPRECATED_ALIASES

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    # Part 2: Coordinate Reference Systems by Reference (CRS84, EPSG:4326, EPSG:2180)
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    # Part 3: Filtering, with CQL2 text
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/case-insensitive-comparison",
    "http://www.opengis.net/spec/cql2/1.0/conf/accent-insensitive-comparison",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions-plus",
    "http://www.opengis.net/spec/cql2/1.0/conf/spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/property-property",
]
QUERYABLES_REL = "http://www.opengis.net/def/rel/ogc/1.0/queryables"
SCHEMA_MIME = "application/schema+json"
TITLE = "Ekonomia społeczna – OGC API – Features"
DESCRIPTION = ("Podmioty ekonomii społecznej oraz gminy i powiaty ze wskaźnikami (liczba podmiotów na 10 tys. "
               "mieszkańców i na 100 km², zatrudnienie, zasięg 10 km) jako OGC API – Features.")

@dataclass
class OGCRequest:
    base_url: str  # absolute URL of the API root without a trailing slash, e.g. http://host/ogc
    args: object = field(default_factory=dict)  # multi-dict (getlist) or a plain dict
    accept: str = ""
    page_size: int = 100
    max_page_size: int = 10_000
    filter_time_limit: float = cql.DEFAULT_TIME_LIMIT
    site_root: str = ""  # the web site root for the HTML footer links, e.g. http://host

    def f(self) -> str | None:
        return parse_f(self.args)


Response = tuple[dict, int, object]


def _etag(version: str, fmt: str) -> str:
    return f'W/"{version}"' if fmt in ("json", "geojson") else f'W/"{version}-{fmt}"'


def _headers(mime: str, version: str, fmt: str, **extra) -> dict:
    h = {"Content-Type": mime, "ETag": _etag(version, fmt)}
    if fmt == "html":
        h["Content-Language"] = "pl"
    h.update(extra)
    return h


def _dumps(obj) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _link(href: str, rel: str, mime: str, title: str) -> dict:
    return {"href": href, "rel": rel, "type": mime, "title": title}


def error_response(exc: GeoesError) -> Response:
    """The one error shape {"code", "description"} with the error's HTTP status."""
    return {"Content-Type": "application/json"}, exc.http_status, _dumps(exc.as_json())


def _guard(fn):
    """Every expected failure (a GeoesError: bad parameter 400, unknown id 404, no data 503) becomes a JSON
    error response, never an exception out of the core."""
    def wrapper(served, req: OGCRequest, *a) -> Response:
        try:
            return fn(served, req, *a)
        except GeoesError as exc:
            return error_response(exc)
    wrapper.__name__ = fn.__name__
    wrapper.__doc__ = fn.__doc__
    return wrapper


def _simple(req: OGCRequest, allowed=("json", "html")) -> str:
    reject_unknown(req.args, ("f",))
    return negotiate(req.f(), req.accept, allowed)


HOW_TO_OPEN = ("To jest usługa OGC API – Features, nie plik GeoJSON: otwórz ją sterownikiem OAPIF, np. "
               "ogrinfo OAPIF:{base} (QGIS: Warstwa › Dodaj warstwę › WFS / OGC API – Features, adres {base}). "
               "This is an OGC API – Features service, not a GeoJSON file: open it with GDAL's OAPIF driver, "
               "e.g. ogrinfo OAPIF:{base}")


def _how_to_open(served, req: OGCRequest, cids) -> Response:
    """What a GeoJSON reader gets on a URL without features (formats.wants_features): a FeatureCollection
    named after the command to use, one feature (no geometry) per collection with its ogr2ogr command and
    items URL, and the landing page's links — so `ogrinfo http://…/ogc` lists "OGC API – Features: użyj
    OAPIF:http://…/ogc" instead of a one-feature layer of the landing document."""
    version = served.current().version
    base = req.base_url

    def make() -> bytes:
        features = []
        for cid in cids:
            cdef = COLLECTIONS[cid]
            features.append({"type": "Feature", "id": cid, "geometry": None, "properties": {
                "collection": cid, "title": cdef.title, "features": layer_data(served, cdef.layer).count,
                "gdal": f"ogr2ogr -f GPKG {cid}.gpkg OAPIF:{base} {cid}",
                "items": f"{base}/collections/{cid}/items"}})
        links = [_link(base, "service", FORMATS["json"], "OGC API – Features (strona startowa)"),
                 _link(f"{base}/collections", "data", FORMATS["json"], "Kolekcje danych"),
                 _link(f"{base}/api", "service-desc", OPENAPI_MIME, "Definicja API (OpenAPI 3.0)"),
                 *(_link(f"{base}/collections/{cid}/items", "items", FORMATS["geojson"], COLLECTIONS[cid].title)
                   for cid in cids)]
        return _dumps({"type": "FeatureCollection", "name": f"OGC API – Features: użyj OAPIF:{base}",
                       "description": HOW_TO_OPEN.format(base=base), "links": links, "features": features})

    body = _cached(served, (version, "how-to-open", base, tuple(cids)), make)
    return _headers(FORMATS["geojson"], version, "how-to-open"), 200, body


def _page(template: str, req: OGCRequest, title: str, json_url: str, crumbs=(), json_type=FORMATS["json"],
          **ctx) -> bytes:
    return render_html(template, title=title, root=req.base_url, site_root=req.site_root, crumbs=list(crumbs),
                       json_url=json_url, json_type=json_type, **ctx)


def _cached(served, key: tuple, make):
    """Serialised bodies (filtered, paged, per base URL) in the app's bounded OGC cache; keys start with
    the dataset version, so a new version drops the old bodies."""
    return served.ogc_bodies.get_or_make(key, make)


# ------------------------------------------------------------------------------------ resources

@_guard
def landing(served, req: OGCRequest) -> Response:
    fmt = _simple(req)
    if wants_features(req.f(), req.accept):
        return _how_to_open(served, req, tuple(COLLECTIONS))
    version = served.current().version
    base = req.base_url

    def make() -> bytes:
        links = [
            _link(f"{base}?f=json", "self" if fmt == "json" else "alternate", FORMATS["json"], "Ten dokument (JSON)"),
            _link(f"{base}?f=html", "self" if fmt == "html" else "alternate", FORMATS["html"], "Ten dokument (HTML)"),
            _link(f"{base}/api", "service-desc", OPENAPI_MIME, "Definicja API (OpenAPI 3.0)"),
            _link(f"{base}/api?f=html", "service-doc", FORMATS["html"], "Dokumentacja API (HTML)"),
            _link(f"{base}/conformance", "conformance", FORMATS["json"], "Klasy zgodności"),
            _link(f"{base}/conformance", "http://www.opengis.net/def/rel/ogc/1.0/conformance", FORMATS["json"],
                  "Klasy zgodności"),
            _link(f"{base}/collections", "data", FORMATS["json"], "Kolekcje danych"),
            _link(f"{base}/collections", "http://www.opengis.net/def/rel/ogc/1.0/data", FORMATS["json"],
                  "Kolekcje danych"),
        ]
        if fmt == "html":
            return _page("landing.html", req, TITLE, f"{base}?f=json", description=DESCRIPTION)
        return _dumps({"title": TITLE, "description": DESCRIPTION, "attribution": attribution()["data"],
                       "links": links})

    body = _cached(served, (version, "landing", base, fmt, req.site_root), make)
    return _headers(FORMATS[fmt], version, fmt), 200, body


@_guard
def conformance(served, req: OGCRequest) -> Response:
    fmt = _simple(req)
    version = served.current().version
    if fmt == "html":
        body = _page("conformance.html", req, "Klasy zgodności", f"{req.base_url}/conformance?f=json",
                     crumbs=[("Klasy zgodności", None)], conforms_to=CONFORMANCE)
    else:
        body = _dumps({"conformsTo": CONFORMANCE})
    return _headers(FORMATS[fmt], version, fmt), 200, body


@_guard
def api_document(served, req: OGCRequest) -> Response:
    """The OpenAPI 3.0 document (`service-desc`), or its readable HTML form (`service-doc`, f=html)."""
    fmt = _simple(req)
    ds = served.current()
    base = req.base_url

    def make() -> bytes:
        props = {cid: props_of(served, cdef) for cid, cdef in COLLECTIONS.items()}
        doc = openapi_document(base, req.page_size, req.max_page_size, TITLE, ds.version, props)
        if fmt == "html":
            paths = []
            for path, item in doc["paths"].items():
                get = dict(item["get"])
                get["parameters_resolved"] = resolved_parameters(doc, get)
                paths.append((path, get))
            return _page("api.html", req, "Opis API (OpenAPI 3.0)", f"{base}/api?f=json",
                         crumbs=[("Opis API", None)], json_type=OPENAPI_MIME, info=doc["info"], paths=paths)
        return _dumps(doc)

    body = _cached(served, (ds.version, "api", base, fmt, req.page_size, req.max_page_size, req.site_root), make)
    mime = FORMATS["html"] if fmt == "html" else OPENAPI_MIME
    return _headers(mime, ds.version, fmt), 200, body


def props_of(served, cdef: CollectionDef):
    """The collection's property queryables in the served version (once per version)."""
    return served.cached(("queryables", cdef.id),
                         lambda _ds: property_queryables(cdef, layer_data(served, cdef.layer).frame))


def _collection_obj(served, cdef: CollectionDef, base: str) -> dict:
    layer = layer_data(served, cdef.layer)
    url = f"{base}/collections/{cdef.id}"
    # The GeoJSON `items` link carries no query: GDAL appends `/{featureId}` to it for an id lookup.
    return {
        "id": cdef.id,
        "title": cdef.title,
        "description": cdef.description,
        "keywords": list(cdef.keywords),
        "attribution": attribution()["data"],
        "links": [
            _link(f"{url}?f=json", "self", FORMATS["json"], f"{cdef.title} (JSON)"),
            _link(f"{url}?f=html", "alternate", FORMATS["html"], f"{cdef.title} (HTML)"),
            _link(f"{url}/items", "items", FORMATS["geojson"], f"{cdef.title}: obiekty (GeoJSON)"),
            _link(f"{url}/items?f=html", "items", FORMATS["html"], f"{cdef.title}: obiekty (HTML)"),
            _link(f"{url}/queryables", QUERYABLES_REL, SCHEMA_MIME, f"{cdef.title}: właściwości do filtrowania"),
        ],
        "extent": {"spatial": {"bbox": [layer.extent], "crs": CRS84}},
        "itemType": "feature",
        "crs": list(SUPPORTED),
        "storageCrs": STORAGE_CRS,
    }


@_guard
def collections(served, req: OGCRequest) -> Response:
    fmt = _simple(req)
    if wants_features(req.f(), req.accept):
        return _how_to_open(served, req, tuple(COLLECTIONS))
    version = served.current().version
    base = req.base_url

    def make() -> bytes:
        objs = [_collection_obj(served, c, base) for c in COLLECTIONS.values()]
        if fmt == "html":
            return _page("collections.html", req, "Kolekcje", f"{base}/collections?f=json",
                         crumbs=[("Kolekcje", None)], collections=objs)
        return _dumps({"links": [
            _link(f"{base}/collections?f=json", "self", FORMATS["json"], "Kolekcje (JSON)"),
            _link(f"{base}/collections?f=html", "alternate", FORMATS["html"], "Kolekcje (HTML)"),
        ], "collections": objs})

    body = _cached(served, (version, "collections", base, fmt, req.site_root), make)
    return _headers(FORMATS[fmt], version, fmt), 200, body


@_guard
def collection(served, req: OGCRequest, cid: str) -> Response:
    cdef = get_def(cid)
    fmt = _simple(req)
    if wants_features(req.f(), req.accept):
        return _how_to_open(served, req, (cdef.id,))
    version = served.current().version
    base = req.base_url

    def make() -> bytes:
        obj = _collection_obj(served, cdef, base)
        if fmt == "html":
            return _page("collection.html", req, cdef.title, f"{base}/collections/{cid}?f=json",
                         crumbs=[("Kolekcje", f"{base}/collections"), (cdef.title, None)], collection=obj,
                         count=layer_data(served, cdef.layer).count,
                         queryables=(*cdef.params, *props_of(served, cdef)),
                         page_size=req.page_size, max_page_size=req.max_page_size)
        return _dumps(obj)

    body = _cached(served, (version, "collection", cid, base, fmt, req.site_root), make)
    return _headers(FORMATS[fmt], version, fmt), 200, body


def _items_url(base: str, cid: str, rest, fmt: str, limit: int, offset: int) -> str:
    params = [*rest, ("limit", str(limit)), ("offset", str(offset)), ("f", fmt)]
    return f"{base}/collections/{cid}/items?{urlencode(params)}"


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@_guard
def items(served, req: OGCRequest, cid: str) -> Response:
    cdef = get_def(cid)
    query = parse_items(cdef, props_of(served, cdef), req.args, req.page_size, req.max_page_size,
                        req.filter_time_limit)
    fmt = negotiate(query.f, req.accept, ("json", "html"))
    layer = layer_data(served, cdef.layer)
    base = req.base_url
    limit, offset = query.limit, query.offset
    key = (layer.version, "items", cid, base, fmt, query.rest, limit, offset, req.site_root)

    def make():
        positions = matching_positions(served, layer, query.filter)
        matched = int(len(positions))
        page = positions[offset:offset + limit]
        links = [
            _link(_items_url(base, cid, query.rest, "json", limit, offset), "self" if fmt == "json" else "alternate",
                  FORMATS["geojson"], "Ta strona (GeoJSON)"),
            _link(_items_url(base, cid, query.rest, "html", limit, offset), "self" if fmt == "html" else "alternate",
                  FORMATS["html"], "Ta strona (HTML)"),
            _link(f"{base}/collections/{cid}", "collection", FORMATS["json"], cdef.title),
        ]
        next_off = offset + limit if offset + limit < matched else None
        prev_off = max(0, offset - limit) if offset > 0 else None
        if next_off is not None:
            links.append(_link(_items_url(base, cid, query.rest, "json", limit, next_off), "next",
                               FORMATS["geojson"], "Następna strona"))
        if prev_off is not None:
            links.append(_link(_items_url(base, cid, query.rest, "json", limit, prev_off), "prev",
                               FORMATS["geojson"], "Poprzednia strona"))
        if fmt == "html":
            frame = layer.frame
            cols = [c for c in cdef.html_columns if c in frame.columns]
            rows = frame.iloc[page][cols].astype(object).where(frame.iloc[page][cols].notna(), None).to_dict("records")
            for row in rows:
                row["_href"] = f"{base}/collections/{cid}/items/{quote(str(row[cdef.id_column]), safe='')}?f=html"
            return _page("items.html", req, f"{cdef.title}: obiekty", links[0]["href"],
                         crumbs=[("Kolekcje", f"{base}/collections"), (cdef.title, f"{base}/collections/{cid}"),
                                 ("Obiekty", None)],
                         json_type=FORMATS["geojson"], rows=rows, columns=cols, matched=matched,
                         first=offset + 1 if len(page) else 0, last=offset + len(page),
                         next_url=_items_url(base, cid, query.rest, "html", limit, next_off)
                         if next_off is not None else None,
                         prev_url=_items_url(base, cid, query.rest, "html", limit, prev_off)
                         if prev_off is not None else None)
        feats = layer.features if query.crs.uri == CRS84 else crs_features(served, layer, query.crs)
        head = b'{"type":"FeatureCollection","numberMatched":%d,"numberReturned":%d,"links":%s,"features":[' % (
            matched, len(page), _dumps(links))
        return head + b",".join(take(feats, page)) + b"]"

    body = _cached(served, key, make)
    if fmt == "html":
        return _headers(FORMATS["html"], layer.version, fmt), 200, body
    tail = b',"timeStamp":"' + _now().encode() + b'"}'
    headers = _headers(FORMATS["geojson"], layer.version, "json", **{"Content-Crs": query.crs.content_crs()})
    return headers, 200, [body, tail]


@_guard
def item(served, req: OGCRequest, cid: str, fid: str) -> Response:
    cdef = get_def(cid)
    reject_unknown(req.args, ("f", "crs"))
    fmt = negotiate(req.f(), req.accept, ("json", "html"))
    crs = parse_crs(single(req.args, "crs"))
    layer = layer_data(served, cdef.layer)
    pos = layer.index.get(fid)
    if pos is None:
        raise NotFound(f"brak obiektu {fid[:80]!r} w kolekcji {cid}")
    base = req.base_url
    url = f"{base}/collections/{cid}/items/{quote(fid, safe='')}"

    def make() -> bytes:
        if fmt == "html":
            feature = json.loads(layer.features[pos])
            geom = feature["geometry"]
            if geom is None:
                geometry_text = "brak (podmiot bez współrzędnych)"
            elif geom["type"] == "Point":
                lon, lat = geom["coordinates"]
                geometry_text = f"punkt: {lat:.6f} N, {lon:.6f} E"
            else:
                geometry_text = f"{geom['type']} (zob. GeoJSON)"
            name = feature["properties"].get("name") or fid
            return _page("item.html", req, str(name), f"{url}?f=json",
                         crumbs=[("Kolekcje", f"{base}/collections"), (cdef.title, f"{base}/collections/{cid}"),
                                 ("Obiekty", f"{base}/collections/{cid}/items?f=html"), (str(fid), None)],
                         json_type=FORMATS["geojson"],
                         properties=[(k, v) for k, v in feature["properties"].items() if k not in DEPRECATED_ALIASES],
                         link_keys=("website", "sources"), geometry_text=geometry_text)
        crs_query = "" if crs.uri == CRS84 else "&" + urlencode([("crs", crs.uri)])
        links = [
            _link(f"{url}?f=json{crs_query}", "self", FORMATS["geojson"], "Ten obiekt (GeoJSON)"),
            _link(f"{url}?f=html", "alternate", FORMATS["html"], "Ten obiekt (HTML)"),
            _link(f"{base}/collections/{cid}", "collection", FORMATS["json"], cdef.title),
        ]
        raw = layer.features[pos] if crs.uri == CRS84 else crs_features(served, layer, crs)[pos]
        return raw[:-1] + b',"links":' + _dumps(links) + b"}"

    body = _cached(served, (layer.version, "item", cid, fid, base, fmt, req.site_root, crs.uri), make)
    if fmt == "html":
        return _headers(FORMATS["html"], layer.version, fmt), 200, body
    return _headers(FORMATS["geojson"], layer.version, fmt, **{"Content-Crs": crs.content_crs()}), 200, body


@_guard
def queryables(served, req: OGCRequest, cid: str) -> Response:
    """The collection's queryables as a JSON Schema (Part 3): every property, and the geometry."""
    cdef = get_def(cid)
    fmt = _simple(req)
    version = served.current().version
    url = f"{req.base_url}/collections/{cid}/queryables"

    def make() -> bytes:
        props = props_of(served, cdef)
        if fmt == "html":
            return _page("queryables.html", req, f"{cdef.title}: właściwości do filtrowania", f"{url}?f=json",
                         crumbs=[("Kolekcje", f"{req.base_url}/collections"),
                                 (cdef.title, f"{req.base_url}/collections/{cid}"), ("Właściwości", None)],
                         json_type=SCHEMA_MIME, queryables=props)
        properties = {q.name: dict(q.schema) for q in props}
        properties["geometry"] = {"title": "geometry", "description": "Geometria obiektu (CRS84).",
                                  "format": cdef.geometry_format, "x-ogc-role": "primary-geometry"}
        return _dumps({"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": url, "type": "object",
                       "title": cdef.title, "description": "Właściwości, których można użyć w parametrach "
                       "zapytania (nazwa=wartość) i w filtrze CQL2 (filter, filter-lang=cql2-text).",
                       "properties": properties, "additionalProperties": False})

    body = _cached(served, (version, "queryables", cid, req.base_url, fmt, req.site_root), make)
    mime = FORMATS["html"] if fmt == "html" else SCHEMA_MIME
    return _headers(mime, version, fmt), 200, body


def not_found_response(path: str) -> Response:
    return error_response(NotFound(f"brak zasobu {path[:120]}"))
