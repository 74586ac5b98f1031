"""Flask application factory: pages, GeoJSON API and OGC API – Features over the built dataset."""
from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, jsonify

from ..config import Settings
from .store import DatasetStore


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(
        GEOES_REGION=None,
        GEOES_DATA_DIR=None,
        MAX_CONTENT_LENGTH=1 * 1024 * 1024,
        JSON_SORT_KEYS=False,
        PAGE_SIZE=100,
        MAX_PAGE_SIZE=10_000,
    )
    app.config.from_pyfile("geoes.cfg", silent=True)
    app.config.from_prefixed_env("GEOES")  # e.g. GEOES_PAGE_SIZE=50
    if test_config:
        app.config.update(test_config)
    settings = Settings.from_env(region=app.config.get("GEOES_REGION") or app.config.get("REGION"),
                                 data_dir=app.config.get("GEOES_DATA_DIR") or app.config.get("DATA_DIR"))
    app.extensions["geoes_settings"] = settings
    app.extensions["geoes_store"] = DatasetStore(settings)

    from . import api, ogc_flask, pages

    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(ogc_flask.bp)

    install_security(app)

    @app.get("/healthz")
    def healthz():
        store: DatasetStore = app.extensions["geoes_store"]
        try:
            ds = store.current()
        except Exception as exc:  # report, don't crash: the health check must answer
            return jsonify(status="error", message=str(exc)), 503
        return jsonify(status="ok", version=ds.version, entities=int(len(ds.entities)))

    return app


TILE_HOSTS = "https://tile.openstreetmap.org https://*.tile.openstreetmap.org"


def install_security(app: Flask) -> None:
    """Production headers on every response (PRODUCT.md §6, issue 6).

    Scripts run only from this origin or with the per-request nonce the templates put on their inline
    blocks; only map tiles come from elsewhere. Framing is allowed for /embed alone.
    """
    import secrets

    from flask import g, request

    @app.before_request
    def _nonce():
        g.csp_nonce = secrets.token_urlsafe(16)

    @app.after_request
    def _headers(response):
        h = response.headers
        embed = request.path.rstrip("/") == "/embed"
        nonce = g.get("csp_nonce", "")
        h.setdefault("Content-Security-Policy", "; ".join([
            "default-src 'self'",
            f"script-src 'self' 'nonce-{nonce}'",
            "style-src 'self' 'unsafe-inline'",  # Leaflet positions tiles and markers with style attributes
            f"img-src 'self' data: blob: {TILE_HOSTS}",
            "connect-src 'self'",
            "font-src 'self' data:",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors *" if embed else "frame-ancestors 'none'",
        ]))
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        if not embed:
            h.setdefault("X-Frame-Options", "DENY")
        h.setdefault("Permissions-Policy", "geolocation=(self), camera=(), microphone=()")
        return response

    @app.errorhandler(500)
    def _internal(error):
        # Logged with the traceback for the operator; the user sees one sentence, never the traceback.
        app.logger.error("błąd wewnętrzny: %s %s", request.method, request.path)
        if request.path.startswith(("/api", "/ogc")) or request.accept_mimetypes.best == "application/json":
            return jsonify(code="InternalError", description="Błąd wewnętrzny serwera."), 500
        return ("<!doctype html><html lang=\"pl\"><meta charset=\"utf-8\"><title>Błąd serwera</title>"
                "<h1>Błąd serwera</h1><p>Przepraszamy, wystąpił błąd. Spróbuj ponownie później.</p></html>"), 500


def get_store(app: Flask | None = None) -> DatasetStore:
    from flask import current_app

    return (app or current_app).extensions["geoes_store"]
