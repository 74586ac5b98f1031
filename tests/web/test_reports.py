"""Public reports (`Zgłoś zmianę`, `Zgłoś nowy podmiot`) over HTTP, through the real forms and their CSRF
tokens: a report lands in the console's queue and nowhere public, as inert text; CSRF, the honeypot, the
per-address rate limit and the size limits; the operator's decision in the queue and the audit log; an
accepted report published like any edit; the reporter's e-mail in no public response.

The reported facts are real: Caritas Diecezji Kieleckiej (swk-044) gives the address Pl. Jana Pawła II 3,
25-013 Kielce beside its numbers on its own pages (see tests/fixtures/README.md), while the register has the
office address from another page.
"""
from __future__ import annotations

import re

import pytest

from geoes.common.polish import today_in_poland
from geoes.console import audit, changes, queue
from geoes.console.db import connect

from .admin_helpers import make_admin_app, sign_in, token
from .admin_helpers import publish as publish_confirmed

HOSTILE = "<script>window.__pwned=1</script><img src=x onerror=alert(1)>"
CARITAS = "swk-044"
NEW_STREET, NEW_POSTAL = "pl. Jana Pawła II 3", "25-013"
CARITAS_PAGE = "https://nowa.caritas.pl/"
REPORTER = "zglaszajacy.test@example.org"


@pytest.fixture()
def env(tmp_path, register_before_supplement):
    return make_admin_app(register_before_supplement, tmp_path / "data")


def _queue(settings) -> list[queue.Item]:
    conn = connect(settings)
    try:
        return queue.items(conn, "pending", limit=10_000)
    finally:
        conn.close()


def _form_of(client, url: str) -> tuple[str, str]:
    """(the form's action, its CSRF token) from the page at `url`."""
    r = client.get(url)
    assert r.status_code == 200, (url, r.status_code)
    html = r.get_data(as_text=True)
    action = re.search(r'<form method="post" class="report-form" action="([^"]+)"', html).group(1)
    return action, token(html)


def _report_link(client, entity_id: str) -> str:
    html = client.get(f"/entities/{entity_id}").get_data(as_text=True)
    m = re.search(r'href="([^"]+)">Zgłoś zmianę</a>', html)
    assert m, "no `Zgłoś zmianę` link on the entity page"
    return m.group(1)


def _send(client, url: str, _env: dict | None = None, **fields):
    """Open the form at `url` and send it with its own token (from the address in `_env`, if given)."""
    action, t = _form_of(client, url)
    return client.post(action, data={"csrf_token": t, **fields}, **({"environ_base": _env} if _env else {}))


def _public_bodies(client, entity_id: str) -> dict[str, str]:
    """Every public response an entity's data reach."""
    urls = [f"/entities/{entity_id}", "/entities", "/entities?q=Caritas", "/", "/api/entities.geojson",
            "/api/entities.geojson?format=csv", "/api/entities.geojson?view=map",
            f"/ogc/collections/entities/items/{entity_id}?f=json", "/ogc/collections/entities/items?f=json&limit=500",
            "/api/indicators?level=powiat", "/about"]
    out = {}
    for url in urls:
        r = client.get(url)
        assert r.status_code == 200, (url, r.status_code)
        out[url] = r.get_data(as_text=True)
    return out


# --------------------------------------------------------------------------------------------------


def test_a_report_from_the_entity_page_lands_in_the_queue_as_inert_text_and_nowhere_public(env):
    app, settings = env
    public = app.test_client()
    register = settings.entities_path.read_bytes()
    link = _report_link(public, CARITAS)
    assert link == f"/zglos/{CARITAS}"
    form_page = public.get(link)
    assert form_page.headers["Cache-Control"] == "no-store"
    html = form_page.get_data(as_text=True)
    assert "Opis zmiany (wymagane)" in html and '<button type="submit">Wyślij</button>' in html
    assert "Obecnie na stronie: Plac Najświętszej Maryi Panny 1" in html
    r = _send(public, link, opis="Siedziba jest pod innym adresem. " + HOSTILE, street=NEW_STREET,
              postal_code="25013", source_url=CARITAS_PAGE, contact_email=REPORTER)
    assert r.status_code == 303 and r.headers["Location"] == f"/zglos/dziekujemy?podmiot={CARITAS}"
    thanks = public.get(r.headers["Location"]).get_data(as_text=True)
    assert "Dziękujemy za zgłoszenie" in thanks and "Wróć do strony: Caritas Diecezji Kieleckiej" in thanks

    [item] = _queue(settings)
    assert (item.kind, item.entity_id, item.source, item.created_by) == ("report", CARITAS, "zgłoszenie",
                                                                         "formularz publiczny")
    assert item.payload["text"] == "Siedziba jest pod innym adresem. " + HOSTILE   # stored as typed
    assert item.payload["values"] == {"street": NEW_STREET, "postal_code": NEW_POSTAL}
    assert item.payload["register_values"] == {"street": "Plac Najświętszej Maryi Panny 1", "postal_code": ""}
    assert item.payload["contact_email"] == REPORTER

    # Not on the public site, not in the API; the register untouched.
    assert settings.entities_path.read_bytes() == register
    for url, body in _public_bodies(public, CARITAS).items():
        assert NEW_STREET not in body and "__pwned" not in body and REPORTER not in body, url

    # In the console, as text.
    operator = app.test_client()
    sign_in(operator)
    for url in ("/admin/queue", "/admin/queue?rodzaj=report", f"/admin/queue/{item.id}", "/admin/audit"):
        body = operator.get(url).get_data(as_text=True)
        assert "<script>window.__pwned" not in body and "<img src=x" not in body, url
    page = operator.get("/admin/queue").get_data(as_text=True)
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;" in page
    assert "„Plac Najświętszej Maryi Panny 1” → „pl. Jana Pawła II 3”" in page
    detail = operator.get(f"/admin/queue/{item.id}").get_data(as_text=True)
    assert REPORTER in detail and "nie jest publikowany" in detail       # for the operator's questions only
    conn = connect(settings)
    [received] = audit.entries(conn, action="report_received")
    conn.close()
    assert received.actor == "formularz publiczny" and received.detail["entity"] == CARITAS
    assert REPORTER not in str(received.detail)


def test_a_post_without_a_csrf_token_is_refused_and_stores_nothing(env):
    app, settings = env
    client = app.test_client()
    _form_of(client, f"/zglos/{CARITAS}")          # a session exists, but the token is not sent
    for data in ({"opis": "Zamknięte"}, {"opis": "Zamknięte", "csrf_token": "nieprawidlowy"}):
        r = client.post(f"/zglos/{CARITAS}", data=data)
        assert r.status_code == 400 and "Formularz wygasł" in r.get_data(as_text=True)
    other = app.test_client()
    _action, foreign = _form_of(other, "/zglos/nowy")
    r = client.post("/zglos/nowy", data={"opis": "Nowy", "name": "Nowy", "csrf_token": foreign})
    assert r.status_code == 400
    assert _queue(settings) == []


def test_the_honeypot_is_hidden_and_a_filled_one_is_dropped_silently(env):
    app, settings = env
    client = app.test_client()
    html = client.get("/zglos/nowy").get_data(as_text=True)
    assert re.search(r'<div hidden><label for="f-fax">[^<]*</label><input type="text" id="f-fax" name="fax"', html)
    r = _send(client, "/zglos/nowy", opis="Kup tanio", name="Reklama", fax="+48 000")
    assert r.status_code == 303 and r.headers["Location"] == "/zglos/dziekujemy"
    assert "Dziękujemy za zgłoszenie" in client.get(r.headers["Location"]).get_data(as_text=True)
    assert _queue(settings) == []
    conn = connect(settings)
    assert audit.entries(conn, action="report_received") == []
    conn.close()


def test_a_burst_from_one_address_gets_429_and_another_address_is_still_heard(env):
    app, settings = env
    client = app.test_client()
    for n in range(settings.report_max_per_window):
        r = _send(client, f"/zglos/{CARITAS}", opis=f"Zgłoszenie {n + 1}")
        assert r.status_code == 303, n
    r = _send(client, f"/zglos/{CARITAS}", opis="Jeszcze jedno")
    body = r.get_data(as_text=True)
    assert r.status_code == 429 and "zbyt wiele zgłoszeń" in body and "Spróbuj ponownie za 10 min" in body
    assert 0 < int(r.headers["Retry-After"]) <= settings.report_window_minutes * 60 + 1
    # A honeypot catch from the blocked address is refused the same way; nothing more is stored.
    assert _send(client, "/zglos/nowy", opis="x", name="x", fax="1").status_code == 429
    assert len(_queue(settings)) == settings.report_max_per_window
    r = _send(client, f"/zglos/{CARITAS}", opis="Z innego adresu", _env={"REMOTE_ADDR": "192.0.2.7"})
    assert r.status_code == 303 and len(_queue(settings)) == settings.report_max_per_window + 1
    conn = connect(settings)
    stored = [row[0] for row in conn.execute("SELECT address FROM report_attempts")]
    conn.close()
    assert stored and not any("127.0.0.1" in a or "192.0.2.7" in a for a in stored)   # kept as keyed hashes


def test_a_full_queue_stops_the_form_whatever_the_address_until_an_operator_decides(
        tmp_path, register_before_supplement):
    app, settings = make_admin_app(register_before_supplement, tmp_path / "data", GEOES_REPORT_MAX_PENDING=2)
    client = app.test_client()
    for n in range(2):
        r = _send(client, f"/zglos/{CARITAS}", opis=f"Zgłoszenie {n + 1}", _env={"REMOTE_ADDR": f"192.0.2.{n + 1}"})
        assert r.status_code == 303, n
    r = _send(client, "/zglos/nowy", opis="Trzecie", name="Nowy podmiot", _env={"REMOTE_ADDR": "192.0.2.9"})
    body = r.get_data(as_text=True)
    assert r.status_code == 503 and "chwilowo nie przyjmuje kolejnych" in body and r.headers["Retry-After"]
    assert len(_queue(settings)) == 2
    conn = connect(settings)
    assert conn.execute("SELECT COUNT(*) FROM report_attempts").fetchone()[0] == 2   # the refused one not counted
    queue.decide(conn, settings, _queue(settings)[0].id, "anna", accept=False)
    conn.close()
    r = _send(client, "/zglos/nowy", opis="Trzecie", name="Nowy podmiot", _env={"REMOTE_ADDR": "192.0.2.9"})
    assert r.status_code == 303 and len(_queue(settings)) == 2


def test_every_field_and_the_body_have_size_limits(env):
    app, settings = env
    client = app.test_client()
    r = _send(client, f"/zglos/{CARITAS}", opis="x" * 4001, phone="1" * 61, street=HOSTILE)
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    assert "<script>window.__pwned" not in html and 'value="&lt;script&gt;window.__pwned' in html   # echoed as text
    assert "Opis zmiany: najwyżej 4\u00a0000\u00a0znaków (jest 4001)" in html
    assert "Telefon: najwyżej 60\u00a0znaków" in html
    assert 'aria-invalid="true"' in html and 'href="#f-opis"' in html
    r = _send(client, "/zglos/nowy", opis="", name="", website="nie adres", contact_email="nie-mail", krs="12345678901")
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    for text in ("Opis zmiany: to pole jest wymagane", "Nazwa: podaj nazwę", "Strona internetowa: oczekiwano adresu",
                 "Twój e-mail: to nie jest adres e-mail", "Numer KRS: numer KRS ma dziesięć cyfr"):
        assert text in html, text
    action, t = _form_of(client, "/zglos/nowy")
    r = client.post(action, data={"csrf_token": t, "opis": "x" * 40_000})
    assert r.status_code == 413
    assert _queue(settings) == []


def test_hidden_characters_are_removed_and_unchanged_facts_are_not_proposed(env):
    app, settings = env
    client = app.test_client()
    r = _send(client, f"/zglos/{CARITAS}", opis="Adres\u202e siedziby\x00 jest inny\r\nod 2024", locality="Kielce",
              status="")
    assert r.status_code == 303
    [item] = _queue(settings)
    assert item.payload["text"] == "Adres siedziby jest inny\nod 2024"
    assert item.payload["values"] == {}          # Kielce is what the register says


def test_a_new_entity_report_warns_of_duplicates_in_the_queue(env):
    app, settings = env
    client = app.test_client()
    html = client.get("/").get_data(as_text=True)
    assert 'href="/zglos/nowy">Zgłoś nowy podmiot</a>' in html
    assert 'href="/zglos/nowy">Zgłoś nowy podmiot</a>' in client.get("/entities").get_data(as_text=True)
    r = _send(client, "/zglos/nowy", opis="Caritas ma siedzibę w Kielcach", name="Caritas Diecezji Kieleckiej",
              locality="Kielce", gmina_teryt="2661011", krs="198087", types="ngo", source_url=CARITAS_PAGE)
    assert r.status_code == 303
    [item] = _queue(settings)
    assert item.entity_id == "" and item.payload["new"] is True
    assert item.payload["values"]["krs"] == "0000198087"
    codes = {(w["code"], w["other_id"]) for w in item.payload["warnings"]}
    assert {("duplicate_krs", CARITAS), ("similar_name", CARITAS)} <= codes
    operator = app.test_client()
    sign_in(operator)
    page = operator.get("/admin/queue").get_data(as_text=True)
    assert "Możliwy duplikat: ten sam numer KRS 0000198087 ma już swk-044" in page
    # Accepting it as it stands would add a duplicate of a known entity: the operator rejects it, recorded.
    t = token(page)
    r = operator.post(f"/admin/queue/{item.id}",
                      data={"csrf_token": t, "decision": "reject", "note": "duplikat swk-044"})
    assert r.status_code == 302
    conn = connect(settings)
    decided = queue.get(conn, item.id)
    [entry] = audit.entries(conn, action="queue_reject")
    conn.close()
    assert (decided.status, decided.decided_by, decided.decision_note) == ("rejected", "anna", "duplikat swk-044")
    assert (entry.actor, entry.target, entry.detail["note"]) == ("anna", f"zgłoszenie {item.id}", "duplikat swk-044")


def test_accepting_a_report_and_publishing_changes_the_public_entity(env):
    TODAY = today_in_poland()  # the day of this test (a module constant goes stale at midnight)
    app, settings = env
    public = app.test_client()
    assert "Nie weryfikowano" in public.get(f"/entities/{CARITAS}").get_data(as_text=True)
    _send(public, _report_link(public, CARITAS), opis="Adres siedziby według strony Caritas. " + HOSTILE,
          street=NEW_STREET, postal_code=NEW_POSTAL, source_url=CARITAS_PAGE, contact_email=REPORTER)
    [item] = _queue(settings)
    operator = app.test_client()
    sign_in(operator)
    detail = operator.get(f"/admin/queue/{item.id}").get_data(as_text=True)
    assert f'value="{NEW_STREET}"' in detail                   # the form, prefilled with the proposal
    sources = re.search(r'<textarea id="v-sources" name="sources" rows="2">([^<]*)</textarea>', detail).group(1)
    assert sources.endswith(" | " + CARITAS_PAGE)
    fields = {f: re.search(rf'<input type="text" id="v-{f}" name="{f}" value="([^"]*)"', detail).group(1)
              for f in ("name", "street", "postal_code", "locality", "phone", "email", "website")}
    r = operator.post(f"/admin/queue/{item.id}", data={
        "csrf_token": token(detail), "decision": "accept", "edited": "1", "note": "zgodne ze stroną Caritas",
        **fields, "gmina_teryt": "", "status": "unknown", "sources": sources})
    assert r.status_code == 302
    # Accepted into the operator's draft: still nothing public.
    assert NEW_STREET not in public.get(f"/entities/{CARITAS}").get_data(as_text=True)
    conn = connect(settings)
    draft = changes.open_draft(conn, "anna")
    [changed] = changes.preview_of(conn, draft.id).changed
    diffs = {c: new for c, _old, new in changed["diffs"]}
    assert diffs["street"] == NEW_STREET and diffs["postal_code"] == NEW_POSTAL
    # A report is a claim: accepting it records a change from a report, never a verification.
    assert (diffs["changed_at"], diffs["change_source"]) == (TODAY.isoformat(), "zgłoszenie")
    assert "verified_at" not in diffs and "verified_source" not in diffs
    [accepted] = audit.entries(conn, action="queue_accept")
    conn.close()
    assert accepted.actor == "anna" and accepted.detail["values"]["street"] == NEW_STREET
    assert accepted.detail["note"] == "zgodne ze stroną Caritas"

    r = publish_confirmed(operator, f"/admin/changes/{draft.id}")
    assert r.status_code == 302 and "/admin/versions/" in r.headers["Location"]
    page = public.get(f"/entities/{CARITAS}").get_data(as_text=True)
    assert NEW_STREET in page and NEW_POSTAL in page
    assert f"Zmieniono na podstawie zgłoszenia, {TODAY:%d.%m.%Y} — niezweryfikowane" in page
    assert "Nie weryfikowano" in page and "Zweryfikowano" not in page
    feature = public.get(f"/api/entities.geojson").get_json()
    [props] = [f["properties"] for f in feature["features"] if f["properties"]["id"] == CARITAS]
    assert props["verified_at"] is None and props["changed_at"] == TODAY.isoformat()
    bodies = _public_bodies(public, CARITAS)
    assert NEW_STREET in bodies["/api/entities.geojson"]
    for url, body in bodies.items():
        assert REPORTER not in body and "__pwned" not in body, url   # the report's own words stay in the console
    assert REPORTER not in settings.entities_path.read_text(encoding="utf-8")


def test_the_queue_lists_every_kind_and_filters_by_kind(env):
    import shutil

    from geoes.config import REPO_DIR
    from geoes.register import proposals

    app, settings = env
    public = app.test_client()
    _send(public, f"/zglos/{CARITAS}", opis="Telefon nie odpowiada")
    (settings.data_dir / "import").mkdir()
    review = "pes_swietokrzyskie_uzupelnienie_istniejacych.do_przegladu.csv"
    shutil.copy(REPO_DIR / "data" / "import" / review, settings.data_dir / "import" / review)
    register = changes.read_register(settings).set_index("id")
    proposals.save(settings.proposals_path, [proposals.Proposal(
        "change", "KRS", CARITAS, register.at[CARITAS, "name"], field="street",
        register_value=register.at[CARITAS, "street"], official_value=NEW_STREET,
        official_text="PL. JANA PAWŁA II 3")])
    # Written by `verify` and `import`, which queue what they write at once (as the job in the console does).
    conn = connect(settings)
    assert queue.take_in(conn, settings) == (2, [])
    assert queue.take_in(conn, settings) == (0, [])   # taken in once
    conn.close()
    operator = app.test_client()
    sign_in(operator)
    # Counted on the dashboard before anyone opens the queue.
    dashboard = operator.get("/admin/").get_data(as_text=True)
    assert "3\u00a0zgłoszenia czekają na decyzję" in dashboard
    everything = operator.get("/admin/queue").get_data(as_text=True)
    assert "Telefon nie odpowiada" in everything and "PL. JANA PAWŁA II 3" not in everything
    assert "Fundacja Nadzieja Rodzinie (tak w źródle)" in everything
    assert "→ „pl. Jana Pawła II 3”" in everything
    shown = {key: operator.get(f"/admin/queue?rodzaj={key}").get_data(as_text=True)
             for key in ("report", "krs", "rjps", "import")}
    assert "Telefon nie odpowiada" in shown["report"] and "Fundacja Nadzieja" not in shown["report"]
    assert "→ „pl. Jana Pawła II 3”" in shown["krs"] and "Telefon nie odpowiada" not in shown["krs"]
    assert "Brak zgłoszeń czekających na decyzję" in shown["rjps"]
    assert "Fundacja Nadzieja Rodzinie" in shown["import"] and "Telefon nie odpowiada" not in shown["import"]
    assert "aria-current=\"page\">zgłoszenia mieszkańców (1)" in shown["report"]

    # The importer's review item: the operator corrects the source's wording before accepting.
    conn = connect(settings)
    [item] = [i for i in queue.items(conn) if i.kind == "review"]
    conn.close()
    assert (item.entity_id, item.payload["field"]) == ("swk-027", "operator")
    detail = operator.get(f"/admin/queue/{item.id}").get_data(as_text=True)
    assert "rozstrzygnąć w KRS" in detail
    r = operator.post(f"/admin/queue/{item.id}", data={"csrf_token": token(detail), "decision": "accept",
                                                       "edited": "1", "operator": "Fundacja Nadzieja Rodzinie"})
    assert r.status_code == 302
    conn = connect(settings)
    draft = changes.open_draft(conn, "anna")
    [changed] = changes.preview_of(conn, draft.id).changed
    conn.close()
    assert changed["id"] == "swk-027" and changed["diffs"] == [["operator", "", "Fundacja Nadzieja Rodzinie"]]


def test_a_new_entity_report_without_a_type_asks_the_operator_for_one(env):
    TODAY = today_in_poland()  # the day of this test (a module constant goes stale at midnight)
    app, settings = env
    public = app.test_client()
    # The fact is real (a KGW of the shared supplement file); the report leaves the type out.
    from console.helpers import supplement

    fact = supplement("swk-n024")[0]
    _send(public, "/zglos/nowy", opis="Koło działa od lat", name=fact["nazwa"], locality=fact["miejscowosc"])
    [item] = _queue(settings)
    operator = app.test_client()
    sign_in(operator)
    t = token(operator.get("/admin/queue").get_data(as_text=True))
    r = operator.post(f"/admin/queue/{item.id}", data={"csrf_token": t, "decision": "accept"})
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and "Nie przyjęto — popraw dane" in html and "Typ" in html
    conn = connect(settings)
    assert queue.get(conn, item.id).status == "pending"
    conn.close()
    fields = {"name": fact["nazwa"], "locality": fact["miejscowosc"], "types": "kgw", "status": "active"}
    # "Koło działa od lat" is the reporter's claim: the status "działa" needs the operator's own check.
    r = operator.post(f"/admin/queue/{item.id}", data={"csrf_token": token(html), "decision": "accept", "edited": "1",
                                                       **fields})
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and "wymaga potwierdzenia ze źródłem i datą" in html
    check = {"check_how": "phone", "check_date": TODAY.isoformat(), "check_role": "przewodnicząca koła"}
    r = operator.post(f"/admin/queue/{item.id}", data={"csrf_token": token(html), "decision": "accept", "edited": "1",
                                                       **fields, **check})
    assert r.status_code == 302
    conn = connect(settings)
    draft = changes.open_draft(conn, "anna")
    [added] = changes.preview_of(conn, draft.id).added
    record = changes.merged_of(conn, draft.id).set_index("id").loc[added["id"]]
    conn.close()
    assert added["name"] == fact["nazwa"] and added["types"] == "kgw"
    assert (record["status"], record["verified_at"], record["verified_source"]) == ("active", TODAY.isoformat(), "operator")
    assert record["verified_evidence"] == f"rozmowa telefoniczna {TODAY.isoformat()}, rozmówca: przewodnicząca koła"
    assert (record["changed_at"], record["change_source"]) == (TODAY.isoformat(), "zgłoszenie")


def test_an_unknown_entity_has_no_report_form(env):
    app, _settings = env
    client = app.test_client()
    r = client.get("/zglos/nie-ma-takiego")
    assert r.status_code == 404 and "Nie ma podmiotu o identyfikatorze „nie-ma-takiego”" in r.get_data(as_text=True)
    assert client.get("/zglos/" + "x" * 500).status_code == 404
