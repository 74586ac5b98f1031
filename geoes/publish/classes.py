"""The colour classes of the choropleths: one rule for the public map, the county maps and the charts."""
from __future__ import annotations

import numpy as np

from geoes.common.polish import number

# Colours of the choropleth classes (ColorBrewer YlGnBu, 5 classes) and of "no entity" (class 0).
CLASS_COLORS = ["#ffffcc", "#a1dab4", "#41b6c4", "#2c7fb8", "#253494"]
ZERO_COLOR = "#f0f0f0"
HIGHLIGHT_COLOR = "#d7301f"


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


def _round_up(x: float) -> float:
    """Round up to two significant digits (a class bound that reads well)."""
    if x <= 0:
        return 0.0
    mag = 10 ** (np.floor(np.log10(x)) - 1)
    return float(round(np.ceil(round(x / mag, 9)) * mag, 6))


def class_legend(breaks: list[float]) -> list[dict]:
    """Legend rows: label and colour, class 0 first."""
    rows = [{"label": "0 (brak podmiotu)", "color": ZERO_COLOR}]
    lo = 0.0
    colors = CLASS_COLORS[-len(breaks):] if breaks else []
    for hi, color in zip(breaks, colors):
        rows.append({"label": f"{bound(lo)} – {bound(hi)}" if lo else f"do {bound(hi)}", "color": color})
        lo = hi
    return rows


def bound(x: float) -> str:
    """A class bound as the legend shows it: every significant digit (they are rounded to two), Polish."""
    return number(x, 6, trim=True)
