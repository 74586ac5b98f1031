"""The entity register (PRODUCT.md §3): the record and its reader, identifiers, normalisation, validation,
the import of office registers (mapping → normalise → merge/duplicates → preview; `importer` is its API)
and geocoding. Uses `sources` for the region's units and gazetteer."""
