"""The planner's notebook: committed clean, and it runs on the mirror data (nbclient)."""
from __future__ import annotations

import os
import subprocess
import sys

import nbformat
import pytest

from geoes.config import REPO_DIR

NOTEBOOK = REPO_DIR / "notebooks" / "diagnoza_powiat_jedrzejowski.ipynb"


def _code_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


def test_committed_notebook_has_no_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    for cell in _code_cells(nb):
        assert cell.outputs == [], f"stale outputs in cell: {cell.source[:60]!r}"
        assert cell.execution_count is None, f"execution count in cell: {cell.source[:60]!r}"
    assert "widgets" not in nb.metadata


def test_notebook_has_one_county_parameter_and_no_copied_logic():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    first = _code_cells(nb)[0]
    assert first.source.strip().startswith('POWIAT = "2602"')
    source = "\n".join(c.source for c in _code_cells(nb))
    assert source.count("2602") == 1, "the county is one variable away"
    # Data comes through the geoes package only: no reading of data files, no own indicator maths.
    for forbidden in ("read_file(", "read_csv(", "geojson\"", ".sjoin(", "buffer(", "/ 10_000", "* 10000"):
        assert forbidden not in source, forbidden
    assert "load_current(" in source


def _ensure_kernel() -> str:
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        KernelSpecManager().get_kernel_spec("python3")
    except NoSuchKernel:
        subprocess.run([sys.executable, "-m", "ipykernel", "install", "--sys-prefix", "--name", "python3"],
                       check=True, capture_output=True)
    return "python3"


def _outputs_text(cell) -> str:
    parts = []
    for out in cell.get("outputs", []):
        if out.output_type == "stream":
            parts.append(out.text)
        elif out.output_type in ("execute_result", "display_data"):
            for mime in ("text/markdown", "text/html", "text/plain"):
                if mime in out.data:
                    parts.append(out.data[mime])
    return "\n".join(parts)


def _tagged(nb, tag):
    cells = [c for c in nb.cells if tag in c.metadata.get("tags", [])]
    assert cells, f"no cell tagged {tag}"
    return cells[0]


@pytest.mark.slow
def test_notebook_executes_on_mirror_data(built_settings, monkeypatch, tmp_path):
    from nbclient import NotebookClient

    from geoes.publish import report
    from geoes.dataset.reader import load_current

    # The kernel inherits the environment: Settings.from_env() in the notebook reads GEOES_DATA_DIR.
    monkeypatch.setenv("GEOES_DATA_DIR", str(built_settings.data_dir))
    monkeypatch.setenv("GEOES_REGION", built_settings.region)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(REPO_DIR), os.environ.get("PYTHONPATH")])))

    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(nb, kernel_name=_ensure_kernel(), timeout=300, allow_errors=False,
                            resources={"metadata": {"path": str(NOTEBOOK.parent)}})
    client.execute()  # raises CellExecutionError on the first failing cell
    nbformat.write(nb, tmp_path / "executed.ipynb")

    for cell in _code_cells(nb):
        assert not [o for o in cell.outputs if o.output_type == "error"]
    ds = load_current(built_settings)
    stats = report.powiat_record(ds, "2602")

    setup = _outputs_text(_code_cells(nb)[1])
    assert str(built_settings.data_dir) in setup and "powiat jędrzejowski" in setup

    indicators = _outputs_text(_tagged(nb, "indicators"))
    for key in ("population", "entities_per_10k", "gmina_coverage_pct", "access_10km_pct"):
        assert report.figure(stats[key], key, unit=True) in indicators, key

    pngs = sum("image/png" in o.get("data", {}) for c in nb.cells for o in c.get("outputs", []))
    assert pngs >= 1 + 6 + 2 + 1  # compare chart, 6 ranking charts, 2 entity maps, the access maps
    for tag in ("charts", "maps", "access-map"):
        assert any("image/png" in o.get("data", {}) for o in _tagged(nb, tag).outputs), tag

    folium_html = _outputs_text(_tagged(nb, "folium-map"))
    assert "leaflet" in folium_html.lower()

    white = _outputs_text(_tagged(nb, "white-spots"))
    for row in report.white_spots_frame(ds, "2602").itertuples():
        assert row.name in white
    assert "7\u00a0gmin bez podmiotu" in white  # geoes.common.polish.count

    assert "z 26 znanych" in _outputs_text(_tagged(nb, "completeness"))  # WTZ: 15 z 26 znanych
    assert "WTZ: w rejestrze 23 z 26 znanych" in _outputs_text(_tagged(nb, "register"))
    needs = _outputs_text(_tagged(nb, "needs"))
    assert report.figure(stats["unemployed"], "unemployed") in needs and "za mało danych" not in needs.split("\n")[0]

    findings = _outputs_text(_tagged(nb, "findings"))
    from markupsafe import escape

    for sentence in report.findings(ds, "2602"):
        assert str(escape(sentence)) in findings
    assert report.figure(stats["access_10km_pct"], "access_10km_pct", unit=True) in findings
    assert "Priorytet" in findings
