"""The colour classes of the choropleths: the ONE rule for the interactive maps, the static maps and the
legends.

A level's classes (`level_breaks`) come from all its units in the region — every powiat, or every gmina
— so a county's static map, the public map and the report colour the same gmina the same way. The
server decides each unit's colour (`class_color`); static/js/map.js takes those colours from the unit
layers' map view (geoes.publish.unitmap) and never recomputes them.
"""
from __future__ import annotations

import numpy as np

from geoes.common.polish import number

# Colours of the choropleth classes (ColorBrewer YlGnBu, 5 classes) and of "no entity" (class 0).
CLASS_COLORS = ["#ffffcc", "#a1dab4", "#41b6c4", "#2c7fb8", "#253494"]
ZERO_COLOR = "#f0f0f0"
HIGHLIGHT_COLOR = "#d7301f"
INDICATOR = "entities_per_10k"  # what the supply choropleths show
# The need choropleth: registered unemployed per 10 000 inhabitants (GUS BDL), in its own palette
# (ColorBrewer OrRd) so it is not read as supply; a unit without the figure takes ZERO_COLOR.
NEED_INDICATOR = "unemployed_per_10k"
NEED_COLORS = ["#fef0d9", "#fdcc8a", "#fc8d59", "#e34a33", "#b30000"]
TOLERANCE = 1e-9  # a value equal to a bound up to float noise belongs to that bound's class


def classes(values, k: int = 5) -> list[float]:
    """Upper bounds of choropleth classes over the positive values (quantiles, rounded, distinct).

    Class 0 ("no entity") is separate; returns [] when no unit has an entity.
    """
    vals = np.asarray([v for v in values if v is not None and np.isfinite(v) and v > 0], dtype=float)
    if len(vals) == 0:
        return []
    qs = np.quantile(vals, np.linspace(0, 1, k + 1)[1:])
    out: list[float] = []
    for q in qs:
        r = _round_up(float(q))
        if not out or r > out[-1]:
            out.append(r)
    out[-1] = max(out[-1], _round_up(float(vals.max())))
    return out


def level_breaks(units, indicator: str = INDICATOR) -> list[float]:
    """The class bounds of a level, from all its units in the region (a frame of powiaty or gminy)."""
    if indicator not in units:
        return []
    return classes(units[indicator].tolist())


def _round_up(x: float) -> float:
    """Round up to two significant digits (a class bound that reads well)."""
    if x <= 0:
        return 0.0
    mag = 10 ** (np.floor(np.log10(x)) - 1)
    return float(round(np.ceil(round(x / mag, 9)) * mag, 6))


def _colors(breaks: list[float], palette: list[str] = CLASS_COLORS) -> list[str]:
    """The colours of the classes in use: the darkest ones when there are fewer classes than colours."""
    return palette[-len(breaks):] if breaks else []


def class_color(value, breaks: list[float], palette: list[str] = CLASS_COLORS) -> str:
    """The fill colour of a unit with `value`: class 0 (no entity, or no value) or the first class whose
    upper bound is at least the value (the top class above the last bound)."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return ZERO_COLOR
    if not np.isfinite(v) or v <= 0 or not breaks:
        return ZERO_COLOR
    colors = _colors(breaks, palette)
    for hi, color in zip(breaks, colors):
        if v <= hi + TOLERANCE:
            return color
    return colors[-1]


def unit_colors(units, breaks: list[float]) -> list[str]:
    """`class_color` of every unit of a frame, in its order."""
    return [class_color(v, breaks) for v in units[INDICATOR].tolist()]


def class_legend(breaks: list[float], palette: list[str] = CLASS_COLORS,
                 zero_label: str = "0 (brak podmiotu w rejestrze)") -> list[dict]:
    """Legend rows: label and colour, class 0 first."""
    rows = [{"label": zero_label, "color": ZERO_COLOR}]
    lo = 0.0
    for hi, color in zip(breaks, _colors(breaks, palette)):
        rows.append({"label": f"{bound(lo)} – {bound(hi)}" if lo else f"do {bound(hi)}", "color": color})
        lo = hi
    return rows


def bound(x: float) -> str:
    """A class bound as the legend shows it: every significant digit (they are rounded to two), Polish."""
    return number(x, 6, trim=True)
