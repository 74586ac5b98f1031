"""Versions (what each changed, who published it from what; restore after a confirmation) and the audit log
as Polish sentences, filtered, and as a CSV for Excel."""
from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
from flask import Response, abort, request, url_for

from geoes.common.reference import entity_types
from geoes.console import audit, changes, history, publish
from geoes.console.imports import FIELD_LABELS
from geoes.publish.tables import to_csv
from geoes.web.admin.core import actor, bp, db, publish_step, render, settings

AUDIT_PAGE = 100
AUDIT_CSV_LIMIT = 100_000      # rows of one CSV download (the whole log of years of work)
DIFF_SHOWN = 300               # entities listed on a version's page; the counts cover all


@bp.get("/versions")
def versions():
    rows = publish.versions(db(), settings())
    return render("versions.html", versions=rows)


@bp.get("/versions/<version>")
def version(version: str):
    known = {v.version: v for v in publish.versions(db(), settings())}
    found = publish.outcome(db(), version)
    if found is None and version not in known:
        abort(404)
    entry, detail = found if found else (None, None)
    diff = publish.version_diff(db(), settings(), version)
    return render("version.html", version=known.get(version), name=version, entry=entry, detail=detail,
                  types=entity_types(), diff=diff, shown=DIFF_SHOWN, labels=FIELD_LABELS)


@bp.get("/versions/<version>/restore")
def restore_confirm(version: str):
    """The safety catch of `Przywróć`: what restoring would change and the version it replaces."""
    plan = publish.plan_restore(db(), settings(), version)
    return render("confirm.html", kind="restore", version=publish.version_info(db(), settings(), version),
                  name=version, plan=plan, lines=history.change_lines(plan),
                  replaced=publish.version_info(db(), settings(), plan["replaces"]),
                  before=len(changes.read_register(settings())), back_url=url_for("admin.versions"))


@bp.post("/versions/<version>/restore")
def restore(version: str):
    return publish_step(lambda expected: publish.restore(db(), settings(), version, actor(), expected=expected),
                        "Nie przywrócono", url_for("admin.restore_confirm", version=version))


# --- the audit log --------------------------------------------------------------------------------

def _day(name: str) -> date | None:
    try:
        return date.fromisoformat(request.args.get(name, "").strip())
    except ValueError:
        return None


def _filters() -> tuple[audit.Filters, dict]:
    """The log's filters from the query (a value that is not one of the choices is ignored); and the form's
    values to show them again."""
    action = request.args.get("czynnosc") or ""
    action = action if action in audit.ACTIONS else ""
    person = (request.args.get("kto") or "").strip()[:64]
    entity = (request.args.get("podmiot") or "").strip()[:128]
    since, until = _day("od"), _day("do")
    filters = audit.Filters(action=action or None, actor=person or None, entity=entity or None,
                            since=history.day_start(since) if since else None,
                            until=history.day_start(until + timedelta(days=1)) if until else None)
    shown = {"czynnosc": action, "kto": person, "podmiot": entity, "od": since.isoformat() if since else "",
             "do": until.isoformat() if until else ""}
    return filters, shown


@bp.get("/audit")
def audit_log():
    try:
        page = max(1, int(request.args.get("page", "1")))
    except ValueError:
        page = 1
    filters, shown = _filters()
    items = audit.entries(db(), limit=AUDIT_PAGE, offset=(page - 1) * AUDIT_PAGE, filters=filters)
    said = history.context(db(), settings(), items)
    rows = [(e, history.when_text(e.at), history.sentence(e, said)) for e in items]
    query = {k: v for k, v in shown.items() if v}
    return render("audit.html", rows=rows, page=page, total=audit.total(db(), filters), per_page=AUDIT_PAGE,
                  shown=shown, query=query, actions=audit.ACTIONS, people=audit.actors(db()), who=history.who)


@bp.get("/audit.csv")
def audit_csv():
    """The log as filtered, as a CSV for Polish Excel (semicolons, UTF-8 with BOM; geoes.publish.tables)."""
    filters, shown = _filters()
    items = audit.entries(db(), limit=AUDIT_CSV_LIMIT, filters=filters)
    said = history.context(db(), settings(), items)
    table = pd.DataFrame([{"Kiedy": history.local(e.at).strftime("%Y-%m-%d %H:%M") if history.local(e.at) else "",
                           "Kto": history.who(e.actor), "Czynność": audit.ACTIONS.get(e.action, e.action),
                           "Opis": history.sentence(e, said)} for e in items],
                         columns=["Kiedy", "Kto", "Czynność", "Opis"])
    name = "dziennik-zmian" + "".join(f"-{v}" for k, v in shown.items() if v and k in ("od", "do")) + ".csv"
    return Response(to_csv(table, "excel-pl", codes=set()), headers={
        "Content-Type": "text/csv; charset=utf-8", "Content-Disposition": f'attachment; filename="{name}"'})
