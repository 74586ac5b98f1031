"""GeoJSON API and downloads: RFC 7946 output, filters, downloads of exactly the filtered set in every
format (read back with pandas/pyogrio), CSV formula neutralisation, indicators, and the HTTP behaviour
(ETag/304, gzip, CORS, Cache-Control, JSON errors). Data: the real entities plus synthetic test rows
(tests/ogc/testdata.py) in a private, built data dir."""
from __future__ import annotations

import gzip
import io
import json
import re
import sqlite3
import zipfile
import zlib

import pandas as pd
import pytest

from geoes.publish.filters import apply_entities, parse_filter
from geoes.web.served import served_data
from ogc.testdata import FORMULA_ID, FORMULA_NAME, FORMULA_PHONE, append_rows, build_synthetic

GEOJSON = "application/geo+json"


@pytest.fixture(scope="module")
def api_settings(tmp_path_factory, built_settings):
    return build_synthetic(built_settings, tmp_path_factory.mktemp("api"))


@pytest.fixture(scope="module")
def api_app(api_settings):
    from geoes.web import create_app

    return create_app({"TESTING": True, "GEOES_DATA_DIR": str(api_settings.data_dir), "GEOES_REGION": "26"})


@pytest.fixture()
def c(api_app):
    return api_app.test_client()


@pytest.fixture(scope="module")
def ds(api_app):
    return served_data(api_app).current()


def get(client, url, status=200, **kw):
    r = client.get(url, **kw)
    assert r.status_code == status, (url, r.status_code, r.data[:300])
    return r


def ids_of(client, url) -> list[str]:
    return [f["id"] for f in json.loads(get(client, url).data)["features"]]


def _coords(geom):
    if geom is None:
        return
    if geom["type"] == "Point":
        yield geom["coordinates"]
        return
    stack = [geom["coordinates"]]
    while stack:
        x = stack.pop()
        if x and isinstance(x[0], (int, float)):
            yield x
        else:
            stack.extend(x)


# ------------------------------------------------------------------------------------ GeoJSON layers

@pytest.mark.parametrize("layer,id_col", [("entities", "id"), ("gminy", "teryt"), ("powiaty", "teryt")])
def test_layers_are_rfc7946(c, ds, layer, id_col):
    r = get(c, f"/api/{layer}.geojson")
    assert r.content_type == GEOJSON
    doc = json.loads(r.data)
    assert doc["type"] == "FeatureCollection" and "crs" not in doc
    assert "GUGiK" in doc["attribution"]
    frame = getattr(ds, layer)
    assert [f["id"] for f in doc["features"]] == frame[id_col].tolist()
    for f in doc["features"]:
        assert isinstance(f["id"], str)
        for lon, lat in _coords(f["geometry"]):
            assert 19 < lon < 22.5 and 49.9 < lat < 51.6  # lon/lat order in woj. 26
            for v in (lon, lat):
                assert len(repr(v).split(".")[-1]) <= 6  # 6 decimals at most


def test_units_carry_all_indicators(c, ds):
    doc = json.loads(get(c, "/api/powiaty.geojson").data)
    props = doc["features"][0]["properties"]
    for key in ("teryt", "name", "population", "area_km2", "entities", "entities_per_10k", "entities_per_100km2",
                "employees", "employees_per_10k", "gmina_coverage_pct", "population_coverage_pct",
                "access_10km_pct", "rank_entities_per_10k", "ratio_entities_per_10k", "entities_cis"):
        assert key in props, key
    jedrz = [f for f in doc["features"] if f["id"] == "2602"][0]
    assert jedrz["properties"]["gminy_total"] == 9


def test_unplaced_entities_have_null_geometry(c, ds):
    doc = json.loads(get(c, "/api/entities.geojson").data)
    empty = set(ds.entities.loc[ds.entities.geometry.is_empty, "id"])
    assert {f["id"] for f in doc["features"] if f["geometry"] is None} == empty


@pytest.mark.parametrize("query", [
    "type=cis", "type=cis&type=wtz", "type=cis,wtz", "powiat=2602", "gmina=2602042", "q=spoldzielnia",
    "q=TEST", "bbox=20.3,50.5,21.0,51.0", "type=zaz&powiat=2661", "q=nic-takiego-nie-ma",
])
def test_entity_filters_match_the_filter_module(c, ds, query):
    from werkzeug.datastructures import MultiDict
    from urllib.parse import parse_qsl

    flt = parse_filter(MultiDict(parse_qsl(query)), ds)
    expected = apply_entities(ds.entities, flt)["id"].tolist()
    assert ids_of(c, f"/api/entities.geojson?{query}") == expected


def test_repeated_and_comma_types_are_the_same(c):
    a = ids_of(c, "/api/entities.geojson?type=cis&type=wtz")
    b = ids_of(c, "/api/entities.geojson?type=cis,wtz")
    assert a == b and len(a) > len(ids_of(c, "/api/entities.geojson?type=cis"))


def test_q_is_accent_insensitive(c, ds):
    assert ids_of(c, "/api/entities.geojson?q=spoldzielnia") == ids_of(c, "/api/entities.geojson?q=Spółdzielnia")


def test_unit_filters(c):
    assert len(ids_of(c, "/api/gminy.geojson?powiat=2602")) == 9
    assert ids_of(c, "/api/gminy.geojson?gmina=2602042") == ["2602042"]
    assert ids_of(c, "/api/powiaty.geojson?gmina=2602042") == ["2602"]
    assert ids_of(c, "/api/powiaty.geojson?powiat=2661") == ["2661"]
    # `type` is validated but does not narrow the units
    assert len(ids_of(c, "/api/powiaty.geojson?type=cis")) == 14
    assert 0 < len(ids_of(c, "/api/gminy.geojson?bbox=20.3,50.5,20.4,50.6")) < 102


@pytest.mark.parametrize("url", [
    "/api/entities.geojson?type=nieznany", "/api/entities.geojson?powiat=26", "/api/entities.geojson?powiat=2699",
    "/api/entities.geojson?gmina=123", "/api/entities.geojson?bbox=1,2,3", "/api/entities.geojson?bbox=21,50,20,51",
    "/api/entities.geojson?bbox=0,0,200,10", "/api/entities.geojson?format=xls", "/api/entities.geojson?powait=2602",
    "/api/entities.geojson?q=" + "x" * 500, "/api/entities.geojson?powiat=2602&powiat=2601",
    "/api/gminy.geojson?format=shp", "/api/indicators?level=kraj", "/api/indicators?format=xml",
    "/api/indicators?powiat=9999", "/api/download.zip?layer=rzeki", "/api/download.zip?format=pdf",
    "/api/download.gpkg?format=csv", "/api?x=1",
])
def test_bad_parameters_are_400_json(c, url):
    r = get(c, url, status=400)
    assert r.content_type == "application/json"
    body = json.loads(r.data)
    assert set(body) == {"code", "description"} and body["description"]
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert r.headers["Cache-Control"] == "no-store"


def test_non_utf8_query_is_400(c):
    r = c.get("/api/entities.geojson?q=%ff%fe")
    assert r.status_code == 400


def test_unknown_api_path_404_and_write_405(c):
    r = get(c, "/api/nothing.geojson", status=404)
    assert json.loads(r.data)["code"] == "NotFound"
    r = c.post("/api/entities.geojson")
    assert r.status_code == 405 and json.loads(r.data)["code"] == "MethodNotAllowed"


def test_api_index(c):
    doc = json.loads(get(c, "/api").data)
    hrefs = [lk["href"] for lk in doc["links"]]
    assert any(h.endswith("/api/entities.geojson") for h in hrefs)
    assert set(doc["filters"]) == {"type", "powiat", "gmina", "q", "bbox"}


# ------------------------------------------------------------------------------------ downloads

FILTERED = "type=cis&type=ngo&powiat=2602"


def _read_back(fmt: str, data: bytes, tmp_path, layer: str | None = None) -> pd.DataFrame:
    if fmt == "csv":
        return pd.read_csv(io.BytesIO(data), dtype=str, encoding="utf-8-sig", keep_default_na=False)
    import pyogrio

    path = tmp_path / f"download.{fmt}"
    path.write_bytes(data)
    return pyogrio.read_dataframe(path, layer=layer)


@pytest.mark.parametrize("layer", ["entities", "gminy", "powiaty"])
@pytest.mark.parametrize("fmt", ["geojson", "csv", "gpkg"])
def test_download_is_exactly_the_filtered_set(c, ds, tmp_path, layer, fmt):
    query = FILTERED if layer == "entities" else "powiat=2602"
    api_ids = ids_of(c, f"/api/{layer}.geojson?{query}")
    assert api_ids
    r = get(c, f"/api/{layer}.geojson?{query}&format={fmt}")
    date = ds.summary["built_at"][:10]
    assert r.headers["Content-Disposition"] == f'attachment; filename="geoes_{layer}_{date}.{fmt}"'
    frame = _read_back(fmt, r.data, tmp_path)
    id_col = "id" if layer == "entities" else "teryt"
    assert frame[id_col].astype(str).tolist() == api_ids
    if fmt == "csv":
        assert r.data.startswith(b"\xef\xbb\xbf")  # BOM for Excel
        assert r.content_type == "text/csv; charset=utf-8"
        if layer == "entities":
            assert {"lon", "lat"} <= set(frame.columns)
        else:
            assert frame["wkt"].str.startswith(("POLYGON", "MULTIPOLYGON")).all()
        assert "GUGiK" in r.headers["X-Attribution"]
        assert "/api/download.zip?" in r.headers["Link"] and 'rel="describedby"' in r.headers["Link"]


def test_full_unfiltered_downloads_match_the_dataset(c, ds, tmp_path):
    for fmt in ("csv", "gpkg"):
        frame = _read_back(fmt, get(c, f"/api/entities.geojson?format={fmt}").data, tmp_path)
        assert len(frame) == len(ds.entities)


def test_geojson_download_carries_attribution_and_method(c, ds):
    doc = json.loads(get(c, f"/api/entities.geojson?{FILTERED}&format=geojson").data)
    assert "GUGiK PRG" in doc["attribution"] and doc["version"] == ds.version
    assert doc["method"]["access_radius_m"] == 10000
    assert doc["filters"] == {"type": ["cis", "ngo"], "powiat": "2602"}


def test_gpkg_download_metadata(c, ds, tmp_path):
    path = tmp_path / "x.gpkg"
    path.write_bytes(get(c, f"/api/entities.geojson?{FILTERED}&format=gpkg").data)
    with sqlite3.connect(path) as con:
        meta = " ".join(row[0] for row in con.execute("SELECT metadata FROM gpkg_metadata"))
    assert "GUGiK PRG" in meta and "GUS BDL 2024" in meta and ds.version in meta and "access_radius_m" in meta


def test_full_gpkg_has_three_layers(c, ds, tmp_path):
    import pyogrio

    r = get(c, "/api/download.gpkg")
    assert r.content_type == "application/geopackage+sqlite3"
    assert re.fullmatch(r'attachment; filename="geoes_warstwy_\d{4}-\d{2}-\d{2}\.gpkg"', r.headers["Content-Disposition"])
    path = tmp_path / "all.gpkg"
    path.write_bytes(r.data)
    layers = {str(name) for name, _ in pyogrio.list_layers(path)}
    assert layers == {"entities", "gminy", "powiaty"}
    for layer in layers:
        assert pyogrio.read_info(path, layer=layer)["features"] == len(getattr(ds, layer))
    # filters apply to every layer
    path.write_bytes(get(c, "/api/download.gpkg?powiat=2602").data)
    assert pyogrio.read_info(path, layer="gminy")["features"] == 9
    assert pyogrio.read_info(path, layer="powiaty")["features"] == 1


def test_zip_download_has_readme(c, ds):
    r = get(c, f"/api/download.zip?layer=entities&format=csv&{FILTERED}")
    assert r.content_type == "application/zip"
    zf = zipfile.ZipFile(io.BytesIO(r.data))
    names = zf.namelist()
    assert "README.txt" in names
    readme = zf.read("README.txt").decode("utf-8")
    assert "GUGiK PRG" in readme and ds.version in readme and "access_radius_m" in readme and "2602" in readme
    csv_name = [n for n in names if n.endswith(".csv")][0]
    frame = pd.read_csv(io.BytesIO(zf.read(csv_name)), dtype=str, encoding="utf-8-sig")
    assert frame["id"].tolist() == ids_of(c, f"/api/entities.geojson?{FILTERED}")
    full = zipfile.ZipFile(io.BytesIO(get(c, "/api/download.zip").data)).namelist()
    assert len([n for n in full if n.endswith(".csv")]) == 3
    gz = zipfile.ZipFile(io.BytesIO(get(c, "/api/download.zip?format=gpkg").data)).namelist()
    assert any(n.endswith(".gpkg") for n in gz)


def test_csv_formula_cells_are_neutralised(c):
    r = get(c, "/api/entities.geojson?format=csv&q=HYPERLINK")
    frame = pd.read_csv(io.BytesIO(r.data), dtype=str, encoding="utf-8-sig", keep_default_na=False)
    row = frame[frame["id"] == FORMULA_ID].iloc[0]
    assert row["name"] == "'" + FORMULA_NAME
    assert row["phone"] == "'" + FORMULA_PHONE
    assert row["description"].startswith("'@")
    # the JSON keeps the exact text
    doc = json.loads(get(c, "/api/entities.geojson?q=HYPERLINK").data)
    feature = [f for f in doc["features"] if f["id"] == FORMULA_ID][0]
    assert feature["properties"]["name"] == FORMULA_NAME
    # no unescaped formula cell anywhere in the file
    for col in frame.columns:
        assert not frame[col].str.match(r"^[=+\-@]").any(), col


# ------------------------------------------------------------------------------------ the values every format carries

def _decimals(values) -> int:
    return max((len(repr(float(v)).split(".")[1].rstrip("0")) if "e" not in repr(float(v)) else 0) for v in values)


def test_nulls_not_empty_strings_in_geojson_and_ogc(c, ds):
    doc = json.loads(get(c, "/api/entities.geojson").data)
    values = [v for f in doc["features"] for v in f["properties"].values()]
    assert "" not in values and None in values
    unplaced = set(ds.entities.loc[ds.entities.geometry.is_empty, "id"])
    assert unplaced and {f["id"] for f in doc["features"] if f["geometry"] is None} == unplaced
    items = json.loads(get(c, "/ogc/collections/entities/items?limit=10000").data)
    assert "" not in [v for f in items["features"] for v in f["properties"].values()]
    no_krs = json.loads(get(c, "/ogc/collections/entities/items?limit=10000&filter=krs%20IS%20NULL").data)
    assert no_krs["numberMatched"] == int((ds.entities["krs"] == "").sum()) > 0


def test_nulls_and_integers_in_gpkg(c, ds, tmp_path):
    path = tmp_path / "e.gpkg"
    path.write_bytes(get(c, "/api/entities.geojson?format=gpkg").data)
    with sqlite3.connect(path) as con:
        assert con.execute("PRAGMA application_id").fetchone()[0] == 0x47504B47  # 'GPKG'
        assert con.execute("PRAGMA user_version").fetchone()[0] == 10200  # GeoPackage 1.2
        empty = con.execute("SELECT COUNT(*) FROM entities WHERE krs = '' OR street = '' OR legal_form = ''")
        assert empty.fetchone()[0] == 0
        assert con.execute("SELECT COUNT(*) FROM entities WHERE geom IS NULL").fetchone()[0] == \
            int(ds.entities.geometry.is_empty.sum())
        types = {row[1]: row[2] for row in con.execute("PRAGMA table_info(entities)")}
        assert types["employees"] in ("INTEGER", "MEDIUMINT") and types["krs"] == "TEXT"
        assert types["gmina_mismatch"] == "BOOLEAN"


def test_six_decimals_in_every_layer(c, tmp_path):
    import pyogrio
    import shapely

    for layer in ("entities", "gminy", "powiaty"):
        doc = json.loads(get(c, f"/api/{layer}.geojson").data)
        coords = [xy for f in doc["features"] if f["geometry"]
                  for xy in shapely.get_coordinates(shapely.geometry.shape(f["geometry"])).ravel()]
        assert _decimals(coords) <= 6, layer
        path = tmp_path / f"{layer}.gpkg"
        path.write_bytes(get(c, f"/api/{layer}.geojson?format=gpkg").data)
        frame = pyogrio.read_dataframe(path)
        assert _decimals(shapely.get_coordinates(frame.geometry.to_numpy()).ravel()) <= 6, layer
        csv_text = get(c, f"/api/{layer}.geojson?format=csv").data.decode("utf-8-sig")
        numbers = re.findall(r"\d+\.(\d+)", csv_text.split("wkt")[-1]) if layer != "entities" else []
        assert all(len(n) <= 6 for n in numbers), layer


def test_integers_stay_integers_in_csv(c, ds):
    text = get(c, "/api/indicators?level=powiat&format=csv").data.decode("utf-8-sig")
    frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    assert frame["rank_entities"].iloc[:14].str.fullmatch(r"\d+").all()  # 5, not 5.0
    assert frame["rank_entities"].iloc[14] == ""  # the voivodeship has no rank
    assert frame["population"].str.fullmatch(r"\d+").all() and frame["entities"].str.fullmatch(r"\d+").all()
    ents = pd.read_csv(io.BytesIO(get(c, "/api/entities.geojson?format=csv").data), dtype=str,
                       encoding="utf-8-sig", keep_default_na=False)
    known = ents["employees"][ents["employees"] != ""]
    assert len(known) and known.str.fullmatch(r"\d+").all()


def test_excel_pl_download(c):
    r = get(c, "/api/entities.geojson?format=csv&dialect=excel-pl&q=HYPERLINK")
    assert r.headers["Content-Disposition"].endswith('_excel-pl.csv"') or "excel-pl" in r.headers["Content-Disposition"]
    text = r.data.decode("utf-8-sig")
    frame = pd.read_csv(io.StringIO(text), sep=";", dtype=str, keep_default_na=False)
    row = frame[frame["Identyfikator"] == FORMULA_ID].iloc[0]  # the CSV for people: Polish headers
    assert row["Nazwa"] == "'" + FORMULA_NAME and row["Telefon"] == "'" + FORMULA_PHONE
    assert row["Gmina – kod TERYT"].startswith('="')
    assert "," in row["Szerokość geograficzna (WGS84)"]
    # A file for people has each code once: the deprecated aliases are for scripts (the gis CSV, GeoJSON…).
    assert "Gmina według źródła – kod TERYT" in frame.columns
    assert not [c for c in frame.columns if "przestarzała" in c]
    for query in ("format=gpkg&dialect=excel-pl", "dialect=excel-pl", "format=csv&dialect=excel"):
        r = c.get(f"/api/entities.geojson?{query}")
        assert r.status_code == 400 and json.loads(r.data)["description"].startswith("dialect:")


def test_zip_csv_comes_with_csvt(c):
    zf = zipfile.ZipFile(io.BytesIO(get(c, "/api/download.zip?layer=gminy").data))
    csvt = [n for n in zf.namelist() if n.endswith(".csvt")]
    assert len(csvt) == 1
    header = zf.read(csvt[0].replace(".csvt", ".csv")).decode("utf-8-sig").splitlines()[0].split(",")
    types = zf.read(csvt[0]).decode("ascii").strip().split(",")
    assert len(types) == len(header) and types[header.index("teryt")] == '"String"'
    assert types[header.index("population")] == '"Integer"' and types[header.index("area_km2")] == '"Real"'


# ------------------------------------------------------------------------------------ indicators

def test_indicators_json(c, ds):
    doc = json.loads(get(c, "/api/indicators").data)
    assert doc["level"] == "powiat" and len(doc["items"]) == 14 and doc["version"] == ds.version
    assert doc["voivodeship"]["level"] == "wojewodztwo"
    assert "GUGiK" in doc["attribution"] and doc["method"]
    assert {"teryt", "entities_per_10k", "rank_entities_per_10k"} <= set(doc["columns"])
    doc = json.loads(get(c, "/api/indicators?level=gmina").data)
    assert len(doc["items"]) == 102
    doc = json.loads(get(c, "/api/indicators?level=gmina&powiat=2602").data)
    assert len(doc["items"]) == 9
    assert all(item["powiat_teryt"] == "2602" for item in doc["items"])


def test_indicators_csv(c):
    r = get(c, "/api/indicators?level=powiat&format=csv")
    assert r.data.startswith(b"\xef\xbb\xbf") and "attachment" in r.headers["Content-Disposition"]
    frame = pd.read_csv(io.BytesIO(r.data), dtype=str, encoding="utf-8-sig")
    assert len(frame) == 15  # 14 powiaty + the voivodeship row
    assert frame["level"].iloc[-1] == "wojewodztwo"


# ------------------------------------------------------------------------------------ HTTP behaviour

def test_etag_304_cors_cache_control(c, ds):
    r = get(c, "/api/entities.geojson", headers={"Origin": "https://example.org"})
    etag = r.headers["ETag"]
    assert ds.version in etag
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert r.headers["Cache-Control"].startswith("public, max-age=")
    assert "Accept-Encoding" in r.headers["Vary"]
    r2 = c.get("/api/entities.geojson", headers={"If-None-Match": etag})
    assert r2.status_code == 304 and not r2.data
    assert r2.headers["Access-Control-Allow-Origin"] == "*"
    assert c.get("/api/entities.geojson", headers={"If-None-Match": '"x"'}).status_code == 200
    assert get(c, "/api/entities.geojson?format=csv").headers["ETag"] != etag


def test_gzip(c):
    plain = get(c, "/api/gminy.geojson").data
    r = get(c, "/api/gminy.geojson", headers={"Accept-Encoding": "gzip"})
    assert r.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(r.data) == plain and len(r.data) < len(plain) / 3
    assert "Content-Encoding" not in get(c, "/api/gminy.geojson", headers={"Accept-Encoding": "br"}).headers


def test_responses_are_serialised_once_per_version(c, monkeypatch):
    from geoes.publish import serialise

    get(c, "/api/entities.geojson")  # warm the per-version layer cache

    def boom(*a, **kw):
        raise AssertionError("features serialised again")

    monkeypatch.setattr(serialise, "features_json", boom)
    get(c, "/api/entities.geojson")
    get(c, "/api/entities.geojson?type=kgw")  # a new filter slices the cached features
    get(c, "/ogc/collections/entities/items?limit=7")


def test_gzip_chunks_splices_cached_deflate():
    from geoes.publish.cache import LRU
    from geoes.web.http import gzip_chunks

    big = json.dumps([{"a": i, "b": "ż" * (i % 7)} for i in range(3000)]).encode()
    cache = LRU()
    for chunks in ([big], [big, b',"t":"2024"}'], [b"{", big, b"}"], [big, big], [b"small"], [b""]):
        for _ in range(2):
            out = gzip_chunks(chunks, cache)
            assert gzip.decompress(out) == b"".join(chunks)
            assert zlib.decompress(out, 31) == b"".join(chunks)


def test_new_version_is_served_after_rebuild(tmp_path, api_settings):
    from conftest import clone_settings
    from geoes.dataset.build import build
    from geoes.web import create_app

    settings = clone_settings(api_settings, tmp_path, with_build=True)
    app = create_app({"TESTING": True, "GEOES_DATA_DIR": str(settings.data_dir), "GEOES_REGION": "26"})
    served_data(app).check_interval = 0
    client = app.test_client()
    r1 = get(client, "/api/entities.geojson")
    n1 = len(json.loads(r1.data)["features"])
    append_rows(settings.entities_path, [{"id": "test-new", "name": "TEST (syntetyczny) nowy", "types": "kis"}])
    build(settings)
    r2 = get(client, "/api/entities.geojson", headers={"If-None-Match": r1.headers["ETag"]})
    assert r2.headers["ETag"] != r1.headers["ETag"]
    assert len(json.loads(r2.data)["features"]) == n1 + 1
    doc = json.loads(get(client, "/ogc/collections/entities/items?limit=1").data)
    assert doc["numberMatched"] == n1 + 1


def test_cli_export_csv_writes_readme_alongside(runner, tmp_path):
    out = tmp_path / "podmioty.csv"
    result = runner.invoke("export", "--layer", "entities", "--format", "csv", "-o", str(out))
    assert result.exit_code == 0
    readme = (tmp_path / "podmioty_README.txt").read_text(encoding="utf-8")
    assert "GUGiK PRG" in readme and "access_radius_m" in readme
    geo = tmp_path / "p.geojson"
    runner.invoke("export", "--layer", "gminy", "--format", "geojson", "-o", str(geo))
    doc = json.loads(geo.read_text(encoding="utf-8"))
    assert doc["name"] == "gminy" and "GUGiK" in doc["attribution"] and "crs" not in doc


def test_map_view_is_slim_and_matches_the_full_layer(client):
    full = client.get("/api/entities.geojson?type=wtz").get_json()
    slim_resp = client.get("/api/entities.geojson?type=wtz&view=map")
    assert slim_resp.status_code == 200
    slim = slim_resp.get_json()
    assert [f["id"] for f in slim["features"]] == [f["id"] for f in full["features"]]
    assert [f["geometry"] for f in slim["features"]] == [f["geometry"] for f in full["features"]]
    props = slim["features"][0]["properties"]
    assert "description" not in props and "sources" not in props and props["name"]
    assert all(v not in ("", None) for f in slim["features"] for v in f["properties"].values())
    assert len(slim_resp.data) < len(client.get("/api/entities.geojson?type=wtz").data)
    assert slim_resp.headers["ETag"] != client.get("/api/entities.geojson?type=wtz").headers["ETag"]
    assert client.get("/api/entities.geojson?view=map&format=csv").status_code == 400
    assert client.get("/api/entities.geojson?view=mini").status_code == 400
    assert client.get("/api/gminy.geojson?view=mini").status_code == 400


def test_warm_up_prepares_the_map_layers_before_the_first_visitor(built_settings):
    from geoes.web import create_app, warm_up

    app = create_app({"TESTING": True, "WARM_UP": False, "GEOES_DATA_DIR": str(built_settings.data_dir)})
    served = served_data(app)
    warm_up(app)
    version = served.current().version
    # The entity layer and both unit layers as the map asks for them (view=map).
    warmed = {key[2] for key in served.values if key[0] == version and key[1] == "map-view"}
    assert warmed == {"entities", "gminy", "powiaty"}


def _same_version_as(source, target, version: str):
    """A copy of `source`'s build under the version name `version` (as if two builds had the same stamp)."""
    from conftest import clone_settings
    from geoes.dataset.build import INDICATORS_NAME, current_version, switch_current

    settings = clone_settings(source, target, with_build=True)
    old = settings.build_dir / current_version(settings)
    summary = json.loads((old / INDICATORS_NAME).read_text(encoding="utf-8"))
    summary["version"] = version
    (old / INDICATORS_NAME).write_text(json.dumps(summary, ensure_ascii=False), encoding="utf-8")
    old.rename(settings.build_dir / version)
    switch_current(settings, version)
    return settings


def test_two_apps_never_share_cached_bytes(tmp_path, built_settings, api_app, ds):
    """Two apps in one process, over different data that happen to carry the same version name: each
    serves its own data, because every cache belongs to its app."""
    from geoes.web import create_app

    real_settings = _same_version_as(built_settings, tmp_path, ds.version)
    real = create_app({"TESTING": True, "GEOES_DATA_DIR": str(real_settings.data_dir), "GEOES_REGION": "26"})
    assert served_data(real).current().version == ds.version
    def doc(r):
        assert r.status_code == 200
        return json.loads(gzip.decompress(r.data) if r.headers.get("Content-Encoding") == "gzip" else r.data)

    gz = {"Accept-Encoding": "gzip"}
    for u in ["/api/entities.geojson?q=TEST", "/api/entities.geojson?q=TEST&view=map",
              "/ogc/collections/entities/items?q=TEST&limit=5"]:
        assert doc(api_app.test_client().get(u, headers=gz))["features"], u
        assert doc(real.test_client().get(u, headers=gz))["features"] == [], u  # no synthetic entity there
    everything = "/api/entities.geojson"
    assert len(doc(real.test_client().get(everything, headers=gz))["features"]) < len(ds.entities)
    a, b = served_data(real), served_data(api_app)
    for name in ("api_bodies", "ogc_bodies", "positions", "deflated"):
        assert getattr(a, name) is not getattr(b, name) and len(getattr(a, name)), name
