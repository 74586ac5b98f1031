"""The console's button `Weryfikuj w KRS` against the local fake of the KRS API (tests/fake_krs.py): the run
goes on in the background, one at a time, its state on the queue page, its proposals into the queue, its
start and end in the audit log — and the register untouched until an operator accepts and publishes."""
from __future__ import annotations

import socket

import pytest

from geoes.common.polish import today_in_poland
from geoes.console import audit, jobs, queue
from geoes.console.db import connect
from geoes.sources import http

from .admin_helpers import make_admin_app, sign_in, token
from .admin_helpers import publish as publish_confirmed

CARITAS = "swk-044"


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch):
    monkeypatch.setattr(http, "RETRY_BACKOFF", 0.0)


@pytest.fixture()
def fake():
    from fake_krs import FakeKrs

    with FakeKrs() as server:
        yield server


def _app(tmp_path, built, api: str):
    return make_admin_app(built, tmp_path / "data", GEOES_KRS_API=api, GEOES_KRS_RATE="0")


def _closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/api/krs"


def _start(client):
    page = client.get("/admin/queue").get_data(as_text=True)
    assert '<button type="submit">Weryfikuj w KRS</button>' in page
    return client.post("/admin/verify", data={"csrf_token": token(page)})


def _audit(settings, action):
    conn = connect(settings)
    try:
        return audit.entries(conn, action=action)
    finally:
        conn.close()


def test_the_button_runs_verify_in_the_background_and_fills_the_queue(tmp_path, register_before_supplement, fake):
    app, settings = _app(tmp_path, register_before_supplement, fake.base)
    register = settings.entities_path.read_bytes()
    client = app.test_client()
    sign_in(client)
    r = _start(client)
    assert r.status_code == 302 and r.headers["Location"].startswith("/admin/queue")
    assert jobs.wait(timeout=60)
    page = client.get("/admin/queue").get_data(as_text=True)
    assert "Ostatnia weryfikacja: <strong>zakończona</strong>" in page
    # Caritas's own number and the operator numbers of the units it runs agree (one request for all); the
    # fake has no extract for Caritas Diecezji Sandomierskiej (swk-007's operator), so that one is "unknown".
    assert ("podmioty z numerem KRS: 1, sprawdzone: 1; propozycje zmian: 4; zgodne z KRS: 0; numery nieznane "
            "w KRS: 0; jednostki z numerem KRS prowadzącego: 7, sprawdzone: 7, nieznane w KRS: 1") in page
    assert "„Plac Najświętszej Maryi Panny 1” → „pl. Jana Pawła II 3”" in page
    assert "KRS nie zna numeru podmiotu prowadzącego 0000213751" in page
    assert settings.entities_path.read_bytes() == register                # proposed, not applied
    assert [(k, r) for k, r, *_ in fake.requests] == [("0000198087", "S"), ("0000213751", "S"), ("0000213751", "P")]
    [started], [done] = _audit(settings, "verify_start"), _audit(settings, "verify_done")
    assert started.actor == done.actor == "anna" and done.detail["changes"] >= 2

    # Accept the address and publish: the public page shows the verification.
    conn = connect(settings)
    street = next(i for i in queue.items(conn, category="krs") if i.payload.get("field") == "street")
    conn.close()
    t = token(client.get(f"/admin/queue/{street.id}").get_data(as_text=True))
    assert client.post(f"/admin/queue/{street.id}", data={"csrf_token": t, "decision": "accept"}).status_code == 302
    conn = connect(settings)
    from geoes.console import changes

    draft = changes.open_draft(conn, "anna")
    conn.close()
    assert publish_confirmed(client, f"/admin/changes/{draft.id}").status_code == 302
    entity = client.get(f"/entities/{CARITAS}").get_data(as_text=True)
    assert "pl. Jana Pawła II 3" in entity and f"Zweryfikowano: {today_in_poland():%d.%m.%Y} (KRS)" in entity
    assert "jak sprawdzono: odpis aktualny z KRS według stanu na" in entity   # what the verification rests on


def test_one_run_at_a_time(tmp_path, register_before_supplement, fake):
    app, settings = _app(tmp_path, register_before_supplement, fake.base)
    fake.delay = 1.5
    client = app.test_client()
    sign_in(client)
    assert _start(client).status_code == 302
    page = client.get("/admin/queue").get_data(as_text=True)
    assert "Ostatnia weryfikacja: <strong>trwa</strong>" in page
    assert '<button type="submit" disabled>Weryfikuj w KRS</button>' in page
    r = client.post("/admin/verify", data={"csrf_token": token(page)})
    assert r.status_code == 409 and "Weryfikacja w KRS już trwa (uruchomił ją anna)" in r.get_data(as_text=True)
    assert jobs.wait(timeout=60)
    assert len(_audit(settings, "verify_start")) == 1 and fake.count() == 3   # Caritas; swk-007's operator in S, P


def test_an_unreachable_api_fails_with_a_polish_message_and_changes_nothing(tmp_path, register_before_supplement):
    app, settings = _app(tmp_path, register_before_supplement, _closed_port_url())
    register = settings.entities_path.read_bytes()
    client = app.test_client()
    sign_in(client)
    assert _start(client).status_code == 302
    assert jobs.wait(timeout=120)
    page = client.get("/admin/queue").get_data(as_text=True)
    assert "Ostatnia weryfikacja: <strong>nieudana</strong>" in page and "brak połączenia z API KRS" in page
    assert "Brak zgłoszeń czekających na decyzję" in page
    assert settings.entities_path.read_bytes() == register
    assert not settings.proposals_path.exists()
    [failed] = _audit(settings, "verify_failed")
    assert failed.actor == "anna" and "brak połączenia" in failed.detail["message"]
