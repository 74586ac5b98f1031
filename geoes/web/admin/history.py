"""Versions (what was published, restore in one step) and the audit log."""
from __future__ import annotations

from flask import abort, request

from geoes.common.reference import entity_types
from geoes.console import audit, publish
from geoes.web.admin.core import actor, bp, db, publish_step, render, settings

AUDIT_PAGE = 100


@bp.get("/versions")
def versions():
    return render("versions.html", versions=publish.versions(db(), settings()))


@bp.get("/versions/<version>")
def version(version: str):
    found = publish.outcome(db(), version)
    known = {v.version: v for v in publish.versions(db(), settings())}
    if found is None and version not in known:
        abort(404)
    entry, detail = found if found else (None, None)
    return render("version.html", version=known.get(version), name=version, entry=entry, detail=detail,
                  types=entity_types())


@bp.post("/versions/<version>/restore")
def restore(version: str):
    return publish_step(lambda: publish.restore(db(), settings(), version, actor()), "Nie przywrócono")


@bp.get("/audit")
def audit_log():
    try:
        page = max(1, int(request.args.get("page", "1")))
    except ValueError:
        page = 1
    items = audit.entries(db(), limit=AUDIT_PAGE, offset=(page - 1) * AUDIT_PAGE)
    return render("audit.html", entries=items, page=page, total=audit.total(db()), per_page=AUDIT_PAGE)
