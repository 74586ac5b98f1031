"""The served site keeps no whole client addresses in its access log and has a control socket of its own
(issue 27): under gunicorn as the project starts it."""
from __future__ import annotations

import os
import re
import stat
import urllib.request

import pytest

from geoes.common.addresses import truncate_address
from geoes.web.gunicorn_support import control_socket_path


@pytest.mark.parametrize("given, kept", [
    ("203.0.113.77", "203.0.113.0"),
    ("2001:db8:85a3:1:2:8a2e:370:7334", "2001:db8:85a3::"),
    ("::ffff:198.51.100.23", "198.51.100.0"),
    ("198.51.100.23, 10.0.0.1", "198.51.100.0, 10.0.0.0"),
    ("-", "-"),
    ("", ""),
])
def test_truncate_address(given, kept):
    assert truncate_address(given) == kept


def test_the_control_socket_is_the_instances_own_and_private(tmp_path):
    first = control_socket_path(tmp_path / "data", ["127.0.0.1:8000"])
    second = control_socket_path(tmp_path / "data", ["127.0.0.1:8001"])
    assert first != second and first.parent == tmp_path.resolve() / "data" / "run"
    assert stat.S_IMODE(os.stat(first.parent).st_mode) == 0o700
    assert control_socket_path(tmp_path / ("d" * 120), ["127.0.0.1:8000"]) is None   # too long: none at all


def test_gunicorn_logs_truncated_addresses_and_makes_its_socket_under_the_data_dir(
        tmp_path, built_settings, monkeypatch):
    from conftest import clone_settings
    from ogc.testdata import live_server

    settings = clone_settings(built_settings, tmp_path / "data", with_build=True)
    monkeypatch.setenv("GEOES_PROXY_COUNT", "1")
    monkeypatch.setenv("GEOES_LOG_LEVEL", "info")
    log_dir = tmp_path / "log"
    log_dir.mkdir()
    with live_server(settings, workers=1, log_dir=log_dir) as url:
        request = urllib.request.Request(url + "/healthz", headers={"X-Forwarded-For": "203.0.113.77"})
        with urllib.request.urlopen(request, timeout=10) as r:
            assert r.status == 200
        port = url.rsplit(":", 1)[1]
        sockets = list((settings.data_dir / "run").glob(f"gunicorn-*{port}*.ctl"))
        assert len(sockets) == 1 and stat.S_ISSOCK(os.stat(sockets[0]).st_mode)
        assert stat.S_IMODE(os.stat(sockets[0]).st_mode) == 0o600
    log = (log_dir / "gunicorn.log").read_text()
    lines = [line for line in log.splitlines() if "GET /healthz" in line]
    # The server's own readiness checks came from 127.0.0.1, the request above through a "proxy" for 203.0.113.77.
    assert lines and {re.match(r"\S+", line).group(0) for line in lines} == {"127.0.0.0", "203.0.113.0"}, lines
    assert "203.0.113.77" not in log and "127.0.0.1 -" not in log
