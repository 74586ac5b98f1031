"""The set-up (`scripts/setup.sh` → `python -m geoes build --if-changed`) rebuilds only when the register's
content differs from what the served version was built from — a version restored in the console stays
the served one, however new the register file is on disk."""
from __future__ import annotations

import os

from click.testing import CliRunner

from geoes.cli import main
from geoes.config import REPO_DIR
from geoes.console import changes, publish

from .helpers import register_rows, xlsx_bytes


def _served(settings) -> str:
    return os.readlink(settings.build_dir / "current")


def _build_if_changed(settings):
    result = CliRunner().invoke(main, ["--data-dir", str(settings.data_dir), "--region", "26", "build",
                                       "--if-changed"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_set_up_keeps_a_restored_version_and_builds_a_changed_register(conn, cs_settings):
    before = _served(cs_settings)
    cs = changes.create_upload(conn, cs_settings, "anna", "rejestr.xlsx", xlsx_bytes(register_rows("swk-n005")))
    published = publish.publish(conn, cs_settings, cs.id, "anna")["version"]
    publish.restore(conn, cs_settings, before, "anna")
    assert _served(cs_settings) == before
    # The restore wrote the register file last: it is newer than every version, and the same content.
    newest = max((cs_settings.build_dir / v).stat().st_mtime for v in (before, published))
    assert cs_settings.entities_path.stat().st_mtime >= newest
    out = _build_if_changed(cs_settings)
    assert "bez przebudowy" in out and before in out
    assert _served(cs_settings) == before
    assert (cs_settings.build_dir / published).is_dir()      # nothing built, so nothing pruned either

    # Touched but unchanged: still nothing to build.
    os.utime(cs_settings.entities_path)
    assert "bez przebudowy" in _build_if_changed(cs_settings)
    assert _served(cs_settings) == before

    # A changed register (an edit outside the console) is built and served.
    with open(cs_settings.entities_path, "ab") as fh:
        fh.write(cs_settings.entities_path.read_bytes().splitlines(keepends=True)[1].replace(b"swk-001,", b"swk-001b,", 1))
    out = _build_if_changed(cs_settings)
    assert "Wersja danych" in out and "bez przebudowy" not in out
    assert _served(cs_settings) != before


def test_the_version_records_the_content_it_was_built_from(conn, cs_settings):
    import hashlib
    import json

    summary = json.loads((cs_settings.build_dir / _served(cs_settings) / "indicators.json").read_text("utf-8"))
    assert summary["inputs"]["register_sha256"] == hashlib.sha256(cs_settings.entities_path.read_bytes()).hexdigest()
    assert len(summary["inputs"]["region_sha256"]) == 64


def test_setup_script_builds_only_if_changed():
    script = (REPO_DIR / "scripts" / "setup.sh").read_text(encoding="utf-8")
    build_lines = [line.strip() for line in script.splitlines() if "geoes build" in line and not line.lstrip().startswith("#")]
    assert build_lines == [".venv/bin/python -m geoes build --if-changed"]
    assert "-nt" not in script   # no file times
