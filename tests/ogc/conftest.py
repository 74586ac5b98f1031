"""Fixtures of the OGC API tests: an app over the real entities + synthetic test entities, and that
app served on 127.0.0.1 by gunicorn for GDAL and OWSLib."""
from __future__ import annotations

import pytest

from geoes.web.served import served_data

from .testdata import build_synthetic, live_server


@pytest.fixture(scope="session")
def geo_settings(tmp_path_factory, built_settings):
    return build_synthetic(built_settings, tmp_path_factory.mktemp("geo"))


@pytest.fixture(scope="session")
def geo_app(geo_settings):
    from geoes.web import create_app

    return create_app({"TESTING": True, "GEOES_DATA_DIR": str(geo_settings.data_dir), "GEOES_REGION": "26"})


@pytest.fixture()
def geo_client(geo_app):
    return geo_app.test_client()


@pytest.fixture(scope="session")
def geo_dataset(geo_app):
    return served_data(geo_app).current()


@pytest.fixture(scope="session")
def server_url(geo_settings, tmp_path_factory):
    """gunicorn serving the same data dir on 127.0.0.1 (a separate process)."""
    with live_server(geo_settings, log_dir=tmp_path_factory.mktemp("gunicorn")) as url:
        yield url
