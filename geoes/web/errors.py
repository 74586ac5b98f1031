"""Errors as the web answers them: a Polish HTML page for people, JSON under the machine interfaces."""
from __future__ import annotations

from flask import Blueprint, Flask, Response, current_app, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from geoes.dataset.reader import NoDataset
from geoes.errors import NotFound
from geoes.publish.filters import ParamError


def error_page(status: int, title: str, message: str) -> Response:
    body = render_template("error.html", status=status, title=title, message=message)
    return Response(body, status=status, mimetype="text/html")


def install_page_errors(bp: Blueprint) -> None:
    @bp.errorhandler(ParamError)
    def _param_error(exc: ParamError):
        return error_page(400, "Błędny parametr zapytania", f"Parametr „{exc.param}”: {exc.message}")

    @bp.errorhandler(NotFound)
    def _not_found(exc: NotFound):
        return error_page(404, "Nie znaleziono", exc.description)

    @bp.errorhandler(NoDataset)
    def _no_dataset(exc: NoDataset):
        return error_page(503, "Brak danych", "Dane nie zostały jeszcze zbudowane. Spróbuj ponownie za chwilę.")

    @bp.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        if exc.code == 404:
            return error_page(404, "Nie znaleziono", "Nie ma takiej strony.")
        if exc.code == 400:
            return error_page(400, "Błędne zapytanie", "Zapytanie jest niepoprawne.")
        return exc

    @bp.errorhandler(Exception)
    def _unexpected(exc: Exception):
        if isinstance(exc, HTTPException):
            return exc
        current_app.logger.exception("błąd strony %s", request.path)
        return error_page(500, "Błąd serwera", "Wystąpił nieoczekiwany błąd. Spróbuj ponownie później.")


def install(app: Flask) -> None:
    @app.errorhandler(404)
    def _app_not_found(exc):
        """Unknown URLs: a Polish page, or JSON under the machine interfaces (/api, /ogc)."""
        if request.path.startswith(("/api/", "/ogc")) or request.accept_mimetypes.best == "application/json":
            return jsonify(status=404, error="nie znaleziono", message=f"brak zasobu {request.path}"), 404
        return error_page(404, "Nie znaleziono", "Nie ma takiej strony. Sprawdź adres albo zacznij od mapy.")

    @app.errorhandler(500)
    def _internal(error):
        # Logged with the traceback for the operator; the user sees one sentence, never the traceback.
        app.logger.error("błąd wewnętrzny: %s %s", request.method, request.path)
        if request.path.startswith(("/api", "/ogc")) or request.accept_mimetypes.best == "application/json":
            return jsonify(code="InternalError", description="Błąd wewnętrzny serwera."), 500
        return ("<!doctype html><html lang=\"pl\"><meta charset=\"utf-8\"><title>Błąd serwera</title>"
                "<h1>Błąd serwera</h1><p>Przepraszamy, wystąpił błąd. Spróbuj ponownie później.</p></html>"), 500
