"""The data commands: `fetch` the region, `build` a dataset version, read it (`stats`, `export`), `serve` it.

Registered on the main group in `geoes.cli`, which also turns errors into "Błąd: …" and exit code 2.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from geoes.common.polish import count, number, percent, ratio
from geoes.config import REPO_DIR, Settings
from geoes.dataset import figures
from geoes.console.registers import file_bytes
from geoes.dataset.build import MISMATCHES_NAME, build as build_dataset, up_to_date
from geoes.dataset.indicators import LABELS_PL, completeness_text
from geoes.dataset.reader import Dataset, load_current
from geoes.errors import InvalidInput, NotFound
from geoes.common.atomic import atomic_write_bytes
from geoes.publish import essglobal
from geoes.publish.serialise import csvt_path, export_layer, readme_path
from geoes.publish.tables import DIALECTS
from geoes.register import stored
from geoes.sources import region_store
from geoes.sources.fetch import fetch as fetch_region

# How many entities placed in another gmina than their source states `build` lists on the terminal.
MISMATCHES_SHOWN = 20
# The indicators `stats --format table` shows, in this order (a key a level lacks is left out).
TABLE_INDICATORS = [
    "population", "area_km2", "entities", "entities_per_10k", "entities_per_100km2", "employees",
    "employees_per_10k", "employees_known_pct", "gminy_with_entity", "gminy_total", "gmina_coverage_pct",
    "population_coverage_pct", "access_10km_pct", "entities_without_gmina", "unemployed", "unemployed_per_10k",
    "unemployed_change_pct", "unemployment_rate", "unemployment_rate_change_pp", "entities_per_1k_unemployed",
]


@click.command()
@click.option("--mirror", type=click.Path(path_type=Path), default=None,
              help="Katalog z kopią danych (układ jak ../shared/data) zamiast usług GUGiK/GUS.")
@click.option("--timeout", default=30.0, show_default=True, help="Limit czasu zapytania (s).")
@click.pass_obj
def fetch(settings: Settings, mirror, timeout):
    """Pobierz granice gmin i powiatów oraz ludność (GUGiK ULDK, GUS BDL lub kopia lokalna)."""
    options = {} if mirror else {"timeout": timeout}
    written = fetch_region(settings, mirror=mirror, **options)
    source = f"kopia lokalna {mirror}" if mirror else "usługi GUGiK ULDK i GUS BDL"
    click.echo(f"Pobrano dane regionu {settings.region} ({source}): {count(len(written), 'plik')} w {settings.data_dir}")
    if settings.uses_database:
        click.echo(f"Zapisano w bazie danych: {count(region_store.store(settings), 'plik')}")


@click.command()
@click.option("--entities", "entities_path", type=click.Path(path_type=Path), default=None,
              help="Plik podmiotów (domyślnie data/entities.csv).")
@click.option("--if-changed", is_flag=True,
              help="Buduj tylko wtedy, gdy treść rejestru (albo plików regionu) różni się od tej, z której zbudowano "
                   "serwowaną wersję (porównanie skrótów SHA-256, nie dat plików) — tak robi scripts/setup.sh.")
@click.pass_obj
def build(settings: Settings, entities_path, if_changed):
    """Sprawdź, połącz z gminami i policz wskaźniki; zapisz nową wersję danych."""
    if if_changed and entities_path is None and (served := up_to_date(settings)):
        click.echo(f"Wersja danych {served} jest zbudowana z obecnej treści rejestru — bez przebudowy.")
        return
    result = build_dataset(settings, entities_path)
    if settings.uses_database and entities_path is not None:
        # The served version and the register agree, as after a publish in the console.
        stored.write_bytes(settings, file_bytes(entities_path))
    v = result.summary["voivodeship"]
    click.echo(f"Wersja danych {result.version} ({'baza danych' if settings.uses_database else result.path})")
    powiat_only = int(result.summary["voivodeship"].get("entities_without_gmina", 0))
    click.echo(f"Podmioty: {result.entities} (umieszczone na mapie {result.placed}, przypisane tylko do powiatu "
               f"{powiat_only}, bez lokalizacji {result.entities - result.placed - powiat_only}, "
               f"odrzucone wiersze {result.rejected_rows})")
    click.echo(f"Gminy z podmiotem: {v['gminy_with_entity']} z {v['gminy_total']} ({percent(v['gmina_coverage_pct'])}); "
               f"gminy bez podmiotu w rejestrze: {count(v['white_spots'], 'gmina')}, {count(v['white_spots_population'], 'mieszkaniec')}")
    click.echo(f"Zasięg 10 km: {percent(v['access_10km_pct'])} powierzchni województwa")
    click.echo("Kompletność wobec oficjalnych danych: " + completeness_text(result.summary["completeness"]))
    listed = result.summary["mismatches"][:MISMATCHES_SHOWN]
    if listed:
        click.echo("Podmioty w innej gminie niż podana w źródle:")
        for m in listed:
            click.echo(f"  {m['id']} {m['name']}: podana {m['gmina_teryt']}, "
                       f"wg współrzędnych {m['gmina_teryt_computed']} ({m['gmina_name']})")
        rest = int(result.summary.get("mismatches_total", len(listed))) - len(listed)
        if rest > 0:
            full = result.path / MISMATCHES_NAME  # kept beside the version's files (not with GEOES_DATABASE_URL)
            click.echo(f"  … i jeszcze {count(rest, 'podmiot')}" + (f"; pełna lista: {full}" if full.exists() else ""))
    if result.rejected_rows:
        click.echo(f"Odrzucone wiersze: {result.rejects_path}")


@click.command()
@click.option("--powiat", "powiat", default=None, help="TERYT powiatu (4 cyfry), np. 2602.")
@click.option("--level", type=click.Choice(["powiat", "gmina"]), default="powiat", show_default=True)
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
@click.pass_obj
def stats(settings: Settings, powiat, level, fmt):
    """Wskaźniki dla powiatów (lub gmin) i województwa."""
    ds = load_current(settings)
    table = ds.indicator_table(level)
    if powiat:
        if powiat not in set(ds.powiaty["teryt"]):
            raise NotFound(f"nieznany powiat {powiat!r} (4 cyfry TERYT, np. 2602)")
        table = table[table["teryt"] == powiat] if level == "powiat" else table[table["powiat_teryt"] == powiat]
    keep = set(table["teryt"])
    records = [rec for rec in ds.indicator_records(level) if rec["teryt"] in keep]
    if fmt == "json":
        click.echo(json.dumps(records, ensure_ascii=False, indent=1, default=str))
    elif fmt == "csv":
        click.echo(table.to_csv(index=False), nl=False)
    else:
        full = ds.powiaty if level == "powiat" else ds.gminy
        ranked_of = {k: figures.ranked_count(full, k) for k in figures.RANKED}
        for rec in records:
            _echo_unit(rec, ds.voivodeship, ranked_of, level)
        click.echo(f"Dane: wersja {ds.version}. Kompletność: " + completeness_text(ds.summary["completeness"]))


def _cell(value) -> str:
    """A table cell: measured values (floats) keep two decimals, counts are whole."""
    return number(value, 2 if isinstance(value, float) else None)


def _echo_unit(rec: dict, voivodeship: dict, ranked_of: dict, level: str) -> None:
    """One unit as lines "label  value  rank, relation"; a left-out figure shows why (geoes.dataset.figures)."""
    click.echo(f"{rec['name']} ({rec['teryt']})")
    for key in TABLE_INDICATORS:
        if key not in rec:
            continue
        value = _cell(rec[key]) if rec[key] is not None else figures.short_reason(rec, key)
        extra = ""
        if key in figures.RANKED and rec[key] is not None:
            extra = f"  miejsce {figures.rank_text(rec, key, ranked_of[key], level)}"
        if key in figures.RELATED and rec[key] is not None:
            times = rec.get(f"ratio_{key}")
            extra += (f", {ratio(times)} województwo ({_cell(voivodeship.get(key))})" if times is not None
                      else f", relacja do województwa: {figures.reason(rec, f'ratio_{key}') or figures.TOO_FEW}")
        click.echo(f"  {LABELS_PL.get(key, key):<50} {value:>12}{extra}")


@click.command()
@click.option("--layer", type=click.Choice(["entities", "gminy", "powiaty"]), default=None,
              help="Warstwa (wymagana, poza --format essglobal, który zawsze zapisuje podmioty).")
@click.option("--format", "fmt", type=click.Choice(["geojson", "csv", "gpkg", "xlsx", "essglobal"]), required=True,
              help="essglobal: podmioty jako standardowy CSV ESSGlobal (agregatory ekonomii solidarnej).")
@click.option("--dialect", type=click.Choice(list(DIALECTS)), default="gis", show_default=True,
              help="CSV: gis (przecinek, kropka dziesiętna; GDAL, QGIS) albo excel-pl (średnik, przecinek "
                   "dziesiętny, identyfikatory jako tekst; Excel z polskimi ustawieniami).")
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True)
@click.pass_obj
def export(settings: Settings, layer, fmt, dialect, output):
    """Zapisz warstwę (podmioty, gminy, powiaty) do GeoJSON, CSV, GeoPackage, XLSX lub CSV ESSGlobal."""
    if dialect != "gis" and fmt != "csv":
        raise InvalidInput("--dialect dotyczy tylko --format csv")
    if fmt == "essglobal" and layer not in (None, "entities"):
        raise InvalidInput("--format essglobal zapisuje tylko podmioty (--layer entities)")
    if layer is None and fmt != "essglobal":
        raise InvalidInput("podaj --layer entities|gminy|powiaty")
    ds: Dataset = load_current(settings)
    if fmt == "essglobal":
        table = essglobal.essglobal_table(ds.entities, ds.voivodeship.get("name") or "")
        atomic_write_bytes(output, essglobal.to_csv(table))
        click.echo(f"Zapisano {count(len(table), 'podmiot')} w standardzie ESSGlobal do {output}")
        return
    frame = getattr(ds, layer)
    export_layer(frame, layer, fmt, output, ds.summary.get("method"), {**ds.summary, "version": ds.version},
                 dialect)
    click.echo(f"Zapisano {count(len(frame), 'obiekt')} warstwy {layer} do {output}")
    if fmt == "csv":
        click.echo(f"Opis danych i atrybucja: {readme_path(output)}")
        if dialect == "gis":
            click.echo(f"Typy kolumn dla GDAL i QGIS: {csvt_path(output)}")


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=None, type=int, help="Liczba procesów gunicorn (domyślnie z gunicorn.conf.py).")
@click.pass_obj
def serve(settings: Settings, host, port, workers):
    """Uruchom serwis WWW (gunicorn)."""
    # gunicorn's workers read the settings from the environment (geoes.config.Settings.from_env).
    os.environ.setdefault("GEOES_DATA_DIR", str(settings.data_dir))
    os.environ.setdefault("GEOES_REGION", settings.region)
    args = [sys.executable, "-m", "gunicorn", "-c", str(REPO_DIR / "gunicorn.conf.py"), "--bind", f"{host}:{port}"]
    if workers:
        args += ["--workers", str(workers)]
    args.append("app:app")
    os.chdir(REPO_DIR)
    os.execv(sys.executable, args)
