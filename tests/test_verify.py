"""Verification against KRS (`python -m geoes verify`) with a local fake of the open KRS API.

The fake answers in the API's format from tests/fixtures/krs_*.json (see the README there). The register is
a copy of the project's data/entities.csv; where a test needs an entity the real file does not have, it adds
one marked as test data (KRS numbers from 9000000000 up, far above any assigned number).
"""
from __future__ import annotations

import datetime as dt
import json
import shutil
import socket
import sys
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from geoes.cli import main
from geoes.common.polish import today_in_poland
from geoes.config import REPO_DIR, Settings
from geoes.errors import Conflict
from geoes.register import proposals as store
from geoes.register.record import COLUMNS, read_table, write_entities
from geoes.register.verify import polish_case, progress_enabled, register_order, verify
from geoes.sources import http
from geoes.sources.krs import KrsCache, KrsClient, KrsUnavailable, make_session

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fake_krs import FakeKrs  # noqa: E402

CARITAS = "swk-044"
TODAY = today_in_poland().isoformat()


@pytest.fixture
def fake():
    with FakeKrs() as server:
        yield server


@pytest.fixture
def data_dir(tmp_path, fetched_settings) -> Path:
    """The fetched region data (for the gazetteer) and a copy of the project's register."""
    d = tmp_path / "data"
    d.mkdir()
    for name in ("boundaries", "gazetteer"):
        shutil.copytree(fetched_settings.data_dir / name, d / name)
    shutil.copy(REPO_DIR / "data" / "entities.csv", d / "entities.csv")
    # The tests below are about an entity's own KRS number; its operator's number is tested on its own
    # (test_operator_*), so the copy starts without the operator numbers the real register has.
    frame = pd.read_csv(d / "entities.csv", dtype=str, keep_default_na=False)
    frame[["operator_krs", "operator_nip"]] = ""
    write_entities(frame, d / "entities.csv")
    return d


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch):
    monkeypatch.setattr(http, "RETRY_BACKOFF", 0.0)


def settings_for(data_dir: Path, fake: FakeKrs | None = None, **kw) -> Settings:
    return Settings(region="26", data_dir=data_dir, krs_api=fake.base if fake else "http://127.0.0.1:9/api/krs",
                    krs_rate=kw.pop("krs_rate", 0.0), **kw)


def cli(data_dir: Path, api: str, *args):
    env = {"GEOES_KRS_API": api, "GEOES_KRS_RATE": "0"}
    return CliRunner().invoke(main, ["--data-dir", str(data_dir), "--region", "26", "verify", *args], env=env,
                              catch_exceptions=False)


def add_entities(data_dir: Path, *rows: dict) -> None:
    frame = pd.read_csv(data_dir / "entities.csv", dtype=str, keep_default_na=False)
    extra = pd.DataFrame([{c: "" for c in COLUMNS} | {"status": "unknown", "social_enterprise": "unknown"} | r
                          for r in rows])
    write_entities(pd.concat([frame, extra], ignore_index=True), data_dir / "entities.csv")


def set_field(data_dir: Path, entity_id: str, **values) -> None:
    frame = pd.read_csv(data_dir / "entities.csv", dtype=str, keep_default_na=False)
    for k, v in values.items():
        frame.loc[frame["id"] == entity_id, k] = v
    write_entities(frame, data_dir / "entities.csv")


def proposals(data_dir: Path) -> list[store.Proposal]:
    return store.load(data_dir / "review" / "proposals.json")


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/api/krs"


# --------------------------------------------------------------------------------------------------
# The command


def test_verify_proposes_the_official_address_and_leaves_the_register_alone(data_dir, fake):
    before = (data_dir / "entities.csv").read_bytes()
    result = cli(data_dir, fake.base)
    assert result.exit_code == 1, result.output
    assert (data_dir / "entities.csv").read_bytes() == before
    found = {p.field: p for p in proposals(data_dir) if p.entity_id == CARITAS}
    street = found["street"]
    assert (street.kind, street.source, street.state) == ("change", "KRS", "pending")
    assert street.register_value == "Plac Najświętszej Maryi Panny 1"
    assert street.official_value == "pl. Jana Pawła II 3"
    assert street.official_text == "PL. JANA PAWŁA II 3"
    assert street.source_url == f"{fake.base}/OdpisAktualny/0000198087?rejestr=S&format=json"
    assert street.source_date == "2026-11-20"
    assert found["postal_code"].official_value == "25-013"
    assert found["gmina_teryt"].official_value == "2661011"           # Kielce, from the seat's gmina
    # Name (case), legal form ("… ze statusem OPP"), NIP and REGON (14 digits) agree: nothing proposed.
    assert not {"name", "legal_form", "nip", "regon", "locality", "status"} & set(found)
    # A church legal person is in register S: asked first, found, P never asked.
    assert [(k, r) for k, r, *_ in fake.requests] == [("0000198087", "S")]
    assert "ulica i numer „Plac Najświętszej Maryi Panny 1” → „pl. Jana Pawła II 3”" in result.output
    assert "rejestru nie zmieniono" in result.output


def test_a_krs_number_the_registry_does_not_know_is_flagged(data_dir, fake):
    # Test data: 9999999999 is ten digits but far above any number KRS has assigned.
    set_field(data_dir, "swk-015", krs="9999999999")
    before = (data_dir / "entities.csv").read_bytes()
    result = cli(data_dir, fake.base)
    assert result.exit_code == 1, result.output
    assert (data_dir / "entities.csv").read_bytes() == before          # flagged, not applied
    unknown = [p for p in proposals(data_dir) if p.kind == "unknown"]
    assert len(unknown) == 1
    p = unknown[0]
    assert (p.entity_id, p.field, p.register_value, p.official_value) == ("swk-015", "krs", "9999999999", "")
    assert "KRS nie zna numeru 9999999999" in p.note
    assert [r for k, r, *_ in fake.requests if k == "9999999999"] == ["S", "P"]   # both registers asked
    assert "swk-015 Warsztat Terapii Zajęciowej w Jędrzejowie: KRS nie zna numeru 9999999999" in result.output


def test_unreachable_service_exits_2_and_changes_nothing(data_dir):
    before = (data_dir / "entities.csv").read_bytes()
    result = cli(data_dir, closed_port_url())
    assert result.exit_code == 2
    assert "Błąd: brak połączenia z API KRS" in result.output
    assert "rejestru nie zmieniono" in result.output
    assert (data_dir / "entities.csv").read_bytes() == before
    assert not (data_dir / "review" / "proposals.json").exists()


def test_maintenance_page_is_unreachable_too(data_dir, fake):
    fake.maintenance = True
    before = (data_dir / "entities.csv").read_bytes()
    result = cli(data_dir, fake.base)
    assert result.exit_code == 2
    assert "przerwę techniczną" in result.output
    assert (data_dir / "entities.csv").read_bytes() == before


def test_server_errors_are_retried(data_dir, fake):
    fake.fail_next["0000198087"] = 2
    result = cli(data_dir, fake.base)
    assert result.exit_code == 1, result.output
    assert fake.count("0000198087") == 3


def test_persistent_server_errors_exit_2(data_dir, fake):
    fake.fail_next["0000198087"] = 100
    result = cli(data_dir, fake.base)
    assert result.exit_code == 2
    assert "HTTP 500" in result.output


def test_second_run_is_answered_from_the_cache(data_dir, fake):
    set_field(data_dir, "swk-015", krs="9999999999")   # a 404 is cached too
    first = cli(data_dir, fake.base)
    asked = fake.count()
    assert asked == 3 and first.exit_code == 1
    second = cli(data_dir, fake.base)
    assert fake.count() == asked                         # zero requests
    assert "0\u00a0zapytań do API KRS, z pamięci podręcznej: 3" in second.output
    assert second.exit_code == 1
    third = cli(data_dir, fake.base, "--no-cache")
    assert fake.count() == 2 * asked and third.exit_code == 1


def test_a_wrong_api_address_is_not_taken_for_unknown_numbers(data_dir, fake):
    # Every number unknown: the address is wrong (here: a path the service does not have), not the register.
    # (9000000011 and 9000000012 are test numbers; the third is Caritas's real one.)
    for entity_id, number in (("swk-001", "9000000011"), ("swk-002", "9000000012")):
        set_field(data_dir, entity_id, krs=number)
    result = cli(data_dir, fake.base.replace("/api/krs", "/api"))
    assert result.exit_code == 2
    assert "nie zna żadnego z 3 numerów" in result.output
    assert not (data_dir / "review" / "proposals.json").exists()


def test_no_progress_bar_when_not_a_terminal_or_quiet(data_dir, fake):
    class Tty:
        def isatty(self):
            return True

    class Pipe:
        def isatty(self):
            return False

    assert progress_enabled(False, Tty()) is True
    assert progress_enabled(True, Tty()) is False
    assert progress_enabled(False, Pipe()) is False
    result = cli(data_dir, fake.base)
    assert "Weryfikacja w KRS:" in result.output
    assert "%|" not in result.output and "podm./s" not in result.output


def test_only_older_than_skips_recent_verifications(data_dir, fake):
    set_field(data_dir, CARITAS, verified_at=TODAY, verified_source="operator")
    result = cli(data_dir, fake.base, "--only-older-than", "30")
    assert result.exit_code == 0, result.output
    assert fake.count() == 0
    assert "sprawdzono 0, pominięto 1 zweryfikowanych w ostatnich 30 dniach" in result.output
    set_field(data_dir, CARITAS, verified_at="2020-01-02")
    result = cli(data_dir, fake.base, "--only-older-than", "30")
    assert result.exit_code == 1 and fake.count() == 1


def test_a_cooperative_is_looked_up_in_register_p_and_its_liquidation_proposed(data_dir, fake):
    add_entities(data_dir, {"id": "test-001", "name": "Spółdzielnia Socjalna Dane Testowe", "types": "spoldzielnia_socjalna",
                            "legal_form": "spółdzielnia socjalna", "locality": "Jędrzejów", "street": "ul. Testowa 1/2", "postal_code": "28-300",
                            "gmina_teryt": "2602023", "krs": "9000000001", "nip": "9990000008", "regon": "999000006"})
    result = cli(data_dir, fake.base)
    assert result.exit_code == 1
    assert [r for k, r, *_ in fake.requests if k == "9000000001"] == ["P"]
    found = {p.field: p for p in proposals(data_dir) if p.entity_id == "test-001"}
    assert found["status"].official_value == "inactive"
    assert "likwidacja" in found["status"].note
    # The name gained "W LIKWIDACJI"; the address (flat after a slash), KRS's "SPÓŁDZIELNIA" for the register's
    # "spółdzielnia socjalna", NIP and REGON agree.
    assert set(found) == {"status", "name"}


def test_rerun_keeps_decisions_and_drops_what_the_register_no_longer_needs(data_dir, fake):
    settings = settings_for(data_dir, fake)
    cli(data_dir, fake.base)
    found = {p.field: p for p in proposals(data_dir)}
    store.reject(settings, found["gmina_teryt"].id, "anna", note="sprawdzę w TERYT")
    applied = store.accept(settings, found["street"].id, "anna")
    assert applied.changed["street"] == ("Plac Najświętszej Maryi Panny 1", "pl. Jana Pawła II 3")
    result = cli(data_dir, fake.base)
    by_id = {p.id: p for p in proposals(data_dir)}
    assert by_id[found["gmina_teryt"].id].state == "rejected"       # not asked again
    assert by_id[found["street"].id].state == "accepted"
    pending = [p for p in by_id.values() if p.state == "pending"]
    assert [p.field for p in pending] == ["postal_code"]           # the street now agrees
    assert result.exit_code == 1


def test_an_agreeing_extract_is_a_confirmation_and_exit_0(data_dir, fake):
    set_field(data_dir, CARITAS, street="Pl. Jana Pawła II 3", postal_code="25-013", gmina_teryt="2661011")
    result = cli(data_dir, fake.base)
    assert result.exit_code == 0, result.output
    assert "Brak propozycji zmian" in result.output
    (p,) = proposals(data_dir)
    assert (p.kind, p.entity_id, p.field) == ("confirm", CARITAS, "")
    applied = store.accept(settings_for(data_dir, fake), p.id, "anna", today="2026-11-25")
    evidence = f"odpis aktualny z KRS według stanu na 2026-11-20: {fake.base}/OdpisAktualny/{CARITAS_KRS}?rejestr=S&format=json"
    assert applied.changed == {"verified_at": ("", "2026-11-25"), "verified_source": ("", "KRS"),
                               "verified_evidence": ("", evidence)}
    row = read_table(data_dir / "entities.csv").set_index("id").loc[CARITAS]
    assert (row["verified_at"], row["verified_source"], row["street"]) == ("2026-11-25", "KRS", "Pl. Jana Pawła II 3")
    # What the verification rests on is recorded with it: the extract, its date and its address.
    assert row["verified_evidence"] == evidence


def test_duplicate_krs_is_warned_on_the_proposals(data_dir, fake):
    add_entities(data_dir, {"id": "test-002", "name": "Caritas (dane testowe)", "types": "ngo", "locality": "Kielce",
                            "krs": "0000198087"})
    cli(data_dir, fake.base)
    warned = [p for p in proposals(data_dir) if p.entity_id == CARITAS and p.field == "street"][0]
    assert [w["code"] for w in warned.warnings] == ["duplicate_krs"]
    assert warned.warnings[0]["other_id"] == "test-002"
    assert fake.count("0000198087") == 1                  # one lookup for the two entities


@pytest.mark.parametrize("suffix", [".csv", ".md", ".html"])
def test_report_in_polish_for_people(data_dir, fake, suffix):
    set_field(data_dir, CARITAS, name="<script>alert(1)</script>=Caritas")
    out = data_dir / f"raport{suffix}"
    result = cli(data_dir, fake.base, "--report", str(out))
    assert result.exit_code == 1
    raw = out.read_bytes()
    if suffix == ".csv":
        assert raw.startswith(b"\xef\xbb\xbf")
        frame = pd.read_csv(out, sep=";", dtype=str, keep_default_na=False, encoding="utf-8-sig")
        assert "Proponowana wartość" in frame.columns
        assert "pl. Jana Pawła II 3" in set(frame["Proponowana wartość"])
        assert frame["Proponowana wartość"].str.startswith("=").sum() == 0   # formula cells neutralised
    text = raw.decode("utf-8-sig")
    assert "Weryfikacja rejestru w KRS" in text or suffix == ".csv"
    if suffix == ".html":
        assert "<script>alert(1)" not in text and "&lt;script&gt;" in text
        assert 'lang="pl"' in text


# --------------------------------------------------------------------------------------------------
# Accepting and rejecting (what the console will call)


def test_accept_sets_the_field_and_the_verification_and_touches_no_other_row(data_dir, fake):
    settings = settings_for(data_dir, fake)
    cli(data_dir, fake.base)
    before = (data_dir / "entities.csv").read_text(encoding="utf-8").splitlines()
    street = next(p for p in store.list_proposals(settings) if p.field == "street")
    store.accept(settings, street.id, "anna", today="2026-11-25")
    after = (data_dir / "entities.csv").read_text(encoding="utf-8").splitlines()
    changed = [i for i, (a, b) in enumerate(zip(before, after)) if a != b]
    assert len(before) == len(after) and len(changed) == 1
    row = read_table(data_dir / "entities.csv").set_index("id").loc[CARITAS]
    assert (row["street"], row["verified_at"], row["verified_source"]) == ("pl. Jana Pawła II 3", "2026-11-25", "KRS")
    decided = store.get_proposal(settings, street.id)
    assert (decided.state, decided.decided_by) == ("accepted", "anna")
    with pytest.raises(Conflict):
        store.accept(settings, street.id, "anna")


def test_accept_refuses_a_proposal_the_register_has_moved_past(data_dir, fake):
    settings = settings_for(data_dir, fake)
    cli(data_dir, fake.base)
    street = next(p for p in store.list_proposals(settings) if p.field == "street")
    set_field(data_dir, CARITAS, street="ul. Inna 5")
    before = (data_dir / "entities.csv").read_bytes()
    with pytest.raises(Conflict, match="zmieniła się od czasu propozycji"):
        store.accept(settings, street.id, "anna")
    assert (data_dir / "entities.csv").read_bytes() == before
    assert store.get_proposal(settings, street.id).state == "pending"


def test_accepting_an_address_change_removes_the_exact_point(data_dir, fake):
    settings = settings_for(data_dir, fake)
    set_field(data_dir, CARITAS, location_precision="address", geocoder="gugik")
    cli(data_dir, fake.base)
    street = next(p for p in store.list_proposals(settings) if p.field == "street")
    applied = store.accept(settings, street.id, "anna")
    assert applied.relocated
    row = read_table(data_dir / "entities.csv").set_index("id").loc[CARITAS]
    assert (row["lat"], row["lon"], row["location_precision"]) == ("", "", "none")


def test_accepting_an_unknown_number_removes_it_without_marking_verified(data_dir, fake):
    settings = settings_for(data_dir, fake)
    set_field(data_dir, "swk-015", krs="9999999999")
    cli(data_dir, fake.base)
    p = next(p for p in store.list_proposals(settings) if p.kind == "unknown")
    store.accept(settings, p.id, "anna")
    row = read_table(data_dir / "entities.csv").set_index("id").loc["swk-015"]
    assert (row["krs"], row["verified_at"], row["verified_source"]) == ("", "", "")


def test_reject_leaves_the_register_and_records_the_decision(data_dir, fake):
    settings = settings_for(data_dir, fake)
    cli(data_dir, fake.base)
    before = (data_dir / "entities.csv").read_bytes()
    p = store.list_proposals(settings)[0]
    store.reject(settings, p.id, "jan", note="adres biura jest właściwy")
    assert (data_dir / "entities.csv").read_bytes() == before
    decided = store.get_proposal(settings, p.id)
    assert (decided.state, decided.decided_by, decided.decision_note) == ("rejected", "jan", "adres biura jest właściwy")
    assert p.id not in {x.id for x in store.list_proposals(settings)}


def test_proposals_file_is_the_documented_format(data_dir, fake):
    cli(data_dir, fake.base)
    body = json.loads((data_dir / "review" / "proposals.json").read_text(encoding="utf-8"))
    assert body["format"] == "geoes-proposals/1"
    first = body["proposals"][0]
    assert list(first)[:4] == ["id", "kind", "source", "entity_id"]
    assert {"field", "register_value", "official_value", "official_text", "source_url", "source_date",
            "proposed_at", "note", "warnings", "entity", "state", "decided_at", "decided_by"} <= set(first)


# --------------------------------------------------------------------------------------------------
# The client


def test_rate_limit_is_honoured_with_an_injected_clock(fake, tmp_path):
    now = [100.0]
    slept: list[float] = []
    asked_at: list[float] = []

    def sleep(seconds):
        slept.append(seconds)
        now[0] += seconds

    client = KrsClient(fake.base, rate=2.0, clock=lambda: now[0], sleep=sleep, session=make_session(retries=0))
    original = client._request

    def request(url):
        asked_at.append(now[0])
        return original(url)

    client._limited.func = request
    client.lookup("0000198087", first="S")               # 1 request
    client.lookup("9999999999", first="S")               # 2 requests (S, then P)
    assert len(asked_at) == 3
    assert all(b - a >= 0.5 - 1e-9 for a, b in zip(asked_at, asked_at[1:]))   # at most 2 per second
    assert sum(slept) == pytest.approx(1.0)
    now[0] += 10                                          # a pause longer than the interval: no waiting
    slept.clear()
    client.lookup("0000198087", first="S")
    assert slept == []


def test_lookup_parses_the_extract(fake):
    client = KrsClient(fake.base, rate=0)
    lookup = client.lookup("0000198087", first="P")       # the wrong register first: 404, then S
    assert lookup.asked == ("P", "S")
    e = lookup.extract
    assert (e.register, e.name, e.nip, e.regon) == ("S", "CARITAS DIECEZJI KIELECKIEJ", "6570389452", "29050549400000")
    assert e.public_benefit and e.winding_up == "" and e.as_of == "2026-11-20"
    assert e.seat["gmina"] == "KIELCE" and e.address["kodPocztowy"] == "25-013"


def test_cache_expires_after_the_configured_days(tmp_path):
    cache = KrsCache(tmp_path / "krs.sqlite")
    api = "https://api-krs.ms.gov.pl/api/krs"
    old = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=8)).isoformat()
    cache.put(api, "0000198087", "S", 200, "{}", old)
    assert cache.get(api, "0000198087", "S", 7) is None
    assert cache.get(api, "0000198087", "S", 9) is not None
    assert cache.get(api, "0000198087", "S", 0) is None
    assert cache.get("http://127.0.0.1:1/api/krs", "0000198087", "S", 9) is None   # another service's answers


def test_unreachable_client_raises_a_polish_error():
    client = KrsClient(closed_port_url(), rate=0, session=make_session(retries=0))
    with pytest.raises(KrsUnavailable, match="brak połączenia z API KRS"):
        client.lookup("0000198087")


# --------------------------------------------------------------------------------------------------
# Pieces


def test_register_order_by_legal_form_then_types():
    assert register_order({"legal_form": "kościelna osoba prawna ze statusem OPP", "types": "ngo"}) == "S"
    assert register_order({"legal_form": "spółdzielnia socjalna", "types": ""}) == "P"
    assert register_order({"legal_form": "fundacja", "types": "zaz"}) == "S"
    assert register_order({"legal_form": "", "types": "spoldzielnia_socjalna"}) == "P"
    assert register_order({"legal_form": "", "types": "wtz"}) == "S"
    assert register_order({"legal_form": "samorządowy zakład budżetowy", "types": "cis"}) == "S"


def test_polish_case_of_krs_texts():
    assert polish_case("PL. JANA PAWŁA II") == "pl. Jana Pawła II"
    assert polish_case("SKARŻYSKO-KAMIENNA") == "Skarżysko-Kamienna"
    assert polish_case("AL. IX WIEKÓW KIELC") == "al. IX Wieków Kielc"
    assert polish_case("UL. 3 MAJA 12A") == "ul. 3 Maja 12A"


def test_verify_reads_but_never_writes_the_register(data_dir, fake):
    settings = settings_for(data_dir, fake)
    before = (data_dir / "entities.csv").read_bytes()
    result = verify(settings, gazetteer=None)
    assert (data_dir / "entities.csv").read_bytes() == before
    assert result.with_krs == 1 and result.checked == 1 and result.found == 1
    assert not (data_dir / "review").exists()              # `verify` proposes; `run` records
    assert {p.field for p in result.changes} == {"street", "postal_code"}   # no gazetteer: no gmina code


# --------------------------------------------------------------------------------------------------
# The record's verification columns


def test_the_register_round_trips_with_empty_verification_columns():
    path = REPO_DIR / "data" / "entities.csv"
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert list(frame.columns) == COLUMNS
    assert frame["verified_at"].eq("").all() and frame["verified_source"].eq("").all()   # nobody verified yet


def test_write_entities_round_trips_the_register_byte_for_byte(tmp_path):
    path = REPO_DIR / "data" / "entities.csv"
    write_entities(pd.read_csv(path, dtype=str, keep_default_na=False), tmp_path / "out.csv")
    assert (tmp_path / "out.csv").read_bytes() == path.read_bytes()


def test_validation_of_the_verification_columns():
    from geoes.register.validate import validate_frame

    frame = pd.DataFrame([
        {"id": "a", "name": "x", "types": "ngo", "verified_at": "2025-01-02", "verified_source": "krs"},
        {"id": "b", "name": "x", "types": "ngo", "verified_at": "2025-13-02", "verified_source": "KRS"},
        {"id": "c", "name": "x", "types": "ngo", "verified_at": "", "verified_source": "KRS"},
        {"id": "d", "name": "x", "types": "ngo", "verified_at": "2025-01-02", "verified_source": "wróżka"},
        {"id": "e", "name": "x", "types": "ngo", "verified_at": "2025-01-02", "verified_source": "zgloszenie"},
        {"id": "f", "name": "x", "types": "ngo", "verified_at": "2999-01-02", "verified_source": "operator",
         "verified_evidence": "telefonicznie"},
        # An operator's check that does not say how it was made is no verification.
        {"id": "g", "name": "x", "types": "ngo", "verified_at": "2025-01-02", "verified_source": "operator"},
        {"id": "h", "name": "x", "types": "ngo", "verified_at": "2025-01-02", "verified_source": "operator",
         "verified_evidence": "rozmowa telefoniczna 2025-01-02, kierownik warsztatu"},
    ])
    # A bad verification is an optional value: dropped with a warning, the entity kept.
    valid, rejects = checked = validate_frame(frame)
    assert rejects.empty
    assert valid[["id", "verified_at", "verified_source"]].values.tolist() == [
        ["a", "2025-01-02", "KRS"], ["b", "", ""], ["c", "", ""], ["d", "", ""], ["e", "", ""],
        ["f", "", ""], ["g", "", ""], ["h", "2025-01-02", "operator"]]
    # A public report is a claim, not a verification: an old record that a report "verified" keeps the date
    # as the date of a change from a report.
    assert valid[["id", "changed_at", "change_source"]].values.tolist()[4] == ["e", "2025-01-02", "zgłoszenie"]
    assert valid["verified_evidence"].tolist()[-1] == "rozmowa telefoniczna 2025-01-02, kierownik warsztatu"
    assert checked.warnings[["row", "column"]].values.tolist() == [[3, "verified_at"], [4, "verified_at"],
                                                                   [5, "verified_source"], [7, "verified_at"],
                                                                   [8, "verified_evidence"]]


# --------------------------------------------------------------------------------------------------
# The operator's number (a unit with no legal personality of its own: WTZ, ZAZ, CIS)

CARITAS_KRS, CARITAS_NIP = "0000198087", "6570389452"     # as the real register holds them (swk-001, swk-002)


def test_operator_numbers_are_checked_against_the_operator_the_register_names(data_dir, fake):
    set_field(data_dir, "swk-001", operator_krs=CARITAS_KRS, operator_nip=CARITAS_NIP)
    set_field(data_dir, "swk-002", operator_krs=CARITAS_KRS, operator="")   # the register lost the name
    before = (data_dir / "entities.csv").read_bytes()
    result = cli(data_dir, fake.base)
    assert result.exit_code == 1, result.output
    assert (data_dir / "entities.csv").read_bytes() == before
    assert "Podmioty prowadzące: 2\u00a0jednostki z numerem KRS prowadzącego, sprawdzono 2; odpisy znalezione: 2" \
        in result.output
    by_entity = {}
    for p in proposals(data_dir):
        by_entity.setdefault(p.entity_id, []).append(p)
    assert "swk-001" not in by_entity                       # "Caritas Diecezji Kieleckiej" is KRS's name
    (named,) = by_entity["swk-002"]
    assert (named.kind, named.field, named.register_value, named.official_value) == \
        ("change", "operator", "", "CARITAS DIECEZJI KIELECKIEJ")
    assert "w rejestrze brak nazwy" in named.note
    assert fake.count(CARITAS_KRS) == 1                    # one lookup for Caritas and the units it runs

    # Accepting names the operator; the unit itself is not thereby verified.
    applied = store.accept(settings_for(data_dir, fake), named.id, "anna", today="2026-11-25")
    assert applied.changed == {"operator": ("", "CARITAS DIECEZJI KIELECKIEJ")}
    row = read_table(data_dir / "entities.csv").set_index("id").loc["swk-002"]
    assert (row["operator"], row["verified_at"]) == ("CARITAS DIECEZJI KIELECKIEJ", "")


def test_a_longer_operator_text_that_contains_the_official_name_agrees(data_dir, fake):
    # swk-048 (ŚOWES) names a leader and partners; the leader's number is the one it holds.
    set_field(data_dir, "swk-048", operator_krs=CARITAS_KRS)
    assert cli(data_dir, fake.base).exit_code == 1          # Caritas's own address proposals, nothing else
    assert not [p for p in proposals(data_dir) if p.entity_id == "swk-048"]


def test_an_operator_number_krs_does_not_know_is_flagged_and_removed_only_on_acceptance(data_dir, fake):
    set_field(data_dir, "swk-015", operator="Stowarzyszenie (dane testowe)", operator_krs="9999999998")
    result = cli(data_dir, fake.base)
    assert result.exit_code == 1
    assert "swk-015 Warsztat Terapii Zajęciowej w Jędrzejowie: KRS nie zna numeru podmiotu prowadzącego " \
           "9999999998" in result.output
    (p,) = [p for p in proposals(data_dir) if p.entity_id == "swk-015"]
    assert (p.kind, p.field, p.register_value) == ("unknown", "operator_krs", "9999999998")
    assert [r for k, r, *_ in fake.requests if k == "9999999998"] == ["S", "P"]
    store.accept(settings_for(data_dir, fake), p.id, "anna")
    row = read_table(data_dir / "entities.csv").set_index("id").loc["swk-015"]
    assert (row["operator_krs"], row["operator"], row["verified_at"]) == ("", "Stowarzyszenie (dane testowe)", "")


def test_an_operator_being_wound_up_asks_whether_the_unit_still_runs(data_dir, fake):
    # Test data: the synthetic cooperative of krs_9000000001_P.json (register P), "W LIKWIDACJI".
    set_field(data_dir, "swk-015", operator="Spółdzielnia Socjalna Dane Testowe", operator_krs="9000000001")
    cli(data_dir, fake.base)
    found = {p.field: p for p in proposals(data_dir) if p.entity_id == "swk-015"}
    assert [r for k, r, *_ in fake.requests if k == "9000000001"] == ["P"]   # a cooperative: P first
    assert found["status"].official_value == "inactive"
    assert "podmiot prowadzący w KRS: likwidacja" in found["status"].note
    assert found["operator"].official_value.endswith("W LIKWIDACJI")


def test_a_bad_operator_number_costs_that_number_not_the_unit(tmp_path):
    from geoes.register.validate import validate_frame

    frame = pd.DataFrame([{c: "" for c in COLUMNS} | {"id": "t-1", "name": "Warsztat Terapii Zajęciowej (test)",
                                                      "types": "wtz", "operator_krs": "12345678901",
                                                      "operator_nip": "1234567890"}])
    report = validate_frame(frame)
    assert list(report.valid["id"]) == ["t-1"]
    assert (report.valid.iloc[0]["operator_krs"], report.valid.iloc[0]["operator_nip"]) == ("", "")
    reasons = " ".join(report.warnings["reason"])
    assert "KRS podmiotu prowadzącego to 10 cyfr" in reasons and "NIP podmiotu prowadzącego" in reasons
