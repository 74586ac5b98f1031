"""OGC API – Features Part 2 (Coordinate Reference Systems by Reference): the CRSs the API serves.

The layers are stored and served by default in CRS84 (WGS84 longitude, latitude). On request
(`crs=`) features come in EPSG:4326 or EPSG:2180 (PUWG 1992, the national grid Polish GIS users work in),
and a `bbox` (or a CQL2 geometry) may be given in any of them (`bbox-crs=`, `filter-crs=`).

Coordinates are in each CRS's own axis order, as Part 2 requires:
* CRS84 — longitude, latitude (degrees, 6 decimals);
* EPSG:4326 — latitude, longitude (degrees, 6 decimals);
* EPSG:2180 — northing (x), easting (y) in metres, 2 decimals (1 cm): EPSG defines PUWG 1992's first
  axis as northing, so a point in Kielce is about (335 100, 614 750), not (614 750, 335 100).

The transformations are pyproj's (PROJ), vectorised over all coordinates of a layer at once.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import shapely
from pyproj import Transformer

from geoes.publish.filters import ParamError

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG_4326 = "http://www.opengis.net/def/crs/EPSG/0/4326"
EPSG_2180 = "http://www.opengis.net/def/crs/EPSG/0/2180"
DENSIFY_METRES = 1000.0  # a bbox edge in EPSG:2180 is followed to 1 km when it is turned into CRS84


@dataclass(frozen=True)
class CrsDef:
    uri: str
    code: str  # what pyproj takes
    title: str
    northing_first: bool  # the CRS's first axis is latitude / northing
    decimals: int
    geographic: bool

    def project(self, geoms: np.ndarray) -> np.ndarray:
        """CRS84 geometries → this CRS, in its axis order, rounded to its decimals."""
        if self.uri == CRS84:
            return shapely.transform(geoms, lambda xy: np.round(xy, self.decimals))
        forward = _transformer("OGC:CRS84", self.code)

        def fn(xy: np.ndarray) -> np.ndarray:
            x, y = forward.transform(xy[:, 0], xy[:, 1])
            out = np.column_stack([y, x] if self.northing_first else [x, y])
            return np.round(out, self.decimals)

        return shapely.transform(geoms, fn)

    def to_crs84(self, geom):
        """A geometry given in this CRS (its axis order) → CRS84 lon/lat."""
        if self.uri == CRS84:
            return geom
        if self.northing_first:
            geom = shapely.transform(geom, lambda xy: xy[:, ::-1])
        if not self.geographic:
            geom = shapely.segmentize(geom, DENSIFY_METRES)
        back = _transformer(self.code, "OGC:CRS84")
        return shapely.transform(geom, lambda xy: np.column_stack(back.transform(xy[:, 0], xy[:, 1])))

    def content_crs(self) -> str:
        return f"<{self.uri}>"


SUPPORTED: dict[str, CrsDef] = {
    CRS84: CrsDef(CRS84, "OGC:CRS84", "WGS84 długość/szerokość (CRS84)", False, 6, True),
    EPSG_4326: CrsDef(EPSG_4326, "EPSG:4326", "WGS84 szerokość/długość (EPSG:4326)", True, 6, True),
    EPSG_2180: CrsDef(EPSG_2180, "EPSG:2180", "PUWG 1992 (EPSG:2180), metry: northing, easting", True, 2, False),
}
STORAGE_CRS = CRS84

# Other spellings clients use for the same CRSs: safe CURIEs, URNs, short codes.
_ALIASES = {
    "ogc:crs84": CRS84, "[ogc:crs84]": CRS84, "crs84": CRS84, "urn:ogc:def:crs:ogc:1.3:crs84": CRS84,
    "epsg:4326": EPSG_4326, "[epsg:4326]": EPSG_4326, "urn:ogc:def:crs:epsg::4326": EPSG_4326,
    "epsg:2180": EPSG_2180, "[epsg:2180]": EPSG_2180, "urn:ogc:def:crs:epsg::2180": EPSG_2180,
}


@lru_cache(maxsize=None)
def _transformer(source: str, target: str) -> Transformer:
    return Transformer.from_crs(source, target, always_xy=True)


def parse_crs(value: str | None, param: str = "crs") -> CrsDef:
    """The CrsDef of a `crs`/`bbox-crs`/`filter-crs` value (CRS84 when absent); 400 for any other CRS."""
    if value is None:
        return SUPPORTED[CRS84]
    text = value.strip()
    uri = "http://" + text[len("https://"):] if text.startswith("https://") else text
    if uri not in SUPPORTED:
        uri = _ALIASES.get(text.lower())
    if uri is None:
        raise ParamError(param, f"nieobsługiwany układ współrzędnych {value[:80]!r}; dostępne: "
                                + ", ".join(SUPPORTED))
    return SUPPORTED[uri]


def parse_bbox(text: str, crs: CrsDef, param: str = "bbox"):
    """A `bbox` in `crs` (its axis order; 4 numbers, or 6 with heights that are ignored) as a CRS84 polygon.

    In CRS84 this is the plain box; in EPSG:4326 the numbers are minLat,minLon,maxLat,maxLon; in
    EPSG:2180 minNorthing,minEasting,maxNorthing,maxEasting, and the box's edges (straight in PUWG 1992)
    are followed to 1 km when they are carried into CRS84."""
    parts = text.split(",")
    if len(parts) == 6:
        parts = [parts[0], parts[1], parts[3], parts[4]]
    try:
        a1, b1, a2, b2 = (float(p) for p in parts)
    except ValueError:
        raise ParamError(param, "oczekiwano czterech liczb (dolny lewy i górny prawy narożnik w osiach "
                                "układu bbox-crs)") from None
    if not all(math.isfinite(v) for v in (a1, b1, a2, b2)):
        raise ParamError(param, "współrzędne muszą być skończonymi liczbami")
    if a1 > a2 or b1 > b2:
        raise ParamError(param, "zła kolejność: najpierw mniejsze wartości obu osi, potem większe")
    if crs.geographic:
        lats = (a1, a2) if crs.northing_first else (b1, b2)
        lons = (b1, b2) if crs.northing_first else (a1, a2)
        if not (all(-90 <= v <= 90 for v in lats) and all(-180 <= v <= 180 for v in lons)):
            raise ParamError(param, "szerokość w zakresie -90..90, długość -180..180 (WGS84)")
    return crs.to_crs84(shapely.box(a1, b1, a2, b2))  # corners in the CRS's own axis order
