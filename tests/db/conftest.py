"""A throw-away PostgreSQL + PostGIS server for the session (scripts/pgtemp.py: Debian's binaries, run as an
unprivileged user when the tests run as root, loopback only), and a fresh database per test made from a
template that already has PostGIS."""
from __future__ import annotations

import importlib.util
import itertools
import shutil

import psycopg
import pytest

from geoes.config import REPO_DIR, Settings

_spec = importlib.util.spec_from_file_location("pgtemp", REPO_DIR / "scripts" / "pgtemp.py")
pgtemp = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(pgtemp)

TEMPLATE = "geoes_template"
_names = itertools.count(1)


@pytest.fixture(scope="session")
def pg_server():
    if not pgtemp.postgis_available():
        pytest.fail("PostgreSQL 15 with PostGIS is missing: scripts/setup.sh installs postgresql-15 "
                    "postgresql-15-postgis-3")
    server = pgtemp.TempPostgres()   # under /tmp: run as `nobody`, it cannot reach pytest's 0700 directories
    try:
        url = server.start()
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {TEMPLATE} TEMPLATE {pgtemp.DATABASE}")
        yield server
    finally:
        server.remove()


@pytest.fixture()
def pg_url(pg_server):
    """A new, empty database (PostGIS and citext installed) for one test."""
    name = f"geoes_test_{next(_names)}"
    admin = pg_server.url
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
    yield admin.rsplit("/", 1)[0] + "/" + name


def database_settings(built_settings: Settings, data_dir, url: str, with_data: bool) -> Settings:
    """Settings of an instance on database `url`: with a copy of the fetched region files (the builder) or
    with an empty data directory."""
    data_dir.mkdir(parents=True, exist_ok=True)
    if with_data:
        for name in ("boundaries", "population", "gazetteer", "official", "needs"):
            if (built_settings.data_dir / name).exists():
                shutil.copytree(built_settings.data_dir / name, data_dir / name)
        shutil.copy(built_settings.entities_path, data_dir / "entities.csv")
    return Settings(region="26", data_dir=data_dir, database_url=url)
