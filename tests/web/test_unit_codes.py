"""One name, one meaning: in every layer and format an entity's `powiat_teryt`/`gmina_teryt` are the units
the site counts it in — exactly what /api/…?powiat= and ?gmina= select — and `*_stated` what the register
says; `*_computed` are deprecated aliases with the same values, kept in the files for GIS and scripts and
left out of the files for people (XLSX, CSV for Excel). Data: the project's real entities."""
from __future__ import annotations

import csv
import io
import json

import openpyxl
import pandas as pd
import pytest

from geoes.common.dictionary import label
from geoes.web.served import served_data


@pytest.fixture(scope="module")
def ds(app):
    return served_data(app).current()


def counted_by_api(client, ds) -> dict[str, tuple[str | None, str | None]]:
    """id → (powiat, gmina) as the /api filters count it."""
    out = {i: [None, None] for i in ds.entities["id"]}
    for teryt in ds.powiaty["teryt"]:
        for f in json.loads(client.get(f"/api/entities.geojson?powiat={teryt}").data)["features"]:
            out[f["id"]][0] = teryt
    for teryt in ds.gminy["teryt"]:
        for f in json.loads(client.get(f"/api/entities.geojson?gmina={teryt}").data)["features"]:
            out[f["id"]][1] = teryt
    return {k: tuple(v) for k, v in out.items()}


def test_the_codes_mean_the_same_in_every_format(client, ds, tmp_path):
    import pyogrio

    counted = counted_by_api(client, ds)
    stated = {r.id: (r.powiat_teryt or None, r.gmina_teryt or None) for r in ds.entities.itertuples()}
    # the sample has entities whose stated powiat is not the one they are counted in (the point's)
    assert any(counted[i][0] != stated[i][0] for i in counted)

    def codes(row: dict, *names: str) -> tuple:
        return tuple(None if pd.isna(row.get(k)) or row.get(k) == "" else row.get(k) for k in names)

    def check(rows: dict[str, dict], aliases: bool, where: str) -> None:
        assert set(rows) == set(counted), where
        for fid, row in rows.items():
            got = codes(row, "powiat_teryt", "gmina_teryt")
            assert got == counted[fid], (where, fid)
            assert codes(row, "powiat_teryt_stated", "gmina_teryt_stated") == stated[fid], (where, fid)
            if aliases:
                assert codes(row, "powiat_teryt_computed", "gmina_teryt_computed") == got, (where, fid)
            else:
                assert "powiat_teryt_computed" not in row and "gmina_teryt_computed" not in row, where

    geojson = json.loads(client.get("/api/entities.geojson").data)["features"]
    check({f["id"]: f["properties"] for f in geojson}, True, "GeoJSON")
    ogc = json.loads(client.get("/ogc/collections/entities/items?limit=10000").data)["features"]
    check({f["id"]: f["properties"] for f in ogc}, True, "OGC API")
    gis = pd.read_csv(io.BytesIO(client.get("/api/entities.geojson?format=csv").data), dtype=str,
                      encoding="utf-8-sig", keep_default_na=False)
    check({r["id"]: r for r in gis.to_dict("records")}, True, "CSV gis")
    path = tmp_path / "e.gpkg"
    path.write_bytes(client.get("/api/entities.geojson?format=gpkg").data)
    gpkg = pyogrio.read_dataframe(path)
    check({r["id"]: r for r in gpkg.drop(columns="geometry").to_dict("records")}, True, "GeoPackage")
    # Files for people have Polish headers (the data dictionary): read them back as machine names.
    machine = {label(n, "entities"): n for n in ("id", "powiat_teryt", "gmina_teryt", "powiat_teryt_stated",
                                                 "gmina_teryt_stated", "powiat_teryt_computed",
                                                 "gmina_teryt_computed")}
    excel = csv.DictReader(io.StringIO(client.get("/api/entities.geojson?format=csv&dialect=excel-pl")
                                       .data.decode("utf-8-sig")), delimiter=";")
    unwrap = lambda v: v[2:-1] if v.startswith('="') else v  # noqa: E731 — the ="…" text formula
    excel_rows = [{machine.get(k, k): unwrap(v) for k, v in r.items()} for r in excel]
    check({r["id"]: r for r in excel_rows}, False, "CSV excel-pl")
    ws = openpyxl.load_workbook(io.BytesIO(client.get("/api/entities.geojson?format=xlsx").data)).worksheets[0]
    header = [machine.get(c.value, c.value) for c in ws[1]]
    xlsx_rows = [dict(zip(header, row)) for row in ws.iter_rows(min_row=2, values_only=True)]
    check({r["id"]: r for r in xlsx_rows if r.get("id")}, False, "XLSX")
