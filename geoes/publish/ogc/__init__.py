"""OGC API – Features (Part 1: Core) over the built dataset, independent of the web framework.

`core` has one function per resource — landing, conformance, api_document, collections, collection,
items, item — each taking a `DatasetStore` and an `OGCRequest` and returning (headers, status, content);
`geoes.web.ogc_flask` is the thin Flask adapter. `formats.FORMATS` is the one map of format names to
MIME types; `layers` defines the collections and their queryable properties; `openapi` the OpenAPI 3.0
document; `html` the HTML views (templates in geoes/web/templates/ogc, autoescaped).
"""
from geoes.publish.ogc.core import (CONFORMANCE, OGCRequest, api_document, collection, collections, conformance, item, items,
                   landing, not_found_response)
from geoes.publish.ogc.formats import FORMATS

__all__ = ["CONFORMANCE", "FORMATS", "OGCRequest", "api_document", "collection", "collections", "conformance",
           "item", "items", "landing", "not_found_response"]
