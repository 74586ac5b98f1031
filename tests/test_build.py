"""Builds write a new version beside the old one and switch atomically; failures change nothing."""
import os

import pytest

from geoes.dataset import build as build_mod
from geoes.dataset.build import BuildLocked, build, build_lock, current_version
from geoes.dataset.reader import load_current
from tests.conftest import clone_settings


@pytest.fixture()
def settings(tmp_path, fetched_settings):
    from geoes.config import REPO_DIR
    import shutil

    s = clone_settings(fetched_settings, tmp_path)
    shutil.copy(REPO_DIR / "data" / "entities.csv", s.entities_path)
    return s


def test_build_outputs_and_switch(settings):
    first = build(settings)
    assert current_version(settings) == first.version
    ds = load_current(settings)
    assert len(ds.entities) == 97 and len(ds.gminy) == 102 and len(ds.powiaty) == 14
    assert ds.summary["entities_total"] == 97
    second = build(settings)
    assert second.version != first.version
    assert current_version(settings) == second.version
    assert (settings.build_dir / first.version).exists()  # the old version stays for readers in flight


def test_failed_build_leaves_current_intact(settings, monkeypatch):
    first = build(settings)
    before = sorted(p.name for p in settings.build_dir.iterdir())

    def explode(*args, **kwargs):
        raise OSError(28, "No space left on device")  # disk full, simulated mid-write

    monkeypatch.setattr(build_mod.ind.Indicators, "__init__", build_mod.ind.Indicators.__init__)
    monkeypatch.setattr(build_mod, "write_version", lambda target, *a, **k: (target.mkdir(), explode()))
    with pytest.raises(OSError):
        build(settings)
    assert current_version(settings) == first.version
    assert sorted(p.name for p in settings.build_dir.iterdir()) == before  # no half-written directory
    assert load_current(settings).version == first.version


def test_bad_entities_file_does_not_replace_current(settings, tmp_path):
    from geoes.register.record import UnreadableFile

    first = build(settings)
    bad = tmp_path / "zly.csv"
    bad.write_bytes(b"\x00\x01binary")
    with pytest.raises(UnreadableFile):
        build(settings, bad)
    assert current_version(settings) == first.version


def test_two_builds_cannot_run_at_once(settings):
    with build_lock(settings):
        with pytest.raises(BuildLocked):
            build(settings)


def test_old_versions_are_pruned(settings):
    versions = [build(settings).version for _ in range(build_mod.KEEP_VERSIONS + 2)]
    left = sorted(p.name for p in settings.build_dir.iterdir() if p.is_dir() and not p.is_symlink() and not p.name.startswith("."))
    assert left == versions[-build_mod.KEEP_VERSIONS:]
    assert os.readlink(settings.build_dir / "current") == versions[-1]


def test_rejects_file_opens_in_excel_with_polish_letters(settings, tmp_path):
    import pandas as pd

    source = pd.read_csv(settings.entities_path, dtype=str, keep_default_na=False)
    bad = source.iloc[[0]].assign(id="zly-1", name="=Źródło „Łąka”", types="warsztat")
    path = tmp_path / "entities.csv"
    pd.concat([source, bad]).to_csv(path, index=False)
    result = build(settings, path)
    data = (result.path / build_mod.REJECTS_NAME).read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    rejects = pd.read_csv(result.path / build_mod.REJECTS_NAME, dtype=str, encoding="utf-8-sig")
    row = rejects.loc[rejects["id"] == "zly-1"].iloc[0]
    assert row["column"] == "types" and row["name"] == "'=Źródło „Łąka”"
