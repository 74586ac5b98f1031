"""A resident's report in headless Chromium, as a person does it: the entity page → `Zgłoś zmianę` → `Opis
zmiany` → `Wyślij` → the thank-you page; then the operator signs in, opens `Zgłoszenia` and finds it there.
axe-core checks the form and the thank-you page on a desktop and on a phone."""
from __future__ import annotations

import pytest

from .admin_helpers import PASSWORD, make_admin_app
from .test_admin_browser import AXE, _axe, _context, _errors
from .test_browser import Server

pytestmark = pytest.mark.browser

CARITAS = "swk-044"
REPORT = ("Biuro przeniosło się na pl. Jana Pawła II 3 w Kielcach — tak podaje strona Caritas. "
          "<b>pogrubienie?</b>")
SIZES = ((1366, 900), (390, 844))


@pytest.fixture()
def site(tmp_path, register_before_supplement):
    app, settings = make_admin_app(register_before_supplement, tmp_path / "data")
    with Server(app) as server:
        yield server, settings


def test_a_report_from_the_entity_page_reaches_the_console_queue(browser, site):
    server, _settings = site
    url = server.url
    context = _context(browser)
    pg = context.new_page()
    errors = _errors(pg)
    try:
        pg.goto(f"{url}/entities/{CARITAS}")
        assert "Nie weryfikowano" in pg.inner_text("main")
        pg.get_by_role("link", name="Zgłoś zmianę").click()
        pg.wait_for_url(f"{url}/zglos/{CARITAS}")
        pg.get_by_label("Opis zmiany").fill(REPORT)
        pg.get_by_role("button", name="Wyślij", exact=True).click()
        pg.wait_for_selector("h1:has-text('Dziękujemy za zgłoszenie')")
        assert pg.url.startswith(f"{url}/zglos/dziekujemy")
        pg.get_by_role("link", name="Wróć do strony: Caritas Diecezji Kieleckiej").click()
        pg.wait_for_url(f"{url}/entities/{CARITAS}")
        assert "pl. Jana Pawła II 3" not in pg.inner_text("main")       # nothing public before a decision

        pg.goto(url + "/admin/")
        pg.get_by_label("Użytkownik").fill("anna")
        pg.get_by_label("Hasło").fill(PASSWORD)
        pg.get_by_role("button", name="Zaloguj").click()
        pg.wait_for_url(url + "/admin/")
        pg.get_by_role("navigation", name="Menu konsoli").get_by_role("link", name="Zgłoszenia").click()
        pg.wait_for_selector("h1:has-text('Zgłoszenia')")
        row = pg.locator("tr", has_text="Caritas Diecezji Kieleckiej")
        assert row.count() == 1
        assert REPORT in row.inner_text()                        # the markup shows as typed, as text
        assert pg.locator("main b").count() == 0
        assert errors == [], errors
    finally:
        context.close()


@pytest.mark.parametrize("width,height", SIZES)
def test_the_report_pages_have_no_serious_accessibility_problems(browser, site, width, height):
    if not AXE.exists():
        pytest.fail(f"no axe-core at {AXE}: run scripts/setup.sh (npm ci)")
    server, _settings = site
    context = _context(browser, bypass_csp=True)   # axe is injected as an inline script
    pg = context.new_page()
    pg.set_viewport_size({"width": width, "height": height})
    try:
        pages = {}
        for path in (f"/zglos/{CARITAS}", "/zglos/nowy"):
            pg.goto(server.url + path)
            pages[path] = _axe(pg)
            assert pg.evaluate("document.documentElement.scrollWidth") <= width + 2, path
        # The form with its problems listed, as a person sees it after sending it half-filled.
        pg.goto(server.url + "/zglos/nowy")
        pg.get_by_label("Opis zmiany").fill("Nowa spółdzielnia")
        pg.get_by_label("Nazwa (wymagane)").fill("x" * 10)
        pg.get_by_label("Numer KRS").fill("12345678901")
        pg.get_by_role("button", name="Wyślij", exact=True).click()
        pg.wait_for_selector("#bledy")
        pages["formularz z błędami"] = _axe(pg)
        pg.goto(f"{server.url}/zglos/{CARITAS}")
        pg.get_by_label("Opis zmiany").fill("Telefon nie odpowiada")
        pg.get_by_role("button", name="Wyślij", exact=True).click()
        pg.wait_for_selector("h1:has-text('Dziękujemy za zgłoszenie')")
        pages["podziękowanie"] = _axe(pg)
        assert pg.evaluate("document.documentElement.scrollWidth") <= width + 2
        # The operator's side of a report: the queue with it and its page with the values to accept.
        pg.goto(server.url + "/admin/login")
        pg.get_by_label("Użytkownik").fill("anna")
        pg.get_by_label("Hasło").fill(PASSWORD)
        pg.get_by_role("button", name="Zaloguj").click()
        pg.wait_for_url(server.url + "/admin/")
        pg.goto(server.url + "/admin/queue")
        pages["/admin/queue"] = _axe(pg)
        pg.get_by_role("link", name="Szczegóły i poprawki zgłoszenia nr 1").click()
        pg.wait_for_selector("h1:has-text('Zgłoszenie nr 1')")
        pages["/admin/queue/1"] = _axe(pg)
        bad = {k: v for k, v in pages.items() if v}
        assert not bad, bad
    finally:
        context.close()
