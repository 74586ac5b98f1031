"""Publishing and restoring from the console: atomic, never mixed, restorable, audited."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading

import pytest

from conftest import kill_while_building
from geoes.common.polish import today_in_poland
from geoes.config import REPO_DIR
from geoes.console import audit, changes, publish, queue
from geoes.console.db import connect, now_iso, transaction
from geoes.dataset.build import INPUT_NAME, build_lock

from .helpers import register_rows, supplement, xlsx_bytes


def _served(settings) -> str:
    return os.readlink(settings.build_dir / "current")


def _upload(conn, settings, *ids, blank_type=()):
    return changes.create_upload(conn, settings, "anna", "rejestr.xlsx",
                                 xlsx_bytes(register_rows(*ids, blank_type=blank_type)))


def test_publish_builds_a_version_keeps_its_input_and_says_what_changed(conn, cs_settings):
    before = _served(cs_settings)
    old_register = cs_settings.entities_path.read_bytes()
    cs = _upload(conn, cs_settings, "swk-n005", "swk-n025", blank_type=("swk-n025",))
    assert cs.state == "preview" and cs.summary["rejected"] == 1
    cs = changes.fix_row(conn, cs_settings, cs.id, "anna", 3, {"types": "inne"})
    assert cs.summary["rejected"] == 0 and cs.summary["added"] == 2
    assert cs_settings.entities_path.read_bytes() == old_register  # nothing written before publishing
    summary = publish.publish(conn, cs_settings, cs.id, "anna")
    assert _served(cs_settings) == summary["version"] != before
    assert summary["previous"] == before
    assert (summary["added"], summary["changed"], summary["removed"]) == (2, 0, 0)
    assert summary["by_type"]["wtz"]["added"] == 1 and summary["by_type"]["inne"]["added"] == 1
    published = cs_settings.entities_path.read_bytes()
    assert published == (cs_settings.build_dir / summary["version"] / INPUT_NAME).read_bytes()
    names = set(changes.read_register(cs_settings)["name"])
    assert {r["nazwa"] for r in supplement("swk-n005", "swk-n025")} <= names
    assert changes.get(conn, cs.id).state == "published"
    entry = audit.entries(conn, action="publish")[0]
    assert entry.actor == "anna" and entry.target == summary["version"] and entry.detail["added"] == 2
    # The public dataset has the new entities, placed from the gazetteer.
    from geoes.dataset.reader import load_current

    ents = load_current(cs_settings).entities
    new = ents[ents["name"] == supplement("swk-n025")[0]["nazwa"]].iloc[0]
    assert new["types"] == "inne" and new["location_precision"] == "locality" and not new.geometry.is_empty


def test_a_preview_made_against_another_register_is_refused(conn, cs_settings):
    first = _upload(conn, cs_settings, "swk-n005")
    second = _upload(conn, cs_settings, "swk-n024")
    publish.publish(conn, cs_settings, first.id, "anna")
    served = _served(cs_settings)
    with pytest.raises(Exception, match="Rejestr zmienił się"):
        publish.publish(conn, cs_settings, second.id, "ewa")
    assert _served(cs_settings) == served
    # Made again against the current register, it keeps the first change and adds its own.
    changes.refresh(conn, cs_settings, second.id, "ewa")
    publish.publish(conn, cs_settings, second.id, "ewa")
    names = set(changes.read_register(cs_settings)["name"])
    assert {r["nazwa"] for r in supplement("swk-n005", "swk-n024")} <= names


def test_two_operators_publishing_at_once_never_mix(cs_settings):
    conn = connect(cs_settings)
    a = _upload(conn, cs_settings, "swk-n005")
    b = _upload(conn, cs_settings, "swk-n024")
    results: dict[str, object] = {}

    def run(who, cs_id):
        c = connect(cs_settings)
        try:
            results[who] = publish.publish(c, cs_settings, cs_id, who)
        except Exception as exc:  # noqa: BLE001 - the refusal is what is checked
            results[who] = exc
        finally:
            c.close()

    threads = [threading.Thread(target=run, args=("anna", a.id)), threading.Thread(target=run, args=("ewa", b.id))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    ok = [w for w, r in results.items() if isinstance(r, dict)]
    refused = [r for r in results.values() if not isinstance(r, dict)]
    assert len(ok) == 1 and len(refused) == 1, results
    assert isinstance(refused[0], (publish.PublishBusy, Exception))
    assert "Trwa publikacja" in str(refused[0]) or "Rejestr zmienił się" in str(refused[0])
    names = set(changes.read_register(cs_settings)["name"])
    winner, loser = (("swk-n005", "swk-n024") if ok == ["anna"] else ("swk-n024", "swk-n005"))
    assert supplement(winner)[0]["nazwa"] in names and supplement(loser)[0]["nazwa"] not in names
    assert cs_settings.entities_path.read_bytes() == (cs_settings.build_dir / _served(cs_settings) / INPUT_NAME).read_bytes()
    conn.close()


def test_publish_while_another_holds_the_lock_is_told_who(conn, cs_settings):
    cs = _upload(conn, cs_settings, "swk-n005")
    served = _served(cs_settings)
    with publish.publish_lock(cs_settings, "ewa"):
        with pytest.raises(publish.PublishBusy, match="Trwa publikacja \\(ewa"):
            publish.publish(conn, cs_settings, cs.id, "anna")
    with build_lock(cs_settings):  # a build started from the command line
        with pytest.raises(publish.PublishBusy, match="przebudowa"):
            publish.publish(conn, cs_settings, cs.id, "anna")
    assert _served(cs_settings) == served and changes.get(conn, cs.id).state == "preview"
    assert audit.entries(conn, action="publish") == []


@pytest.fixture(scope="module")
def big_register(tmp_path_factory, built_settings) -> bytes:
    """The real register plus synthetic entities, enough that building it takes a while."""
    from geoes.register.synthetic import generate, write_csv
    from geoes.sources.territory import load_territory

    path = tmp_path_factory.mktemp("big") / "entities.csv"
    write_csv(generate(load_territory(built_settings), 120_000, seed=11), path)
    return path.read_bytes()


def _stage(conn, settings, data: bytes) -> int:
    with transaction(conn):
        cur = conn.execute("INSERT INTO changesets (kind, state, created_by, created_at, updated_at, base_sha) "
                           "VALUES ('edit', 'preview', 'anna', ?, ?, ?)", (now_iso(), now_iso(),
                                                                         changes.register_sha(settings)))
        changes._store_file(conn, cur.lastrowid, "merged", data)
    return cur.lastrowid


def test_publish_killed_midway_leaves_the_last_good_version(conn, cs_settings, big_register):
    served, register = _served(cs_settings), cs_settings.entities_path.read_bytes()
    versions = sorted(p.name for p in cs_settings.build_dir.iterdir() if not p.name.startswith("."))
    cs_id = _stage(conn, cs_settings, big_register)
    code = ("import sys; from pathlib import Path; from geoes.config import Settings; "
            "from geoes.console import db, publish; "
            "s = Settings(region='26', data_dir=Path(sys.argv[1])); "
            "publish.publish(db.connect(s), s, int(sys.argv[2]), 'anna')")
    proc = subprocess.Popen([sys.executable, "-c", code, str(cs_settings.data_dir), str(cs_id)], cwd=REPO_DIR,
                            env={**os.environ, "PYTHONPATH": str(REPO_DIR)}, stderr=subprocess.PIPE)
    killed_while_writing = kill_while_building(proc, cs_settings.build_dir, deadline_s=180)
    assert killed_while_writing, "the publish finished before it could be killed while building"
    assert proc.returncode == -signal.SIGKILL
    assert _served(cs_settings) == served
    assert cs_settings.entities_path.read_bytes() == register
    assert sorted(p.name for p in cs_settings.build_dir.iterdir() if not p.name.startswith(".")) == versions
    assert changes.get(conn, cs_id).state == "preview"
    from geoes.web import create_app

    app = create_app({"TESTING": True, "GEOES_DATA_DIR": str(cs_settings.data_dir), "GEOES_REGION": "26"})
    assert app.test_client().get("/healthz").get_json()["version"] == served
    # The locks died with the process: the next publish goes through.
    small = _upload(conn, cs_settings, "swk-n005")
    assert publish.publish(conn, cs_settings, small.id, "anna")["version"] == _served(cs_settings)


def test_every_published_version_can_be_restored_even_after_pruning(conn, cs_settings):
    original = cs_settings.entities_path.read_bytes()
    first_served = _served(cs_settings)
    published = []
    for entity in ("swk-n005", "swk-n024", "swk-n026", "swk-n027"):
        cs = _upload(conn, cs_settings, entity)
        published.append(publish.publish(conn, cs_settings, cs.id, "anna")["version"])
    listed = {v.version: v for v in publish.versions(conn, cs_settings)}
    assert not listed[published[0]].kept_dir and listed[published[0]].restorable  # pruned from data/build
    assert listed[first_served].restorable and listed[published[-1]].current
    # Restore the first publish: its directory is gone, so its kept input is built again.
    summary = publish.restore(conn, cs_settings, published[0], "ewa")
    assert _served(cs_settings) == summary["version"] and summary["restored_from"] == published[0]
    assert summary["removed"] == 3 and summary["added"] == 0
    names = set(changes.read_register(cs_settings)["name"])
    assert supplement("swk-n005")[0]["nazwa"] in names and supplement("swk-n027")[0]["nazwa"] not in names
    # Restore the version served before any publish: the register is back byte for byte.
    publish.restore(conn, cs_settings, first_served, "ewa")
    assert cs_settings.entities_path.read_bytes() == original
    restores = audit.entries(conn, action="restore")
    assert [e.actor for e in restores] == ["ewa", "ewa"] and restores[-1].detail["restored_from"] == published[0]


def test_restore_switches_back_to_a_kept_version_instantly(conn, cs_settings):
    before = _served(cs_settings)
    cs = _upload(conn, cs_settings, "swk-n005")
    publish.publish(conn, cs_settings, cs.id, "anna")
    summary = publish.restore(conn, cs_settings, before, "anna")
    assert summary["version"] == before == _served(cs_settings)
    assert summary["removed"] == 1
    assert publish.outcome(conn, before)[1]["removed"] == 1


def test_single_entity_edits_are_validated_and_published_together(conn, cs_settings):
    register = changes.read_register(cs_settings)
    target = register.iloc[0]
    with pytest.raises(changes.EntityInvalid) as err:
        changes.edit_entity(conn, cs_settings, "anna", target["id"], {"nip": "1234567890"})
    assert err.value.problems == [("nip", "NIP: błędna suma kontrolna lub nie 10 cyfr")]
    assert changes.open_draft(conn, "anna") is None  # an invalid edit stores nothing
    fact = supplement("swk-n024")[0]
    cs = changes.edit_entity(conn, cs_settings, "anna", None, {"name": fact["nazwa"], "types": fact["typ"],
                                                                "locality": fact["miejscowosc"], "sources": fact["zrodla"]})
    cs = changes.edit_entity(conn, cs_settings, "anna", target["id"], {"status": "inactive"}, action="entity_inactive")
    shown = changes.preview_of(conn, cs.id)
    assert [a["name"] for a in shown.added] == [fact["nazwa"]] and shown.added[0]["precision"] == "locality"
    assert shown.changed == [{"row": 0, "id": target["id"], "name": target["name"],
                              "diffs": [["status", target["status"], "inactive"]]}]
    summary = publish.publish(conn, cs_settings, cs.id, "anna")
    assert (summary["added"], summary["changed"]) == (1, 1)
    after = changes.read_register(cs_settings).set_index("id")
    assert after.at[target["id"], "status"] == "inactive"
    assert [e.action for e in audit.entries(conn, limit=3)] == ["publish", "entity_inactive", "entity_add"]


def test_review_files_fill_the_queue_once_and_decisions_go_through_publish(conn, cs_settings):
    """A verification proposal (geoes.register.proposals' review file) in the queue: accepting it puts the
    change into the operator's draft by the proposals' own rules, marks it in the file, publishes nothing."""
    from geoes.register import proposals

    register = changes.read_register(cs_settings)
    target = register[register["postal_code"].eq("")].iloc[0]
    other = register[register["postal_code"].eq("")].iloc[1]
    proposals.save(cs_settings.proposals_path, [
        proposals.Proposal("change", "KRS", target["id"], target["name"], field="postal_code",
                           register_value="", official_value="26-300", note="<b>adres</b> wg KRS"),
        proposals.Proposal("change", "KRS", other["id"], other["name"], field="postal_code",
                           register_value="", official_value="26-600"),
    ])
    assert queue.import_files(conn, cs_settings) == (2, [])
    assert queue.import_files(conn, cs_settings) == (0, [])  # taken in once
    first, second = queue.items(conn)
    served, register_bytes = _served(cs_settings), cs_settings.entities_path.read_bytes()
    queue.decide(conn, cs_settings, first.id, "anna", accept=True, note="sprawdzone")
    queue.decide(conn, cs_settings, second.id, "anna", accept=False, note="inny adres")
    assert _served(cs_settings) == served and cs_settings.entities_path.read_bytes() == register_bytes
    states = {p.entity_id: (p.state, p.decided_by) for p in proposals.load(cs_settings.proposals_path)}
    assert states == {target["id"]: ("accepted", "anna"), other["id"]: ("rejected", "anna")}
    draft = changes.open_draft(conn, "anna")
    [changed] = changes.preview_of(conn, draft.id).changed
    today = today_in_poland().isoformat()
    assert changed["diffs"] == [["postal_code", "", "26-300"], ["verified_at", "", today],
                                ["verified_source", "", "KRS"], ["verified_evidence", "", "odpis aktualny z KRS"]]
    with pytest.raises(Exception, match="już przyjęte"):
        queue.decide(conn, cs_settings, first.id, "anna", accept=False)
    assert audit.entries(conn, action="queue_accept")[0].detail["values"]["postal_code"] == "26-300"
    assert audit.entries(conn, action="queue_reject")[0].detail["note"] == "inny adres"
    publish.publish(conn, cs_settings, draft.id, "anna")
    after = changes.read_register(cs_settings).set_index("id")
    assert (after.at[target["id"], "postal_code"], after.at[target["id"], "verified_source"]) == ("26-300", "KRS")
    assert after.at[other["id"], "postal_code"] == ""
