"""Public reports without an account: `Zgłoś zmianę` of an entity (/zglos/<id>) and `Zgłoś nowy podmiot`
(/zglos/nowy), ending on the thank-you page (/zglos/dziekujemy).

These are the only public pages rendered per request (each form carries its own CSRF token and the session
cookie the token lives in), so they are never cached. A report is stored in the console's review queue by
geoes.console.reports and reaches the public site only when an operator accepts and publishes it.

Defences: Flask-WTF's CSRFProtect (set up for the whole app with the console); a honeypot field hidden from
people and screen readers — whatever fills it gets the same thank-you page and nothing is stored; the
per-address rate limit (429 with a Polish message and Retry-After); a size limit on every field and on the
body (413 before the body is read).
"""
from __future__ import annotations

import pandas as pd
from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_wtf.csrf import CSRFError

from geoes.common.reference import entity_types
from geoes.common.text import sort_by_name
from geoes.common.values import plain_record
from geoes.console import reports
from geoes.console.db import connect
from geoes.errors import NotFound
from geoes.publish.labels import ordered_types
from geoes.register.duplicates import DuplicateIndex
from geoes.web.pages.views import dataset
from geoes.web.served import served_data

bp = Blueprint("reports", __name__, url_prefix="/zglos")
ENTITY_ID_MAX = 100


@bp.before_app_request
def _body_limit():
    # Registered with the blueprint, before CSRFProtect (which reads the form to find its token).
    if request.blueprint == "reports" and request.method == "POST":
        request.max_content_length = reports.MAX_BODY_BYTES


@bp.after_request
def _private(response):
    # A form with a per-visitor token, and pages nobody should find in a search engine.
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


@bp.errorhandler(CSRFError)
def _csrf(_exc):
    return _page("error.html", 400, title="Formularz wygasł",
                 message="Formularz wygasł lub nie został wysłany z tej strony (brak ważnego tokenu). "
                         "Otwórz formularz ponownie i wyślij zgłoszenie jeszcze raz.")


def _page(template: str, status: int = 200, headers: dict | None = None, **context):
    return render_template(template, status=status, **context), status, headers or {}


def _entity(entity_id: str) -> dict:
    ds = dataset()
    rows = ds.entities[ds.entities["id"] == entity_id] if len(entity_id) <= ENTITY_ID_MAX else ds.entities.iloc[:0]
    if rows.empty:
        raise NotFound(f"Nie ma podmiotu o identyfikatorze „{entity_id[:ENTITY_ID_MAX]}”.")
    return plain_record(rows.drop(columns=rows.geometry.name).iloc[0].to_dict())


def _gminy() -> list[tuple[str, str]]:
    g = sort_by_name(dataset().gminy.sort_values("teryt"))  # homonymous gminy by code
    return [(r.teryt, f"{r.name} (pow. {r.powiat_name})" if "powiat_name" in g else r.name)
            for r in g.itertuples()]


def _duplicates() -> DuplicateIndex:
    """The register's duplicate index, once per dataset version; an entity's gmina as the source states it,
    else as its point places it."""
    def make(ds):
        columns = ["id", "name", "krs", "nip", "locality", "gmina_teryt", "gmina_teryt_computed"]
        frame = pd.DataFrame({c: ds.entities[c].astype(object).where(ds.entities[c].notna(), "").astype(str)
                              for c in columns})
        frame["gmina_teryt"] = frame["gmina_teryt"].where(frame["gmina_teryt"].ne(""), frame["gmina_teryt_computed"])
        return DuplicateIndex(frame)
    return served_data().cached(("report-duplicates",), make)


def _shown(entity: dict | None) -> dict[str, str]:
    """The entity's facts as its page shows them now (beside each field of the form)."""
    if entity is None:
        return {}
    shown = {f.name: str(entity.get(f.name) or "") for f in reports.facts_for(False)}
    status = shown["status"]
    shown["status"] = dict(reports.STATUS_CHOICES)[status] if status in ("active", "inactive") else ""
    shown["gmina_teryt"] = str(entity.get("gmina_name") or "")
    return shown


def _form(entity: dict | None):
    gminy = _gminy()
    types = [(code, entity_types()[code].label_pl) for code in ordered_types(entity_types(), "label_pl")]
    context = dict(entity=entity, facts=reports.facts_for(entity is None), gminy=gminy, types=types,
                   shown=_shown(entity),
                   statuses=reports.STATUS_CHOICES, limits=reports.TEXT_FIELDS, honeypot=reports.HONEYPOT,
                   labels=reports.FACT_LABELS)
    if request.method == "GET":
        return _page("report_form.html", form={}, **context)
    settings = current_app.extensions["geoes_settings"]
    address = request.remote_addr or "?"   # the client's own address behind GEOES_PROXY_COUNT proxies
    conn = connect(settings)
    try:
        if (request.form.get(reports.HONEYPOT) or "").strip():
            reports.submit(conn, settings, None, address)   # counted, not stored: the same answer as a person's
            return _thanks_redirect(entity)
        reports.check_rate(conn, settings, address)
        try:
            report = reports.parse(request.form, entity=entity, gminy={t for t, _ in gminy},
                                   types={c for c, _ in types})
        except reports.ReportInvalid as exc:
            return _page("report_form.html", 422, form=request.form, problems=exc.problems, **context)
        report.warnings = reports.duplicate_warnings(report, _duplicates(), entity)
        reports.submit(conn, settings, report, address)
    except reports.TooManyReports as exc:
        return _page("error.html", 429, {"Retry-After": str(exc.retry_after)}, title="Zbyt wiele zgłoszeń",
                     message=exc.description)
    except reports.ReportQueueFull as exc:
        return _page("error.html", 503, {"Retry-After": str(exc.retry_after)}, title="Formularz chwilowo nieczynny",
                     message=exc.description)
    finally:
        conn.close()
    return _thanks_redirect(entity)


def _thanks_redirect(entity: dict | None):
    args = {"podmiot": entity["id"]} if entity else {}
    return redirect(url_for("reports.thanks", **args), code=303)


@bp.route("/nowy", methods=["GET", "POST"])
def new():
    return _form(None)


@bp.get("/dziekujemy")
def thanks():
    entity_id = (request.args.get("podmiot") or "")[:ENTITY_ID_MAX]
    ds = dataset()
    hit = ds.entities[ds.entities["id"] == entity_id] if entity_id else ds.entities.iloc[:0]
    entity = {"id": entity_id, "name": str(hit["name"].iloc[0])} if len(hit) else None
    return _page("report_thanks.html", entity=entity)


@bp.route("/<entity_id>", methods=["GET", "POST"])
def change(entity_id: str):
    return _form(_entity(entity_id))
