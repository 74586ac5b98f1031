"""The console's start page, uploads and change sets: mapping → preview → fixes → publish."""
from __future__ import annotations

from flask import Response, abort, jsonify, redirect, request, url_for

from geoes.common.labels import PRECISION_PL
from geoes.common.polish import count
from geoes.common.reference import entity_types
from geoes.console import changes, history, imports, publish, queue, uploads
from geoes.dataset.build import current_version
from geoes.errors import InvalidInput
from geoes.register.record import PRECISIONS
from geoes.web.admin.core import (actor, bp, db, error_page, flash_error, flash_ok, form_text, publish_step,
                                   render, settings)

SHOWN_ROWS = 200        # rows of each preview table shown on the page; all of them are in the downloads
# What the preview says of a new entity's place: the one wording of the pages (a powiat-only entity has no point).
PRECISION_LABELS = PRECISION_PL


def _changeset(cs_id: int) -> changes.Changeset:
    return changes.get(db(), cs_id)


@bp.get("/")
def dashboard():
    s = settings()
    open_sets = changes.listing(db())
    return render("dashboard.html", open_sets=open_sets, version=current_version(s),
                  stale={cs.id for cs in open_sets if changes.is_stale(cs, s)}, limits=imports.Limits.from_settings(s),
                  pending=queue.counts(db())["pending"], draft=changes.open_draft(db(), actor()),
                  job=uploads.open_job(db(), s, actor()))


@bp.post("/upload")
def upload():
    file = request.files.get("file")
    if file is None or not file.filename:
        flash_error("Wybierz plik rejestru (.xlsx albo .csv).")
        return redirect(url_for("admin.dashboard"))
    limit = settings().max_upload_bytes
    data = file.stream.read(limit + 1)
    try:
        job = uploads.start(db(), settings(), actor(), "upload", filename=file.filename, data=data)
    except uploads.UploadBusy as exc:
        return _dashboard(409, exc.description)
    return redirect(url_for("admin.upload_job", job_id=job.id), 303)


def _dashboard(status: int, upload_error: str):
    return render("dashboard.html", status, open_sets=changes.listing(db()), version=current_version(settings()),
                  stale=set(), limits=imports.Limits.from_settings(settings()),
                  pending=queue.counts(db())["pending"], draft=changes.open_draft(db(), actor()),
                  upload_error=upload_error, job=uploads.open_job(db(), settings(), actor()))


def _preview_job(cs_id: int, **args):
    """The change set's preview made again in the background; the progress page."""
    try:
        job = uploads.start(db(), settings(), actor(), "preview", changeset_id=cs_id, args=args)
    except uploads.UploadBusy as exc:
        return error_page(409, "Trwa inne zadanie", exc.description, **{"Retry-After": "5"})
    return redirect(url_for("admin.upload_job", job_id=job.id), 303)


@bp.get("/jobs/<int:job_id>")
def upload_job(job_id: int):
    """The progress of a background job: refreshes itself while it runs; at the end the change set (or
    the page the job names), or why it failed — nothing was staged or published then."""
    job = uploads.get(db(), settings(), job_id)
    if job is None:
        abort(404)
    if job.state == "done":
        if job.message:
            (flash_ok if job.status < 400 else flash_error)(job.message)
        return redirect(job.next_url or url_for("admin.changeset", cs_id=job.changeset_id))
    status = 200 if job.open else (job.status if 400 <= job.status < 600 else 500)
    return render("upload_job.html", status, job=job, settings=settings(), status_text=_status_text(job))


def _status_text(job: uploads.Job) -> str:
    return f"Trwa: {job.stage or job.state_label} ({count(job.elapsed, 'sekunda')})."


@bp.get("/jobs/<int:job_id>/status")
def upload_job_status(job_id: int):
    """The job's state for the progress page's script (JSON)."""
    job = uploads.get(db(), settings(), job_id)
    if job is None:
        abort(404)
    return jsonify({"open": job.open, "state": job.state, "text": _status_text(job)})


@bp.get("/changes/<int:cs_id>")
def changeset(cs_id: int):
    cs = _changeset(cs_id)
    if cs.state == "mapping":
        return _mapping_page(cs)
    shown = changes.preview_of(db(), cs_id)
    outcome = publish.outcome(db(), cs.published_version) if cs.published_version else None
    return render("changeset.html", cs=cs, preview=shown, stale=changes.is_stale(cs, settings()), limit=SHOWN_ROWS,
                  labels=imports.FIELD_LABELS, precisions=PRECISION_LABELS, types=entity_types(), outcome=outcome)


def _mapping_page(cs: changes.Changeset, status: int = 200, error: str = ""):
    proposal = changes.proposal_of(db(), cs.id)
    return render("mapping.html", status, cs=cs, proposal=proposal, choices=imports.mapping_choices,
                  labels=imports.FIELD_LABELS, error=error)


@bp.get("/changes/<int:cs_id>/mapping")
def mapping(cs_id: int):
    cs = _changeset(cs_id)
    if cs.kind != "upload":
        abort(404)
    return _mapping_page(cs)


@bp.post("/changes/<int:cs_id>/mapping")
def confirm_mapping(cs_id: int):
    cs = _changeset(cs_id)
    proposal = changes.proposal_of(db(), cs_id)
    if proposal is None:
        abort(404)
    choices = {c.index: form_text(f"col-{c.index}", 40) for c in proposal.columns}
    save = bool(request.form.get("save"))
    try:
        changes.confirm_mapping(db(), settings(), cs_id, actor(), choices, save=save, preview=False)
    except InvalidInput as exc:
        return _mapping_page(cs, 422, exc.description)
    return _preview_job(cs_id, done="Mapowanie zatwierdzone" + (
        " i zapisane dla kolejnych plików o tym układzie." if save else "."))


def _row_values(cs: changes.Changeset, row: int) -> tuple[dict, dict]:
    """(field → value of the row with the fixes so far, the mapping the row is read with)."""
    rows = changes.rows_of(db(), cs.id)
    mapping = rows.mapping_with(cs.mapping, cs.fixes)
    values = rows.values(row, mapping, cs.fixes)
    if values is None:
        abort(404)
    return values, mapping


@bp.get("/changes/<int:cs_id>/rows/<int:row>")
def fix_row_form(cs_id: int, row: int, status: int = 200, error: str = ""):
    cs = _changeset(cs_id)
    if cs.kind != "upload" or cs.state != "preview":
        abort(404)
    shown = changes.preview_of(db(), cs_id)
    item = shown.row(row) or {"row": row, "reasons": [], "candidates": [], "name": ""}
    values, mapping = _row_values(cs, row)
    return render("fix_row.html", status, cs=cs, item=item, values=values,
                  fields=imports.editable_fields(item, mapping), labels=imports.FIELD_LABELS,
                  types=imports.type_choices(),
                  # A point set on the map is at least somewhere in a gmina: "only the powiat, no point" is no choice.
                  precisions=[(p, PRECISION_LABELS.get(p, p)) for p in PRECISIONS if p not in ("none", "powiat")],
                  error=error)


@bp.post("/changes/<int:cs_id>/rows/<int:row>")
def fix_row(cs_id: int, row: int):
    cs = _changeset(cs_id)
    if cs.kind != "upload" or cs.state != "preview":
        abort(404)
    values, mapping = _row_values(cs, row)
    shown = changes.preview_of(db(), cs_id)
    item = shown.row(row) or {"row": row, "reasons": []}
    fixes = {}
    for col in imports.editable_fields(item, mapping):
        if col in request.form and form_text(col) != values.get(col, ""):
            fixes[col] = form_text(col)
    if form_text("gmina_teryt_choice"):
        fixes["gmina_teryt"] = form_text("gmina_teryt_choice", 7)
    lat, lon = form_text("lat", 20).replace(",", "."), form_text("lon", 20).replace(",", ".")
    if lat or lon:
        fixes.update(lat=lat, lon=lon, location_precision=form_text("location_precision", 20) or "locality",
                     geocoder=imports.GEOCODER_CLICK)
    if not fixes:
        flash_error("Nic nie zmieniono w tym wierszu.")
        return redirect(url_for("admin.fix_row_form", cs_id=cs_id, row=row))
    changes.fix_row(db(), settings(), cs_id, actor(), row, fixes, preview=False)
    return _preview_job(cs_id, row=row, done=f"Poprawiono wiersz {row}.",
                        done_url=url_for("admin.changeset", cs_id=cs_id) + "#podsumowanie",
                        fix_url=url_for("admin.fix_row_form", cs_id=cs_id, row=row))


@bp.get("/changes/<int:cs_id>/rejects.csv")
def rejects(cs_id: int):
    cs = _changeset(cs_id)
    body = changes.load_file(db(), cs_id, "rejects") if cs.kind == "upload" else None
    if not body:
        abort(404)
    return Response(body, mimetype="text/csv", headers={
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": f'attachment; filename="odrzucone-wiersze-{cs_id}.csv"'})


@bp.post("/changes/<int:cs_id>/refresh")
def refresh(cs_id: int):
    changes.refresh(db(), settings(), cs_id, actor(), preview=False)
    return _preview_job(cs_id, done="Podgląd przygotowano ponownie wobec obecnego rejestru.")


@bp.post("/changes/<int:cs_id>/discard")
def discard(cs_id: int):
    changes.discard(db(), cs_id, actor())
    flash_ok(f"Porzucono zestaw zmian nr {cs_id}. Nic nie zostało opublikowane.")
    return redirect(url_for("admin.dashboard"))


@bp.get("/changes/<int:cs_id>/publish")
def publish_confirm(cs_id: int):
    """The safety catch of `Opublikuj`: what publishing would change and which version it replaces; the
    public site changes only on the explicit confirmation below it (a form: it works without JavaScript)."""
    cs = _changeset(cs_id)
    if cs.state != "preview":
        return redirect(url_for("admin.changeset", cs_id=cs_id))
    plan = publish.plan_publish(db(), settings(), cs_id)
    return render("confirm.html", kind="publish", cs=cs, plan=plan, lines=history.change_lines(plan),
                  replaced=publish.version_info(db(), settings(), plan["replaces"]),
                  before=len(changes.read_register(settings())), source=history.source_text(plan["source"]),
                  back_url=url_for("admin.changeset", cs_id=cs_id))


@bp.post("/changes/<int:cs_id>/publish")
def publish_changeset(cs_id: int):
    return publish_step(lambda expected: publish.publish(db(), settings(), cs_id, actor(), expected=expected),
                        "Nie opublikowano", url_for("admin.publish_confirm", cs_id=cs_id))
