"""Register import: XLSX and cp1250 CSV exports with Polish headers, mapping files, normalisation, merge."""
from __future__ import annotations

import shutil
from pathlib import Path

import click
import pandas as pd
import pytest
from click.testing import CliRunner
from openpyxl import Workbook

from geoes.register import normalise as norm
from geoes.config import REPO_DIR, Settings
from geoes.register.record import COLUMNS, UnreadableFile, read_table
from geoes.register.importer import ImportFailed, import_file, import_frame, read_export, read_mapping, stable_id

ENTITIES = REPO_DIR / "data" / "entities.csv"     # the committed record of the 49 real entities
SETTINGS: Settings                                # the mirror fetched into a temp dir (conftest)
CARITAS_KRS = "0000198087"


@pytest.fixture(scope="module", autouse=True)
def _settings(fetched_settings):
    global SETTINGS
    SETTINGS = fetched_settings


@pytest.fixture
def entities(tmp_path) -> Path:
    path = tmp_path / "entities.csv"
    shutil.copy(ENTITIES, path)
    return path


def cli():
    from geoes.cli import GeoesGroup
    from geoes.cli.register import geocode_command, import_command

    @click.group(cls=GeoesGroup)  # the package's group: it turns errors into "Błąd: …" and exit code 2
    @click.pass_context
    def group(ctx):
        ctx.obj = SETTINGS

    group.add_command(import_command)
    group.add_command(geocode_command)
    return group


# --- building exports as offices make them -------------------------------------------------------

XLSX_HEADER = ["Lp.", "Nazwa", "Typ", "Forma prawna", "Miejscowość", "Ulica", "Nr domu", "Kod pocztowy", "Gmina",
               "Powiat", "KRS", "NIP", "REGON", "Liczba zatrudnionych", "Strona www", "Telefon", "E-mail"]
XLSX_ROWS = [
    [1, "Spółdzielnia Socjalna „Testowa”", "Spółdzielnia socjalna", None, "Jędrzejów", "ul. Przykładowa", 1, 28300,
     "Jędrzejów", "jędrzejowski", None, None, None, 5, "www.example.org", "41 386 00 00", "BIURO@EXAMPLE.ORG"],
    [2, "Warsztat Terapii Zajęciowej „Testowy”", "WTZ", None, "Belno", None, None, None, "Gmina Bieliny",
     "powiat kielecki", None, None, None, 12.0, None, "(0-41) 311 22 33", None],
    [3, "Caritas Diecezji Kieleckiej", None, "stowarzyszenie", "Kielce", None, None, "25-013", None, None,
     198087, "657-038-94-52", 290505494, None, None, "600 100 200", None],
    [4, "Fundacja Zły NIP", "Fundacja", None, "Kielce", None, None, None, None, None, None, "1234567890", None, None,
     None, None, None],
]


def make_xlsx(path: Path, rows=XLSX_ROWS, header=XLSX_HEADER) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = "Rejestr PES"
    ws.append(["Rejestr podmiotów ekonomii społecznej — eksport"])   # a title above the header
    ws.append([])
    ws.append(header)
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


def write_cp1250(path: Path, text: str) -> Path:
    path.write_bytes(text.encode("cp1250"))
    return path


# --- XLSX -----------------------------------------------------------------------------------------

def test_xlsx_with_polish_headers(tmp_path, entities):
    xlsx = make_xlsx(tmp_path / "rejestr.xlsx")
    result = import_file(xlsx, SETTINGS, output=entities, rejects_path=tmp_path / "odrzucone.csv")
    assert len(result.added) == 2 and len(result.changed) == 1 and result.rejected_rows == 1
    out = read_table(entities).set_index("id")
    assert len(out) == 51
    ss = out.loc[stable_id("Spółdzielnia Socjalna „Testowa”", "Jędrzejów")]
    assert ss["types"] == "spoldzielnia_socjalna"
    assert ss["street"] == "ul. Przykładowa 1" and ss["postal_code"] == "28-300"
    assert (ss["gmina_teryt"], ss["powiat_teryt"]) == ("2602023", "2602")
    assert ss["employees"] == "5" and ss["website"] == "https://www.example.org"
    assert ss["phone"] == "+48 41 386 00 00" and ss["email"] == "biuro@example.org"
    assert ss["location_precision"] == "none" and ss["lat"] == ""
    wtz = out.loc[stable_id("Warsztat Terapii Zajęciowej „Testowy”", "Belno")]
    assert (wtz["types"], wtz["gmina_teryt"], wtz["employees"]) == ("wtz", "2604012", "12")
    assert wtz["phone"] == "+48 41 311 22 33"
    # Caritas is matched by its KRS (Excel dropped the leading zeros), not duplicated
    assert (out["krs"] == CARITAS_KRS).sum() == 1
    caritas = out.loc["swk-044"]
    assert caritas["phone"] == "+48 600 100 200" and caritas["postal_code"] == "25-013"
    assert caritas["types"] == "ngo"  # 'stowarzyszenie' in Forma prawna when Typ is empty
    assert caritas["legal_form"] == "stowarzyszenie"
    assert result.changed.iloc[0]["id"] == "swk-044"
    # the bad NIP: rejected with the row number Excel shows (title, blank, header, then rows 4…)
    rej = result.rejects
    assert rej[["row", "column"]].values.tolist() == [[7, "nip"]]
    assert "suma kontrolna" in rej.iloc[0]["reason"]
    saved = pd.read_csv(tmp_path / "odrzucone.csv", dtype=str, encoding="utf-8-sig")
    assert list(saved.columns[:4]) == ["file", "row", "column", "reason"]
    assert saved.loc[0, "name"] == "Fundacja Zły NIP"


def test_reimport_is_idempotent(tmp_path, entities):
    xlsx = make_xlsx(tmp_path / "rejestr.xlsx")
    import_file(xlsx, SETTINGS, output=entities, rejects_path=tmp_path / "r.csv")
    first = entities.read_bytes()
    again = import_file(xlsx, SETTINGS, output=entities, rejects_path=tmp_path / "r.csv")
    assert len(again.added) == 0 and len(again.changed) == 0 and again.unchanged == 3
    assert entities.read_bytes() == first


def test_stable_id_is_deterministic():
    a = stable_id("Spółdzielnia Socjalna „Ares”", "Kielce")
    assert a == stable_id('Spółdzielnia  socjalna "Ares"', " kielce ")
    assert a != stable_id("Spółdzielnia Socjalna „Ares”", "Radom")
    assert a.startswith("pes-") and len(a) == 14


# --- cp1250 CSV -----------------------------------------------------------------------------------

CP1250_CSV = (
    "Nazwa;Rodzaj;Miejscowość;Gmina;Szerokość geograficzna;Długość geograficzna;Liczba zatrudnionych;Źródła\r\n"
    "Koło Gospodyń Wiejskich „Żółte Łąki”;Koło Gospodyń Wiejskich;Brzeziny;Szydłów;50,6156;20,9628;\"12,0\";"
    "https://example.org/a https://example.org/b\r\n"
    "Spółdzielnia Socjalna „Źdźbło”;SS;Sadowie;Sadowie;50,85;;3;\r\n"
    "Klub Integracji Społecznej „Ślęża”;KIS, CIS;Kielce;;;;;\r\n"
)


def test_cp1250_semicolon_csv_with_decimal_commas(tmp_path, entities):
    path = write_cp1250(tmp_path / "eksport.csv", CP1250_CSV)
    assert not path.read_bytes().startswith(b"\xef\xbb\xbf")
    result = import_file(path, SETTINGS, output=entities, rejects_path=tmp_path / "r.csv")
    out = read_table(entities).set_index("id")
    kgw = out.loc[stable_id("Koło Gospodyń Wiejskich „Żółte Łąki”", "Brzeziny")]
    assert kgw["name"] == "Koło Gospodyń Wiejskich „Żółte Łąki”"
    assert (kgw["types"], kgw["gmina_teryt"], kgw["employees"]) == ("kgw", "2612083", "12")
    assert (kgw["lat"], kgw["lon"]) == ("50.615600", "20.962800")
    assert kgw["location_precision"] == "locality" and kgw["geocoder"] == "import:eksport.csv"
    assert kgw["sources"] == "https://example.org/a | https://example.org/b"
    kis = out.loc[stable_id("Klub Integracji Społecznej „Ślęża”", "Kielce")]
    assert kis["types"] == "kis;cis"
    # one coordinate only: rejected by validation, named by row and column
    assert result.rejects[["row", "column"]].values.tolist() == [[3, "lat"]]
    assert len(result.added) == 2


def test_english_headers(tmp_path, entities):
    path = tmp_path / "export.csv"
    path.write_text("Name,Type,City,Street,Postal code,County,Phone,Website\n"
                    "Social Coop Test,social cooperative,Sandomierz,ul. Testowa 2,27600,sandomierski,"
                    "+48 15 832 00 00,https://example.org\n", encoding="utf-8")
    result = import_file(path, SETTINGS, output=entities, rejects_path=tmp_path / "r.csv")
    assert result.rejected_rows == 0 and len(result.added) == 1
    row = read_table(entities).set_index("id").loc[result.added.iloc[0]["id"]]
    assert (row["types"], row["postal_code"], row["powiat_teryt"]) == ("spoldzielnia_socjalna", "27-600", "2609")
    assert row["phone"] == "+48 15 832 00 00"


# --- mapping files --------------------------------------------------------------------------------

ODD_EXPORT = "Podmiot;Forma działalności;Adres siedziby – miejscowość;Zbędna\nSS Mapowana;spółdzielnia socjalna;Kielce;x\n"


def test_unknown_layout_needs_a_mapping(tmp_path):
    path = tmp_path / "odd.csv"
    path.write_text(ODD_EXPORT, encoding="utf-8")
    with pytest.raises(UnreadableFile, match="--mapping"):
        read_export(path)


def test_mapping_file(tmp_path, entities):
    path = tmp_path / "odd.csv"
    path.write_text(ODD_EXPORT, encoding="utf-8")
    mapping = tmp_path / "mapowanie.csv"
    mapping.write_text("kolumna w pliku,kolumna rekordu\nPodmiot,name\nForma działalności,types\n"
                       "Adres siedziby – miejscowość,locality\nZbędna,-\n", encoding="utf-8")
    frame, ignored = read_export(path, read_mapping(mapping))
    assert list(frame.columns) == ["row", "name", "types", "locality"] and ignored == []
    result = import_file(path, SETTINGS, output=entities, mapping_path=mapping, rejects_path=tmp_path / "r.csv")
    assert len(result.added) == 1
    assert read_table(entities).set_index("id").loc[stable_id("SS Mapowana", "Kielce"), "types"] == \
        "spoldzielnia_socjalna"


def test_mapping_with_an_unknown_target(tmp_path):
    mapping = tmp_path / "m.csv"
    mapping.write_text("Podmiot,nazwa_podmiotu\n", encoding="utf-8")
    with pytest.raises(ImportFailed, match="nieznana kolumna rekordu"):
        read_mapping(mapping)


# --- merge rules ----------------------------------------------------------------------------------

def existing_frame() -> pd.DataFrame:
    rows = [
        {"id": "e1", "name": "Stowarzyszenie A", "types": "ngo", "locality": "Kielce", "status": "active",
         "social_enterprise": "true", "lat": "50.871700", "lon": "20.631400", "location_precision": "locality",
         "geocoder": "gazetteer:PRNG 2021", "sources": "https://a.example.org", "phone": "+48 41 000 00 00"},
        {"id": "e2", "name": "Fundacja B", "types": "ngo", "locality": "Kielce", "street": "ul. Stara 1",
         "nip": "1111111111", "lat": "50.882900", "lon": "20.638500", "location_precision": "address",
         "geocoder": "gugik", "status": "unknown", "social_enterprise": "unknown"},
        {"id": "e3", "name": "Caritas", "types": "ngo", "locality": "Kielce", "krs": CARITAS_KRS,
         "status": "unknown", "social_enterprise": "unknown", "location_precision": "none"},
    ]
    return pd.DataFrame([{c: r.get(c, "") for c in COLUMNS} for r in rows])


def merge(rows: list[dict]):
    frame = pd.DataFrame(rows).fillna("").astype(str)
    frame.insert(0, "row", range(2, len(frame) + 2))
    result = import_frame(frame, existing_frame(), SETTINGS, "test.csv")
    return result, result.merged.set_index("id")


def test_merge_by_id_updates_only_what_is_stated():
    result, out = merge([{"id": "e1", "name": "Stowarzyszenie A", "phone": "41 111 22 33", "status": "",
                          "sources": "https://b.example.org"}])
    assert result.changed[["id", "columns"]].values.tolist() == [["e1", "phone, sources"]]
    e1 = out.loc["e1"]
    assert e1["phone"] == "+48 41 111 22 33"
    assert e1["sources"] == "https://a.example.org | https://b.example.org"
    assert e1["status"] == "active" and e1["social_enterprise"] == "true" and e1["types"] == "ngo"
    assert e1["location_precision"] == "locality" and e1["lat"] == "50.871700"   # untouched
    assert len(out) == 3


def test_merge_by_nip_and_address_change_clears_the_old_point():
    result, out = merge([{"name": "Fundacja B", "nip": "111-111-11-11", "locality": "Kielce",
                          "street": "ul. Nowa 5", "types": "fundacja"}])
    assert len(result.added) == 0 and result.changed["id"].tolist() == ["e2"]
    assert out.loc["e2", "street"] == "ul. Nowa 5"
    assert out.loc["e2", ["lat", "lon", "location_precision", "geocoder"]].tolist() == ["", "", "none", ""]
    assert result.relocated == ["e2"]


def test_merge_by_krs_without_leading_zeros():
    result, out = merge([{"name": "Caritas Diecezji Kieleckiej", "krs": "198087", "locality": "Kielce"}])
    assert len(result.added) == 0 and result.changed["id"].tolist() == ["e3"]
    assert out.loc["e3", "name"] == "Caritas Diecezji Kieleckiej" and len(out) == 3


def test_lower_precision_coordinates_do_not_replace_better_ones():
    result, out = merge([{"id": "e2", "name": "Fundacja B", "lat": "50,87", "lon": "20,63",
                          "location_precision": "gmina"}])
    assert out.loc["e2", ["lat", "location_precision", "geocoder"]].tolist() == ["50.882900", "address", "gugik"]
    assert result.unchanged == 1


def test_better_coordinates_from_the_register_are_taken():
    result, out = merge([{"id": "e1", "name": "Stowarzyszenie A", "lat": "50,8801", "lon": "20,6402",
                          "location_precision": "adres"}])
    assert out.loc["e1", ["lat", "lon", "location_precision", "geocoder"]].tolist() == \
        ["50.880100", "20.640200", "address", "import:test.csv"]
    assert "lat/lon" in result.changed.iloc[0]["columns"]


def test_conflicting_identifiers_are_rejected():
    result, out = merge([{"id": "e1", "name": "Stowarzyszenie A", "nip": "1111111111"}])
    assert result.rejects[["row", "column"]].values.tolist() == [[2, "id"]]
    assert "konflikt" in result.rejects.iloc[0]["reason"]
    assert out.loc["e2", "nip"] == "1111111111" and out.loc["e1", "nip"] == ""


def test_duplicates_in_one_file_are_not_added_twice():
    result, out = merge([{"name": "Nowa Fundacja", "types": "ngo", "locality": "Kielce"},
                         {"name": "Nowa  fundacja", "types": "ngo", "locality": "KIELCE"},
                         {"name": "Inna", "types": "ngo", "locality": "Kielce", "nip": "2222222222"},
                         {"name": "Inna (ten sam NIP)", "types": "ngo", "locality": "Kielce", "nip": "2222222222"}])
    assert len(result.added) == 2 and len(out) == 5
    assert sorted(result.rejects["row"].tolist()) == [3, 5]


def test_new_rows_get_stable_ids_and_no_coordinates():
    result, out = merge([{"name": "Nowa Spółdzielnia", "types": "Spółdzielnia socjalna", "locality": "Kielce"}])
    new_id = stable_id("Nowa Spółdzielnia", "Kielce")
    assert result.added["id"].tolist() == [new_id]
    assert out.loc[new_id, ["types", "location_precision", "status"]].tolist() == \
        ["spoldzielnia_socjalna", "none", "unknown"]


def test_unknown_gmina_name_is_rejected_with_its_text():
    result, out = merge([{"name": "X", "types": "ngo", "locality": "Kielce", "gmina": "Nibylandia"}])
    assert result.rejects[["row", "column"]].values.tolist() == [[2, "gmina_teryt"]]
    assert result.rejects.iloc[0]["gmina"] == "Nibylandia"
    assert len(result.added) == 0


# --- normalisation --------------------------------------------------------------------------------

@pytest.mark.parametrize("value,code", [
    ("Spółdzielnia socjalna", "spoldzielnia_socjalna"), ("Warsztat Terapii Zajęciowej", "wtz"), ("WTZ", "wtz"),
    ("Zakład Aktywności Zawodowej", "zaz"), ("Centrum Integracji Społecznej", "cis"), ("KIS", "kis"),
    ("Spółdzielnia inwalidów i niewidomych", "spoldzielnia_inwalidow"), ("spółka non-profit", "spolka_non_profit"),
    ("Koło Gospodyń Wiejskich", "kgw"), ("OWES", "owes"), ("wtz, zaz", "wtz;zaz"), ("CIS / KIS", "cis;kis"),
    ("Spoldzielnia socjalna", "spoldzielnia_socjalna"), ("Fundacja", "ngo"), ("coś innego", "coś innego"),
])
def test_type_names_to_codes(value, code):
    assert norm.type_codes(value) == code


@pytest.mark.parametrize("value,expected", [
    ("25001", "25-001"), ("25 001", "25-001"), ("25-001", "25-001"), ("2123", "02-123"), ("abc", "abc"), ("", ""),
])
def test_postal_codes(value, expected):
    assert norm.postal_code(value) == expected


@pytest.mark.parametrize("value,expected", [
    ("(0-41) 344-55-66", "+48 41 344 55 66"), ("600123456", "+48 600 123 456"),
    ("+48 600 123 456; 41 3445566", "+48 600 123 456, +48 41 344 55 66"), ("0048413445566", "+48 41 344 55 66"),
    ("tel. 41 344 55 66", "+48 41 344 55 66"), ("123", "123"),
])
def test_phones(value, expected):
    assert norm.phone(value) == expected


# --- the command ----------------------------------------------------------------------------------

def test_cli_import_exit_codes(tmp_path, entities):
    runner = CliRunner()
    clean = make_xlsx(tmp_path / "czysty.xlsx", rows=XLSX_ROWS[:3])
    result = runner.invoke(cli(), ["import", str(clean), "-o", str(entities)])
    assert result.exit_code == 0, result.output
    assert "dodano 2, zmieniono 1" in result.output
    dirty = make_xlsx(tmp_path / "brudny.xlsx")
    result = runner.invoke(cli(), ["import", str(dirty), "-o", str(entities)])
    assert result.exit_code == 1, result.output
    assert (tmp_path / "brudny.odrzucone.csv").exists()
    assert "wiersz 7, kolumna nip" in result.output
    result = runner.invoke(cli(), ["import", str(tmp_path / "brak.xlsx"), "-o", str(entities)])
    assert result.exit_code == 2
    assert result.output.strip().startswith("Błąd:") and len(result.output.strip().splitlines()) == 1


def test_cli_import_dry_run_writes_nothing(tmp_path, entities):
    before = entities.read_bytes()
    xlsx = make_xlsx(tmp_path / "rejestr.xlsx")
    result = CliRunner().invoke(cli(), ["import", str(xlsx), "-o", str(entities), "--dry-run"])
    assert result.exit_code == 1 and "dry-run" in result.output
    assert entities.read_bytes() == before and not (tmp_path / "rejestr.odrzucone.csv").exists()


def test_cli_import_then_geocode(tmp_path, entities):
    runner = CliRunner()
    xlsx = make_xlsx(tmp_path / "rejestr.xlsx", rows=XLSX_ROWS[:2])
    assert runner.invoke(cli(), ["import", str(xlsx), "-o", str(entities)]).exit_code == 0
    result = runner.invoke(cli(), ["geocode", str(entities), "--offline", "--quiet", "--no-cache"])
    assert result.exit_code == 0, result.output
    out = read_table(entities).set_index("id")
    ss = out.loc[stable_id("Spółdzielnia Socjalna „Testowa”", "Jędrzejów")]
    assert (ss["location_precision"], ss["geocoder"]) == ("locality", "gazetteer:PRNG 2021")  # within gm. 2602023
    wtz = out.loc[stable_id("Warsztat Terapii Zajęciowej „Testowy”", "Belno")]
    assert (wtz["location_precision"], wtz["lat"]) == ("locality", "50.817500")   # Belno in gm. Bieliny


def test_bad_mapping_exits_2(tmp_path, entities):
    path = tmp_path / "odd.csv"
    path.write_text(ODD_EXPORT, encoding="utf-8")
    mapping = tmp_path / "m.csv"
    mapping.write_text("Podmiot,nazwa_podmiotu\n", encoding="utf-8")
    result = CliRunner().invoke(cli(), ["import", str(path), "-o", str(entities), "--mapping", str(mapping)])
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1
