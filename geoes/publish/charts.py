"""PNG charts and static maps for reports (matplotlib, Agg backend, no display needed).

* `ranking_chart` — every unit of a level (the 14 powiaty, or the gminy of one powiat) for one indicator,
  sorted, the chosen unit highlighted, the voivodeship value as a line.
* `compare_chart` — 2–4 units side by side: each main indicator as a ratio to the voivodeship (= 100).
* `static_map` — units coloured by entities per 10,000 inhabitants in the classes of the interactive map
  (geoes.publish.classes), white spots hatched, the entities as points, with the data attribution (no
  tiles: works offline).
"""
from __future__ import annotations

import io
import textwrap
import threading

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from geoes.common.polish import number, percent  # noqa: E402
from geoes.config import CRS_METRIC  # noqa: E402
from geoes.dataset.indicators import LABELS_PL  # noqa: E402
from geoes.common.reference import attribution  # noqa: E402
from geoes.publish.classes import HIGHLIGHT_COLOR, class_legend, unit_colors  # noqa: E402

# The indicators that get a chart on the county page (PRODUCT.md §4, main ones).
MAIN_INDICATORS = [
    "entities_per_10k", "entities_per_100km2", "employees_per_10k",
    "gmina_coverage_pct", "population_coverage_pct", "access_10km_pct",
]
BASE_COLOR = "#9ecae1"
DPI = 110
# A phone's chart: a narrow figure (inches) whose 8 pt labels stay ~11 px high at a 360 px wide screen,
# drawn at a resolution for its dense pixels; titles and notes wrap to the width.
NARROW_WIDTH = 3.0
NARROW_DPI = 250
_lock = threading.Lock()  # matplotlib's font cache and mathtext are not thread-safe


def _png(fig: Figure, dpi: int = DPI) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight", metadata={"Software": "geoes"})
    plt.close(fig)
    return buf.getvalue()


def _fit(text: str, width: float, size: float) -> str:
    """`text` wrapped to a figure `width` inches wide at `size` points (about 0.55 em per character)."""
    return textwrap.fill(text, max(20, int(width * 72 / (size * 0.55))))


def _dpi(width: float) -> int:
    return NARROW_DPI if width <= NARROW_WIDTH + 0.5 else DPI


def _value(x) -> str:
    """A bar's or a reference line's value: up to two decimals, trailing zeros dropped (geoes.common.polish)."""
    return number(x, 2, trim=True)


def ranking_chart(table: pd.DataFrame, indicator: str, highlight: str, reference: float | None,
                  title_unit: str = "powiaty", reference_label: str = "województwo", width: float = 7.5) -> bytes:
    """Horizontal bars for every row of `table` (columns teryt, name, indicator); `width` in inches
    (NARROW_WIDTH for a phone)."""
    data = table[["teryt", "name", indicator]].copy()
    data[indicator] = pd.to_numeric(data[indicator], errors="coerce").fillna(0.0)
    data = data.sort_values(indicator, ascending=True)
    with _lock:
        fig, ax = plt.subplots(figsize=(width, 0.32 * len(data) + 1.4))
        colors = [HIGHLIGHT_COLOR if t == highlight else BASE_COLOR for t in data["teryt"]]
        bars = ax.barh(data["name"], data[indicator], color=colors, edgecolor="#555555", linewidth=0.4)
        for bar, value, teryt in zip(bars, data[indicator], data["teryt"]):
            ax.text(bar.get_width(), bar.get_y() + bar.get_height() / 2, " " + _value(value), va="center",
                    fontsize=8, fontweight="bold" if teryt == highlight else "normal")
        names = data.loc[data["teryt"] == highlight, "name"]
        highlighted = names.iloc[0] if len(names) else None  # nothing to highlight is allowed
        for label in ax.get_yticklabels():
            if label.get_text() == highlighted:
                label.set_fontweight("bold")
        if reference is not None and np.isfinite(reference):
            ax.axvline(reference, color="#333333", linestyle="--", linewidth=1)
            ax.text(reference, len(data) - 0.4, f" {reference_label}: {_value(reference)}", fontsize=8,
                    va="bottom", ha="left")
        ax.set_title(_fit(f"{LABELS_PL.get(indicator, indicator)} – {title_unit}", width, 11), fontsize=11, loc="left")
        ax.spines[["top", "right"]].set_visible(False)
        ax.tick_params(axis="y", labelsize=8)
        ax.tick_params(axis="x", labelsize=8)
        ax.set_xlim(0, max(float(data[indicator].max()), reference or 0, 1e-9) * 1.18)
        fig.text(0.01, -0.01, _fit(f"Źródło: geoes; {attribution()['data']}", width, 6.5), fontsize=6.5,
                 color="#555555", va="top")
        return _png(fig, _dpi(width))


def compare_chart(records: list[dict], voivodeship: dict, indicators: list[str] = MAIN_INDICATORS,
                  width: float = 8) -> bytes:
    """Grouped bars: each unit's indicator as % of the voivodeship value (100 = województwo); `width` in
    inches (NARROW_WIDTH for a phone)."""
    labels = [LABELS_PL.get(i, i) for i in indicators]
    with _lock:
        fig, ax = plt.subplots(figsize=(width, 0.55 * len(indicators) * max(1, len(records)) / 2 + 2))
        n = len(records)
        height = 0.8 / max(n, 1)
        palette = [HIGHLIGHT_COLOR, "#2c7fb8", "#41ab5d", "#807dba"]
        y = np.arange(len(indicators))
        cap = 400.0  # a bar beyond 400 % is cut and labelled, so one outlier does not flatten the rest
        for k, rec in enumerate(records):
            vals = []
            for ind in indicators:
                base, v = voivodeship.get(ind), rec.get(ind)
                vals.append(float(v) / float(base) * 100 if base and v is not None and not pd.isna(v) else 0.0)
            ys = y - 0.4 + height / 2 + k * height
            ax.barh(ys, [min(v, cap) for v in vals], height=height, color=palette[k % 4], label=rec["name"])
            for yy, v in zip(ys, vals):
                ax.text(min(v, cap), yy, f" {percent(v, 0)}" + (" ›" if v > cap else ""), va="center", fontsize=7)
        ax.set_xlim(0, min(cap, max([100.0] + [float(v) / float(voivodeship[i]) * 100 for r in records for i in indicators
                                               if voivodeship.get(i) and (v := r.get(i)) is not None
                                               and not pd.isna(v)])) * 1.15)
        ax.axvline(100, color="#333333", linestyle="--", linewidth=1)
        ax.set_yticks(y, [_fit(label, width / 2.2, 8) for label in labels], fontsize=8)
        ax.invert_yaxis()
        ax.set_xlabel("% wartości dla województwa (100 = województwo)", fontsize=8)
        legend = ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.4, -0.1), ncol=2 if width > 5 else 1,
                           frameon=False)
        ax.spines[["top", "right"]].set_visible(False)
        ax.set_title(_fit("Porównanie jednostek względem województwa", width, 11), fontsize=11, loc="left")
        # Under the legend, however many lines it takes.
        ax.annotate(_fit(f"Źródło: geoes; {attribution()['data']}", width, 6.5), xy=(0, 0), xycoords=legend,
                    xytext=(0, -4), textcoords="offset points", fontsize=6.5, color="#555555", va="top", ha="left",
                    annotation_clip=False)
        return _png(fig, _dpi(width))


def static_map(units, entities, title: str, *, breaks: list[float], outline=None) -> bytes:
    """Units (gminy or powiaty) coloured by entities per 10k in the level's classes (`breaks`, from
    geoes.publish.classes.level_breaks over the whole region, as on the interactive map), class 0 hatched
    (white spot), entities as points."""
    g = units.to_crs(CRS_METRIC)
    legend_rows = class_legend(breaks)
    with _lock:
        fig, ax = plt.subplots(figsize=(7.5, 7.5))
        g.plot(ax=ax, color=unit_colors(g, breaks), edgecolor="#666666", linewidth=0.6)
        white = g[g["entities"] == 0]
        if len(white):
            white.plot(ax=ax, facecolor="none", edgecolor="#b2182b", hatch="///", linewidth=0.0)
        if outline is not None:
            outline.to_crs(CRS_METRIC).boundary.plot(ax=ax, color="#222222", linewidth=1.4)
        pts = entities[~entities.geometry.is_empty & entities.geometry.notna()] if len(entities) else entities
        if len(pts):
            pts.to_crs(CRS_METRIC).plot(ax=ax, color="#222222", markersize=18, marker="o",
                                        edgecolor="white", linewidth=0.6, zorder=5)
        for _, row in g.iterrows():
            p = row.geometry.representative_point()
            ax.annotate(row["name"], (p.x, p.y), fontsize=7, ha="center", va="center", color="#222222")
        handles = [Patch(facecolor=r["color"], edgecolor="#666666", label=r["label"]) for r in legend_rows]
        handles.append(Patch(facecolor="none", edgecolor="#b2182b", hatch="///", label="biała plama"))
        ax.legend(handles=handles, title="Podmioty na 10 tys. mieszk.", fontsize=7, title_fontsize=8,
                  loc="lower left", framealpha=0.9)
        ax.set_title(title, fontsize=12, loc="left")
        ax.set_axis_off()
        ax.set_aspect("equal")
        fig.text(0.01, 0.01, f"{attribution()['data']}; punkty: podmioty ekonomii społecznej (geoes). "
                 "Układ PUWG 1992 (EPSG:2180).", fontsize=6.5, color="#555555")
        return _png(fig)
