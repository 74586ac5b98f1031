"""Flask application factory: pages, GeoJSON API and OGC API – Features over the built dataset."""
from __future__ import annotations


from flask import Flask, jsonify

from geoes.config import Settings
from geoes.web.served import EXTENSION, RequestServedData, served_data


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__)
    # One reader of settings (geoes.config): defaults ← instance/geoes.cfg ← GEOES_* ← test_config.
    settings = Settings.from_env(test_config)
    app.config.update(settings.flask_config())
    if test_config:  # Flask's own keys (TESTING…) pass through
        app.config.update({k: v for k, v in test_config.items() if k.isupper()})
    app.json.sort_keys = settings.json_sort_keys
    app.extensions["geoes_settings"] = settings
    # Everything the app caches belongs to this one object: two apps never share cached bytes.
    app.extensions[EXTENSION] = RequestServedData(settings)

    from geoes.web import api, ogc_flask, pages

    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(ogc_flask.bp)

    install_security(app)
    if (not app.testing) if settings.warm_up is None else settings.warm_up:
        install_warm_up(app)

    @app.get("/healthz")
    def healthz():
        try:
            ds = served_data(app).current()
        except Exception as exc:  # report, don't crash: the health check must answer
            return jsonify(status="error", message=str(exc)), 503
        warm = app.extensions.get("geoes_warm_version") == ds.version
        return jsonify(status="ok", version=ds.version, entities=int(len(ds.entities)), warm=warm)

    return app


# What the public map asks for first: serialised (and gzipped) once per worker and dataset version
# before visitors ask, so the first visitor after a start or a rebuild does not pay for it.
WARM_UP_URLS = ("/api/entities.geojson?view=map", "/api/gminy.geojson", "/api/powiaty.geojson", "/")


def warm_up(app: Flask) -> None:
    with app.test_client() as client:
        for url in WARM_UP_URLS:
            try:
                client.get(url, headers={"Accept-Encoding": "gzip"})
            except Exception:  # a warm-up must never take the worker down
                app.logger.exception("rozgrzewanie pamięci podręcznej nie powiodło się: %s", url)
    try:
        app.extensions["geoes_warm_version"] = served_data(app).current().version
    except Exception:
        pass


def start_warm_up(app: Flask) -> None:
    """Warm up in the background (gunicorn calls this in each worker: see gunicorn.conf.py)."""
    import threading

    threading.Thread(target=warm_up, args=(app,), name="geoes-warm-up", daemon=True).start()


def install_warm_up(app: Flask) -> None:
    # After a rebuild is picked up; the start-up warm-up is the server's (post_worker_init), so that
    # creating an app never fires requests by itself.
    served_data(app).on_new_version.append(lambda _version: start_warm_up(app))


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

    @app.before_request
    def _utf8_query():
        # A query string with non-UTF-8 bytes (raw or percent-encoded) is a 400 on every route: JSON under
        # /api and /ogc, a Polish page elsewhere (werkzeug's request.args would raise on raw bytes → 500).
        from geoes.web.http import json_error, reject_bad_query_string

        if reject_bad_query_string() is None:
            return None
        if request.path.startswith(("/api", "/ogc")):
            return json_error(400, "InvalidParameterValue", "zapytanie zawiera bajty spoza UTF-8")
        from geoes.web.pages import _error_page

        return _error_page(400, "Błędne zapytanie", "Adres zawiera znaki spoza UTF-8. Sprawdź adres strony.")

    @app.after_request
    def _headers(response):
        h = response.headers
        embed = request.endpoint == "pages.embed"  # the embeddable map alone, not its 404 lookalikes
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

