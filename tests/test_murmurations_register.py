"""`python -m geoes murmurations register|status` against a local fake Murmurations Index shaped like the
real one (tests/fake_murmurations.py), with the site served on 127.0.0.1 so the fake fetches the profiles
the way the Index does. Nothing here reaches the internet."""
from __future__ import annotations

import json

import pytest

from geoes.publish.murmurations import profile_path
from geoes.sources.murmurations import IndexClient, IndexUnavailable, node_id
from tests.fake_murmurations import FakeIndex
from tests.web.conftest import Server, make_app


@pytest.fixture(scope="module")
def site(built_settings):
    with Server(make_app(built_settings.data_dir)) as server:
        yield server.url


@pytest.fixture()
def index():
    with FakeIndex() as fake:
        yield fake


def entity_ids(built_settings) -> list[str]:
    from geoes.dataset.reader import load_current

    ents = load_current(built_settings).entities
    return list(ents.loc[ents["status"] != "inactive", "id"])


def test_register_posts_every_profile_url_and_the_index_takes_them(runner, built_settings, site, index):
    result = runner.invoke("murmurations", "register", "--site", site + "/", "--index", index.url)
    assert result.exit_code == 0, result.output
    ids = entity_ids(built_settings)
    assert index.posted_urls() == [site + profile_path(i) for i in ids]
    assert f"przyjął {len(ids)}\u00a0profil" in result.output
    # what the Index does next: fetch every profile and check it — all of them end up in the index
    status = runner.invoke("murmurations", "status", "--site", site, "--index", index.url)
    assert status.exit_code == 0, status.output
    assert f"w indeksie: {len(ids)}" in status.output
    fetched = {n["profile_url"] for n in index.nodes.values() if n["status"] == "posted"}
    assert fetched == set(index.posted_urls())
    # the node ids are the Index's: SHA-256 of the profile URL
    assert set(index.nodes) == {node_id(u) for u in index.posted_urls()}


def test_the_setting_names_the_index(runner, built_settings, site, index, monkeypatch):
    monkeypatch.setenv("GEOES_MURMURATIONS_INDEX", index.url)
    result = runner.invoke("murmurations", "register", "--site", site)
    assert result.exit_code == 0, result.output
    assert len(index.posted_urls()) == len(entity_ids(built_settings))


def test_opt_in_nothing_is_sent_without_an_index_or_on_a_dry_run(runner, site, index, monkeypatch):
    monkeypatch.delenv("GEOES_MURMURATIONS_INDEX", raising=False)
    result = runner.invoke("murmurations", "register", "--site", site)
    assert result.exit_code == 2 and "GEOES_MURMURATIONS_INDEX" in result.output
    dry = runner.invoke("murmurations", "register", "--site", site, "--index", index.url, "--dry-run")
    assert dry.exit_code == 0 and site + profile_path("swk-001") in dry.output
    bad_site = runner.invoke("murmurations", "register", "--site", "mapa.example.pl", "--index", index.url)
    assert bad_site.exit_code == 2 and "--site" in bad_site.output
    assert index.requests == []


def test_refused_urls_are_listed_with_the_indexs_reason(runner, index):
    # the real Index refuses a host without a dot (e.g. localhost): the profile cannot be reached from it
    result = runner.invoke("murmurations", "register", "--site", "http://localhost:8000", "--index", index.url)
    assert result.exit_code == 1
    assert "odrzucił" in result.output and "Invalid Profile URL: The `profile_url` is not a valid URL." in result.output
    assert index.nodes == {}


def test_a_profile_the_index_cannot_read_is_reported_by_status(runner, site, index):
    wrong = site + "/nie-ma-tu-serwisu"
    assert runner.invoke("murmurations", "register", "--site", wrong, "--index", index.url).exit_code == 0
    status = runner.invoke("murmurations", "status", "--site", wrong, "--index", index.url)
    assert status.exit_code == 1
    assert "odrzucone przy sprawdzaniu" in status.output and "Profile Not Found" in status.output


def test_an_unreachable_index_stops_with_exit_code_2(runner, site, index):
    index.down = True
    result = runner.invoke("murmurations", "register", "--site", site, "--index", index.url)
    assert result.exit_code == 2 and "HTTP 503" in result.output and "Przerwano" in result.output
    closed = FakeIndex()  # never started: nothing listens on its port
    closed.httpd.server_close()
    result = runner.invoke("murmurations", "register", "--site", site, "--index", closed.url)
    assert result.exit_code == 2 and "nieosiągalny" in result.output


def test_client_reads_the_index_answers(index, site):
    with pytest.raises(IndexUnavailable):
        IndexClient("http://127.0.0.1:9/v2", timeout=2).post(site + profile_path("swk-001"))
    client = IndexClient(index.url, rate=1000)
    url = site + profile_path("swk-001")
    posted = client.post(url)
    assert posted.node_id == node_id(url) and posted.error == ""
    assert client.post("ftp://x").error.startswith("Invalid Profile URL")
    assert client.status(site + profile_path("nie-zgloszony")).status == "not_found"
    assert client.status(url).status == "posted"
    assert json.loads(index.requests[0][2]) == {"profile_url": url}
