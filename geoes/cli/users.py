"""`python -m geoes users add|list|remove`: the operator console's accounts (registered in geoes/cli).

The password is read from standard input (`--password-stdin`, one line) or asked for twice without echo,
never taken from the command line, where it would stay in the shell history and the process list.
"""
from __future__ import annotations

import sys

import click

from geoes.config import Settings
from geoes.console.accounts import add_user, list_users, remove_user
from geoes.console.db import connect


def _conn(settings: Settings):
    return connect(settings)


def _password(password_stdin: bool) -> str:
    if password_stdin:
        line = sys.stdin.readline()
        return line[:-1] if line.endswith("\n") else line
    return click.prompt("Hasło", hide_input=True, confirmation_prompt="Powtórz hasło")


@click.group("users")
def users_command():
    """Konta operatorów konsoli /admin."""


@users_command.command("add")
@click.argument("login")
@click.option("--password-stdin", is_flag=True, help="Czytaj hasło z wejścia (jeden wiersz), np. z menedżera haseł.")
@click.pass_obj
def add(settings: Settings, login, password_stdin):
    """Dodaj operatora LOGIN (hasło co najmniej 12 znaków)."""
    user = add_user(_conn(settings or Settings.from_env()), login, _password(password_stdin), actor="wiersz poleceń")
    click.echo(f"Dodano operatora {user.login}. Logowanie: /admin")


@users_command.command("list")
@click.pass_obj
def list_(settings: Settings):
    """Wypisz operatorów i ich ostatnie logowanie."""
    users = list_users(_conn(settings or Settings.from_env()))
    if not users:
        click.echo("Brak operatorów. Dodaj pierwszego: python -m geoes users add LOGIN --password-stdin")
        return
    for u in users:
        click.echo(f"{u.login}\tzałożony {u.created_at}\tostatnie logowanie {u.last_login_at or '–'}")


@users_command.command("remove")
@click.argument("login")
@click.pass_obj
def remove(settings: Settings, login):
    """Usuń operatora LOGIN (jego sesje kończą się przy następnym żądaniu)."""
    remove_user(_conn(settings or Settings.from_env()), login, actor="wiersz poleceń")
    click.echo(f"Usunięto operatora {login}.")
