"""The about page (/about): method, sources, completeness and attribution."""
from __future__ import annotations

from flask import Blueprint

from geoes.common.reference import attribution, entity_types
from geoes.common.labels import STATUS_PL, access_method_label
from geoes.dataset import figures, official
from geoes.web.pagecache import cached_page
from geoes.web.pages.views import dataset, need_source, render

bp = Blueprint("about", __name__)


@bp.get("/about")
@cached_page
def index():
    ds = dataset()
    method = ds.summary.get("method") or {}
    statuses = ", ".join(STATUS_PL.get(s, s) for s in method.get("active_statuses") or [])
    return render("about.html", ds=ds, summary=ds.summary, method=method, voivodeship=ds.voivodeship,
                  attr=attribution(), types=entity_types(), active_statuses=statuses,
                  access_method=access_method_label(method.get("access_method")), needs=need_source(ds),
                  min_known_pct=f"{figures.MIN_EMPLOYEES_KNOWN_PCT:.0f}", min_ranked=figures.MIN_RANKED_UNITS,
                  trend_years=f"{official.TREND_YEARS[0]}–{official.TREND_YEARS[1]}")
