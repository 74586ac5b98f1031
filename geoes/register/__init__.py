"""The entity register: the record (`record.COLUMNS`) and its reader, identifiers, normalisation, validation,
the import of office registers (mapping → normalise → merge/duplicates → preview; `importer` is its API)
and geocoding. Uses `sources` for the region's units and gazetteer."""
