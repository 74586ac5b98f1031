"""Console sessions end (issue 27): a server-side record behind a random token, deleted at sign-out,
checked on every request, with an absolute lifetime besides the idle one; a password change or a removed
account ends every session of that operator."""
from __future__ import annotations

import time

import pytest

from geoes.console import accounts, sessions
from geoes.console.db import connect

from .admin_helpers import PASSWORD, make_admin_app, page_token, sign_in


@pytest.fixture()
def env(tmp_path, register_before_supplement):
    return make_admin_app(register_before_supplement, tmp_path / "data", operators=("anna", "ewa"))


def _cookie(client) -> str:
    return client.get_cookie("geoes_session").value


def _refused(r) -> bool:
    return r.status_code == 302 and r.headers["Location"].startswith("/admin/login")


def test_a_cookie_saved_before_logout_is_refused_after_it(env):
    app, settings = env
    client = app.test_client()
    sign_in(client)
    csrf = page_token(client)
    saved = _cookie(client)            # the cookie as it was, with its CSRF token, just before signing out
    assert client.post("/admin/logout", data={"csrf_token": csrf}).status_code == 302
    thief = app.test_client()
    thief.set_cookie("geoes_session", saved)
    assert _refused(thief.get("/admin/"))
    assert _refused(thief.get("/admin/queue"))
    # …with the CSRF token of that session too: nothing is done, and the cookie is cleared.
    again = app.test_client()
    again.set_cookie("geoes_session", saved)
    r = again.post("/admin/logout", data={"csrf_token": csrf})
    assert r.status_code == 403
    conn = connect(settings)
    assert conn.execute("SELECT COUNT(*) FROM sessions").fetchone()[0] == 0
    conn.close()


def test_the_cookie_holds_only_a_token_and_the_store_only_its_hash(env):
    app, settings = env
    client = app.test_client()
    sign_in(client)
    with client.session_transaction() as s:
        token = s["sid"]
        assert set(s) <= {"sid", "csrf_token", "_permanent", "_flashes"}
    assert len(token) >= 40
    conn = connect(settings)
    (stored,) = conn.execute("SELECT id FROM sessions").fetchone()
    conn.close()
    assert token not in stored and len(stored) == 64


def test_a_session_older_than_the_absolute_lifetime_is_refused_even_when_busy(env):
    app, settings = env
    client = app.test_client()
    sign_in(client)
    assert client.get("/admin/").status_code == 200
    conn = connect(settings)
    # Signed in just over 12 hours ago, and used a moment ago: still over the absolute lifetime.
    conn.execute("UPDATE sessions SET created_at = ?, seen_at = ?",
                 (time.time() - settings.session_max_hours * 3600 - 5, time.time() - 1))
    conn.close()
    r = client.get("/admin/")
    assert _refused(r)
    body = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "Sesja wygasła" in body and "12\u00a0godzin" in body
    assert _refused(client.get("/admin/"))
    assert sign_in(client).status_code == 302 and client.get("/admin/").status_code == 200


def test_the_absolute_lifetime_is_a_setting(tmp_path, register_before_supplement):
    app, settings = make_admin_app(register_before_supplement, tmp_path / "data", GEOES_SESSION_MAX_HOURS="1")
    assert settings.session_max_hours == 12 and app.extensions["geoes_settings"].session_max_hours == 1
    client = app.test_client()
    sign_in(client)
    conn = connect(app.extensions["geoes_settings"])
    conn.execute("UPDATE sessions SET created_at = ?", (time.time() - 3601,))
    conn.close()
    assert _refused(client.get("/admin/"))


def test_a_password_change_or_a_removed_account_ends_every_session_of_that_operator(env):
    app, settings = env
    phone, desk, other = app.test_client(), app.test_client(), app.test_client()
    sign_in(phone)
    sign_in(desk)
    sign_in(other, login="ewa")
    conn = connect(settings)
    anna = accounts.get_user(conn, "anna")
    assert sessions.count(conn, anna.id) == 2
    accounts.set_password(conn, "anna", PASSWORD + "-jesien")
    assert sessions.count(conn, anna.id) == 0
    conn.close()
    assert _refused(phone.get("/admin/")) and _refused(desk.get("/admin/"))
    assert other.get("/admin/").status_code == 200        # another operator's session goes on
    conn = connect(settings)
    accounts.remove_user(conn, "ewa")
    assert conn.execute("SELECT COUNT(*) FROM sessions").fetchone()[0] == 0
    conn.close()
    assert _refused(other.get("/admin/"))


def test_each_sign_in_issues_a_new_token(env):
    app, _settings = env
    client = app.test_client()
    sign_in(client)
    first = _cookie(client)
    with client.session_transaction() as s:
        token = s["sid"]
    client.post("/admin/logout", data={"csrf_token": page_token(client)})
    sign_in(client)
    with client.session_transaction() as s:
        assert s["sid"] != token
    assert client.get("/admin/").status_code == 200
    stale = app.test_client()
    stale.set_cookie("geoes_session", first)
    assert _refused(stale.get("/admin/"))
