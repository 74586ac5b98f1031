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
import shutil
import subprocess
import tempfile
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path

import jinja2
import pandas as pd

from geoes.common.polish import MISSING, NBSP, count, is_missing, number, ratio
from geoes.common.values import plain, plain_record
from geoes.config import ACCESS_RADIUS_M, CRS_METRIC, Settings
from geoes.dataset.reader import Dataset
from geoes.dataset.indicators import LABELS_PL, RANKED, completeness_text
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
# Figures at the top of the report (each carries data-key/data-value for checks and reuse).
KEY_FIGURES = [
    "population", "area_km2", "entities", "entities_per_10k", "gmina_coverage_pct",
    "population_coverage_pct", "access_10km_pct",
]
DECIMALS = {
    "area_km2": 2, "area_km2_computed": 2, "entities_per_10k": 3, "entities_per_100km2": 3,
    "employees_per_10k": 3, "employees_known_pct": 1, "gmina_coverage_pct": 1,
    "population_coverage_pct": 1, "access_10km_pct": 1,
}
UNITS = {"area_km2": " km²", "employees_known_pct": " %", "gmina_coverage_pct": " %",
         "population_coverage_pct": " %", "access_10km_pct": " %"}


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
    rows = ds.indicator_table("powiat")
    match = rows[rows["teryt"] == str(teryt)]
    if match.empty:
        raise UnknownPowiat(str(teryt))
    rec = {k: plain(v) for k, v in match.iloc[0].items()}
    city = ds.powiaty.loc[ds.powiaty["teryt"] == str(teryt), "city_county"]
    rec["city_county"] = bool(city.iloc[0]) if len(city) and not is_missing(city.iloc[0]) else False
    return rec


def indicator_rows(ds: Dataset, teryt: str) -> list[dict]:
    """The county against the voivodeship, one dict per indicator (raw values and formatted text)."""
    rec, v, n = powiat_record(ds, teryt), ds.voivodeship, len(ds.powiaty)
    rows = []
    for key in TABLE_INDICATORS:
        rank = rec.get(f"rank_{key}")
        rows.append({
            "key": key, "label": LABELS_PL.get(key, key),
            "value": rec.get(key), "voivodeship": plain(v.get(key)),
            "rank": None if rank is None else int(rank), "of": n, "ratio": rec.get(f"ratio_{key}"),
            "value_text": figure(rec.get(key), key, unit=True), "voivodeship_text": figure(v.get(key), key, unit=True),
            "rank_text": "–" if rank is None else f"{int(rank)}/{n}", "ratio_text": ratio(rec.get(f"ratio_{key}")),
        })
    return rows


def indicator_frame(ds: Dataset, teryt: str, formatted: bool = False) -> pd.DataFrame:
    """`indicator_rows` as a table with Polish column names (for the notebook).

    `formatted=True` gives the texts exactly as the report prints them.
    """
    rec = powiat_record(ds, teryt)
    rows = indicator_rows(ds, teryt)
    pick = (lambda r, k: r[f"{k}_text"]) if formatted else (lambda r, k: r[k])
    return pd.DataFrame({
        "wskaźnik": [r["label"] for r in rows],
        powiat_label(rec): [pick(r, "value") for r in rows],
        "województwo": [pick(r, "voivodeship") for r in rows],
        f"miejsce (na {len(ds.powiaty)})": [pick(r, "rank") for r in rows],
        "× województwo": [pick(r, "ratio") for r in rows],
    }).set_index("wskaźnik")


def ranking_frame(ds: Dataset, indicators: list[str] | None = None) -> pd.DataFrame:
    """All powiaty with the main indicators and their ranks, best first by entities per 10k."""
    indicators = indicators or ["entities", *MAIN_INDICATORS]
    table = ds.indicator_table("powiat")
    cols = ["teryt", "name", "population"]
    for key in indicators:
        cols.append(key)
        if f"rank_{key}" in table.columns:
            cols.append(f"rank_{key}")
    return table[cols].sort_values(["rank_entities_per_10k", "name"]).reset_index(drop=True)


def gminy_frame(ds: Dataset, teryt: str) -> pd.DataFrame:
    powiat_record(ds, teryt)
    g = pd.DataFrame(ds.gminy.drop(columns="geometry"))
    g = g[g["powiat_teryt"] == str(teryt)]
    cols = ["teryt", "name", "type_name", "population", "area_km2", "entities", "entities_per_10k",
            "employees", "access_10km_pct"]
    return g[[c for c in cols if c in g.columns]].sort_values("name").reset_index(drop=True)


def white_spots_frame(ds: Dataset, teryt: str) -> pd.DataFrame:
    """Gminy of the county with no active entity, most populous first (from the build's white spots)."""
    powiat_record(ds, teryt)
    white = pd.DataFrame(ds.summary.get("white_spots") or [],
                         columns=["teryt", "name", "powiat_teryt", "powiat_name", "population", "area_km2",
                                  "access_10km_pct"])
    white = white[white["powiat_teryt"] == str(teryt)]
    return white[["teryt", "name", "population", "area_km2", "access_10km_pct"]].sort_values(
        ["population", "name"], ascending=[False, True]).reset_index(drop=True)


def entities_frame(ds: Dataset, teryt: str) -> pd.DataFrame:
    """Entities placed in the county (by coordinates), with their type labels and sources."""
    powiat_record(ds, teryt)
    e = ds.entities[(ds.entities["powiat_teryt_computed"] == str(teryt)) & placed_mask(ds.entities)]
    out = pd.DataFrame({
        "id": e["id"], "name": e["name"],
        "types": e["types"].fillna("").map(types_label),
        "locality": e["locality"], "gmina": e["gmina_name"], "location_precision": e["location_precision"],
        "employees": e["employees"], "status": e["status"], "sources": e["sources"].fillna(""),
    })
    return out.sort_values("name").reset_index(drop=True)


def unplaced_in_powiat(ds: Dataset, teryt: str) -> pd.DataFrame:
    """Entities the source assigns to the county that have no coordinates (not counted in indicators)."""
    e = ds.entities[~placed_mask(ds.entities)]
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


def _density_finding(rec: dict, v: dict, n: int) -> list[str]:
    per10k, v_per10k = rec.get("entities_per_10k"), v.get("entities_per_10k")
    if per10k is None or not v_per10k:
        return []
    label = powiat_label(rec)
    rel = "powyżej" if per10k > v_per10k else "poniżej" if per10k < v_per10k else "na poziomie"
    return [f"{capitalised(label)}: {count(int(rec['entities']), 'aktywny podmiot')} ekonomii społecznej "
            f"w pliku, {figure(per10k, 'entities_per_10k')} na 10 tys. mieszkańców — {rel} wartości dla "
            f"województwa ({figure(v_per10k, 'entities_per_10k')}; {ratio(rec.get('ratio_entities_per_10k'))}); "
            f"{rec.get('rank_entities_per_10k')}. miejsce na {count(n, 'powiat')}."]


def _coverage_finding(rec: dict, v: dict) -> list[str]:
    return [f"Gminy powiatu z podmiotem: {figure(int(rec['gminy_with_entity']))} z {figure(int(rec['gminy_total']))} "
            f"({_pct(rec, 'gmina_coverage_pct')}; województwo {_pct(v, 'gmina_coverage_pct')}); mieszka w nich "
            f"{_pct(rec, 'population_coverage_pct')} ludności powiatu."]


def _white_spots_finding(white: pd.DataFrame) -> list[str]:
    if not len(white):
        return ["W każdej gminie powiatu działa co najmniej jeden podmiot z pliku — brak białych plam."]
    largest = white.iloc[0]
    return [f"Białe plamy: {count(len(white), 'gmina')} bez żadnego podmiotu, łącznie "
            f"{count(int(white['population'].sum()), 'mieszkaniec')}; najludniejsza z nich to {largest['name']} "
            f"({count(int(largest['population']), 'mieszkaniec')})."]


def _access_findings(rec: dict, v: dict, n: int, gminy: pd.DataFrame) -> list[str]:
    km = ACCESS_RADIUS_M // 1000
    out = [f"W odległości do {km} km (w linii prostej) od aktywnego podmiotu leży {_pct(rec, 'access_10km_pct')} "
           f"powierzchni powiatu (województwo {_pct(v, 'access_10km_pct')}; "
           f"{rec.get('rank_access_10km_pct')}. miejsce na {n})."]
    if len(gminy):
        worst = plain_record(gminy.sort_values(["access_10km_pct", "name"]).iloc[0], drop=())
        out.append(f"Najsłabszy dostęp ma gmina {worst['name']}: {_pct(worst, 'access_10km_pct')} powierzchni "
                   f"w zasięgu {km} km.")
    return out


def _completeness_finding(summary: dict) -> list[str]:
    known = sorted((r for r in summary.get("completeness", []) if r.get("pct") is not None), key=lambda r: r["pct"])
    if not known:
        return []
    unplaced = int(summary.get("entities_total", 0)) - int(summary.get("entities_placed", 0))
    lo, hi = known[0], known[-1]
    return [f"Kompletność: plik obejmuje od {figure(lo['pct'], 'gmina_coverage_pct', unit=True)} ({lo['short']}: "
            f"{lo['in_file']} z {lo['official']}) do {figure(hi['pct'], 'gmina_coverage_pct', unit=True)} "
            f"({hi['short']}: {hi['in_file']} z {hi['official']}) podmiotów znanych z danych oficjalnych; "
            f"jeszcze bez lokalizacji: {count(unplaced, 'podmiot')}. Wskaźniki opisują plik, nie pełny rejestr."]


def findings(ds: Dataset, teryt: str) -> list[str]:
    """Plain-language findings, each sentence built from the values."""
    rec, v, n = powiat_record(ds, teryt), ds.voivodeship, len(ds.powiaty)
    return [*_density_finding(rec, v, n), *_coverage_finding(rec, v), *_white_spots_finding(white_spots_frame(ds, teryt)),
            *_access_findings(rec, v, n, gminy_frame(ds, teryt)), *_completeness_finding(ds.summary)]


# ---------------------------------------------------------------- images (geoes.publish.charts)

def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def images(ds: Dataset, teryt: str) -> dict:
    """PNG charts and maps for the report: {name: {"src": data URI, "alt": text}}."""
    rec = powiat_record(ds, teryt)
    label = powiat_label(rec)
    Label = capitalised(label)
    powiaty_table = pd.DataFrame(ds.powiaty.drop(columns="geometry"))
    gm = ds.gminy[ds.gminy["powiat_teryt"] == str(teryt)]
    placed = ds.entities[placed_mask(ds.entities)]
    outline = ds.powiaty[ds.powiaty["teryt"] == str(teryt)]
    out = {}
    for key in charts.MAIN_INDICATORS:
        out[f"ranking_{key}"] = {
            "src": _data_uri(charts.ranking_chart(powiaty_table, key, str(teryt), ds.voivodeship.get(key),
                                                  title_unit=f"powiaty ({label} wyróżniony)")),
            "alt": f"Wykres: {LABELS_PL.get(key, key)} we wszystkich powiatach; {label}: "
                   f"{figure(rec.get(key), key, unit=True)}, województwo {figure(ds.voivodeship.get(key), key, unit=True)}.",
            "title": LABELS_PL.get(key, key),
        }
    out["compare"] = {
        "src": _data_uri(charts.compare_chart([rec], ds.voivodeship)),
        "alt": f"Wykres: główne wskaźniki – {label} jako procent wartości dla województwa.",
        "title": "Względem województwa (100 = województwo)",
    }
    gminy_table = pd.DataFrame(gm.drop(columns="geometry"))
    # ranking_chart needs a highlighted row present in the table: the gmina with the weakest access.
    weakest = gminy_table.sort_values(["access_10km_pct", "name"]).iloc[0]
    out["gminy_access"] = {
        "src": _data_uri(charts.ranking_chart(gminy_table, "access_10km_pct", weakest["teryt"],
                                              rec.get("access_10km_pct"), title_unit=f"gminy ({label})",
                                              reference_label="powiat")),
        "alt": f"Wykres: powierzchnia w zasięgu {ACCESS_RADIUS_M // 1000} km od podmiotu w gminach – {label}.",
        "title": f"Zasięg {ACCESS_RADIUS_M // 1000} km w gminach powiatu",
    }
    out["map_powiat"] = {
        "src": _data_uri(charts.static_map(gm, placed[placed["powiat_teryt_computed"] == str(teryt)],
                                           f"{Label}: podmioty ekonomii społecznej", outline=outline,
                                           breaks=level_breaks(ds.gminy))),
        "alt": f"Mapa gmin – {label}: podmioty na 10 tys. mieszkańców, białe plamy zakreskowane, "
               f"podmioty jako punkty. Te same dane podaje tabela gmin.",
        "title": "Mapa powiatu: podmioty na 10 tys. mieszkańców",
    }
    out["map_region"] = {
        "src": _data_uri(charts.static_map(ds.powiaty, placed, f"Województwo {ds.voivodeship.get('name', '')}: "
                                           f"podmioty na 10 tys. mieszkańców w powiatach", outline=outline,
                                           breaks=level_breaks(ds.powiaty))),
        "alt": f"Mapa powiatów województwa: podmioty na 10 tys. mieszkańców; {label} obwiedziony. "
               f"Te same dane podaje tabela powiatów.",
        "title": "Mapa województwa: powiaty",
    }
    return out


# ---------------------------------------------------------------- rendering

@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """The package's Jinja set-up (geoes.publish.templating), strict, plus the report's figure rule."""
    env = templating.environment(TEMPLATE_DIR, strict=True)
    env.globals["figure"] = figure
    return env


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
    att = ds.summary.get("attribution") or attribution()
    method = ds.summary.get("method", {})
    return {
        "rec": rec, "label": label, "Label": capitalised(label), "teryt": str(teryt),
        "voivodeship": ds.voivodeship, "n_powiaty": len(ds.powiaty),
        "rows": rows, "key_figures": key_figures,
        "ranking": [{k: plain(v) for k, v in r.items()} for r in ranking.to_dict("records")],
        "ranking_keys": [c for c in ranking.columns if c not in ("teryt", "name") and not c.startswith("rank_")],
        "labels": LABELS_PL,
        "gminy": [{k: plain(v) for k, v in r.items()} for r in gminy_frame(ds, teryt).to_dict("records")],
        "white": [{k: plain(v) for k, v in r.items()} for r in white_spots_frame(ds, teryt).to_dict("records")],
        "types": types_frame(ds, teryt).to_dict("records"),
        "entities": entity_rows,
        "unplaced": unplaced_in_powiat(ds, teryt).to_dict("records"),
        "completeness": ds.summary.get("completeness", []),
        "completeness_text": completeness_text(ds.summary.get("completeness", [])),
        "findings": findings(ds, teryt),
        "images": images(ds, teryt),
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
    "UnknownPowiat", "PdfUnavailable", "figure", "powiat_record", "powiat_label", "indicator_rows",
    "indicator_frame", "ranking_frame", "gminy_frame", "white_spots_frame", "entities_frame", "types_frame",
    "unplaced_in_powiat", "findings", "images", "render_html", "write_report", "html_to_pdf", "RANKED",
]
