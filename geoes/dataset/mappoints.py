"""The map's light payload: every placed entity as one compact, columnar JSON document, once per version.

The public map does not download the entity layer (100k features of GeoJSON are megabytes to fetch and
parse): it gets each placed entity as five small values — id, lon, lat, type code, precision — and
fetches an entity's details (popup, tooltip) from the API when they are needed. The document
(`encode`, FORMAT 1) is columnar, so gzip and brotli find the repetitions:

    {"format": 1, "version": "<dataset version>", "scale": 100000, "count": N, "unplaced": U, "closed": C,
     "types": ["spoldzielnia_socjalna", …],        type codes; "type" values index this list
     "precisions": ["address", "street", …],        "precision" values index this list
     "id":   ["swk-001", …],
     "lon":  [2063140, -120, …],  "lat": [5087170, 35, …],
             coordinates × `scale` (1e-5°, about a metre), each the difference from the previous point
             (the first from 0): the points go in Z-order (a space-filling curve), so neighbours are
             close and the differences short — the browser adds them up (a running sum)
     "type": [3, 0, …],          the entity's first type (its icon)
     "also": [0, 16, …],         bit mask of its other types (bit i = types[i]); the type filter uses both
     "precision": [0, 2, …],
     "status": [0, 2, …]}        index into "statuses" (an inactive entity's marker is drawn faded)

`count` is the placed entities (closed ones too: their markers are drawn faded), `closed` how many of them
are closed, `unplaced` the entities in the register (not closed) without a point — so the status line says
"na mapie: N − C z N − C + U w rejestrze" with the pages' definition of "w rejestrze".

`points_table(entities)` gives the same points as numpy arrays (`MapPoints`, in the same Z-order, with
each point's row in the entities frame) for the server's clusters and filtered payloads
(geoes.publish.mappoints). The build writes the whole document beside the version's other files
(`POINTS_NAME`), so it is made once per version, not once per server process.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely

from geoes.common.reference import entity_types
from geoes.register.record import PRECISIONS, STATUSES, TYPES_SEPARATOR

FORMAT = 1
SCALE = 100_000
POINTS_NAME = "map_points.json"


@dataclass
class MapPoints:
    """The placed entities of a version as arrays, in Z-order; `row` is each point's row in the frame."""
    ids: np.ndarray          # object (str)
    lon: np.ndarray          # float64, degrees (rounded to 1 / SCALE)
    lat: np.ndarray
    type: np.ndarray         # int16: index into `type_codes`
    also: np.ndarray         # int64: bit mask of the other types
    precision: np.ndarray    # int16: index into PRECISIONS
    status: np.ndarray       # int16: index into STATUSES
    row: np.ndarray          # int64: the row in the entities frame
    total: int               # entities the map counts: placed, or in the register without a point

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def unplaced(self) -> int:
        """Entities in the register (not closed) without a point."""
        return self.total - len(self.ids)

    @property
    def closed(self) -> int:
        """Placed entities that are closed (drawn faded, outside "w rejestrze")."""
        return int((self.status == STATUSES.index("inactive")).sum())

    def take(self, index: np.ndarray, total: int | None = None) -> "MapPoints":
        """The points at `index` (positions into these arrays), in their order; `total`: the entities of
        the selection they come from, placed or not (default: this set's)."""
        return MapPoints(self.ids[index], self.lon[index], self.lat[index], self.type[index], self.also[index],
                         self.precision[index], self.status[index], self.row[index],
                         self.total if total is None else total)


def type_codes() -> list[str]:
    return list(entity_types())


def _type_columns(types: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(first type's index, mask of the other types) per entity, once per distinct `types` value."""
    codes = {c: i for i, c in enumerate(type_codes())}
    values, uniques = pd.factorize(types.fillna("").astype(str), use_na_sentinel=False)
    first = np.zeros(len(uniques), dtype=np.int16)
    also = np.zeros(len(uniques), dtype=np.int64)
    for k, value in enumerate(uniques):
        known = [codes[t.strip()] for t in str(value).split(TYPES_SEPARATOR) if t.strip() in codes]
        first[k] = known[0] if known else codes.get("inne", 0)
        for i in known[1:]:
            also[k] |= 1 << i
    return first[values], also[values]


def _z_order(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """The permutation that puts the points along a Z-order (Morton) curve."""
    if not len(lon):
        return np.arange(0)
    x = np.clip(((lon + 180.0) / 360.0 * (1 << 24)).astype(np.uint64), 0, (1 << 24) - 1)
    y = np.clip(((lat + 90.0) / 180.0 * (1 << 24)).astype(np.uint64), 0, (1 << 24) - 1)

    def spread(v: np.ndarray) -> np.ndarray:
        v = (v | (v << np.uint64(16))) & np.uint64(0x0000FFFF0000FFFF)
        v = (v | (v << np.uint64(8))) & np.uint64(0x00FF00FF00FF00FF)
        v = (v | (v << np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
        v = (v | (v << np.uint64(2))) & np.uint64(0x3333333333333333)
        return (v | (v << np.uint64(1))) & np.uint64(0x5555555555555555)

    return np.argsort(spread(x) | (spread(y) << np.uint64(1)), kind="stable")


def points_table(entities) -> MapPoints:
    """The placed entities of a frame (`id`, `types`, `location_precision`, point geometry) as MapPoints."""
    geoms = entities.geometry.to_numpy()
    placed = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if "placed" in entities.columns:  # the build's own flag (an unplaced entity may hold POINT (NaN NaN))
        placed &= entities["placed"].to_numpy(dtype=bool)
    rows = np.flatnonzero(placed)
    lon = np.round(shapely.get_x(geoms[rows]) * SCALE) / SCALE
    lat = np.round(shapely.get_y(geoms[rows]) * SCALE) / SCALE
    order = _z_order(lon, lat)
    rows, lon, lat = rows[order], lon[order], lat[order]
    first, also = _type_columns(entities["types"].iloc[rows])
    precision_index = {p: i for i, p in enumerate(PRECISIONS)}
    precision = (entities["location_precision"].iloc[rows].fillna("").astype(str)
                 .map(precision_index).fillna(precision_index["none"]).to_numpy(dtype=np.int16))
    status_index = {st: i for i, st in enumerate(STATUSES)}
    status = (entities["status"].iloc[rows].fillna("").astype(str)
              .map(status_index).fillna(status_index["unknown"]).to_numpy(dtype=np.int16))
    ids = entities["id"].iloc[rows].astype(str).to_numpy(dtype=object)
    return MapPoints(ids, lon, lat, first, also, precision, status, rows.astype(np.int64),
                     counted_total(entities["status"].to_numpy(dtype=object), placed))


def counted_total(statuses: np.ndarray, placed: np.ndarray) -> int:
    """The entities the map counts: every placed one, and those without a point that are in the register
    (a closed entity without a point is on no map and outside "w rejestrze")."""
    return int(placed.sum() + ((statuses != "inactive") & ~placed).sum())


def _deltas(values: np.ndarray) -> list[int]:
    scaled = np.round(values * SCALE).astype(np.int64)
    return np.diff(scaled, prepend=np.int64(0)).tolist()


def encode(points: MapPoints, version: str) -> bytes:
    """The payload document (module docstring) of `points`."""
    doc = {"format": FORMAT, "version": version, "scale": SCALE, "count": len(points),
           "unplaced": points.unplaced, "closed": points.closed, "types": type_codes(), "precisions": list(PRECISIONS),
           "id": points.ids.tolist(), "lon": _deltas(points.lon), "lat": _deltas(points.lat),
           "type": points.type.tolist(), "also": points.also.tolist(), "precision": points.precision.tolist(),
           "statuses": list(STATUSES), "status": points.status.tolist()}
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def decode(body: bytes) -> dict:
    """The payload back as plain lists with absolute coordinates (what the browser makes of it; tests)."""
    doc = json.loads(body)
    scale = doc["scale"]
    doc["lon"] = (np.cumsum(doc["lon"]) / scale).tolist() if doc["lon"] else []
    doc["lat"] = (np.cumsum(doc["lat"]) / scale).tolist() if doc["lat"] else []
    return doc
