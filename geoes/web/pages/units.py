"""Territorial units: the list of powiaty (/powiaty), the county profile (/powiaty/<teryt>) with its
report, charts, static map and CSV tables, the gmina profile (/gminy/<teryt>) and the comparison of 2–4
units (/compare)."""
from __future__ import annotations

import re

import pandas as pd
from flask import Blueprint, request

from geoes.common.values import plain_record
from geoes.dataset.indicators import LABELS_PL, RANKED
from geoes.errors import NotFound
from geoes.publish import charts
from geoes.publish.classes import level_breaks
from geoes.publish.filters import ParamError, choice, values
from geoes.publish.report import render_html
from geoes.web import maps
from geoes.web.http import respond
from geoes.web.pagecache import cached_page
from geoes.web.pages.mapconfig import map_config
from geoes.web.pages.views import (PROFILE_INDICATORS, csv_response, dataset, entity_rows,
                                   find_unit, gmina_label, indicator_decimals, indicator_rows, placed,
                                   png_response, powiat_choices, powiat_label, record, render, type_rows,
                                   unit_map_parts)
from geoes.web.served import served_data

bp = Blueprint("units", __name__)

COMPARE_MIN, COMPARE_MAX = 2, 4


@bp.get("/powiaty")
@cached_page
def powiaty():
    ds = dataset()
    rows = sorted(ds.powiaty.drop(columns="geometry").to_dict("records"),
                  key=lambda r: (bool(r["city_county"]), r["name"]))
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
    gminy = ds.gminy[ds.gminy["powiat_teryt"] == teryt].sort_values("name")
    gmina_recs = [record(r) for _, r in gminy.iterrows()]
    ents = ds.entities[ds.entities["powiat_teryt_computed"] == teryt].sort_values("name")
    bounds = maps.bounds_of(ds.powiaty[ds.powiaty["teryt"] == teryt])
    cfg = map_config(ds, "unit", unit={"level": "powiat", "teryt": teryt, "label": powiat_label(rec)},
                     entityFilter={"powiat": teryt}, highlight=[teryt])
    return render("powiat.html", ds=ds, rec=rec, label=powiat_label(rec), mapcfg=cfg,
                  parts=unit_map_parts(bounds, ("powiat", teryt)),
                  rows=indicator_rows(rec, ds.voivodeship, len(ds.powiaty)), types=type_rows(ds, rec),
                  gminy=gmina_recs, white=[r for r in gmina_recs if not r["entities"]],
                  entities=entity_rows(ents), main_indicators=charts.MAIN_INDICATORS,
                  voivodeship=ds.voivodeship, n_powiaty=len(ds.powiaty))


@bp.get("/powiaty/<teryt>/chart/<indicator>.png")
def powiat_chart(teryt, indicator):
    rec = find_unit(dataset(), teryt, "powiat")
    if indicator not in RANKED and indicator not in charts.MAIN_INDICATORS:
        raise NotFound(f"Nie ma wykresu dla wskaźnika „{indicator}”.")
    width = chart_width(request.args, 7.5)
    png = served_data().cached(("chart", "powiat", teryt, indicator, width), lambda d: charts.ranking_chart(
        pd.DataFrame(d.powiaty.drop(columns="geometry")), indicator, teryt, d.voivodeship.get(indicator),
        title_unit=f"powiaty ({powiat_label(rec)} wyróżniony)", width=width))
    return png_response(png, f"geoes_{teryt}_{indicator}.png")


@bp.get("/powiaty/<teryt>/map.png")
def powiat_static_map(teryt):
    rec = find_unit(dataset(), teryt, "powiat")
    label = powiat_label(rec)

    def make(d):
        gm = d.gminy[d.gminy["powiat_teryt"] == teryt]
        ents = placed(d.entities[d.entities["powiat_teryt_computed"] == teryt])
        return charts.static_map(gm, ents, f"{label[:1].upper()}{label[1:]}: podmioty ekonomii społecznej",
                                 outline=d.powiaty[d.powiaty["teryt"] == teryt], breaks=level_breaks(d.gminy))
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
    ents = ds.entities[ds.entities["gmina_teryt_computed"] == teryt].sort_values("name")
    bounds = maps.bounds_of(ds.gminy[ds.gminy["teryt"] == teryt])
    cfg = map_config(ds, "unit", unit={"level": "gmina", "teryt": teryt, "label": gmina_label(rec)},
                     entityFilter={"gmina": teryt}, highlight=[teryt])
    return render("gmina.html", ds=ds, rec=rec, label=gmina_label(rec), parent=parent,
                  parent_label=powiat_label(parent) if parent else "", mapcfg=cfg,
                  parts=unit_map_parts(bounds, ("gmina", teryt)),
                  rows=indicator_rows(rec, ds.voivodeship, len(ds.gminy), compare_to=parent),
                  types=type_rows(ds, rec), entities=entity_rows(ents),
                  main_indicators=["entities_per_10k", "entities_per_100km2", "access_10km_pct"])


@bp.get("/gminy/<teryt>/chart/<indicator>.png")
def gmina_chart(teryt, indicator):
    rec = find_unit(dataset(), teryt, "gmina")
    if indicator not in RANKED:
        raise NotFound(f"Nie ma wykresu dla wskaźnika „{indicator}”.")
    width = chart_width(request.args, 7.5)

    def make(d):
        siblings = pd.DataFrame(d.gminy[d.gminy["powiat_teryt"] == rec["powiat_teryt"]].drop(columns="geometry"))
        parent = d.powiaty[d.powiaty["teryt"] == rec["powiat_teryt"]]
        ref = float(parent[indicator].iloc[0]) if len(parent) else None
        return charts.ranking_chart(siblings, indicator, teryt, ref,
                                    title_unit=f"gminy powiatu {rec.get('powiat_name', '')}",
                                    reference_label="powiat", width=width)
    png = served_data().cached(("chart", "gmina", teryt, indicator, width), make)
    return png_response(png, f"geoes_{teryt}_{indicator}.png")


def chart_width(args, wide: float) -> float:
    """A chart's width in inches: `size=narrow` is the phone's (the pages pick it with <picture>)."""
    return charts.NARROW_WIDTH if choice(args, "size", ("wide", "narrow"), "wide") == "narrow" else wide


def compare_teryts(args) -> list[str]:
    """The TERYT codes of `teryt` (repeated or comma-separated): 2–4 distinct codes of one level."""
    teryts: list[str] = []
    for v in values(args, "teryt"):
        for part in v.split(","):
            part = part.strip()
            if part and part not in teryts:
                teryts.append(part)
    if not (COMPARE_MIN <= len(teryts) <= COMPARE_MAX):
        raise ParamError("teryt", f"podaj od {COMPARE_MIN} do {COMPARE_MAX} różnych kodów TERYT "
                                  "(np. ?teryt=2602&teryt=2601)")
    for t in teryts:
        if not re.fullmatch(r"\d{4}|\d{7}", t):
            raise ParamError("teryt", f"„{t[:20]}” nie jest kodem TERYT powiatu (4 cyfry) ani gminy (7 cyfr)")
    if len({len(t) for t in teryts}) > 1:
        raise ParamError("teryt", "porównuj jednostki tego samego poziomu: same powiaty albo same gminy")
    return teryts


def parse_compare(ds, args) -> list[dict]:
    teryts = compare_teryts(args)
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


def compare_rows(units: list[dict], voivodeship: dict) -> list[dict]:
    first = units[0]
    return [{"name": name, "label": LABELS_PL.get(name, name), "decimals": indicator_decimals(name),
             "values": [u.get(name) for u in units], "ranks": [u.get(f"rank_{name}") for u in units],
             "diffs": [None if u.get(name) is None or first.get(name) is None else u.get(name) - first.get(name)
                       for u in units],
             "reference": voivodeship.get(name), "ranked": name in RANKED}
            for name in PROFILE_INDICATORS]


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
    parts = unit_map_parts(maps.bounds_of(frame[frame["teryt"].isin(teryts)]), ("compare", level, *teryts))
    cfg = map_config(ds, "compare", unit={"level": level, "teryt": None}, highlight=teryts)
    return render("compare.html", ds=ds, units=units, rows=compare_rows(units, ds.voivodeship), level=level,
                  total=len(frame), parts=parts, mapcfg=cfg, choices=choices, powiat_label=powiat_label,
                  query="&".join(f"teryt={t}" for t in teryts), voivodeship=ds.voivodeship)


@bp.get("/compare/chart.png")
def compare_chart():
    units = parse_compare(dataset(), request.args)
    width = chart_width(request.args, 8)
    key = ("compare_chart", width, *[u["teryt"] for u in units])
    return png_response(served_data().cached(key, lambda d: charts.compare_chart(
        [{**u, "name": u["label"]} for u in units], d.voivodeship, width=width)), "geoes_porownanie.png")
