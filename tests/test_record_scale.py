"""A register of any size builds: the record file is read without the upload limits, the canonical CSV by
pandas' C parser (the same frame as the office reader gives), and what a version writes stays bounded."""
from __future__ import annotations

import shutil

import pandas as pd
import pytest
from click.testing import CliRunner

from geoes.cli import main as cli_main
from geoes.dataset import build as build_mod
from geoes.dataset.build import MISMATCHES_NAME, build
from geoes.register import record
from geoes.register.record import COLUMNS, RECORD_LIMITS, read_table
from geoes.register.synthetic import generate, write_csv
from geoes.sources.territory import load_territory
from tests.conftest import clone_settings


@pytest.fixture()
def settings(tmp_path, fetched_settings):
    from geoes.config import REPO_DIR

    s = clone_settings(fetched_settings, tmp_path / "data")
    shutil.copy(REPO_DIR / "data" / "entities.csv", s.entities_path)
    return s


def _office(path) -> pd.DataFrame:
    """What the office reader (the general path) makes of the file."""
    return read_table(path, RECORD_LIMITS)


def test_fast_path_reads_the_real_record_as_the_office_reader_does(settings, monkeypatch):
    calls = []
    real = record._read_canonical_csv
    monkeypatch.setattr(record, "_read_canonical_csv", lambda p: calls.append(p) or real(p))
    fast = read_table(settings.entities_path)
    assert calls and real(settings.entities_path) is not None  # the canonical file took the fast path
    pd.testing.assert_frame_equal(fast, _office(settings.entities_path))
    assert len(fast) > 0 and list(fast.columns) == ["row", *COLUMNS]  # every row, as the office reader reads it


def test_fast_path_keeps_row_numbers_blank_rows_quotes_and_padding(tmp_path):
    """Excel's row numbers (a quoted line break is one row), blank rows left out, cells stripped, a BOM."""
    path = tmp_path / "entities.csv"
    path.write_bytes(("\ufeffid,name,types,description\n"
                      "a-1,  Spółdzielnia „Łąka”  ,cis,\"dwa\nwiersze, z przecinkiem\"\n"
                      "\n"
                      ",,,\n"
                      "a-2,WTZ Kielce,wtz;cis, \n"
                      "a-3,Trzeci,ngo\n").encode("utf-8"))
    assert record._read_canonical_csv(path) is not None
    fast = read_table(path)
    pd.testing.assert_frame_equal(fast, _office(path))
    assert fast["row"].tolist() == [2, 5, 6]
    assert fast.loc[0, "name"] == "Spółdzielnia „Łąka”" and fast.loc[0, "description"] == "dwa\nwiersze, z przecinkiem"
    assert fast.loc[2, "description"] == ""  # a short row is padded


@pytest.mark.parametrize("content, why", [
    ("id;name;types\na;b;cis\n".encode("utf-8"), "semicolons"),
    ("id,name,types\nz-1,Spółdzielnia,cis\n".encode("cp1250"), "Windows-1250"),
    (b"id,name,types\nz,y,wtz\na,b,cis,extra\n", "a row wider than the header"),
    (b"Id,Nazwa,Typ\na,b,cis\n", "Polish header names"),
])
def test_other_files_go_through_the_office_reader(tmp_path, content, why):
    path = tmp_path / "entities.csv"
    path.write_bytes(content)
    assert record._read_canonical_csv(path) is None, why
    frame = read_table(path)
    assert frame.iloc[-1]["types"] == "cis" and frame.iloc[-1]["row"] == len(frame) + 1, why


def test_a_first_row_wider_than_the_header_loses_its_extra_cells_either_way(tmp_path):
    path = tmp_path / "entities.csv"
    path.write_bytes(b"id,name,types\na,b,cis,extra\nc,d,wtz\n")
    pd.testing.assert_frame_equal(read_table(path), _office(path))
    assert read_table(path)["id"].tolist() == ["a", "c"]


def test_build_ignores_the_upload_limits_which_the_import_keeps(settings, tmp_path):
    """`geoes build` reads the project's own file whatever GEOES_IMPORT_MAX_*; `geoes import` keeps them."""
    env = {"GEOES_DATA_DIR": str(settings.data_dir), "GEOES_IMPORT_MAX_BYTES": "1000",
           "GEOES_IMPORT_MAX_ROWS": "5"}
    runner = CliRunner()
    built = runner.invoke(cli_main, ["build"], env=env)
    assert built.exit_code == 0, built.output
    assert f"Podmioty: {len(read_table(settings.entities_path))} " in built.output
    imported = runner.invoke(cli_main, ["import", str(settings.entities_path), "-o", str(tmp_path / "out.csv"),
                                        "--dry-run"], env=env)
    assert imported.exit_code == 2 and "za duży" in imported.output, imported.output


def test_mismatches_are_listed_in_full_in_a_file_and_bounded_in_the_summary(settings, tmp_path, monkeypatch):
    """A national register may place thousands of entities in another gmina than its source states:
    indicators.json (read by every server process) keeps the first few and the total, mismatches.csv all."""
    territory = load_territory(settings)
    frame = generate(territory, 30, seed=7)
    other = territory.gminy["teryt"].sort_values().tolist()
    # Every synthetic entity states a gmina of the region other than the one its point lies in.
    frame["gmina_teryt"] = [other[(other.index(t) + 1) % len(other)] for t in frame["gmina_teryt"]]
    frame["powiat_teryt"] = ""
    path = write_csv(frame, tmp_path / "syn" / "entities.csv")
    monkeypatch.setattr(build_mod, "MAX_LISTED_MISMATCHES", 4)
    result = build(settings, path)
    assert result.summary["mismatches_total"] == 30
    assert len(result.summary["mismatches"]) == 4
    listed = pd.read_csv(result.path / MISMATCHES_NAME, dtype=str, encoding="utf-8-sig")
    assert len(listed) == 30 and set(listed["id"]) == set(frame["id"])
    assert set(listed["gmina_teryt"]) <= set(other)


def test_build_command_lists_a_few_mismatches_and_says_where_the_rest_are(settings, tmp_path):
    territory = load_territory(settings)
    frame = generate(territory, 25, seed=8)
    other = territory.gminy["teryt"].sort_values().tolist()
    frame["gmina_teryt"] = [other[(other.index(t) + 1) % len(other)] for t in frame["gmina_teryt"]]
    frame["powiat_teryt"] = ""
    path = write_csv(frame, tmp_path / "syn" / "entities.csv")
    out = CliRunner().invoke(cli_main, ["build", "--entities", str(path)],
                             env={"GEOES_DATA_DIR": str(settings.data_dir)})
    assert out.exit_code == 0, out.output
    lines = [ln for ln in out.output.splitlines() if ln.startswith("  syn-")]
    assert len(lines) == 20
    assert "… i jeszcze 5\u00a0podmiotów; pełna lista: " in out.output and MISMATCHES_NAME in out.output
