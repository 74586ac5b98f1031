"""The about page (/about): method, sources, completeness and attribution."""
from __future__ import annotations

from flask import Blueprint

from geoes.common.reference import attribution, entity_types
from geoes.web.pagecache import cached_page
from geoes.web.pages.views import dataset, render

bp = Blueprint("about", __name__)


@bp.get("/about")
@cached_page
def index():
    ds = dataset()
    return render("about.html", ds=ds, summary=ds.summary, method=ds.summary.get("method") or {},
                  completeness_rows=ds.summary.get("completeness") or [], voivodeship=ds.voivodeship,
                  attr=attribution(), types=entity_types())
