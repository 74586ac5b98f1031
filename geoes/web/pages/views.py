"""View helpers shared by the page blueprints: the request's dataset, unit lookups, labels, table rows,
the folium map shells, rendering and file responses.

Every page reads the current dataset version from the app's served data; filters are parsed by
geoes.publish.filters (a bad value is a ParamError → 400 page); unknown TERYT codes and ids → 404 page.
Map data are not put into the HTML: static/js/map.js fetches them from the GeoJSON API.
"""
from __future__ import annotations

import re
from datetime import datetime

import pandas as pd
from flask import Response, render_template, request

from geoes.common.polish import POLISH_TIME, date_text
from geoes.common.text import polish_key
from geoes.common.reference import entity_types
from geoes.common.values import plain_record
from geoes.common.labels import PRECISION_PL, STATUS_PL
from geoes.dataset import figures, official
from geoes.dataset.indicators import LABELS_PL
from geoes.errors import NotFound
from geoes.publish import charts
from geoes.publish.filters import Filter, choice
from geoes.publish.labels import ordered_types, types_label
from geoes.publish.layers import placed_mask
from geoes.publish.serialise import table_to_csv
from geoes.web.maps import MapParts, base_map, bounds_of, finish
from geoes.web.served import served_data

# The indicator rows of the profile and comparison tables, in display order: the supply (figures of the
# known register) and the need beside it (registered unemployment, GUS BDL).
PROFILE_INDICATORS = [
    "population", "area_km2", "entities", "entities_per_10k", "entities_per_100km2", "employees",
    "employees_per_10k", "employees_known_pct", "gmina_coverage_pct", "population_coverage_pct",
    "access_10km_pct",
]
NEED_INDICATORS = [
    "unemployed", "unemployed_per_10k", "unemployment_rate", "unemployed_change_pct",
    "unemployment_rate_change_pp", "entities_per_1k_unemployed",
]
DECIMALS = {"population": 0, "entities": 0, "employees": 0, "gminy_total": 0, "gminy_with_entity": 0,
            "area_km2": 2, "unemployed": 0, "unemployment_rate": 1, "unemployed_change_pct": 1,
            "unemployment_rate_change_pp": 1}


def dataset():
    return served_data().current()


def indicator_decimals(name: str) -> int | None:
    return DECIMALS.get(name, 2 if not name.endswith("_pct") else 1)


def record(row) -> dict:
    return plain_record(row)


def type_codes_present(ds) -> list[str]:
    """The types the register has (all if none), in Polish alphabetical order of their short names."""
    present = set(";".join(ds.entities["types"].fillna("").tolist()).split(";"))
    codes = [c for c in entity_types() if c in present]
    return ordered_types(codes or list(entity_types()))


def powiat_choices(ds) -> list[dict]:
    """The powiaty for a select list: counties by name, then the cities with county rights."""
    return sorted(ds.powiaty[["teryt", "name", "city_county"]].to_dict("records"),
                  key=lambda r: (bool(r["city_county"]), polish_key(r["name"])))


def find_unit(ds, teryt: str, level: str) -> dict:
    digits = 4 if level == "powiat" else 7
    if not re.fullmatch(rf"\d{{{digits}}}", teryt or ""):
        raise NotFound(f"Nie ma {'powiatu' if level == 'powiat' else 'gminy'} o kodzie TERYT „{teryt}”.")
    frame = ds.powiaty if level == "powiat" else ds.gminy
    rows = frame[frame["teryt"] == teryt]
    if rows.empty:
        raise NotFound(f"Nie ma {'powiatu' if level == 'powiat' else 'gminy'} o kodzie TERYT {teryt}.")
    return record(rows.iloc[0])


def indicator_rows(rec: dict, reference: dict, frame, compare_to: dict | None = None,
                   names: list[str] = PROFILE_INDICATORS) -> list[dict]:
    """The rows of an indicator table: value, voivodeship, relation and rank as the rules of
    geoes.dataset.figures allow, each left-out figure with its reason (`frame`: all units of the level)."""
    rows = []
    for name in names:
        if name not in rec:
            continue  # a figure this version does not have (no need data fetched)
        value = rec.get(name)
        related = name in figures.RELATED and value is not None
        rows.append({
            "name": name, "label": LABELS_PL.get(name, name), "value": value, "reference": reference.get(name),
            "value_note": figures.short_reason(rec, name) if value is None else None,
            "reference_note": figures.short_reason(reference, name) if reference.get(name) is None else None,
            "parent": compare_to.get(name) if compare_to else None,
            "ratio": rec.get(f"ratio_{name}") if related else None,
            "ratio_note": (figures.short_reason(rec, f"ratio_{name}") if related and rec.get(f"ratio_{name}") is None
                           else None),
            "rank_text": (figures.rank_text(rec, name, figures.ranked_count(frame, name), figures.level_of(frame))
                          if name in figures.RANKED and value is not None else None),
            "decimals": indicator_decimals(name), "ranked": name in figures.RANKED, "related": related,
        })
    return rows


def completeness_context(ds) -> dict:
    """What every planner page states above its figures: per type "w rejestrze N z M znanych (źródło, rok)",
    and what a count of entities counts (the method's words: which statuses, which places)."""
    rows = ds.summary.get("completeness") or []
    return {"completeness_rows": rows, "completeness_items": [official.statement(r) for r in rows],
            "register_incomplete": official.incomplete(rows), "completeness": official.completeness_text(rows),
            "counted": (ds.summary.get("method") or {}).get("counted") or ""}


def need_source(ds) -> dict:
    """Year and source of the need figures of this version ({} when none were fetched)."""
    return (ds.summary.get("method") or {}).get("needs") or {}


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
        rec = plain_record(rec)
        rec["types_label"] = types_label(rec["types"])
        rec["status_label"] = STATUS_PL.get(rec["status"], rec["status"] or "")
        rec["precision_label"] = PRECISION_PL.get(rec["location_precision"], rec["location_precision"] or "")
        out.append(rec)
    return out


def placed(frame):
    return frame[placed_mask(frame)]


def filter_state(f: Filter) -> dict:
    return {"types": list(f.types), "powiat": f.powiat, "gmina": f.gmina, "q": f.q or "", "bbox": f.bbox}


def public_map_parts(embed: bool) -> MapParts:
    """The folium shell of the public map (or of the embeddable one), once per version."""
    key = ("map", "embed" if embed else "public", request.script_root)  # icons link the sprite by URL

    def make(d):
        # On the public map `W pobliżu` finds the reader's place (and the nearest entities); the embed keeps
        # the plain locate button.
        m, layers = base_map(bounds_of(d.powiaty), types=type_codes_present(d), gestures=embed, locate=embed)
        return finish(m, layers, collapsed=True)
    return served_data().cached(key, make)


def unit_map_parts(bounds, key: tuple) -> MapParts:
    """The folium shell of a profile or comparison map around `bounds`, once per version and `key`."""
    def make(d):
        m, layers = base_map(bounds, overlays=("units", "gminy", "powiaty", "white"),
                             show=("entities", "units", "gminy", "powiaty"))
        return finish(m, layers, collapsed=True)
    return served_data().cached(("map", *key, request.script_root), make)


def csv_response(table: pd.DataFrame, filename: str) -> Response:
    return Response(table_to_csv(table), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{filename}"', "Content-Type": "text/csv; charset=utf-8"})


def chart_width(args, wide: float) -> float:
    """A chart's width in inches: `size=narrow` is the phone's (the pages pick it with <picture>)."""
    return charts.NARROW_WIDTH if choice(args, "size", ("wide", "narrow"), "wide") == "narrow" else wide


def png_response(data: bytes, filename: str | None = None) -> Response:
    """A chart or map. The pages link them with `v=<dataset version>`: such a URL never changes its image,
    so it is cached for a year; without it (or with an old version) for five minutes."""
    fresh = request.args.get("v") == dataset().version
    headers = {"Cache-Control": "public, max-age=31536000, immutable" if fresh else "public, max-age=300"}
    if filename:
        headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return Response(data, mimetype="image/png", headers=headers)


def version_date(ds) -> str | None:
    """The day a version was built, as a reader says it ("dane z 6 grudnia 2026"), in Polish time."""
    try:
        built = datetime.fromisoformat(str(ds.summary.get("built_at") or ""))
    except ValueError:
        return None
    if built.tzinfo is not None:
        built = built.astimezone(POLISH_TIME)
    return "dane z " + date_text(built.date())


def render(template: str, http_status: int = 200, **context):
    ds = context.pop("ds", None)
    if ds is not None:
        context.setdefault("version", ds.version)
        context.setdefault("version_date", version_date(ds))
        for key, value in completeness_context(ds).items():
            context.setdefault(key, value)
    return render_template(template, **context), http_status
