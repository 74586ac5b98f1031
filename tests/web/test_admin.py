"""The operator console over HTTP: refused to everyone else, CSRF on every form, throttled sign-in,
bad files refused in Polish with nothing published, hostile text shown as text everywhere."""
from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import time

import pytest

from geoes.console import changes, publish
from geoes.console.db import connect

from .admin_helpers import PASSWORD, follow_job, make_admin_app, page_token, sign_in, token

HOSTILE = "<script>window.__pwned=1</script><img src=x onerror=alert(1)>"


@pytest.fixture()
def env(tmp_path, register_before_supplement):
    return make_admin_app(register_before_supplement, tmp_path / "data")


def _helpers():
    from console.helpers import csv_bytes, register_rows, supplement, xlsx_bomb, xlsx_bytes

    return csv_bytes, register_rows, supplement, xlsx_bomb, xlsx_bytes


def _state(settings) -> dict:
    """Everything an action could change: the register, the served version, the console's store."""
    conn = connect(settings)
    try:
        tables = {t: conn.execute(f"SELECT COUNT(*), COALESCE(MAX(rowid), 0) FROM {t}").fetchone()[:]
                  for t in ("users", "audit", "changesets", "changeset_files", "mappings", "queue", "versions")}
        states = conn.execute("SELECT group_concat(id || state) FROM changesets").fetchone()[0]
    finally:
        conn.close()
    return {"register": hashlib.sha256(settings.entities_path.read_bytes()).hexdigest(),
            "served": os.readlink(settings.build_dir / "current"), "tables": tables, "states": states}


def _upload(client, data: bytes, name: str, **kw):
    """Upload through the form and follow the background job to the change set (or to its failure)."""
    return follow_job(client, client.post("/admin/upload", data={"csrf_token": page_token(client),
                                                                 "file": (io.BytesIO(data), name)},
                                          content_type="multipart/form-data", **kw))


def _url_args(rule, settings, cs_id):
    values = {"cs_id": cs_id, "row": 2, "item_id": 1, "entity_id": "swk-001", "job_id": 1, 
              "version": os.readlink(settings.build_dir / "current")}
    return {a: values[a] for a in rule.arguments}


def test_every_admin_page_and_action_is_refused_to_anonymous_users(env):
    app, settings = env
    _csv, register_rows, _s, _b, xlsx_bytes = _helpers()
    conn = connect(settings)
    cs = changes.create_upload(conn, settings, "anna", "r.xlsx", xlsx_bytes(register_rows("swk-n005")))
    conn.close()
    before = _state(settings)
    client = app.test_client()
    anonymous_token = token(client.get("/admin/login").get_data(as_text=True))
    rules = [r for r in app.url_map.iter_rules() if r.rule.startswith("/admin")]
    assert len(rules) >= 20
    checked = 0
    for rule in rules:
        with app.test_request_context():
            from flask import url_for

            url = url_for(rule.endpoint, **_url_args(rule, settings, cs.id))
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if rule.endpoint == "admin.login":
                continue
            if method == "GET":
                r = client.get(url)
                assert r.status_code == 302 and r.headers["Location"].startswith("/admin/login"), (url, r.status_code)
            else:
                # With a valid (anonymous) CSRF token the sign-in gate refuses; without one, CSRF does.
                r = client.open(url, method=method, data={"csrf_token": anonymous_token, "decision": "accept",
                                                          "name": "x", "types": "wtz"})
                assert r.status_code == 403 and "Zaloguj się" in r.get_data(as_text=True), (url, r.status_code)
                r = client.open(url, method=method, data={"name": "x"})
                assert r.status_code == 400, (url, r.status_code)
            checked += 1
    assert checked >= 22
    assert _state(settings) == before
    # Signing in with a wrong password is refused too, and changes nothing but the attempt counter.
    r = client.post("/admin/login", data={"login": "anna", "password": "zle", "csrf_token": anonymous_token})
    assert "Nieprawidłowa nazwa użytkownika lub hasło" in r.get_data(as_text=True)
    assert client.get("/admin/").status_code == 302


def test_a_post_without_a_valid_csrf_token_is_refused_even_when_signed_in(env):
    app, settings = env
    _csv, register_rows, _s, _b, xlsx_bytes = _helpers()
    client = app.test_client()
    assert sign_in(client).status_code == 302
    r = _upload(client, xlsx_bytes(register_rows("swk-n005")), "r.xlsx")
    cs_url = r.headers["Location"]
    cs_id = int(cs_url.rsplit("/", 1)[1])
    other = app.test_client()
    sign_in(other)
    foreign = page_token(other)  # a real token, but of another session
    before = _state(settings)
    for data in ({}, {"csrf_token": "nieprawidlowy"}, {"csrf_token": foreign}):
        r = client.post(f"/admin/changes/{cs_id}/publish", data=data)
        assert r.status_code == 400 and "CSRF" in r.get_data(as_text=True)
        r = client.post("/admin/logout", data=data)
        assert r.status_code == 400
    assert _state(settings) == before
    # The page's own token works.
    r = client.post(f"/admin/changes/{cs_id}/publish", data={"csrf_token": token(client.get(cs_url).get_data(as_text=True))})
    assert r.status_code == 302 and _state(settings)["served"] != before["served"]


def test_sign_in_is_throttled_with_a_polish_message(env):
    app, settings = env
    client = app.test_client()
    for _ in range(settings.login_max_failures):
        r = sign_in(client, password="zle-haslo-123")
        assert r.status_code == 200 and "Nieprawidłowa" in r.get_data(as_text=True)
    r = sign_in(client)  # the right password, too late
    body = r.get_data(as_text=True)
    assert r.status_code == 429 and "Zbyt wiele nieudanych prób logowania" in body
    assert 0 < int(r.headers["Retry-After"]) <= settings.login_window_minutes * 60
    assert client.get("/admin/").status_code == 302


def _cookie(response) -> str:
    return next(v for k, v in response.headers.items() if k == "Set-Cookie" and v.startswith("geoes_session="))


def test_session_cookie_is_httponly_samesite_and_secure_over_https(env, register_before_supplement, tmp_path):
    app, _settings = env
    plain = _cookie(sign_in(app.test_client()))
    assert "HttpOnly" in plain and "SameSite=Lax" in plain and "Secure" not in plain
    secure = _cookie(sign_in(app.test_client(), base_url="https://localhost"))
    assert "Secure" in secure
    # X-Forwarded-Proto is not believed unless a trusted proxy is configured…
    client = app.test_client()
    forwarded = _cookie(sign_in(client, headers={"X-Forwarded-Proto": "https"}))
    assert "Secure" not in forwarded
    # …and is, behind GEOES_PROXY_COUNT=1.
    proxied, _ = make_admin_app(register_before_supplement, tmp_path / "proxied", GEOES_PROXY_COUNT=1)
    assert "Secure" in _cookie(sign_in(proxied.test_client(), headers={"X-Forwarded-Proto": "https"}))
    forced, _ = make_admin_app(register_before_supplement, tmp_path / "forced", GEOES_SECURE_COOKIES="1")
    assert "Secure" in _cookie(sign_in(forced.test_client()))


def test_idle_sessions_expire_and_removed_operators_are_signed_out(env):
    app, settings = env
    client = app.test_client()
    sign_in(client)
    assert client.get("/admin/").status_code == 200
    conn = connect(settings)
    conn.execute("UPDATE sessions SET seen_at = ?", (time.time() - settings.session_idle_minutes * 60 - 5,))
    conn.close()
    r = client.get("/admin/")
    assert r.status_code == 302 and "/admin/login" in r.headers["Location"]
    assert "Sesja wygasła" in client.get(r.headers["Location"]).get_data(as_text=True)
    sign_in(client)
    from geoes.console.accounts import remove_user

    conn = connect(settings)
    remove_user(conn, "anna")
    conn.close()
    assert client.get("/admin/").status_code == 302


def test_bad_files_get_a_polish_message_and_nothing_is_staged_or_published(env):
    app, settings = env
    csv_bytes, register_rows, _s, xlsx_bomb, xlsx_bytes = _helpers()
    client = app.test_client()
    sign_in(client)
    before = _state(settings)
    public = client.get("/api/entities.geojson").get_data()
    cases = [
        (xlsx_bomb(300 * 1024 * 1024), "rejestr.xlsx", "po rozpakowaniu"),
        (b"\x89PNG\r\n\x1a\n" + os.urandom(4000), "rejestr.xlsx", "nie jest skoroszytem Excela"),
        (b"Nazwa;Typ\r\n" + b"a;b\r\n" * 1_000_000, "milion.csv", "więcej niż 100000 wierszy danych"),
        (xlsx_bytes(register_rows("swk-n005")), "rejestr.csv", "archiwum ZIP"),
    ]
    for data, name, words in cases:
        r = _upload(client, data, name)
        body = r.get_data(as_text=True)
        assert r.status_code == 422, (name, r.status_code)
        assert words in body and "Nic nie zostało wczytane ani opublikowane" in body, name
        assert '<html lang="pl">' in body
    r = _upload(client, b"x" * (settings.max_upload_bytes + 100 * 1024), "duzy.csv")
    assert r.status_code == 413 and "Plik jest za duży" in r.get_data(as_text=True)
    assert _state(settings) == before
    # The public site kept serving the same data throughout.
    assert client.get("/api/entities.geojson").get_data() == public
    assert client.get("/").status_code == 200


def test_the_larger_body_limit_is_for_signed_in_uploads_only(env):
    app, settings = env
    client = app.test_client()
    anonymous_token = token(client.get("/admin/login").get_data(as_text=True))
    body = {"csrf_token": anonymous_token, "file": (io.BytesIO(b"x" * (2 * 1024 * 1024)), "r.csv")}
    r = client.post("/admin/upload", data=body, content_type="multipart/form-data")
    assert r.status_code == 413  # the app's own 1 MiB limit: an anonymous body is not read
    sign_in(client)
    csv_bytes, register_rows, *_ = _helpers()
    from console.helpers import HEADERS

    ids = [f"swk-n{i:03d}" for i in (1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 18, 19, 23, 24, 26, 27, 28, 29)]
    padding = "." * 110_000  # an unrecognised column that the import leaves out
    big = csv_bytes([row + [padding] for row in register_rows(*ids)], HEADERS + ["Wypełniacz XYZ"])
    assert len(big) > 2 * 1024 * 1024
    r = _upload(client, big, "r.csv")
    assert r.status_code == 302  # over 2 MB from a signed-in operator is read
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "Dodane: <strong>20\u00a0podmiotów</strong>" in page and "„Wypełniacz XYZ”" in page


def test_upload_mapping_fix_publish_restore_over_http(env):
    app, settings = env
    csv_bytes, register_rows, supplement, _b, xlsx_bytes = _helpers()
    client = app.test_client()
    sign_in(client)
    served = os.readlink(settings.build_dir / "current")
    facts = supplement("swk-n005", "swk-n025")
    # Two columns both read as the name: the mapping step asks which one.
    headers = ["Nazwa", "Nazwa podmiotu", "Typ podmiotu", "Miejscowość", "Gmina", "Źródła"]
    rows = [[f["nazwa"], f["nazwa"], f["typ"] if f["id"] == "swk-n005" else "", f["miejscowosc"], f["gmina"],
             f["zrodla"]] for f in facts]
    r = _upload(client, csv_bytes(rows, headers, sep=";", encoding="cp1250"), "rejestr_gmin.csv")
    cs_url = r.headers["Location"]
    page = client.get(cs_url).get_data(as_text=True)
    assert "Zatwierdź mapowanie" in page and "konflikt" in page
    r = follow_job(client, client.post(cs_url + "/mapping", data={
        "csrf_token": token(page), "col-0": "", "col-1": "name", "col-2": "types", "col-3": "locality",
        "col-4": "gmina", "col-5": "sources", "save": "1"}))
    assert r.status_code == 302 and r.headers["Location"] == cs_url
    page = client.get(cs_url).get_data(as_text=True)
    assert "Odrzucone wiersze" in page and "nie da się go ustalić" in page and "Popraw wiersz 3" in page
    fix = client.get(cs_url + "/rows/3").get_data(as_text=True)
    assert facts[1]["nazwa"].replace("„", "„") in fix
    r = follow_job(client, client.post(cs_url + "/rows/3", data={"csrf_token": token(fix), "types": "inne"}))
    assert r.status_code == 302 and r.headers["Location"].startswith(cs_url)
    page = client.get(cs_url).get_data(as_text=True)
    assert "Odrzucone wiersze" not in page and "Dodane: <strong>2\u00a0podmioty</strong>" in page
    r = client.post(cs_url + "/publish", data={"csrf_token": token(page)})
    assert r.status_code == 302 and r.headers["Location"].startswith("/admin/versions/")
    after = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "Opublikowano wersję" in after and "Dodano 2\u00a0podmioty, zmieniono 0\u00a0podmiotów, usunięto 0\u00a0podmiotów" in after
    by_type = re.sub(r"\s+", "", after)
    assert '<thscope="row">WarsztatTerapiiZajęciowej</th><td>1</td><td>0</td><td>0</td>' in by_type
    assert '<thscope="row">Innypodmiotekonomiispołecznej</th><td>1</td>' in by_type
    names = {f["properties"]["name"] for f in client.get("/api/entities.geojson").get_json()["features"]}
    assert {f["nazwa"] for f in facts} <= names
    # The same layout next time needs no mapping step (saved).
    r = _upload(client, csv_bytes(rows[:1], headers, sep=";", encoding="cp1250"), "rejestr_gmin.csv")
    assert "Zatwierdź mapowanie" not in client.get(r.headers["Location"]).get_data(as_text=True)
    # Restore the version served before.
    versions = client.get("/admin/versions").get_data(as_text=True)
    assert served in versions and "na stronie publicznej" in versions
    r = client.post(f"/admin/versions/{served}/restore", data={"csrf_token": token(versions)})
    assert r.status_code == 302
    restored = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "Przywrócono wersję" in restored and "usunięto 2\u00a0podmioty" in restored
    names = {f["properties"]["name"] for f in client.get("/api/entities.geojson").get_json()["features"]}
    assert not ({f["nazwa"] for f in facts} & names)
    audit = client.get("/admin/audit").get_data(as_text=True)
    for words in ("wczytanie pliku", "zatwierdzenie mapowania", "poprawka wiersza", "publikacja", "przywrócenie wersji"):
        assert words in audit


def test_a_second_publish_at_the_same_time_is_told_to_wait(env):
    app, settings = env
    _csv, register_rows, _s, _b, xlsx_bytes = _helpers()
    client = app.test_client()
    sign_in(client)
    cs_url = _upload(client, xlsx_bytes(register_rows("swk-n005")), "r.xlsx").headers["Location"]
    t = token(client.get(cs_url).get_data(as_text=True))
    served = os.readlink(settings.build_dir / "current")
    with publish.publish_lock(settings, "ewa"):
        r = client.post(cs_url + "/publish", data={"csrf_token": t})
    body = r.get_data(as_text=True)
    assert r.status_code == 409 and "Trwa publikacja (ewa" in body and "nie zostały opublikowane" in body
    assert os.readlink(settings.build_dir / "current") == served


def test_hostile_text_shows_as_text_in_the_console_and_on_the_public_site(env):
    app, settings = env
    csv_bytes, register_rows, supplement, _b, _x = _helpers()
    client = app.test_client()
    sign_in(client)
    fact = supplement("swk-n024")[0]
    headers = ["Nazwa podmiotu", "Typ podmiotu", "Miejscowość", "Opis", "Telefon"]
    name = fact["nazwa"] + " " + HOSTILE
    rows = [[name, fact["typ"], fact["miejscowosc"], "=HYPERLINK(\"http://zlo.example\")" + HOSTILE, "+48 41 000 00 00"],
            [HOSTILE, "", HOSTILE, "", ""]]
    cs_url = _upload(client, csv_bytes(rows, headers), "wrogi.csv").headers["Location"]
    page = client.get(cs_url).get_data(as_text=True)
    assert HOSTILE not in page and "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in page
    fix = client.get(cs_url + "/rows/3").get_data(as_text=True)
    assert HOSTILE not in fix and "&lt;img src=x onerror=alert(1)&gt;" in fix
    rejects = client.get(cs_url + "/rejects.csv")
    assert rejects.headers["Content-Type"].startswith("text/csv") and rejects.data.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(rejects.data.decode("utf-8-sig"))))
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in table for cell in row)
    mapping = client.get(cs_url + "/mapping").get_data(as_text=True)
    assert HOSTILE not in mapping
    r = client.post(cs_url + "/publish", data={"csrf_token": token(page)})
    entity_id = json.loads(json.dumps(changes.read_register(settings).set_index("name").at[name, "id"]))
    for url in (f"/entities/{entity_id}", "/entities?q=Modrzewianki", "/admin/entities?q=Modrzewianki",
                f"/admin/entities/{entity_id}", "/admin/audit", r.headers["Location"]):
        body = client.get(url).get_data(as_text=True)
        assert HOSTILE not in body and "<script>window.__pwned" not in body, url
    assert "&lt;script&gt;" in client.get(f"/entities/{entity_id}").get_data(as_text=True)
    feature = next(f for f in client.get("/api/entities.geojson").get_json()["features"] if f["properties"]["id"] == entity_id)
    assert feature["properties"]["name"] == name  # data stay data; escaping is for HTML


def test_csrf_leaves_the_read_only_interfaces_to_answer_405(env):
    app, _settings = env
    client = app.test_client()
    for url in ("/api/entities.geojson", "/ogc/collections/entities/items"):
        assert client.post(url, data="{}").status_code == 405
    assert client.post("/admin/upload", data={}).status_code == 400   # the console is not exempt


def test_sign_in_redirects_only_inside_the_console_and_versions_are_names_not_paths(env):
    app, settings = env
    client = app.test_client()
    t = token(client.get("/admin/login").get_data(as_text=True))
    for target, expected in (("//zlo.example/admin", "/admin/"), ("https://zlo.example/admin/", "/admin/"),
                             ("/admin/versions", "/admin/versions"), ("/api/entities.geojson", "/admin/")):
        client.post("/admin/logout", data={"csrf_token": t})
        t = token(client.get("/admin/login").get_data(as_text=True))
        r = client.post("/admin/login", data={"login": "anna", "password": PASSWORD, "csrf_token": t, "next": target})
        assert r.status_code == 302 and r.headers["Location"] == expected, target
        t = page_token(client)
    before = _state(settings)
    for name in ("..", ".tmp-x", "current"):
        r = client.post(f"/admin/versions/{name}/restore", data={"csrf_token": t})
        assert r.status_code == 404, name
    assert _state(settings)["register"] == before["register"] and _state(settings)["served"] == before["served"]
