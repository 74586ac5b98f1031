"""CQL2 text filters (OGC API – Features Part 3) evaluated over a whole served frame at once.

`parse(text, queryables, crs)` parses with pygeofilter (geopython's CQL2 parser), checks every property
against the collection's queryables and returns a `CqlFilter`; `CqlFilter.mask(frame)` gives the boolean
mask of the matching rows. Nothing is evaluated row by row in Python: comparisons, IN, BETWEEN and
IS NULL are pandas operations on columns, LIKE a vectorised regular expression, spatial predicates
shapely's vectorised predicates over the geometry array.

Supported: comparisons (= <> < <= > >=, property to literal or to property), AND, OR, NOT, LIKE (case
sensitive; `%` any text, `_` one character, `\\` escapes), IN, BETWEEN, IS [NOT] NULL, CASEI() and
ACCENTI(), S_INTERSECTS and the other seven S_ functions with a point, line, polygon, multi-geometry or
BBOX(minx,miny,maxx,maxy). Literal geometries are in CRS84 unless `filter-crs` says otherwise.

NULL follows SQL's three-valued logic, as GeoPackage (SQLite) does: `krs = '1'` is unknown, not false,
for an entity with no KRS, and so is `NOT (krs = '1')`; only rows whose condition is true are returned.
Comparing a text property with a number compares the text of the number (`powiat_teryt = 2604`
matches '2604', as SQLite does); a boolean property takes true/false and 1/0.

Every mistake is an `InvalidInput` (HTTP 400) with a Polish description.
"""
from __future__ import annotations

import re
import time
import unicodedata
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
from lark.exceptions import LarkError, UnexpectedInput
from pygeofilter import ast, values
from pygeofilter.parsers.cql2_text import parse as parse_cql2_text

from geoes.errors import GeoesError, InvalidInput

LANGS = ("cql2-text",)
MAX_LENGTH = 4000
DEFAULT_TIME_LIMIT = 1.5  # the default of GEOES_FILTER_TIME_LIMIT
GEOMETRY_NAMES = ("geometry", "geom")

_COMPARE = {ast.Equal: "eq", ast.NotEqual: "ne", ast.LessThan: "lt", ast.LessEqual: "le",
            ast.GreaterThan: "gt", ast.GreaterEqual: "ge"}
_SPATIAL = {ast.GeometryIntersects: shapely.intersects, ast.GeometryDisjoint: shapely.disjoint,
            ast.GeometryContains: shapely.contains, ast.GeometryWithin: shapely.within,
            ast.GeometryTouches: shapely.touches, ast.GeometryCrosses: shapely.crosses,
            ast.GeometryOverlaps: shapely.overlaps, ast.GeometryEquals: shapely.equals}


class CqlError(InvalidInput):
    def __init__(self, message: str):
        super().__init__(f"filter: {message}")


@dataclass(frozen=True)
class CqlFilter:
    text: str
    node: object
    types: tuple[tuple[str, str], ...]  # queryable name → JSON Schema type ("string", "integer", …)
    crs: object  # geoes.publish.ogc.crs.CrsDef of the literal geometries
    time_limit: float = DEFAULT_TIME_LIMIT  # seconds one evaluation may take (GEOES_FILTER_TIME_LIMIT)

    def key(self) -> tuple:
        return ("cql2-text", self.text, self.crs.uri)

    def mask(self, frame) -> np.ndarray:
        """True for the rows of `frame` the filter selects (unknown counts as not selected)."""
        ev = _Evaluator(frame.reset_index(drop=True), dict(self.types), self.crs, Budget(self.time_limit))
        return ev.condition(self.node).fillna(False).to_numpy(dtype=bool)


def parse(text: str, types: dict[str, str], crs, time_limit: float = DEFAULT_TIME_LIMIT) -> CqlFilter:
    """Parse CQL2 text; every property must be a queryable (`types`: name → JSON Schema type).
    `time_limit`: the seconds one evaluation may take before it ends with `FilterTooCostly`."""
    if len(text) > MAX_LENGTH:
        raise CqlError(f"wyrażenie jest za długie (najwyżej {MAX_LENGTH} znaków)")
    try:
        node = parse_cql2_text(_hide_doubled_quotes(text))
    except UnexpectedInput as exc:
        raise CqlError(f"błąd składni CQL2 w kolumnie {exc.column}: nie rozumiem "
                       f"{_fragment(text, exc.pos_in_stream)!r}") from None
    except (LarkError, ValueError, TypeError):
        raise CqlError("błąd składni CQL2") from None
    if not isinstance(node, ast.Node) or isinstance(node, (ast.Attribute, ast.Expression)):
        raise CqlError("wyrażenie nie jest warunkiem (np. status = 'active')")
    _check(node, types)
    return CqlFilter(text.strip(), node, tuple(sorted(types.items())), crs, time_limit)


QUOTE_MARK = "\ue000"  # stands for a doubled quote inside a literal while pygeofilter parses it


def _hide_doubled_quotes(text: str) -> str:
    """CQL2 writes a quote inside a string literal as '' (GDAL does: O''Hara); pygeofilter 0.4's grammar
    ends the literal there. Inside literals, '' becomes a private-use mark the evaluator turns back."""
    out, in_string, i = [], False, 0
    while i < len(text):
        ch = text[i]
        if ch == "'" and in_string and text[i + 1:i + 2] == "'":
            out.append(QUOTE_MARK)
            i += 2
            continue
        if ch == "'":
            in_string = not in_string
        out.append(ch)
        i += 1
    return "".join(out)


def _fragment(text: str, pos: int | None) -> str:
    pos = pos or 0
    return text[pos:pos + 20] or "koniec wyrażenia"


def _check(node, types: dict[str, str]) -> None:
    """Every attribute is a queryable; nothing the evaluator does not support."""
    if isinstance(node, ast.Attribute):
        if node.name not in types and node.name not in GEOMETRY_NAMES:
            known = ", ".join(sorted(types))
            raise CqlError(f"nieznana właściwość {node.name[:60]!r}; dostępne: {known}, geometry")
        return
    if isinstance(node, (ast.TemporalPredicate, ast.ArrayPredicate, ast.Arithmetic, ast.Exists,
                         ast.Relate, ast.SpatialDistancePredicate)):
        raise CqlError(f"operator {type(node).__name__} nie jest obsługiwany (dostępne: porównania, AND, OR, "
                       "NOT, LIKE, IN, BETWEEN, IS NULL, CASEI, ACCENTI, S_INTERSECTS i inne S_)")
    if isinstance(node, ast.Function) and node.name.lower() not in ("lower", "accenti", "bbox"):
        raise CqlError(f"nieznana funkcja {node.name[:40]!r} (dostępne: CASEI, ACCENTI, BBOX)")
    if isinstance(node, ast.Node):
        for child in node.get_sub_nodes():
            _check(child, types)
    elif isinstance(node, list):
        for child in node:
            _check(child, types)


def _fold(series: pd.Series) -> pd.Series:
    """ACCENTI: without diacritics ("Łódź" → "Lodz")."""
    def one(s):
        if not isinstance(s, str):
            return s
        s = s.replace("ł", "l").replace("Ł", "L")
        return unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode()
    return series.map(one) if isinstance(series, pd.Series) else one(series)


class LikePattern:
    """A CQL2 LIKE pattern (`%` any text, `_` one character, `\\` escapes) matched in linear time.

    A backtracking regular expression (`.*` for every `%`) takes exponential time on patterns such as
    `'%_%_%_%_%QQ'`; one anonymous request could pin a worker. Here the pattern is split at `%` into
    segments of fixed length (literal characters and `_`): the first must match at the start, the last at
    the end, and each one between at its leftmost place after the previous. Leftmost placement is always
    right for `%`-separated segments, so there is no backtracking: a text of n characters costs at most
    n × (length of the pattern) character comparisons. Each segment is a quantifier-free regular expression
    run by `re` in C; we chose this over google-re2 because it needs no compiled dependency and the
    guarantee comes from the algorithm, not the engine."""

    def __init__(self, pattern: str, nocase: bool = False):
        flags = re.DOTALL | (re.IGNORECASE if nocase else 0)
        self.segments = [(re.compile(rx, flags), n) for rx, n in _like_segments(pattern)]
        self.exact = len(self.segments) == 1  # no % at all: the whole text is one segment

        self.length = sum(n for _, n in self.segments)

    def match(self, text: str) -> bool:
        if self.exact:
            rx, n = self.segments[0]
            return len(text) == n and rx.match(text) is not None
        (first, n_first), *middle, (last, n_last) = self.segments
        end = len(text) - n_last
        if end < n_first or first.match(text, 0, n_first) is None or last.match(text, end) is None:
            return False
        pos = n_first
        for rx, n in middle:
            found = rx.search(text, pos, end)
            if found is None:
                return False
            pos = found.end()
        return True


def _like_segments(pattern: str) -> list[tuple[str, int]]:
    """The `%`-separated segments of a LIKE pattern: (regular expression without quantifiers, length)."""
    segments, parts, escaped = [], [], False
    for ch in pattern:
        if escaped:
            parts.append(re.escape(ch))
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == "%":
            segments.append(parts)
            parts = []
        elif ch == "_":
            parts.append(".")
        else:
            parts.append(re.escape(ch))
    if escaped:
        parts.append(re.escape("\\"))
    segments.append(parts)
    return [("".join(p), len(p)) for p in segments]


class Budget:
    """The time an evaluation may take (`GEOES_FILTER_TIME_LIMIT`): checked between steps and every few
    hundred rows of a LIKE, so no filter holds a worker past it; past it, `FilterTooCostly` (503)."""

    CHECK_EVERY = 4096  # pattern characters × rows between two checks of the clock

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds

    def check(self) -> None:
        if time.monotonic() > self.deadline:
            raise FilterTooCostly(self.seconds)


class FilterTooCostly(GeoesError):
    """A CQL2 filter that did not finish within its time budget."""
    http_status = 503
    code = "ServiceUnavailable"

    def __init__(self, seconds: float):
        super().__init__(f"filter: obliczenie filtra przekroczyło limit czasu ({seconds:g} s); uprość wyrażenie "
                         "(np. mniej znaków % i _ we wzorcu LIKE) albo zawęź zapytanie (bbox, typ, powiat)")


class _Evaluator:
    """Evaluates a parsed expression over one frame; conditions are pandas nullable booleans (Kleene)."""

    def __init__(self, frame, types: dict[str, str], crs, budget: Budget):
        self.frame = frame
        self.types = types
        self.crs = crs
        self.budget = budget
        self.n = len(frame)

    # ---------------------------------------------------------------- conditions

    def condition(self, node) -> pd.Series:
        self.budget.check()
        if isinstance(node, ast.And):
            return self.condition(node.lhs) & self.condition(node.rhs)
        if isinstance(node, ast.Or):
            return self.condition(node.lhs) | self.condition(node.rhs)
        if isinstance(node, ast.Not):
            return ~self.condition(node.sub_node)
        if isinstance(node, ast.Include):
            return self._const(not node.not_)
        if isinstance(node, bool):
            return self._const(node)
        if type(node) in _COMPARE:
            return self.compare(_COMPARE[type(node)], node.lhs, node.rhs)
        if isinstance(node, ast.Between):
            result = self.compare("ge", node.lhs, node.low) & self.compare("le", node.lhs, node.high)
            return ~result if node.not_ else result
        if isinstance(node, ast.Like):
            return self.like(node)
        if isinstance(node, ast.In):
            return self.isin(node)
        if isinstance(node, ast.IsNull):
            result = self._bool(self._series(self.value(node.lhs)).isna().to_numpy())
            return ~result if node.not_ else result
        if type(node) in _SPATIAL:
            return self.spatial(_SPATIAL[type(node)], node.lhs, node.rhs)
        if isinstance(node, ast.BBox):
            box = shapely.box(node.minx, node.miny, node.maxx, node.maxy)
            return self.spatial(shapely.intersects, node.lhs, box)
        raise CqlError(f"to wyrażenie nie jest warunkiem: {type(node).__name__}")

    def _bool(self, values, missing=None) -> pd.Series:
        out = pd.Series(pd.array(values, dtype="boolean"))
        if missing is not None and missing.any():
            out[missing] = pd.NA
        return out

    def _const(self, value: bool) -> pd.Series:
        return self._bool(np.full(self.n, value))

    # ---------------------------------------------------------------- values

    def value(self, node):
        """A column (Series, positional index) or a literal."""
        if isinstance(node, ast.Attribute):
            if node.name in GEOMETRY_NAMES:
                return self.frame.geometry
            return self.frame[node.name] if node.name in self.frame.columns else pd.Series([None] * self.n)
        if isinstance(node, ast.Function):
            name = node.name.lower()
            if name == "bbox":
                return shapely.box(*(float(v) for v in node.arguments))
            arg = self.value(node.arguments[0])
            if isinstance(arg, pd.Series):
                arg = arg.astype(object).where(arg.notna(), None)
                return arg.map(lambda s: s.lower() if isinstance(s, str) else s) if name == "lower" else _fold(arg)
            if not isinstance(arg, str):
                raise CqlError(f"{name.upper()} przyjmuje tekst")
            return arg.lower() if name == "lower" else _fold(arg)
        if isinstance(node, values.Geometry):
            return shapely.geometry.shape(node.geometry)
        if isinstance(node, values.Envelope):
            return shapely.box(node.x1, node.y1, node.x2, node.y2)
        if isinstance(node, (ast.Node, list)):
            raise CqlError(f"nieobsługiwane wyrażenie: {type(node).__name__}")
        return node.replace(QUOTE_MARK, "'") if isinstance(node, str) else node

    def _series(self, value) -> pd.Series:
        return value if isinstance(value, pd.Series) else pd.Series([value] * self.n)

    def _attr_type(self, node) -> str | None:
        if isinstance(node, ast.Attribute):
            return self.types.get(node.name)
        if isinstance(node, ast.Function) and node.arguments:
            return "string"
        return None

    def _coerce(self, literal, kind: str | None):
        """A literal compared with a property of JSON Schema type `kind`."""
        if literal is None or kind is None:
            return literal
        if kind == "string":
            if isinstance(literal, bool):
                return "true" if literal else "false"
            return literal if isinstance(literal, str) else (str(int(literal)) if float(literal).is_integer()
                                                             else str(literal))
        if kind == "boolean":
            if isinstance(literal, bool):
                return literal
            if isinstance(literal, (int, float)) and literal in (0, 1):
                return bool(literal)
            if isinstance(literal, str) and literal.lower() in ("true", "false", "1", "0"):
                return literal.lower() in ("true", "1")
            raise CqlError(f"wartość logiczna: true, false, 1 albo 0, nie {literal!r}")
        if kind in ("integer", "number"):
            if isinstance(literal, bool) or not isinstance(literal, (int, float)):
                try:
                    return float(literal)
                except (TypeError, ValueError):
                    raise CqlError(f"oczekiwano liczby, nie {str(literal)[:40]!r}") from None
            return literal
        return literal

    def _operands(self, lhs, rhs):
        left, right = self.value(lhs), self.value(rhs)
        if isinstance(left, pd.Series) and not isinstance(right, pd.Series):
            right = self._coerce(right, self._attr_type(lhs))
        elif isinstance(right, pd.Series) and not isinstance(left, pd.Series):
            left = self._coerce(left, self._attr_type(rhs))
        return left, right

    def _prepare(self, series: pd.Series, kind: str | None) -> pd.Series:
        if kind in ("integer", "number"):
            return pd.to_numeric(series, errors="coerce").astype("Float64")
        if kind == "boolean":
            return series.astype("boolean")
        return series.astype(object).where(series.notna(), None)

    def compare(self, op: str, lhs, rhs) -> pd.Series:
        left, right = self._operands(lhs, rhs)
        kinds = (self._attr_type(lhs), self._attr_type(rhs))
        if isinstance(left, pd.Series):
            left = self._prepare(left, kinds[0])
        if isinstance(right, pd.Series):
            right = self._prepare(right, kinds[1])
        lser, rser = self._series(left), self._series(right)
        missing = (lser.isna() | rser.isna()).to_numpy()
        if missing.all():
            return self._bool(np.zeros(self.n, dtype=bool), missing)
        ok = ~missing
        a, b = lser[ok].to_numpy(dtype=object), rser[ok].to_numpy(dtype=object)
        try:
            got = {"eq": a == b, "ne": a != b, "lt": a < b, "le": a <= b, "gt": a > b, "ge": a >= b}[op]
        except TypeError:
            raise CqlError("porównanie wartości różnych typów (tekst z liczbą?)") from None
        result = np.zeros(self.n, dtype=bool)
        result[ok] = np.asarray(got, dtype=bool)
        return self._bool(result, missing)

    def like(self, node: ast.Like) -> pd.Series:
        subject, pattern = self.value(node.lhs), self.value(node.pattern)
        if not isinstance(pattern, str):
            raise CqlError("LIKE potrzebuje wzorca w apostrofach, np. name LIKE 'Spółdzielnia%'")
        series = self._series(subject).astype(object)
        missing = series.isna().to_numpy()
        text = series.where(~series.isna(), "").astype(str).tolist()
        matched = self._like_rows(LikePattern(pattern, bool(node.nocase)), text)
        result = self._bool(matched, missing)
        return ~result if node.not_ else result

    def _like_rows(self, like: LikePattern, texts: list[str]) -> np.ndarray:
        """Row by row (each in linear time), with the budget checked often enough for the pattern's length."""
        out = np.zeros(len(texts), dtype=bool)
        step = max(1, Budget.CHECK_EVERY // max(1, like.length))  # a long pattern costs more per row
        for start in range(0, len(texts), step):
            self.budget.check()
            out[start:start + step] = [like.match(t) for t in texts[start:start + step]]
        return out

    def isin(self, node: ast.In) -> pd.Series:
        kind = self._attr_type(node.lhs)
        subject = self._prepare(self._series(self.value(node.lhs)), kind)
        options = [self._coerce(self.value(v), kind) for v in node.sub_nodes]
        missing = subject.isna().to_numpy()
        result = self._bool(subject.astype(object).isin(options).to_numpy(dtype=bool), missing)
        return ~result if node.not_ else result

    def spatial(self, predicate, lhs, rhs) -> pd.Series:
        left, right = self.value(lhs), self.value(rhs)
        if not isinstance(left, pd.Series):
            left, right = right, left  # S_WITHIN(literal, geometry) reads the same with the roles kept
            predicate = _converse(predicate)
        if not isinstance(right, shapely.Geometry):
            raise CqlError("funkcja przestrzenna porównuje właściwość geometry z geometrią (POINT, POLYGON, "
                           "BBOX(...) …)")
        right = self.crs.to_crs84(right)
        geoms = left.to_numpy()
        missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
        got = np.zeros(self.n, dtype=bool)
        got[~missing] = predicate(geoms[~missing], right)
        return self._bool(got, missing)


def _converse(predicate):
    return {shapely.within: shapely.contains, shapely.contains: shapely.within}.get(predicate, predicate)
