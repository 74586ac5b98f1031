"""HTML pages (Polish): the public map, county and gmina profiles, comparison, the entity list and
details, the embeddable map, the about page, and the report downloads (CSV tables, PNG charts and map).

Every page reads the current dataset version from the app's served data; filters are parsed by geoes.publish.filters (a
bad value is a ParamError → 400 page), unknown TERYT codes and ids → 404 page. Map data are not put
into the HTML: static/js/map.js fetches them from the GeoJSON API.
"""
from __future__ import annotations

import math
import re

import pandas as pd
from flask import Blueprint, Response, current_app, g, render_template, request, url_for
from werkzeug.exceptions import HTTPException

from geoes.dataset.reader import NoDataset
from geoes.publish.filters import (Filter, ParamError, apply_entities, choice, fold, parse_filter, parse_int,
                                   values as param_values)
from geoes.dataset.indicators import LABELS_PL, RANKED, completeness_text
from geoes.common.reference import attribution, attribution_text, entity_types
from geoes.publish import escape
from geoes.publish import charts
from geoes.publish.classes import CLASS_COLORS, HIGHLIGHT_COLOR, ZERO_COLOR, class_legend, classes
from geoes.web import maps
from geoes.web.served import served_data

bp = Blueprint("pages", __name__)

# The indicator rows of the profile and comparison tables, in display order.
PROFILE_INDICATORS = [
    "population", "area_km2", "entities", "entities_per_10k", "entities_per_100km2", "employees",
    "employees_per_10k", "employees_known_pct", "gmina_coverage_pct", "population_coverage_pct",
    "access_10km_pct",
]
DECIMALS = {"population": 0, "entities": 0, "employees": 0, "gminy_total": 0, "gminy_with_entity": 0,
            "area_km2": 2}
SORTS = {
    "name": "name", "type": "types", "locality": "locality", "gmina": "gmina_name", "powiat": "powiat_name",
    "employees": "employees", "status": "status",
}
STATUS_PL = {"active": "działa", "inactive": "nie działa", "unknown": "nieznany"}
PRECISION_PL = {"address": "adres", "street": "ulica", "locality": "miejscowość", "gmina": "gmina (środek)",
                "none": "brak współrzędnych"}
SE_PL = {"true": "tak", "false": "nie", "unknown": "brak informacji"}
ENTITY_FIELDS = [
    ("name", "Nazwa"), ("types", "Typ"), ("social_enterprise", "Przedsiębiorstwo społeczne (wykaz ministra)"),
    ("legal_form", "Forma prawna"), ("operator", "Podmiot prowadzący"), ("street", "Ulica"),
    ("postal_code", "Kod pocztowy"), ("locality", "Miejscowość"), ("gmina_name", "Gmina"),
    ("powiat_name", "Powiat"), ("gmina_teryt", "Gmina wg źródła (TERYT)"), ("location_precision", "Dokładność położenia"),
    ("geocoder", "Źródło współrzędnych"), ("coordinates", "Współrzędne (WGS84)"), ("krs", "KRS"), ("nip", "NIP"),
    ("regon", "REGON"), ("employees", "Zatrudnieni"), ("status", "Status"), ("as_of", "Stan na"),
    ("website", "Strona internetowa"), ("email", "E-mail"), ("phone", "Telefon"), ("description", "Opis"),
    ("sources", "Źródła"), ("id", "Identyfikator"),
]
COMPARE_MIN, COMPARE_MAX = 2, 4
MAX_PAGE = 999_999


# --------------------------------------------------------------------------- helpers

class PageNotFound(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def dataset():
    return served_data().current()


def static(path: str) -> str:
    return url_for("static", filename=path)


def num(value, decimals: int | None = None) -> str:
    """Polish number: non-breaking space between thousands, comma decimals, '–' for missing."""
    if value is None or value is pd.NA:
        return "–"
    try:
        x = float(value)
    except (TypeError, ValueError):
        return escape.text(value)
    if math.isnan(x):
        return "–"
    if decimals is None:
        decimals = 0 if x == int(x) and abs(x) >= 100 else (2 if abs(x) < 100 else 1)
    s = f"{x:,.{decimals}f}".replace(",", "\u00a0").replace(".", ",")
    return s


def data_num(value, decimals: int | None = None):
    """<data value="80370">80 370</data>: the shown figure and its machine-readable value."""
    from markupsafe import Markup

    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return Markup("–")
    raw = value
    try:
        f = float(value)
        raw = int(f) if f == int(f) else round(f, 6)
    except (TypeError, ValueError, OverflowError):
        pass
    return Markup('<data value="%s">%s</data>') % (escape.text(raw), num(value, decimals))


def indicator_decimals(name: str) -> int | None:
    return DECIMALS.get(name, 2 if not name.endswith("_pct") else 1)


def clean(value):
    if value is None or value is pd.NA:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item"):
        return value.item()
    return value


def record(row) -> dict:
    return {k: clean(v) for k, v in row.items() if k != "geometry"}


def powiat_label(rec: dict) -> str:
    return f"{rec['name']} (miasto na prawach powiatu)" if rec.get("city_county") else f"powiat {rec['name']}"


def gmina_label(rec: dict) -> str:
    return f"gmina {rec['name']}"


def types_label(codes: str) -> str:
    types = entity_types()
    return ", ".join(types[c].label_pl if c in types else c for c in str(codes or "").split(";") if c)


def type_codes_present(ds) -> list[str]:
    present = set(";".join(ds.entities["types"].fillna("").tolist()).split(";"))
    codes = [c for c in entity_types() if c in present]
    return codes or list(entity_types())


def find_unit(ds, teryt: str, level: str) -> dict:
    digits = 4 if level == "powiat" else 7
    if not re.fullmatch(rf"\d{{{digits}}}", teryt or ""):
        raise PageNotFound(f"Nie ma {'powiatu' if level == 'powiat' else 'gminy'} o kodzie TERYT „{teryt}”.")
    frame = ds.powiaty if level == "powiat" else ds.gminy
    rows = frame[frame["teryt"] == teryt]
    if rows.empty:
        raise PageNotFound(f"Nie ma {'powiatu' if level == 'powiat' else 'gminy'} o kodzie TERYT {teryt}.")
    return record(rows.iloc[0])


def indicator_rows(rec: dict, reference: dict, level_total: int, compare_to: dict | None = None) -> list[dict]:
    rows = []
    for name in PROFILE_INDICATORS:
        value = rec.get(name)
        ref = reference.get(name)
        rows.append({
            "name": name, "label": LABELS_PL.get(name, name), "value": value, "reference": ref,
            "parent": compare_to.get(name) if compare_to else None,
            "ratio": rec.get(f"ratio_{name}"), "rank": rec.get(f"rank_{name}"), "of": level_total,
            "decimals": indicator_decimals(name), "ranked": name in RANKED,
        })
    return rows


def type_rows(ds, rec: dict) -> list[dict]:
    v = ds.voivodeship
    out = []
    for code, t in entity_types().items():
        n, total = rec.get(f"entities_{code}") or 0, v.get(f"entities_{code}") or 0
        if n or total:
            out.append({"code": code, "label": t.label_pl, "short": t.short_pl, "count": n, "total": total})
    return out


def entity_rows(frame) -> list[dict]:
    cols = ["id", "name", "types", "locality", "street", "gmina_name", "gmina_teryt_computed", "powiat_name",
            "powiat_teryt_computed", "employees", "status", "location_precision"]
    out = []
    for rec in pd.DataFrame(frame[cols]).to_dict("records"):
        rec = {k: clean(v) for k, v in rec.items()}
        rec["types_label"] = types_label(rec["types"])
        rec["status_label"] = STATUS_PL.get(rec["status"], rec["status"] or "")
        out.append(rec)
    return out


def placed(frame):
    import shapely

    geoms = frame.geometry.to_numpy()
    return frame[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]


def map_config(ds, mode: str, **extra) -> dict:
    types = entity_types()
    breaks_p = served_data().cached(("classes", "powiat"), lambda d: classes(d.powiaty["entities_per_10k"].tolist()))
    breaks_g = served_data().cached(("classes", "gmina"), lambda d: classes(d.gminy["entities_per_10k"].tolist()))
    cfg = {
        "mode": mode,
        "region_name": ds.voivodeship.get("name") or "",
        "api": {
            # The GeoJSON API (blueprint `api`, PRODUCT.md §5); documented paths, not endpoint names.
            "entities": request.script_root + "/api/entities.geojson",
            "powiaty": request.script_root + "/api/powiaty.geojson",
            "gminy": request.script_root + "/api/gminy.geojson",
        },
        "pages": {"entity": url_for("pages.entity", entity_id="__ID__"),
                  "powiat": url_for("pages.powiat", teryt="__TERYT__"),
                  "gmina": url_for("pages.gmina", teryt="__TERYT__"),
                  "list": url_for("pages.entities")},
        "types": {c: {"label": t.label_pl, "short": t.short_pl, "icon": t.icon} for c, t in types.items()},
        "classes": {"powiat": breaks_p, "gmina": breaks_g,
                    "colors": CLASS_COLORS, "zero": ZERO_COLOR, "highlight": HIGHLIGHT_COLOR},
        "powiaty": {r["teryt"]: {"name": r["name"], "label": powiat_label(r),
                                 "bounds": maps.bounds_of(ds.powiaty[ds.powiaty["teryt"] == r["teryt"]])}
                    for r in ds.powiaty[["teryt", "name", "city_county"]].to_dict("records")},
        "state": {"types": [], "powiat": None, "q": ""},
        "status": STATUS_PL,
    }
    cfg.update(extra)
    return cfg


def filter_state(f: Filter) -> dict:
    return {"types": list(f.types), "powiat": f.powiat, "gmina": f.gmina, "q": f.q or "", "bbox": f.bbox}


def public_map_parts(ds, embed: bool):
    key = ("map", "embed" if embed else "public", request.script_root)

    def make(d):
        m, layers = maps.base_map(static, maps.bounds_of(d.powiaty), types=type_codes_present(d),
                                  gestures=embed)
        return maps.finish(m, layers, collapsed=True)
    return served_data().cached(key, make)


def unit_map_parts(ds, bounds, key):
    def make(d):
        m, layers = maps.base_map(static, bounds, overlays=("units", "gminy", "powiaty", "white"),
                                  show=("entities", "units", "gminy", "powiaty"))
        return maps.finish(m, layers, collapsed=True)
    return served_data().cached(("map", *key, request.script_root), make)


def csv_response(table: pd.DataFrame, filename: str) -> Response:
    from geoes.publish.serialise import table_to_csv

    body = table_to_csv(table)
    return Response(body, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{filename}"', "Content-Type": "text/csv; charset=utf-8"})


def png_response(data: bytes, filename: str | None = None) -> Response:
    headers = {"Cache-Control": "public, max-age=300"}
    if filename:
        headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return Response(data, mimetype="image/png", headers=headers)


def render(template: str, http_status: int = 200, **context):
    ds = context.pop("ds", None)
    if ds is not None:
        context.setdefault("version", ds.version)
        context.setdefault("completeness", completeness_text(ds.summary.get("completeness") or []))
    return render_template(template, **context), http_status


# --------------------------------------------------------------------------- template helpers

@bp.record_once
def _setup(state):
    app = state.app
    escape.register(app)
    app.add_template_filter(num, "num")
    app.add_template_filter(data_num, "data_num")
    app.add_template_filter(lambda s: s[:1].upper() + s[1:] if s else s, "cap")
    app.add_template_global(attribution_text, "attribution_text")
    app.add_template_global(attribution, "attribution")


@bp.app_context_processor
def _context():
    # CSP hook: a security layer may put a per-request nonce into g.csp_nonce; templates add it to
    # every inline <script> (the folium map set-up) and <script type="application/json"> block.
    return {"csp_nonce": g.get("csp_nonce", ""), "labels": LABELS_PL}


# --------------------------------------------------------------------------- errors

def _error_page(status: int, title: str, message: str):
    body = render_template("error.html", status=status, title=title, message=message)
    return Response(body, status=status, mimetype="text/html")


@bp.errorhandler(ParamError)
def _param_error(exc: ParamError):
    return _error_page(400, "Błędny parametr zapytania", f"Parametr „{exc.param}”: {exc.message}")


@bp.errorhandler(PageNotFound)
def _not_found(exc: PageNotFound):
    return _error_page(404, "Nie znaleziono", exc.message)


@bp.errorhandler(NoDataset)
def _no_dataset(exc: NoDataset):
    return _error_page(503, "Brak danych", "Dane nie zostały jeszcze zbudowane. Spróbuj ponownie za chwilę.")


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    if exc.code == 404:
        return _error_page(404, "Nie znaleziono", "Nie ma takiej strony.")
    if exc.code == 400:
        return _error_page(400, "Błędne zapytanie", "Zapytanie jest niepoprawne.")
    return exc


@bp.errorhandler(Exception)
def _unexpected(exc: Exception):
    if isinstance(exc, HTTPException):
        return exc
    current_app.logger.exception("błąd strony %s", request.path)
    return _error_page(500, "Błąd serwera", "Wystąpił nieoczekiwany błąd. Spróbuj ponownie później.")


@bp.app_errorhandler(404)
def _app_not_found(exc):
    """Unknown URLs: a Polish page, or JSON under the machine interfaces (/api, /ogc)."""
    if request.path.startswith(("/api/", "/ogc")) or request.accept_mimetypes.best == "application/json":
        from flask import jsonify

        return jsonify(status=404, error="nie znaleziono", message=f"brak zasobu {request.path}"), 404
    return _error_page(404, "Nie znaleziono", "Nie ma takiej strony. Sprawdź adres albo zacznij od mapy.")


# --------------------------------------------------------------------------- pages

@bp.get("/types.css")
def types_css():
    """Colours of the entity types as classes (no inline styles: CSP-friendly)."""
    lines = []
    for code, t in entity_types().items():
        lines.append(f".geoes-type-{code}{{background-color:{t.color};}}")
    for color in [*CLASS_COLORS, ZERO_COLOR, HIGHLIGHT_COLOR]:
        lines.append(f".geoes-color-{color[1:]}{{background-color:{color};}}")
    return Response("\n".join(lines) + "\n", mimetype="text/css", headers={"Cache-Control": "public, max-age=3600"})


@bp.get("/")
def index():
    ds = dataset()
    f = parse_filter(request.args, ds)
    parts = public_map_parts(ds, embed=False)
    cfg = map_config(ds, "public", state=filter_state(f))
    return render("index.html", ds=ds, parts=parts, mapcfg=cfg, types=entity_types(),
                  present=type_codes_present(ds), filter=f,
                  powiaty=sorted(ds.powiaty[["teryt", "name", "city_county"]].to_dict("records"),
                                 key=lambda r: (bool(r["city_county"]), r["name"])),
                  legend_p=class_legend(cfg["classes"]["powiat"]),
                  legend_g=class_legend(cfg["classes"]["gmina"]),
                  counts={"total": int(len(ds.entities)), "placed": int(len(placed(ds.entities)))},
                  powiat_label=powiat_label)


@bp.get("/embed")
def embed():
    ds = dataset()
    f = parse_filter(request.args, ds)
    parts = public_map_parts(ds, embed=True)
    cfg = map_config(ds, "embed", state=filter_state(f))
    return render("embed.html", ds=ds, parts=parts, mapcfg=cfg, types=entity_types(),
                  present=type_codes_present(ds))


@bp.get("/powiaty")
def powiaty_index():
    ds = dataset()
    rows = sorted(ds.powiaty.drop(columns="geometry").to_dict("records"),
                  key=lambda r: (bool(r["city_county"]), r["name"]))
    return render("powiaty.html", ds=ds, rows=[{k: clean(v) for k, v in r.items()} for r in rows],
                  voivodeship=ds.voivodeship, powiat_label=powiat_label)


@bp.get("/powiaty/<teryt>/raport.html")
def powiat_report(teryt):
    """The self-contained county report (geoes.publish.report), the same as `python -m geoes report`."""
    ds = dataset()
    find_unit(ds, teryt, "powiat")
    from geoes.publish.report import render_html

    html = served_data().cached(("report", teryt), lambda d: render_html(d, teryt))
    resp = Response(html, mimetype="text/html")
    resp.headers["Content-Disposition"] = f'inline; filename="raport_powiat_{teryt}.html"'
    return resp


@bp.get("/powiaty/<teryt>")
def powiat(teryt):
    ds = dataset()
    rec = find_unit(ds, teryt, "powiat")
    gminy = ds.gminy[ds.gminy["powiat_teryt"] == teryt].sort_values("name")
    gmina_recs = [record(r) for _, r in gminy.iterrows()]
    ents = ds.entities[ds.entities["powiat_teryt_computed"] == teryt].sort_values("name")
    bounds = maps.bounds_of(ds.powiaty[ds.powiaty["teryt"] == teryt])
    parts = unit_map_parts(ds, bounds, ("powiat", teryt))
    cfg = map_config(ds, "unit", unit={"level": "powiat", "teryt": teryt, "label": powiat_label(rec)},
                     entityFilter={"powiat": teryt}, highlight=[teryt])
    return render("powiat.html", ds=ds, rec=rec, label=powiat_label(rec), parts=parts, mapcfg=cfg,
                  rows=indicator_rows(rec, ds.voivodeship, len(ds.powiaty)), types=type_rows(ds, rec),
                  gminy=gmina_recs, white=[r for r in gmina_recs if not r["entities"]],
                  entities=entity_rows(ents), main_indicators=charts.MAIN_INDICATORS,
                  voivodeship=ds.voivodeship, n_powiaty=len(ds.powiaty))


@bp.get("/powiaty/<teryt>/chart/<indicator>.png")
def powiat_chart(teryt, indicator):
    ds = dataset()
    rec = find_unit(ds, teryt, "powiat")
    if indicator not in RANKED and indicator not in charts.MAIN_INDICATORS:
        raise PageNotFound(f"Nie ma wykresu dla wskaźnika „{indicator}”.")
    png = served_data().cached(("chart", "powiat", teryt, indicator), lambda d: charts.ranking_chart(
        pd.DataFrame(d.powiaty.drop(columns="geometry")), indicator, teryt, d.voivodeship.get(indicator),
        title_unit=f"powiaty ({powiat_label(rec)} wyróżniony)"))
    return png_response(png, f"geoes_{teryt}_{indicator}.png")


@bp.get("/powiaty/<teryt>/map.png")
def powiat_static_map(teryt):
    ds = dataset()
    rec = find_unit(ds, teryt, "powiat")

    def make(d):
        gm = d.gminy[d.gminy["powiat_teryt"] == teryt]
        ents = placed(d.entities[d.entities["powiat_teryt_computed"] == teryt])
        return charts.static_map(gm, ents, f"{powiat_label(rec)[:1].upper()}{powiat_label(rec)[1:]}: podmioty ekonomii społecznej",
                                 outline=d.powiaty[d.powiaty["teryt"] == teryt])
    return png_response(served_data().cached(("staticmap", teryt), make), f"geoes_mapa_{teryt}.png")


@bp.get("/powiaty/<teryt>/gminy.csv")
def powiat_gminy_csv(teryt):
    ds = dataset()
    find_unit(ds, teryt, "powiat")
    table = ds.indicator_table("gmina")
    table = table[table["powiat_teryt"] == teryt]
    return csv_response(table, f"geoes_gminy_{teryt}.csv")


@bp.get("/powiaty/<teryt>/indicators.csv")
def powiat_indicators_csv(teryt):
    ds = dataset()
    find_unit(ds, teryt, "powiat")
    table = ds.indicator_table("powiat")
    table = pd.concat([table, pd.DataFrame([ds.voivodeship_record()])[
        [c for c in table.columns if c in ds.voivodeship_record()]]], ignore_index=True)
    return csv_response(table, f"geoes_powiaty_{teryt}.csv")


@bp.get("/gminy/<teryt>")
def gmina(teryt):
    ds = dataset()
    rec = find_unit(ds, teryt, "gmina")
    parent = record(ds.powiaty[ds.powiaty["teryt"] == rec["powiat_teryt"]].iloc[0]) \
        if (ds.powiaty["teryt"] == rec["powiat_teryt"]).any() else None
    ents = ds.entities[ds.entities["gmina_teryt_computed"] == teryt].sort_values("name")
    bounds = maps.bounds_of(ds.gminy[ds.gminy["teryt"] == teryt])
    parts = unit_map_parts(ds, bounds, ("gmina", teryt))
    cfg = map_config(ds, "unit", unit={"level": "gmina", "teryt": teryt, "label": gmina_label(rec)},
                     entityFilter={"gmina": teryt}, highlight=[teryt])
    return render("gmina.html", ds=ds, rec=rec, label=gmina_label(rec), parent=parent,
                  parent_label=powiat_label(parent) if parent else "", parts=parts, mapcfg=cfg,
                  rows=indicator_rows(rec, ds.voivodeship, len(ds.gminy), compare_to=parent),
                  types=type_rows(ds, rec), entities=entity_rows(ents),
                  main_indicators=["entities_per_10k", "entities_per_100km2", "access_10km_pct"])


@bp.get("/gminy/<teryt>/chart/<indicator>.png")
def gmina_chart(teryt, indicator):
    ds = dataset()
    rec = find_unit(ds, teryt, "gmina")
    if indicator not in RANKED:
        raise PageNotFound(f"Nie ma wykresu dla wskaźnika „{indicator}”.")

    def make(d):
        siblings = pd.DataFrame(d.gminy[d.gminy["powiat_teryt"] == rec["powiat_teryt"]].drop(columns="geometry"))
        parent = d.powiaty[d.powiaty["teryt"] == rec["powiat_teryt"]]
        ref = float(parent[indicator].iloc[0]) if len(parent) else None
        return charts.ranking_chart(siblings, indicator, teryt, ref,
                                    title_unit=f"gminy powiatu {rec.get('powiat_name', '')}",
                                    reference_label="powiat")
    return png_response(served_data().cached(("chart", "gmina", teryt, indicator), make), f"geoes_{teryt}_{indicator}.png")


def parse_compare(ds, args) -> list[dict]:
    values = [v for v in param_values(args, "teryt") if v]
    teryts: list[str] = []
    for v in values:
        for part in v.split(","):
            part = part.strip()
            if part and part not in teryts:
                teryts.append(part)
    if not (COMPARE_MIN <= len(teryts) <= COMPARE_MAX):
        raise ParamError("teryt", f"podaj od {COMPARE_MIN} do {COMPARE_MAX} różnych kodów TERYT "
                                  "(np. ?teryt=2602&teryt=2601)")
    lengths = {len(t) for t in teryts}
    for t in teryts:
        if not re.fullmatch(r"\d{4}|\d{7}", t):
            raise ParamError("teryt", f"„{t[:20]}” nie jest kodem TERYT powiatu (4 cyfry) ani gminy (7 cyfr)")
    if len(lengths) > 1:
        raise ParamError("teryt", "porównuj jednostki tego samego poziomu: same powiaty albo same gminy")
    level = "powiat" if lengths == {4} else "gmina"
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


@bp.get("/compare")
def compare():
    ds = dataset()
    choices = sorted(ds.powiaty[["teryt", "name", "city_county"]].to_dict("records"),
                     key=lambda r: (bool(r["city_county"]), r["name"]))
    if not request.args.getlist("teryt"):
        return render("compare.html", ds=ds, units=None, choices=choices, powiat_label=powiat_label)
    units = parse_compare(ds, request.args)
    level = units[0]["level"]
    frame = ds.powiaty if level == "powiat" else ds.gminy
    teryts = [u["teryt"] for u in units]
    rows = []
    for name in PROFILE_INDICATORS:
        rows.append({"name": name, "label": LABELS_PL.get(name, name), "decimals": indicator_decimals(name),
                     "values": [u.get(name) for u in units], "ranks": [u.get(f"rank_{name}") for u in units],
                     "diffs": [None if u.get(name) is None or units[0].get(name) is None
                               else u.get(name) - units[0].get(name) for u in units],
                     "reference": ds.voivodeship.get(name), "ranked": name in RANKED})
    sel = frame[frame["teryt"].isin(teryts)]
    parts = unit_map_parts(ds, maps.bounds_of(sel), ("compare", level, *teryts))
    cfg = map_config(ds, "compare", unit={"level": level, "teryt": None}, highlight=teryts)
    return render("compare.html", ds=ds, units=units, rows=rows, level=level, total=len(frame),
                  parts=parts, mapcfg=cfg, choices=choices, powiat_label=powiat_label,
                  query="&".join(f"teryt={t}" for t in teryts), voivodeship=ds.voivodeship)


@bp.get("/compare/chart.png")
def compare_chart():
    ds = dataset()
    units = parse_compare(ds, request.args)
    key = ("compare_chart", *[u["teryt"] for u in units])
    return png_response(served_data().cached(key, lambda d: charts.compare_chart(
        [{**u, "name": u["label"]} for u in units], d.voivodeship)), "geoes_porownanie.png")


def parse_sort(args) -> tuple[str, bool, int]:
    sort = choice(args, "sort", tuple(SORTS), "name")
    order = choice(args, "order", ("asc", "desc"), "asc")
    return sort, order == "desc", parse_int(args, "page", 1, 1, MAX_PAGE)


@bp.get("/entities")
def entities():
    ds = dataset()
    f = parse_filter(request.args, ds)
    sort, desc, page = parse_sort(request.args)
    selected = apply_entities(ds.entities, f)
    col = SORTS[sort]
    if col == "employees":
        key = selected["employees"].astype("Float64")
        order_index = key.sort_values(ascending=not desc, na_position="last").index
    else:
        key = fold(selected[col].astype(str))
        order_index = key.sort_values(ascending=not desc, kind="stable").index
    ordered = selected.loc[order_index]
    size = current_app.extensions["geoes_settings"].page_size
    pages = max(1, math.ceil(len(ordered) / size))
    if page > pages:
        raise ParamError("page", f"jest tylko {pages} stron(y)")
    shown = ordered.iloc[(page - 1) * size: page * size]
    base_args = [(k, v) for k, v in request.args.items(multi=True) if k in ("type", "powiat", "gmina", "q") and v]
    gmina_rec = None
    if f.gmina:
        gmina_rec = record(ds.gminy[ds.gminy["teryt"] == f.gmina].iloc[0])
    return render("entities.html", ds=ds, rows=entity_rows(shown), total=len(ds.entities), matched=len(selected),
                  filter=f, sort=sort, desc=desc, page=page, pages=pages, size=size, base_args=base_args,
                  types=entity_types(), present=type_codes_present(ds), gmina_rec=gmina_rec,
                  powiaty=sorted(ds.powiaty[["teryt", "name", "city_county"]].to_dict("records"),
                                 key=lambda r: (bool(r["city_county"]), r["name"])),
                  powiat_label=powiat_label, sorts=SORTS)


@bp.get("/entities/<entity_id>")
def entity(entity_id):
    ds = dataset()
    if len(entity_id) > 100:
        raise PageNotFound("Nie ma podmiotu o takim identyfikatorze.")
    rows = ds.entities[ds.entities["id"] == entity_id]
    if rows.empty:
        raise PageNotFound(f"Nie ma podmiotu o identyfikatorze „{entity_id}”.")
    row = rows.iloc[0]
    rec = record(row)
    geom = row.geometry
    has_point = geom is not None and not geom.is_empty
    parts = None
    if has_point:
        first = (rec.get("types") or "").split(";")[0]
        parts = served_data().cached(("entitymap", entity_id, request.script_root),
                               lambda d: maps.entity_map(static, geom.y, geom.x, rec["name"], first))
    fields = []
    for key, label in ENTITY_FIELDS:
        if key == "coordinates":
            value = f"{geom.y:.5f}, {geom.x:.5f}" if has_point else None
        else:
            value = rec.get(key)
        fields.append({"key": key, "label": label, "value": value})
    cfg = map_config(ds, "entity")
    return render("entity.html", ds=ds, rec=rec, fields=fields, parts=parts, mapcfg=cfg,
                  types_label=types_label, status=STATUS_PL, precision=PRECISION_PL, se=SE_PL)


@bp.get("/about")
def about():
    ds = dataset()
    return render("about.html", ds=ds, summary=ds.summary, method=ds.summary.get("method") or {},
                  completeness_rows=ds.summary.get("completeness") or [], voivodeship=ds.voivodeship,
                  attr=attribution(), types=entity_types())
