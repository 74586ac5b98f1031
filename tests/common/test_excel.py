"""Files an operator opens in Excel: one writer of rows with reasons, bytes Excel reads right."""
import csv
import io

import pandas as pd

from geoes.common.excel import csv_bytes, write_rejects


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
