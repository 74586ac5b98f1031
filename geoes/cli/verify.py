"""`python -m geoes verify` (KRS) and `python -m geoes rjps PLIK` (the ministry's list of social enterprises).

Both only propose: the proposals go to the review file (data/review/proposals.json) for an operator to
accept or reject; `data/entities.csv` is not written. Exit codes: 0 — nothing to change, 1 — changes
proposed, 2 — the service is unreachable or the file unreadable (one Polish line, no traceback).
"""
from __future__ import annotations

import sys
from pathlib import Path

import click

from geoes.common.polish import count
from geoes.config import Settings
from geoes.console import queue
from geoes.console.db import connect
from geoes.publish.proposals_report import write_report
from geoes.register import rjps, verify
from geoes.register.proposals import FIELD_LABELS, Proposal
from geoes.sources.krs import KrsClient

LIST_LIMIT = 40


def _describe(p: Proposal) -> str:
    if p.kind == "unknown":
        whose = " podmiotu prowadzącego" if p.field == "operator_krs" else ""
        return f"  {p.entity_id} {p.entity_name}: KRS nie zna numeru{whose} {p.register_value}"
    if p.kind == "new_entity":
        e = p.entity or {}
        return f"  nowy podmiot: {e.get('name')} ({e.get('locality')}; KRS {e.get('krs') or '—'}, NIP {e.get('nip') or '—'})"
    return (f"  {p.entity_id} {p.entity_name}: {FIELD_LABELS.get(p.field, p.field)} "
            f"„{p.register_value}” → „{p.official_value}”")


def queue_proposals(settings: Settings) -> None:
    """The proposals (of the default review file) into the console's queue now, so that its dashboard counts
    them at once."""
    conn = connect(settings)
    try:
        added, problems = queue.take_in(conn, settings)
    finally:
        conn.close()
    if added:
        click.echo(f"Do kolejki Zgłoszenia w konsoli trafiły nowe pozycje: {added}.")
    for problem in problems:
        click.echo(f"  {problem}", err=True)


def echo_proposals(changes: list[Proposal], path: Path) -> None:
    if not changes:
        click.echo("Brak propozycji zmian: rejestr zgadza się ze źródłem urzędowym.")
        return
    click.echo(f"Propozycje zmian: {count(len(changes), 'propozycja')} — zapisano w {path} "
               "(czekają na decyzję operatora; rejestru nie zmieniono).")
    for p in changes[:LIST_LIMIT]:
        click.echo(_describe(p))
        for w in p.warnings:
            click.echo(f"      uwaga: {w['text']}")
    if len(changes) > LIST_LIMIT:
        click.echo(f"  … i {len(changes) - LIST_LIMIT} więcej")


@click.command("verify")
@click.option("--report", "report_path", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Zapisz raport propozycji: .csv (Excel), .md albo .html.")
@click.option("--only-older-than", "only_older_than", type=click.IntRange(min=0), default=None, metavar="DNI",
              help="Tylko podmioty niezweryfikowane albo zweryfikowane dawniej niż DNI dni temu.")
@click.option("--proposals", "proposals_path", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Plik propozycji (domyślnie data/review/proposals.json).")
@click.option("--no-cache", is_flag=True, help="Pobierz wszystkie odpisy od nowa (bez pamięci podręcznej).")
@click.option("--quiet", is_flag=True, help="Bez paska postępu.")
@click.pass_obj
def verify_command(settings: Settings, report_path, only_older_than, proposals_path, no_cache, quiet):
    """Porównaj podmioty z numerem KRS z odpisami aktualnymi KRS i zaproponuj zmiany.

    Kod wyjścia: 0 — nic do zmiany, 1 — są propozycje zmian, 2 — API KRS niedostępne (rejestr bez zmian).
    """
    settings = settings or Settings.from_env()
    proposals_path = proposals_path or settings.proposals_path
    client = KrsClient.from_settings(settings, use_cache=not no_cache)
    try:
        result = verify.run(settings, client=client, only_older_than=only_older_than,
                            progress=verify.progress_enabled(quiet), proposals_path=proposals_path)
    finally:
        client.close()
    click.echo(f"Weryfikacja w KRS: {count(result.with_krs, 'podmiot')} z numerem KRS, sprawdzono {result.checked}"
               + (f", pominięto {result.skipped_recent} zweryfikowanych w ostatnich {only_older_than} dniach"
                  if only_older_than is not None else "")
               + f"; odpisy znalezione: {result.found} (rejestr S: {result.registers['S']}, "
                 f"P: {result.registers['P']}), numery nieznane w KRS: {result.unknown}; "
                 f"{count(result.requests, 'zapytanie')} do API KRS, z pamięci podręcznej: {result.cache_hits}.")
    if result.with_operator_krs:
        click.echo(f"Podmioty prowadzące: {count(result.with_operator_krs, 'jednostka')} z numerem KRS prowadzącego, "
                   f"sprawdzono {result.operators_checked}; odpisy znalezione: {result.operators_found}, "
                   f"numery nieznane w KRS: {result.operators_unknown}.")
    if result.invalid_krs:
        click.echo("Pominięto błędne numery KRS (nie 10 cyfr): " + ", ".join(result.invalid_krs))
    for entity_id, notes in result.notes.items():
        click.echo(f"  {entity_id}: " + "; ".join(notes))
    echo_proposals(result.changes, proposals_path)
    queue_proposals(settings)
    confirmed = len(result.proposals) - len(result.changes)
    if confirmed:
        click.echo(f"Zgodne z KRS: {count(confirmed, 'podmiot')} — do potwierdzenia przez operatora "
                   "(potwierdzenie zapisze datę weryfikacji).")
    if report_path is not None:
        write_report(result.proposals, report_path, "Weryfikacja rejestru w KRS — propozycje")
        click.echo(f"Raport zapisano w {report_path}")
    sys.exit(1 if result.changes else 0)


@click.command("rjps")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--mapping", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="CSV: nagłówek w pliku → kolumna (domyślnie geoes/reference/rjps_columns.csv).")
@click.option("--source-url", default=None,
              help="Adres, z którego pobrano wykaz (trafia do źródeł propozycji).")
@click.option("--report", "report_path", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Zapisz raport propozycji: .csv (Excel), .md albo .html.")
@click.option("--proposals", "proposals_path", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Plik propozycji (domyślnie data/review/proposals.json).")
@click.pass_obj
def rjps_command(settings: Settings, file, mapping, source_url, report_path, proposals_path):
    """Porównaj rejestr z wykazem przedsiębiorstw społecznych (RJPS, XLSX/CSV) i zaproponuj zmiany.

    Zgodność po numerze KRS lub NIP → propozycja „przedsiębiorstwo społeczne: tak”; wpisy z regionu,
    których nie ma w rejestrze → propozycje nowych podmiotów. Kod wyjścia: 0 — nic do zmiany,
    1 — są propozycje, 2 — plik nieczytelny.
    """
    settings = settings or Settings.from_env()
    proposals_path = proposals_path or settings.proposals_path
    result = rjps.run(settings, file, mapping_path=mapping, source_url=source_url, proposals_path=proposals_path)
    click.echo(f"Wykaz {file}: {count(result.rows, 'wiersz')}, w regionie {result.in_region}; "
               f"zgodne z rejestrem (KRS/NIP): {count(result.matched, 'podmiot')}, "
               f"nowe: {result.new}, spoza regionu: {result.outside}, bez ustalonego województwa: {result.unplaced}.")
    for line in result.problems[:LIST_LIMIT]:
        click.echo(f"  {line}", err=True)
    echo_proposals(result.changes, proposals_path)
    queue_proposals(settings)
    if report_path is not None:
        write_report(result.proposals, report_path, "Wykaz przedsiębiorstw społecznych (RJPS) — propozycje")
        click.echo(f"Raport zapisano w {report_path}")
    sys.exit(1 if result.changes else 0)
