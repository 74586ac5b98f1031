"""Command line: `python -m geoes <command>`. Messages for people are in Polish.

The commands live beside what they drive — `data` (fetch, build, stats, export, serve), `register`
(validate, import, geocode), `report`, `verify` (verify against KRS, rjps), `users` (the console's
operators), `database` (db init|status: the PostgreSQL database of several instances) and `murmurations`
(offer the profiles to a Murmurations index) — and are registered on the `main` group here, in one place.

Exit codes: 0 all well, 1 some rows rejected (not an error: the file with reasons is written), 2 the
command cannot go on. Every expected failure is a `geoes.errors.GeoesError`; `GeoesGroup` turns it, and
an operating-system error on a file, into one line "Błąd: …" and the exit code — never a traceback.
Commands raise; they do not print errors or exit with code 2 themselves.
"""
from __future__ import annotations

import sys
from pathlib import Path

import click

from geoes.cli import data, database, murmurations, register, report, users, verify
from geoes.config import Settings
from geoes.errors import GeoesError


def _os_error_text(exc: OSError) -> str:
    reason = exc.strerror or str(exc) or type(exc).__name__
    return f"{exc.filename}: {reason}" if exc.filename else reason


class GeoesGroup(click.Group):
    """Turn expected failures into one readable line and an exit code, never a traceback."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except GeoesError as exc:
            click.echo(f"Błąd: {exc.description}", err=True)
            sys.exit(exc.exit_code)
        except OSError as exc:  # a file the command reads or writes: missing, no permission, disk full
            click.echo(f"Błąd: {_os_error_text(exc)}", err=True)
            sys.exit(2)


@click.group(cls=GeoesGroup)
@click.option("--region", default=None, help="Kod TERYT województwa (domyślnie 26 lub GEOES_REGION).")
@click.option("--data-dir", type=click.Path(path_type=Path), default=None,
              help="Katalog danych (domyślnie ./data lub GEOES_DATA_DIR).")
@click.pass_context
def main(ctx, region, data_dir):
    """geoes — mapa podmiotów ekonomii społecznej."""
    ctx.obj = Settings.from_env(region=region, data_dir=data_dir)


COMMANDS = (
    data.fetch, data.build, data.stats, data.export, data.serve,
    register.validate, register.import_command, register.geocode_command,
    report.report_command,
    verify.verify_command, verify.rjps_command,
    users.users_command,
    database.db_command,
    murmurations.murmurations_command,
)
for _command in COMMANDS:
    main.add_command(_command)
