"""Rebuilds never hurt readers: a request sees one whole dataset version, old or new, never a mix.

A build killed mid-way, a full disk, a bad input file and a second concurrent build all leave the
served version and its files intact; the app picks up a new version without restart, its ETag follows
the version, and readers hammering the API during switches never get a body of one version with the
headers of another.
"""
from __future__ import annotations

import hashlib
import json
import os
import resource
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from conftest import kill_while_building
from geoes.config import REPO_DIR
from geoes.web.served import served_data


def _snapshot(settings) -> tuple[str, dict[str, str]]:
    """(current version, sha256 of every file of it)."""
    link = settings.build_dir / "current"
    version = os.readlink(link)
    files = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted((settings.build_dir / version).iterdir())}
    return version, files


def _versions(settings) -> set[str]:
    return {p.name for p in settings.build_dir.iterdir() if p.is_dir() and not p.is_symlink()
            and not p.name.startswith(".")}


def _cli(settings, *args, **kw) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO_DIR)}
    return subprocess.Popen([sys.executable, "-m", "geoes", "--data-dir", str(settings.data_dir), "--region",
                             settings.region, "build", *args], cwd=REPO_DIR, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


@pytest.fixture()
def rb(tmp_path, built_settings):
    from conftest import clone_settings

    (tmp_path / "data").mkdir()
    return clone_settings(built_settings, tmp_path / "data", with_build=True)


def _assert_served(settings, version: str) -> None:
    from geoes.web import create_app

    app = create_app({"TESTING": True, "GEOES_DATA_DIR": str(settings.data_dir), "GEOES_REGION": "26"})
    r = app.test_client().get("/healthz")
    assert r.status_code == 200 and r.get_json()["version"] == version
    r = app.test_client().get("/api/powiaty.geojson")
    assert r.status_code == 200 and json.loads(r.data)["version"] == version


@pytest.fixture(scope="module")
def big_entities(tmp_path_factory, built_settings) -> Path:
    """A synthetic entities file large enough that writing its GeoPackage takes a while."""
    from geoes.register.synthetic import generate, write_csv
    from geoes.sources.territory import load_territory

    path = tmp_path_factory.mktemp("big") / "entities.csv"
    write_csv(generate(load_territory(built_settings), 150_000, seed=6), path)
    return path


def test_build_killed_while_writing_leaves_current_intact(rb, big_entities):
    before = _snapshot(rb)
    versions = _versions(rb)
    proc = _cli(rb, "--entities", str(big_entities))
    killed_while_writing = kill_while_building(proc, rb.build_dir, settle=0.05)
    assert killed_while_writing, "the build finished before it could be killed while writing"
    assert proc.returncode == -signal.SIGKILL
    assert _snapshot(rb) == before
    assert _versions(rb) == versions  # only a hidden .tmp-* may remain, never a version a reader follows
    _assert_served(rb, before[0])
    # The lock died with the process: the next build runs, and pruning keeps current.
    from geoes.dataset.build import build

    result = build(rb)
    assert os.readlink(rb.build_dir / "current") == result.version


def _limit_file_size(limit: int):
    def pre():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail with EFBIG instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return pre


def test_disk_full_during_build_leaves_current_intact(rb):
    before = _snapshot(rb)
    versions = _versions(rb)
    proc = _cli(rb, preexec_fn=_limit_file_size(64 * 1024))
    out, err = proc.communicate(timeout=120)
    assert proc.returncode != 0, out
    assert _snapshot(rb) == before
    assert _versions(rb) == versions
    assert not list(rb.build_dir.glob(".tmp-*")), "a failed build removes its temporary directory"
    _assert_served(rb, before[0])


def test_disk_full_in_process_cleans_up(rb, monkeypatch):
    import errno

    from geoes.dataset import build as build_mod

    before = _snapshot(rb)
    real = build_mod.write_version

    def full(target, *a, **kw):
        real(target, *a, **kw)
        (target / "geoes.gpkg").write_bytes(b"half")  # some bytes reached the disk…
        raise OSError(errno.ENOSPC, "No space left on device")  # …then it filled up

    monkeypatch.setattr(build_mod, "write_version", full)
    with pytest.raises(OSError):
        build_mod.build(rb)
    assert _snapshot(rb) == before
    assert not list(rb.build_dir.glob(".tmp-*"))


@pytest.mark.parametrize("content", [b"\x00\x01\x02binary\xff" * 100, b"", b"id;name\n\xff\xfe"])
def test_bad_input_file_leaves_current_intact(rb, tmp_path, content):
    before = _snapshot(rb)
    bad = tmp_path / "bad.csv"
    bad.write_bytes(content)
    proc = _cli(rb, "--entities", str(bad))
    out, err = proc.communicate(timeout=120)
    assert proc.returncode != 0
    assert "Traceback" not in err, err[-2000:]
    assert "bad.csv" in err, err  # the message names the file
    assert _snapshot(rb) == before
    _assert_served(rb, before[0])


def test_missing_input_file(rb, tmp_path):
    before = _snapshot(rb)
    proc = _cli(rb, "--entities", str(tmp_path / "nie_ma.csv"))
    out, err = proc.communicate(timeout=120)
    assert proc.returncode != 0 and "Traceback" not in err, err[-2000:]
    assert _snapshot(rb) == before


def test_two_builds_at_once_one_is_locked_out(rb):
    from geoes.dataset.build import BuildLocked, build, build_lock

    before = _snapshot(rb)
    with build_lock(rb):
        proc = _cli(rb)
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 2, (out, err)
        assert "blokada" in err and "Traceback" not in err
        with pytest.raises(BuildLocked):
            build(rb)
    assert _snapshot(rb) == before
    # Two real builds started together: both succeed or exactly one is locked out; current is complete.
    procs = [_cli(rb), _cli(rb)]
    codes = [p.communicate(timeout=180) and p.returncode for p in procs]
    assert sorted(codes) in ([0, 0], [0, 2]), codes
    version, files = _snapshot(rb)
    assert version != before[0] and {"geoes.gpkg", "indicators.json", "rejects.csv"} <= set(files)
    _assert_served(rb, version)


def _append_entity(settings, i: int) -> None:
    with open(settings.entities_path, "a", encoding="utf-8") as fh:
        fh.write(f"test-rb-{i},TEST przebudowa {i},kis,unknown,,,,,Kielce,,,50.87,20.63,locality,,,,,,active,,,,,,\n")


def test_new_version_without_restart_and_etag_follows(rb):
    from geoes.dataset.build import build
    from geoes.web import create_app

    app = create_app({"TESTING": True, "GEOES_DATA_DIR": str(rb.data_dir), "GEOES_REGION": "26"})
    served_data(app).check_interval = 0
    c = app.test_client()
    urls = ["/api/entities.geojson", "/api/powiaty.geojson?powiat=2661", "/ogc/collections/entities/items?limit=5",
            "/api/indicators", "/api/entities.geojson?format=csv"]
    first = {u: c.get(u) for u in urls}
    v1 = os.readlink(rb.build_dir / "current")
    for u, r in first.items():
        assert r.status_code == 200 and v1 in r.headers["ETag"], (u, r.headers.get("ETag"))
        assert c.get(u, headers={"If-None-Match": r.headers["ETag"]}).status_code == 304
    _append_entity(rb, 1)
    v2 = build(rb).version
    for u, r in first.items():
        again = c.get(u, headers={"If-None-Match": r.headers["ETag"]})
        assert again.status_code == 200, u
        assert v2 in again.headers["ETag"] and v1 not in again.headers["ETag"], u
    assert c.get("/healthz").get_json()["version"] == v2


def test_readers_never_see_a_mix_during_switches(rb):
    """Threads hammer the API and /healthz while builds with different entity counts switch."""
    from geoes.dataset.build import build
    from geoes.web import create_app

    app = create_app({"TESTING": True, "GEOES_DATA_DIR": str(rb.data_dir), "GEOES_REGION": "26"})
    served_data(app).check_interval = 0
    expected: dict[str, int] = {}  # version -> entities placed in the region (sum over powiaty)

    def total_of(version: str) -> int:
        from geoes.dataset.reader import load_dataset

        return int(load_dataset(rb.build_dir / version).powiaty["entities"].sum())

    v0 = os.readlink(rb.build_dir / "current")
    expected[v0] = total_of(v0)
    stop = threading.Event()
    problems: list[str] = []
    seen: set[str] = set()
    lock = threading.Lock()

    def reader(kind: int):
        c = app.test_client()
        n = 0
        while not stop.is_set() and n < 5000:
            n += 1
            if kind == 0:
                r = c.get("/api/powiaty.geojson")
                if r.status_code != 200:
                    problems.append(f"status {r.status_code}")
                    continue
                doc = json.loads(r.data)
                v_head, v_body = r.headers["X-Dataset-Version"], doc["version"]
                total = sum(f["properties"]["entities"] for f in doc["features"])
                with lock:
                    seen.add(v_body)
                    want = expected.get(v_body)
                if v_head != v_body or v_body not in r.headers["ETag"]:
                    problems.append(f"header {v_head} / ETag {r.headers['ETag']} / body {v_body}")
                if want is not None and total != want:
                    problems.append(f"{v_body}: body counts {total} entities, version has {want}")
            elif kind == 1:
                r = c.get("/ogc/collections/entities/items?limit=1")
                if r.status_code != 200:
                    problems.append(f"ogc status {r.status_code}")
                    continue
                doc = json.loads(r.data)
                v = r.headers["ETag"].split('"')[1]
                with lock:
                    want = expected_entities.get(v)
                if want is not None and doc["numberMatched"] != want:
                    problems.append(f"ogc {v}: numberMatched {doc['numberMatched']}, version has {want}")
            else:
                r = c.get("/healthz")
                if r.status_code != 200 or r.get_json()["status"] != "ok":
                    problems.append(f"healthz {r.status_code}")

    from geoes.dataset.reader import load_dataset

    expected_entities = {v0: len(load_dataset(rb.build_dir / v0).entities)}
    threads = [threading.Thread(target=reader, args=(k % 3,)) for k in range(6)]
    for t in threads:
        t.start()
    try:
        for i in range(4):
            _append_entity(rb, 100 + i)
            result = build(rb)
            with lock:
                expected[result.version] = total_of(result.version)
                expected_entities[result.version] = result.entities
            time.sleep(0.2)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=60)
    assert not problems, problems[:10]
    assert len(seen) >= 2, seen  # the readers did see the switches


def test_one_request_sees_one_version_even_if_the_link_switches(rb):
    """The served data pins the dataset per request: a switch in the middle of a response cannot mix versions."""
    from geoes.dataset.build import build, switch_current
    from geoes.web import create_app

    v1 = os.readlink(rb.build_dir / "current")
    v2 = build(rb).version
    switch_current(rb, v1)
    app = create_app({"TESTING": True, "GEOES_DATA_DIR": str(rb.data_dir), "GEOES_REGION": "26"})
    served = served_data(app)
    served.check_interval = 0
    seen = []

    @app.get("/_test_two_reads")
    def two_reads():
        seen.append(served.current().version)
        switch_current(rb, v2)  # a build switches while this response is being made
        seen.append(served.current().version)
        seen.append(served.cached(("t",), lambda ds: ds.version))
        return "ok"

    assert app.test_client().get("/_test_two_reads").status_code == 200
    assert seen == [v1, v1, v1]
    assert app.test_client().get("/healthz").get_json()["version"] == v2
