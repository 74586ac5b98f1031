"""Entities one at a time: add, edit, mark inactive — into the operator's draft, published like an upload.

The form shows the internal notes (never published) and the operator's contacts apart from the unit's own;
a verification is recorded only as the operator's check with how it was made (changes.operator_check), and
the date of a change from a public report is the queue's to set, not the form's."""
from __future__ import annotations


from flask import abort, redirect, request, url_for

from geoes.common.polish import today_in_poland
from geoes.console import changes, imports
from geoes.common.text import text_key
from geoes.register.record import COLUMNS, PRECISIONS
from geoes.web.admin.core import actor, bp, db, flash_ok, form_text, render, settings
from geoes.web.admin.staging import PRECISION_LABELS

PAGE = 100
# The record's columns an operator edits in the form (the id is the register's; the geocoder is set
# when a point is placed on the map; a verification is the check's fieldset, a change the queue's).
CHECK_COLUMNS = ("verified_at", "verified_source", "verified_evidence", "changed_at", "change_source")
FORM_FIELDS = [c for c in COLUMNS if c not in ("id", "geocoder", "lat", "lon", "location_precision", *CHECK_COLUMNS)]
LONG_FIELDS = ("description", "sources", "operator", "internal_notes", "operator_address")
STATUS_LABELS = {"active": "działa (potwierdzone — wymaga zapisu sprawdzenia)", "inactive": "zamknięty",
                 "unknown": "nieznany"}
CHECK_FIELDS = ("check_how", "check_source", "check_date", "check_role")
SE_LABELS = {"unknown": "brak informacji", "true": "tak", "false": "nie"}


def _working_register():
    """The register with the operator's unpublished edits, when there are any."""
    draft = changes.open_draft(db(), actor())
    if draft is not None and not changes.is_stale(draft, settings()):
        return changes.merged_of(db(), draft.id), draft
    return changes.read_register(settings()), draft


@bp.get("/entities")
def entity_list():
    frame, draft = _working_register()
    q = (request.args.get("q") or "").strip()[:200]
    if q:
        key = text_key(q)
        hay = (frame["name"] + " " + frame["locality"] + " " + frame["id"]).map(text_key)
        frame = frame[hay.str.contains(key, regex=False)]
    try:
        page = max(1, int(request.args.get("page", "1")))
    except ValueError:
        page = 1
    total = len(frame)
    rows = frame.sort_values("name", kind="stable").iloc[(page - 1) * PAGE: page * PAGE].to_dict("records")
    return render("entities.html", rows=rows, q=q, page=page, total=total, per_page=PAGE, draft=draft,
                  statuses=STATUS_LABELS)


def _form_context(record: dict, **extra) -> dict:
    extra.setdefault("check", {})
    return dict(record=record, fields=FORM_FIELDS, long_fields=LONG_FIELDS, labels=imports.FIELD_LABELS,
                types=imports.type_choices(), statuses=STATUS_LABELS, se_labels=SE_LABELS,
                today=today_in_poland().isoformat(),
                precisions=[(p, PRECISION_LABELS.get(p, p)) for p in PRECISIONS if p != "none"], **extra)


def submitted_check() -> tuple[dict[str, str], dict[str, str]]:
    """(the verification the form records, the check's fields as sent); EntityInvalid if incomplete."""
    sent = {c: form_text(c, 400) for c in CHECK_FIELDS}
    return changes.operator_check(sent["check_how"], sent["check_source"], sent["check_date"], sent["check_role"]), sent


def _submitted(old: dict | None) -> dict[str, str]:
    values = {c: form_text(c) for c in FORM_FIELDS if c in request.form}
    values.update(submitted_check()[0])
    lat, lon = form_text("lat", 20).replace(",", "."), form_text("lon", 20).replace(",", ".")
    old = old or {}
    if (lat, lon) != (old.get("lat", ""), old.get("lon", "")):
        values.update(lat=lat, lon=lon, location_precision=form_text("location_precision", 20) or "locality",
                      geocoder=imports.GEOCODER_CLICK if lat and lon else "")
        if not (lat and lon):
            values["location_precision"] = "none"
    return values


@bp.route("/entities/new", methods=["GET", "POST"])
def entity_new():
    if request.method == "GET":
        return render("entity_form.html", **_form_context({c: "" for c in COLUMNS}, new=True))
    check = {c: form_text(c, 400) for c in CHECK_FIELDS}
    try:
        values = _submitted(None)
        cs = changes.edit_entity(db(), settings(), actor(), None, values)
    except changes.EntityInvalid as exc:
        values = {c: form_text(c) for c in FORM_FIELDS if c in request.form}
        return render("entity_form.html", 422, **_form_context({**{c: "" for c in COLUMNS}, **values}, new=True,
                                                               problems=exc.problems, check=check))
    flash_ok("Dodano podmiot do zmian czekających na publikację.")
    return redirect(url_for("admin.changeset", cs_id=cs.id))


@bp.route("/entities/<entity_id>", methods=["GET", "POST"])
def entity_edit(entity_id: str):
    frame, _draft = _working_register()
    hit = frame[frame["id"] == entity_id]
    if hit.empty:
        abort(404)
    record = hit.iloc[0].to_dict()
    if request.method == "GET":
        return render("entity_form.html", **_form_context(record, new=False))
    check = {c: form_text(c, 400) for c in CHECK_FIELDS}
    try:
        values = _submitted(record)
        changed = {k: v for k, v in values.items() if v != record.get(k, "")}
        if not changed:
            flash_ok("Nic nie zmieniono.")
            return redirect(url_for("admin.entity_edit", entity_id=entity_id))
        cs = changes.edit_entity(db(), settings(), actor(), entity_id, changed)
    except changes.EntityInvalid as exc:
        values = {c: form_text(c) for c in FORM_FIELDS if c in request.form}
        return render("entity_form.html", 422, **_form_context({**record, **values}, new=False, problems=exc.problems,
                                                               check=check))
    flash_ok(f"Zmiana podmiotu {record['name']} czeka na publikację.")
    return redirect(url_for("admin.changeset", cs_id=cs.id))


@bp.post("/entities/<entity_id>/inactive")
def entity_inactive(entity_id: str):
    frame, _draft = _working_register()
    if not (frame["id"] == entity_id).any():
        abort(404)
    cs = changes.edit_entity(db(), settings(), actor(), entity_id, {"status": "inactive"}, action="entity_inactive")
    flash_ok("Podmiot oznaczony jako zamknięty — zmiana czeka na publikację.")
    return redirect(url_for("admin.changeset", cs_id=cs.id))
