"""PNG charts and static maps for reports (matplotlib, Agg backend, no display needed).

* `ranking_chart` — every unit of a level (the 14 powiaty, or the gminy of one powiat) for one indicator,
  sorted, the chosen unit highlighted, the voivodeship value as a line.
* `compare_chart` — 2–4 units side by side: each main indicator as a ratio to the voivodeship (= 100).
* `official_trend_chart` — official counts by type and year, a marker per figure a source gives.
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
import matplotlib.ticker  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from geoes.common.polish import number, percent  # noqa: E402
from geoes.dataset.figures import MIN_RANKED_UNITS, TOO_FEW, ranked_count  # noqa: E402
from geoes.config import CRS_METRIC  # noqa: E402
from geoes.dataset.indicators import LABELS_PL  # noqa: E402
from geoes.common.reference import attribution  # noqa: E402
from geoes.publish.classes import HIGHLIGHT_COLOR, class_legend, unit_colors  # noqa: E402

# The main indicators: each gets a ranking chart on the county page and in the report.
MAIN_INDICATORS = [
    "entities_per_10k", "entities_per_100km2", "employees_per_10k",
    "gmina_coverage_pct", "population_coverage_pct", "access_10km_pct",
]
BASE_COLOR = "#9ecae1"


def chartable(table: pd.DataFrame, indicators: list[str] = MAIN_INDICATORS) -> tuple[list[str], list[str]]:
    """(drawn, left out): a ranking chart is drawn only where enough units have a value to rank
    (geoes.dataset.figures.MIN_RANKED_UNITS) — a chart of "za mało danych" rows says nothing."""
    drawn = [i for i in indicators if ranked_count(table, i) >= MIN_RANKED_UNITS]
    return drawn, [i for i in indicators if i not in drawn]
DPI = 110
# A phone's chart: a narrow figure (inches) whose 8 pt labels stay ~10 px high on a 360 px wide screen,
# drawn at a resolution for its dense pixels; titles and notes wrap to the width.
NARROW_WIDTH = 3.0
NARROW_DPI = 250
_lock = threading.Lock()  # matplotlib's font cache and mathtext are not thread-safe


def _png(fig: Figure, dpi: int = DPI) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight", metadata={"Software": "geoes"})
    plt.close(fig)
    return buf.getvalue()


def _chars(width: float, size: float) -> int:
    """How many characters of `size` points fit a figure `width` inches wide (about 0.55 em each)."""
    return max(20, int(width * 72 / (size * 0.55)))


def _fit(text: str, width: float, size: float) -> str:
    return textwrap.fill(text, _chars(width, size))


def _dpi(width: float) -> int:
    return NARROW_DPI if width <= NARROW_WIDTH + 0.5 else DPI


def _value(x) -> str:
    """A bar's or a reference line's value: up to two decimals, trailing zeros dropped (geoes.common.polish)."""
    return number(x, 2, trim=True)


def _footnote(fig: Figure, y: float, text: str, note: str | None, width: float = 7.5, under=None) -> None:
    """The source line and, under it, what the figures are figures of (the register's completeness),
    wrapped to the figure's `width`; placed at `y` (figure fraction) or just `under` an artist (a legend)."""
    chars = _chars(width, 7)
    lines = textwrap.wrap(text, chars) + (
        textwrap.wrap(f"Znany rejestr, nie wszystkie podmioty. {note}", chars) if note else [])
    if under is None:
        fig.text(0.01, y, "\n".join(lines), fontsize=7, color="#555555", va="top")
    else:
        fig.axes[0].annotate("\n".join(lines), xy=(0, 0), xycoords=under, xytext=(0, -4), textcoords="offset points",
                             fontsize=7, color="#555555", va="top", ha="left", annotation_clip=False)


def ranking_chart(table: pd.DataFrame, indicator: str, highlight: str, reference: float | None,
                  title_unit: str = "powiaty", reference_label: str = "województwo", note: str | None = None,
                  width: float = 7.5, bar: float = 0.32, dpi: int | None = None) -> bytes:
    """Horizontal bars for the rows of `table` (columns teryt, name, indicator) that have the value; a row
    whose value is left out (geoes.dataset.figures) is listed by name with "za mało danych" or "brak danych"
    instead of a bar — never drawn as a zero. `width` in inches (NARROW_WIDTH for a phone), `bar` the
    inches per bar (a printed report draws them closer), `dpi` the resolution (default by width)."""
    data = table[["teryt", "name", indicator]].copy()
    data[indicator] = pd.to_numeric(data[indicator], errors="coerce")
    missing = data[data[indicator].isna()].sort_values("name", ascending=False)
    data = pd.concat([missing, data[data[indicator].notna()].sort_values(indicator, ascending=True)])
    lengths = data[indicator].fillna(0.0)
    with _lock:
        fig, ax = plt.subplots(figsize=(width, bar * len(data) + 1.4))
        colors = [HIGHLIGHT_COLOR if t == highlight else BASE_COLOR for t in data["teryt"]]
        bars = ax.barh(data["name"], lengths, color=colors, edgecolor="#555555", linewidth=0.4)
        for bar, value, teryt in zip(bars, data[indicator], data["teryt"]):
            text = " " + (_value(value) if pd.notna(value) else TOO_FEW)
            ax.text(bar.get_width(), bar.get_y() + bar.get_height() / 2, text, va="center",
                    fontsize=8, fontweight="bold" if teryt == highlight else "normal",
                    color="#222222" if pd.notna(value) else "#666666")
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
        top = float(lengths.max()) if len(lengths) else 0.0
        ax.set_xlim(0, max(top, reference or 0, 1e-9) * 1.25)
        _footnote(fig, 0.0, f"Źródło: geoes (znany rejestr podmiotów); {attribution()['data']}", note, width)
        return _png(fig, dpi or _dpi(width))


def compare_chart(records: list[dict], voivodeship: dict, indicators: list[str] = MAIN_INDICATORS,
                  note: str | None = None, width: float = 8, dpi: int | None = None) -> bytes:
    """Grouped bars: each unit's relation to the voivodeship (`ratio_<x>` from the build, × 100; 100 =
    województwo). A relation the rules leave out (geoes.dataset.figures) is written "za mało danych",
    never drawn; no relation is computed here. `width` in inches (NARROW_WIDTH for a phone)."""
    labels = [LABELS_PL.get(i, i) for i in indicators]
    values = [[_relation(rec, ind) for ind in indicators] for rec in records]
    with _lock:
        fig, ax = plt.subplots(figsize=(width, 0.55 * len(indicators) * max(1, len(records)) / 2 + 2))
        n = len(records)
        height = 0.8 / max(n, 1)
        palette = [HIGHLIGHT_COLOR, "#2c7fb8", "#41ab5d", "#807dba"]
        y = np.arange(len(indicators))
        cap = 400.0  # a bar beyond 400 % is cut and labelled, so one outlier does not flatten the rest
        for k, (rec, vals) in enumerate(zip(records, values)):
            ys = y - 0.4 + height / 2 + k * height
            ax.barh(ys, [min(v, cap) if v is not None else 0.0 for v in vals], height=height,
                    color=palette[k % 4], label=rec["name"])
            for yy, v in zip(ys, vals):
                text = f" {percent(v, 0)}" + (" ›" if v > cap else "") if v is not None else f" {TOO_FEW}"
                ax.text(min(v, cap) if v is not None else 0.0, yy, text, va="center", fontsize=7,
                        color="#222222" if v is not None else "#666666")
        shown = [v for row in values for v in row if v is not None]
        ax.set_xlim(0, min(cap, max([100.0] + shown)) * 1.2)
        ax.axvline(100, color="#333333", linestyle="--", linewidth=1)
        ax.set_yticks(y, [_fit(label, width / 2.2, 8) for label in labels], fontsize=8)
        ax.invert_yaxis()
        ax.set_xlabel("% wartości dla województwa (100 = województwo)", fontsize=8)
        legend = ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.4, -0.1), ncol=2 if width > 5 else 1,
                           frameon=False)
        ax.spines[["top", "right"]].set_visible(False)
        ax.set_title(_fit("Porównanie jednostek względem województwa (znany rejestr)", width, 11), fontsize=11,
                     loc="left")
        # Under the legend, however many lines the legend takes.
        _footnote(fig, -0.1, f"Źródło: geoes; {attribution()['data']}", note, width, under=legend)
        return _png(fig, dpi or _dpi(width))


def _relation(rec: dict, indicator: str) -> float | None:
    r = rec.get(f"ratio_{indicator}")
    return None if r is None or pd.isna(r) else float(r) * 100


def official_trend_chart(years: list[int], rows: list[dict], title: str, width: float = 8.5) -> bytes:
    """Official counts by type and year: one marker per figure a source gives, no line between years (a
    line would draw the years no source gives); the x axis spans `years`. `width` in inches (NARROW_WIDTH
    for a phone: years written upright, the legend in one column)."""
    narrow = width < 5
    with _lock:
        fig, ax = plt.subplots(figsize=(width, 5.6 if narrow else 5.2))
        markers = "osD^vP*X<>"
        for k, row in enumerate(rows):
            xs = sorted(row["values"])
            label = row["label"] if row["label"].lower() == row["type_label"].lower() \
                else f"{row['type_label']}: {row['label'][:1].lower()}{row['label'][1:]}"
            ax.plot(xs, [row["values"][x] for x in xs], linestyle="none", marker=markers[k % len(markers)],
                    markersize=7, label=label)
            for x in xs:
                ax.annotate(number(row["values"][x], 0), (x, row["values"][x]), textcoords="offset points",
                            xytext=(5, 3), fontsize=7)
        ax.set_xticks(years, [str(y) for y in years], fontsize=8, rotation=90 if narrow else 0)
        ax.set_xlim(years[0] - 0.5, years[-1] + 0.5)
        top = max([v for row in rows for v in row["values"].values()] or [10])
        ax.set_yscale("log")
        ax.set_ylim(1, top * 2.5)
        ax.set_ylabel("liczba podmiotów (skala logarytmiczna)", fontsize=8)
        ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: number(v, 0)))
        ax.grid(axis="y", color="#dddddd", linewidth=0.6)
        ax.spines[["top", "right"]].set_visible(False)
        ax.set_title(_fit(title, width, 11), fontsize=11, loc="left")
        ax.set_xlabel(_fit("Lata bez punktu: żadne źródło nie podaje liczby (nie uzupełniano). Źródła – przy tabeli.",
                           width, 7), fontsize=7, color="#555555")
        ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.2 if narrow else -0.12),
                  ncol=1 if narrow else 2, frameon=False)
        return _png(fig, _dpi(width))


def static_map(units, entities, title: str, *, breaks: list[float], outline=None, note: str | None = None,
               size: tuple[float, float] = (7.5, 7.5), dpi: int | None = None) -> bytes:
    """Units (gminy or powiaty) coloured by entities per 10k in the level's classes (`breaks`, from
    geoes.publish.classes.level_breaks over the whole region, as on the interactive map), class 0 hatched
    (white spot), entities as points. `size` (inches): a figure wider than high puts the legend beside the
    map (a printed page), a square one over its corner."""
    g = units.to_crs(CRS_METRIC)
    legend_rows = class_legend(breaks)
    with _lock:
        fig, ax = plt.subplots(figsize=size)
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
        handles.append(Patch(facecolor="none", edgecolor="#b2182b", hatch="///", label="brak podmiotu w rejestrze"))
        beside = size[0] > size[1] * 1.2
        ax.legend(handles=handles, title="Podmioty w rejestrze\nna 10 tys. mieszk." if beside else
                  "Podmioty w rejestrze na 10 tys. mieszk.", fontsize=7, title_fontsize=8, loc="lower left",
                  framealpha=0.9, **({"bbox_to_anchor": (1.02, 0.0)} if beside else {}))
        ax.set_title(title, fontsize=12, loc="left")
        ax.set_axis_off()
        ax.set_aspect("equal")
        _footnote(fig, 0.03, f"{attribution()['data']}; punkty: podmioty ekonomii społecznej (geoes). "
                  "Układ PUWG 1992 (EPSG:2180).", note, size[0])
        return _png(fig, dpi or DPI)
