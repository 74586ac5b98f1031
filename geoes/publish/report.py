"""A self-contained county report (`python -m geoes report`): one HTML file a planner can attach to the diagnosis or print.

Everything comes from a built `Dataset` (geoes.dataset.reader) and is shared with the planner's notebook
(notebooks/diagnoza_powiat_jedrzejowski.ipynb), so the two never disagree:

* `indicator_rows` / `indicator_frame` — the county against the voivodeship: value, rank among the
  powiaty, ratio to the voivodeship;
* `ranking_frame` — every powiat for the main indicators, with ranks;
* `gminy_frame`, `white_spots_frame`, `entities_frame`, `types_frame` — the county's gminy, the gminy
  with no entity ("białe plamy") and their population, the entities, entities by type;
* `findings` — short sentences computed from the values (never typed in);
* `render_html(dataset, teryt)` — the report; charts and static maps are PNGs from geoes.publish.charts
  embedded as base64 data URIs, the styles are inline and there is no script: it opens offline.
* `write_report(dataset, teryt, path)` — writes .html, or .pdf by printing that HTML with the headless
  Chromium the project already installs for its browser tests (scripts/setup.sh).

All entity and unit text goes through Jinja's autoescape; links are only emitted for http(s) URLs.
"""
from __future__ import annotations

import base64
import io
import re
import shutil
import subprocess
import tempfile
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path

import jinja2
import pandas as pd
from markupsafe import Markup, escape
from PIL import Image

from geoes.common import dictionary
from geoes.common.polish import MISSING, NBSP, count, is_missing, number, ratio
from geoes.common.values import plain, plain_record
from geoes.config import ACCESS_RADIUS_M, CRS_METRIC, Settings
from geoes.dataset.reader import Dataset
from geoes.common.labels import PRECISION_PL, STATUS_PL, access_method_label
from geoes.dataset import figures, official
from geoes.dataset.figures import RANKED
from geoes.dataset.indicators import LABELS_PL, completeness_text
from geoes.common.atomic import atomic_write_bytes, atomic_write_text
from geoes.common.reference import attribution, entity_types
from geoes.errors import DataMissing, NotFound
from geoes.publish import charts, templating
from geoes.publish.charts import MAIN_INDICATORS
from geoes.publish.classes import level_breaks
from geoes.publish.labels import capitalised, powiat_label, types_label
from geoes.publish.layers import placed_mask

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"

# Rows of the indicator table, in display order.
TABLE_INDICATORS = [
    "population", "area_km2", "entities", "entities_per_10k", "entities_per_100km2", "employees",
    "employees_per_10k", "employees_known_pct", "gminy_with_entity", "gminy_total", "gmina_coverage_pct",
    "population_coverage_pct", "access_10km_pct",
]
# Need beside the supply (registered unemployment, GUS BDL), when the version has it.
NEED_INDICATORS = [
    "unemployed", "unemployed_2022", "unemployed_per_10k", "unemployed_change_pct", "unemployment_rate",
    "unemployment_rate_2022", "unemployment_rate_change_pp", "entities_per_1k_unemployed",
]
# Figures at the top of the report (each carries data-key/data-value for checks and reuse).
KEY_FIGURES = [
    "population", "area_km2", "entities", "entities_per_10k", "gmina_coverage_pct",
    "population_coverage_pct", "access_10km_pct",
]
DECIMALS = {
    "area_km2": 2, "area_km2_computed": 2, "entities_per_10k": 3, "entities_per_100km2": 3,
    "employees_per_10k": 3, "employees_known_pct": 1, "gmina_coverage_pct": 1,
    "population_coverage_pct": 1, "access_10km_pct": 1, "unemployed_per_10k": 2, "unemployed_change_pct": 1,
    "unemployment_rate": 1, "unemployment_rate_2022": 1, "unemployment_rate_change_pp": 1,
    "entities_per_1k_unemployed": 2,
}
# The report's chapters (heading id, title), numbered in this order; the trends chapter only when the
# version has official counts by year.
TOC = [
    ("h-register", "Co opisują liczby: kompletność rejestru"), ("h-key", "Najważniejsze liczby"),
    ("h-findings", "Wnioski z danych"), ("h-ind", "Wskaźniki na tle województwa"),
    ("h-rank", "Powiaty województwa"), ("h-maps", "Mapy"), ("h-gminy", "Gminy powiatu"),
    ("h-entities", "Podmioty w powiecie"), ("h-trends", "Oficjalne liczby w kolejnych latach"),
    ("h-method", "Metoda"), ("h-sources", "Źródła i atrybucja"),
]
# Images for print: PNG resolution, a chart's width and inches per bar (two charts of 14 bars to an A4
# page), a static map's size (two to a page, the legend beside the map).
REPORT_DPI = 200
CHART_WIDTH = 6.8
CHART_BAR = 0.2
MAP_SIZE = (6.8, 4.3)
# The table of all powiaty, split so that each part fits a portrait A4 page: (caption, indicators).
RANKING_PARTS = [
    ("liczba i gęstość podmiotów w rejestrze", ["population", "entities", "entities_per_10k", "entities_per_100km2",
                                                 "employees_per_10k"]),
    ("pokrycie gmin i zasięg 10 km", ["gmina_coverage_pct", "population_coverage_pct", "access_10km_pct"]),
]
UNITS = {"area_km2": " km²", "employees_known_pct": " %", "gmina_coverage_pct": " %",
         "population_coverage_pct": " %", "access_10km_pct": " %", "unemployed_change_pct": " %",
         "unemployment_rate": " %", "unemployment_rate_2022": " %", "unemployment_rate_change_pp": " pkt proc."}


class UnknownPowiat(NotFound, KeyError):
    """The TERYT code names no powiat of the built dataset."""

    def __init__(self, teryt: str):
        super().__init__(f"nieznany powiat {teryt!r} (4 cyfry TERYT, np. 2602)")
        self.teryt = teryt

    def __str__(self) -> str:  # KeyError would quote the message
        return self.description


# ---------------------------------------------------------------- figures (geoes.common.polish)

def figure(value, key: str | None = None, unit: bool = False) -> str:
    """An indicator as the report prints it (geoes.common.polish.number): counts whole, other values with
    the indicator's decimals (DECIMALS, default 2), "–" if missing; `unit` adds its unit (UNITS)."""
    value = plain(value)
    if value is None:
        return MISSING
    whole = isinstance(value, int) or (key not in DECIMALS and isinstance(value, float) and value.is_integer())
    text = number(value, 0 if whole else DECIMALS.get(key, 2))
    return text + (UNITS.get(key, "").replace(" ", NBSP) if unit else "")


# ---------------------------------------------------------------- data pieces (shared with the notebook)

def powiat_record(ds: Dataset, teryt: str) -> dict:
    rows = ds.indicator_table("powiat", reasons="map")
    match = rows[rows["teryt"] == str(teryt)]
    if match.empty:
        raise UnknownPowiat(str(teryt))
    rec = {k: (v if k == "suppressed" else plain(v)) for k, v in match.iloc[0].items()}
    city = ds.powiaty.loc[ds.powiaty["teryt"] == str(teryt), "city_county"]
    rec["city_county"] = bool(city.iloc[0]) if len(city) and not is_missing(city.iloc[0]) else False
    return rec


def indicator_rows(ds: Dataset, teryt: str, keys: list[str] | None = None) -> list[dict]:
    """The county against the voivodeship, one dict per indicator (raw values and formatted text). Values,
    ranks and relations stand only where geoes.dataset.figures allows; otherwise the text says why."""
    rec, v = powiat_record(ds, teryt), ds.voivodeship
    rows = []
    for key in keys or TABLE_INDICATORS:
        if key not in rec:
            continue
        value = rec.get(key)
        ranked = key in figures.RANKED and value is not None
        related = key in figures.RELATED and value is not None
        rank = rec.get(f"rank_{key}") if ranked else None
        of = figures.ranked_count(ds.powiaty, key)
        rows.append({
            "key": key, "label": dictionary.label(key, "units", "powiat"),
            "value": value, "voivodeship": plain(v.get(key)),
            "rank": None if rank is None else int(rank), "rank_data": figures.rank_data(rec, key) if ranked else None,
            "of": of, "ratio": rec.get(f"ratio_{key}") if related else None,
            "value_text": figure(value, key, unit=True) if value is not None else figures.short_reason(rec, key),
            "voivodeship_text": (figure(v.get(key), key, unit=True) if v.get(key) is not None
                                 else figures.short_reason(v, key)),
            "rank_text": figures.rank_text(rec, key, of) if ranked else MISSING,
            "ratio_text": (ratio(rec.get(f"ratio_{key}")) if related and rec.get(f"ratio_{key}") is not None
                           else figures.short_reason(rec, f"ratio_{key}") if related else MISSING),
        })
    return rows


def indicator_frame(ds: Dataset, teryt: str, formatted: bool = False, keys: list[str] | None = None) -> pd.DataFrame:
    """`indicator_rows` as a table with Polish column names (for the notebook); `keys` picks the rows
    (default TABLE_INDICATORS; NEED_INDICATORS for the need beside the supply).

    `formatted=True` gives the texts exactly as the report prints them (a left-out figure: its reason).
    """
    rec = powiat_record(ds, teryt)
    rows = indicator_rows(ds, teryt, keys)
    pick = (lambda r, k: r[f"{k}_text"]) if formatted else (lambda r, k: r[k])
    return pd.DataFrame({
        "wskaźnik": [r["label"] for r in rows],
        powiat_label(rec): [pick(r, "value") for r in rows],
        "województwo": [pick(r, "voivodeship") for r in rows],
        "miejsce": [r["rank_text"] if formatted else r["rank_data"] for r in rows],
        "× województwo": [pick(r, "ratio") for r in rows],
    }).set_index("wskaźnik")


def ranking_frame(ds: Dataset, indicators: list[str] | None = None) -> pd.DataFrame:
    """All powiaty with the main indicators and their ranks, best first by entities per 10k."""
    indicators = indicators or ["entities", *MAIN_INDICATORS]
    table = ds.indicator_table("powiat", reasons="map")
    order = table["rank_entities_per_10k"] if "rank_entities_per_10k" in table else table["name"]
    table = table.assign(_order=order).sort_values(["_order", "name"], na_position="last")
    cols = ["teryt", "name", "population"]
    for key in indicators:
        cols.append(key)
        if f"rank_{key}" in table.columns:
            # A place as data: "3", or "3-5" for a tie; none where the rules leave it out.
            table[f"rank_{key}"] = [figures.rank_data(r, key) for r in table.to_dict("records")]
            cols.append(f"rank_{key}")
    return table[cols].reset_index(drop=True)


def gminy_frame(ds: Dataset, teryt: str) -> pd.DataFrame:
    powiat_record(ds, teryt)
    g = pd.DataFrame(ds.gminy.drop(columns="geometry"))
    g = g[g["powiat_teryt"] == str(teryt)]
    cols = ["teryt", "name", "type_name", "population", "area_km2", "entities", "entities_per_10k",
            "employees", "access_10km_pct", "unemployed", "unemployed_per_10k"]
    return g[[c for c in cols if c in g.columns]].sort_values("name").reset_index(drop=True)


def white_spots_frame(ds: Dataset, teryt: str) -> pd.DataFrame:
    """Gminy of the county with no active entity, most populous first (from the build's white spots)."""
    powiat_record(ds, teryt)
    white = pd.DataFrame(ds.summary.get("white_spots") or [])
    white = white.reindex(columns=["teryt", "name", "powiat_teryt", "powiat_name", "population", "area_km2",
                                   "access_10km_pct", "unemployed", "unemployed_per_10k"])
    white = white[white["powiat_teryt"] == str(teryt)]
    # Ranked by need: the most registered unemployed first, then the most populous.
    return white[["teryt", "name", "population", "area_km2", "access_10km_pct", "unemployed",
                  "unemployed_per_10k"]].sort_values(["unemployed", "population", "name"],
                                                     ascending=[False, False, True],
                                                     na_position="last").reset_index(drop=True)


def entities_frame(ds: Dataset, teryt: str) -> pd.DataFrame:
    """Entities of the county: placed in it by coordinates, or known only to it (precision `powiat`), with
    their type labels, precision in words and sources."""
    powiat_record(ds, teryt)
    counted = placed_mask(ds.entities) | ds.entities["location_precision"].eq("powiat")
    e = ds.entities[(ds.entities["powiat_teryt_computed"] == str(teryt)) & counted]
    out = pd.DataFrame({
        "id": e["id"], "name": e["name"],
        "types": e["types"].fillna("").map(types_label),
        "locality": e["locality"], "gmina": e["gmina_name"],
        "location_precision": e["location_precision"].map(lambda p: PRECISION_PL.get(p, p)),
        "employees": e["employees"], "status": e["status"], "sources": e["sources"].fillna(""),
    })
    return out.sort_values("name").reset_index(drop=True)


def unplaced_in_powiat(ds: Dataset, teryt: str) -> pd.DataFrame:
    """Entities the source assigns to the county that have no coordinates (not counted in indicators)."""
    e = ds.entities[~placed_mask(ds.entities) & ds.entities["location_precision"].ne("powiat")]
    col = e["powiat_teryt"].astype(str) if "powiat_teryt" in e.columns else pd.Series("", index=e.index)
    gmina = e["gmina_teryt"].astype(str) if "gmina_teryt" in e.columns else pd.Series("", index=e.index)
    return pd.DataFrame(e[(col == str(teryt)) | gmina.str.startswith(str(teryt))][["id", "name"]])


def types_frame(ds: Dataset, teryt: str) -> pd.DataFrame:
    """Active entities by type: the county and the voivodeship (types present in either)."""
    rec, v = powiat_record(ds, teryt), ds.voivodeship
    rows = []
    for code, t in entity_types().items():
        here, total = int(rec.get(f"entities_{code}") or 0), int(v.get(f"entities_{code}") or 0)
        if here or total:
            rows.append({"code": code, "type": t.label_pl, "powiat": here, "voivodeship": total})
    return pd.DataFrame(rows, columns=["code", "type", "powiat", "voivodeship"])


def _pct(rec: dict, key: str) -> str:
    return figure(rec.get(key), key, unit=True)


def _place(rec: dict, key: str, of: int) -> str:
    """"miejsce 3–5 z 14" or why there is none (geoes.dataset.figures)."""
    return f"miejsce {figures.rank_text(rec, key, of)}" if rec.get(f"rank_{key}") is not None \
        else f"bez miejsca: {figures.rank_text(rec, key, of)}"


def _density_finding(rec: dict, v: dict, ranked: dict) -> list[str]:
    per10k, v_per10k = rec.get("entities_per_10k"), v.get("entities_per_10k")
    if per10k is None or not v_per10k:
        return []
    label = powiat_label(rec)
    rel = "powyżej" if per10k > v_per10k else "poniżej" if per10k < v_per10k else "na poziomie"
    relation = ratio(rec["ratio_entities_per_10k"]) if rec.get("ratio_entities_per_10k") is not None \
        else figures.short_reason(rec, "ratio_entities_per_10k")
    n = int(rec["entities"])
    without = int(rec.get("entities_without_gmina") or 0)
    extra = f", w tym {count(without, 'podmiot')} bez znanej gminy" if without else ""
    return [f"{capitalised(label)}: {count(n, 'aktywny podmiot')} ekonomii społecznej w znanym "
            f"rejestrze{extra}; {figure(per10k, 'entities_per_10k')} na 10 tys. mieszkańców — {rel} wartości dla "
            f"województwa ({figure(v_per10k, 'entities_per_10k')}; {relation}); "
            f"{_place(rec, 'entities_per_10k', ranked['entities_per_10k'])}."]


def _coverage_finding(rec: dict, v: dict) -> list[str]:
    return [f"Gminy powiatu z podmiotem w rejestrze: {figure(int(rec['gminy_with_entity']))} z "
            f"{figure(int(rec['gminy_total']))} ({_pct(rec, 'gmina_coverage_pct')}; województwo "
            f"{_pct(v, 'gmina_coverage_pct')}); mieszka w nich {_pct(rec, 'population_coverage_pct')} ludności powiatu."]


def _white_spots_finding(white: pd.DataFrame, need_year) -> list[str]:
    if not len(white):
        return ["W każdej gminie powiatu jest co najmniej jeden podmiot z rejestru."]
    first = white.iloc[0]
    if need_year and pd.notna(first.get("unemployed")):
        return [f"Brak podmiotu w rejestrze: {count(len(white), 'gmina')}, łącznie "
                f"{count(int(white['population'].sum()), 'mieszkaniec')} i "
                f"{count(int(white['unemployed'].sum()), 'bezrobotny')} zarejestrowanych ({need_year}); najwięcej "
                f"bezrobotnych ma {first['name']} ({count(int(first['unemployed']), 'bezrobotny')})."]
    return [f"Brak podmiotu w rejestrze: {count(len(white), 'gmina')}, łącznie "
            f"{count(int(white['population'].sum()), 'mieszkaniec')}; najludniejsza z nich to {first['name']} "
            f"({count(int(first['population']), 'mieszkaniec')})."]


def _need_finding(rec: dict, v: dict, ranked: dict, needs: dict) -> list[str]:
    if not needs or rec.get("unemployed") is None:
        return []
    out = (f"Bezrobotni zarejestrowani ({needs['year']}): {count(int(rec['unemployed']), 'osoba')}, "
           f"{figure(rec.get('unemployed_per_10k'), 'unemployed_per_10k')} na 10 tys. mieszkańców (województwo "
           f"{figure(v.get('unemployed_per_10k'), 'unemployed_per_10k')}; "
           f"{_place(rec, 'unemployed_per_10k', ranked['unemployed_per_10k'])})")
    if rec.get("unemployed_change_pct") is not None:
        out += f"; zmiana od {needs['base_year']} r.: {figure(rec['unemployed_change_pct'], 'unemployed_change_pct', unit=True)}"
    if rec.get("unemployment_rate") is not None:
        out += f"; stopa bezrobocia {figure(rec['unemployment_rate'], 'unemployment_rate', unit=True)}"
    return [out + ". Źródło: GUS, Bank Danych Lokalnych."]


def _access_findings(rec: dict, v: dict, ranked: dict, gminy: pd.DataFrame) -> list[str]:
    km = ACCESS_RADIUS_M // 1000
    out = [f"W odległości do {km} km (w linii prostej) od aktywnego podmiotu z rejestru leży "
           f"{_pct(rec, 'access_10km_pct')} powierzchni powiatu (województwo {_pct(v, 'access_10km_pct')}; "
           f"{_place(rec, 'access_10km_pct', ranked['access_10km_pct'])})."]
    if len(gminy):
        worst = plain_record(gminy.sort_values(["access_10km_pct", "name"]).iloc[0], drop=())
        out.append(f"Najsłabszy dostęp ma gmina {worst['name']}: {_pct(worst, 'access_10km_pct')} powierzchni "
                   f"w zasięgu {km} km.")
    return out


def _completeness_finding(summary: dict) -> list[str]:
    known = sorted((r for r in summary.get("completeness", []) if r.get("pct") is not None), key=lambda r: r["pct"])
    if not known:
        return []
    unplaced = int(summary.get("entities_total", 0)) - int(summary.get("entities_placed", 0)) \
        - int(summary.get("voivodeship", {}).get("entities_without_gmina") or 0)
    lo, hi = known[0], known[-1]
    return [f"Kompletność: rejestr obejmuje od {figure(lo['pct'], 'gmina_coverage_pct', unit=True)} ({lo['short']}: "
            f"{lo['in_file']} z {lo['official']}, {lo['official_as_of']}) do "
            f"{figure(hi['pct'], 'gmina_coverage_pct', unit=True)} ({hi['short']}: {hi['in_file']} z "
            f"{hi['official']}, {hi['official_as_of']}) podmiotów znanych z danych oficjalnych; bez lokalizacji: "
            f"{count(unplaced, 'podmiot')}. Wskaźniki opisują znany rejestr, nie wszystkie podmioty."]


def findings(ds: Dataset, teryt: str) -> list[str]:
    """Plain-language findings, each sentence built from the values."""
    rec, v = powiat_record(ds, teryt), ds.voivodeship
    ranked = {k: figures.ranked_count(ds.powiaty, k) for k in figures.RANKED}
    needs = (ds.summary.get("method") or {}).get("needs") or {}
    return [*_density_finding(rec, v, ranked), *_coverage_finding(rec, v),
            *_need_finding(rec, v, ranked, needs),
            *_white_spots_finding(white_spots_frame(ds, teryt), needs.get("year")),
            *_access_findings(rec, v, ranked, gminy_frame(ds, teryt)), *_completeness_finding(ds.summary)]


# ---------------------------------------------------------------- images (geoes.publish.charts)

def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _image(png: bytes, alt: str, title: str, dpi: int = REPORT_DPI) -> dict:
    """An image of the report at its natural size: CSS pixels (1/96 in) from the PNG's pixels and `dpi`,
    so the chart's 8-pt labels print at 8 pt — never stretched to the page or shrunk to a stamp."""
    with Image.open(io.BytesIO(png)) as im:
        width, height = im.size
    return {"src": _data_uri(png), "alt": alt, "title": title,
            "width": round(width / dpi * 96), "height": round(height / dpi * 96)}


def images(ds: Dataset, teryt: str) -> dict:
    """PNG charts and maps for the report: {name: {"src": data URI, "alt", "title", "width", "height"}}.
    Drawn for print: a chart a page wide and half a page high at most (two to a page), maps two to a
    page; no completeness footnote in them — the report states it once, in its text."""
    rec = powiat_record(ds, teryt)
    label = powiat_label(rec)
    Label = capitalised(label)
    powiaty_table = pd.DataFrame(ds.powiaty.drop(columns="geometry"))
    gm = ds.gminy[ds.gminy["powiat_teryt"] == str(teryt)]
    placed = ds.entities[placed_mask(ds.entities)]
    outline = ds.powiaty[ds.powiaty["teryt"] == str(teryt)]
    chart = {"width": CHART_WIDTH, "bar": CHART_BAR, "dpi": REPORT_DPI}
    out = {}
    for key in charts.chartable(powiaty_table)[0]:
        out[f"ranking_{key}"] = _image(
            charts.ranking_chart(powiaty_table, key, str(teryt), ds.voivodeship.get(key),
                                 title_unit=f"powiaty ({label} wyróżniony)", **chart),
            f"Wykres: {LABELS_PL.get(key, key)} we wszystkich powiatach; {label}: "
            f"{figure(rec.get(key), key, unit=True)}, województwo {figure(ds.voivodeship.get(key), key, unit=True)}.",
            LABELS_PL.get(key, key))
    out["compare"] = _image(
        charts.compare_chart([rec], ds.voivodeship, width=CHART_WIDTH, dpi=REPORT_DPI),
        f"Wykres: główne wskaźniki – {label} jako procent wartości dla województwa.",
        "Względem województwa (100 = województwo)")
    gminy_table = pd.DataFrame(gm.drop(columns="geometry"))
    # ranking_chart needs a highlighted row present in the table: the gmina with the weakest access.
    weakest = gminy_table.sort_values(["access_10km_pct", "name"]).iloc[0]
    out["gminy_access"] = _image(
        charts.ranking_chart(gminy_table, "access_10km_pct", weakest["teryt"], rec.get("access_10km_pct"),
                             title_unit=f"gminy ({label})", reference_label="powiat", **chart),
        f"Wykres: powierzchnia w zasięgu {ACCESS_RADIUS_M // 1000} km od podmiotu w gminach – {label}.",
        f"Zasięg {ACCESS_RADIUS_M // 1000} km w gminach powiatu")
    out["map_powiat"] = _image(
        charts.static_map(gm, placed[placed["powiat_teryt_computed"] == str(teryt)],
                          f"{Label}: podmioty ekonomii społecznej", outline=outline,
                          breaks=level_breaks(ds.gminy), size=MAP_SIZE, dpi=REPORT_DPI),
        f"Mapa gmin – {label}: podmioty na 10 tys. mieszkańców, białe plamy zakreskowane, "
        f"podmioty jako punkty. Te same dane podaje tabela gmin.",
        "Mapa powiatu: podmioty na 10 tys. mieszkańców")
    out["map_region"] = _image(
        charts.static_map(ds.powiaty, placed, f"Województwo {ds.voivodeship.get('name', '')}: "
                          f"podmioty na 10 tys. mieszkańców w powiatach", outline=outline,
                          breaks=level_breaks(ds.powiaty), size=MAP_SIZE, dpi=REPORT_DPI),
        f"Mapa powiatów województwa: podmioty na 10 tys. mieszkańców; {label} obwiedziony. "
        f"Te same dane podaje tabela powiatów.",
        "Mapa województwa: powiaty")
    return out


# ---------------------------------------------------------------- rendering

@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """The package's Jinja set-up (geoes.publish.templating), strict, plus the report's figure rule."""
    env = templating.environment(TEMPLATE_DIR, strict=True)
    env.globals["figure"] = figure
    env.filters["breakable"] = breakable
    return env


def css_string(text: str) -> str:
    """`text` for a CSS string in the report's <style> (the printed page footer): anything but letters,
    digits, spaces and a little punctuation is a CSS escape, so no quote or tag can end the string."""
    return "".join(c if c.isalnum() or c in " .,–-()" else f"\\{ord(c):06x}" for c in text)


def breakable(url) -> Markup:
    """A long address that wraps at its own seams (after / . - _ ? & = #), not in the middle of a word."""
    return Markup("<wbr>").join(escape(part) for part in re.split(r"(?<=[/.\-_?&=#])(?!/)", str(url)) if part)


def _ranking_parts(ranking: pd.DataFrame) -> list[dict]:
    """The parts of the table of all powiaty (RANKING_PARTS) with the indicators any powiat has a value of."""
    parts = []
    for caption, keys in RANKING_PARTS:
        shown = [k for k in keys if k in ranking.columns and ranking[k].notna().any()]
        if shown:
            parts.append({"caption": caption, "columns": shown})
    return parts


def _source_notes(entities: list[dict]) -> list[tuple[int, str]]:
    """Number the entities' source addresses (each address once) and give each entity its numbers: the
    table cites [n], the list under it gives the address, so long URLs do not stretch the table."""
    numbers: dict[str, int] = {}
    for e in entities:
        e["refs"] = []
        for url in e["source_urls"]:
            numbers.setdefault(url, len(numbers) + 1)
            e["refs"].append((numbers[url], url))
    return [(n, url) for url, n in numbers.items()]


def _official_sources(rows: list[dict]) -> list[dict]:
    """The official counts' sources (each once), for the list of sources."""
    seen: dict[str, dict] = {}
    for r in rows:
        if r.get("official_source") and r["official_source"] not in seen:
            seen[r["official_source"]] = {"url": r["official_source"], "name": r.get("official_source_name") or ""}
    return list(seen.values())


def context(ds: Dataset, teryt: str, generated_at: datetime | None = None) -> dict:
    rec = powiat_record(ds, teryt)
    label = powiat_label(rec)
    rows = indicator_rows(ds, teryt)
    by_key = {r["key"]: r for r in rows}
    key_figures = [by_key[k] for k in KEY_FIGURES]
    ranking = ranking_frame(ds)
    ents = entities_frame(ds, teryt)
    entity_rows = []
    for r in ents.to_dict("records"):
        r = {k: plain(v) for k, v in r.items()}
        r["source_urls"] = [s.strip() for s in str(r["sources"] or "").split(" | ") if s.strip()]
        entity_rows.append(r)
    source_notes = _source_notes(entity_rows)
    att = ds.summary.get("attribution") or attribution()
    method = ds.summary.get("method", {})
    needs = method.get("needs") or {}
    trend_years, trend_rows = official.trend_table(ds.summary.get("official_series") or [])
    completeness_rows = ds.summary.get("completeness", [])
    toc = [(i, t) for i, t in TOC if i != "h-trends" or trend_rows]
    return {
        "toc": toc, "toc_number": {i[2:]: n for n, (i, _) in enumerate(toc, start=1)},
        "footer_title": css_string(f"{capitalised(label)} – podmioty ekonomii społecznej"),
        "need_rows": indicator_rows(ds, teryt, NEED_INDICATORS) if needs else [], "needs": needs,
        "completeness_items": [official.statement(r) for r in completeness_rows],
        "register_incomplete": official.incomplete(completeness_rows),
        "trend_years": trend_years, "trend_rows": trend_rows,
        "active_statuses": ", ".join(STATUS_PL.get(x, x) for x in method.get("active_statuses", [])),
        "access_method": access_method_label(method.get("access_method")),
        "min_known_pct": f"{figures.MIN_EMPLOYEES_KNOWN_PCT:.0f}", "min_ranked": figures.MIN_RANKED_UNITS,
        "rec": rec, "label": label, "Label": capitalised(label), "teryt": str(teryt),
        "voivodeship": ds.voivodeship, "n_powiaty": len(ds.powiaty),
        "rows": rows, "key_figures": key_figures,
        "ranking": [{k: plain(v) for k, v in r.items()} for r in ranking.to_dict("records")],
        "ranking_keys": [c for c in ranking.columns if c not in ("teryt", "name") and not c.startswith("rank_")],
        "ranking_parts": _ranking_parts(ranking),
        "labels": LABELS_PL,
        # The report's tables name their columns as the files for people do (geoes.common.dictionary).
        "column_labels": {k: dictionary.label(k, "units", "powiat")
                          for k in [*ranking.columns, "area_km2", "unemployed", "unemployed_per_10k",
                                    "entities_per_10k", "access_10km_pct", "population", "entities"]},
        "source_notes": source_notes,
        "official_sources": _official_sources(completeness_rows),
        "gminy": [{k: plain(v) for k, v in r.items()} for r in gminy_frame(ds, teryt).to_dict("records")],
        "white": [{k: plain(v) for k, v in r.items()} for r in white_spots_frame(ds, teryt).to_dict("records")],
        "types": types_frame(ds, teryt).to_dict("records"),
        "entities": entity_rows,
        "unplaced": unplaced_in_powiat(ds, teryt).to_dict("records"),
        "completeness": ds.summary.get("completeness", []),
        "completeness_text": completeness_text(ds.summary.get("completeness", [])),
        "findings": findings(ds, teryt),
        "images": images(ds, teryt),
        "charts_left_out": charts.chartable(pd.DataFrame(ds.powiaty.drop(columns="geometry")))[1],
        "method": method, "attribution": att,
        "access_km": ACCESS_RADIUS_M // 1000, "crs_metric": method.get("crs_metric", CRS_METRIC),
        "summary": ds.summary, "version": ds.version,
        "generated_at": (generated_at or datetime.now(timezone.utc)).strftime("%Y-%m-%d %H:%M UTC"),
    }


def render_html(ds: Dataset, teryt: str, generated_at: datetime | None = None) -> str:
    """The county report as one self-contained HTML document (raises UnknownPowiat)."""
    return environment().get_template("report.html").render(**context(ds, str(teryt), generated_at))


def chromium_path() -> str | None:
    for name in (Settings.from_env().chromium, "chromium", "chromium-browser", "google-chrome"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


class PdfUnavailable(DataMissing, RuntimeError):
    pass


def html_to_pdf(html: str, timeout: float = 120) -> bytes:
    """Print the self-contained HTML to PDF with headless Chromium (no network is needed or used)."""
    exe = chromium_path()
    if exe is None:
        raise PdfUnavailable("do zapisu PDF potrzebny jest Chromium (scripts/setup.sh go instaluje); "
                             "zapisz raport jako .html i wydrukuj go z przeglądarki")
    with tempfile.TemporaryDirectory(prefix="geoes-report-") as tmp:
        src, out = Path(tmp) / "raport.html", Path(tmp) / "raport.pdf"
        src.write_text(html, encoding="utf-8")
        args = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--no-first-run", "--no-pdf-header-footer", f"--user-data-dir={tmp}/profile",
                f"--print-to-pdf={out}", src.as_uri()]
        try:
            proc = subprocess.run(args, capture_output=True, timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            raise PdfUnavailable(f"Chromium nie wydrukował raportu w {timeout:.0f} s") from exc
        if not out.exists() or out.stat().st_size == 0:
            raise PdfUnavailable("Chromium nie utworzył pliku PDF: "
                                 + proc.stderr.decode("utf-8", "replace").strip()[-300:])
        return out.read_bytes()


def write_report(ds: Dataset, teryt: str, path: Path | str) -> Path:
    """Write the report to `path` (.pdf → PDF via Chromium, anything else → HTML), atomically."""
    path = Path(path)
    html = render_html(ds, teryt)
    if path.suffix.lower() == ".pdf":
        atomic_write_bytes(path, html_to_pdf(html))
    else:
        atomic_write_text(path, html)
    return path


__all__ = [
    "UnknownPowiat", "PdfUnavailable", "figure", "NEED_INDICATORS", "powiat_record", "powiat_label", "indicator_rows",
    "indicator_frame", "ranking_frame", "gminy_frame", "white_spots_frame", "entities_frame", "types_frame",
    "unplaced_in_powiat", "findings", "images", "render_html", "write_report", "html_to_pdf", "RANKED",
]
