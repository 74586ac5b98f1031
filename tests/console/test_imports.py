"""The console's adapter to the importer: files refused before parsing, the mapping step, the preview."""
from __future__ import annotations

import csv
import io
import zipfile

import pytest

from geoes.console import imports
from geoes.console.imports import Limits, UploadRefused

from .helpers import (csv_bytes, lying_sizes, register_rows, supplement, xlsx_bomb, xlsx_bytes,
                      xlsx_with_big_sheet)

LIMITS = Limits(max_bytes=10 * 1024 * 1024, max_unpacked=64 * 1024 * 1024, max_rows=100_000)


def test_real_register_files_pass_the_checks():
    rows = register_rows("swk-n001", "swk-n024")
    assert imports.check_upload(xlsx_bytes(rows), "rejestr.xlsx", LIMITS) == "xlsx"
    for encoding in ("utf-8", "utf-8-sig", "cp1250"):
        for sep in (";", ","):
            data = csv_bytes(rows, sep=sep, encoding=encoding)
            assert imports.check_upload(data, "rejestr.csv", LIMITS) == "csv"


def test_zip_bomb_is_refused_by_what_it_inflates_to():
    bomb = xlsx_bomb(300 * 1024 * 1024)
    assert len(bomb) < 2 * 1024 * 1024  # small on the wire
    with pytest.raises(UploadRefused) as err:
        imports.check_upload(bomb, "bomba.xlsx", LIMITS)
    assert "po rozpakowaniu" in err.value.description and "bomba.xlsx" in err.value.description


def test_zip_bomb_with_lying_sizes_is_refused():
    """The archive's headers understate the sheet's size: the declared sizes pass the first check, and
    inflating stops at the declared size and fails its checksum — refused either way, never inflated."""
    honest = xlsx_with_big_sheet(40 * 1024 * 1024)
    small = Limits(LIMITS.max_bytes, 8 * 1024 * 1024, LIMITS.max_rows)
    with pytest.raises(UploadRefused, match="po rozpakowaniu"):
        imports.check_upload(honest, "bomba.xlsx", small)
    lying = lying_sizes(honest, "xl/worksheets/sheet1.xml", 1000)
    z = zipfile.ZipFile(io.BytesIO(lying))
    assert sum(i.file_size for i in z.infolist()) < small.max_unpacked
    with pytest.raises(UploadRefused) as err:
        imports.check_upload(lying, "bomba.xlsx", small)
    assert "bomba.xlsx" in err.value.description


def test_binary_and_mislabelled_files_are_refused():
    for data, name, words in (
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40, "rejestr.xlsx", "nie jest plik XLSX"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 2000, "rejestr.xlsx", "nie jest plik XLSX"),
        (xlsx_bytes(register_rows("swk-n001")), "rejestr.csv", "ZIP"),
        (b"\x00\x01\x02binary" * 100, "rejestr.csv", "binarne"),
        (b"%PDF-1.4 ...", "rejestr.pdf", "nieobsługiwany"),
        (b"", "rejestr.csv", "pusty"),
        (b"a;b\n", "stary.xls", ".xls"),
    ):
        with pytest.raises(UploadRefused) as err:
            imports.check_upload(data, name, LIMITS)
        assert words in err.value.description, (name, err.value.description)


def test_xlsx_without_workbook_parts_is_refused():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("readme.txt", "to nie arkusz")
    with pytest.raises(UploadRefused, match="nie jest plik XLSX"):
        imports.check_upload(buf.getvalue(), "rejestr.xlsx", LIMITS)


def test_over_limit_and_million_rows_are_refused():
    with pytest.raises(UploadRefused, match="największy przyjmowany"):
        imports.check_upload(b"x" * (LIMITS.max_bytes + 1), "duzy.csv", LIMITS)
    million = b"Nazwa;Typ\r\n" + b"a;b\r\n" * 1_000_000
    assert len(million) < LIMITS.max_bytes
    with pytest.raises(UploadRefused, match="1000001 wierszy"):
        imports.check_upload(million, "milion.csv", LIMITS)
    rows = [[str(i), "x", "wtz", "", "", "", "", ""] for i in range(300)]
    with pytest.raises(UploadRefused, match="arkusze mają 301 wierszy"):
        imports.check_upload(xlsx_bytes(rows), "rejestr.xlsx", Limits(LIMITS.max_bytes, LIMITS.max_unpacked, 200))


def _write(tmp_path, data: bytes, name: str):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_mapping_of_known_headers_needs_no_confirmation(tmp_path):
    path = _write(tmp_path, xlsx_bytes(register_rows("swk-n024", "swk-n001")), "r.xlsx")
    proposal = imports.propose_mapping(path)
    assert not proposal.needs_confirmation
    by_header = {c.header: c for c in proposal.columns}
    assert by_header["Nazwa podmiotu"].target == "name" and by_header["Nazwa podmiotu"].status == "ok"
    assert by_header["Lp."].status == "unknown" and by_header["Lp."].target == ""
    short, long = supplement("swk-n024", "swk-n001")
    assert by_header["Nazwa podmiotu"].samples == [short["nazwa"], long["nazwa"][:79] + "…"]


def test_competing_columns_and_guesses_ask_for_confirmation(tmp_path):
    headers = ["Nazwa", "Nazwa podmiotu", "Typ PES (wg rejestru)", "Miejscowość"]
    rows = [[r["nazwa"], r["nazwa"], r["typ"], r["miejscowosc"]] for r in supplement("swk-n024")]
    path = _write(tmp_path, csv_bytes(rows, headers), "r.csv")
    proposal = imports.propose_mapping(path)
    assert proposal.needs_confirmation
    assert [c.status for c in proposal.columns] == ["conflict", "conflict", "guess", "ok"]
    assert proposal.columns[2].target == "types" and proposal.missing == []
    with pytest.raises(Exception, match="dwóch kolumn"):
        imports.confirm_mapping(proposal, {})
    confirmed = imports.confirm_mapping(proposal, {0: ""})
    assert not confirmed.needs_confirmation
    assert confirmed.mapping() == {"nazwa": "", "nazwa podmiotu": "name", "typ pes (wg rejestru)": "types",
                                   "miejscowość": "locality"}


def test_a_required_field_without_a_column_cannot_be_confirmed(tmp_path):
    headers = ["Nazwa", "Miejscowość"]
    rows = [[r["nazwa"], r["miejscowosc"]] for r in supplement("swk-n024")]
    proposal = imports.propose_mapping(_write(tmp_path, csv_bytes(rows, headers), "r.csv"))
    assert proposal.needs_confirmation and proposal.missing == ["types"]
    with pytest.raises(Exception, match="wymaganych: Typ"):
        imports.confirm_mapping(proposal, {})


def test_preview_lists_added_warned_and_rejected_with_reasons(tmp_path, cs_settings):
    from geoes.console.changes import read_register

    rows = register_rows("swk-n005", "swk-n025", "swk-n036", blank_type=("swk-n025",))
    path = _write(tmp_path, xlsx_bytes(rows), "r.xlsx")
    frame, _ignored = imports.read_rows(path, imports.propose_mapping(path).mapping())
    base = read_register(cs_settings)
    merged, shown = imports.preview(frame, base, cs_settings, "r.xlsx")
    assert [a["name"] for a in shown.added] == [supplement("swk-n005")[0]["nazwa"], supplement("swk-n036")[0]["nazwa"]]
    assert shown.rejected[0]["row"] == 3 and shown.rejected[0]["reasons"] == [["types", "pole wymagane jest puste"]]
    # Smyków is the name of four villages in the region: the row is kept, unplaced, with the candidates.
    warned = {w["row"]: w for w in shown.warned}
    assert "niejednoznaczna miejscowość" in warned[4]["reasons"][0][1]
    assert len(warned[4]["candidates"]) >= 2 and all(c["gmina_teryt"].startswith("26") for c in warned[4]["candidates"])
    assert len(merged) == len(base) + 2
    # The fix: the type the source gives for the entity; the row is then added and placed.
    merged, shown = imports.preview(frame, base, cs_settings, "r.xlsx", {"3": {"types": "inne"}})
    assert not shown.rejected
    added = {a["row"]: a for a in shown.added}
    assert added[3]["types"] == "inne" and added[3]["precision"] == "locality"


def test_rejects_csv_is_for_excel_and_can_be_uploaded_again(tmp_path, cs_settings):
    from geoes.console.changes import read_register

    rows = register_rows("swk-n025", blank_type=("swk-n025",))
    rows[0][1] = "=HYPERLINK(\"http://zlo.example\",\"klik\")" + rows[0][1]
    path = _write(tmp_path, csv_bytes(rows), "r.csv")
    frame, _ = imports.read_rows(path, imports.propose_mapping(path).mapping())
    _merged, shown = imports.preview(frame, read_register(cs_settings), cs_settings, "r.csv")
    data = imports.rejects_csv(shown, list(frame.columns))
    assert data.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert table[1][table[0].index("name")].startswith("'=HYPERLINK")  # neutralised
    assert "pole wymagane jest puste" in table[1][-1]
    again = _write(tmp_path, data, "odrzucone.csv")
    proposal = imports.propose_mapping(again)
    assert not proposal.needs_confirmation
    assert {c.target for c in proposal.columns} >= {"name", "types", "locality", "gmina"}
