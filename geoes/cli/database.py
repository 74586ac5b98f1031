"""`python -m geoes db init|status`: the PostgreSQL database of several instances (GEOES_DATABASE_URL).

`init` prepares an empty database from this machine's data directory, once: the schema (every part, by
the schema runner), the region's files, the register (data/entities.csv or `--register FILE`) and a first
published version. Run again, it adds only what is missing. `status` says what the database serves.
"""
from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import click

from geoes.common.polish import count
from geoes.config import Settings
from geoes.console import accounts
from geoes.console.db import connect
from geoes.console.registers import file_bytes
from geoes.dataset import pgstore
from geoes.dataset.build import build, current_version
from geoes.errors import InvalidInput
from geoes.register import stored
from geoes.sources import region_store


def _require_database(settings: Settings) -> None:
    if not settings.uses_database:
        raise InvalidInput("ustaw GEOES_DATABASE_URL (adres bazy PostgreSQL z PostGIS), np. "
                           "postgresql://geoes:HASŁO@127.0.0.1:5432/geoes")


def shown_url(url: str) -> str:
    """The database's address without its password."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{parts.username}@{host}" if parts.username else host
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


@click.group("db")
def db_command():
    """Baza PostgreSQL kilku instancji (GEOES_DATABASE_URL)."""


@db_command.command("init")
@click.option("--register", "register_path", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Plik rejestru do bazy, jeśli baza jeszcze go nie ma (domyślnie data/entities.csv).")
@click.pass_obj
def init(settings: Settings, register_path):
    """Przygotuj bazę: schemat, pliki regionu, rejestr i pierwszą opublikowaną wersję."""
    _require_database(settings)
    connect(settings).close()   # the console's part of the schema
    click.echo(f"Baza: {shown_url(settings.database_url)}")
    click.echo(f"Pliki regionu zapisane w bazie: {region_store.store(settings)}")
    if not stored.exists(settings):
        source = register_path or settings.entities_path
        stored.write_bytes(settings, file_bytes(source))
        click.echo(f"Rejestr wczytany do bazy z {source}")
    if current_version(settings) is None:
        result = build(settings)
        click.echo(f"Opublikowana wersja danych: {result.version} ({count(result.entities, 'podmiot')})")
    _status(settings)


def _status(settings: Settings) -> None:
    kept = pgstore.kept(settings)
    conn = connect(settings)
    try:
        users = accounts.list_users(conn)
    finally:
        conn.close()
    version = current_version(settings)
    register = stored.read_bytes(settings)
    rows = max(0, register.count(b"\n") - 1) if register else 0
    click.echo(f"Serwowana wersja: {version or '— (brak; uruchom python -m geoes db init)'}")
    click.echo(f"Wersje w bazie: {len(kept)}; rejestr: {count(rows, 'wiersz')}; operatorzy konsoli: {len(users)}")


@db_command.command("status")
@click.pass_obj
def status(settings: Settings):
    """Co serwuje baza: wersja danych, rejestr, operatorzy."""
    _require_database(settings)
    click.echo(f"Baza: {shown_url(settings.database_url)}")
    _status(settings)
