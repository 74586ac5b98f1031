"""The ESSGlobal standard CSV (geoes.publish.essglobal): the standard's columns in its order, one row per
entity of exactly the filtered set, ESSGlobal term URIs from the types, the standard's two kinds of
coordinates, escaped HTML, neutralised formulas, and nothing but the published fields."""
from __future__ import annotations

import csv
import io
import json

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from geoes.common.reference import entity_types, essglobal, essglobal_types
from geoes.publish.essglobal import columns, describe_types, essglobal_table, to_csv
from geoes.web.served import served_data

# The 25 columns of SEA's standard CSV (schema `sse_initiatives`) as SolidarityEconomyAssociation/open-data
# writes them in every output (coops-uk, ica, ncba, dotcoop… output.yml), in that order.
SEA_STANDARD = ["Identifier", "Name", "Description", "Organisational Structure", "Primary Activity", "Activities",
                "Street Address", "Locality", "Region", "Postcode", "Country ID", "Territory ID", "Website",
                "Phone", "Email", "Twitter", "Facebook", "Companies House Number", "Qualifiers",
                "Membership Type", "Latitude", "Longitude", "Geo Container", "Geo Container Latitude",
                "Geo Container Longitude"]
OS = "https://lod.coop/essglobal/2.1/standard/organisational-structure/"
QF = "https://lod.coop/essglobal/2.1/standard/qualifiers/"
ACI = "https://lod.coop/essglobal/2.1/standard/activities-ica/"


def read(body: bytes) -> list[dict]:
    assert not body.startswith(b"\xef\xbb\xbf") and b"\r\n" in body
    return list(csv.DictReader(io.StringIO(body.decode("utf-8"))))


@pytest.fixture(scope="module")
def ds(app):
    return served_data(app).current()


def test_columns_are_the_standards_then_the_registry_numbers():
    assert columns()[:25] == SEA_STANDARD
    assert columns()[25:] == ["Legal Form", "KRS", "NIP", "REGON", "Status"]


def test_every_type_has_a_mapping_to_real_vocabulary_terms():
    vocab = essglobal()["vocabularies"]
    mapping = essglobal_types()
    assert set(mapping) == set(entity_types())
    for row in mapping.values():
        assert row.why
        assert not row.organisational_structure or row.organisational_structure in vocab["organisational-structure"]
        assert all(q in vocab["qualifiers"] for q in row.qualifiers)
        assert not row.primary_activity or row.primary_activity in vocab["activities-ica"]
    # the reintegration units: "Social insertion initiatives" (ESSGlobal qualifiers vocabulary)
    for code in ("cis", "kis", "wtz", "zaz", "spoldzielnia_socjalna"):
        assert "Socialinsertioninitiatives" in mapping[code].qualifiers
    assert vocab["qualifiers"]["Socialinsertioninitiatives"] == "Social insertion initiatives"


def test_describe_types_joins_several_types():
    structure, qualifiers, primary, activities = describe_types("cis;spoldzielnia_inwalidow")
    assert structure == OS + "OS20"  # the first type's structure
    assert qualifiers == QF + "Socialinsertioninitiatives;" + QF + "q03"
    assert primary == ACI + "ICA270" and activities == ""
    assert describe_types("inne") == ("", "", "", "")
    assert describe_types("") == ("", "", "", "")


def test_one_row_per_entity_over_http(client, ds):
    r = client.get("/api/essglobal.csv")
    assert r.status_code == 200 and r.content_type.startswith("text/csv")
    assert "attachment" in r.headers["Content-Disposition"] and "essglobal" in r.headers["Content-Disposition"]
    assert r.headers["X-Attribution"]
    rows = read(r.data)
    assert list(rows[0]) == columns()
    assert [row["Identifier"] for row in rows] == list(ds.entities["id"]) and len(rows) == 82
    assert {row["Country ID"] for row in rows} == {"PL"} and {row["Region"] for row in rows} == {"świętokrzyskie"}
    by_id = {row["Identifier"]: row for row in rows}
    ents = ds.entities.set_index("id")
    for fid, e in ents.iterrows():
        row = by_id[fid]
        assert row["Name"] == e["name"] and row["KRS"] == e["krs"] and row["NIP"] == e["nip"]
        assert row["REGON"] == e["regon"] and row["Status"] == e["status"]
        first = essglobal_types()[e["types"].split(";")[0]]
        assert row["Organisational Structure"] == (OS + first.organisational_structure
                                                   if first.organisational_structure else "")


def test_coordinates_as_the_standard_defines_them(client, ds):
    rows = {row["Identifier"]: row for row in read(client.get("/api/essglobal.csv").data)}
    ents = ds.entities.set_index("id")
    placed = ~(ents.geometry.is_empty | ents.geometry.isna())
    assert placed.sum() > 0 and (~placed).sum() > 0
    for fid, e in ents.iterrows():
        row = rows[fid]
        if not placed[fid]:
            assert row["Latitude"] == row["Longitude"] == row["Geo Container Latitude"] == ""
            continue
        # no entity of the sample is placed at its exact address: the points are the locality's or gmina's
        assert e["location_precision"] != "address" and row["Latitude"] == row["Longitude"] == ""
        assert float(row["Geo Container Latitude"]) == round(e.geometry.y, 6)
        assert float(row["Geo Container Longitude"]) == round(e.geometry.x, 6)
        assert len(row["Geo Container Latitude"].split(".")[-1]) <= 6


def test_filters_are_the_downloads(client):
    for query in ("type=wtz", "powiat=2602", "type=cis,kgw&powiat=2604", "q=caritas", "bbox=20.3,50.5,21,51"):
        expected = [f["id"] for f in json.loads(client.get(f"/api/entities.geojson?{query}").data)["features"]]
        got = [row["Identifier"] for row in read(client.get(f"/api/essglobal.csv?{query}").data)]
        assert got == expected and got, query
    for bad in ("powiat=26", "format=xlsx", "type=nie_ma"):
        r = client.get(f"/api/essglobal.csv?{bad}")
        assert r.status_code == 400 and json.loads(r.data)["code"] == "InvalidParameterValue", bad


def frame_of(**fields) -> gpd.GeoDataFrame:
    base = {"id": "t-1", "name": "Spółdzielnia", "types": "spoldzielnia_socjalna", "location_precision": "address",
            "status": "active", "description": "", "phone": "", "website": ""}
    base.update(fields)
    point = shapely.Point(20.6285671234, 50.8703331234)
    return gpd.GeoDataFrame(pd.DataFrame([base]), geometry=[point], crs="EPSG:4326")


def test_exact_point_in_latitude_longitude_html_escaped_and_formulas_neutralised():
    frame = frame_of(name="=HYPERLINK(\"http://x\")", phone="+48 41 000 00 00", website="javascript:alert(1)",
                     description="<b>Piekarnia</b> & sklep")
    row = read(to_csv(essglobal_table(frame, "świętokrzyskie")))[0]
    assert (row["Latitude"], row["Longitude"]) == ("50.870333", "20.628567")
    assert row["Geo Container Latitude"] == row["Geo Container Longitude"] == ""
    assert row["Description"] == "&lt;b&gt;Piekarnia&lt;/b&gt; &amp; sklep"
    assert row["Name"] == "'=HYPERLINK(\"http://x\")" and row["Phone"] == "'+48 41 000 00 00"
    assert row["Website"] == ""
    assert row["Organisational Structure"] == OS + "OS60" and row["Qualifiers"] == QF + "Socialinsertioninitiatives"


def test_nothing_but_published_fields_reaches_the_file():
    """A field that is not published (the build's `row`, an internal note a register may carry) never
    appears: the file reads the published layer's fields one by one, by name."""
    frame = frame_of(row=17, internal_notes="NIE PUBLIKOWAĆ: dłużnik", verified_source="operator")
    body = to_csv(essglobal_table(frame, "świętokrzyskie")).decode()
    assert "NIE PUBLIKOWAĆ" not in body and "17" not in body and "operator" not in body


def test_export_command_writes_the_same_file(runner, client, tmp_path):
    out = tmp_path / "essglobal.csv"
    result = runner.invoke("export", "--format", "essglobal", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "Zapisano 82\u00a0podmioty w standardzie ESSGlobal" in result.output
    assert out.read_bytes() == client.get("/api/essglobal.csv").data
    wrong = runner.invoke("export", "--format", "essglobal", "--layer", "gminy", "-o", str(out))
    assert wrong.exit_code == 2 and "tylko podmioty" in wrong.output
    missing = runner.invoke("export", "--format", "csv", "-o", str(out))
    assert missing.exit_code == 2 and "--layer" in missing.output


def test_the_readme_table_is_the_reference_data():
    """The README's mapping table says what geoes/reference/essglobal_types.csv says, row for row."""
    import re

    from geoes.config import REPO_DIR

    readme = (REPO_DIR / "README.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `([a-z_]+)` \| (.*?) \| (.*?) \| (.*?) \|$", readme, flags=re.M)
    table = {code: (os_, q, a) for code, os_, q, a in rows if code in essglobal_types()}
    assert set(table) == set(essglobal_types())
    for code, row in essglobal_types().items():
        os_, q, a = table[code]
        assert re.findall(r"`([^`]+)`", os_) == ([row.organisational_structure] if row.organisational_structure else [])
        assert re.findall(r"`([^`]+)`", q) == list(row.qualifiers)
        assert re.findall(r"`([^`]+)`", a) == ([row.primary_activity] if row.primary_activity else [])


def test_the_about_page_links_the_aggregator_formats(client):
    html = client.get("/about").get_data(as_text=True)
    for path in ("/api/essglobal.csv", "/api/murmurations.json"):
        assert f'href="{path}"' in html
        assert client.get(path).status_code == 200
