"""A resident's report in headless Chromium, as a person does it: the entity page → `Zgłoś zmianę` → `Opis
zmiany` → `Wyślij` → the thank-you page; then the operator signs in, opens `Zgłoszenia` and finds it there.
axe-core checks the form and the thank-you page on a desktop and on a phone."""
from __future__ import annotations

import pytest

from .admin_helpers import PASSWORD, make_admin_app
from .test_admin_browser import AXE, _axe, _context, _errors
from .test_browser import Server
from geoes.common.polish import today_in_poland

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


def test_an_accepted_report_changes_the_data_and_is_no_verification(browser, site):
    """Done when (issue 20): a report with a new phone, accepted and published in the console, makes the phone
    public as a tel: link; the entity page says it changed on the basis of a report, not that it was verified;
    the API keeps `verified_at` empty."""
    import json

    server, _settings = site
    url = server.url
    today = today_in_poland()
    context = _context(browser)
    pg = context.new_page()
    errors = _errors(pg)
    try:
        pg.goto(f"{url}/zglos/{CARITAS}")
        pg.get_by_label("Opis zmiany").fill("Nowy numer telefonu biura, podany na drzwiach.")
        pg.get_by_label("Telefon").fill("(41) 344-52-82")
        pg.get_by_role("button", name="Wyślij", exact=True).click()
        pg.wait_for_selector("h1:has-text('Dziękujemy za zgłoszenie')")

        pg.goto(url + "/admin/")
        pg.get_by_label("Użytkownik").fill("anna")
        pg.get_by_label("Hasło").fill(PASSWORD)
        pg.get_by_role("button", name="Zaloguj").click()
        pg.wait_for_url(url + "/admin/")
        pg.goto(url + "/admin/queue")
        pg.get_by_role("link", name="Szczegóły i poprawki zgłoszenia nr 1").click()
        pg.wait_for_selector("h1:has-text('Zgłoszenie nr 1')")
        assert pg.get_by_label("Telefon", exact=True).input_value() == "+48 41 344 52 82"
        assert "nie weryfikacja" in pg.inner_text("main")
        pg.get_by_role("button", name="Przyjmij").click()
        pg.wait_for_selector("text=Przyjęto zgłoszenie nr 1")
        pg.get_by_role("navigation", name="Menu konsoli").get_by_role("link", name="Pulpit").click()
        pg.get_by_role("link", name="zestaw", exact=False).first.click()
        pg.get_by_role("button", name="Opublikuj").click()
        # The summary names the report the change comes from; the confirmation publishes.
        assert "Źródło zmian: zgłoszenie nr 1" in pg.inner_text(".confirm-summary")
        pg.get_by_role("button", name="Potwierdź publikację").click()
        pg.wait_for_selector("h1:has-text('Opublikowano wersję ze zgłoszenia nr 1')")

        pg.goto(f"{url}/entities/{CARITAS}")
        main = pg.inner_text("main")
        assert f"Zmieniono na podstawie zgłoszenia, {today:%d.%m.%Y} — niezweryfikowane" in main
        assert "Nie weryfikowano" in main
        phone = pg.locator("section.contact a[href^='tel:']")
        assert phone.get_attribute("href") == "tel:+48413445282" and phone.inner_text() == "+48 41 344 52 82"
        api = json.loads(pg.goto(f"{url}/ogc/collections/entities/items/{CARITAS}?f=json").text())
        props = api["properties"]
        assert props["phone"] == "+48 41 344 52 82"
        assert props["verified_at"] is None and props["verified_source"] is None
        assert (props["changed_at"], props["change_source"]) == (today.isoformat(), "zgłoszenie")
        assert errors == [], errors
    finally:
        context.close()
