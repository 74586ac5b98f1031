"""The review queue (`Zgłoszenia`): verification proposals (KRS, RJPS), the importer's corrections set aside for
review and public reports, filtered by kind, with accept and reject; one item's page — a report as sent,
with the values the operator accepts; and the button `Weryfikuj w KRS` (geoes.console.jobs)."""
from __future__ import annotations

from collections import Counter

from flask import abort, redirect, request, url_for

from geoes.common.polish import today_in_poland
from geoes.common.reference import entity_types
from geoes.console import changes, imports, jobs, queue, reports
from geoes.publish.labels import powiat_label
from geoes.web.served import served_data
from geoes.errors import GeoesError
from geoes.register.record import COLUMNS, STATUSES
from geoes.web.admin.core import actor, bp, db, error_page, flash_error, flash_ok, form_text, render, settings

# The facts a public report may change (the form of an existing entity's report) and those of a new entity.
REPORT_FIELDS = ("name", "street", "postal_code", "locality", "gmina_teryt", "phone", "email", "website", "status",
                 "sources")
NEW_FIELDS = ("name", "types", "legal_form", "street", "postal_code", "locality", "gmina_teryt", "phone", "email",
              "website", "status", "krs", "nip", "description", "sources")
STATUS_LABELS = {"active": "działa (potwierdzone — wymaga zapisu sprawdzenia)", "inactive": "zamknięty",
                 "unknown": "nieznany"}
CHECK_FIELDS = ("check_how", "check_source", "check_date", "check_role")


def _category() -> str | None:
    value = request.args.get("rodzaj") or ""
    return value if value in queue.CATEGORIES else None


def powiat_choices() -> list[tuple[str, str]]:
    """(TERYT, "powiat jędrzejowski" / "Kielce (miasto na prawach powiatu)") of the region, in TERYT order."""
    gaz = imports.gazetteer(settings())
    return [(t, powiat_label({"name": n, "city_county": t[2:3] == "6"}))
            for t, n in sorted(zip(gaz.powiaty["teryt"], gaz.powiaty["name"]))]


def _served_powiaty() -> dict[str, str]:
    """id → the powiat the served data count the entity in ({} before the first build)."""
    try:
        served = served_data().current().entities
    except GeoesError:
        return {}
    return dict(zip(served["id"], served["powiat_teryt_computed"].fillna(""))) if len(served) else {}


@bp.get("/queue")
def queue_page():
    reports.forget_contacts(db(), settings())
    category = _category()
    powiaty = powiat_choices()
    powiat = request.args.get("powiat") or ""
    powiat = powiat if powiat in dict(powiaty) else ""
    register = changes.read_register(settings())
    places = _served_powiaty()
    pending = queue.annotate(queue.items(db(), "pending", category=category), register, places)
    in_powiat = Counter(i.powiat for i in pending)
    if powiat:
        pending = [i for i in pending if i.powiat == powiat]
    decided = queue.annotate(queue.items(db(), None, limit=50, category=category), register, places)
    if powiat:
        decided = [i for i in decided if i.powiat == powiat]
    return render("queue.html", pending=pending, decided=decided, counts=queue.counts(db()),
                  by_category=queue.pending_by_category(db()), categories=queue.CATEGORIES, category=category,
                  powiaty=powiaty, powiat=powiat, in_powiat=in_powiat, job=jobs.status(db(), settings()),
                  labels=imports.FIELD_LABELS)


def _fields(item: queue.Item) -> tuple[str, ...]:
    if item.kind == "review":
        field = item.payload.get("field")
        return (field,) if field in COLUMNS and field not in ("id", "lat", "lon", "geocoder") else ()
    return NEW_FIELDS if item.is_new_entity else REPORT_FIELDS


def _initial(item: queue.Item, current: dict | None) -> dict[str, str]:
    """The item form's values: the entity as it is with what accepting would set."""
    base = {f: str((current or {}).get(f) or "") for f in _fields(item)}
    proposed = queue.suggested_values(db(), settings(), item, actor())
    return {**base, **{k: v for k, v in proposed.items() if k in base}}


def _item_page(item: queue.Item, status: int = 200, problems=None, values=None, check=None):
    if reports.forget_contacts(db(), settings()):
        item = queue.get(db(), item.id)
    current = queue.working_record(db(), settings(), actor(), item.entity_id)
    if item.entity_id and current is None and item.status == "pending":
        flash_error(f"Podmiotu {item.entity_id} nie ma już w rejestrze.")
    return render("queue_item.html", status, item=item, current=current or {}, fields=_fields(item),
                  values=values if values is not None else (_initial(item, current) if item.editable else {}),
                  labels=imports.FIELD_LABELS, types=imports.type_choices(), type_names=entity_types(),
                  statuses=STATUS_LABELS, problems=problems or [], check=check or {},
                  today=today_in_poland().isoformat(), retention=settings().reporter_email_days)


@bp.get("/queue/<int:item_id>")
def queue_item(item_id: int):
    return _item_page(queue.get(db(), item_id))


def _edited(item: queue.Item) -> tuple[dict[str, str] | None, dict[str, str]]:
    """(the values to set from the item's form, everything the form sent) — None: not sent from the form."""
    if not item.editable or request.form.get("edited") != "1":
        return None, {}
    submitted = {f: form_text(f) for f in _fields(item)}
    if "status" in submitted and submitted["status"] not in STATUSES:
        submitted["status"] = ""
    if item.is_new_entity:
        return {k: v for k, v in submitted.items() if v}, submitted
    current = queue.working_record(db(), settings(), actor(), item.entity_id) or {}
    return {k: v for k, v in submitted.items() if v != str(current.get(k) or "")}, submitted


@bp.post("/queue/<int:item_id>")
def queue_decide(item_id: int):
    decision = form_text("decision", 10)
    if decision not in ("accept", "reject"):
        abort(400)
    item = queue.get(db(), item_id)
    values, submitted = _edited(item) if decision == "accept" else (None, {})
    check = {c: form_text(c, 400) for c in CHECK_FIELDS}
    try:
        item = queue.decide(db(), settings(), item_id, actor(), decision == "accept", form_text("note", 2000),
                            values=values,
                            check={k.removeprefix("check_"): v for k, v in check.items()} if check["check_how"] else None)
    except changes.EntityInvalid as exc:
        return _item_page(item, 422, problems=exc.problems, values=submitted or None, check=check)
    if item.status == "accepted" and (item.proposed_values() or item.kind == "report" or values):
        flash_ok(f"Przyjęto zgłoszenie nr {item_id}; zmiana czeka na publikację wśród Twoich zmian.")
    else:
        flash_ok(f"Zgłoszenie nr {item_id}: {item.status_label}.")
    back, back_powiat = form_text("back", 20), form_text("back_powiat", 4)
    return redirect(url_for("admin.queue_page", rodzaj=back if back in queue.CATEGORIES else None,
                            powiat=back_powiat if back_powiat.isdigit() else None))


@bp.post("/verify")
def verify_start():
    try:
        jobs.start_verify(settings(), actor(), db())
    except jobs.VerifyBusy as exc:
        return error_page(409, "Weryfikacja już trwa", exc.description, **{"Retry-After": "30"})
    flash_ok("Rozpoczęto weryfikację w KRS. Propozycje trafią do kolejki, gdy się skończy — "
             "odśwież tę stronę.")
    return redirect(url_for("admin.queue_page"))
