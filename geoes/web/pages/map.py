"""The public map (/), the embeddable map (/embed) and the colours of entity types and classes (/types.css)."""
from __future__ import annotations

from flask import Blueprint, Response, request

from geoes.common.reference import entity_types
from geoes.publish.classes import NEED_COLORS, class_legend
from geoes.publish.filters import parse_filter
from geoes.publish.labels import ordered_types, powiat_label
from geoes.publish.nearest import METHOD as NEARBY_METHOD
from geoes.web import assets
from geoes.web.pagecache import cached_page
from geoes.web.pages.mapconfig import level_classes, map_config
from geoes.web.pages.views import (dataset, filter_state, placed, powiat_choices, public_map_parts, render,
                                   type_codes_present)

bp = Blueprint("map", __name__)


@bp.get("/types.css")
def types_css():
    """Colours of the entity types as classes (no inline styles: CSP-friendly). The pages have them in
    css/site.css (geoes.web.assets); this URL stays for anyone who links it."""
    return Response(assets.types_css(), mimetype="text/css", headers={"Cache-Control": "public, max-age=3600"})


@bp.get("/")
@cached_page
def index():
    ds = dataset()
    f = parse_filter(request.args, ds)
    cfg = map_config(ds, "public", state=filter_state(f))
    return render("index.html", ds=ds, parts=public_map_parts(embed=False), mapcfg=cfg, types=entity_types(),
                  present=type_codes_present(ds), filter=f, powiaty=powiat_choices(ds),
                  legend_types=ordered_types(type_codes_present(ds), "label_pl"), **legends(ds),
                  counts={"total": int(len(ds.entities)), "placed": int(len(placed(ds.entities))),
                          "powiat_only": int(ds.voivodeship.get("entities_without_gmina") or 0)},
                  powiat_label=powiat_label, nearby_method=NEARBY_METHOD, gmina_label=gmina_name(ds, f.gmina))


def legends(ds) -> dict:
    """The choropleths' classes for the legends (the panel's and the ones map.js puts on the map)."""
    breaks = level_classes()
    return {"legend_p": class_legend(breaks["powiat"]), "legend_g": class_legend(breaks["gmina"]),
            "legend_need": class_legend(breaks["need"], NEED_COLORS, zero_label="brak danych"),
            "needs": (ds.summary.get("method") or {}).get("needs") or {}}


def gmina_name(ds, teryt: str | None) -> str | None:
    """The name of the gmina a filter selects (the status line says what is filtered)."""
    rows = ds.gminy[ds.gminy["teryt"] == teryt] if teryt else ds.gminy.iloc[:0]
    return str(rows["name"].iloc[0]) if len(rows) else None


@bp.get("/embed")
@cached_page
def embed():
    ds = dataset()
    f = parse_filter(request.args, ds)
    cfg = map_config(ds, "embed", state=filter_state(f))
    return render("embed.html", ds=ds, parts=public_map_parts(embed=True), mapcfg=cfg, types=entity_types(),
                  present=type_codes_present(ds), **legends(ds))
