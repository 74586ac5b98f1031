"""The served data while a new version loads: the thread that noticed it loads it; every other request goes
on with the old version, complete, until the new one is swapped in (what several instances rely on when a
publish reaches them)."""
from __future__ import annotations

import threading
import time

from geoes.publish import served
from geoes.publish.served import ServedData


class _Version:
    def __init__(self, name: str):
        self.version = name


def test_other_requests_keep_the_old_version_while_the_new_one_loads(monkeypatch, built_settings):
    data = ServedData(built_settings, check_interval=0)
    names = iter(["v1", "v2", "v2", "v2", "v2"])
    monkeypatch.setattr(data, "_served_version", lambda: next(names, "v2"))
    release = threading.Event()

    def load(settings, version):
        if version == "v2":
            assert release.wait(10)
        return _Version(version)

    monkeypatch.setattr(served, "load_version", load)
    assert data.resolve().version == "v1"
    loader = threading.Thread(target=data.resolve)
    loader.start()
    time.sleep(0.2)                       # the loader now holds the lock, loading v2
    started = time.monotonic()
    assert data.resolve().version == "v1"  # not blocked, the old version
    assert time.monotonic() - started < 1
    release.set()
    loader.join(5)
    assert data.resolve().version == "v2"
