"""Production headers on every response, and non-UTF-8 query strings refused on every route.

Scripts run only from this origin or with the per-request nonce the templates put on their inline
blocks; only map tiles come from elsewhere. Framing is allowed for the embeddable map alone.
"""
from __future__ import annotations

import secrets

from flask import Flask, g, request

from geoes.web.http import reject_bad_query_string

TILE_HOSTS = "https://tile.openstreetmap.org https://*.tile.openstreetmap.org"
EMBED_ENDPOINT = "map.embed"  # the embeddable map alone, not its 404 lookalikes


def content_security_policy(nonce: str, embed: bool) -> str:
    return "; ".join([
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
    ])


def install(app: Flask) -> None:
    @app.before_request
    def _nonce():
        g.csp_nonce = secrets.token_urlsafe(16)

    # A query string with non-UTF-8 bytes (raw or percent-encoded) is a 400 on every route (werkzeug's
    # request.args would raise on raw bytes → 500), answered by the one error handler (web.errors).
    app.before_request(reject_bad_query_string)

    @app.after_request
    def _headers(response):
        h = response.headers
        embed = request.endpoint == EMBED_ENDPOINT
        h.setdefault("Content-Security-Policy", content_security_policy(g.get("csp_nonce", ""), embed))
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        if not embed:
            h.setdefault("X-Frame-Options", "DENY")
        h.setdefault("Permissions-Policy", "geolocation=(self), camera=(), microphone=()")
        return response
