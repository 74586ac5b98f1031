"""The ministry's list of social enterprises (RJPS) against the register: `python -m geoes rjps PLIK`.

The lists here are built by the tests as the ministry's spreadsheet is documented to look (a title row above
the header, name, KRS, NIP, REGON, legal form, seat, decision); every row is **test data** — names marked
"dane testowe" or "testowa", KRS numbers from 9000000000 up, NIPs from the prefix 998 that pass the checksum — and the
register's real entities are matched only by test entities added to a temporary copy of the register.
"""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from openpyxl import Workbook

from geoes.cli import main
from geoes.config import REPO_DIR, Settings
from geoes.register import proposals as store
from geoes.register.record import COLUMNS, read_table, write_entities
from geoes.register.rjps import read_list, read_mapping

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fake_krs import synthetic_nip, synthetic_regon  # noqa: E402

HEADER = ["Lp.", "Nazwa przedsiębiorstwa społecznego", "Numer KRS", "NIP", "REGON", "Forma prawna", "Województwo",
          "Powiat", "Gmina", "Miejscowość", "Ulica", "Nr domu", "Nr lokalu", "Kod pocztowy", "Numer decyzji",
          "Data nadania statusu"]
NIP_A, NIP_B, NIP_C = synthetic_nip(1), synthetic_nip(2), synthetic_nip(3)


def rows() -> list[list]:
    return [
        # matched by KRS: a test cooperative in the register
        [1, "Spółdzielnia Socjalna Dane Testowe", 9000000001, NIP_A, synthetic_regon(1), "spółdzielnia socjalna",
         "świętokrzyskie", "jędrzejowski", "Jędrzejów", "Jędrzejów", "ul. Testowa", "1", "2", "28-300",
         "PS.I.9999.1.2026", "2026-02-03"],
        # matched by NIP; the register lacks the KRS number
        [2, "Fundacja Dane Testowe Druga", 9000000003, NIP_B, "", "fundacja", "ŚWIĘTOKRZYSKIE", "", "", "Kielce",
         "", "", "", "25001", "PS.I.9999.2.2026", "2026-03-04"],
        # not in the register, in the region: a new entity (its postal code is bad: that value is dropped)
        [3, "Stowarzyszenie Dane Testowe Trzecie", 9000000004, NIP_C, "", "stowarzyszenie", "woj. świętokrzyskie",
         "jędrzejowski", "Jędrzejów", "Jędrzejów", "ul. Testowa", "5", "", "28-3OO", "PS.I.9999.3.2026", "2026-04-05"],
        # not in the register, in the region, a name very like a register entity's in the same locality
        [4, "Fundacja „Testowa Zielony Kąt” w Kielcach", 9000000005, "", "", "fundacja", "świętokrzyskie", "", "", "Kielce",
         "", "", "", "", "", ""],
        # another voivodeship: left alone
        [5, "Spółdzielnia Socjalna Dane Testowe Mazowsze", 9000000006, "", "", "spółdzielnia socjalna",
         "mazowieckie", "", "", "Radom", "", "", "", "", "", ""],
    ]


def write_xlsx(path: Path, data: list[list]) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.append(["Wykaz przedsiębiorstw społecznych (dane testowe)"])
    ws.append([])
    ws.append(HEADER)
    for r in data:
        ws.append(r)
    wb.save(path)
    return path


@pytest.fixture
def data_dir(tmp_path, fetched_settings) -> Path:
    d = tmp_path / "data"
    d.mkdir()
    for name in ("boundaries", "gazetteer"):
        shutil.copytree(fetched_settings.data_dir / name, d / name)
    frame = pd.read_csv(REPO_DIR / "data" / "entities.csv", dtype=str, keep_default_na=False)
    test_rows = [
        {"id": "test-001", "name": "Spółdzielnia Socjalna Dane Testowe", "types": "spoldzielnia_socjalna",
         "locality": "Jędrzejów", "krs": "9000000001", "social_enterprise": "unknown", "status": "unknown"},
        {"id": "test-002", "name": "Fundacja Dane Testowe Druga", "types": "ngo", "locality": "Kielce", "nip": NIP_B,
         "social_enterprise": "true", "status": "unknown"},
        {"id": "test-003", "name": "Fundacja Testowa Zielony Kąt", "types": "ngo", "locality": "Kielce",
         "social_enterprise": "unknown", "status": "unknown"},
    ]
    extra = pd.DataFrame([{c: "" for c in COLUMNS} | r for r in test_rows])
    write_entities(pd.concat([frame, extra], ignore_index=True), d / "entities.csv")
    return d


def cli(data_dir: Path, *args):
    return CliRunner().invoke(main, ["--data-dir", str(data_dir), "--region", "26", "rjps", *args],
                              catch_exceptions=False)


def test_rjps_proposes_social_enterprise_and_new_entities_and_leaves_the_register(data_dir, tmp_path):
    sheet = write_xlsx(tmp_path / "wykaz.xlsx", rows())
    before = (data_dir / "entities.csv").read_bytes()
    result = cli(data_dir, str(sheet), "--source-url", "https://rjps.mrips.gov.pl/RJPS/WJ/start.do?wersja=1")
    assert result.exit_code == 1, result.output
    assert (data_dir / "entities.csv").read_bytes() == before
    found = store.load(data_dir / "review" / "proposals.json")
    by = {(p.kind, p.entity_id, p.field): p for p in found}

    se = by["change", "test-001", "social_enterprise"]
    assert (se.register_value, se.official_value, se.source) == ("unknown", "true", "RJPS")
    assert "PS.I.9999.1.2026" in se.note and se.source_date == "2026-02-03"
    # matched by NIP, already a social enterprise: only the missing KRS number is proposed
    assert by["change", "test-002", "krs"].official_value == "9000000003"
    assert ("change", "test-002", "social_enterprise") not in by

    new = {p.entity["name"]: p for p in found if p.kind == "new_entity"}
    assert set(new) == {"Stowarzyszenie Dane Testowe Trzecie", "Fundacja „Testowa Zielony Kąt” w Kielcach"}
    third = new["Stowarzyszenie Dane Testowe Trzecie"].entity
    assert (third["id"], third["types"], third["social_enterprise"], third["gmina_teryt"]) == \
        ("ps-9000000004", "ngo", "true", "2602023")
    assert third["street"] == "ul. Testowa 5" and third["postal_code"] == ""     # the bad code cost only itself
    assert "wiersz 6, kolumna postal_code" in result.output                     # row as Excel numbers it
    similar = new["Fundacja „Testowa Zielony Kąt” w Kielcach"].warnings
    assert [(w["code"], w["other_id"]) for w in similar] == [("similar_name", "test-003")]
    assert "spoza regionu: 1" in result.output


def test_accepting_a_new_entity_adds_a_valid_record(data_dir, tmp_path):
    cli(data_dir, str(write_xlsx(tmp_path / "wykaz.xlsx", rows())))
    settings = Settings(region="26", data_dir=data_dir)
    p = next(p for p in store.list_proposals(settings) if p.kind == "new_entity" and p.entity["id"] == "ps-9000000004")
    store.accept(settings, p.id, "anna", today="2026-11-25")
    row = read_table(data_dir / "entities.csv").set_index("id").loc["ps-9000000004"]
    assert (row["name"], row["verified_at"], row["verified_source"], row["social_enterprise"]) == \
        ("Stowarzyszenie Dane Testowe Trzecie", "2026-11-25", "RJPS", "true")


def test_rerun_with_the_same_list_proposes_nothing_new(data_dir, tmp_path):
    sheet = write_xlsx(tmp_path / "wykaz.xlsx", rows())
    cli(data_dir, str(sheet))
    first = store.load(data_dir / "review" / "proposals.json")
    cli(data_dir, str(sheet))
    assert [p.id for p in store.load(data_dir / "review" / "proposals.json")] == [p.id for p in first]


def test_a_csv_list_from_excel_in_cp1250_with_semicolons(data_dir, tmp_path):
    frame = pd.DataFrame(rows(), columns=HEADER).astype(str)
    path = tmp_path / "wykaz.csv"
    path.write_bytes(frame.to_csv(index=False, sep=";", lineterminator="\r\n").encode("cp1250"))
    listed = read_list(path, read_mapping())
    assert listed["krs"].tolist()[:2] == ["9000000001", "9000000003"]
    assert listed["row"].tolist()[0] == 2
    assert cli(data_dir, str(path)).exit_code == 1


def test_unreadable_list_exits_2(data_dir, tmp_path):
    bad = tmp_path / "wykaz.xlsx"
    bad.write_bytes(b"not a workbook")
    result = cli(data_dir, str(bad))
    assert result.exit_code == 2
    assert "nie jest skoroszytem Excela" in result.output   # the one reader of office files says so
    no_header = write_xlsx(tmp_path / "inny.xlsx", [])
    from openpyxl import load_workbook

    wb = load_workbook(no_header)
    wb.active.delete_rows(3)
    wb.save(no_header)
    result = cli(data_dir, str(no_header))
    assert result.exit_code == 2 and "nie rozpoznano nagłówka wykazu" in result.output


def test_the_shipped_mapping_knows_the_documented_columns():
    mapping = read_mapping()
    assert mapping["nazwa przedsiebiorstwa spolecznego"] == "name"
    assert mapping["numer krs"] == "krs" and mapping["nip"] == "nip" and mapping["wojewodztwo"] == "voivodeship"
    assert mapping["data nadania statusu"] == "status_date"
