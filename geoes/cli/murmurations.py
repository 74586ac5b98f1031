"""`python -m geoes murmurations register|status`: offer the register's Murmurations profiles to an index.

Opt-in: nothing is sent unless an operator runs `register` with an index (`--index` or
GEOES_MURMURATIONS_INDEX) and the site's public address (`--site`; the index fetches each profile from
`{site}/api/murmurations/{id}.json`, so the site must be reachable from the internet). Each profile is
first checked against the vendored schemas (geoes.publish.murmurations); one that does not pass is not
sent. Entities known to be inactive are not offered (`--include-inactive` offers them too).

Exit codes: 0 — every profile accepted (register) or posted/under way (status); 1 — some refused, invalid
or failed (listed); 2 — the index cannot be reached, or no index/site given (one Polish line).
"""
from __future__ import annotations

import sys
from collections import Counter
from urllib.parse import urlsplit

import click

from geoes.common.polish import count
from geoes.config import Settings
from geoes.dataset.reader import load_current
from geoes.errors import InvalidInput
from geoes.publish.murmurations import SCHEMA_NAME, site_profiles
from geoes.sources.murmurations import IndexClient, IndexUnavailable

LIST_LIMIT = 40
STATUS_PL = {"received": "przyjęte, czekają na sprawdzenie", "validated": "sprawdzone", "posted": "w indeksie",
             "post_failed": "indeks ponowi zapis", "deleted": "usunięte z indeksu",
             "validation_failed": "odrzucone przy sprawdzaniu", "not_found": "nieznane indeksowi"}
GOOD_STATUSES = ("received", "validated", "posted", "post_failed")


def _site(value: str) -> str:
    parts = urlsplit(value or "")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidInput(f"--site: podaj publiczny adres serwisu z http:// lub https:// (podano {value!r})")
    return value.rstrip("/")


def _index(settings: Settings, value: str | None) -> str:
    url = (value or settings.murmurations_index or "").strip()
    if not url:
        raise InvalidInput("nie podano indeksu Murmurations: ustaw GEOES_MURMURATIONS_INDEX albo podaj --index "
                           "(np. https://test-index.murmurations.network/v2)")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidInput(f"--index: adres API indeksu z http:// lub https:// (podano {url!r})")
    return url.rstrip("/")


def _listed(lines: list[str]) -> None:
    for line in lines[:LIST_LIMIT]:
        click.echo("  " + line)
    if len(lines) > LIST_LIMIT:
        click.echo(f"  … i {len(lines) - LIST_LIMIT} więcej")


@click.group("murmurations")
def murmurations_command():
    """Profile Murmurations podmiotów: zgłoszenie do indeksu i stan zgłoszeń."""


@murmurations_command.command("register")
@click.option("--site", required=True, help="Publiczny adres serwisu (np. https://mapa.example.pl): indeks pobiera "
                                            "profile z {adres}/api/murmurations/{id}.json.")
@click.option("--index", "index_url", default=None, help="Adres API indeksu (domyślnie GEOES_MURMURATIONS_INDEX).")
@click.option("--include-inactive", is_flag=True, help="Zgłoś też podmioty, o których wiadomo, że nie działają.")
@click.option("--dry-run", is_flag=True, help="Tylko sprawdź profile i wypisz ich adresy; nic nie wysyłaj.")
@click.pass_obj
def register_command(settings: Settings, site, index_url, include_inactive, dry_run):
    """Zgłoś adresy profili podmiotów do indeksu Murmurations (tylko na to polecenie)."""
    site = _site(site)
    index = None if dry_run else _index(settings, index_url)
    profiles = site_profiles(load_current(settings), site, include_inactive)
    invalid = [p for p in profiles if p.problems]
    ready = [p for p in profiles if not p.problems]
    click.echo(f"Profile ({SCHEMA_NAME}): {count(len(profiles), 'profil')}, zgodne ze schematem: {len(ready)}.")
    if invalid:
        click.echo("Niezgodne ze schematem (nie są wysyłane):")
        _listed([f"{p.id}: {'; '.join(p.problems)}" for p in invalid])
    if dry_run:
        _listed([p.profile_url for p in ready])
        sys.exit(1 if invalid else 0)
    client = IndexClient(index)
    refused, accepted = [], 0
    try:
        for p in ready:
            posted = client.post(p.profile_url)
            if posted.error:
                refused.append(f"{p.id}: {posted.error}")
            else:
                accepted += 1
    except IndexUnavailable:
        click.echo(f"Przerwano: zgłoszono {count(accepted, 'profil')} z {len(ready)}.", err=True)
        raise
    click.echo(f"Indeks {index} przyjął {count(accepted, 'profil')} do sprawdzenia"
               + (f", odrzucił {len(refused)}:" if refused else "."))
    _listed(refused)
    click.echo("Indeks pobiera i sprawdza profile sam; stan: python -m geoes murmurations status --site " + site)
    sys.exit(1 if refused or invalid else 0)


@murmurations_command.command("status")
@click.option("--site", required=True, help="Publiczny adres serwisu, jak przy register.")
@click.option("--index", "index_url", default=None, help="Adres API indeksu (domyślnie GEOES_MURMURATIONS_INDEX).")
@click.option("--include-inactive", is_flag=True, help="Także podmioty, o których wiadomo, że nie działają.")
@click.pass_obj
def status_command(settings: Settings, site, index_url, include_inactive):
    """Stan profili podmiotów w indeksie Murmurations (przyjęte, w indeksie, odrzucone i dlaczego)."""
    site = _site(site)
    client = IndexClient(_index(settings, index_url))
    states = [client.status(p.profile_url) for p in site_profiles(load_current(settings), site, include_inactive)]
    counts = Counter(s.status for s in states)
    click.echo("Stan w indeksie: " + ", ".join(f"{STATUS_PL.get(k, k)}: {n}" for k, n in sorted(counts.items())))
    bad = [s for s in states if s.status not in GOOD_STATUSES]
    _listed([f"{s.profile_url}: {STATUS_PL.get(s.status, s.status)}"
             + (f" — {'; '.join(s.reasons)}" if s.reasons else "") for s in bad])
    sys.exit(1 if bad else 0)
