"""The console blueprint: the sign-in gate, one SQLite connection per request, errors as Polish pages.

Every /admin endpoint except the sign-in page requires a signed-in operator: an anonymous GET is
redirected to the sign-in page, anything else gets 403 and changes nothing. The gate runs before any
view, so a view cannot forget it.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urlsplit

from flask import (Blueprint, Response, abort, current_app, flash, g, redirect, render_template, request,
                   session, url_for)
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from geoes.common.polish import count, count_verb
from geoes.config import Settings
from geoes.console import accounts, history, sessions
from geoes.console.db import connect
from geoes.console.publish import PublishBusy, SiteChanged
from geoes.errors import GeoesError
from geoes.publish.labels import capitalised
from geoes.register.identifiers import checks_in_words

bp = Blueprint("admin", __name__, url_prefix="/admin")

SESSION_ID = "sid"          # the random token of the server-side session (geoes.console.sessions)
PUBLIC_ENDPOINTS = {"admin.login"}


def settings() -> Settings:
    return current_app.extensions["geoes_settings"]


def db():
    """This request's connection to the console's store (closed when the request ends)."""
    if "console_db" not in g:
        g.console_db = connect(settings())
    return g.console_db


@bp.teardown_app_request
def _close_db(_exc):
    conn = g.pop("console_db", None)
    if conn is not None:
        conn.close()


def client_address() -> str:
    # request.remote_addr is the proxy's address unless GEOES_PROXY_COUNT installed ProxyFix.
    return request.remote_addr or "?"


ENDED = {"idle": "Sesja wygasła z powodu bezczynności. Zaloguj się ponownie.",
         "expired": "Sesja wygasła: od zalogowania minął najdłuższy dozwolony czas ({hours}). Zaloguj się ponownie."}


def current_user() -> accounts.User | None:
    """The signed-in operator of this request, or None. The cookie's token must name a session in the
    store that is neither idle nor too old; an ended one is deleted and the cookie cleared."""
    if "user" in g:
        return g.user
    g.user = None
    token = session.get(SESSION_ID)
    if token is None:
        return None
    found = sessions.check(db(), settings(), token)
    user = accounts.user_by_id(db(), found.user_id) if found.user_id is not None else None
    if user is None:
        session.clear()   # signed out, ended, or the account was removed or its password changed
        if found.ended in ENDED:
            flash(ENDED[found.ended].format(hours=count(settings().session_max_hours, "godzina")), "error")
        return None
    session.permanent = True
    g.user = user
    return user


def sign_in(user: accounts.User) -> None:
    """A new server-side session (a new token: nothing of an earlier session is carried over)."""
    session.clear()
    session[SESSION_ID] = sessions.start(db(), settings(), user.id)
    session.permanent = True
    g.user = user


def sign_out() -> None:
    sessions.end(db(), session.get(SESSION_ID))
    session.clear()


def actor() -> str:
    return g.user.login


@bp.before_request
def _gate():
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if current_user() is not None:
        return None
    if request.method in ("GET", "HEAD"):
        return redirect(url_for("admin.login", next=request.full_path.rstrip("?")))
    return error_page(403, "Brak dostępu", "Zaloguj się, aby wykonać tę czynność. Nic nie zostało zmienione.")


@bp.context_processor
def _wording():
    """The console's Polish for versions, changes and the log (geoes.console.history), in every console page."""
    return {"history": history}


@bp.after_request
def _no_store(response: Response) -> Response:
    # Console pages hold the register's unpublished state and the operator's session: never cached.
    response.headers["Cache-Control"] = "no-store"
    response.headers.setdefault("X-Robots-Tag", "noindex, nofollow")
    return response


def safe_next(target: str | None) -> str:
    """Only a path inside the console (no other host, no scheme-relative //host). A value with a control
    character (a line break that would split the Location header) is a bad request: 400, not a 500."""
    if not target:
        return url_for("admin.dashboard")
    if _CONTROL.search(target):
        abort(400)
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/admin") or target.startswith(("//", "/\\")):
        return url_for("admin.dashboard")
    return target


_CONTROL = re.compile("[\x00-\x1f\x7f]")


def render(template: str, status: int = 200, **context):
    return render_template(f"admin/{template}", **context), status


def error_page(status: int, title: str, message: str, **headers) -> Response:
    body = render_template("admin/error.html", status=status, title=title, message=message)
    resp = Response(body, status=status, mimetype="text/html")
    resp.headers.update(headers)
    return resp


def publish_step(step: Callable[[str], dict], failed_title: str, confirm_url: str) -> Response:
    """Run a publish or a restore only when the confirmation page sent `confirm` (an old form or a script is
    shown the summary first and changes nothing); `step` gets the version the operator saw being replaced
    and returns its summary. Shows the version it made; another publish under way is 409 with a hint to
    retry; a summary that stopped being true (someone else switched the site meanwhile) back to the
    confirmation page with the new one; any other refusal a page that says why (the site is untouched)."""
    if request.form.get("confirm") != "1":
        return redirect(confirm_url, 303)
    try:
        summary = step(form_text("replaces", 200))
    except PublishBusy as exc:
        return error_page(409, "Trwa inna publikacja", exc.description, **{"Retry-After": "10"})
    except SiteChanged as exc:
        flash_error(exc.description)
        return redirect(confirm_url, 303)
    except GeoesError as exc:
        return error_page(exc.http_status if exc.http_status < 500 else 409, failed_title, exc.description)
    return redirect(url_for("admin.version", version=summary["version"]))


def form_text(name: str, limit: int = 5000) -> str:
    return (request.form.get(name) or "").strip()[:limit]


# --- errors ---------------------------------------------------------------------------------------

@bp.errorhandler(CSRFError)
def _csrf(exc: CSRFError):
    return error_page(400, "Formularz wygasł lub jest nieprawidłowy",
                      "Brak ważnego tokenu formularza (CSRF). Odśwież stronę i spróbuj ponownie — "
                      "nic nie zostało zmienione.")


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(exc):
    limit = settings().max_upload_bytes if current_user() else current_app.config.get("MAX_CONTENT_LENGTH")
    mb = f"{(limit or 0) / 1024 / 1024:.1f}".replace(".", ",")
    return error_page(413, "Plik jest za duży",
                      f"Przesłany plik przekracza limit {mb} MB. Nic nie zostało wczytane ani opublikowane.")


@bp.errorhandler(GeoesError)
def _geoes_error(exc: GeoesError):
    headers = {}
    if isinstance(exc, accounts.Throttled):
        headers["Retry-After"] = str(exc.retry_after)
    return error_page(exc.http_status, "Nie udało się", exc.description, **headers)


@bp.errorhandler(HTTPException)
def _http(exc: HTTPException):
    if exc.code == 404:
        return error_page(404, "Nie znaleziono", "Nie ma takiej strony w konsoli.")
    if exc.code == 405:
        return error_page(405, "Niedozwolona metoda", "Ta strona nie przyjmuje takiego żądania.")
    if exc.code == 400:
        return error_page(400, "Błędne żądanie", "Żądanie jest niepoprawne. Nic nie zostało zmienione.")
    return exc


def flash_ok(message: str) -> None:
    flash(message, "ok")


def flash_error(message: str) -> None:
    flash(message, "error")


@bp.app_template_filter("pl_count")
def _pl_count(n, noun: str) -> str:
    """"3 podmioty", "5 wierszy": geoes.common.polish, the one plural helper."""
    return count(n, noun)


@bp.app_template_filter("pl_count_verb")
def _pl_count_verb(n, noun: str, verb: str) -> str:
    """"3 zgłoszenia czekają", "5 zgłoszeń czeka": the count, its noun and the verb agreeing with them."""
    return count_verb(n, noun, verb)


@bp.app_template_filter("capitalised")
def _capitalised(text) -> str:
    """The first letter upper case, the rest as it is (Jinja's `capitalize` lowercases the rest: a file name)."""
    return capitalised(str(text or ""))


@bp.app_template_filter("checks_in_words")
def _checks_in_words(text) -> str:
    """A source's checksum notes in Polish: "krs:ok(10 digits)" → "KRS: poprawny numer (10 cyfr)"."""
    return checks_in_words(str(text or ""))


@bp.app_template_filter("when")
def _when(iso: str | None) -> str:
    """An ISO timestamp (UTC) as the operator reads it, in Polish time: "30 listopada 2026, 14:05"
    (geoes.console.history: one wording for every page of the console)."""
    return history.when_text(iso)
