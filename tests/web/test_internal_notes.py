"""Internal notes stay internal (issue 20): an office register (CSV from Excel: Windows-1250, `;`) with an
`Uwagi` column, uploaded and published in the console. The remark is in the register and in the console,
and in no published product: the entity page (with its JSON-LD), the list, the GeoJSON API and its CSV,
XLSX and GeoPackage downloads, the ZIP and GeoPackage bundles, the OGC API (item, items, HTML,
queryables) and the county report. The entity is a real one (the shared supplement file); the note is
the operator's, marked so that it can be found in any byte of any output.
"""
from __future__ import annotations

import io
import zipfile

import pandas as pd
import pytest

from geoes.register.record import INTERNAL_COLUMNS, PUBLISHED_COLUMNS
from geoes.publish.serialise import ENTITY_PROPERTIES

from .admin_helpers import follow_job, make_admin_app, page_token, sign_in, token

NOTE = "Do sprawdzenia: KRS nie znaleziony, typ do potwierdzenia [notatka-operatora-7f3a20]"
MARK = "notatka-operatora-7f3a20"
ENTITY = "swk-n001"          # WTZ przy DPS im. Jana Pawła II w Kielcach (pes_swietokrzyskie_uzupelnienie.csv)


@pytest.fixture(scope="module")
def published(tmp_path_factory, register_before_supplement):
    from console.helpers import HEADERS, csv_bytes, register_rows

    app, settings = make_admin_app(register_before_supplement, tmp_path_factory.mktemp("notes") / "data")
    client = app.test_client()
    sign_in(client)
    rows = [row + [NOTE] for row in register_rows(ENTITY)]
    office = csv_bytes(rows, HEADERS + ["Uwagi"], sep=";", encoding="cp1250")
    assert NOTE.encode("cp1250") in office
    r = follow_job(client, client.post("/admin/upload", data={"csrf_token": page_token(client),
                                                              "file": (io.BytesIO(office), "rejestr_urzedu.csv")},
                                       content_type="multipart/form-data"))
    assert r.status_code == 302, r.get_data(as_text=True)
    cs_url = r.headers["Location"]
    page = client.get(cs_url).get_data(as_text=True)
    assert "Dodane: <strong>1\u00a0podmiot</strong>" in page, page     # mapped without a question
    r = client.post(cs_url.rstrip("/") + "/publish", data={"csrf_token": token(page)})
    assert r.status_code == 302 and "/admin/versions/" in r.headers["Location"]
    register = pd.read_csv(settings.entities_path, dtype=str, keep_default_na=False)
    [entity_id] = register.loc[register["internal_notes"] == NOTE, "id"]
    return app, client, settings, entity_id


def test_the_remark_is_in_the_register_and_the_console(published):
    _app, client, settings, entity_id = published
    register = pd.read_csv(settings.entities_path, dtype=str, keep_default_na=False).set_index("id")
    assert register.at[entity_id, "internal_notes"] == NOTE
    assert MARK not in register.at[entity_id, "description"]      # "Uwagi" is not the public description
    form = client.get(f"/admin/entities/{entity_id}").get_data(as_text=True)
    assert f">{NOTE}</textarea>" in form and "Uwagi wewnętrzne (nie są publikowane)" in form


def _public_outputs(client, entity_id: str, powiat: str) -> dict[str, bytes]:
    urls = [
        f"/entities/{entity_id}", "/entities", f"/entities?q=Warsztat", "/",
        "/api/entities.geojson", "/api/entities.geojson?view=map", "/api/entities.geojson?format=csv",
        "/api/entities.geojson?format=csv&dialect=excel-pl", "/api/entities.geojson?format=xlsx",
        "/api/entities.geojson?format=gpkg", "/api/download.gpkg", "/api/download.zip?layer=entities",
        f"/ogc/collections/entities/items/{entity_id}", f"/ogc/collections/entities/items/{entity_id}?f=html",
        "/ogc/collections/entities/items?limit=10000", "/ogc/collections/entities/items?f=html&limit=10000",
        "/ogc/collections/entities/queryables", "/ogc/collections/entities", f"/powiaty/{powiat}/raport.html",
        f"/powiaty/{powiat}", "/sitemap.xml",
    ]
    out = {}
    for url in urls:
        r = client.get(url)
        assert r.status_code == 200, (url, r.status_code)
        out[url] = r.get_data()
    return out


def _unpacked(name: str, body: bytes) -> bytes:
    """The body, and for a ZIP (XLSX, the download bundle) every member inflated."""
    if body[:2] != b"PK":
        return body
    with zipfile.ZipFile(io.BytesIO(body)) as z:
        return body + b"".join(z.read(n) for n in z.namelist())


def test_the_remark_is_in_no_published_product(published):
    app, _client, settings, entity_id = published
    public = app.test_client()
    frame = pd.read_csv(settings.entities_path, dtype=str, keep_default_na=False).set_index("id")
    assert frame.at[entity_id, "locality"] == "Kielce"
    outputs = _public_outputs(public, entity_id, "2661")
    assert frame.at[entity_id, "name"].encode("utf-8") in outputs[f"/entities/{entity_id}"]
    for url, body in outputs.items():
        data = _unpacked(url, body)
        for needle in (MARK.encode("utf-8"), MARK.encode("utf-16-le"), b"internal_notes"):
            assert needle not in data, (url, needle)
    # The version the site serves does not even hold the field.
    current = settings.build_dir / "current"
    for path in current.resolve().glob("*.gpkg"):
        assert MARK.encode("utf-8") not in path.read_bytes(), path


def test_the_allow_list_names_every_published_field_and_no_internal_one():
    assert "internal_notes" in INTERNAL_COLUMNS and "internal_notes" not in PUBLISHED_COLUMNS
    assert not set(INTERNAL_COLUMNS) & set(ENTITY_PROPERTIES)
    assert set(PUBLISHED_COLUMNS) <= set(ENTITY_PROPERTIES)


def test_a_new_record_field_stays_internal_until_it_is_allowed(built_settings):
    """The allow-list, not a deny-list: a column the record gains tomorrow is not written out by default."""
    from geoes.dataset.reader import load_current
    from geoes.publish import serialise

    ds = load_current(built_settings)
    frame = ds.entities.head(3).assign(tomorrows_field="x-nowe-pole-x")
    body = serialise.to_geojson(frame) + serialise.to_csv(frame) + serialise.to_csv(frame, "excel-pl")
    assert b"x-nowe-pole-x" not in body and b"tomorrows_field" not in body
