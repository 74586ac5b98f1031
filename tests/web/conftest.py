"""Browser fixtures for the page tests: Debian's Chromium driven by Playwright against the app served on
127.0.0.1 by a real WSGI server in a background thread (one browser and one server per test session).

Map tiles are blocked in every browser context (there is no internet in CI, and a page must work without
them); everything else (HTML, vendored JS/CSS, GeoJSON API) comes from the app. axe-core comes from npm
(package.json, installed by scripts/setup.sh) and is injected into the page by `axe()`.
"""
from __future__ import annotations

import json
import os
import shutil
import threading
import time
from pathlib import Path

import pytest

from geoes.config import REPO_DIR

CHROMIUM = os.environ.get("GEOES_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TILES = "tile.openstreetmap.org"
READY = ".folium-map[data-ready='true']"
AXE = REPO_DIR / "node_modules" / "axe-core" / "axe.min.js"


class Server:
    def __init__(self, app):
        from werkzeug.serving import make_server

        self.httpd = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.thread.join(5)


def make_app(data_dir):
    from geoes.web import create_app

    app = create_app({"TESTING": True, "GEOES_DATA_DIR": str(data_dir), "GEOES_REGION": "26"})
    rules = {r.rule for r in app.url_map.iter_rules()}
    missing = {"/api/entities.geojson", "/api/powiaty.geojson", "/api/gminy.geojson"} - rules
    if missing:
        pytest.fail(f"the map pages need the GeoJSON API, missing: {sorted(missing)}")
    return app


class Page:
    """A page with console errors and uncaught exceptions collected; tiles blocked."""

    def __init__(self, browser, **context):
        self.context = browser.new_context(**context)
        # Blocked for the whole context, so frames (an /embed in an <iframe>) cannot reach them either.
        self.context.route(f"**/*{TILES}/**", lambda route: route.abort())
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        self.page.on("console", self._console)
        self.page.on("dialog", lambda d: (self.errors.append(f"dialog: {d.message}"), d.dismiss()))

    def _console(self, msg):
        if msg.type != "error":
            return
        where = (msg.location or {}).get("url", "")
        if TILES in where or (TILES in msg.text):
            return
        if "Failed to load resource" in msg.text and not where.startswith("http://127.0.0.1"):
            return
        self.errors.append(f"console.error: {msg.text} ({where})")

    def goto(self, url, ready: bool = True):
        started = time.perf_counter()
        self.page.goto(url)
        if ready:
            self.page.wait_for_selector(READY, state="attached", timeout=15_000)
        return time.perf_counter() - started

    def close(self):
        self.context.close()


def axe(page, tags=("wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice")) -> list[dict]:
    """axe-core's violations on the page (injected from node_modules), as {id, impact, help, targets}."""
    if not AXE.exists():
        pytest.fail(f"no axe-core at {AXE}: run scripts/setup.sh (npm ci installs it from package-lock.json)")
    # Evaluated through the DevTools protocol: the page's CSP (scripts by nonce only) stays as it is.
    page.evaluate(AXE.read_text(encoding="utf-8") + "\n;true")
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", list(tags))
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
             "targets": [" ".join(map(str, n["target"])) for n in v["nodes"]][:5]} for v in result["violations"]]


def open_popup(pg, entity_id: str):
    """Open the popup of entity `entity_id` as the map shows it (GEOES_MAP.entities.show: the map at the
    entity, its marker clicked, or at its place when it shares it); the popup's title."""
    pg.evaluate("id => GEOES_MAP.entities.show(id)", entity_id)
    return pg.wait_for_selector(".leaflet-popup-content h3")


def page_width(page) -> int:
    """How wide the page is laid out (what a phone would let the reader scroll sideways to)."""
    return page.evaluate("Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)")


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"no Chromium at {CHROMIUM}: run scripts/setup.sh (installs Debian's chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="session")
def server(built_settings):
    with Server(make_app(built_settings.data_dir)) as s:
        yield s


@pytest.fixture()
def page(browser):
    p = Page(browser, viewport={"width": 1280, "height": 900})
    yield p
    p.close()


@pytest.fixture()
def open_page(browser):
    """Factory: open_page(width, height) → a Page (phone-like below 600 px), closed after the test."""
    opened = []

    def make(width: int, height: int) -> Page:
        phone = width < 600
        p = Page(browser, viewport={"width": width, "height": height}, is_mobile=phone, has_touch=phone)
        opened.append(p)
        return p
    yield make
    for p in opened:
        p.close()


def write_json(path: Path, data) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
