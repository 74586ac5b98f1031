"""Query parameters and filters: the one way the pages, the GeoJSON API, the OGC API and the downloads
read a request's arguments.

Parsing is strict: a bad value raises `ParamError` (an `InvalidInput`, HTTP 400) with a Polish message
naming the parameter; the web layer turns it into a 400 in one place. `args` is a multi-dict (werkzeug's
`request.args`) or a plain dict. The readers:

* `values(args, name)` every value of a parameter (bounded count and length, no control characters);
  `single(args, name)` its one value (the same value repeated is allowed, different ones are not);
* `reject_unknown(args, allowed)` refuses any parameter not in `allowed` (so a typo such as
  `powait=2602` does not silently return everything);
* `choice` (one of a list), `choices` (several), `parse_int`, `parse_float`, `parse_bbox`, `parse_types`, `parse_teryt`,
  `parse_teryts` (2–4 codes of one level), `parse_datetime`, and `parse_filter` for the shared filter
  parameters `type`, `powiat`, `gmina`, `q`, `bbox`.

Filtering (`apply_entities`, `apply_units`) is vectorised over the frame. `powiat`/`gmina` select the
units the site counts an entity in (its point's, or the stated powiat of an entity known only to the
powiat): `*_teryt_computed`, the one name with that meaning both in the dataset's frames and in the
published ones (where `powiat_teryt` means it too, geoes.publish.serialise); property filters
(`Filter.properties`, the OGC API's queryable parameters) match the property of the given name exactly,
a missing value never.
"""
from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from datetime import datetime

from geoes.common.reference import entity_types
from geoes.errors import InvalidInput
from geoes.register.record import TYPES_SEPARATOR

MAX_PARAM_LENGTH = 200
MAX_REPEAT = 20
TERYT_FORMAT = {4: "kod TERYT powiatu ma 4 cyfry", 7: "kod TERYT gminy ma 7 cyfr"}


class ParamError(InvalidInput, ValueError):
    def __init__(self, param: str, message: str):
        super().__init__(f"{param}: {message}")
        self.param = param
        self.message = message


@dataclass(frozen=True)
class Filter:
    """What a request selects. `powiat`/`gmina` are the place an entity's point lies in (the computed
    `powiat_teryt_computed`/`gmina_teryt_computed`, as the API's `powiat`/`gmina` parameters always
    meant); `properties` are (property, value) pairs matched exactly on the property of that name;
    `area` a CRS84 polygon (WKT) from a bbox given in another CRS; `expression` a parsed CQL2 filter
    (anything with `mask(frame)` and `key()`, geoes.publish.ogc.cql)."""
    types: tuple[str, ...] = ()
    powiat: str | None = None
    gmina: str | None = None
    q: str | None = None
    bbox: tuple[float, float, float, float] | None = None
    properties: tuple[tuple[str, object], ...] = field(default=())
    area: str | None = None
    expression: object | None = None

    def key(self) -> tuple:
        return (self.types, self.powiat, self.gmina, self.q, self.bbox, self.properties, self.area,
                self.expression.key() if self.expression is not None else None)

    def is_empty(self) -> bool:
        return not (self.types or self.powiat or self.gmina or self.q or self.bbox or self.properties
                    or self.area or self.expression is not None)


def values(args, name: str) -> list[str]:
    given = args.getlist(name) if hasattr(args, "getlist") else ([args[name]] if name in args else [])
    if len(given) > MAX_REPEAT:
        raise ParamError(name, f"parametr powtórzono za wiele razy (najwyżej {MAX_REPEAT})")
    out = []
    for v in given:
        if len(v) > MAX_PARAM_LENGTH:
            raise ParamError(name, f"wartość jest za długa (najwyżej {MAX_PARAM_LENGTH} znaków)")
        if "\ufffd" in v or any(unicodedata.category(ch) == "Cc" for ch in v):
            raise ParamError(name, "wartość zawiera niedozwolone znaki")
        out.append(v.strip())
    return out


def single(args, name: str) -> str | None:
    given = [v for v in values(args, name) if v != ""]
    if len(given) > 1 and len(set(given)) > 1:
        raise ParamError(name, "parametr podano kilka razy z różnymi wartościami")
    return given[0] if given else None


def arg_names(args) -> list[str]:
    return list(args.keys()) if hasattr(args, "keys") else list(args)


def reject_unknown(args, allowed) -> None:
    """ParamError for the first parameter not in `allowed`."""
    for name in arg_names(args):
        if name not in allowed:
            hint = f"dozwolone: {', '.join(allowed)}" if allowed else "ten adres nie przyjmuje parametrów"
            raise ParamError(name[:40], f"nieznany parametr; {hint}")


def choice(args, name: str, allowed, default=None):
    """One of `allowed` (case-insensitive), or `default` when the parameter is absent."""
    value = single(args, name)
    if value is None:
        return default
    value = value.lower()
    if value not in allowed:
        raise ParamError(name, f"dozwolone wartości: {', '.join(allowed)}")
    return value


def parse_int(args, name: str, default: int, minimum: int, maximum: int, clamp: bool = False) -> int:
    """A whole number from `minimum` to `maximum`; above it, `maximum` when `clamp`, else an error."""
    value = single(args, name)
    if value is None:
        return default
    if not re.fullmatch(r"\d{1,10}", value):
        raise ParamError(name, f"oczekiwano liczby całkowitej ≥ {minimum}")
    n = int(value)
    if n < minimum:
        raise ParamError(name, f"najmniejsza wartość to {minimum}")
    if n > maximum:
        if clamp:
            return maximum
        raise ParamError(name, f"największa wartość to {maximum}")
    return n


def parse_float(args, name: str, minimum: float, maximum: float) -> float:
    """A required finite number from `minimum` to `maximum` (a point's latitude or longitude)."""
    value = single(args, name)
    if value is None:
        raise ParamError(name, "parametr jest wymagany")
    try:
        x = float(value)
    except ValueError:
        raise ParamError(name, f"oczekiwano liczby (z kropką dziesiętną) od {minimum:g} do {maximum:g}") from None
    if not math.isfinite(x) or not minimum <= x <= maximum:
        raise ParamError(name, f"oczekiwano liczby od {minimum:g} do {maximum:g}")
    return x


_INSTANT = r"\d{4}-\d{2}-\d{2}(?:[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2}))?"


def _check_instant(text: str) -> None:
    if not re.fullmatch(_INSTANT, text):
        raise ValueError(text)
    datetime.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00").replace("t", "T"))


def parse_datetime(text: str | None, param: str = "datetime") -> str | None:
    """An RFC 3339 instant or interval (`a/b`, `../b`, `a/..`), validated and returned as given."""
    if text is None:
        return None
    parts = text.split("/")
    try:
        if len(parts) == 1:
            _check_instant(parts[0])
        elif len(parts) == 2:
            a, b = parts
            if a in ("", "..") and b in ("", ".."):
                raise ValueError(text)
            for p in (a, b):
                if p not in ("", ".."):
                    _check_instant(p)
        else:
            raise ValueError(text)
    except ValueError:
        raise ParamError(param, "oczekiwano daty RFC 3339 (2024-01-31T00:00:00Z) albo przedziału a/b, ../b, a/..") \
            from None
    return text


def parse_bbox(text: str, param: str = "bbox") -> tuple[float, float, float, float]:
    parts = text.split(",")
    if len(parts) != 4:
        raise ParamError(param, "oczekiwano czterech liczb: minLon,minLat,maxLon,maxLat")
    try:
        minx, miny, maxx, maxy = (float(p) for p in parts)
    except ValueError:
        raise ParamError(param, "oczekiwano czterech liczb: minLon,minLat,maxLon,maxLat") from None
    if not all(math.isfinite(v) for v in (minx, miny, maxx, maxy)):
        raise ParamError(param, "współrzędne muszą być skończonymi liczbami")
    if not (-180 <= minx <= 180 and -180 <= maxx <= 180 and -90 <= miny <= 90 and -90 <= maxy <= 90):
        raise ParamError(param, "długość w zakresie -180..180, szerokość -90..90 (WGS84)")
    if minx > maxx or miny > maxy:
        raise ParamError(param, "zła kolejność: minLon,minLat,maxLon,maxLat (min nie może być większe od max)")
    return (minx, miny, maxx, maxy)


def listed(args, name: str, separators: str = ",") -> list[str]:
    """The distinct items of a repeatable, comma-separated parameter, in order, lower-cased."""
    out: list[str] = []
    for value in values(args, name):
        for item in re.split(f"[{re.escape(separators)}]", value):
            item = item.strip().lower()
            if item and item not in out:
                out.append(item)
    return out


def choices(args, name: str, allowed, what: str = "wartości") -> tuple[str, ...]:
    """The items of a repeatable, comma-separated parameter, each one of `allowed`."""
    items = listed(args, name)
    for item in items:
        if item not in allowed:
            raise ParamError(name, f"nieznana wartość {item[:40]!r}; dozwolone {what}: {', '.join(allowed)}")
    return tuple(items)


def parse_types(args, name: str = "type") -> tuple[str, ...]:
    """Entity type codes (repeatable, or separated by commas or semicolons)."""
    known = entity_types()
    out = listed(args, name, ",;")
    for code in out:
        if code not in known:
            raise ParamError(name, f"nieznany typ {code!r}; dozwolone: {', '.join(known)}")
    return tuple(out)


def parse_teryt(args, name: str, digits: int, known: set[str] | None = None) -> str | None:
    value = single(args, name)
    if value is None:
        return None
    if not re.fullmatch(rf"\d{{{digits}}}", value):
        raise ParamError(name, TERYT_FORMAT.get(digits, f"kod TERYT ma {digits} cyfr"))
    if known is not None and value not in known:
        raise ParamError(name, f"nieznany kod TERYT {value}")
    return value


def parse_teryts(args, name: str = "teryt", minimum: int = 2, maximum: int = 4) -> list[str]:
    """`minimum`–`maximum` distinct TERYT codes of one level (repeatable or comma-separated): all powiaty
    (4 digits) or all gminy (7 digits)."""
    teryts = listed(args, name)
    if not (minimum <= len(teryts) <= maximum):
        raise ParamError(name, f"podaj od {minimum} do {maximum} różnych kodów TERYT (np. ?{name}=2602&{name}=2601)")
    for t in teryts:
        if not re.fullmatch(r"\d{4}|\d{7}", t):
            raise ParamError(name, f"„{t[:20]}” nie jest kodem TERYT powiatu (4 cyfry) ani gminy (7 cyfr)")
    if len({len(t) for t in teryts}) > 1:
        raise ParamError(name, "porównuj jednostki tego samego poziomu: same powiaty albo same gminy")
    return teryts


def parse_filter(args, dataset=None, bbox_param: str = "bbox") -> Filter:
    """Parse `type` (repeatable or comma-separated), `powiat`, `gmina`, `q`, `bbox` from request args."""
    powiaty = set(dataset.powiaty["teryt"]) if dataset is not None else None
    gminy = set(dataset.gminy["teryt"]) if dataset is not None else None
    bbox_text = single(args, bbox_param)
    return Filter(
        types=parse_types(args),
        powiat=parse_teryt(args, "powiat", 4, powiaty),
        gmina=parse_teryt(args, "gmina", 7, gminy),
        q=single(args, "q") or None,
        bbox=parse_bbox(bbox_text, bbox_param) if bbox_text else None,
    )


def fold(series: pd.Series) -> pd.Series:
    """Case- and accent-insensitive text for search ("lodz" finds "Łódź")."""
    folded = series.fillna("").astype(str).str.lower()
    folded = folded.str.replace("ł", "l", regex=False)
    return folded.map(lambda s: unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode())


def fold_text(text: str) -> str:
    return fold(pd.Series([text])).iloc[0]


def bbox_mask(frame: gpd.GeoDataFrame, bbox) -> np.ndarray:
    minx, miny, maxx, maxy = bbox
    box = shapely.box(minx, miny, maxx, maxy)
    idx = frame.sindex.query(box, predicate="intersects")
    mask = np.zeros(len(frame), dtype=bool)
    mask[idx] = True
    return mask


def area_mask(frame: gpd.GeoDataFrame, wkt: str) -> np.ndarray:
    idx = frame.sindex.query(shapely.from_wkt(wkt), predicate="intersects")
    mask = np.zeros(len(frame), dtype=bool)
    mask[idx] = True
    return mask


def property_mask(frame: pd.DataFrame, column: str, value) -> np.ndarray:
    """Rows whose property equals `value` exactly (a missing value never matches)."""
    series = frame[column]
    if isinstance(value, bool):
        got = series.astype("boolean") == value
    elif isinstance(value, (int, float)):
        got = pd.to_numeric(series, errors="coerce") == value
    else:
        got = series.astype(object) == value
    return pd.Series(got).fillna(False).to_numpy(dtype=bool)


def _common(frame: gpd.GeoDataFrame, f: Filter, mask: np.ndarray) -> np.ndarray:
    if f.bbox:
        mask &= bbox_mask(frame, f.bbox)
    if f.area:
        mask &= area_mask(frame, f.area)
    for key, value in f.properties:
        mask &= property_mask(frame, key, value)
    if f.expression is not None:
        mask &= f.expression.mask(frame)
    return mask


def apply_entities(entities: gpd.GeoDataFrame, f: Filter) -> gpd.GeoDataFrame:
    mask = np.ones(len(entities), dtype=bool)
    if f.types:
        # Once per distinct `types` value (a register has few combinations of types), not per row.
        codes, uniques = pd.factorize(entities["types"].fillna("").astype(str), use_na_sentinel=False)
        wanted = set(f.types)
        hit = np.array([not wanted.isdisjoint(u.split(TYPES_SEPARATOR)) for u in uniques], dtype=bool)
        mask &= hit[codes] if len(hit) else np.zeros(len(entities), dtype=bool)
    if f.powiat:
        mask &= (entities["powiat_teryt_computed"] == f.powiat).to_numpy()
    if f.gmina:
        mask &= (entities["gmina_teryt_computed"] == f.gmina).to_numpy()
    if f.q:
        needle = fold_text(f.q)
        hay = fold(entities["name"].fillna("") + " " + entities["locality"].fillna("") + " "
                   + entities["operator"].fillna(""))
        mask &= hay.str.contains(needle, regex=False).to_numpy()
    return entities[_common(entities, f, mask)]


def apply_units(units: gpd.GeoDataFrame, f: Filter) -> gpd.GeoDataFrame:
    mask = np.ones(len(units), dtype=bool)
    if f.powiat:
        col = "powiat_teryt" if "powiat_teryt" in units.columns else "teryt"
        mask &= (units[col] == f.powiat).to_numpy()
    if f.gmina:
        mask &= (units["teryt"] == f.gmina).to_numpy() if "powiat_teryt" in units.columns else \
            (units["teryt"] == f.gmina[:4]).to_numpy()
    if f.q:
        mask &= fold(units["name"]).str.contains(fold_text(f.q), regex=False).to_numpy()
    return units[_common(units, f, mask)]

