"""Several instances on one PostgreSQL database (GEOES_DATABASE_URL): an instance with an empty data directory
serves what the builder built, a publish through one console reaches the other within seconds, a session
and the throttles are shared, the publish lock holds across instances, and a killed instance costs the
other nothing."""
from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

import pytest
from click.testing import CliRunner

from geoes.cli import main as cli_main
from geoes.config import REPO_DIR
from conftest import clone_settings
from geoes.console import publish
from geoes.dataset.build import build
from geoes.web import create_app
from geoes.web.served import served_data

from db.conftest import database_settings, pgtemp

pytestmark = pytest.mark.usefixtures("pg_server")


def _helpers():
    from console.helpers import register_rows, xlsx_bytes
    from web.admin_helpers import PASSWORD, page_token, sign_in, token
    return register_rows, xlsx_bytes, PASSWORD, page_token, sign_in, token


def _init(settings) -> None:
    """`python -m geoes db init` on the builder: schema, region files, register, first version."""
    env = {"GEOES_DATABASE_URL": settings.database_url, "GEOES_DATA_DIR": str(settings.data_dir)}
    result = CliRunner().invoke(cli_main, ["db", "init"], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "Opublikowana wersja danych" in result.output


def _app(settings, **config):
    return create_app({"TESTING": True, "GEOES_DATA_DIR": str(settings.data_dir), "GEOES_REGION": "26",
                       "GEOES_DATABASE_URL": settings.database_url, **config})


@pytest.fixture()
def two(tmp_path, built_settings, pg_url):
    """Instance A (the builder, with the region's files) and instance B (an empty data directory)."""
    a = database_settings(built_settings, tmp_path / "a", pg_url, with_data=True)
    b = database_settings(built_settings, tmp_path / "b", pg_url, with_data=False)
    _init(a)
    return a, b


def _add_operator(settings, login="anna"):
    from geoes.console import accounts
    from geoes.console.db import connect

    _, _, password, *_ = _helpers()
    conn = connect(settings)
    try:
        accounts.add_user(conn, login, password)
    finally:
        conn.close()


def test_an_instance_with_an_empty_data_dir_serves_the_builders_version_and_entities(two):
    a, b = two
    assert not any(b.data_dir.iterdir())
    app_a, app_b = _app(a), _app(b)
    ca, cb = app_a.test_client(), app_b.test_client()
    health_a, health_b = ca.get("/healthz").get_json(), cb.get("/healthz").get_json()
    built = len(served_data(app_a).current().entities)
    assert health_b["version"] == health_a["version"] and health_b["entities"] == health_a["entities"] == built
    for url in ("/api/entities.geojson", "/api/gminy.geojson", "/api/powiaty.geojson", "/api/indicators?level=powiat",
                "/ogc/collections/entities/items?limit=1000", "/api/entities.geojson?view=map", "/entities/swk-001",
                "/powiaty/2602", "/trendy"):
        ra, rb = ca.get(url), cb.get(url)
        assert ra.status_code == rb.status_code == 200, url
        if "json" in ra.content_type:
            assert ra.get_json() == rb.get_json(), url
    # The same features as the embedded default serves from its GeoPackage (only the version differs).
    (a.data_dir.parent / "file").mkdir()
    build(clone_settings(a, a.data_dir.parent / "file"))
    file_app = create_app({"TESTING": True, "GEOES_DATA_DIR": str(a.data_dir.parent / "file"), "GEOES_DATABASE_URL": ""})
    features = file_app.test_client().get("/api/entities.geojson").get_json()["features"]
    assert features == cb.get("/api/entities.geojson").get_json()["features"]
    # Nothing but caches was written on B: no register, no build, no console store.
    assert {p.name for p in b.data_dir.iterdir()} <= {"cache"}


def test_the_layers_are_postgis_tables_with_spatial_indexes(two):
    import psycopg

    a, _ = two
    with psycopg.connect(a.database_url) as conn:
        version = conn.execute("SELECT version FROM dataset_current").fetchone()[0]
        areas = {"POLYGON", "MULTIPOLYGON"}
        for layer, kinds in (("entities", {"POINT"}), ("gminy", areas), ("powiaty", areas)):
            table = f'geoes_layers."{version}_{layer}"'
            types = {r[0] for r in conn.execute(f"SELECT DISTINCT GeometryType(geometry) FROM {table} "
                                                "WHERE geometry IS NOT NULL")}
            srid = conn.execute(f"SELECT DISTINCT ST_SRID(geometry) FROM {table} WHERE geometry IS NOT NULL").fetchall()
            assert types and types <= kinds and srid == [(4326,)], layer
            index = conn.execute("SELECT indexdef FROM pg_indexes WHERE schemaname = 'geoes_layers' AND tablename = %s "
                                 "AND indexdef LIKE '%%USING gist%%'", (f"{version}_{layer}",)).fetchall()
            assert index, f"{layer}: no GiST index"
        # A spatial join a GIS user would run in the database places every point in the gmina the build did.
        joined = conn.execute(f'SELECT e.id, g.teryt FROM geoes_layers."{version}_entities" e JOIN '
                              f'geoes_layers."{version}_gminy" g ON ST_Intersects(e.geometry, g.geometry)').fetchall()
        built = conn.execute(f'SELECT id, gmina_teryt_computed FROM geoes_layers."{version}_entities" '
                             "WHERE gmina_teryt_computed <> ''").fetchall()
        assert sorted(joined) == sorted(built) and len(built) > 50


def test_a_publish_through_A_is_served_by_B_within_10_seconds(two):
    register_rows, xlsx_bytes, _pw, page_token, sign_in, token = _helpers()
    a, b = two
    _add_operator(a)
    app_a, app_b = _app(a), _app(b)
    cb = app_b.test_client()
    before = cb.get("/healthz").get_json()["version"]
    ca = app_a.test_client()
    assert sign_in(ca).status_code == 302
    from web.admin_helpers import follow_job

    r = follow_job(ca, ca.post("/admin/upload", data={"csrf_token": page_token(ca), "file": (io.BytesIO(
        xlsx_bytes(register_rows("swk-n005"))), "rejestr.xlsx")}, content_type="multipart/form-data"))
    assert r.status_code == 302, r.get_data(as_text=True)[:500]
    cs_url = r.headers["Location"]
    r = ca.post(cs_url + "/publish", data={"csrf_token": token(ca.get(cs_url).get_data(as_text=True))})
    assert r.status_code == 302, r.get_data(as_text=True)[:800]
    published_at = time.monotonic()
    new = r.headers["Location"].rsplit("/", 1)[1]
    assert new != before
    while cb.get("/healthz").get_json()["version"] != new:
        assert time.monotonic() - published_at < 10, "B did not serve the new version within 10 s"
        time.sleep(0.2)
    names = {f["properties"]["name"] for f in cb.get("/api/entities.geojson").get_json()["features"]}
    from console.helpers import supplement

    assert supplement("swk-n005")[0]["nazwa"] in names
    # The register is the database's: B's console lists the published entity.
    _add_operator(b, "ewa")
    cb2 = app_b.test_client()
    assert sign_in(cb2, login="ewa").status_code == 302
    name = supplement("swk-n005")[0]["nazwa"]
    page = cb2.get("/admin/entities?q=" + name.split()[0]).get_data(as_text=True)
    assert name.replace('"', "&#34;") in page or name in page


def test_a_console_session_signed_in_on_A_is_valid_on_B(two):
    *_, sign_in, _token = _helpers()
    a, b = two
    _add_operator(a)
    ca, cb = _app(a).test_client(), _app(b).test_client()
    assert cb.get("/admin/").status_code == 302   # B: not signed in
    assert sign_in(ca).status_code == 302
    cookie = ca.get_cookie("geoes_session")
    cb.set_cookie(cookie.key, cookie.value, domain=cookie.domain or "localhost")
    r = cb.get("/admin/")
    assert r.status_code == 200 and "anna" in r.get_data(as_text=True)


def test_signing_out_on_B_ends_the_session_on_A(two):
    """The server-side session is a row of the shared database: one sign-out ends it on every instance."""
    *_, page_token, sign_in, _token = _helpers()
    a, b = two
    _add_operator(a)
    ca, cb = _app(a).test_client(), _app(b).test_client()
    assert sign_in(ca).status_code == 302
    cookie = ca.get_cookie("geoes_session")
    cb.set_cookie(cookie.key, cookie.value, domain=cookie.domain or "localhost")
    assert cb.post("/admin/logout", data={"csrf_token": page_token(cb)}).status_code == 302
    r = ca.get("/admin/")
    assert r.status_code == 302 and r.headers["Location"].startswith("/admin/login")


def test_wrong_passwords_alternating_between_A_and_B_are_throttled(two):
    *_, sign_in, _token = _helpers()
    a, b = two
    _add_operator(a)
    config = {"GEOES_LOGIN_MAX_FAILURES": "4"}
    clients = [_app(a, **config).test_client(), _app(b, **config).test_client()]
    for n in range(4):
        r = sign_in(clients[n % 2], password="zle-haslo-12345")
        assert r.status_code == 200 and "Nieprawidłowa" in r.get_data(as_text=True)
    for client in clients:   # the fifth attempt, on either instance, even with the right password
        r = sign_in(client)
        assert r.status_code == 429 and "Zbyt wiele nieudanych prób" in r.get_data(as_text=True)
        assert int(r.headers["Retry-After"]) > 0


def test_public_report_limits_count_across_instances(two):
    a, b = two
    config = {"GEOES_REPORT_MAX_PER_WINDOW": "2"}
    clients = [_app(a, **config).test_client(), _app(b, **config).test_client()]

    def send(client):
        from web.admin_helpers import token

        t = token(client.get("/zglos/swk-001").get_data(as_text=True))
        return client.post("/zglos/swk-001", data={"csrf_token": t, "opis": "Zmienił się numer telefonu."})

    assert send(clients[0]).status_code == 303
    assert send(clients[1]).status_code == 303
    r = send(clients[0])
    assert r.status_code == 429 and "zbyt wiele zgłoszeń" in r.get_data(as_text=True)
    from geoes.console import queue
    from geoes.console.db import connect

    conn = connect(b)
    try:
        assert queue.counts(conn)["pending"] == 2     # both reports wait in the one queue
    finally:
        conn.close()


def test_two_operators_on_two_instances_get_the_same_409(two):
    register_rows, xlsx_bytes, _pw, page_token, sign_in, token = _helpers()
    a, b = two
    _add_operator(a, "ewa")
    cb = _app(b).test_client()
    assert sign_in(cb, login="ewa").status_code == 302
    from web.admin_helpers import follow_job

    r = follow_job(cb, cb.post("/admin/upload", data={"csrf_token": page_token(cb), "file": (io.BytesIO(
        xlsx_bytes(register_rows("swk-n005"))), "rejestr.xlsx")}, content_type="multipart/form-data"))
    cs_url = r.headers["Location"]
    version = cb.get("/healthz").get_json()["version"]
    with publish.publish_lock(a, "anna"):   # instance A is publishing
        r = cb.post(cs_url + "/publish", data={"csrf_token": token(cb.get(cs_url).get_data(as_text=True))})
        assert r.status_code == 409 and "Trwa publikacja (anna, od" in r.get_data(as_text=True)
    assert cb.get("/healthz").get_json()["version"] == version
    r = cb.post(cs_url + "/publish", data={"csrf_token": token(cb.get(cs_url).get_data(as_text=True))})
    assert r.status_code == 302   # the lock is free again


def _gunicorn(settings, port: int, log):
    env = {**os.environ, "GEOES_DATA_DIR": str(settings.data_dir), "GEOES_DATABASE_URL": settings.database_url,
           "GEOES_WORKERS": "1", "GEOES_THREADS": "2", "GEOES_WARM_UP": "0", "GEOES_LOG_LEVEL": "warning"}
    return subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", str(REPO_DIR / "gunicorn.conf.py"), "--bind",
                             f"127.0.0.1:{port}", "app:app"], cwd=REPO_DIR, env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)


def _get(url: str, timeout: float = 5.0):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, r.read()


def _wait_up(url: str, proc) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, "gunicorn exited"
        try:
            if _get(url + "/healthz")[0] == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not come up")


def test_with_instance_A_killed_B_keeps_answering(two, tmp_path):
    a, b = two
    ports = [pgtemp.free_port(), pgtemp.free_port()]
    with open(tmp_path / "gunicorn.log", "wb") as log:
        procs = [_gunicorn(a, ports[0], log), _gunicorn(b, ports[1], log)]
    try:
        urls = [f"http://127.0.0.1:{p}" for p in ports]
        for url, proc in zip(urls, procs):
            _wait_up(url, proc)
        bodies = [_get(url + "/api/entities.geojson")[1] for url in urls]
        assert json.loads(bodies[0])["features"] == json.loads(bodies[1])["features"]
        os.killpg(procs[0].pid, signal.SIGKILL)   # the master and its workers, without a goodbye
        procs[0].wait(timeout=10)
        with pytest.raises(OSError):
            _get(urls[0] + "/healthz", timeout=2)
        for path in ("/healthz", "/api/entities.geojson", "/powiaty/2602", "/ogc/collections/gminy/items"):
            status, _ = _get(urls[1] + path)
            assert status == 200, path
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=20)
