"""Production defaults: security headers on pages, API, OGC and embed; no debug mode; the
500 handler says one sentence, never a traceback; request sizes and gunicorn settings are bounded."""
from __future__ import annotations

import json
import re
import runpy

import pytest

from geoes.config import REPO_DIR

PAGES = ["/", "/entities", "/powiaty/2602", "/about", "/nie-ma-takiej-strony", "/entities?type=nieznany"]
API = ["/api/entities.geojson", "/api/indicators", "/api/nothing", "/ogc", "/ogc/collections/entities/items?limit=1",
       "/ogc/collections/entities/items?f=html&limit=1", "/ogc/collections/nope", "/healthz", "/types.css"]


def csp(r) -> dict[str, str]:
    out = {}
    for part in r.headers["Content-Security-Policy"].split(";"):
        name, _, value = part.strip().partition(" ")
        out[name] = value
    return out


@pytest.mark.parametrize("url", PAGES + API)
def test_security_headers_everywhere(client, url):
    r = client.get(url)
    assert r.status_code < 500
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert r.headers["X-Frame-Options"] == "DENY"
    p = csp(r)
    assert p["default-src"] == "'self'"
    assert p["frame-ancestors"] == "'none'"
    assert p["object-src"] == "'none'"
    assert "'unsafe-eval'" not in p["script-src"] and "'unsafe-inline'" not in p["script-src"]
    # Nothing loads from elsewhere but map tiles (images).
    for directive, value in p.items():
        hosts = [t for t in value.split() if "://" in t or t.startswith("*.")]
        if directive == "img-src":
            assert all("tile.openstreetmap.org" in h for h in hosts), hosts
        else:
            assert not hosts, (directive, hosts)


@pytest.mark.parametrize("url", ["/embed", "/embed?type=wtz"])
def test_only_embed_may_be_framed(client, url):
    r = client.get(url)
    assert r.status_code == 200
    assert "X-Frame-Options" not in r.headers
    assert csp(r)["frame-ancestors"] == "*"
    assert r.headers["X-Content-Type-Options"] == "nosniff"


def test_embed_lookalikes_are_not_frameable(client):
    for url in ("/embed/", "/embedded", "/embed.js", "/api/embed", "/x/embed"):
        r = client.get(url)
        assert r.headers.get("X-Frame-Options") == "DENY", url
        assert csp(r)["frame-ancestors"] == "'none'", url


def test_inline_scripts_carry_this_requests_nonce(client):
    nonces = set()
    for _ in range(2):
        r = client.get("/powiaty/2602")
        nonce = re.search(r"'nonce-([^']+)'", r.headers["Content-Security-Policy"]).group(1)
        nonces.add(nonce)
        body = r.get_data(as_text=True)
        scripts = re.findall(r"<script([^>]*)>", body)
        assert scripts
        for attrs in scripts:
            assert "src=" in attrs or f'nonce="{nonce}"' in attrs, attrs
    assert len(nonces) == 2  # a fresh nonce per request


def test_no_debug_by_default(built_settings, monkeypatch):
    from geoes.web import create_app

    for var in ("FLASK_DEBUG", "GEOES_DEBUG", "FLASK_ENV"):
        monkeypatch.delenv(var, raising=False)
    app = create_app({"GEOES_DATA_DIR": str(built_settings.data_dir), "GEOES_REGION": "26"})
    assert app.debug is False
    assert not app.testing and not app.config["PROPAGATE_EXCEPTIONS"]
    assert app.config["MAX_CONTENT_LENGTH"] and app.config["MAX_CONTENT_LENGTH"] <= 10 * 1024 * 1024


SECRET = "sekretna-sciezka-/etc/passwd-w-wyjatku"


@pytest.fixture()
def prod_app(built_settings):
    """A production-configured app (not TESTING) with routes that raise."""
    from geoes.web import create_app

    app = create_app({"GEOES_DATA_DIR": str(built_settings.data_dir), "GEOES_REGION": "26"})

    @app.get("/_boom")
    def boom():
        raise RuntimeError(SECRET)

    @app.get("/api/_boom")
    def api_boom():
        raise KeyError(SECRET)

    return app


def _no_leak(r):
    body = r.get_data(as_text=True)
    assert "Traceback" not in body and SECRET not in body and "RuntimeError" not in body and "KeyError" not in body
    assert 'File "' not in body
    return body


def test_500_page_has_no_traceback(prod_app, caplog):
    c = prod_app.test_client()
    r = c.get("/_boom")
    assert r.status_code == 500
    body = _no_leak(r)
    assert '<html lang="pl">' in body and r.content_type.startswith("text/html")
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    # the operator's log says what failed
    assert any("/_boom" in rec.getMessage() for rec in caplog.records)


def test_500_json_under_api_has_no_traceback(prod_app):
    r = prod_app.test_client().get("/api/_boom")
    assert r.status_code == 500
    _no_leak(r)
    assert r.content_type.startswith("application/json")
    assert set(json.loads(r.data)) == {"code", "description"}


def test_failing_page_and_api_views_do_not_leak(prod_app, monkeypatch):
    from geoes.web.served import served_data

    def explode(*a, **k):
        raise RuntimeError(SECRET)

    # Every view reads the dataset through the app's served data: make reading it fail unexpectedly.
    monkeypatch.setattr(served_data(prod_app), "current", explode)
    c = prod_app.test_client()
    r = c.get("/about")
    assert r.status_code == 500 and '<html lang="pl">' in _no_leak(r)
    r = c.get("/api?")
    assert r.status_code == 500
    _no_leak(r)
    assert json.loads(r.data)["code"]


def test_write_methods_and_big_bodies_refused(client):
    for url in ("/api/entities.geojson", "/ogc/collections/entities/items"):
        r = client.post(url, data=b"x" * (2 * 1024 * 1024))
        assert r.status_code in (405, 413), (url, r.status_code)
    r = client.post("/", data=b"x" * (2 * 1024 * 1024))
    assert r.status_code in (405, 413)


def test_gunicorn_config_bounds_workers_timeouts_and_requests(monkeypatch):
    for var in ("GEOES_WORKERS", "GEOES_THREADS", "GEOES_BIND"):
        monkeypatch.delenv(var, raising=False)
    cfg = runpy.run_path(str(REPO_DIR / "gunicorn.conf.py"))
    assert cfg["bind"].startswith("127.0.0.1:")
    assert 1 <= cfg["workers"] <= 64 and cfg["timeout"] > 0 and cfg["graceful_timeout"] > 0
    assert cfg["limit_request_line"] <= 8190 and cfg["limit_request_field_size"] <= 8190
    assert cfg.get("reload", False) is False and cfg.get("loglevel") != "debug"
