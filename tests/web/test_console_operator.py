"""The console for an operator who is not a developer: a safety catch with a summary before `Opublikuj` and
`Przywróć`, a version list and an audit log a person reads, a queue in Polish counted on the dashboard from
the moment an item exists, a mapping step in Polish.

Every file uploaded here is built from real facts (the register's own entities and the shared supplement,
with their sources); the review tables are the project's own (data/import).
"""
from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import zlib

import pytest

from geoes.common.polish import NBSP, count
from geoes.common.reference import entity_types
from geoes.config import REPO_DIR
from geoes.console import accounts, audit, changes, queue
from geoes.console.db import connect

from .admin_helpers import confirm_form, follow_job, make_admin_app, page_token, sign_in, token
from .admin_helpers import publish as publish_confirmed

IDENTIFIERS_REVIEW = "identyfikatory_prowadzacych.poprawki.do_przegladu.csv"


@pytest.fixture()
def env(tmp_path, register_before_supplement):
    return make_admin_app(register_before_supplement, tmp_path / "data", operators=("anna", "ola"))


def _text(html: str) -> str:
    """What a reader sees of a page's main part: tags out, entities and spaces as read."""
    main = html.split("<main", 1)[-1].split("</main>", 1)[0]
    text = re.sub(r"<[^>]+>", " ", main)
    for entity, char in (("&nbsp;", NBSP), ("&#34;", '"'), ("&quot;", '"'), ("&#39;", "'"), ("&lt;", "<"),
                         ("&gt;", ">"), ("&amp;", "&")):
        text = text.replace(entity, char)
    return re.sub(r"[ \t\r\n]+", " ", text)


def _upload(client, data: bytes, name: str):
    r = follow_job(client, client.post("/admin/upload", data={"csrf_token": page_token(client),
                                                              "file": (io.BytesIO(data), name)},
                                       content_type="multipart/form-data"))
    assert r.status_code == 302, r.get_data(as_text=True)[:500]
    return r.headers["Location"]


def _served(settings) -> str:
    return os.readlink(settings.build_dir / "current")


def _state(settings) -> tuple:
    return _served(settings), settings.entities_path.read_bytes()


def _type_phrase(n: int, code: str) -> str:
    return count(n, entity_types()[code].forms)


def test_publish_and_restore_show_what_changes_and_act_only_when_confirmed(env):
    from console.helpers import register_rows, supplement, xlsx_bytes

    app, settings = env
    client = app.test_client()
    sign_in(client)
    before = _state(settings)
    old_version = before[0]
    cs_url = _upload(client, xlsx_bytes(register_rows("swk-n005")), "rejestr.xlsx")

    # `Opublikuj` on the preview is a link to the summary, not an action.
    preview = client.get(cs_url).get_data(as_text=True)
    assert re.search(r'<form method="get" action="[^"]*/publish" class="publish">', preview)
    page = client.get(cs_url + "/publish").get_data(as_text=True)
    said = _text(page)
    assert "Opublikować zmiany z pliku rejestr.xlsx?" in said
    assert f"Dodane 1{NBSP}podmiot {_type_phrase(1, 'wtz')}" in said
    assert f"Zmienione 0{NBSP}podmiotów" in said and f"Usunięte 0{NBSP}podmiotów" in said
    assert "Strona publiczna pokazuje teraz: wersja z " in said
    assert "Potwierdź publikację" in said and "Anuluj — wróć do podglądu" in said
    assert _state(settings) == before                      # looking at the summary changes nothing

    # A POST without the confirmation (an old form, a double click, a script) shows the summary again.
    r = client.post(cs_url + "/publish", data={"csrf_token": token(page)})
    assert r.status_code == 303 and r.headers["Location"].endswith(cs_url + "/publish")
    assert _state(settings) == before
    # A confirmation of a summary that stopped being true (another version went up meanwhile) is refused.
    stale = {**confirm_form(client, cs_url + "/publish"), "replaces": "20200101T000000000000Z-00000000"}
    r = client.post(cs_url + "/publish", data=stale)
    assert r.status_code == 303 and _state(settings) == before
    assert "Od pokazania podsumowania strona publiczna przełączyła się" in client.get(r.headers["Location"]).get_data(as_text=True)

    r = publish_confirmed(client, cs_url)
    assert r.status_code == 302 and r.headers["Location"].startswith("/admin/versions/")
    new_version = r.headers["Location"].rsplit("/", 1)[1]
    assert _served(settings) == new_version != old_version

    # The version list: when, who, from which file, what changed; each linked to its diff.
    listing = client.get("/admin/versions").get_data(as_text=True)
    row = re.search(r"<tr class=\"current\">(.*?)</tr>", listing, re.S).group(1)
    said = _text(row)
    assert "anna" in said and "plik rejestr.xlsx" in said
    assert f"dodano 1{NBSP}podmiot ({_type_phrase(1, 'wtz')})" in said
    assert f'href="/admin/versions/{new_version}"' in row
    diff = _text(client.get(f"/admin/versions/{new_version}").get_data(as_text=True))
    name = supplement("swk-n005")[0]["nazwa"]
    register = changes.read_register(settings).set_index("name")
    assert f"Dodane (1{NBSP}podmiot)" in diff and name in diff and register.at[name, "id"] in diff

    # `Przywróć`: the summary first, then only the confirmation restores.
    restore_url = f"/admin/versions/{old_version}/restore"
    assert f'action="{restore_url}"' in listing
    page = client.get(restore_url).get_data(as_text=True)
    said = _text(page)
    assert f"Usunięte 1{NBSP}podmiot {_type_phrase(1, 'wtz')}" in said and "Potwierdź przywrócenie" in said
    after_publish = _state(settings)
    assert client.post(restore_url, data={"csrf_token": token(page)}).status_code == 303
    assert _state(settings) == after_publish
    r = client.post(restore_url, data=confirm_form(client, restore_url))
    assert r.status_code == 302 and _state(settings) == before
    listing = client.get("/admin/versions").get_data(as_text=True)
    row = _text(re.search(r"<tr class=\"current\">(.*?)</tr>", listing, re.S).group(1))
    assert "na stronie publicznej przywrócona " in row and "(anna)" in row
    assert old_version in row


def _english_keys(conn) -> set[str]:
    """Every key the log's entries hold (and every action's code): none may show on the page."""
    keys = set(audit.ACTIONS)
    for row in conn.execute("SELECT detail FROM audit"):
        def walk(value):
            if isinstance(value, dict):
                for k, v in value.items():
                    keys.add(k)
                    walk(v)
            elif isinstance(value, list):
                for v in value:
                    walk(v)
        walk(json.loads(row[0]))
    return {k for k in keys if len(k) > 2 and re.fullmatch(r"[a-z_]+", k)}


def test_the_audit_log_reads_as_polish_sentences_filtered_and_as_csv(env):
    from console.helpers import register_rows, xlsx_bytes

    app, settings = env
    anna, ola = app.test_client(), app.test_client()
    sign_in(anna)
    old_version = _served(settings)
    cs_url = _upload(anna, xlsx_bytes(register_rows("swk-n005")), "rejestr.xlsx")
    assert publish_confirmed(anna, cs_url).status_code == 302
    r = anna.post(f"/admin/versions/{old_version}/restore",
                  data=confirm_form(anna, f"/admin/versions/{old_version}/restore"))
    assert r.status_code == 302
    conn = connect(settings)
    accounts.set_gender(conn, "anna", "feminine")
    sign_in(ola, login="ola")

    page = anna.get("/admin/audit").get_data(as_text=True)
    said = _text(page)
    assert f"anna opublikowała wersję z pliku rejestr.xlsx: dodano 1{NBSP}podmiot ({_type_phrase(1, 'wtz')})" in said
    assert "anna przywróciła wersję z " in said and f"usunięto 1{NBSP}podmiot" in said
    assert "anna wczytała plik rejestr.xlsx" in said
    assert "ola: zalogowano się do konsoli" in said      # no form recorded for ola: the impersonal one
    assert re.search(r"\d{1,2}\xa0(stycznia|lutego|marca|kwietnia|maja|czerwca|lipca|sierpnia|września|"
                     r"października|listopada|grudnia) \d{4}, \d\d:\d\d", said)
    # No JSON, no \u escapes, no English keys.
    assert not re.search(r'[{\[]\s*"|"\s*:\s*["{\[\d]', said) and "\\u" not in page
    words = set(re.findall(r"[A-Za-z_]+", said))
    assert not (_english_keys(conn) & words), _english_keys(conn) & words
    conn.close()

    def shown(**query) -> str:
        return _text(anna.get("/admin/audit", query_string=query).get_data(as_text=True))

    only_ola = shown(kto="ola")
    assert "ola: zalogowano się" in only_ola and "anna opublikowała" not in only_ola
    publishes = shown(czynnosc="publish")
    assert "anna opublikowała" in publishes and "zalogowano się" not in publishes and "przywróciła" not in publishes
    from console.helpers import supplement

    new_id = _added_id(settings, supplement("swk-n005")[0]["nazwa"])
    about = shown(podmiot=new_id)
    assert "anna opublikowała" in about and "anna przywróciła" in about and "ola: zalogowano" not in about
    assert "Brak wpisów spełniających te warunki" in shown(od="2000-01-01", do="2000-01-31")
    assert "anna opublikowała" in shown(od="2000-01-01")
    assert "anna opublikowała" in shown(czynnosc="nie-ma-takiej")   # an unknown choice is no filter

    r = anna.get("/admin/audit.csv", query_string={"czynnosc": "publish"})
    assert r.headers["Content-Type"].startswith("text/csv") and r.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(r.data.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["Kiedy", "Kto", "Czynność", "Opis"]
    assert len(rows) == 2 and rows[1][1] == "anna" and rows[1][2] == "publikacja"
    assert rows[1][3].startswith("anna opublikowała wersję z pliku rejestr.xlsx: dodano 1")


def _added_id(settings, name: str) -> str:
    """The id the import gave a new entity (kept in the archived version that added it)."""
    conn = connect(settings)
    try:
        for row in conn.execute("SELECT entities FROM versions WHERE action = 'publish'"):
            frame = changes.frame_from_csv(zlib.decompress(row[0]))
            hit = frame.loc[frame["name"] == name, "id"]
            if len(hit):
                return hit.iloc[0]
    finally:
        conn.close()
    raise AssertionError(f"no published version has {name}")


def _restart(settings):
    """Another start of the application on the same data directory (as after `./run.sh`)."""
    from geoes.web import create_app

    return create_app({"TESTING": True, "GEOES_DATA_DIR": str(settings.data_dir), "GEOES_REGION": "26"})


def test_the_queue_names_entities_says_checks_in_words_and_the_dashboard_counts_every_item(env):
    app, settings = env
    (settings.data_dir / "import").mkdir()
    shutil.copy(REPO_DIR / "data" / "import" / IDENTIFIERS_REVIEW, settings.data_dir / "import" / IDENTIFIERS_REVIEW)
    with open(settings.data_dir / "import" / IDENTIFIERS_REVIEW, encoding="utf-8-sig", newline="") as fh:
        expected = len(list(csv.DictReader(fh)))
    app = _restart(settings)                      # files already there are queued when the application starts
    client = app.test_client()
    sign_in(client)
    dashboard = client.get("/admin/").get_data(as_text=True)
    assert f'<span id="pending-count">{count(expected, "zgłoszenie")} czekają na decyzję</span>' in dashboard
    assert "Publiczna mapa pokazuje <strong>wersję z " in dashboard     # the accusative the verb asks for

    page = client.get("/admin/queue").get_data(as_text=True)
    said = _text(page)
    assert "krs:ok" not in page and "regon9" not in page and "digits" not in page
    assert "KRS: poprawny numer (10 cyfr)" in said and "NIP: poprawna suma kontrolna" in said
    name = changes.read_register(settings).set_index("id").at["swk-027", "name"]
    assert f'<span class="entity-name">{name}</span> <small class="entity-id">swk-027</small>' in page
    # Filtered by powiat: Chmielnik is in powiat kielecki (2604).
    assert name in client.get("/admin/queue?powiat=2604").get_data(as_text=True)
    elsewhere = client.get("/admin/queue?powiat=2602").get_data(as_text=True)
    assert name not in elsewhere and "Brak zgłoszeń czekających na decyzję" in elsewhere
    assert "powiat kielecki (2)" in _text(page) and "Kielce (miasto na prawach powiatu) (0)" in _text(page)

    # Opening the queue again adds nothing; starting again adds nothing either.
    conn = connect(settings)
    assert queue.counts(conn)["pending"] == expected
    _restart(settings)
    assert queue.counts(conn)["pending"] == expected
    conn.close()


def test_an_import_into_the_register_queues_its_review_items_at_once(runner, tmp_path, register_before_supplement):
    """`python -m geoes import --corrections` sets corrections aside for review: counted in the console before
    anyone opens the queue."""
    from conftest import MIRROR, clone_settings

    (tmp_path / "data").mkdir()
    settings = clone_settings(register_before_supplement, tmp_path / "data", with_build=True)
    source = MIRROR / "entities" / "pes_swietokrzyskie_uzupelnienie_istniejacych.csv"
    result = runner.invoke("import", str(source), "--corrections", "--mapping",
                           str(REPO_DIR / "scripts" / "mappings" / "pes_swietokrzyskie_uzupelnienie_istniejacych.csv"),
                           "--reports", str(tmp_path / "raporty"), settings=settings)
    review = tmp_path / "raporty" / "pes_swietokrzyskie_uzupelnienie_istniejacych.do_przegladu.csv"
    with open(review, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert rows and "Do kolejki Zgłoszenia w konsoli trafiły poprawki do przeglądu" in result.output
    conn = connect(settings)
    items = queue.items(conn)
    conn.close()
    assert len(items) == len({(r["id"], r["column"], r["proposed"]) for r in rows})
    assert {i.entity_id for i in items} == {r["id"] for r in rows}


def test_the_mapping_step_speaks_polish_and_offers_the_likely_fields_first(env):
    from console.helpers import csv_bytes, supplement
    from geoes.console.imports import LIKELY_GROUP, mapping_targets

    app, _settings = env
    client = app.test_client()
    sign_in(client)
    fact = supplement("swk-n024")[0]
    data = csv_bytes([[fact["nazwa"], fact["nazwa"], fact["typ"], fact["miejscowosc"]]],
                     ["Nazwa", "Nazwa podmiotu", "Typ", "Miejscowość"], encoding="cp1250")
    page = client.get(_upload(client, data, "kgw.csv")).get_data(as_text=True)
    assert "Mapowanie kolumn pliku kgw.csv" in page
    codes = [code for code, _label in mapping_targets()]
    # Field names in Polish only: no machine key in an option's text.
    options = re.findall(r"<option value=\"([^\"]*)\"[^>]*>([^<]*)</option>", page)
    assert options and all(text.strip() not in codes and f"({value})" not in text for value, text in options if value)
    # Each select: the likely fields first, then the rest by theme; every field once.
    selects = re.findall(r'<select id="col-(\d+)".*?</select>', page, re.S)
    assert len(selects) == 4
    for index in selects:
        block = re.search(rf'<select id="col-{index}".*?</select>', page, re.S).group(0)
        groups = re.findall(r'<optgroup label="([^"]+)"', block)
        assert groups[0] == LIKELY_GROUP and len(groups) >= 5
        values = re.findall(r'<option value="([^"]+)"', block)
        assert sorted(values) == sorted(codes)
    first = re.search(r'<select id="col-1".*?</select>', page, re.S).group(0)
    likely = re.search(rf'<optgroup label="{LIKELY_GROUP}">(.*?)</optgroup>', first, re.S).group(1)
    assert '<option value="name" selected>Nazwa</option>' in likely
    # The column's values beside its choice.
    assert re.search(r'aria-describedby="s-col-3".*?<td id="s-col-3"><span class="sample">' + re.escape(fact["miejscowosc"]),
                     page, re.S)


def test_one_type_dictionary_for_the_importer_the_console_and_the_map(env):
    from geoes.register.normalise import type_codes

    app, _settings = env
    client = app.test_client()
    sign_in(client)
    form = client.get("/admin/entities/new").get_data(as_text=True)
    shown = dict(re.findall(r'<option value="([a-z_]+)"[^>]*>([^<]+)</option>', form))
    for code, t in entity_types().items():
        assert shown.get(code) == t.label_pl, code
    assert shown["spoldzielnia_inwalidow"].startswith("Spółdzielnia inwalidów")
    assert type_codes("spółdzielnia inwalidów") == "spoldzielnia_inwalidow"      # the importer
    public = json.loads(re.search(r'id="geoes-config"[^>]*>(.*?)</script>', client.get("/").get_data(as_text=True),
                                  re.S).group(1))
    assert set(public["types"]) == set(entity_types())


def test_users_gender_sets_the_forms_of_the_log(runner, env):
    app, settings = env
    assert runner.invoke("users", "gender", "ola", "feminine", settings=settings).exit_code == 0
    listed = runner.invoke("users", "list", settings=settings).output
    assert re.search(r"ola\t.*formy w dzienniku: żeńskie", listed)
    assert re.search(r"anna\t.*formy w dzienniku: bezosobowe", listed)
    client = app.test_client()
    sign_in(client, login="ola")
    said = _text(client.get("/admin/audit").get_data(as_text=True))
    assert "ola zalogowała się do konsoli" in said
    assert "wiersz poleceń: ustawiono formy czasowników w dzienniku dla konta „ola”: żeńskie" in said
    assert runner.invoke("users", "gender", "ola", "none", settings=settings).exit_code == 0
    assert "ola: zalogowano się do konsoli" in _text(client.get("/admin/audit").get_data(as_text=True))
