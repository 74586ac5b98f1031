"""`python -m geoes report --powiat TERYT -o FILE.html|FILE.pdf` (registered on the main group in geoes/cli.py).

Messages are Polish. Unknown powiat, no built data or no PDF printer: exit code 2 and one readable line.
"""
from __future__ import annotations

import sys
from pathlib import Path

import click

from geoes.config import Settings


def _fail(message: str) -> None:
    click.echo(f"Błąd: {message}", err=True)
    sys.exit(2)


@click.command("report")
@click.option("--powiat", "powiat", required=True, help="TERYT powiatu (4 cyfry), np. 2602.")
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Plik raportu: .html (domyślnie raport_powiat_TERYT.html) albo .pdf (drukuje Chromium).")
@click.pass_obj
def report_command(settings: Settings, powiat: str, output: Path | None):
    """Raport powiatu do diagnozy: tabele, wykresy, mapy, metoda i źródła w jednym pliku HTML (lub PDF)."""
    from geoes.dataset.reader import NoDataset, load_current
    from geoes.publish.report import PdfUnavailable, UnknownPowiat, write_report

    powiat = (powiat or "").strip()
    try:
        ds = load_current(settings)
    except NoDataset as exc:
        _fail(str(exc))
    if powiat not in set(ds.powiaty["teryt"]):
        _fail(f"nieznany powiat {powiat!r} (4 cyfry TERYT, np. 2602)")
    output = output or Path(f"raport_powiat_{powiat}.html")
    try:
        path = write_report(ds, powiat, output)
    except UnknownPowiat as exc:
        _fail(str(exc))
    except PdfUnavailable as exc:
        _fail(str(exc))
    except OSError as exc:
        _fail(f"nie można zapisać {output}: {exc.strerror or exc}")
    click.echo(f"Zapisano raport ({path.suffix.lstrip('.').upper() or 'HTML'}) dla powiatu {powiat} "
               f"(wersja danych {ds.version}) do {path}")
