"""`python -m geoes report --powiat TERYT -o FILE.html|FILE.pdf`: the county report for a diagnosis.

Registered on the main group in `geoes.cli`, which turns an unknown powiat, missing built data or a
missing PDF printer into "Błąd: …" and exit code 2.
"""
from __future__ import annotations

from pathlib import Path

import click

from geoes.config import Settings
from geoes.dataset.reader import load_current
from geoes.errors import InvalidInput
from geoes.publish.report import write_report


@click.command("report")
@click.option("--powiat", "powiat", required=True, help="TERYT powiatu (4 cyfry), np. 2602.")
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Plik raportu: .html (domyślnie raport_powiat_TERYT.html) albo .pdf (drukuje Chromium).")
@click.pass_obj
def report_command(settings: Settings, powiat: str, output: Path | None):
    """Raport powiatu do diagnozy: tabele, wykresy, mapy, metoda i źródła w jednym pliku HTML (lub PDF)."""
    powiat = (powiat or "").strip()
    ds = load_current(settings)
    output = output or Path(f"raport_powiat_{powiat}.html")
    try:
        path = write_report(ds, powiat, output)  # an unknown powiat raises before anything is written
    except OSError as exc:
        # The error names the temporary file the report is written to first; the user gave `output`.
        raise InvalidInput(f"nie można zapisać {output}: {exc.strerror or exc}") from exc
    click.echo(f"Zapisano raport ({path.suffix.lstrip('.').upper() or 'HTML'}) dla powiatu {powiat} "
               f"(wersja danych {ds.version}) do {path}")
