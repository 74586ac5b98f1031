"""Errors as the web answers them, in one place: every failure becomes either the one JSON error shape
`{"code", "description"}` or the Polish HTML error page.

JSON goes to the machine interfaces — /api, /ogc, /healthz — and to anyone whose Accept header prefers
application/json; everyone else gets the page. `geoes.errors.GeoesError` (a bad parameter 400, an
unknown code or id 404, no built data 503…) carries its status, code and Polish description; werkzeug's
own errors (an unknown URL, a write method, a body too large) and unexpected exceptions (500, logged
with the traceback for the operator, one sentence for the user) take the same two shapes.
"""
from __future__ import annotations

from flask import Flask, Response, render_template, request
from werkzeug.exceptions import HTTPException

from geoes.dataset.reader import NoDataset
from geoes.errors import GeoesError, InvalidInput, NotFound
from geoes.publish.filters import ParamError
from geoes.publish.labels import capitalised
from geoes.web.http import json_error

MACHINE_PATHS = ("/api", "/ogc", "/healthz")

# werkzeug's errors in Polish: (page title, page text, JSON description).
HTTP_TEXTS = {
    400: ("Błędne zapytanie", "Zapytanie jest niepoprawne.", "zapytanie jest niepoprawne"),
    404: ("Nie znaleziono", "Nie ma takiej strony. Sprawdź adres albo zacznij od mapy.", "brak zasobu {path}"),
    405: ("Niedozwolona metoda", "Ta strona służy tylko do odczytu.",
          "tylko do odczytu: dozwolone GET, HEAD, OPTIONS"),
    413: ("Za duże zapytanie", "Wysłane dane są za duże.", "treść zapytania jest za duża"),
}
INTERNAL_TEXT = "Wystąpił nieoczekiwany błąd. Spróbuj ponownie później."
# The 500 page without the site's templates: rendering them may be what failed.
INTERNAL_PAGE = ("<!doctype html><html lang=\"pl\"><meta charset=\"utf-8\"><title>Błąd serwera</title>"
                 "<h1>Błąd serwera</h1><p>Przepraszamy, wystąpił błąd. Spróbuj ponownie później.</p></html>")


def wants_json() -> bool:
    path = request.path
    if any(path == p or path.startswith(p + "/") for p in MACHINE_PATHS):
        return True
    return request.accept_mimetypes.best_match(("text/html", "application/json")) == "application/json"


def error_page(status: int, title: str, message: str) -> Response:
    body = render_template("error.html", status=status, title=title, message=message)
    return Response(body, status=status, mimetype="text/html")


def page_text(exc: GeoesError) -> tuple[str, str]:
    """(title, text) of the HTML error page for an expected failure."""
    if isinstance(exc, ParamError):
        return "Błędny parametr zapytania", f"Parametr „{exc.param}”: {exc.message}"
    if isinstance(exc, NoDataset):
        return "Brak danych", "Dane nie zostały jeszcze zbudowane. Spróbuj ponownie za chwilę."
    if isinstance(exc, NotFound):
        return "Nie znaleziono", exc.description
    title = "Błędne zapytanie" if isinstance(exc, InvalidInput) else "Błąd"
    return title, capitalised(exc.description)


def handle_geoes_error(exc: GeoesError) -> Response:
    if wants_json():
        return json_error(exc.http_status, exc.code, exc.description)
    return error_page(exc.http_status, *page_text(exc))


def handle_http_error(exc: HTTPException):
    if exc.code is None or exc.code < 400:
        return exc
    title, text, description = HTTP_TEXTS.get(
        exc.code, ("Błąd zapytania", f"Zapytania nie można obsłużyć (HTTP {exc.code}).",
                   f"zapytania nie można obsłużyć (HTTP {exc.code})"))
    if wants_json():
        resp = json_error(exc.code, "".join(exc.name.split()), description.format(path=request.path[:120]))
    else:
        resp = error_page(exc.code, title, text)
    if getattr(exc, "valid_methods", None):
        resp.headers["Allow"] = ", ".join(exc.valid_methods)
    return resp


def install(app: Flask) -> None:
    app.register_error_handler(GeoesError, handle_geoes_error)
    app.register_error_handler(HTTPException, handle_http_error)

    @app.errorhandler(500)
    def _internal(error):
        # Flask has logged the exception with its traceback for the operator; the user sees one sentence.
        app.logger.error("błąd wewnętrzny: %s %s", request.method, request.path)
        if wants_json():
            return json_error(500, "InternalError", "Błąd wewnętrzny serwera.")
        try:
            return error_page(500, "Błąd serwera", INTERNAL_TEXT)
        except Exception:  # the templates themselves may be what failed
            return Response(INTERNAL_PAGE, status=500, mimetype="text/html")
