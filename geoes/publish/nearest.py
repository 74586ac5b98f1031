"""The entities nearest to a point, for `W pobliżu` on the map (/api/nearest).

Distances are great-circle distances on a sphere of the Earth's mean radius (pyproj's geodesic solver on a
sphere, vectorised over the frame), from the given point to each entity's point on the map; the bearing
is the initial course from the point towards the entity. Entities without a point (known only to their
powiat, or not placed) are left out — they have no distance. Nearest first; entities at the same distance
(several placed at one locality's point) in Polish alphabetical order.

The numbers are the machine's (`distance_km`, `bearing`); the words are the server's, as everywhere a
figure is shown (geoes.common.polish): `distance` "2,4 km", `direction` "na północny zachód".
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from pyproj import Geod

from geoes.common.polish import count, direction, distance_text
from geoes.common.text import polish_key
from geoes.common.values import plain_record
from geoes.publish.filters import Filter, apply_entities
from geoes.publish.labels import types_label
from geoes.publish.layers import placed_mask
from geoes.register.record import TYPES_SEPARATOR

EARTH_RADIUS_M = 6_371_008.8  # the mean radius (IUGG)
SPHERE = Geod(a=EARTH_RADIUS_M, b=EARTH_RADIUS_M)
NO_DIRECTION_KM = 0.05  # closer than this, "na północ" would be noise
# Points of these precisions stand for a place, not the entity's door: the list says so.
APPROXIMATE = {"locality": "punkt miejscowości", "gmina": "punkt w gminie"}
METHOD = ("Odległość w linii prostej (po kole wielkim, na kuli o promieniu Ziemi) od wskazanego miejsca do "
          "punktu podmiotu na mapie. Podmioty bez punktu na mapie (znane tylko z dokładnością do powiatu) "
          "nie są uwzględnione.")


def great_circle(lat: float, lon: float, lats, lons) -> tuple[np.ndarray, np.ndarray]:
    """Distances (km) and initial bearings (degrees, 0–360, clockwise from north) from one point to many."""
    lats, lons = np.asarray(lats, dtype=float), np.asarray(lons, dtype=float)
    az, _back, metres = SPHERE.inv(np.full(lats.shape, lon), np.full(lats.shape, lat), lons, lats)
    return np.asarray(metres) / 1000.0, np.mod(np.asarray(az), 360.0)


def _closest_positions(km: np.ndarray, keys, limit: int) -> list[int]:
    """Positions of the `limit` nearest (ties at the cut kept for the order), nearest first, ties by name."""
    if len(km) > limit:
        cut = np.partition(km, limit - 1)[limit - 1]
        candidates = np.flatnonzero(km <= cut + 1e-6)
    else:
        candidates = np.arange(len(km))
    ordered = sorted(candidates, key=lambda i: (round(float(km[i]), 4), keys(i)))
    return [int(i) for i in ordered[:limit]]


def _item(rec: dict, km: float, bearing: float, page_url: str) -> dict:
    codes = [c for c in str(rec.get("types") or "").split(TYPES_SEPARATOR) if c]
    precision = rec.get("location_precision") or ""
    close = km < NO_DIRECTION_KM
    return {
        "id": rec["id"], "name": rec["name"], "types": codes, "type_label": types_label(rec.get("types")),
        "locality": rec.get("locality") or None,
        "lat": round(float(rec["lat_"]), 6), "lon": round(float(rec["lon_"]), 6),
        "distance_km": round(km, 3), "distance": distance_text(km),
        "bearing": None if close else round(bearing), "direction": None if close else direction(bearing),
        "precision": precision, "approximate": APPROXIMATE.get(precision),
        "url": page_url.replace("__ID__", str(rec["id"])),
    }


def nearest(entities: pd.DataFrame, f: Filter, lat: float, lon: float, limit: int, page_url: str) -> dict:
    """The `limit` entities nearest to (lat, lon) among those `f` selects, with how many it selects."""
    selected = apply_entities(entities, f)
    placed = selected[placed_mask(selected)]
    geoms = placed.geometry
    km, bearing = great_circle(lat, lon, geoms.y.to_numpy(), geoms.x.to_numpy())
    names = placed["name"].astype(str).to_numpy()
    positions = _closest_positions(km, lambda i: polish_key(names[i]), limit)
    rows = placed.iloc[positions].drop(columns=placed.geometry.name).assign(
        lat_=geoms.y.to_numpy()[positions], lon_=geoms.x.to_numpy()[positions])
    items = [_item(plain_record(rec), float(km[i]), float(bearing[i]), page_url)
             for rec, i in zip(rows.to_dict("records"), positions)]
    return {"origin": {"lat": lat, "lon": lon}, "method": METHOD, "matched": int(len(placed)),
            "unplaced": int(len(selected) - len(placed)), "count": len(items),
            "count_text": count(len(items), "podmiot"), "items": items}
