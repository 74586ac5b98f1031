"""Reporters' links and e-mails in the console (issue 27): a link goes through the project's safe-URL check
and shows the host it really leads to; the e-mail is percent-encoded in mailto: and deleted a set time
after the operator's decision."""
from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone

import pytest

from geoes.console import queue, reports
from geoes.console.db import connect
from geoes.publish.escape import link_with_host, mailto, real_host

from .admin_helpers import make_admin_app, page_token, sign_in, token

CARITAS = "swk-044"


@pytest.fixture()
def env(tmp_path, register_before_supplement):
    return make_admin_app(register_before_supplement, tmp_path / "data")


def _send(client, entity_id: str, **fields):
    html = client.get(f"/zglos/{entity_id}").get_data(as_text=True)
    action = re.search(r'<form method="post" class="report-form" action="([^"]+)"', html).group(1)
    return client.post(action, data={"csrf_token": token(html), **fields})


def _item(settings) -> queue.Item:
    conn = connect(settings)
    try:
        return queue.items(conn, "pending", limit=10)[0]
    finally:
        conn.close()


def test_a_link_with_a_user_part_is_text_that_names_its_real_host(env):
    app, settings = env
    public = app.test_client()
    r = _send(public, CARITAS, opis="Nowy adres strony", source_url="https://127.0.0.1@evil.example/",
              contact_email="anna?cc=szef&body=Przelej@example.org")
    assert r.status_code == 303
    client = app.test_client()
    sign_in(client)
    page = client.get(f"/admin/queue/{_item(settings).id}").get_data(as_text=True)
    assert 'href="https://127.0.0.1@evil.example/"' not in page
    assert not re.search(r'<a [^>]*href="[^"]*127\.0\.0\.1', page)
    assert "https://127.0.0.1@evil.example/" in page and "serwer: evil.example" in page
    assert "nie jest linkiem" in page
    # The e-mail in mailto: cannot add a cc or a body.
    hrefs = re.findall(r'href="(mailto:[^"]*)"', page)
    assert hrefs == ["mailto:anna%3Fcc%3Dszef%26body%3Dprzelej@example.org"]   # (normalised to lower case)


@pytest.mark.parametrize("url, host, clickable", [
    ("https://127.0.0.1@evil.example/", "evil.example", False),
    ("https://nowa.caritas.pl/kontakt", "nowa.caritas.pl", True),
    ("https://kielce.pl@192.0.2.1/", "192.0.2.1", False),
    ("https://xn--kielce-8ib.pl/", "xn--kielce-8ib.pl", True),
    ("https://kielcę.pl/", "xn--kielc-n0a.pl", True),                     # a look-alike letter shows
    ("javascript:alert(1)", "", False),
])
def test_link_with_host(url, host, clickable):
    html = str(link_with_host(url))
    assert real_host(url) == host
    assert (f"serwer: {host}" if host else "bez serwera") in html
    assert html.startswith("<a ") is clickable


def test_mailto_is_percent_encoded():
    assert mailto("anna@example.org") == "mailto:anna@example.org"
    assert mailto("a?cc=b@c&body=x%0A") == "mailto:a%3Fcc%3Db@c%26body%3Dx%250A"


def test_a_reporters_email_is_deleted_a_set_time_after_the_decision(env):
    app, settings = env
    public = app.test_client()
    for n in range(3):
        _send(public, CARITAS, opis=f"Zgłoszenie {n}", contact_email=f"zglaszajacy{n}@example.org")
    conn = connect(settings)
    items = sorted(queue.items(conn, "pending", limit=10), key=lambda i: i.id)
    old = (datetime.now(timezone.utc) - timedelta(days=settings.reporter_email_days + 1)).replace(microsecond=0)
    recent = datetime.now(timezone.utc) - timedelta(days=settings.reporter_email_days - 1)
    for item, decided in zip(items[:2], (old, recent)):
        conn.execute("UPDATE queue SET status = 'rejected', decided_at = ?, decided_by = 'anna' WHERE id = ?",
                     (decided.replace(microsecond=0).isoformat(), item.id))
    conn.close()
    client = app.test_client()
    sign_in(client)
    page = client.get("/admin/queue").get_data(as_text=True)
    assert page
    conn = connect(settings)
    emails = {i.id: json.loads(conn.execute("SELECT payload FROM queue WHERE id = ?", (i.id,)).fetchone()[0])
              .get("contact_email") for i in items}
    conn.close()
    assert emails == {items[0].id: "", items[1].id: "zglaszajacy1@example.org",   # decided 91 / 89 days ago
                      items[2].id: "zglaszajacy2@example.org"}                      # still pending
    shown = client.get(f"/admin/queue/{items[0].id}").get_data(as_text=True)
    assert "zglaszajacy0@example.org" not in shown and "usunięty" in shown
    audit = client.get("/admin/audit").get_data(as_text=True)
    assert "usunięcie e-maili zgłaszających" in audit
    conn = connect(settings)
    assert reports.forget_contacts(conn, settings) == 0          # once
    conn.close()


def test_the_public_contact_block_encodes_the_address_in_mailto(app):
    """An entity's e-mail from the register (or an accepted report) passes the e-mail check with `?` and `&` in
    its local part: on the public page it cannot add a cc or a body either."""
    with app.test_request_context():
        macro = app.jinja_env.get_template("_contact.html").module.contact_block
        html = str(macro({"email": "biuro?cc=szef&body=Przelej@example.org"}))
    assert re.findall(r'href="(mailto:[^"]+)"', html) == ["mailto:biuro%3Fcc%3Dszef%26body%3DPrzelej@example.org"]
