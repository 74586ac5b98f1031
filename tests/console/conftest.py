"""Fixtures of the console tests: a private, built copy of the test data dir and its console store."""
from __future__ import annotations

import pytest


@pytest.fixture()
def cs_settings(tmp_path, register_before_supplement):
    from conftest import clone_settings

    (tmp_path / "data").mkdir()
    return clone_settings(register_before_supplement, tmp_path / "data", with_build=True)


@pytest.fixture()
def conn(cs_settings):
    from geoes.console.db import connect

    c = connect(cs_settings)
    yield c
    c.close()
