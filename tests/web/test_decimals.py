"""Numbers as published: no coordinate and no value in any layer, format or download has more than 6
decimals, and none carries float noise (20.933032999999998 for 20.933033). The bytes are scanned as they
are sent — parsing them first would hide the noise, since reading 20.933032999999998 gives back the float
that prints as 20.933033. Data: the project's real entities (tests/conftest.py)."""
from __future__ import annotations

import csv
import io
import json
import re
import zipfile

import numpy as np
import openpyxl
import pytest
import shapely

LAYERS = ("entities", "gminy", "powiaty")
# A number with 7 or more decimals in JSON or a `gis` CSV (not part of a longer token such as a version).
LONG_DECIMAL = re.compile(r"(?<![\w.])-?\d+\.\d{7,}(?![\w.])")
CRS_2180 = "http://www.opengis.net/def/crs/EPSG/0/2180"
CRS_4326 = "http://www.opengis.net/def/crs/EPSG/0/4326"


def text_urls() -> list[str]:
    urls = []
    for layer in LAYERS:
        urls += [f"/api/{layer}.geojson", f"/api/{layer}.geojson?view=map", f"/api/{layer}.geojson?format=csv",
                 f"/ogc/collections/{layer}/items?limit=10000",
                 f"/ogc/collections/{layer}/items?limit=10000&crs={CRS_4326}",
                 f"/ogc/collections/{layer}/items?limit=10000&crs={CRS_2180}", f"/ogc/collections/{layer}"]
    urls += ["/ogc/collections/entities/items/swk-001", "/ogc/collections/gminy/items/2602023",
             f"/ogc/collections/powiaty/items/2602?crs={CRS_2180}",
             "/api/indicators?level=powiat", "/api/indicators?level=gmina", "/api/indicators?level=powiat&format=csv",
             "/api/indicators?level=gmina&format=csv", "/powiaty/2602/gminy.csv", "/powiaty/2602/indicators.csv",
             "/trendy/rejestr.csv", "/api/essglobal.csv", "/api/murmurations.json", "/api/murmurations/swk-001.json"]
    return urls


def decimals(value: float) -> int:
    text = repr(float(value))
    return 0 if "e" in text or "." not in text else len(text.split(".")[1].rstrip("0"))


@pytest.mark.parametrize("url", text_urls())
def test_no_long_decimals_in_json_and_csv(client, url):
    r = client.get(url)
    assert r.status_code == 200, (url, r.data[:200])
    found = LONG_DECIMAL.findall(r.data.decode("utf-8-sig"))
    assert found == [], f"{url}: {found[:5]}"


def test_projected_coordinates_have_two_decimals(client):
    """EPSG:2180 is in metres, to the centimetre."""
    doc = json.loads(client.get(f"/ogc/collections/gminy/items?limit=200&crs={CRS_2180}").data)
    coords = shapely.get_coordinates([shapely.geometry.shape(f["geometry"]) for f in doc["features"]]).ravel()
    assert len(coords) and max(decimals(v) for v in coords) <= 2


@pytest.mark.parametrize("url", [f"/api/{layer}.geojson?format=csv&dialect=excel-pl" for layer in LAYERS]
                         + ["/api/indicators?level=gmina&format=csv&dialect=excel-pl"])
def test_no_long_decimals_in_the_csv_for_excel(client, url):
    rows = list(csv.reader(io.StringIO(client.get(url).data.decode("utf-8-sig")), delimiter=";"))
    numbers = [cell for row in rows[1:] for cell in row if re.fullmatch(r"-?\d+,\d+", cell)]
    assert numbers and max(len(n.split(",")[1]) for n in numbers) <= 6, url


@pytest.mark.parametrize("url", [f"/api/{layer}.geojson?format=xlsx" for layer in LAYERS]
                         + ["/api/indicators?level=gmina&format=xlsx"])
def test_no_long_decimals_in_xlsx(client, url):
    book = openpyxl.load_workbook(io.BytesIO(client.get(url).data), read_only=True)
    numbers = [v for ws in book.worksheets for row in ws.iter_rows(values_only=True) for v in row
               if isinstance(v, float)]
    assert numbers and max(decimals(v) for v in numbers) <= 6, url


def test_no_long_decimals_in_the_geopackage(client, tmp_path):
    import pyogrio

    path = tmp_path / "warstwy.gpkg"
    path.write_bytes(client.get("/api/download.gpkg").data)
    for layer in LAYERS:
        frame = pyogrio.read_dataframe(path, layer=layer)
        coords = shapely.get_coordinates(frame.geometry.dropna().to_numpy()).ravel()
        assert len(coords) and max(decimals(v) for v in coords) <= 6, layer
        reals = frame.select_dtypes("float").to_numpy().ravel()
        reals = reals[np.isfinite(reals)]
        assert not len(reals) or max(decimals(v) for v in reals) <= 6, layer


def test_no_long_decimals_in_the_zip(client):
    zf = zipfile.ZipFile(io.BytesIO(client.get("/api/download.zip?format=geojson").data))
    for name in zf.namelist():
        found = LONG_DECIMAL.findall(zf.read(name).decode("utf-8-sig"))
        assert found == [], f"{name}: {found[:5]}"
