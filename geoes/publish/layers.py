"""The published layers, serialised once per dataset version: the engine of the GeoJSON API and the OGC API.

* `layer_data(served, name)` turns one layer of the served dataset into GeoJSON Feature bytes ONCE per
  version (`serialise.features_json`), with an id → position index and the layer's extent; a response is
  then a selection of those bytes, never a new serialisation. The bytes are made as responses first ask
  for them (`Features`: the rows a response takes, in one vectorised call) and kept for the version, so
  one entity's details at a million entities cost that entity, not the layer.
* `matching_positions(served, data, flt)` gives the positions of the features a `filters.Filter`
  selects, cached per version and filter, so paging through a filtered result filters once.
* `map_features(served, data)` is a layer's variant for the public map (`view=map`): the entities with
  only what popups show, the units with their boundaries and what the map shows of them — colours and
  formatted figures (`geoes.publish.unitmap`), so the map page's HTML carries no per-unit data.
* `crs_features(served, data, crs)` the same features with coordinates in another CRS (OGC API Part 2),
  once per version and CRS; `crs` is a `geoes.publish.ogc.crs.CrsDef` (anything with `uri` and
  `project(geoms)`).

The frame of a layer is `serialise.published(...)`: the published names (`powiat_teryt` is the powiat the
site counts an entity in, `powiat_teryt_stated` what the register says), nulls for unknown values, no
geometry for unlocated entities, 6 decimals — so the filters, the downloads and the features all see the
same values.

`served` is the app's `geoes.publish.served.ServedData` (or anything with its `cached` and
`positions`): the caches belong to it, not to this module.
"""
from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Callable

import geopandas as gpd
import numpy as np
import shapely

from geoes.publish import serialise
from geoes.publish.filters import Filter, apply_entities, apply_units
from geoes.publish.unitmap import need_year, unit_map_frame

LAYERS = ("entities", "gminy", "powiaty")
# The stable feature id of each layer (the GeoJSON `id`, the OGC item id).
ID_COLUMNS = {"entities": "id", "gminy": "teryt", "powiaty": "teryt"}

# `view=map`: the properties the public map shows (empty ones left out), without descriptions and
# source lists, so the page has far fewer bytes to download and parse at 100k entities.
MAP_VIEW_COLUMNS = ("id", "name", "types", "status", "operator", "street", "postal_code", "locality",
                    "employees", "website", "gmina_name", "powiat_name", "gmina_teryt", "powiat_teryt")


class Features(Sequence):
    """A layer's GeoJSON Feature bytes in row order, serialised on first use a batch at a time (`take`)
    and kept: indexing, slicing and iterating work as on the list they stand for."""

    def __init__(self, frame, encode: Callable[[object], list[str]]):
        self._frame = frame
        self._encode = encode
        self._bytes = np.empty(len(frame), dtype=object)
        self._done = np.zeros(len(frame), dtype=bool)
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._bytes)

    def take(self, positions) -> list[bytes]:
        """The features at `positions`, those not made yet serialised together first."""
        pos = np.asarray(positions, dtype=np.int64)
        missing = np.unique(pos[~self._done[pos]])
        if len(missing):
            with self._lock:  # one serialisation of a row, however many requests ask for it at once
                missing = missing[~self._done[missing]]
                if len(missing):
                    for at, text in zip(missing.tolist(), self._encode(self._frame.iloc[missing])):
                        self._bytes[at] = text.encode("utf-8")
                    self._done[missing] = True
        return self._bytes[pos].tolist()

    def __getitem__(self, i):
        if isinstance(i, slice):
            return self.take(np.arange(len(self))[i])
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        return self.take([i])[0]

    def __iter__(self):
        return iter(self.take(np.arange(len(self))))


def take(features, positions) -> list[bytes]:
    """The features at `positions` of a Features or a plain list."""
    if isinstance(features, Features):
        return features.take(positions)
    return [features[i] for i in positions]


@dataclass
class LayerData:
    """One layer of one dataset version, serialised once."""
    name: str
    version: str
    frame: gpd.GeoDataFrame
    features: Sequence[bytes]     # Features: made as responses ask for them
    index: dict[str, int]
    extent: list[float]
    count: int


def placed_mask(frame: gpd.GeoDataFrame) -> np.ndarray:
    """True for the rows that have a geometry (entities without coordinates have none)."""
    geoms = frame.geometry.to_numpy()
    return ~(shapely.is_empty(geoms) | shapely.is_missing(geoms))


def _extent(frame: gpd.GeoDataFrame, fallback: gpd.GeoDataFrame) -> list[float]:
    ok = placed_mask(frame)
    if ok.any():
        bounds = shapely.total_bounds(frame.geometry.to_numpy()[ok])
    else:  # nothing placed yet: the region's extent
        bounds = fallback.total_bounds
    return [round(float(v), 6) for v in bounds]


def make_layer_data(dataset, name: str) -> LayerData:
    if name not in LAYERS:
        raise ValueError(f"unknown layer {name!r}; layers: {', '.join(LAYERS)}")
    frame = serialise.published(getattr(dataset, name).reset_index(drop=True))
    features = Features(frame, serialise.features_json)
    ids = frame[ID_COLUMNS[name]].astype(str).tolist()
    return LayerData(name, dataset.version, frame, features, {fid: i for i, fid in enumerate(ids)},
                     _extent(frame, dataset.powiaty), len(frame))


def layer_data(served, name: str) -> LayerData:
    """The layer of the served dataset version, serialised on first use."""
    if name not in LAYERS:
        raise ValueError(f"unknown layer {name!r}; layers: {', '.join(LAYERS)}")
    return served.cached(("layer", name), lambda ds: make_layer_data(ds, name))


def matching_positions(served, data: LayerData, flt: Filter) -> np.ndarray:
    """Positions (into data.features) of the features matching `flt`, cached per version and filter."""
    if flt.is_empty():
        return np.arange(data.count)

    def make() -> np.ndarray:
        frame = data.frame
        sub = apply_entities(frame, flt) if data.name == "entities" else apply_units(frame, flt)
        return sub.index.to_numpy(dtype=np.int64)

    return served.positions.get_or_make((data.version, data.name, flt.key()), make)


def map_features(served, data: LayerData) -> list[bytes]:
    """The layer's features for the public map, in the layer's order (once per version): entities with
    only the map's properties, empty ones left out; units with the map's properties (every one on every
    feature, see geoes.publish.unitmap)."""
    def make(dataset) -> Sequence[bytes]:
        frame = data.frame
        if data.name == "entities":
            slim = frame[[c for c in MAP_VIEW_COLUMNS if c in frame.columns] + [frame.geometry.name]]
            return Features(slim, lambda rows: serialise.features_json(rows, drop_empty=True))
        units = unit_map_frame(data.name, frame, need_year(dataset.summary))
        return [f.encode("utf-8") for f in serialise.features_json(units)]

    return served.cached(("map-view", data.name, data.version), make)


def crs_features(served, data: LayerData, crs) -> list[bytes]:
    """The layer's features with coordinates in `crs` (its axis order and decimals), once per version."""
    def make(_dataset) -> list[bytes]:
        frame = data.frame
        projected = frame.set_geometry(crs.project(frame.geometry.to_numpy()), crs=None)
        return [f.encode("utf-8") for f in serialise.features_json(projected, decimals=crs.decimals)]

    return served.cached(("crs-view", data.name, data.version, crs.uri), make)
