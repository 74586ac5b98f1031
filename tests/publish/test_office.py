"""Office files: the `excel-pl` CSV and the XLSX downloads, read back the way an office reads them —
LibreOffice Calc (headless) importing the CSV with Polish settings, openpyxl reading the workbooks."""
from __future__ import annotations

import csv
import io
import shutil
import subprocess
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from geoes.publish import office, tables, xlsx

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
needs_libreoffice = pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) not installed")
# LibreOffice's CSV import options: separator ';' (59), text delimiter '"' (34), UTF-8 (76), from line 1,
# no column types, language pl-PL (1045: decimal comma, Polish dates) — what a Polish desktop opens with.
POLISH_CSV_FILTER = "CSV:59,34,76,1,,1045"

# Codes with leading zeros that type guessing would eat: a TERYT gmina code of woj. dolnośląskie
# (Bolesławiec, gmina miejska), a 10-digit KRS, a Warsaw postal code; and values that are not codes.
CODES = pd.DataFrame({
    "teryt": ["0201011", "2602011"],
    "krs": ["0000123456", None],
    "postal_code": ["02-001", "28-300"],
    "name": ['=HYPERLINK("http://example.invalid/","x")', "Spółdzielnia \"Łąka\"; Jędrzejów"],
    "phone": ["+48 41 000 00 00", None],
    "entities_per_10k": [11.1, 0.125],
    "employees": pd.array([5, None], dtype="Int64"),
    "city_county": [True, False],
})


def libreoffice_to_xlsx(csv_path: Path, out_dir: Path) -> Path:
    out = subprocess.run([SOFFICE, "--headless", "--norestore", f"-env:UserInstallation=file://{out_dir}/profile",
                          f"--infilter={POLISH_CSV_FILTER}", "--convert-to", "xlsx", "--outdir", str(out_dir),
                          str(csv_path)], capture_output=True, text=True, timeout=180)
    result = out_dir / (csv_path.stem + ".xlsx")
    assert result.exists(), out.stdout + out.stderr
    return result


def sheet_rows(path: Path) -> list[tuple]:
    return list(load_workbook(path, data_only=True).worksheets[0].iter_rows(values_only=True))


def test_excel_pl_bytes():
    data = tables.to_csv(CODES, "excel-pl")
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    assert text.count("\r\n") == 3 and "\n" not in text.replace("\r\n", "")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0] == list(CODES.columns)
    first = dict(zip(rows[0], rows[1]))
    assert first["teryt"] == '="0201011"' and first["krs"] == '="0000123456"' and first["postal_code"] == '="02-001"'
    assert first["name"].startswith("'=HYPERLINK") and first["phone"] == "'+48 41 000 00 00"  # neutralised
    assert first["entities_per_10k"] == "11,1" and first["employees"] == "5" and first["city_county"] == "tak"
    second = dict(zip(rows[0], rows[2]))
    assert second["krs"] == "" and second["employees"] == "" and second["name"] == 'Spółdzielnia "Łąka"; Jędrzejów'


def test_gis_csv_stays_comma_and_point():
    text = tables.to_csv(CODES, "gis").decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    first = dict(zip(rows[0], rows[1]))
    assert first["teryt"] == "0201011" and first["entities_per_10k"] == "11.1" and first["employees"] == "5"
    assert first["name"].startswith("'=") and first["phone"] == "'+48 41 000 00 00"
    assert tables.csvt_line(CODES) == '"String","String","String","String","String","Real","Integer","String"\r\n'


@needs_libreoffice
def test_libreoffice_polish_reads_excel_pl_csv(tmp_path):
    path = tmp_path / "kody.csv"
    path.write_bytes(tables.to_csv(CODES, "excel-pl"))
    rows = sheet_rows(libreoffice_to_xlsx(path, tmp_path))
    assert list(rows[0]) == list(CODES.columns)
    first, second = dict(zip(rows[0], rows[1])), dict(zip(rows[0], rows[2]))
    assert first["teryt"] == "0201011" and first["krs"] == "0000123456" and first["postal_code"] == "02-001"
    assert second["postal_code"] == "28-300" and second["krs"] is None
    assert first["entities_per_10k"] == 11.1 and second["entities_per_10k"] == 0.125  # numbers, not dates
    assert first["employees"] == 5 and second["employees"] is None
    assert "HYPERLINK" in first["name"] and second["name"] == 'Spółdzielnia "Łąka"; Jędrzejów'
    formulas = load_workbook(tmp_path / "kody.xlsx").worksheets[0]
    name_col = list(CODES.columns).index("name") + 1
    assert formulas.cell(row=2, column=name_col).data_type == "s"  # shown as text, never run


@needs_libreoffice
@pytest.mark.parametrize("url,key", [
    ("/api/indicators?level=powiat&format=csv&dialect=excel-pl", "Kod TERYT"),
    ("/api/indicators?level=gmina&format=csv&dialect=excel-pl", "Kod TERYT"),
    ("/api/entities.geojson?format=csv&dialect=excel-pl", "Identyfikator"),
])
def test_libreoffice_polish_reads_the_downloads(client, tmp_path, url, key):
    """The indicators file that came out as one column with 15 values turned into dates now opens right."""
    data = client.get(url).data
    source = pd.read_csv(io.BytesIO(data), sep=";", decimal=",", dtype=str, encoding="utf-8-sig",
                         keep_default_na=False)
    path = tmp_path / "download.csv"
    path.write_bytes(data)
    rows = sheet_rows(libreoffice_to_xlsx(path, tmp_path))
    assert list(rows[0]) == list(source.columns)  # split into the right columns
    assert len(rows) == len(source) + 1
    values = [v for row in rows[1:] for v in row]
    assert not any(isinstance(v, (datetime, date)) for v in values)  # nothing turned into a date
    columns = list(rows[0])
    for row, (_, expected) in zip(rows[1:], source.iterrows()):
        cell = dict(zip(columns, row))
        code = expected[key].removeprefix('="').removesuffix('"')
        assert str(cell[key]) == code  # identifiers keep every digit, as text
        for col in ("Podmioty w rejestrze na 10 tys. mieszkańców", "Ludność (osoby)", "Zatrudnieni (osoby)",
                    "Powierzchnia w zasięgu 10 km od podmiotu z rejestru (%)", "Bezrobotni zarejestrowani (osoby)"):
            if col in columns and expected[col] not in ("",):
                assert isinstance(cell[col], (int, float)), (col, cell[col])
                assert cell[col] == pytest.approx(float(expected[col].replace(",", ".")))


def _by_name(rows: list[tuple]) -> dict[str, dict]:
    header = list(rows[0])
    return {row[header.index("Nazwa jednostki")]: dict(zip(header, row)) for row in rows[1:]}


@needs_libreoffice
def test_libreoffice_polish_csv_numbers_sum(client, tmp_path):
    """Opened in Calc with Polish settings, the county counts add up to the voivodeship's row."""
    path = tmp_path / "powiaty.csv"
    path.write_bytes(client.get("/api/indicators?level=powiat&format=csv&dialect=excel-pl").data)
    units = _by_name(sheet_rows(libreoffice_to_xlsx(path, tmp_path)))
    region = units.pop("świętokrzyskie")
    for col in ("Bezrobotni zarejestrowani (osoby)", "Podmioty w rejestrze", "Gminy ogółem",
                "Podmioty w rejestrze: WTZ"):
        assert all(isinstance(u[col], int) for u in units.values()), col
        assert sum(u[col] for u in units.values()) == region[col], col
    assert region["Poziom"] == "województwo" and units["jędrzejowski"]["Kod TERYT"] == "2602"


ENTITIES = pd.DataFrame({
    "id": ["swk-901", "swk-902"], "name": ['=HYPERLINK("http://example.invalid/","x")', "Spółdzielnia Łąka"],
    "types": ["cis;wtz", "spoldzielnia_socjalna"], "postal_code": ["02-001", None], "krs": ["0000123456", None],
    "phone": ["+48 41 000 00 00", None], "employees": pd.array([5, None], dtype="Int64"),
    "status": ["active", "unknown"], "gmina_mismatch": [True, False], "lat": [50.5, None],
    "verified_at": ["2026-11-25", None],
})


def test_xlsx_entity_sheet_text_codes_words_and_dates():
    """Entity text is a string even when it starts with '=' (shown, never run); codes are text with their
    zeros, types and statuses in words, dates are dates."""
    data = office.workbook(ENTITIES, "entities", None, [("Źródła danych", "GUGiK PRG")], "geoes – test")
    wb = load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["Podmioty", xlsx.COLUMNS_SHEET, xlsx.METHOD_SHEET]
    ws = wb["Podmioty"]
    header = [c.value for c in ws[1]]
    first = {h: c for h, c in zip(header, ws[2])}
    assert first["Nazwa"].data_type == "s" and first["Nazwa"].value.startswith("=HYPERLINK")
    assert first["Kod pocztowy"].value == "02-001" and first["Numer KRS"].value == "0000123456"
    assert first["Numer KRS"].number_format == "@" and first["Telefon"].value == "+48 41 000 00 00"
    assert first["Typ"].value == "Centrum Integracji Społecznej, Warsztat Terapii Zajęciowej"
    assert first["Zatrudnieni (osoby)"].value == 5 and first["Inna gmina niż według źródła"].value == "tak"
    assert first["Data weryfikacji"].value == datetime(2026, 11, 25)
    assert first["Szerokość geograficzna (WGS84)"].number_format == "#,##0.000000"
    second = {h: c.value for h, c in zip(header, ws[3])}
    assert second["Numer KRS"] is None and second["Zatrudnieni (osoby)"] is None
    method = {r[0]: r[1] for r in wb[xlsx.METHOD_SHEET].iter_rows(values_only=True)}
    assert method["Źródła danych"] == "GUGiK PRG"
    csv_text = office.csv_for_excel(ENTITIES, "entities").decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(csv_text), delimiter=";"))
    row = dict(zip(rows[0], rows[1]))
    assert row["Kod pocztowy"] == '="02-001"' and row["Nazwa"].startswith("'=HYPERLINK")
    assert row["Szerokość geograficzna (WGS84)"] == "50,5" and row["Telefon"] == "'+48 41 000 00 00"


def test_xlsx_people_sheets_types_formats_and_print(client):
    """The indicators' XLSX: Polish headers with units, no number stored as text, percent formats, empty
    left-out cells with the reason beside them, printed one page wide."""
    wb = load_workbook(io.BytesIO(client.get("/api/indicators?level=powiat&format=xlsx").data))
    assert wb.sheetnames == ["Wskaźniki", "Bezrobocie", "Podmioty według typu", "Miejsca wśród powiatów",
                             "Relacje do województwa", xlsx.COLUMNS_SHEET, xlsx.METHOD_SHEET]
    for ws in wb.worksheets[:5]:
        header = [c.value for c in ws[1]]
        assert header[:3] == ["Kod TERYT", "Nazwa jednostki", "Poziom"] and all(c.font.bold for c in ws[1])
        assert ws.freeze_panes == "C2" and ws.auto_filter.ref.startswith("A1:") and ws.max_row == 16
        assert ws.page_setup.orientation == "landscape" and ws.page_setup.fitToWidth == 1
        assert ws.page_setup.fitToHeight == 0 and ws.sheet_properties.pageSetUpPr.fitToPage
        assert ws.print_title_rows == "$1:$1" and ws.page_setup.paperSize == 9
        for row in ws.iter_rows(min_row=2):
            for head, cell in zip(header, row):
                if head in ("Kod TERYT", "Nazwa jednostki", "Poziom") or head.startswith("Uwagi"):
                    assert cell.value is None or cell.data_type == "s"
                else:  # every other column is numeric: a number or an empty cell, never text
                    assert cell.value is None or isinstance(cell.value, (int, float)), (ws.title, head, cell.value)
        widths = [ws.column_dimensions[c.column_letter].width for c in ws[1]]
        assert all(6 < w <= xlsx.MAX_WIDTH for w in widths)
    main = wb["Wskaźniki"]
    header = [c.value for c in main[1]]
    row = {h: c for h, c in zip(header, main[3])}  # 2602 jędrzejowski
    assert row["Kod TERYT"].value == "2602" and row["Kod TERYT"].number_format == "@"
    assert row["Ludność (osoby)"].value == 80370 and row["Ludność (osoby)"].number_format == "#,##0"
    share = row["Gminy z podmiotem w rejestrze (%)"]
    assert share.value == pytest.approx(0.111) and share.number_format == "0.0%"
    assert row["Zatrudnieni w podmiotach z rejestru (osoby)"].value is None  # left out: too few headcounts
    assert "Zatrudnieni w podmiotach z rejestru" in row["Uwagi: wartości pominięte i powody"].value
    assert "za mało danych" in row["Uwagi: wartości pominięte i powody"].value
    need = {h.value: c for h, c in zip(wb["Bezrobocie"][1], wb["Bezrobocie"][3])}
    assert need["Bezrobotni zarejestrowani (osoby)"].value == 1548
    assert isinstance(need["Bezrobotni zarejestrowani (osoby)"].value, int)
    assert need["Stopa bezrobocia rejestrowanego (%)"].value == pytest.approx(0.06)
    places = {h.value: c.value for h, c in zip(wb["Miejsca wśród powiatów"][1], wb["Miejsca wśród powiatów"][3])}
    assert isinstance(places["Miejsca wśród powiatów: Podmioty w rejestrze na 10 tys. mieszkańców".replace(
        "Miejsca", "Miejsce")], int)


def test_xlsx_describes_every_column(client):
    """"Opis kolumn" describes every column of the data sheets, with its source and its name in GIS files."""
    wb = load_workbook(io.BytesIO(client.get("/api/indicators?level=gmina&format=xlsx").data))
    described = {r[0]: r for r in wb[xlsx.COLUMNS_SHEET].iter_rows(min_row=2, values_only=True)}
    for ws in wb.worksheets[:5]:
        for cell in ws[1]:
            name, sheets, meaning, source, machine = described[cell.value]
            assert ws.title in sheets and meaning and source and machine, cell.value
    assert described["Miejsce wśród gmin: Podmioty w rejestrze na 10 tys. mieszkańców"][4] == "rank_entities_per_10k"
    method = {r[0]: r[1] for r in wb[xlsx.METHOD_SHEET].iter_rows(min_row=2, values_only=True)}
    assert "WTZ: w rejestrze 22 z 26 znanych" in method["Kompletność rejestru"]
    assert "RYNE/1944" in method["Bezrobocie"] and "Zasięg 10 km" in method
    assert method["Rok danych o bezrobociu"] == "2024"


def test_api_xlsx_downloads(client, tmp_path):
    from geoes.web.served import served_data

    ds = served_data(client.application).current()
    r = client.get("/api/entities.geojson?format=xlsx")
    assert r.status_code == 200 and r.content_type == xlsx.MIME
    assert r.headers["Content-Disposition"].endswith('.xlsx"')
    wb = load_workbook(io.BytesIO(r.data))
    assert wb.sheetnames == ["Podmioty", xlsx.COLUMNS_SHEET, xlsx.METHOD_SHEET]
    ws = wb["Podmioty"]
    header = [c.value for c in ws[1]]
    assert {"Długość geograficzna (WGS84)", "Numer KRS", "Zatrudnieni (osoby)", "Typ"} <= set(header)
    assert ws.max_row == len(ds.entities) + 1
    by_id = {row[header.index("Identyfikator")]: dict(zip(header, row))
             for row in ws.iter_rows(min_row=2, values_only=True)}
    source = ds.entities.set_index("id")
    for fid, row in by_id.items():
        assert (row["Numer KRS"] or "") == source.loc[fid, "krs"]
        emp = source.loc[fid, "employees"]
        assert row["Zatrudnieni (osoby)"] == (None if pd.isna(emp) else int(emp))
        assert row["Status"] in ("działa", "nie działa", "nieznany") or row["Status"] == source.loc[fid, "status"]
    assert "Warsztat Terapii Zajęciowej" in {t for row in by_id.values() for t in str(row["Typ"]).split(", ")}
    about = {r[0]: r[1] for r in wb[xlsx.METHOD_SHEET].iter_rows(values_only=True)}
    assert "GUGiK PRG" in about["Źródła danych"] and about["Wersja danych"] == ds.version
    assert "Zasady małych liczb" in about and "Liczone podmioty" in about
    for level, n in (("powiat", 15), ("gmina", 103)):
        wb = load_workbook(io.BytesIO(client.get(f"/api/indicators?level={level}&format=xlsx").data))
        ws = wb.worksheets[0]
        assert ws.max_row == n + 1 and ws.freeze_panes == "C2"
    for layer in ("gminy", "powiaty"):
        wb = load_workbook(io.BytesIO(client.get(f"/api/{layer}.geojson?format=xlsx").data))
        header = [c.value for c in wb["Wskaźniki"][1]]
        assert "wkt" not in header and "Kod TERYT" in header  # outlines stay in GeoPackage/GeoJSON


@needs_libreoffice
def test_libreoffice_opens_the_xlsx_with_numbers_that_sum(client, tmp_path):
    path = tmp_path / "powiaty.xlsx"
    path.write_bytes(client.get("/api/indicators?level=powiat&format=xlsx").data)
    out = subprocess.run([SOFFICE, "--headless", "--norestore", f"-env:UserInstallation=file://{tmp_path}/profile",
                          "--convert-to", "xlsx", "--outdir", str(tmp_path / "out"), str(path)],
                         capture_output=True, text=True, timeout=180)
    resaved = tmp_path / "out" / "powiaty.xlsx"
    assert resaved.exists(), out.stdout + out.stderr
    wb = load_workbook(resaved, data_only=True)
    for title in ("Wskaźniki", "Bezrobocie", "Podmioty według typu"):
        units = _by_name(list(wb[title].iter_rows(values_only=True)))
        region = units.pop("świętokrzyskie")
        assert [u["Kod TERYT"] for u in units.values()][:2] == ["2601", "2602"]
        counts = [h for h in region if h in ("Podmioty w rejestrze", "Gminy ogółem", "Bezrobotni zarejestrowani (osoby)")
                  or h.startswith("Podmioty w rejestrze: ")]
        assert counts, title
        for col in counts:
            assert all(isinstance(u[col], (int, float)) for u in units.values()), (title, col)
            assert sum(u[col] for u in units.values()) == region[col], (title, col)


def test_export_command_xlsx_and_excel_pl(runner, tmp_path):
    out = runner.invoke("export", "--layer", "powiaty", "--format", "xlsx", "-o", str(tmp_path / "p.xlsx"))
    assert out.exit_code == 0, out.output
    wb = load_workbook(tmp_path / "p.xlsx")
    assert wb.sheetnames[0] == "Wskaźniki" and wb["Wskaźniki"].max_row == 15
    assert wb.sheetnames[-2:] == [xlsx.COLUMNS_SHEET, xlsx.METHOD_SHEET]
    out = runner.invoke("export", "--layer", "entities", "--format", "csv", "--dialect", "excel-pl",
                        "-o", str(tmp_path / "e.csv"))
    assert out.exit_code == 0, out.output
    assert (tmp_path / "e.csv").read_bytes().startswith("\ufeffIdentyfikator;Nazwa;Typ;".encode("utf-8"))
    out = runner.invoke("export", "--layer", "gminy", "--format", "csv", "-o", str(tmp_path / "g.csv"))
    assert out.exit_code == 0 and (tmp_path / "g.csvt").read_text().startswith('"String","String"')
    assert (tmp_path / "g.csv").read_text(encoding="utf-8-sig").startswith("teryt,name,")  # GIS: machine names
    bad = runner.invoke("export", "--layer", "gminy", "--format", "gpkg", "--dialect", "excel-pl",
                        "-o", str(tmp_path / "g.gpkg"))
    assert bad.exit_code == 2 and "dialect" in bad.output


@pytest.mark.parametrize("level", ["powiat", "gmina"])
def test_the_csv_for_excel_has_the_xlsx_headers(client, level):
    """One vocabulary for people: the CSV for Excel has the XLSX's Polish headers (the XLSX spreads them
    over its sheets and keeps the file-wide ones on "Metoda i źródła"); the GIS CSV keeps machine names."""
    text = client.get(f"/api/indicators?level={level}&format=csv&dialect=excel-pl").data.decode("utf-8-sig")
    csv_headers = next(csv.reader(io.StringIO(text), delimiter=";"))
    wb = load_workbook(io.BytesIO(client.get(f"/api/indicators?level={level}&format=xlsx").data))
    sheets = {c.value for ws in wb.worksheets[:-2] for c in ws[1]}
    method = {r[0] for r in wb[xlsx.METHOD_SHEET].iter_rows(values_only=True)}
    assert set(csv_headers) - sheets <= method and {"Kompletność rejestru", "Rok danych o bezrobociu"} <= method
    assert sheets <= set(csv_headers)
    gis = client.get(f"/api/indicators?level={level}&format=csv").data.decode("utf-8-sig").split("\r\n")[0]
    assert gis.startswith("teryt,name,") and "entities_per_10k" in gis and "Kod TERYT" not in gis
