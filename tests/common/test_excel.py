"""Files as offices write them and files an operator opens in Excel: the one reader (XLSX and CSV,
refusals with a clear Polish message) and the one writer of rows with reasons."""
from __future__ import annotations

import csv
import io
import zipfile

import pandas as pd
import pytest
from openpyxl import Workbook

from geoes.common.excel import ReadLimits, UnreadableFile, csv_bytes, read_office_file, sniff_delimiter, write_rejects

ROWS = [["Lp.", "Nazwa", "Miejscowość", "Szerokość"],
        ["1", "Spółdzielnia Socjalna „Źdźbło”", "Łagów", "50,7781"],
        ["2", "Koło Gospodyń Wiejskich; „Żółte Łąki”", "Brzeziny", "50,6156"]]


def _csv(rows, sep, quote_all=False) -> str:
    def cell(c):
        return f'"{c}"' if quote_all or sep in c else c
    return "\r\n".join(sep.join(cell(c) for c in r) for r in rows) + "\r\n"


@pytest.mark.parametrize("encoding", ["cp1250", "utf-8-sig", "utf-8", "utf-16"])
@pytest.mark.parametrize("sep", [";", ",", "\t"])
def test_csv_in_every_encoding_and_delimiter_excel_writes(tmp_path, encoding, sep):
    path = tmp_path / "rejestr.csv"
    path.write_bytes(_csv(ROWS, sep).encode(encoding))
    office = read_office_file(path)
    assert office.kind == "csv" and office.delimiter == sep
    rows = office.sheets[0].rows
    assert [cells for _, cells in rows] == ROWS        # Polish letters intact, the quoted ';' kept in its cell
    assert [n for n, _ in rows] == [1, 2, 3]


def test_row_numbers_are_excels_with_blank_rows_and_line_breaks_in_cells(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text('Tytuł eksportu;;\r\n;;\r\nNazwa;Opis;Typ\r\nA;"dwie\r\nlinie";wtz\r\nB;x;cis\r\n', encoding="utf-8")
    rows = read_office_file(path).sheets[0].rows
    assert [n for n, _ in rows] == [1, 3, 4, 5]
    assert rows[2][1] == ["A", "dwie\r\nlinie", "wtz"]


def test_delimiter_is_the_consistent_one():
    text = "Nazwa,Opis,Typ\nA,\"tak; nie; może\",wtz\nB,\"x; y\",cis\n"
    assert sniff_delimiter(text) == ","
    assert sniff_delimiter("Nazwa;Kwota\nA;1,5\nB;2,75\n") == ";"


def test_xlsx_values_as_text(tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.title = "Rejestr"
    ws.append(["Tytuł"])
    ws.append([])
    ws.append(["Nazwa", "KRS", "Kod", "Zatrudnieni", "Szerokość", "Data"])
    ws.append(["A", 198087, 28300, 12.0, 50.6389, pd.Timestamp("2024-03-01").to_pydatetime()])
    second = wb.create_sheet("Inny")
    second.append(["x"])
    path = tmp_path / "r.xlsx"
    wb.save(path)
    office = read_office_file(path)
    assert [s.name for s in office.sheets] == ["Rejestr", "Inny"]
    rows = office.sheets[0].rows
    assert rows[0] == (1, ["Tytuł"]) and rows[1][0] == 3
    assert rows[2] == (4, ["A", "198087", "28300", "12", "50.6389", "2024-03-01"])


def _zip(path, members: dict[str, bytes]):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def test_xlsx_bomb_is_refused_before_openpyxl_reads_it(tmp_path):
    # A few hundred kB that inflate to 300 MB: the declared sizes are checked first.
    path = tmp_path / "bomba.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/workbook.xml", "<workbook/>")
        with zf.open("xl/worksheets/sheet1.xml", "w") as member:
            chunk = b" " * 2**20
            for _ in range(300):
                member.write(chunk)
    assert path.stat().st_size < 2 * 2**20
    with pytest.raises(UnreadableFile, match="po rozpakowaniu ma 300,0 MB") as info:
        read_office_file(path)
    assert str(path) in info.value.description


@pytest.mark.parametrize("name,content,message", [
    ("rejestr.xlsx", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "nie jest skoroszytem Excela"),
    ("rejestr.xlsx", "Nazwa;Typ\r\nA;wtz\r\n".encode("cp1250"), "nie jest skoroszytem Excela"),
    ("rejestr.csv", b"\x00\x01\x02\x03" * 100, "dane binarne"),
    ("rejestr.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 500, "stary format Excela"),
    ("rejestr.dat", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 500, "stary format Excela"),
    ("rejestr.ods", b"PK\x03\x04", "OpenDocument"),
    ("rejestr.csv", b"", "pusty"),
])
def test_files_that_are_not_what_they_claim(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(UnreadableFile, match=message) as info:
        read_office_file(path)
    assert str(path) in info.value.description and info.value.exit_code == 2 and info.value.http_status == 400


def test_zip_that_is_not_a_workbook(tmp_path):
    path = _zip(tmp_path / "r.xlsx", {"a.txt": b"x"})
    with pytest.raises(UnreadableFile, match="nie skoroszyt"):
        read_office_file(path)
    csv_named = _zip(tmp_path / "r.csv", {"xl/workbook.xml": b"<workbook/>"})
    with pytest.raises(UnreadableFile, match="nadaj mu rozszerzenie .xlsx"):
        read_office_file(csv_named)


def test_file_over_the_size_limit(tmp_path):
    path = tmp_path / "duzy.csv"
    path.write_text("Nazwa;Typ\n" + "A;wtz\n" * 1000, encoding="utf-8")
    with pytest.raises(UnreadableFile, match="za duży"):
        read_office_file(path, ReadLimits(max_bytes=1000))


def test_a_million_row_csv_is_refused_while_reading(tmp_path):
    path = tmp_path / "milion.csv"
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("Nazwa;Typ\n")
        for _ in range(10):
            fh.write("Fundacja X;ngo\n" * 100_000)
    with pytest.raises(UnreadableFile, match="więcej niż 100000 wierszy"):
        read_office_file(path)                      # default limits: GEOES_IMPORT_MAX_ROWS
    ok = read_office_file(path, ReadLimits(max_rows=None))
    assert len(ok.sheets[0].rows) == 1_000_001


# --- writing ---------------------------------------------------------------------------------------


def _rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_rejects_file_has_bom_polish_letters_and_neutralised_cells(tmp_path):
    frame = pd.DataFrame({"row": [3, 7], "column": ["types", "nip"],
                          "reason": ["nieznany typ „warsztat”", "NIP: błędna suma kontrolna"],
                          "name": ["=HYPERLINK(\"http://zły\")", "Spółdzielnia Socjalna Łączy Nas"],
                          "phone": ["+48 41 000 00 00", ""]})
    path = write_rejects(frame, tmp_path / "sub" / "odrzucone.csv")
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")                 # Excel reads UTF-8 only with the BOM
    assert b"\r\n" in data and data.count(b"\n") == data.count(b"\r\n")
    rows = _rows(data)
    assert rows[0] == ["row", "column", "reason", "name", "phone"]
    assert rows[1][3] == "'=HYPERLINK(\"http://zły\")" and rows[1][4] == "'+48 41 000 00 00"
    assert rows[2][3] == "Spółdzielnia Socjalna Łączy Nas" and rows[2][0] == "7"
    assert not list(tmp_path.joinpath("sub").glob(".*"))     # no temporary file left beside it


def test_write_rejects_replaces_the_old_file_whole(tmp_path):
    path = tmp_path / "r.csv"
    write_rejects(pd.DataFrame({"row": range(100), "reason": ["x"] * 100}), path)
    write_rejects(pd.DataFrame({"row": [2], "reason": ["jeden"]}), path)
    assert _rows(path.read_bytes()) == [["row", "reason"], ["2", "jeden"]]


def test_csv_bytes_leaves_the_callers_frame_alone():
    frame = pd.DataFrame({"name": ["=1+1"]})
    csv_bytes(frame)
    assert frame.loc[0, "name"] == "=1+1"


def _shared_strings_workbook(path, n: int, part: str = "xl/sharedStrings.xml") -> None:
    """A real one-sheet workbook (openpyxl) whose shared strings part is replaced by n one-letter strings —
    the 229 kB file of the security probe held 5.5 million of them."""
    import zipfile

    from openpyxl import Workbook

    wb = Workbook()
    wb.active.append(["Nazwa", "Typ"])
    wb.active.append(["a", "b"])
    wb.save(path)
    with zipfile.ZipFile(path) as zf:
        members = {i.filename: zf.read(i) for i in zf.infolist()}
    body = b"<si><t>a</t></si>" * n
    members.pop("xl/sharedStrings.xml", None)
    members[part] = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst xmlns="http://schemas.openxml'
                     b'formats.org/spreadsheetml/2006/main" count="%d" uniqueCount="%d">' % (n, n) + body + b"</sst>")
    types = members["[Content_Types].xml"].decode()
    if part != "xl/sharedStrings.xml":     # declared under another name, as openpyxl and Excel will read it
        types = types.replace("</Types>", f'<Override PartName="/{part}" ContentType="application/vnd.openxml'
                              'formats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
        rels = members["xl/_rels/workbook.xml.rels"].decode()
        members["xl/_rels/workbook.xml.rels"] = rels.replace("sharedStrings.xml", part.split("/", 1)[1]).encode()
    members["[Content_Types].xml"] = types.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, data in members.items():
            zf.writestr(name, data)


@pytest.mark.parametrize("part", ["xl/sharedStrings.xml", "xl/teksty.xml"])
def test_millions_of_shared_strings_are_refused_before_openpyxl_builds_them(tmp_path, part):
    import time

    from geoes.common.excel import ReadLimits, UnreadableFile, read_office_file

    path = tmp_path / "rejestr.xlsx"
    _shared_strings_workbook(path, 5_500_000, part)
    assert path.stat().st_size < 400_000
    started = time.perf_counter()
    with pytest.raises(UnreadableFile, match="ponad 1 000 000 różnych tekstów"):
        read_office_file(path, ReadLimits())
    assert time.perf_counter() - started < 20       # a DoS regression bound; openpyxl took 67 s
    # A workbook within the bound is read as before.
    _shared_strings_workbook(path, 1000, part)
    assert read_office_file(path, ReadLimits()).sheets[0].rows[0][1][0] == "Nazwa"
