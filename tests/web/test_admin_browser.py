"""The operator's whole task in headless Chromium, as a new user would do it from the README:
sign in → upload a Polish XLSX → fix the rejected row → publish → the entity is on the public map →
restore the previous version → it is gone. The console pages are also checked with axe-core.

The XLSX is built from real facts: one entity of the register (data/entities.csv) and two from the
shared supplement file, with their own ids and sources.
"""
from __future__ import annotations

import csv
import os
import time

import pytest

from geoes.config import REPO_DIR

from .admin_helpers import PASSWORD, make_admin_app
from .test_browser import READY, TILES, Server

pytestmark = pytest.mark.browser

AXE = REPO_DIR / "node_modules" / "axe-core" / "axe.min.js"
HEADERS = ["Lp.", "Identyfikator", "Nazwa podmiotu", "Typ podmiotu", "Miejscowość", "Gmina", "Powiat", "Źródła"]


def _register_xlsx(path, built_settings):
    from console.helpers import supplement, xlsx_bytes

    with open(built_settings.entities_path, encoding="utf-8", newline="") as fh:
        known = next(r for r in csv.DictReader(fh) if r["id"] == "swk-001")
    rows = [["1", known["id"], known["name"], "ZAZ", known["locality"], "", "", known["sources"]]]
    for n, fact in enumerate(supplement("swk-n005", "swk-n025"), start=2):
        kind = "" if fact["id"] == "swk-n025" else fact["typ"]   # the register left this type blank
        rows.append([str(n), fact["id"], fact["nazwa"], kind, fact["miejscowosc"], fact["gmina"], fact["powiat"],
                     fact["zrodla"]])
    path.write_bytes(xlsx_bytes(rows, HEADERS))
    return supplement("swk-n025")[0]


@pytest.fixture()
def console(tmp_path, register_before_supplement):
    app, settings = make_admin_app(register_before_supplement, tmp_path / "data")
    with Server(app) as server:
        yield server, settings


def _context(browser, **kw):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="pl-PL", **kw)
    context.route(f"**/{TILES}/**", lambda route: route.abort())
    return context


def _errors(page) -> list[str]:
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    page.on("console", lambda m: errors.append(f"console: {m.text}") if m.type == "error"
            and TILES not in m.text and "Failed to load resource" not in m.text else None)
    return errors


def _sign_in(pg, url):
    pg.goto(url + "/admin/")
    assert "/admin/login" in pg.url
    pg.get_by_label("Użytkownik").fill("anna")
    pg.get_by_label("Hasło").fill(PASSWORD)
    pg.get_by_role("button", name="Zaloguj").click()
    pg.wait_for_url(url + "/admin/")


def _on_map(pg, url, name) -> bool:
    pg.goto(url + "/")
    pg.wait_for_selector(READY, state="attached", timeout=15_000)
    pg.wait_for_function("() => GEOES_MAP.entities.count() > 0")
    # The entity of that name (the API knows its id) is among the points the map clusters.
    ids = [f["id"] for f in pg.request.get(url + "/api/entities.geojson").json()["features"]
           if f["properties"]["name"] == name]
    return any(pg.evaluate("GEOES_MAP.entities.ids()").count(i) for i in ids)


def _in_api(pg, url, name) -> bool:
    data = pg.request.get(url + "/api/entities.geojson").json()
    return any(f["properties"]["name"] == name and f["geometry"] for f in data["features"])


def test_sign_in_upload_fix_publish_see_it_restore_gone(browser, console, tmp_path, built_settings):
    server, settings = console
    url = server.url
    fact = _register_xlsx(tmp_path / "rejestr_pes_2026.xlsx", built_settings)
    name = fact["nazwa"]
    served_before = os.readlink(settings.build_dir / "current")
    context = _context(browser)
    pg = context.new_page()
    errors = _errors(pg)
    try:
        _sign_in(pg, url)
        pg.get_by_label("Plik rejestru").set_input_files(str(tmp_path / "rejestr_pes_2026.xlsx"))
        pg.get_by_role("button", name="Wczytaj").click()
        pg.wait_for_selector("h1:has-text('Podgląd pliku')")
        summary = pg.inner_text("#podsumowanie")
        assert "Wierszy w pliku: 3" in summary and "Dodane: 1\u00a0podmiot" in summary
        assert "Bez zmian: 1\u00a0podmiot" in summary and "Odrzucone: 1\u00a0wiersz" in summary
        assert "nie da się go ustalić" in pg.inner_text("section[aria-labelledby=h-rejected]")
        assert not _in_api(pg, url, name)

        pg.get_by_role("link", name="Popraw wiersz 4").click()
        pg.wait_for_selector("#point-map[data-ready=true]", state="attached")
        assert pg.get_by_label("Nazwa", exact=True).input_value() == name
        # The map fills in the coordinates when clicked…
        pg.locator("#point-map").click(position={"x": 200, "y": 150})
        assert pg.get_by_label("Szerokość geograficzna").input_value() != ""
        assert "Wskazano punkt" in pg.inner_text("#point-status")
        # …but the source gives no point, only the locality: the operator clears it and sets the type.
        pg.get_by_label("Szerokość geograficzna").fill("")
        pg.get_by_label("Długość geograficzna").fill("")
        pg.get_by_label("Typ", exact=True).select_option(label="Inny podmiot ekonomii społecznej")
        pg.get_by_role("button", name="Zapisz poprawkę").click()
        pg.wait_for_selector("text=Poprawiono wiersz 4")
        summary = pg.inner_text("#podsumowanie")
        assert "Dodane: 2\u00a0podmioty" in summary and "Odrzucone: 0\u00a0wierszy" in summary

        # One click on `Opublikuj` shows what will change; dismissed, nothing changes.
        pg.get_by_role("button", name="Opublikuj").click()
        pg.wait_for_selector("h1:has-text('Opublikować zmiany z pliku rejestr_pes_2026.xlsx?')")
        summary = pg.inner_text(".confirm-summary")
        assert "Dodane\t2\u00a0podmioty" in summary and "Strona publiczna pokazuje teraz: wersja z " in summary
        pg.get_by_role("link", name="Anuluj — wróć do podglądu").click()
        pg.wait_for_selector("h1:has-text('Podgląd pliku')")
        assert os.readlink(settings.build_dir / "current") == served_before and not _in_api(pg, url, name)
        # Confirmed, it publishes.
        pg.get_by_role("button", name="Opublikuj").click()
        pg.get_by_role("button", name="Potwierdź publikację").click()
        pg.wait_for_selector("h1:has-text('Opublikowano wersję z pliku rejestr_pes_2026.xlsx')")
        assert "Dodano 2\u00a0podmioty, zmieniono 0\u00a0podmiotów, usunięto 0\u00a0podmiotów" in pg.inner_text("main")
        assert _in_api(pg, url, name)
        assert _on_map(pg, url, name)

        # The version list says what the new version added, who published it and from which file.
        pg.goto(url + "/admin/versions")
        current = pg.inner_text("tr.current")
        assert "anna" in current and "plik rejestr_pes_2026.xlsx" in current and "dodano 2\u00a0podmioty" in current
        restore = pg.get_by_role("button", name=f"({served_before})")
        restore.click()
        pg.wait_for_selector("h1:has-text('Przywrócić wersję z')")
        assert "Usunięte\t2\u00a0podmioty" in pg.inner_text(".confirm-summary")
        pg.get_by_role("link", name="Anuluj — wróć do listy wersji").click()
        pg.wait_for_selector("h1:has-text('Wersje danych')")
        assert os.readlink(settings.build_dir / "current") != served_before and _in_api(pg, url, name)
        restore.click()
        pg.get_by_role("button", name="Potwierdź przywrócenie").click()
        pg.wait_for_selector("h1:has-text('Przywrócono')")
        assert "usunięto 2\u00a0podmioty" in pg.inner_text("main")
        assert not _in_api(pg, url, name)
        assert not _on_map(pg, url, name)
        assert os.readlink(settings.build_dir / "current") == served_before
        assert errors == [], errors
    finally:
        context.close()


def test_mapping_step_in_the_browser(browser, console, tmp_path):
    from console.helpers import csv_bytes, supplement

    server, _settings = console
    fact = supplement("swk-n024")[0]
    path = tmp_path / "kgw.csv"
    path.write_bytes(csv_bytes([[fact["nazwa"], fact["nazwa"], fact["typ"], fact["miejscowosc"]]],
                               ["Nazwa", "Nazwa podmiotu", "Typ", "Miejscowość"], encoding="cp1250"))
    context = _context(browser)
    pg = context.new_page()
    try:
        _sign_in(pg, server.url)
        pg.get_by_label("Plik rejestru").set_input_files(str(path))
        pg.get_by_role("button", name="Wczytaj").click()
        pg.wait_for_selector("text=Mapowanie kolumn pliku")
        pg.get_by_label("Pole rejestru dla kolumny „Nazwa”").select_option("")
        pg.get_by_role("button", name="Zatwierdź mapowanie").click()
        pg.wait_for_selector("h1:has-text('Podgląd pliku')")
        assert "Dodane: 1\u00a0podmiot" in pg.inner_text("#podsumowanie")
        pg.get_by_role("link", name="Zgłoszenia").click()
        assert "Brak zgłoszeń czekających na decyzję" in pg.inner_text("main")
    finally:
        context.close()


def test_console_pages_have_no_serious_accessibility_problems(browser, console, tmp_path, built_settings):
    if not AXE.exists():
        pytest.fail(f"no axe-core at {AXE}: run scripts/setup.sh (npm ci)")
    server, _settings = console
    _register_xlsx(tmp_path / "rejestr.xlsx", built_settings)
    context = _context(browser, bypass_csp=True)  # axe is injected as an inline script
    pg = context.new_page()
    try:
        pg.goto(server.url + "/admin/login")
        pages = {"logowanie": _axe(pg)}
        _sign_in(pg, server.url)
        pages["pulpit"] = _axe(pg)
        pg.get_by_label("Plik rejestru").set_input_files(str(tmp_path / "rejestr.xlsx"))
        pg.get_by_role("button", name="Wczytaj").click()
        pg.wait_for_selector("h1:has-text('Podgląd pliku')")
        preview_url = pg.url
        pages["podgląd"] = _axe(pg)
        pg.get_by_role("link", name="Popraw wiersz 4").click()
        pg.wait_for_selector("#point-map[data-ready=true]", state="attached")
        pages["poprawa wiersza"] = _axe(pg)
        pg.goto(preview_url)
        pg.get_by_role("button", name="Opublikuj").click()
        pg.wait_for_selector("h1:has-text('Opublikować')")
        pages["potwierdzenie publikacji"] = _axe(pg)
        pg.get_by_role("button", name="Potwierdź publikację").click()
        pg.wait_for_selector("h1:has-text('Opublikowano')")
        pages["wersja i jej zmiany"] = _axe(pg)
        version_url = pg.url
        for path in ("/admin/versions", "/admin/audit", "/admin/audit?kto=anna&od=2000-01-01", "/admin/queue",
                     "/admin/entities", "/admin/entities/swk-001"):
            pg.goto(server.url + path)
            pages[path] = _axe(pg)
        # The progress page of a job under way (a job row as the console stores it; no process behind it).
        from geoes.console.db import connect

        conn = connect(_settings)
        now = time.time()
        job = conn.execute("INSERT INTO upload_jobs (actor, action, filename, state, stage, created_at, updated_at) "
                           "VALUES ('anna', 'upload', 'rejestr.xlsx', 'running', 'odczyt pliku', ?, ?)",
                           (now, now)).lastrowid
        conn.close()
        pg.goto(server.url + f"/admin/jobs/{job}")
        assert "Trwa: odczyt pliku" in pg.inner_text("#job-status")
        pages["postęp zadania"] = _axe(pg)
        pg.goto(server.url + "/admin/versions")
        pg.locator("form[action$='/restore'] button").first.click()
        pg.wait_for_selector("h1:has-text('Przywrócić')")
        pages["potwierdzenie przywrócenia"] = _axe(pg)
        restore_url = pg.url
        bad = {k: v for k, v in pages.items() if v}
        assert not bad, bad
        # No page wider than a phone: a wide table scrolls inside its own region.
        pg.set_viewport_size({"width": 390, "height": 844})
        for url in [server.url + p for p in ("/admin/", "/admin/audit", "/admin/versions", "/admin/queue",
                                             "/admin/queue/1", "/admin/entities", "/admin/entities/swk-001",
                                             "/admin/entities/new")] + [
                preview_url, version_url, restore_url, server.url + f"/admin/jobs/{job}"]:
            pg.goto(url)
            assert pg.evaluate("document.documentElement.scrollWidth") <= 392, url
    finally:
        context.close()


def _axe(pg) -> list[str]:
    pg.add_script_tag(path=str(AXE))
    result = pg.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    return [f"{v['id']}: {v['help']} ({len(v['nodes'])})" for v in result["violations"]
            if v["impact"] in ("critical", "serious")]
