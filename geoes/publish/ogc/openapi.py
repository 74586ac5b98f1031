"""The OpenAPI 3.0 document of the OGC API: every path, every parameter, defaults and limits."""
from __future__ import annotations

from geoes.common.reference import attribution
from geoes.publish.ogc import cql
from geoes.publish.ogc.crs import CRS84, SUPPORTED
from geoes.publish.ogc.formats import FORMATS, OPENAPI_MIME
from geoes.publish.ogc.collection_defs import COLLECTIONS, CollectionDef, Queryable

OAS_VERSION = "3.0.3"


def _f_param(values: list[str]) -> dict:
    return {"name": "f", "in": "query", "required": False, "style": "form", "explode": False,
            "description": "Format odpowiedzi; bez `f` decyduje nagłówek Accept (przeglądarka dostaje HTML, "
                           "pozostali JSON).",
            "schema": {"type": "string", "enum": values}}


def _errors() -> dict:
    ref = {"$ref": "#/components/responses/Error"}
    return {"400": {"$ref": "#/components/responses/BadRequest"}, "404": {"$ref": "#/components/responses/NotFound"},
            "500": ref}


def _json(schema_ref: str, html: bool = True, mime: str = FORMATS["json"]) -> dict:
    content = {mime: {"schema": {"$ref": f"#/components/schemas/{schema_ref}"}}}
    if html:
        content["text/html"] = {"schema": {"type": "string"}}
    return content


def _crs_param(name: str, description: str) -> dict:
    return {"name": name, "in": "query", "required": False, "style": "form", "explode": False,
            "description": description,
            "schema": {"type": "string", "format": "uri", "enum": list(SUPPORTED), "default": CRS84}}


def _items_path(cdef: CollectionDef, props: tuple[Queryable, ...], page_size: int, max_page_size: int) -> dict:
    params = [
        {"$ref": "#/components/parameters/f-items"},
        {"name": "limit", "in": "query", "required": False, "style": "form", "explode": False,
         "description": f"Najwyżej tyle obiektów w odpowiedzi. Domyślnie {page_size}, największa wartość "
                        f"{max_page_size}; większa liczba jest przycinana do {max_page_size} (nie jest błędem).",
         "schema": {"type": "integer", "minimum": 1, "maximum": max_page_size, "default": page_size}},
        {"$ref": "#/components/parameters/offset"},
        {"$ref": "#/components/parameters/bbox"},
        {"$ref": "#/components/parameters/bbox-crs"},
        {"$ref": "#/components/parameters/datetime"},
        {"$ref": "#/components/parameters/crs"},
        {"$ref": "#/components/parameters/filter"},
        {"$ref": "#/components/parameters/filter-lang"},
        {"$ref": "#/components/parameters/filter-crs"},
    ]
    for q in (*cdef.params, *props):
        schema = {k: v for k, v in q.schema.items() if k not in ("title", "description")}
        p = {"name": q.name, "in": "query", "required": False, "description": q.description,
             "schema": schema, "style": "form"}
        if q.schema.get("type") == "array":
            p["explode"] = True
        else:
            p["explode"] = False
        params.append(p)
    return {"get": {
        "tags": [cdef.id], "operationId": f"get{cdef.id.capitalize()}Features",
        "summary": f"{cdef.title}: obiekty (stronicowane)",
        "description": cdef.description + " Odpowiedź zawiera `numberMatched`, `numberReturned`, `timeStamp` "
                       "i linki `self`, `alternate`, `next`, `prev`.",
        "parameters": params,
        "responses": {
            "200": {"description": "Kolekcja obiektów GeoJSON (RFC 7946, CRS84).",
                    "content": _json("featureCollectionGeoJSON", mime=FORMATS["geojson"])},
            **_errors(),
        },
    }}


def _item_path(cdef: CollectionDef) -> dict:
    return {"get": {
        "tags": [cdef.id], "operationId": f"get{cdef.id.capitalize()}Feature",
        "summary": f"{cdef.title}: jeden obiekt",
        "parameters": [
            {"name": "featureId", "in": "path", "required": True, "description": cdef.id_description,
             "schema": {"type": "string", "maxLength": 200}},
            _f_param(["json", "geojson", "html"]),
            {"$ref": "#/components/parameters/crs"},
        ],
        "responses": {"200": {"description": "Obiekt GeoJSON.", "content": _json("featureGeoJSON",
                                                                                 mime=FORMATS["geojson"])},
                      **_errors()},
    }}


def _queryables_path(cdef: CollectionDef) -> dict:
    return {"get": {
        "tags": [cdef.id], "operationId": f"get{cdef.id.capitalize()}Queryables",
        "summary": f"{cdef.title}: właściwości do filtrowania (JSON Schema)",
        "parameters": [{"$ref": "#/components/parameters/f"}],
        "responses": {"200": {"description": "Właściwości kolekcji jako JSON Schema.", "content": {
            "application/schema+json": {"schema": {"type": "object"}},
            "text/html": {"schema": {"type": "string"}}}}, **_errors()},
    }}


def _collection_path(cdef: CollectionDef) -> dict:
    return {"get": {
        "tags": [cdef.id], "operationId": f"describe{cdef.id.capitalize()}Collection",
        "summary": f"{cdef.title}: opis kolekcji",
        "parameters": [{"$ref": "#/components/parameters/f"}],
        "responses": {"200": {"description": "Opis kolekcji.", "content": _json("collection")}, **_errors()},
    }}


def _schemas() -> dict:
    link = {"type": "object", "required": ["href"], "properties": {
        "href": {"type": "string"}, "rel": {"type": "string"}, "type": {"type": "string"},
        "hreflang": {"type": "string"}, "title": {"type": "string"}, "length": {"type": "integer"}}}
    geometry = {"nullable": True, "type": "object", "required": ["type"],
                "properties": {"type": {"type": "string", "enum": [
                    "Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon",
                    "GeometryCollection"]}}}
    feature = {"type": "object", "required": ["type", "geometry", "properties"], "properties": {
        "type": {"type": "string", "enum": ["Feature"]},
        "geometry": geometry,
        "properties": {"type": "object", "nullable": True},
        "id": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
        "links": {"type": "array", "items": {"$ref": "#/components/schemas/link"}}}}
    return {
        "link": link,
        "exception": {"type": "object", "required": ["code"], "properties": {
            "code": {"type": "string"}, "description": {"type": "string"}}},
        "landingPage": {"type": "object", "required": ["links"], "properties": {
            "title": {"type": "string"}, "description": {"type": "string"},
            "links": {"type": "array", "items": {"$ref": "#/components/schemas/link"}}}},
        "confClasses": {"type": "object", "required": ["conformsTo"], "properties": {
            "conformsTo": {"type": "array", "items": {"type": "string"}}}},
        "extent": {"type": "object", "properties": {"spatial": {"type": "object", "properties": {
            "bbox": {"type": "array", "minItems": 1, "items": {"type": "array", "minItems": 4, "maxItems": 6,
                                                               "items": {"type": "number"}}},
            "crs": {"type": "string", "enum": ["http://www.opengis.net/def/crs/OGC/1.3/CRS84"]}}}}},
        "collection": {"type": "object", "required": ["id", "links"], "properties": {
            "id": {"type": "string"}, "title": {"type": "string"}, "description": {"type": "string"},
            "links": {"type": "array", "items": {"$ref": "#/components/schemas/link"}},
            "extent": {"$ref": "#/components/schemas/extent"},
            "itemType": {"type": "string", "default": "feature"},
            "crs": {"type": "array", "items": {"type": "string"}}}},
        "collections": {"type": "object", "required": ["links", "collections"], "properties": {
            "links": {"type": "array", "items": {"$ref": "#/components/schemas/link"}},
            "collections": {"type": "array", "items": {"$ref": "#/components/schemas/collection"}}}},
        "featureGeoJSON": feature,
        "featureCollectionGeoJSON": {"type": "object", "required": ["type", "features"], "properties": {
            "type": {"type": "string", "enum": ["FeatureCollection"]},
            "features": {"type": "array", "items": {"$ref": "#/components/schemas/featureGeoJSON"}},
            "links": {"type": "array", "items": {"$ref": "#/components/schemas/link"}},
            "timeStamp": {"type": "string", "format": "date-time"},
            "numberMatched": {"type": "integer", "minimum": 0},
            "numberReturned": {"type": "integer", "minimum": 0}}},
    }


def _shared_parameters() -> dict:
    """The parameters the paths refer to (`#/components/parameters/...`)."""
    return {
        "f": _f_param(["json", "html"]),
        "f-items": _f_param(["json", "geojson", "html"]),
        "offset": {"name": "offset", "in": "query", "required": False, "style": "form", "explode": False,
                   "description": "Ile pierwszych pasujących obiektów pominąć (stronicowanie; link `next` "
                                  "podaje kolejną wartość).",
                   "schema": {"type": "integer", "minimum": 0, "maximum": 1_000_000_000, "default": 0}},
        "bbox": {"name": "bbox", "in": "query", "required": False, "style": "form", "explode": False,
                 "description": "Prostokąt minLon,minLat,maxLon,maxLat w CRS84 (WGS84, długość przed "
                                "szerokością); obiekty, których geometria go przecina. Sześć liczb "
                                "(z wysokościami) też jest przyjmowane, wysokości są pomijane.",
                 "schema": {"type": "array", "minItems": 4, "maxItems": 6,
                            "items": {"type": "number"}}},
        "bbox-crs": _crs_param("bbox-crs", "Układ współrzędnych `bbox` (domyślnie CRS84); liczby w "
                               "kolejności osi układu: EPSG:4326 minLat,minLon,maxLat,maxLon; EPSG:2180 "
                               "minNorthing,minEasting,maxNorthing,maxEasting (metry)."),
        "crs": _crs_param("crs", "Układ współrzędnych geometrii w odpowiedzi (domyślnie CRS84), w kolejności "
                          "osi układu: EPSG:4326 szerokość, długość; EPSG:2180 northing, easting w metrach. "
                          "Nagłówek Content-Crs podaje układ odpowiedzi."),
        "filter-crs": _crs_param("filter-crs", "Układ współrzędnych geometrii w `filter` (domyślnie "
                                 "CRS84), w kolejności jego osi."),
        "filter": {"name": "filter", "in": "query", "required": False, "style": "form", "explode": False,
                   "description": "Filtr CQL2 (tekst) na właściwościach z /queryables i geometrii: porównania, "
                                  "AND, OR, NOT, LIKE, IN, BETWEEN, IS NULL, CASEI, ACCENTI, S_INTERSECTS i "
                                  "inne S_ (z BBOX(...) lub geometrią WKT), np. "
                                  "`powiat_teryt = '2602' AND employees > 10`.",
                   "schema": {"type": "string", "maxLength": cql.MAX_LENGTH}},
        "filter-lang": {"name": "filter-lang", "in": "query", "required": False, "style": "form",
                        "explode": False, "description": "Język filtra: cql2-text (jedyny i domyślny).",
                        "schema": {"type": "string", "enum": list(cql.LANGS), "default": "cql2-text"}},
        "datetime": {"name": "datetime", "in": "query", "required": False, "style": "form",
                     "explode": False,
                     "description": "Chwila lub przedział RFC 3339 (np. 2024-01-01T00:00:00Z/..). "
                                    "Warstwy nie mają właściwości czasowych: wartość jest sprawdzana, "
                                    "ale nie zawęża wyniku.",
                     "schema": {"type": "string"}},
    }


def document(base_url: str, page_size: int = 100, max_page_size: int = 10_000, title: str = "",
             version: str = "", props: dict[str, tuple[Queryable, ...]] | None = None) -> dict:
    """The OpenAPI document; `props` are each collection's property queryables (by collection id)."""
    a = attribution()
    paths: dict = {
        "/": {"get": {"tags": ["Capabilities"], "operationId": "getLandingPage", "summary": "Strona startowa",
                      "parameters": [{"$ref": "#/components/parameters/f"}],
                      "responses": {"200": {"description": "Linki do API, zgodności i danych.",
                                            "content": _json("landingPage")}, **_errors()}}},
        "/conformance": {"get": {"tags": ["Capabilities"], "operationId": "getConformanceDeclaration",
                                 "summary": "Klasy zgodności, które API spełnia",
                                 "parameters": [{"$ref": "#/components/parameters/f"}],
                                 "responses": {"200": {"description": "Lista klas zgodności.",
                                                       "content": _json("confClasses")}, **_errors()}}},
        "/api": {"get": {"tags": ["Capabilities"], "operationId": "getAPIDefinition",
                         "summary": "Ten dokument (OpenAPI 3.0); `f=html` daje wersję do czytania",
                         "parameters": [{"$ref": "#/components/parameters/f"}],
                         "responses": {"200": {"description": "Definicja API.", "content": {
                             OPENAPI_MIME: {"schema": {"type": "object"}},
                             "text/html": {"schema": {"type": "string"}}}}, **_errors()}}},
        "/collections": {"get": {"tags": ["Capabilities"], "operationId": "getCollections",
                                 "summary": "Lista kolekcji",
                                 "parameters": [{"$ref": "#/components/parameters/f"}],
                                 "responses": {"200": {"description": "Kolekcje.", "content": _json("collections")},
                                               **_errors()}}},
    }
    for cdef in COLLECTIONS.values():
        base = f"/collections/{cdef.id}"
        paths[base] = _collection_path(cdef)
        paths[f"{base}/queryables"] = _queryables_path(cdef)
        paths[f"{base}/items"] = _items_path(cdef, (props or {}).get(cdef.id, ()), page_size, max_page_size)
        paths[f"{base}/items/{{featureId}}"] = _item_path(cdef)
    return {
        "openapi": OAS_VERSION,
        "info": {
            "title": title or "geoes – OGC API – Features",
            "version": "1.0.0",
            "description": "Podmioty ekonomii społecznej oraz gminy i powiaty ze wskaźnikami (OGC API – Features, "
                           "część 1: Core, część 2: układy współrzędnych CRS84, EPSG:4326 i EPSG:2180, część 3: "
                           f"filtry CQL2). Dane: wersja {version}. {a['data']}. {a['entities']}.",
            "x-dataset-version": version,
        },
        "servers": [{"url": base_url, "description": "Ten serwer"}],
        "tags": [{"name": "Capabilities"}, *({"name": c.id, "description": c.title} for c in COLLECTIONS.values())],
        "paths": paths,
        "components": {
            "parameters": _shared_parameters(),
            "schemas": _schemas(),
            "responses": {
                "BadRequest": {"description": "Zły parametr zapytania (JSON z polami code i description).",
                               "content": {"application/json": {"schema": {"$ref": "#/components/schemas/exception"}}}},
                "NotFound": {"description": "Nie ma takiej kolekcji lub obiektu.",
                             "content": {"application/json": {"schema": {"$ref": "#/components/schemas/exception"}}}},
                "Error": {"description": "Błąd serwera.",
                          "content": {"application/json": {"schema": {"$ref": "#/components/schemas/exception"}}}},
            },
        },
    }


def resolved_parameters(doc: dict, op: dict) -> list[dict]:
    """Parameters of an operation with `$ref`s resolved (for the HTML service-doc)."""
    out = []
    for p in op.get("parameters", []):
        if "$ref" in p:
            p = doc["components"]["parameters"][p["$ref"].rsplit("/", 1)[-1]]
        out.append(p)
    return out
