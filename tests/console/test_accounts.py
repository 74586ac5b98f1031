"""Operator accounts: slow hashes, throttled sign-in, the `users` commands."""
from __future__ import annotations

import os
import stat

import pytest

from geoes.console import accounts, audit
from geoes.console.db import secret_key
from geoes.errors import Conflict, InvalidInput, NotFound

PASSWORD = "kasztan-jedrzejow-2026"


def test_passwords_are_stored_as_scrypt_hashes_only(conn, cs_settings):
    accounts.add_user(conn, "anna.kowalska", PASSWORD)
    stored = conn.execute("SELECT password_hash FROM users").fetchone()[0]
    assert stored.startswith("scrypt:") and PASSWORD not in stored
    assert accounts.authenticate(conn, cs_settings, "anna.kowalska", PASSWORD, "10.0.0.1").login == "anna.kowalska"
    assert accounts.authenticate(conn, cs_settings, "anna.kowalska", PASSWORD + "x", "10.0.0.1") is None
    with pytest.raises(Conflict):
        accounts.add_user(conn, "Anna.Kowalska", PASSWORD)  # logins are case-insensitive
    with pytest.raises(InvalidInput, match="za krótkie"):
        accounts.add_user(conn, "jan", "krotkie")
    with pytest.raises(InvalidInput, match="nazwa użytkownika"):
        accounts.add_user(conn, "<script>", PASSWORD)


def test_sign_in_is_throttled_per_account_and_per_address(conn, cs_settings):
    accounts.add_user(conn, "anna", PASSWORD)
    accounts.add_user(conn, "ewa", PASSWORD)
    t0 = 1_000_000.0
    for i in range(cs_settings.login_max_failures):
        assert accounts.authenticate(conn, cs_settings, "anna", "zle-haslo", f"10.0.0.{i}", now=t0 + i) is None
    # The account is blocked from any address, even with the right password…
    with pytest.raises(accounts.Throttled) as err:
        accounts.authenticate(conn, cs_settings, "anna", PASSWORD, "10.9.9.9", now=t0 + 20)
    assert err.value.http_status == 429 and "Spróbuj ponownie za" in err.value.description
    assert 0 < err.value.retry_after <= cs_settings.login_window_minutes * 60
    # …another account is not…
    assert accounts.authenticate(conn, cs_settings, "ewa", PASSWORD, "10.9.9.9", now=t0 + 21).login == "ewa"
    # …and after the window the account may sign in again.
    later = t0 + cs_settings.login_window_minutes * 60 + 30
    assert accounts.authenticate(conn, cs_settings, "anna", PASSWORD, "10.9.9.9", now=later).login == "anna"
    # One address trying many logins (real or not) is blocked as well.
    for i in range(cs_settings.login_max_failures):
        accounts.authenticate(conn, cs_settings, f"nikt{i}", "zle-haslo", "192.0.2.7", now=later + i)
    with pytest.raises(accounts.Throttled):
        accounts.authenticate(conn, cs_settings, "ewa", PASSWORD, "192.0.2.7", now=later + 20)


def test_failed_and_successful_sign_ins_leave_a_trace(conn, cs_settings):
    accounts.add_user(conn, "anna", PASSWORD)
    accounts.authenticate(conn, cs_settings, "anna", PASSWORD, "10.0.0.1")
    actions = [e.action for e in audit.entries(conn)]
    assert actions[:2] == ["sign_in", "user_add"]


def test_removing_or_changing_a_password_ends_sessions(conn, cs_settings):
    user = accounts.add_user(conn, "anna", PASSWORD)
    accounts.set_password(conn, "anna", PASSWORD + "-nowe")
    assert accounts.get_user(conn, "anna").session_key != user.session_key
    accounts.remove_user(conn, "anna")
    assert accounts.user_by_id(conn, user.id) is None
    with pytest.raises(NotFound):
        accounts.remove_user(conn, "anna")


def test_secret_key_is_generated_once_with_private_permissions(cs_settings):
    first = secret_key(cs_settings)
    assert len(first) == 64 and secret_key(cs_settings) == first
    path = cs_settings.data_dir / "console" / "secret_key"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    from dataclasses import replace

    assert secret_key(replace(cs_settings, secret_key="z-ustawien")) == "z-ustawien"


def test_users_commands(runner, cs_settings):
    from click.testing import CliRunner

    from geoes.cli import main

    def run(*args, stdin=None):
        return CliRunner().invoke(main, ["--data-dir", str(cs_settings.data_dir), "users", *args], input=stdin)

    r = run("add", "operator.rops", "--password-stdin", stdin=PASSWORD + "\n")
    assert r.exit_code == 0 and "Dodano operatora operator.rops" in r.output
    assert PASSWORD not in r.output
    r = run("add", "operator.rops", "--password-stdin", stdin=PASSWORD + "\n")
    assert r.exit_code == 2 and "już istnieje" in r.output
    r = run("add", "jan", "--password-stdin", stdin="krotkie\n")
    assert r.exit_code == 2 and "za krótkie" in r.output
    r = run("list")
    assert r.exit_code == 0 and "operator.rops" in r.output and "jan" not in r.output
    r = run("remove", "operator.rops")
    assert r.exit_code == 0
    r = run("remove", "operator.rops")
    assert r.exit_code == 2 and "nie ma użytkownika" in r.output
    assert "Brak operatorów" in run("list").output
