"""The register commands: `validate` a file, `import` an office export, `geocode` the entity record.

Registered on the main group in `geoes.cli`, which turns errors (unreadable file, bad mapping, data not
fetched, unreadable cache) into "Błąd: …" and exit code 2. Exit code 1 means some rows were rejected and
the file with the reasons was written.
"""
from __future__ import annotations

import sys
from pathlib import Path

import click

from geoes.common.excel import write_rejects
from geoes.common.polish import count
from geoes.config import Settings
from geoes.console import queue
from geoes.console.db import connect
from geoes.errors import InvalidInput
from geoes.register.geocode import PROVIDERS, build_providers, format_report, geocode_file, user_agent
from geoes.register.importer import (ImportContext, apply, format_preview, import_file, propose, read_register,
                                     report_paths, write_reports)
from geoes.register.mapping import describe, load_mapping, mapping_csv
from geoes.register.record import read_table
from geoes.register.validate import summarise, validate_frame
from geoes.sources.territory import MissingData, load_territory

REJECTS_SHOWN = 20   # rejected rows `validate` lists on the terminal; all of them are in the file


@click.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--rejects", "rejects_path", type=click.Path(path_type=Path), default=None,
              help="Plik CSV na odrzucone wiersze (domyślnie PLIK.odrzucone.csv).")
@click.pass_obj
def validate(settings: Settings, file, rejects_path):
    """Sprawdź plik podmiotów. Kod wyjścia: 0 poprawny, 1 część wierszy odrzucona, 2 plik nieczytelny.

    Zła wartość opcjonalna kosztuje tylko tę wartość (ostrzeżenie); odrzucany jest wiersz bez nazwy,
    identyfikatora lub typu albo z miejscem poza regionem.
    """
    frame = read_table(file)
    try:
        units = load_territory(settings)
    except MissingData:
        units = None  # not fetched: the checks against the region's units are left out
    valid, rejects = checked = validate_frame(frame, units=units, source_name=str(file))
    click.echo(f"{file}: {count(len(frame), 'wiersz')}, poprawnych {len(valid)}; "
               f"{summarise(rejects, checked.warnings)}")
    for r in checked.warnings.head(REJECTS_SHOWN).itertuples():
        click.echo(f"  wiersz {r.row}, kolumna {r.column}: {r.reason} („{r.value}”)", err=True)
    if rejects.empty:
        return
    out = write_rejects(rejects, rejects_path or report_paths(file)["rejects"])
    for r in rejects.head(REJECTS_SHOWN).itertuples():
        click.echo(f"  wiersz {r.row}, kolumna {r.column}: {r.reason}", err=True)
    if len(rejects) > REJECTS_SHOWN:
        click.echo(f"  … i {len(rejects) - REJECTS_SHOWN} więcej", err=True)
    click.echo(f"Odrzucone wiersze zapisano w {out}", err=True)
    sys.exit(1)


@click.command("import")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Plik rekordów, z którym scalić import (domyślnie data/entities.csv).")
@click.option("--mapping", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Mapowanie kolumn: CSV „nagłówek;pole” („-” pomija) albo zapisany JSON.")
@click.option("--accept-mapping", is_flag=True, help="Przyjmij proponowane mapowanie mimo niepewności.")
@click.option("--save-mapping", "save_mapping_to", is_flag=False, flag_value="", default=None, metavar="[PLIK]",
              help="Zapamiętaj potwierdzone mapowanie dla tego układu kolumn (domyślnie w data/mappings/).")
@click.option("--show-mapping", is_flag=True, help="Wypisz proponowane mapowanie jako CSV (wzór pliku --mapping).")
@click.option("--corrections", is_flag=True,
              help="Poprawki do istniejących podmiotów: tylko uzupełnia puste pola, sprzeczne do przeglądu.")
@click.option("--rejects", "rejects_path", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Gdzie zapisać odrzucone wiersze (domyślnie PLIK.odrzucone.csv obok importu).")
@click.option("--reports", "reports_dir", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Katalog na odrzucone, ostrzeżenia i poprawki do przeglądu (domyślnie obok pliku).")
@click.option("--dry-run", is_flag=True, help="Pokaż, co by się zmieniło, niczego nie zapisując.")
@click.pass_obj
def import_command(settings: Settings, file: Path, output, mapping, accept_mapping, save_mapping_to, show_mapping,
                   corrections, rejects_path, reports_dir, dry_run):
    """Zaimportuj rejestr (XLSX lub CSV, jak zapisują go urzędy) i scal go z plikiem podmiotów.

    Kod wyjścia: 0 — wszystkie wiersze przyjęte, 1 — część odrzucona (plik z powodami), 2 — plik nie do
    odczytania, brak wymaganej kolumny albo mapowanie kolumn do potwierdzenia.
    """
    output = output or settings.entities_path
    if show_mapping:
        context = ImportContext.from_settings(settings)
        proposal = propose(read_register(file, context), context, load_mapping(mapping) if mapping else None)
        click.echo(mapping_csv(proposal), nl=False)
        click.echo(describe(proposal), err=True)
        return
    save_to = None if save_mapping_to is None else (save_mapping_to or settings.mappings_dir)
    result = import_file(file, settings, output=output, mapping_path=mapping, accept_mapping=accept_mapping,
                         save_mapping_to=save_to, corrections=corrections)
    written = []
    if not dry_run:
        paths = report_paths(file, reports_dir)
        # The reports first: a folder that cannot be written to stops the import before the record changes.
        written = write_reports(result, rejects_path or paths["rejects"], paths["warnings"], paths["review"])
        apply(result, output)
        if len(result.review) and Path(output).resolve() == settings.entities_path.resolve():
            _queue_review(settings, result, paths["review"].name)
    click.echo(format_preview(result, output, written, dry_run=dry_run))
    sys.exit(1 if result.counts["rejected"] else 0)


def _queue_review(settings: Settings, result, table: str) -> None:
    """An import into the register sets corrections aside for review: they go to the console's queue now."""
    conn = connect(settings)
    try:
        added = queue.add_review_rows(conn, result.review.astype(str).to_dict("records"), table)
    finally:
        conn.close()
    if added:
        click.echo(f"Do kolejki Zgłoszenia w konsoli trafiły poprawki do przeglądu: {added}.")


def _providers(values: tuple[str, ...]) -> list[str]:
    """`--provider gugik,nominatim --provider gazetteer` → names in order, each once; none → all."""
    names: list[str] = []
    for value in values:
        for name in value.split(","):
            name = name.strip().lower()
            if not name:
                continue
            if name not in PROVIDERS:
                raise InvalidInput(f"--provider: nieznane źródło „{name}” (dostępne: {', '.join(PROVIDERS)})")
            if name not in names:
                names.append(name)
    return names or list(PROVIDERS)


@click.command("geocode")
@click.argument("file", required=False, type=click.Path(path_type=Path, dir_okay=False))
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Zapisz wynik do innego pliku (domyślnie nadpisz PLIK).")
@click.option("--provider", "providers", multiple=True, metavar="NAZWA",
              help="Źródła w kolejności: gazetteer, gugik, nominatim (można powtórzyć lub rozdzielić "
                   "przecinkami; domyślnie wszystkie).")
@click.option("--offline", is_flag=True,
              help="Bez usług online (tylko pamięć podręczna i gazeter). Także GEOES_OFFLINE=1.")
@click.option("--dry-run", is_flag=True, help="Pokaż wynik, nie zapisując pliku podmiotów.")
@click.option("--cache", "cache_path", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Plik SQLite z odpowiedziami usług online (domyślnie data/cache/geocode.sqlite).")
@click.option("--no-cache", is_flag=True, help="Nie używaj pamięci podręcznej.")
@click.option("--timeout", default=10.0, show_default=True, help="Limit czasu zapytania online (s).")
@click.option("--contact", default=None,
              help="Adres e-mail do nagłówka User-Agent (zasady Nominatim); także GEOES_CONTACT.")
@click.option("--report", "report_path", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Zapisz listę nieumieszczonych podmiotów z powodami do CSV.")
@click.option("--quiet", is_flag=True, help="Bez paska postępu.")
@click.pass_obj
def geocode_command(settings: Settings, file, output, providers, offline, dry_run, cache_path, no_cache, timeout,
                    contact, report_path, quiet):
    """Nadaj współrzędne podmiotom bez nich (pamięć podręczna → gazeter PRNG → GUGiK → Nominatim).

    Każdy punkt ma precyzję (address, street, locality, gmina) i źródło (kolumna geocoder). Punktów o
    wyższej precyzji nigdy nie zastępuje się mniej dokładnymi.
    """
    offline = offline or settings.offline
    path = file or settings.entities_path
    names = _providers(providers)
    if output is None and path.suffix.lower() != ".csv":
        raise InvalidInput(f"{path}: wynik zapisuje się jako CSV rekordów — podaj -o PLIK.csv")
    online = build_providers([n for n in names if n != "gazetteer"],
                             agent=user_agent(contact or settings.contact or None), timeout=timeout)
    report = geocode_file(path, settings, output=output, dry_run=dry_run,
                          cache_path=None if no_cache else (cache_path or settings.geocode_cache_path),
                          providers=names, offline=offline, online=online, progress=False if quiet else None)
    click.echo(format_report(report))
    if report_path is not None and not dry_run:
        # Names and reasons come from the operator's file: written like every rejects file.
        write_rejects(report.unplaced, report_path)
        click.echo(f"Listę nieumieszczonych zapisano w {report_path}")
    if dry_run:
        click.echo("Próba (--dry-run): pliku podmiotów nie zmieniono.")
    else:
        click.echo(f"Zapisano {output or path}.")
