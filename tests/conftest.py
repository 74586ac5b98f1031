"""Shared fixtures: a data directory fetched from the mirror and built, the Flask app and clients.

Tests never touch the developer's ./data: each session fetches the mirror (../shared/data, or
GEOES_MIRROR) into a temporary directory and builds from the committed data/entities.csv. A check at the
end of the session holds every test to that: the checkout's `git status`, the version `data/build/current`
names, the versions under data/build and the files under data/review and data/mappings must be as they
were when the session started (a test run in a checkout whose server is running changes nothing it serves).
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from geoes.config import REPO_DIR, Settings

MIRROR = Path(os.environ.get("GEOES_MIRROR", REPO_DIR.parent / "shared" / "data"))


def _mirror() -> Path:
    if not (MIRROR / "boundaries").is_dir():
        pytest.fail(f"no data mirror at {MIRROR}: set GEOES_MIRROR to a directory laid out like ../shared/data")
    return MIRROR


@pytest.fixture(scope="session")
def mirror_dir() -> Path:
    return _mirror()


@pytest.fixture(scope="session")
def fetched_settings(tmp_path_factory, mirror_dir) -> Settings:
    """Region 26 fetched from the mirror into a temporary data dir (no entities, no build)."""
    from geoes.sources.fetch import fetch

    settings = Settings(region="26", data_dir=tmp_path_factory.mktemp("data"))
    fetch(settings, mirror=mirror_dir)
    return settings


@pytest.fixture(scope="session")
def built_settings(tmp_path_factory, fetched_settings) -> Settings:
    """Fetched data plus the project's real entities, built once per test session."""
    from geoes.dataset.build import build

    data_dir = tmp_path_factory.mktemp("built")
    for name in ("boundaries", "population", "gazetteer", "official", "needs"):
        shutil.copytree(fetched_settings.data_dir / name, data_dir / name)
    shutil.copy(REPO_DIR / "data" / "entities.csv", data_dir / "entities.csv")
    settings = Settings(region="26", data_dir=data_dir)
    build(settings)
    return settings


def kill_while_building(proc: subprocess.Popen, build_dir: Path, *, settle: float = 0.0,
                        deadline_s: float = 120) -> bool:
    """SIGKILL `proc` (a build or a publish) once its hidden `.tmp-*` version directory has files in it
    (after `settle` more seconds); whether it was still running then. The process is always reaped."""
    deadline = time.monotonic() + deadline_s
    killed_while_writing = False
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            tmp = list(build_dir.glob(".tmp-*"))
            if tmp and any(tmp[0].iterdir()):
                time.sleep(settle)
                killed_while_writing = proc.poll() is None
                proc.send_signal(signal.SIGKILL)
                break
            time.sleep(0.01)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=60)
    return killed_while_writing


def clone_settings(source: Settings, target: Path, with_build: bool = False) -> Settings:
    """A private copy of a data dir for tests that modify it."""
    for name in ("boundaries", "population", "gazetteer", "official", "needs"):
        if (source.data_dir / name).exists():
            shutil.copytree(source.data_dir / name, target / name)
    if (source.data_dir / "entities.csv").exists():
        shutil.copy(source.data_dir / "entities.csv", target / "entities.csv")
    if with_build and (source.build_dir).exists():
        shutil.copytree(source.build_dir, target / "build", symlinks=True)
    return Settings(region=source.region, data_dir=target)


@pytest.fixture(scope="session")
def register_before_supplement(tmp_path_factory, built_settings) -> Settings:
    """The test data built from the register as it was before the supplement's entities (ids swk-n…)
    came in through the importer: the console's tests upload those real entities as new ones."""
    import pandas as pd

    from geoes.dataset.build import build

    settings = clone_settings(built_settings, tmp_path_factory.mktemp("before_supplement"))
    frame = pd.read_csv(settings.entities_path, dtype=str, keep_default_na=False)
    frame[~frame["id"].str.startswith("swk-n")].to_csv(settings.entities_path, index=False, lineterminator="\n")
    build(settings)
    return settings


@pytest.fixture(scope="session")
def app(built_settings):
    from geoes.web import create_app

    app = create_app({"TESTING": True, "GEOES_DATA_DIR": str(built_settings.data_dir), "GEOES_REGION": "26"})
    return app


@pytest.fixture()
def client(app):
    return app.test_client()


@pytest.fixture()
def runner(built_settings):
    """Run `python -m geoes` commands in-process against the built test data dir."""
    from click.testing import CliRunner

    from geoes.cli import main

    class Runner:
        def invoke(self, *args, settings: Settings | None = None):
            s = settings or built_settings
            return CliRunner().invoke(main, ["--data-dir", str(s.data_dir), "--region", s.region, *args],
                                      catch_exceptions=False)

    return Runner()


CHECKOUT_DATA = REPO_DIR / "data"
WATCHED_DIRS = ("review", "mappings")     # git-ignored state the commands write: proposals, saved mappings


def checkout_state() -> dict:
    """What a test must not change in the checkout: git status, the served version, the kept versions and the
    ignored files the commands write."""
    try:
        status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=REPO_DIR,
                                capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        status = "(git unavailable)"
    build = CHECKOUT_DATA / "build"
    current = build / "current"
    state = {"git status": status, "data/build/current": os.readlink(current) if current.is_symlink() else None,
             "data/build": sorted(p.name for p in build.iterdir()) if build.is_dir() else []}
    for name in WATCHED_DIRS:
        folder = CHECKOUT_DATA / name
        state[f"data/{name}"] = sorted((str(p.relative_to(folder)), p.stat().st_size, p.stat().st_mtime_ns)
                                       for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else []
    return state


def pytest_sessionstart(session):
    session.config._checkout_before = checkout_state()


def pytest_sessionfinish(session, exitstatus):
    before = getattr(session.config, "_checkout_before", None)
    if before is None:
        return
    after = checkout_state()
    changed = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
    if changed:
        lines = [f"{k}:\n  before: {b!r}\n  after:  {a!r}" for k, (b, a) in changed.items()]
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        reporter.ensure_newline()
        reporter.write_line(
            "FAILED: the test run changed the checkout (tests must work in temporary data directories):\n"
            + "\n".join(lines), red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_collection_modifyitems(config, items):
    """Leave out tests that need the real internet unless asked for (`-m network` or GEOES_NETWORK_TESTS=1).

    Deselected, not skipped: they are not run offline at all, and `-m "not browser"` cannot bring them back.
    """
    if "network" in (config.getoption("markexpr") or "") or os.environ.get("GEOES_NETWORK_TESTS"):
        return
    keep = [item for item in items if item.get_closest_marker("network") is None]
    dropped = [item for item in items if item.get_closest_marker("network") is not None]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep
