"""Trends (/trendy): the official counts of entities by type and year as a chart and a table, and the
register's own history — entities by type and powiat in each kept dataset version (CSV download).

Every figure is one a source gives for that year; a year without one stays empty (never interpolated).
"""
from __future__ import annotations

import pandas as pd
from flask import Blueprint, Response, current_app, request

from geoes.dataset import history, official
from geoes.publish import charts
from geoes.publish.filters import choice, reject_unknown
from geoes.publish.tables import DIALECTS, to_csv
from geoes.web.pagecache import cached_page
from geoes.web.pages.views import chart_width, csv_response, dataset, png_response, render
from geoes.web.served import served_data

bp = Blueprint("trends", __name__)

CHART_TITLE = "Oficjalne liczby podmiotów ekonomii społecznej według typu i roku"
HISTORY_HEADERS_PL = {"version": "Wersja danych", "built_at": "Zbudowano", "powiat_teryt": "Powiat – kod TERYT",
                      "powiat_name": "Powiat", "type": "Typ – kod", "type_label": "Typ",
                      "entities": "Podmioty w rejestrze"}


def _official(ds) -> pd.DataFrame | None:
    path = current_app.extensions["geoes_settings"].official_counts_path
    return pd.read_csv(path, dtype=str) if path.exists() else None


def _series(ds):
    """The official counts by type the served version was built against (or, for an older version, the file)."""
    kept = ds.summary.get("official_series")
    return kept if kept is not None else official.type_series(_official(ds))


def _history(ds) -> pd.DataFrame:
    return history.register_history(current_app.extensions["geoes_settings"])


@bp.get("/trendy")
@cached_page
def index():
    ds = dataset()
    years, rows = served_data().cached(("trends", "official"), lambda d: official.trend_table(_series(d)))
    hist = served_data().cached(("trends", "history"), _history)
    totals = history.totals_by_type(hist)
    covered = sorted({y for r in rows for y in r["values"]})
    return render("trends.html", ds=ds, years=years, rows=rows, covered=covered,
                  gaps=[y for y in years if y not in covered], others=official.other_figures(_official(ds)),
                  totals=totals.to_dict("records") if len(totals) else [],
                  total_types=[c for c in totals.columns if c not in ("version", "built_at")] if len(totals) else [],
                  source_name=official.source_name)


@bp.get("/trendy/wykres.png")
def chart():
    width = chart_width(request.args, 8.5)

    def make(d):
        years, rows = official.trend_table(_series(d))
        return charts.official_trend_chart(years, rows, CHART_TITLE, width=width)
    return png_response(served_data().cached(("trends", "chart", width), make), "geoes_trendy_oficjalne.png")


@bp.get("/trendy/rejestr.csv")
def register_csv():
    """The register's history by version, powiat and type: `dialect=gis` (default) or `excel-pl`."""
    reject_unknown(request.args, ("dialect",))
    dialect = choice(request.args, "dialect", DIALECTS, "gis")
    hist = served_data().cached(("trends", "history"), _history)
    table = hist.rename(columns={"version": "wersja_danych", "built_at": "zbudowano", "powiat_teryt": "powiat_teryt",
                                 "powiat_name": "powiat", "type": "typ", "type_label": "typ_nazwa",
                                 "entities": "podmioty_aktywne"})
    if dialect == "excel-pl":  # for people: Polish headers, as the other files for Excel
        people = hist.rename(columns=HISTORY_HEADERS_PL)[list(HISTORY_HEADERS_PL.values())]
        body = to_csv(people, "excel-pl", codes={HISTORY_HEADERS_PL["powiat_teryt"]})
        return Response(body, mimetype="text/csv", headers={
            "Content-Disposition": 'attachment; filename="geoes_historia_rejestru_excel-pl.csv"',
            "Content-Type": "text/csv; charset=utf-8"})
    return csv_response(table, "geoes_historia_rejestru.csv")
