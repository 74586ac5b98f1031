"""The layers of a version's GeoPackage as every reader sees them: codes as text (leading zeros kept),
headcounts and ranks as whole numbers. One reader for the web app and for the build, which stores these
same frames in PostgreSQL (geoes.dataset.pgstore) so both backends serve the same values."""
from __future__ import annotations

from pathlib import Path

import geopandas as gpd

from geoes.common.dictionary import whole_numbers

LAYERS = ("entities", "gminy", "powiaty")
# Identifiers and codes GeoPackage readers may guess as numbers: read back as text, leading zeros kept.
TEXT_CODES = ("id", "krs", "nip", "regon", "operator_krs", "operator_nip", "postal_code")


def read_layers(gpkg: Path) -> dict[str, gpd.GeoDataFrame]:
    layers = {name: gpd.read_file(gpkg, layer=name, engine="pyogrio") for name in LAYERS}
    for frame in layers.values():
        for col in frame.columns:
            if col.endswith("teryt") or col.endswith("teryt_computed") or col in TEXT_CODES:
                frame[col] = frame[col].astype(object).where(frame[col].notna(), "").astype(str)
    layers["entities"]["employees"] = layers["entities"]["employees"].astype("Int64")
    for name in ("gminy", "powiaty"):
        # A layer stores a count or a rank with gaps (a left-out place) as a float: they are whole numbers.
        whole_numbers(layers[name], "units")
    return layers
