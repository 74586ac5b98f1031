"""The command line as an operator uses it: exit codes, messages, outputs."""
import json
import subprocess
import sys

import pandas as pd
import pyogrio

from geoes.config import REPO_DIR


def test_stats_for_powiat_jedrzejowski(runner, built_settings):
    result = runner.invoke("stats", "--powiat", "2602", "--format", "json")
    assert result.exit_code == 0, result.output
    (record,) = json.loads(result.output)
    assert record["teryt"] == "2602" and record["name"] == "jędrzejowski"
    assert record["population"] == 80370 and record["area_km2"] == 1256.79
    for key in ("entities", "entities_per_10k", "entities_per_100km2", "employees", "employees_per_10k",
                "gminy_with_entity", "gminy_total", "gmina_coverage_pct", "population_coverage_pct",
                "access_10km_pct", "rank_entities_per_10k", "ratio_entities_per_10k"):
        assert key in record
    assert record["gminy_total"] == 9

    table = runner.invoke("stats", "--powiat", "2602")
    # Numbers as geoes.common.polish writes them everywhere: NBSP thousands, decimal comma.
    assert "jędrzejowski (2602)" in table.output and "80\u00a0370" in table.output
    assert "1\u00a0256,79" in table.output and "\u00a0× województwo" in table.output
    assert "Kompletność" in table.output


def test_stats_unknown_powiat_is_a_clear_error(runner):
    result = runner.invoke("stats", "--powiat", "9999")
    assert result.exit_code == 2 and "nieznany powiat" in result.output


def test_stats_csv_all_powiaty(runner):
    result = runner.invoke("stats", "--format", "csv")
    lines = result.output.strip().splitlines()
    assert lines[0].startswith("teryt,name,level,population") and len(lines) == 15


def _run(*args, cwd=REPO_DIR):
    return subprocess.run([sys.executable, "-m", "geoes", *args], capture_output=True, text=True, cwd=cwd)


def test_validate_exit_codes_on_real_files(tmp_path, built_settings, mirror_dir):
    data = ["--data-dir", str(built_settings.data_dir)]
    # 0: the project's curated file.
    ok = _run(*data, "validate", str(REPO_DIR / "data" / "entities.csv"))
    assert ok.returncode == 0, ok.stderr
    # 2: a file that is not an entity table at all (the official counts), and a binary file.
    for path in (mirror_dir / "entities" / "statystyki_pes_swietokrzyskie.csv", REPO_DIR / ".git" / "index"):
        res = _run(*data, "validate", str(path))
        assert res.returncode == 2 and "Błąd" in res.stderr and "Traceback" not in res.stderr
    # 1: the hand-compiled facts file saved as Excel would (cp1250, semicolons) with two rows broken:
    # an unknown type rejects its row; a bad NIP costs only the NIP (a warning), never the entity.
    facts = pd.read_csv(mirror_dir / "entities" / "pes_swietokrzyskie_fakty_ze_stron.csv", dtype=str)
    facts = facts.rename(columns={"nazwa": "Nazwa", "typ": "Typ", "miejscowosc": "Miejscowość"})
    facts.loc[3, "Typ"] = "warsztat"
    facts.loc[10, "nip"] = "1234567890"
    broken = tmp_path / "rejestr.csv"
    facts.to_csv(broken, sep=";", index=False, encoding="cp1250", errors="replace")
    rejects = tmp_path / "odrzucone.csv"
    res = _run(*data, "validate", str(broken), "--rejects", str(rejects))
    assert res.returncode == 1, res.stderr
    out = pd.read_csv(rejects, dtype=str, encoding="utf-8-sig")
    assert set(zip(out["row"], out["column"])) == {("5", "types")}
    assert "wiersz 5, kolumna types" in res.stderr
    assert "wiersz 12, kolumna nip: NIP" in res.stderr and "1234567890" in res.stderr


def test_export_layers(runner, tmp_path):
    for layer, count in (("entities", 97), ("gminy", 102), ("powiaty", 14)):
        for fmt in ("geojson", "gpkg", "csv"):
            out = tmp_path / f"{layer}.{fmt}"
            result = runner.invoke("export", "--layer", layer, "--format", fmt, "-o", str(out))
            assert result.exit_code == 0, result.output
            if fmt == "csv":
                frame = pd.read_csv(out, encoding="utf-8-sig")
            else:
                frame = pyogrio.read_dataframe(out)
            assert len(frame) == count


def test_build_prints_a_summary(runner, tmp_path, fetched_settings):
    from tests.conftest import clone_settings
    import shutil

    s = clone_settings(fetched_settings, tmp_path)
    shutil.copy(REPO_DIR / "data" / "entities.csv", s.entities_path)
    result = runner.invoke("build", settings=s)
    assert result.exit_code == 0, result.output
    assert "Podmioty: 97" in result.output and "Kompletność" in result.output
    assert "WTZ: w rejestrze 23 z 26 znanych" in result.output


def test_build_without_fetch_says_what_to_do(runner, tmp_path):
    from geoes.config import Settings

    result = runner.invoke("build", settings=Settings(region="26", data_dir=tmp_path))
    assert result.exit_code == 2 and "fetch" in result.output


def test_rejects_file_neutralises_formulas(tmp_path, built_settings):
    path = tmp_path / "rejestr.csv"
    path.write_text("id;name;types;phone\r\nx;=HYPERLINK(\"http://zly\");fundacja;+48 41 000 00 00\r\n", encoding="cp1250")
    rejects = tmp_path / "odrzucone.csv"
    res = _run("--data-dir", str(built_settings.data_dir), "validate", str(path), "--rejects", str(rejects))
    assert res.returncode == 1
    out = pd.read_csv(rejects, dtype=str, encoding="utf-8-sig")
    assert out.loc[0, "name"] == "'=HYPERLINK(\"http://zly\")" and out.loc[0, "phone"].startswith("'+48")
