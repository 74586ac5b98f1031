"""Operator accounts: slow hashes, throttled sign-in, the `users` commands."""
from __future__ import annotations

import os
import stat

import pytest

from geoes.console import accounts, audit
from geoes.console.db import connect, secret_key
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


@pytest.mark.parametrize("weak, words", [
    ("password1234", "bardzo częste hasło"),
    ("aaaaaaaaaaaa", "powtórzenia"),
    (" " * 12, "samych odstępów"),
    ("qwertyuiop12", "łatwe do odgadnięcia"),
    ("anna.kowalska", "łatwe do odgadnięcia"),          # the login itself
])
def test_users_add_refuses_passwords_easy_to_guess(cs_settings, weak, words):
    from click.testing import CliRunner

    from geoes.cli import main

    r = CliRunner().invoke(main, ["--data-dir", str(cs_settings.data_dir), "users", "add", "anna.kowalska",
                                  "--password-stdin"], input=weak + "\n")
    assert r.exit_code == 2 and words in r.output, r.output
    assert "Traceback" not in r.output
    conn = connect(cs_settings)
    assert accounts.get_user(conn, "anna.kowalska") is None
    with pytest.raises(InvalidInput):
        accounts.add_user(conn, "anna.kowalska", weak)
    conn.close()


def test_a_new_password_is_checked_the_same_way(conn):
    accounts.add_user(conn, "anna", PASSWORD)
    with pytest.raises(InvalidInput, match="łatwe do odgadnięcia|częste"):
        accounts.set_password(conn, "anna", "password1234")


def test_the_store_and_its_directory_are_private(cs_settings):
    path = cs_settings.data_dir / "console" / "console.sqlite"
    c = connect(cs_settings)
    accounts.add_user(c, "anna", PASSWORD)
    c.close()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    for side in (path.with_name("console.sqlite-wal"), path.with_name("console.sqlite-shm")):
        if side.exists():
            assert stat.S_IMODE(os.stat(side).st_mode) & 0o077 == 0, side
    # A store an older version left readable is made private again.
    from geoes.console import db

    os.chmod(path, 0o644)
    os.chmod(path.parent, 0o755)
    db._ready.clear()
    connect(cs_settings).close()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600 and stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700


def test_parallel_sign_ins_check_no_more_passwords_than_the_limit(cs_settings, monkeypatch):
    """The throttle is checked and the attempt recorded in one transaction, before the slow hash: 30
    wrong passwords sent at once are checked at most `login_max_failures` times."""
    import threading

    c = connect(cs_settings)
    accounts.add_user(c, "anna", PASSWORD)
    c.close()
    checked = []
    real = accounts.check_password_hash

    def counting(digest, password):
        checked.append(password)
        return real(digest, password)

    monkeypatch.setattr(accounts, "check_password_hash", counting)
    outcomes = []
    start = threading.Barrier(30)

    def attempt(i):
        own = connect(cs_settings)
        try:
            start.wait()
            outcomes.append(accounts.authenticate(own, cs_settings, "anna", f"zle-haslo-{i}", f"10.1.0.{i}"))
        except accounts.Throttled:
            outcomes.append("throttled")
        finally:
            own.close()

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(outcomes) == 30
    assert len(checked) == cs_settings.login_max_failures
    assert outcomes.count("throttled") == 30 - cs_settings.login_max_failures
