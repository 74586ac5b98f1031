"""Command line: `python -m geoes <command>`. Messages for people are in Polish."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from geoes.config import Settings
from geoes.errors import GeoesError


class GeoesGroup(click.Group):
    """Turn expected failures into one readable line and an exit code, never a traceback."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except GeoesError as exc:
            click.echo(f"Błąd: {exc.description}", err=True)
            sys.exit(exc.exit_code)


@click.group(cls=GeoesGroup)
@click.option("--region", default=None, help="Kod TERYT województwa (domyślnie 26 lub GEOES_REGION).")
@click.option("--data-dir", type=click.Path(path_type=Path), default=None,
              help="Katalog danych (domyślnie ./data lub GEOES_DATA_DIR).")
@click.pass_context
def main(ctx, region, data_dir):
    """geoes — mapa podmiotów ekonomii społecznej."""
    ctx.obj = Settings.from_env(region=region, data_dir=data_dir)


@main.command()
@click.option("--mirror", type=click.Path(path_type=Path), default=None,
              help="Katalog z kopią danych (układ jak ../shared/data) zamiast usług GUGiK/GUS.")
@click.option("--timeout", default=30.0, show_default=True, help="Limit czasu zapytania (s).")
@click.pass_obj
def fetch(settings: Settings, mirror, timeout):
    """Pobierz granice gmin i powiatów oraz ludność (GUGiK ULDK, GUS BDL lub kopia lokalna)."""
    from geoes.sources.fetch import fetch as do_fetch

    options = {} if mirror else {"timeout": timeout}
    written = do_fetch(settings, mirror=mirror, **options)
    source = f"kopia lokalna {mirror}" if mirror else "usługi GUGiK ULDK i GUS BDL"
    click.echo(f"Pobrano dane regionu {settings.region} ({source}): {len(written)} plików w {settings.data_dir}")



@main.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--rejects", "rejects_path", type=click.Path(path_type=Path), default=None,
              help="Plik CSV na odrzucone wiersze (domyślnie PLIK.odrzucone.csv).")
@click.pass_obj
def validate(settings: Settings, file, rejects_path):
    """Sprawdź plik podmiotów. Kod wyjścia: 0 poprawny, 1 część wierszy odrzucona, 2 plik nieczytelny."""
    from geoes.common.excel import write_rejects
    from geoes.register.record import read_table
    from geoes.register.validate import summarise, validate_frame
    from geoes.sources.territory import MissingData, load_units

    frame = read_table(file)
    try:
        units = load_units(settings)
    except MissingData:
        units = None  # not fetched: the checks against the region's units are left out
    valid, rejects = checked = validate_frame(frame, units=units, source_name=str(file))
    click.echo(f"{file}: {len(frame)} wierszy, poprawnych {len(valid)}; {summarise(rejects, checked.warnings)}")
    for r in checked.warnings.head(20).itertuples():
        click.echo(f"  wiersz {r.row}, kolumna {r.column}: {r.reason} („{r.value}”)", err=True)
    if rejects.empty:
        return
    out = rejects_path or file.with_name(file.stem + ".odrzucone.csv")
    write_rejects(rejects, out)
    for r in rejects.head(20).itertuples():
        click.echo(f"  wiersz {r.row}, kolumna {r.column}: {r.reason}", err=True)
    if len(rejects) > 20:
        click.echo(f"  … i {len(rejects) - 20} więcej", err=True)
    click.echo(f"Odrzucone wiersze zapisano w {out}", err=True)
    sys.exit(1)


@main.command()
@click.option("--entities", "entities_path", type=click.Path(path_type=Path), default=None,
              help="Plik podmiotów (domyślnie data/entities.csv).")
@click.pass_obj
def build(settings: Settings, entities_path):
    """Sprawdź, połącz z gminami i policz wskaźniki; zapisz nową wersję danych."""
    from geoes.dataset.build import BuildLocked, build as do_build
    from geoes.sources.territory import MissingData

    try:
        result = do_build(settings, entities_path)
    except (MissingData, BuildLocked) as exc:
        click.echo(f"Błąd: {exc}", err=True)
        sys.exit(2)
    v = result.summary["voivodeship"]
    click.echo(f"Wersja danych {result.version} ({result.path})")
    click.echo(f"Podmioty: {result.entities} (umieszczone na mapie {result.placed}, "
               f"bez lokalizacji {result.entities - result.placed}, odrzucone wiersze {result.rejected_rows})")
    click.echo(f"Gminy z podmiotem: {v['gminy_with_entity']} z {v['gminy_total']} ({v['gmina_coverage_pct']}%); "
               f"białe plamy: {v['white_spots']} gmin, {v['white_spots_population']} mieszkańców")
    click.echo(f"Zasięg 10 km: {v['access_10km_pct']}% powierzchni województwa")
    from geoes.dataset.indicators import completeness_text

    click.echo("Kompletność wobec oficjalnych danych: " + completeness_text(result.summary["completeness"]))
    if result.summary["mismatches"]:
        click.echo("Podmioty w innej gminie niż podana w źródle:")
        for m in result.summary["mismatches"]:
            click.echo(f"  {m['id']} {m['name']}: podana {m['gmina_teryt']}, "
                       f"wg współrzędnych {m['gmina_teryt_computed']} ({m['gmina_name']})")
    if result.rejected_rows:
        click.echo(f"Odrzucone wiersze: {result.path / 'rejects.csv'}")


def _dataset(settings: Settings):
    from geoes.dataset.reader import NoDataset, load_current

    try:
        return load_current(settings)
    except NoDataset as exc:
        click.echo(f"Błąd: {exc}", err=True)
        sys.exit(2)


@main.command()
@click.option("--powiat", "powiat", default=None, help="TERYT powiatu (4 cyfry), np. 2602.")
@click.option("--level", type=click.Choice(["powiat", "gmina"]), default="powiat", show_default=True)
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
@click.pass_obj
def stats(settings: Settings, powiat, level, fmt):
    """Wskaźniki dla powiatów (lub gmin) i województwa."""
    import json


    from geoes.dataset.indicators import LABELS_PL

    ds = _dataset(settings)
    table = ds.indicator_table(level)
    if powiat:
        if powiat not in set(ds.powiaty["teryt"]):
            click.echo(f"Błąd: nieznany powiat {powiat!r} (4 cyfry TERYT, np. 2602)", err=True)
            sys.exit(2)
        table = table[table["teryt"] == powiat] if level == "powiat" else table[table["powiat_teryt"] == powiat]
    records = table.astype(object).where(table.notna(), None).to_dict("records")
    if fmt == "json":
        click.echo(json.dumps(records, ensure_ascii=False, indent=1, default=lambda v: v.item() if hasattr(v, "item") else str(v)))
    elif fmt == "csv":
        click.echo(table.to_csv(index=False), nl=False)
    else:
        v = ds.voivodeship
        show = ["population", "area_km2", "entities", "entities_per_10k", "entities_per_100km2", "employees",
                "employees_per_10k", "employees_known_pct", "gminy_with_entity", "gminy_total",
                "gmina_coverage_pct", "population_coverage_pct", "access_10km_pct"]
        for rec in records:
            click.echo(f"{rec['name']} ({rec['teryt']})")
            for key in show:
                if key not in rec:
                    continue
                rank = rec.get(f"rank_{key}")
                ratio = rec.get(f"ratio_{key}")
                extra = ""
                if rank is not None:
                    extra = f"  miejsce {rank}/{len(ds.indicator_table(level))}"
                if ratio is not None:
                    extra += f", {ratio:.2f} × województwo ({v.get(key)})"
                click.echo(f"  {LABELS_PL.get(key, key):<40} {_fmt(rec[key]):>12}{extra}")
        click.echo(f"Dane: wersja {ds.version}. " + _completeness_line(ds))


def _fmt(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.2f}".replace(",", " ").replace(".", ",")
    if isinstance(value, int):
        return f"{value:,}".replace(",", " ")
    return str(value)


def _completeness_line(ds) -> str:
    from geoes.dataset.indicators import completeness_text

    return "Kompletność: " + completeness_text(ds.summary["completeness"])


@main.command()
@click.option("--layer", type=click.Choice(["entities", "gminy", "powiaty"]), required=True)
@click.option("--format", "fmt", type=click.Choice(["geojson", "csv", "gpkg"]), required=True)
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True)
@click.pass_obj
def export(settings: Settings, layer, fmt, output):
    """Zapisz warstwę (podmioty, gminy, powiaty) do GeoJSON, CSV lub GeoPackage."""
    from geoes.publish.serialise import export_layer

    ds = _dataset(settings)
    frame = getattr(ds, layer)
    export_layer(frame, layer, fmt, output, ds.summary.get("method"), ds.summary)
    click.echo(f"Zapisano {len(frame)} obiektów warstwy {layer} do {output}")
    if fmt == "csv":
        from geoes.publish.serialise import readme_path

        click.echo(f"Opis danych i atrybucja: {readme_path(output)}")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=None, type=int, help="Liczba procesów gunicorn (domyślnie z gunicorn.conf.py).")
@click.pass_obj
def serve(settings: Settings, host, port, workers):
    """Uruchom serwis WWW (gunicorn)."""
    import os

    from geoes.config import REPO_DIR

    os.environ.setdefault("GEOES_DATA_DIR", str(settings.data_dir))
    os.environ.setdefault("GEOES_REGION", settings.region)
    args = [sys.executable, "-m", "gunicorn", "-c", str(REPO_DIR / "gunicorn.conf.py"), "--bind", f"{host}:{port}"]
    if workers:
        args += ["--workers", str(workers)]
    args.append("app:app")
    os.chdir(REPO_DIR)
    os.execv(sys.executable, args)


# Register-import and geocoding commands live beside the code they drive.
from geoes.cli.register import geocode_command, import_command  # noqa: E402

main.add_command(import_command)
main.add_command(geocode_command)

from geoes.cli.report import report_command  # noqa: E402

main.add_command(report_command)
