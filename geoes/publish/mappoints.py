"""The map's points and clusters as the server gives them: the light payload and `/api/clusters`.

* `points_body(served, flt)` — the light payload (geoes.dataset.mappoints) of the entities a filter
  selects. Unfiltered it is the document the build wrote beside the version (made once per version);
  filtered, it is encoded once per version and filter (the browser asks for it when a filter it cannot
  apply itself — powiat, gmina, name — changes).
* `clusters(served, flt, bbox, zoom)` — what the map shows in a view at a zoom when the register is too
  large for the browser to cluster (above GEOES_MAP_SERVER_CLUSTERS placed entities): clusters of nearby
  entities and single points. Clustering is a grid in the map's own pixels (Web Mercator, 256-pixel
  tiles): at zoom z the points in one CELL_PX × CELL_PX cell form one cluster, drawn at their mean
  position, with their count and extent. The cells are fixed on the map, so a cluster stays the same
  while the view pans. For the low zooms (up to PRECOMPUTED_MAX_ZOOM, where a view holds most of the
  region) the clusters of the whole filtered set are computed once per version, filter and zoom and the
  view takes those whose position lies in it; for the higher zooms the points in view are found in an
  index (points sorted by longitude: a binary search gives the view's slice) and clustered on the spot.
  A cluster is `[lon, lat, count, west, south, east, north]`, a point `[id, lon, lat, type, other types,
  precision, status]` (indexes into the answer's `types`, `precisions`, `statuses`).
  Where few points are in view (FEW_POINTS) they come as they are; points at one place stay one cluster
  (its extent is a point: the map lists them). The answer also counts the entities the filter selects in
  the whole region: `count` with a point, `closed` of them closed, `unplaced` in the register without a
point (the map's status line).

A vectorised grid, not supercluster's greedy radius clustering (the browser's, below the threshold):
a filter is a mask over one set of arrays, with no per-filter index to build, and a million points
cluster in a fraction of a second at any zoom. Why not pysupercluster: it builds a full hierarchy per
point set, i.e. per filter, which at 1M takes seconds each time a reader ticks a checkbox.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass

import numpy as np

from geoes.dataset.mappoints import POINTS_NAME, MapPoints, counted_total, encode, points_table, type_codes
from geoes.register.record import PRECISIONS, STATUSES
from geoes.publish.filters import Filter, apply_entities

CELL_PX = 80                  # grid cell of the clustering, in map pixels (a cluster's icon is 44–56 px)
TILE_PX = 256
PRECOMPUTED_MAX_ZOOM = 12     # zooms up to this one: clusters of the whole set, once per version and filter
FEW_POINTS = 150              # at most this many points in view: single points, no clusters
MAX_ZOOM = 22
MAX_VIEW_PX = 10_000          # a view wider or taller than this many pixels at its zoom is not a map's view


@dataclass
class Grid:
    """Clusters of a set of points at one zoom (arrays, one entry per non-empty cell)."""
    lon: np.ndarray
    lat: np.ndarray
    count: np.ndarray
    west: np.ndarray
    south: np.ndarray
    east: np.ndarray
    north: np.ndarray
    single: np.ndarray        # the point's index where count == 1, else -1

    @property
    def nbytes(self) -> int:  # its size in the served data's LRU
        return sum(a.nbytes for a in (self.lon, self.lat, self.count, self.west, self.south, self.east,
                                      self.north, self.single))


def world_px(lon: np.ndarray, lat: np.ndarray, zoom: int) -> tuple[np.ndarray, np.ndarray]:
    """Web Mercator pixel coordinates at `zoom` (256-pixel tiles), as Leaflet places them."""
    size = TILE_PX * (2 ** zoom)
    x = (lon + 180.0) / 360.0 * size
    s = np.sin(np.radians(np.clip(lat, -85.05112878, 85.05112878)))
    y = (0.5 - np.log((1 + s) / (1 - s)) / (4 * math.pi)) * size
    return x, y


def view_too_large(bbox, zoom: int) -> bool:
    """True when `bbox` at `zoom` spans more than MAX_VIEW_PX pixels: no map shows such a view, and its
    answer (a point per cell) could be the whole register."""
    west, south, east, north = bbox
    x, y = world_px(np.array([west, east]), np.array([north, south]), zoom)
    return bool(x[1] - x[0] > MAX_VIEW_PX or y[1] - y[0] > MAX_VIEW_PX)


def grid(points: MapPoints, index: np.ndarray, zoom: int) -> Grid:
    """The points at `index` clustered by the CELL_PX grid at `zoom`."""
    lon, lat = points.lon[index], points.lat[index]
    if not len(index):
        empty = np.zeros(0)
        return Grid(empty, empty, np.zeros(0, dtype=np.int64), empty, empty, empty, empty, np.zeros(0, dtype=np.int64))
    x, y = world_px(lon, lat, zoom)
    key = (np.floor(x / CELL_PX).astype(np.int64) << 32) + np.floor(y / CELL_PX).astype(np.int64)
    order = np.argsort(key, kind="stable")
    key = key[order]
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    count = np.diff(np.r_[starts, len(key)])
    lon_s, lat_s = lon[order], lat[order]
    single = np.where(count == 1, index[order][starts], -1)
    return Grid(np.add.reduceat(lon_s, starts) / count, np.add.reduceat(lat_s, starts) / count, count,
                np.minimum.reduceat(lon_s, starts), np.minimum.reduceat(lat_s, starts),
                np.maximum.reduceat(lon_s, starts), np.maximum.reduceat(lat_s, starts), single)


class ClusterIndex:
    """The points of one version, with the index the clusters of a view are computed from."""

    def __init__(self, points: MapPoints):
        self.points = points
        self.by_lon = np.argsort(points.lon, kind="stable")
        self.sorted_lon = points.lon[self.by_lon]
        # frame row → point index (-1: unplaced), to turn a filter's frame positions into a point mask
        self.point_of_row = np.full(points.total, -1, dtype=np.int64)
        self.point_of_row[points.row] = np.arange(len(points))

    def mask(self, positions: np.ndarray | None) -> np.ndarray | None:
        """Point mask of frame positions (a filter's selection); None: every point."""
        if positions is None:
            return None
        mask = np.zeros(len(self.points), dtype=bool)
        hit = self.point_of_row[positions]
        mask[hit[hit >= 0]] = True
        return mask

    def in_view(self, bbox, mask: np.ndarray | None) -> np.ndarray:
        """Indexes of the points inside `bbox` (west, south, east, north) that `mask` keeps."""
        west, south, east, north = bbox
        lo = np.searchsorted(self.sorted_lon, west, side="left")
        hi = np.searchsorted(self.sorted_lon, east, side="right")
        index = self.by_lon[lo:hi]
        lat = self.points.lat[index]
        keep = (lat >= south) & (lat <= north)
        if mask is not None:
            keep &= mask[index]
        return np.sort(index[keep])


def _cluster_rows(g: Grid, keep: np.ndarray) -> list[list]:
    return [[round(float(a), 6), round(float(b), 6), int(c), round(float(w), 6), round(float(s), 6),
             round(float(e), 6), round(float(n), 6)]
            for a, b, c, w, s, e, n in zip(g.lon[keep], g.lat[keep], g.count[keep], g.west[keep], g.south[keep],
                                           g.east[keep], g.north[keep])]


def _point_rows(points: MapPoints, index: np.ndarray) -> list[list]:
    return [[str(i), round(float(x), 6), round(float(y), 6), int(t), int(a), int(p), int(st)]
            for i, x, y, t, a, p, st in zip(points.ids[index], points.lon[index], points.lat[index],
                                            points.type[index], points.also[index], points.precision[index],
                                            points.status[index])]


def _few(points: MapPoints, index: np.ndarray) -> tuple[list, list]:
    """Points in view as they are, except those sharing one place: one cluster each (the map lists them)."""
    keys = np.round(points.lon[index], 6) * 1e3 + np.round(points.lat[index], 6)
    _, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
    shared = counts[inverse] > 1
    rows = _point_rows(points, index[~shared])
    if not shared.any():
        return [], rows
    g = grid(points, index[shared], MAX_ZOOM)
    return _cluster_rows(g, np.ones(len(g.count), dtype=bool)), rows


def view_clusters(index: ClusterIndex, bbox, zoom: int, mask: np.ndarray | None, low_grid=None) -> dict:
    """Clusters and single points of a view (see the module docstring). `low_grid(zoom)` gives the
    precomputed grid of the whole (filtered) set for a low zoom."""
    points = index.points
    inside = index.in_view(bbox, mask)
    total = int(len(inside))
    if total <= FEW_POINTS:
        clusters, singles = _few(points, inside)
    else:
        if zoom <= PRECOMPUTED_MAX_ZOOM and low_grid is not None:
            g = low_grid(zoom)
            west, south, east, north = bbox
            keep = (g.lon >= west) & (g.lon <= east) & (g.lat >= south) & (g.lat <= north)
        else:
            g = grid(points, inside, zoom)
            keep = np.ones(len(g.count), dtype=bool)
        is_single = keep & (g.count == 1)
        clusters = _cluster_rows(g, keep & (g.count > 1))
        singles = _point_rows(points, g.single[is_single])
    return {"zoom": zoom, "total": total, "clusters": clusters, "points": singles}


# --- the served version's points, payloads and clusters --------------------------------------------

def cluster_index(served) -> ClusterIndex:
    """The served version's points and their index, made once per version."""
    return served.cached(("map-points-index",), lambda ds: ClusterIndex(points_table(ds.entities)))


def filter_positions(served, flt: Filter) -> np.ndarray | None:
    """Frame positions of the entities `flt` selects (None: no filter), once per version and filter."""
    if flt.is_empty():
        return None
    ds = served.current()
    return served.positions.get_or_make(
        (ds.version, "map-points", flt.key()),
        lambda: ds.entities.index.get_indexer(apply_entities(ds.entities, flt).index).astype(np.int64))


def points_body(served, flt: Filter) -> bytes:
    """The light payload of the entities `flt` selects (module docstring)."""
    ds = served.current()
    if flt.is_empty():
        def whole(dataset) -> bytes:
            written = dataset.path / POINTS_NAME
            if written.is_file():
                body = written.read_bytes()
                if body[:256].find(b'"version":' + json.dumps(dataset.version).encode()) >= 0:
                    return body
            return encode(cluster_index(served).points, dataset.version)  # a version built before the file
        return served.cached(("map-points-body",), whole)
    index = cluster_index(served)
    positions = filter_positions(served, flt)
    mask = index.mask(positions)
    return served.api_bodies.get_or_make(
        (ds.version, "map-points", flt.key()),
        lambda: encode(index.points.take(np.flatnonzero(mask), total=_counted(ds, index, positions)), ds.version))


def _counted(ds, index: ClusterIndex, positions: np.ndarray) -> int:
    """The entities of a selection the map counts (geoes.dataset.mappoints.counted_total)."""
    statuses = ds.entities["status"].to_numpy(dtype=object)[positions]
    return counted_total(statuses, index.point_of_row[positions] >= 0)


def clusters(served, flt: Filter, bbox, zoom: int) -> dict:
    """Clusters and points of a view at a zoom for the entities `flt` selects (module docstring)."""
    ds = served.current()
    index = cluster_index(served)
    mask = index.mask(filter_positions(served, flt))

    def low_grid(z: int) -> Grid:
        def make() -> Grid:
            return grid(index.points, np.arange(len(index.points)) if mask is None else np.flatnonzero(mask), z)
        if mask is None:
            return served.cached(("map-grid", z), lambda _ds: make())
        return served.positions.get_or_make((ds.version, "map-grid", flt.key(), z), make)

    positions = filter_positions(served, flt)
    placed = len(index.points) if mask is None else int(mask.sum())
    counted = index.points.total if positions is None else _counted(ds, index, positions)
    closed = index.points.status == STATUSES.index("inactive")
    return {"version": ds.version, "count": placed, "unplaced": counted - placed,
            "closed": int(closed.sum() if mask is None else (closed & mask).sum()), "types": type_codes(),
            "precisions": list(PRECISIONS), "statuses": list(STATUSES),
            **view_clusters(index, bbox, zoom, mask, low_grid)}
