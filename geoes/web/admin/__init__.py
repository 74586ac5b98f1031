"""The operator console under /admin (Polish): the Flask side of geoes.console.

`init_admin(app)` is the one call the application factory makes. It sets up, for the whole app:

* the signing key of session cookies: GEOES_SECRET_KEY, or a key generated once into
  data/console/secret_key (0600);
* session cookies: HttpOnly, SameSite=Lax, Secure when the request came over HTTPS (or always, with
  GEOES_SECURE_COOKIES); the cookie carries only the random token of a session kept in the console's
  store (geoes.console.sessions), which ends at sign-out, after GEOES_SESSION_IDLE_MINUTES without a
  request and GEOES_SESSION_MAX_HOURS after signing in;
* Flask-WTF's CSRFProtect: every POST carries the session's token. The read-only machine interfaces
  (/api, /ogc) have no forms and answer a POST with 405, so they are exempt;
* X-Forwarded-For/-Proto honoured only behind GEOES_PROXY_COUNT trusted proxies (werkzeug's ProxyFix);
* a larger body limit (GEOES_MAX_UPLOAD_BYTES) for the upload view alone, and only for a signed-in
  session — everyone else keeps the app's MAX_CONTENT_LENGTH.
"""
from __future__ import annotations

from datetime import timedelta

from flask import Flask, has_request_context, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import CSRFProtect

from geoes.console.db import secret_key
from geoes.web.admin.core import SESSION_ID, bp

# The views register themselves on `bp`.
from geoes.web.admin import auth, entities, history, review, staging  # noqa: E402,F401

UPLOAD_ENDPOINT = "admin.upload"
READ_ONLY_PREFIXES = ("/api", "/ogc")   # the machine interfaces: GET only, no forms


class ConsoleSessionInterface(SecureCookieSessionInterface):
    """Signed cookie sessions whose Secure flag follows the request's scheme (or is always on)."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or (has_request_context() and request.is_secure)


def init_admin(app: Flask) -> None:
    settings = app.extensions["geoes_settings"]
    if not app.secret_key:
        app.secret_key = secret_key(settings)
    app.config.update(
        SESSION_COOKIE_NAME="geoes_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        PERMANENT_SESSION_LIFETIME=timedelta(minutes=settings.session_idle_minutes),
        # The token lives as long as the session; the session itself expires when idle.
        WTF_CSRF_TIME_LIMIT=None,
    )
    app.session_interface = ConsoleSessionInterface()
    if settings.proxy_count > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        n = settings.proxy_count
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=0, x_port=0, x_prefix=0)

    @app.before_request
    def _upload_limit():
        # Registered before CSRFProtect, which reads the form (and so the body) to find the token.
        if request.endpoint == UPLOAD_ENDPOINT and session.get(SESSION_ID) is not None:
            request.max_content_length = settings.max_upload_bytes + 64 * 1024  # the form around the file

    csrf = CSRFProtect(app)
    for blueprint in list(app.blueprints.values()):
        if (blueprint.url_prefix or "").startswith(READ_ONLY_PREFIXES):
            csrf.exempt(blueprint)
    app.register_blueprint(bp)
