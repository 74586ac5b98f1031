"""The reader takes files as offices export them from Excel."""
import pytest

from geoes.register.record import UnreadableFile, read_table

ROWS = [
    ["Identyfikator", "Nazwa", "Typ", "Miejscowość", "Szerokość", "Długość", "Liczba zatrudnionych"],
    ["t-1", "Spółdzielnia Socjalna „Zielony Świętokrzyż”", "spoldzielnia_socjalna", "Jędrzejów", "50,6389", "20,3040", "12"],
    ["t-2", "Warsztat Terapii Zajęciowej w Sędziszowie", "wtz", "Sędziszów", "", "", ""],
]


def _csv(rows, sep):
    return "\r\n".join(sep.join(r) for r in rows) + "\r\n"


@pytest.mark.parametrize("encoding", ["cp1250", "utf-8-sig", "utf-8"])
@pytest.mark.parametrize("sep", [";", ","])
def test_reads_excel_exports(tmp_path, encoding, sep):
    rows = ROWS if sep == ";" else [[c.replace(",", ".") for c in r] for r in ROWS]
    path = tmp_path / "rejestr.csv"
    path.write_bytes(_csv(rows, sep).encode(encoding))
    frame = read_table(path)
    assert list(frame["name"]) == [ROWS[1][1], ROWS[2][1]]
    assert list(frame["row"]) == [2, 3]
    assert frame.loc[0, "locality"] == "Jędrzejów"
    assert frame.loc[0, "lat"] in ("50,6389", "50.6389")


def test_reads_xlsx(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    for r in ROWS:
        wb.active.append(r)
    path = tmp_path / "rejestr.xlsx"
    wb.save(path)
    frame = read_table(path)
    assert frame.loc[1, "name"] == ROWS[2][1]
    assert frame.loc[0, "employees"] == "12"


@pytest.mark.parametrize("content,message", [
    (b"", "pusty"),
    (b"\x00\x01\x02PK\x03\x04" * 10, "binarne"),
    ("kolumna;inna\r\n1;2\r\n".encode("cp1250"), "brak znanych kolumn"),
])
def test_unreadable_files_get_a_clear_message(tmp_path, content, message):
    path = tmp_path / "zly.csv"
    path.write_bytes(content)
    with pytest.raises(UnreadableFile, match=message) as info:
        read_table(path)
    assert str(path) in str(info.value)


def test_missing_file(tmp_path):
    with pytest.raises(UnreadableFile, match="nie można otworzyć"):
        read_table(tmp_path / "nie_ma.csv")
