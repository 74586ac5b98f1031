"""The console's adapter to the importer: files refused before anything is staged, the mapping step,
the preview and the fixes laid over the file's rows."""
from __future__ import annotations

import csv
import dataclasses
import io
import zipfile

import pytest

from geoes.console import imports
from geoes.console.changes import read_register
from geoes.console.imports import UploadRefused

from .helpers import (csv_bytes, lying_sizes, register_rows, supplement, xlsx_bomb, xlsx_bytes,
                      xlsx_with_big_sheet)


def _read(tmp_path, settings, data: bytes, name: str, **limits):
    path = tmp_path / name
    path.write_bytes(data)
    return imports.read_upload(path, name, dataclasses.replace(settings, **limits))


def _refused(tmp_path, settings, data, name, **limits) -> str:
    with pytest.raises(UploadRefused) as err:
        _read(tmp_path, settings, data, name, **limits)
    assert name in err.value.description  # the message names the file as the operator sent it
    return err.value.description


def test_real_register_files_are_read(tmp_path, cs_settings):
    rows = register_rows("swk-n001", "swk-n024")
    assert _read(tmp_path, cs_settings, xlsx_bytes(rows), "rejestr.xlsx").kind == "xlsx"
    for encoding in ("utf-8", "utf-8-sig", "cp1250"):
        for sep in (";", ","):
            office = _read(tmp_path, cs_settings, csv_bytes(rows, sep=sep, encoding=encoding), "rejestr.csv")
            assert office.kind == "csv" and len(office.sheets[0].rows) == 3


def test_zip_bomb_is_refused(tmp_path, cs_settings):
    bomb = xlsx_bomb(300 * 1024 * 1024)
    assert len(bomb) < 2 * 1024 * 1024  # small on the wire
    assert "po rozpakowaniu" in _refused(tmp_path, cs_settings, bomb, "bomba.xlsx")


def test_zip_bomb_with_lying_sizes_is_refused(tmp_path, cs_settings):
    """The archive's headers understate the sheet's size: the declared sizes pass, and inflating stops at
    the declared size and fails its checksum — refused as damaged, never inflated."""
    honest = xlsx_with_big_sheet(40 * 1024 * 1024)
    assert "po rozpakowaniu" in _refused(tmp_path, cs_settings, honest, "bomba.xlsx", import_max_unpacked=8 << 20)
    lying = lying_sizes(honest, "xl/worksheets/sheet1.xml", 1000)
    assert sum(i.file_size for i in zipfile.ZipFile(io.BytesIO(lying)).infolist()) < 8 << 20
    assert "skoroszyt" in _refused(tmp_path, cs_settings, lying, "bomba.xlsx", import_max_unpacked=8 << 20)


def test_binary_and_mislabelled_files_are_refused(tmp_path, cs_settings):
    for data, name, words in (
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40, "rejestr.xlsx", "nie jest skoroszytem Excela"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 2000, "rejestr.xlsx", "stary format Excela"),
        (xlsx_bytes(register_rows("swk-n001")), "rejestr.csv", "archiwum ZIP"),
        (b"\x00\x01\x02binary" * 100, "rejestr.csv", "dane binarne"),
        (b"%PDF-1.4 tekst", "rejestr.pdf", "nieobsługiwany rodzaj pliku"),
        (b"", "rejestr.csv", "pusty"),
        (b"a;b\n", "stary.xls", ".xls"),
    ):
        assert words in _refused(tmp_path, cs_settings, data, name), name
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("readme.txt", "to nie arkusz")
    assert "nie skoroszyt Excela" in _refused(tmp_path, cs_settings, buf.getvalue(), "rejestr.xlsx")


def test_over_limit_and_a_million_rows_are_refused(tmp_path, cs_settings):
    assert "za duży" in _refused(tmp_path, cs_settings, b"x" * 2048, "duzy.csv", max_upload_bytes=1024)
    million = b"Nazwa;Typ\r\n" + b"a;b\r\n" * 1_000_000
    assert len(million) < cs_settings.max_upload_bytes
    assert "więcej niż 100000 wierszy danych" in _refused(tmp_path, cs_settings, million, "milion.csv")
    rows = [[str(i), "x", "wtz", "", "", "", "", ""] for i in range(300)]
    assert "więcej niż 200 wierszy" in _refused(tmp_path, cs_settings, xlsx_bytes(rows), "r.xlsx", import_max_rows=200)


def _propose(tmp_path, settings, data, name):
    return imports.propose(_read(tmp_path, settings, data, name), settings, name=name)


def test_mapping_of_known_headers_needs_no_confirmation(tmp_path, cs_settings):
    proposal, rows = _propose(tmp_path, cs_settings, xlsx_bytes(register_rows("swk-n024", "swk-n001")), "r.xlsx")
    assert not proposal.needs_confirmation
    by_header = {c.header: c for c in proposal.columns}
    assert by_header["Nazwa podmiotu"].target == "name" and by_header["Nazwa podmiotu"].status == "ok"
    assert by_header["Lp."].status == "skipped"   # an ordinal column
    short, long = supplement("swk-n024", "swk-n001")
    assert by_header["Nazwa podmiotu"].samples == [short["nazwa"], long["nazwa"][:79] + "…"]
    assert [n for n, _ in rows.data] == [2, 3]


def test_competing_columns_and_guesses_ask_for_confirmation(tmp_path, cs_settings):
    headers = ["Nazwa", "Nazwa podmiotu", "Typ", "Miejscowsc"]
    rows = [[r["nazwa"], r["nazwa"], r["typ"], r["miejscowosc"]] for r in supplement("swk-n024")]
    proposal, staged = _propose(tmp_path, cs_settings, csv_bytes(rows, headers), "r.csv")
    assert proposal.needs_confirmation
    assert [c.status for c in proposal.columns] == ["ok", "conflict", "ok", "guess"]
    assert proposal.columns[3].target == "locality" and proposal.conflicts
    with pytest.raises(Exception, match="wybrano dla kilku kolumn"):
        imports.confirm_mapping(staged, cs_settings, {0: "name", 1: "name", 2: "types", 3: "locality"})
    confirmed = imports.confirm_mapping(staged, cs_settings, {0: "", 1: "name", 2: "types", 3: "locality"})
    assert not confirmed.needs_confirmation
    assert confirmed.mapping() == {"Nazwa": "-", "Nazwa podmiotu": "name", "Typ": "types", "Miejscowsc": "locality"}


def test_a_required_field_without_a_column_cannot_be_confirmed(tmp_path, cs_settings):
    rows = [[r["typ"], r["miejscowosc"]] for r in supplement("swk-n024")]
    proposal, staged = _propose(tmp_path, cs_settings, csv_bytes(rows, ["Typ", "Miejscowość"]), "r.csv")
    assert proposal.needs_confirmation and proposal.missing == ["name"]
    with pytest.raises(Exception, match="wymaganych: Nazwa"):
        imports.confirm_mapping(staged, cs_settings, {0: "types", 1: "locality"})


def test_preview_lists_added_warned_and_rejected_and_takes_fixes(tmp_path, cs_settings):
    data = xlsx_bytes(register_rows("swk-n005", "swk-n025", "swk-n036", blank_type=("swk-n025",)))
    proposal, staged = _propose(tmp_path, cs_settings, data, "r.xlsx")
    base = read_register(cs_settings)
    merged, shown, rejects = imports.preview(staged, proposal.mapping(), base, cs_settings)
    assert [a["name"] for a in shown.added] == [supplement("swk-n005")[0]["nazwa"], supplement("swk-n036")[0]["nazwa"]]
    [rejected] = shown.rejected
    assert rejected["row"] == 3 and rejected["reasons"][0][0] == "types"
    # Smyków is the name of four villages in the region: the row is kept, unplaced, with the candidates.
    warned = {w["row"]: w for w in shown.warned}
    assert any("niejednoznaczna miejscowość" in t for _c, t in warned[4]["reasons"])
    assert len(warned[4]["candidates"]) >= 2 and all(c["gmina_teryt"].startswith("26") for c in warned[4]["candidates"])
    assert len(merged) == len(base) + 2 and rejects.startswith(b"\xef\xbb\xbf")
    # The fix: the type the source gives for the entity; the row is then added and placed.
    merged, shown, rejects = imports.preview(staged, proposal.mapping(), base, cs_settings, {"3": {"types": "inne"}})
    assert not shown.rejected and rejects == b""
    added = {a["row"]: a for a in shown.added}
    assert added[3]["types"] == "inne" and added[3]["precision"] == "locality"


def test_rejects_csv_is_for_excel_and_can_be_uploaded_again(tmp_path, cs_settings):
    rows = register_rows("swk-n025", blank_type=("swk-n025",))
    rows[0][1] = "=HYPERLINK(\"http://zlo.example\",\"klik\")" + rows[0][1]
    proposal, staged = _propose(tmp_path, cs_settings, csv_bytes(rows), "r.csv")
    _merged, shown, data = imports.preview(staged, proposal.mapping(), read_register(cs_settings), cs_settings)
    assert shown.rejected and data.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert table[1][table[0].index("Nazwa podmiotu")].startswith("'=HYPERLINK")  # neutralised
    again, _ = _propose(tmp_path, cs_settings, data, "odrzucone.csv")
    assert not again.needs_confirmation
    assert {c.target for c in again.columns} >= {"name", "types", "locality", "gmina"}
