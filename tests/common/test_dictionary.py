"""The data dictionary (geoes/reference/columns.csv): every published column has a Polish name with its
unit, a definition and a source — a column added to a layer without a row there fails here."""
from __future__ import annotations

import pandas as pd
import pyogrio
import pytest

from geoes.common import dictionary
from geoes.common.reference import data_dictionary
from geoes.publish import office, tables
from geoes.publish.serialise import published, write_gpkg

SCOPES = {"entities": "entities", "gminy": "units", "powiaty": "units"}


@pytest.fixture(scope="module")
def dataset(built_settings):
    from geoes.dataset.reader import load_current

    return load_current(built_settings)


def _published_tables(ds):
    """Every table that leaves the service with machine names: the layers as GIS files carry them (lon/lat,
    WKT) and the indicator tables with their file-wide columns."""
    for layer, scope in SCOPES.items():
        yield layer, scope, tables.flat_table(published(getattr(ds, layer)))
    for level in ("powiat", "gmina"):
        yield f"indicators {level}", "units", ds.indicator_table(level, reasons="text", meta=True)


def test_every_published_column_is_described(dataset):
    for name, scope, table in _published_tables(dataset):
        missing = dictionary.missing(table.columns, scope)
        assert not missing, f"{name}: add these columns to geoes/reference/columns.csv: {missing}"
        for col in table.columns:
            found = dictionary.column(col, scope, "powiat")
            assert found.label and found.definition and found.source, (name, col)
            assert "{" not in found.label + found.definition, (name, col)  # every pattern filled in


def test_a_new_column_is_reported():
    assert dictionary.missing(["entities", "new_indicator_xyz", "rank_new_indicator_xyz"], "units") == [
        "new_indicator_xyz", "rank_new_indicator_xyz"]
    assert dictionary.column("entities_no_such_type", "units") is None


def test_headers_for_people_are_unique_polish_and_carry_units(dataset):
    for name, scope, table in _published_tables(dataset):
        level = "gmina" if "gmin" in name else "powiat"
        sheet = office.people_table(table, scope, level)
        headers = list(sheet.frame.columns)
        assert len(headers) == len(set(headers)), name
        assert not set(headers) & set(table.columns), name  # no machine name left for people
        for col in sheet.columns:
            if col.kind == "percent":
                assert col.label.endswith("(%)"), col.label
            if col.kind == "points":
                assert col.label.endswith("(pkt proc.)"), col.label


def test_patterns_name_places_relations_and_types():
    assert dictionary.label("rank_entities_per_10k", "units", "powiat") == \
        "Miejsce wśród powiatów: Podmioty w rejestrze na 10 tys. mieszkańców"
    assert dictionary.label("rank_unemployment_rate", "units", "gmina") == \
        "Miejsce wśród gmin: Stopa bezrobocia rejestrowanego"  # a place has no unit
    ratio = dictionary.column("ratio_access_10km_pct", "units", "powiat")
    assert ratio.kind == "ratio" and ratio.part == "ratio" and ratio.indicator == "access_10km_pct"
    assert dictionary.column("rank_entities_max", "units").part == "rank_max"
    assert dictionary.label("entities_wtz", "units") == "Podmioty w rejestrze: WTZ"
    # One machine name, two meanings: the layer's scope decides.
    assert dictionary.label("employees", "entities") == "Zatrudnieni (osoby)"
    assert dictionary.label("employees", "units") == "Zatrudnieni w podmiotach z rejestru (osoby)"


def test_the_file_is_well_formed():
    seen = set()
    for entry in data_dictionary():
        assert (entry.scope, entry.column) not in seen, entry.column
        seen.add((entry.scope, entry.column))
        assert entry.scope in ("", *dictionary.SCOPES) and entry.kind in (
            "code", "text", "int", "year", "decimal", "percent", "points", "ratio", "bool", "date", "reasons")
        assert entry.group in ("id", "value", "need", "type", "rank", "note", "meta", "geometry")
        assert not entry.values or entry.values in office.VOCABULARIES, entry.column
        assert "aktywn" not in entry.label.lower(), entry.column  # counts are "w rejestrze"


def test_whole_numbers_stay_whole(dataset, tmp_path):
    """Counts of people are integers in every file: GeoPackage Integer, `1548` in CSV, not `1548.0`."""
    powiaty = published(dataset.powiaty)
    for col in ("unemployed", "unemployed_2022", "employees", "rank_employees"):
        assert pd.api.types.is_integer_dtype(powiaty[col].dtype), col
    text = tables.to_csv(tables.flat_table(powiaty), "gis").decode("utf-8-sig")
    header, first = text.splitlines()[:2]
    row = dict(zip(header.split(","), first.split(",")))
    assert row["unemployed"].isdigit() and row["population"].isdigit()
    write_gpkg({"powiaty": dataset.powiaty}, tmp_path / "p.gpkg")
    info = pyogrio.read_info(tmp_path / "p.gpkg", layer="powiaty")
    types = dict(zip(info["fields"], info["dtypes"]))
    assert types["unemployed"].startswith("int") and types["unemployed_2022"].startswith("int")
