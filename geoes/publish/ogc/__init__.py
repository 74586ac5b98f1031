"""OGC API – Features (Part 1: Core, Part 2: CRS by reference, Part 3: queryables and CQL2 text filters)
over the built dataset, independent of the web framework.

`core` has one function per resource — landing, conformance, api_document, collections, collection,
queryables, items, item — each taking the app's served data (`geoes.publish.served`) and an `OGCRequest` and
returning (headers, status, content); `geoes.web.ogc_flask` is the thin Flask adapter.
`formats.FORMATS` is the one map of format names to MIME types; `collection_defs` describes the
collections and their queryable properties (the data behind them is `geoes.publish.layers`, shared with
the GeoJSON API); `crs` the coordinate reference systems (Part 2); `cql` the CQL2 text filters (Part 3);
`openapi` the OpenAPI 3.0 document; `html` the HTML views (templates in geoes/publish/ogc/templates,
autoescaped).
"""
from geoes.publish.ogc.core import (CONFORMANCE, OGCRequest, api_document, collection, collections, conformance,
                                    item, items, landing, not_found_response, queryables)
from geoes.publish.ogc.formats import FORMATS

__all__ = ["CONFORMANCE", "FORMATS", "OGCRequest", "api_document", "collection", "collections", "conformance",
           "item", "items", "landing", "not_found_response", "queryables"]
