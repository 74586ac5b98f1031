"""Territorial units: the list of powiaty (/powiaty), the county profile (/powiaty/<teryt>) with its
report, charts, static map and CSV tables, the gmina profile (/gminy/<teryt>) and the comparison of 2–4
units (/compare)."""
from __future__ import annotations

import pandas as pd
from flask import Blueprint, request

from geoes.common.text import polish_key, sort_by_name
from geoes.common.values import plain_record
from geoes.dataset import figures
from geoes.dataset.indicators import LABELS_PL
from geoes.errors import NotFound
from geoes.publish import charts
from geoes.publish.classes import level_breaks
from geoes.publish.filters import ParamError, parse_teryts
from geoes.publish.labels import capitalised, gmina_label, powiat_label
from geoes.publish.report import render_html
from geoes.web.http import respond
from geoes.web.maps import bounds_of
from geoes.web.pagecache import cached_page
from geoes.web.pages.mapconfig import map_config
from geoes.web.pages.views import (NEED_INDICATORS, PROFILE_INDICATORS, chart_width, csv_response, dataset,
                                   entity_rows, find_unit, indicator_decimals, indicator_rows, need_source,
                                   placed, png_response, powiat_choices, record, render, type_rows,
                                   unit_map_parts)
from geoes.web.served import served_data

bp = Blueprint("units", __name__)

COMPARE_MIN, COMPARE_MAX = 2, 4


@bp.get("/powiaty")
@cached_page
def powiaty():
    ds = dataset()
    rows = sorted(ds.powiaty.drop(columns="geometry").to_dict("records"),
                  key=lambda r: (bool(r["city_county"]), polish_key(r["name"])))
    return render("powiaty.html", ds=ds, rows=[plain_record(r) for r in rows],
                  voivodeship=ds.voivodeship, powiat_label=powiat_label)


@bp.get("/powiaty/<teryt>/raport.html")
def powiat_report(teryt):
    """The self-contained county report (geoes.publish.report), the same as `python -m geoes report`.

    Its ~800 kB (charts inline) are encoded once per version and served like the API's cached bodies
    (geoes.web.http: gzip kept, ETag of the version, 304)."""
    ds = dataset()
    find_unit(ds, teryt, "powiat")
    html = served_data().cached(("report", teryt), lambda d: render_html(d, teryt).encode("utf-8"))
    return respond(html, headers={"Content-Type": "text/html; charset=utf-8", "ETag": f'"{ds.version}-raport-{teryt}"',
                                  "Content-Disposition": f'inline; filename="raport_powiat_{teryt}.html"'})


@bp.get("/powiaty/<teryt>")
@cached_page
def powiat(teryt):
    ds = dataset()
    rec = find_unit(ds, teryt, "powiat")
    gminy = sort_by_name(ds.gminy[ds.gminy["powiat_teryt"] == teryt])
    gmina_recs = [record(r) for _, r in gminy.iterrows()]
    ents = sort_by_name(ds.entities[ds.entities["powiat_teryt_computed"] == teryt])
    bounds = bounds_of(ds.powiaty[ds.powiaty["teryt"] == teryt])
    cfg = map_config(ds, "unit", unit={"level": "powiat", "teryt": teryt, "label": powiat_label(rec)},
                     entityFilter={"powiat": teryt}, highlight=[teryt])
    white = sorted((r for r in gmina_recs if not r["entities"]),
                   key=lambda r: (-(r.get("unemployed") or 0), -(r.get("population") or 0), polish_key(r["name"])))
    drawn, not_drawn = charts.chartable(ds.powiaty)
    card_ranks = {k: figures.rank_text(rec, k, figures.ranked_count(ds.powiaty, k))
                  for k in ("entities", "entities_per_10k")}
    # "Porównaj z": the other powiaty as the powiat lists have them (by name, the cities last).
    others = [{"teryt": r["teryt"], "label": powiat_label(r)} for r in powiat_choices(ds) if r["teryt"] != teryt]
    return render("powiat.html", ds=ds, rec=rec, label=powiat_label(rec), mapcfg=cfg, others=others,
                  parts=unit_map_parts(bounds, ("powiat", teryt)),
                  rows=indicator_rows(rec, ds.voivodeship, ds.powiaty),
                  need_rows=indicator_rows(rec, ds.voivodeship, ds.powiaty, names=NEED_INDICATORS),
                  needs=need_source(ds), card_ranks=card_ranks, types=type_rows(ds, rec),
                  gminy=gmina_recs, white=white, entities=entity_rows(ents), main_indicators=drawn,
                  charts_left_out=not_drawn, voivodeship=ds.voivodeship, n_powiaty=len(ds.powiaty),
                  verified_note=figures.reason(rec, "verified_24m_pct"))


@bp.get("/powiaty/<teryt>/chart/<indicator>.png")
def powiat_chart(teryt, indicator):
    rec = find_unit(dataset(), teryt, "powiat")
    if indicator not in figures.RANKED and indicator not in charts.MAIN_INDICATORS:
        raise NotFound(f"Nie ma wykresu dla wskaźnika „{indicator}”.")
    width = chart_width(request.args, 7.5)
    png = served_data().cached(("chart", "powiat", teryt, indicator, width), lambda d: charts.ranking_chart(
        pd.DataFrame(d.powiaty.drop(columns="geometry")), indicator, teryt, d.voivodeship.get(indicator),
        title_unit=f"powiaty ({powiat_label(rec)} wyróżniony)", note=d.completeness_statement(), width=width))
    return png_response(png, f"geoes_{teryt}_{indicator}.png")


@bp.get("/powiaty/<teryt>/map.png")
def powiat_static_map(teryt):
    rec = find_unit(dataset(), teryt, "powiat")
    label = powiat_label(rec)

    def make(d):
        gm = d.gminy[d.gminy["powiat_teryt"] == teryt]
        ents = placed(d.entities[d.entities["powiat_teryt_computed"] == teryt])
        return charts.static_map(gm, ents, f"{capitalised(label)}: podmioty ekonomii społecznej",
                                 outline=d.powiaty[d.powiaty["teryt"] == teryt], breaks=level_breaks(d.gminy),
                                 note=d.completeness_statement())
    return png_response(served_data().cached(("staticmap", teryt), make), f"geoes_mapa_{teryt}.png")


@bp.get("/powiaty/<teryt>/gminy.csv")
def powiat_gminy_csv(teryt):
    ds = dataset()
    find_unit(ds, teryt, "powiat")
    table = ds.indicator_table("gmina")
    return csv_response(table[table["powiat_teryt"] == teryt], f"geoes_gminy_{teryt}.csv")


@bp.get("/powiaty/<teryt>/indicators.csv")
def powiat_indicators_csv(teryt):
    ds = dataset()
    find_unit(ds, teryt, "powiat")
    table = ds.indicator_table("powiat")
    table = pd.concat([table, pd.DataFrame([ds.voivodeship_record()])[
        [c for c in table.columns if c in ds.voivodeship_record()]]], ignore_index=True)
    return csv_response(table, f"geoes_powiaty_{teryt}.csv")


@bp.get("/gminy/<teryt>")
@cached_page
def gmina(teryt):
    ds = dataset()
    rec = find_unit(ds, teryt, "gmina")
    parent_rows = ds.powiaty[ds.powiaty["teryt"] == rec["powiat_teryt"]]
    parent = record(parent_rows.iloc[0]) if len(parent_rows) else None
    ents = sort_by_name(ds.entities[ds.entities["gmina_teryt_computed"] == teryt])
    bounds = bounds_of(ds.gminy[ds.gminy["teryt"] == teryt])
    cfg = map_config(ds, "unit", unit={"level": "gmina", "teryt": teryt, "label": gmina_label(rec)},
                     entityFilter={"gmina": teryt}, highlight=[teryt])
    return render("gmina.html", ds=ds, rec=rec, label=gmina_label(rec), parent=parent,
                  parent_label=powiat_label(parent) if parent else "", mapcfg=cfg,
                  parts=unit_map_parts(bounds, ("gmina", teryt)),
                  rows=indicator_rows(rec, ds.voivodeship, ds.gminy, compare_to=parent),
                  need_rows=indicator_rows(rec, ds.voivodeship, ds.gminy, compare_to=parent, names=NEED_INDICATORS),
                  needs=need_source(ds), types=type_rows(ds, rec), entities=entity_rows(ents),
                  main_indicators=["entities_per_10k", "entities_per_100km2", "access_10km_pct"])


@bp.get("/gminy/<teryt>/chart/<indicator>.png")
def gmina_chart(teryt, indicator):
    rec = find_unit(dataset(), teryt, "gmina")
    if indicator not in figures.RANKED:
        raise NotFound(f"Nie ma wykresu dla wskaźnika „{indicator}”.")
    width = chart_width(request.args, 7.5)

    def make(d):
        siblings = pd.DataFrame(d.gminy[d.gminy["powiat_teryt"] == rec["powiat_teryt"]].drop(columns="geometry"))
        parent = d.powiaty[d.powiaty["teryt"] == rec["powiat_teryt"]]
        ref = float(parent[indicator].iloc[0]) if len(parent) else None
        return charts.ranking_chart(siblings, indicator, teryt, ref,
                                    title_unit=f"gminy powiatu {rec.get('powiat_name', '')}",
                                    reference_label="powiat", note=d.completeness_statement(), width=width)
    png = served_data().cached(("chart", "gmina", teryt, indicator, width), make)
    return png_response(png, f"geoes_{teryt}_{indicator}.png")


def parse_compare(ds, args) -> list[dict]:
    teryts = parse_teryts(args, "teryt", COMPARE_MIN, COMPARE_MAX)
    level = "powiat" if len(teryts[0]) == 4 else "gmina"
    frame = ds.powiaty if level == "powiat" else ds.gminy
    out = []
    for t in teryts:
        rows = frame[frame["teryt"] == t]
        if rows.empty:
            raise ParamError("teryt", f"nieznany kod TERYT {t}")
        rec = record(rows.iloc[0])
        rec["level"] = level
        rec["label"] = powiat_label(rec) if level == "powiat" else f"{gmina_label(rec)} (pow. {rec['powiat_name']})"
        out.append(rec)
    return out


def _compare_cell(unit: dict, name: str, of: int) -> dict:
    """A unit's value and its place, each with the reason it is left out, for separate cells."""
    value = unit.get(name)
    ranked = name in figures.RANKED and value is not None
    has_rank = ranked and figures.rank_range(unit, name) is not None
    return {"value": value, "note": figures.short_reason(unit, name) if value is None else None,
            "rank": figures.rank_text(unit, name, of) if has_rank else None,
            "rank_note": figures.short_reason(unit, f"rank_{name}") if ranked and not has_rank else None}


def compare_rows(units: list[dict], voivodeship: dict, frame) -> list[dict]:
    """One row per indicator: each unit's value and its place (or why either is left out, in its own
    cell) and the difference to the first unit — only between values that stand."""
    first = units[0]
    rows = []
    for name in PROFILE_INDICATORS + NEED_INDICATORS:
        if name not in first:
            continue
        of = figures.ranked_count(frame, name)
        cells = [_compare_cell(u, name, of) for u in units]
        rows.append({"name": name, "label": LABELS_PL.get(name, name), "decimals": indicator_decimals(name),
                     "cells": cells, "reference": voivodeship.get(name),
                     "reference_note": figures.short_reason(voivodeship, name) if voivodeship.get(name) is None else None,
                     "diffs": [None if u.get(name) is None or first.get(name) is None else u.get(name) - first.get(name)
                               for u in units]})
    return rows


@bp.get("/compare")
@cached_page
def compare():
    ds = dataset()
    choices = powiat_choices(ds)
    if not request.args.getlist("teryt"):
        return render("compare.html", ds=ds, units=None, choices=choices, powiat_label=powiat_label)
    units = parse_compare(ds, request.args)
    level = units[0]["level"]
    frame = ds.powiaty if level == "powiat" else ds.gminy
    teryts = [u["teryt"] for u in units]
    parts = unit_map_parts(bounds_of(frame[frame["teryt"].isin(teryts)]), ("compare", level, *teryts))
    cfg = map_config(ds, "compare", unit={"level": level, "teryt": None}, highlight=teryts)
    return render("compare.html", ds=ds, units=units, rows=compare_rows(units, ds.voivodeship, frame), level=level,
                  needs=need_source(ds),
                  total=len(frame), parts=parts, mapcfg=cfg, choices=choices, powiat_label=powiat_label,
                  query="&".join(f"teryt={t}" for t in teryts), voivodeship=ds.voivodeship)


@bp.get("/compare/chart.png")
def compare_chart():
    units = parse_compare(dataset(), request.args)
    width = chart_width(request.args, 8)
    key = ("compare_chart", width, *[u["teryt"] for u in units])
    return png_response(served_data().cached(key, lambda d: charts.compare_chart(
        [{**u, "name": u["label"]} for u in units], d.voivodeship, note=d.completeness_statement(), width=width)),
        "geoes_porownanie.png")
