"""Versions (what was published, restore in one step), the audit log and the review queue."""
from __future__ import annotations

from flask import abort, redirect, request, url_for

from geoes.common.reference import entity_types
from geoes.console import audit, publish, queue
from geoes.errors import GeoesError
from geoes.web.admin.core import actor, bp, db, error_page, flash_error, flash_ok, form_text, render, settings

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
    try:
        summary = publish.restore(db(), settings(), version, actor())
    except publish.PublishBusy as exc:
        return error_page(409, "Trwa inna publikacja", exc.description, **{"Retry-After": "10"})
    except GeoesError as exc:
        return error_page(exc.http_status if exc.http_status < 500 else 409, "Nie przywrócono", exc.description)
    return redirect(url_for("admin.version", version=summary["version"]))


@bp.get("/audit")
def audit_log():
    try:
        page = max(1, int(request.args.get("page", "1")))
    except ValueError:
        page = 1
    items = audit.entries(db(), limit=AUDIT_PAGE, offset=(page - 1) * AUDIT_PAGE)
    return render("audit.html", entries=items, page=page, total=audit.total(db()), per_page=AUDIT_PAGE)


@bp.get("/queue")
def queue_page():
    added, problems = queue.import_files(db(), settings())
    for p in problems:
        flash_error(p)
    return render("queue.html", pending=queue.items(db(), "pending"), decided=queue.items(db(), None, limit=50),
                  counts=queue.counts(db()), added=added)


@bp.post("/queue/<int:item_id>")
def queue_decide(item_id: int):
    decision = form_text("decision", 10)
    if decision not in ("accept", "reject"):
        abort(400)
    item = queue.decide(db(), settings(), item_id, actor(), decision == "accept", form_text("note", 2000))
    if item.status == "accepted" and item.proposed_values():
        flash_ok(f"Przyjęto zgłoszenie nr {item_id}; zmiana czeka na publikację wśród Twoich zmian.")
    else:
        flash_ok(f"Zgłoszenie nr {item_id}: {item.status_label}.")
    return redirect(url_for("admin.queue_page"))
