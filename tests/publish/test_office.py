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

from geoes.publish import tables, xlsx

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
    ("/api/indicators?level=powiat&format=csv&dialect=excel-pl", "teryt"),
    ("/api/indicators?level=gmina&format=csv&dialect=excel-pl", "teryt"),
    ("/api/entities.geojson?format=csv&dialect=excel-pl", "id"),
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
        for col in ("entities_per_10k", "access_10km_pct", "population", "employees"):
            if col in columns and expected[col] not in ("",):
                assert isinstance(cell[col], (int, float)), (col, cell[col])
                assert cell[col] == pytest.approx(float(expected[col].replace(",", ".")))


def test_xlsx_types_freeze_filter_widths_and_about():
    data = xlsx.to_xlsx(CODES, "kody", [("Źródła danych", "GUGiK PRG"), ("Metoda: radius", 10000)])
    wb = load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["kody", "Informacje"]
    ws = wb["kody"]
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == "A1:H3"
    header = [c.value for c in ws[1]]
    assert header == list(CODES.columns) and all(c.font.bold for c in ws[1])
    cells = {h: c for h, c in zip(header, ws[2])}
    assert cells["teryt"].value == "0201011" and cells["teryt"].data_type == "s" and cells["teryt"].number_format == "@"
    assert cells["postal_code"].value == "02-001" and cells["krs"].value == "0000123456"
    assert cells["entities_per_10k"].value == 11.1 and cells["entities_per_10k"].data_type == "n"
    assert cells["employees"].value == 5 and cells["employees"].number_format == "0"
    assert cells["city_county"].value is True
    assert cells["name"].data_type == "s" and cells["name"].value.startswith("=HYPERLINK")  # text, not a formula
    assert ws[3][header.index("krs")].value is None
    widths = {h: ws.column_dimensions[c.column_letter].width for h, c in cells.items()}
    assert widths["name"] > widths["teryt"] >= len("teryt") and max(widths.values()) <= xlsx.MAX_WIDTH
    about = {r[0]: r[1] for r in wb["Informacje"].iter_rows(values_only=True)}
    assert about["Źródła danych"] == "GUGiK PRG" and about["Metoda: radius"] == "10000"


def test_api_xlsx_downloads(client, tmp_path):
    from geoes.web.served import served_data

    ds = served_data(client.application).current()
    r = client.get("/api/entities.geojson?format=xlsx")
    assert r.status_code == 200 and r.content_type == xlsx.MIME
    assert r.headers["Content-Disposition"].endswith('.xlsx"')
    wb = load_workbook(io.BytesIO(r.data))
    ws = wb["entities"]
    header = [c.value for c in ws[1]]
    assert {"lon", "lat", "krs", "employees"} <= set(header) and ws.max_row == len(ds.entities) + 1
    by_id = {row[header.index("id")]: dict(zip(header, row)) for row in ws.iter_rows(min_row=2, values_only=True)}
    source = ds.entities.set_index("id")
    for fid, row in by_id.items():
        assert (row["krs"] or "") == source.loc[fid, "krs"]
        emp = source.loc[fid, "employees"]
        assert row["employees"] == (None if pd.isna(emp) else int(emp))
    about = {r[0]: r[1] for r in wb["Informacje"].iter_rows(values_only=True)}
    assert "GUGiK PRG" in about["Źródła danych"] and about["Wersja danych"] == ds.version
    assert any(k.startswith("Metoda:") for k in about)
    for level, n in (("powiat", 15), ("gmina", 103)):
        wb = load_workbook(io.BytesIO(client.get(f"/api/indicators?level={level}&format=xlsx").data))
        ws = wb.worksheets[0]
        assert ws.max_row == n + 1 and ws.freeze_panes == "A2"
        header = [c.value for c in ws[1]]
        first = dict(zip(header, [c for c in ws[2]]))
        assert first["teryt"].data_type == "s" and first["population"].data_type == "n"
        assert isinstance(first["rank_entities"].value, int)
    for layer in ("gminy", "powiaty"):
        ws = load_workbook(io.BytesIO(client.get(f"/api/{layer}.geojson?format=xlsx").data))[layer]
        header = [c.value for c in ws[1]]
        assert "wkt" not in header and "teryt" in header  # outlines stay in GeoPackage/GeoJSON


@needs_libreoffice
def test_libreoffice_opens_the_xlsx(client, tmp_path):
    path = tmp_path / "powiaty.xlsx"
    path.write_bytes(client.get("/api/indicators?level=powiat&format=xlsx").data)
    out = subprocess.run([SOFFICE, "--headless", "--norestore", f"-env:UserInstallation=file://{tmp_path}/profile",
                          "--convert-to", "csv:Text - txt - csv (StarCalc):59,34,76,1", "--outdir",
                          str(tmp_path / "out"), str(path)], capture_output=True, text=True, timeout=180)
    text = (tmp_path / "out" / "powiaty.csv").read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0][0] == "teryt" and len(rows) == 16, out.stderr
    assert [r[0] for r in rows[1:15]] == sorted(r[0] for r in rows[1:15]) and rows[1][0] == "2601"


def test_export_command_xlsx_and_excel_pl(runner, tmp_path):
    out = runner.invoke("export", "--layer", "powiaty", "--format", "xlsx", "-o", str(tmp_path / "p.xlsx"))
    assert out.exit_code == 0, out.output
    wb = load_workbook(tmp_path / "p.xlsx")
    assert wb.sheetnames == ["powiaty", "Informacje"] and wb["powiaty"].max_row == 15
    out = runner.invoke("export", "--layer", "entities", "--format", "csv", "--dialect", "excel-pl",
                        "-o", str(tmp_path / "e.csv"))
    assert out.exit_code == 0, out.output
    assert (tmp_path / "e.csv").read_bytes().startswith(b"\xef\xbb\xbfid;name;")
    out = runner.invoke("export", "--layer", "gminy", "--format", "csv", "-o", str(tmp_path / "g.csv"))
    assert out.exit_code == 0 and (tmp_path / "g.csvt").read_text().startswith('"String","String"')
    bad = runner.invoke("export", "--layer", "gminy", "--format", "gpkg", "--dialect", "excel-pl",
                        "-o", str(tmp_path / "g.gpkg"))
    assert bad.exit_code == 2 and "dialect" in bad.output
