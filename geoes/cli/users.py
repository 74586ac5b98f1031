"""`python -m geoes users add|list|remove`: the operator console's accounts (registered in geoes/cli).

The password is read from standard input (`--password-stdin`, one line) or asked for twice without echo,
never taken from the command line, where it would stay in the shell history and the process list.
"""
from __future__ import annotations

import sys

import click

from geoes.config import Settings
from geoes.console.accounts import GENDERS, add_user, genders, list_users, remove_user, set_gender
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


GENDER_HELP = ("Formy czasowników w dzienniku zmian: feminine („ola opublikowała”), masculine („jan opublikował”); "
               "bez tego — bezosobowe („ola: opublikowano”).")


@users_command.command("add")
@click.argument("login")
@click.option("--password-stdin", is_flag=True, help="Czytaj hasło z wejścia (jeden wiersz), np. z menedżera haseł.")
@click.option("--gender", type=click.Choice(list(GENDERS)), default=None, help=GENDER_HELP)
@click.pass_obj
def add(settings: Settings, login, password_stdin, gender):
    """Dodaj operatora LOGIN (hasło co najmniej 12 znaków)."""
    conn = _conn(settings or Settings.from_env())
    user = add_user(conn, login, _password(password_stdin), actor="wiersz poleceń")
    if gender:
        set_gender(conn, user.login, gender, actor="wiersz poleceń")
    click.echo(f"Dodano operatora {user.login}. Logowanie: /admin")


@users_command.command("gender")
@click.argument("login")
@click.argument("gender", type=click.Choice([*GENDERS, "none"]))
@click.pass_obj
def gender_(settings: Settings, login, gender):
    """Ustaw formy czasowników w dzienniku zmian dla operatora LOGIN (feminine, masculine, none)."""
    set_gender(_conn(settings or Settings.from_env()), login, None if gender == "none" else gender,
               actor="wiersz poleceń")
    click.echo(f"Dziennik zmian: formy czasowników operatora {login}: "
               f"{GENDERS.get(gender, 'bezosobowe')}.")


@users_command.command("list")
@click.pass_obj
def list_(settings: Settings):
    """Wypisz operatorów i ich ostatnie logowanie."""
    conn = _conn(settings or Settings.from_env())
    users, forms = list_users(conn), genders(conn)
    if not users:
        click.echo("Brak operatorów. Dodaj pierwszego: python -m geoes users add LOGIN --password-stdin")
        return
    for u in users:
        form = GENDERS.get(forms.get(u.login.lower(), ""), "bezosobowe")
        click.echo(f"{u.login}\tzałożony {u.created_at}\tostatnie logowanie {u.last_login_at or '–'}"
                   f"\tformy w dzienniku: {form}")


@users_command.command("remove")
@click.argument("login")
@click.pass_obj
def remove(settings: Settings, login):
    """Usuń operatora LOGIN (jego sesje kończą się przy następnym żądaniu)."""
    remove_user(_conn(settings or Settings.from_env()), login, actor="wiersz poleceń")
    click.echo(f"Usunięto operatora {login}.")
