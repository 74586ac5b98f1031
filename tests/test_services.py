"""Online fetch clients (`geoes.sources.services`) against a local fake ULDK + BDL server; no internet needed."""
from __future__ import annotations

import sys
import time
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from shapely.geometry import box

from geoes.sources import services
from geoes.config import Settings
from geoes.sources.fetch import fetch, validate_region_data
from geoes.sources.region import FetchError
from geoes.sources.services import (
    USER_AGENT,
    UldkStatusError,
    is_city_county,
    load_online,
    parse_uldk_geometry,
    powiat_name_from_bdl,
    teryt_from_bdl_id,
)

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fake_services import FakeServices  # noqa: E402

from geoes.sources import needs  # noqa: E402


@pytest.fixture
def fake():
    with FakeServices() as server:
        yield server


def online(fake: FakeServices, region: str = "26", **options):
    options = {"timeout": 5.0, "pause": 0.0, "backoff": 0.0, **options}
    return load_online(region, uldk_url=fake.uldk_url, bdl_url=fake.bdl_url, **options)


# ---- BDL id → TERYT --------------------------------------------------------------------------------


@pytest.mark.parametrize("bdl_id, teryt", [
    ("011212161011", "1261011"),  # gmina Kraków
    ("071412865011", "1465011"),  # gmina Warszawa
    ("011212161000", "1261"),     # powiat m. Kraków
    ("011200000000", "12"),       # woj. małopolskie
    ("052600000000", "26"),       # woj. świętokrzyskie
    ("052611302023", "2602023"),  # a gmina of woj. 26 (Jędrzejów)
    ("052611302024", "2602024"),  # its town part keeps kind 4
])
def test_teryt_from_bdl_id(bdl_id, teryt):
    assert teryt_from_bdl_id(bdl_id) == teryt


@pytest.mark.parametrize("bad", ["123", "01121216101x", "0112121610111", "000000000000", "011212100000"])
def test_teryt_from_bdl_id_rejects_other_ids(bad):
    with pytest.raises(ValueError):
        teryt_from_bdl_id(bad)


def test_powiat_names_and_city_counties():
    assert powiat_name_from_bdl("Powiat jędrzejowski") == "jędrzejowski"
    assert powiat_name_from_bdl("Powiat m. Kielce") == "Kielce"
    assert powiat_name_from_bdl("Powiat m. st. Warszawa") == "Warszawa"
    assert is_city_county("2661") and not is_city_county("2602") and not is_city_county("2613")


# ---- ULDK bodies -----------------------------------------------------------------------------------


def test_parse_uldk_geometry_variants():
    poly = box(575_000, 290_000, 590_000, 320_000)
    plain = shapely.to_wkb(poly, hex=True)
    ewkb = shapely.to_wkb(shapely.set_srid(poly, 2180), hex=True, include_srid=True)
    for body in (f"0\n{plain}\n", f"0\r\nSRID=2180;{plain}\r\n", f"0\n{ewkb}", f"0\nSRID=2180;{plain.lower()}|x\n"):
        assert parse_uldk_geometry(body).equals(poly)
    with pytest.raises(UldkStatusError, match="brak wyników"):
        parse_uldk_geometry("-1 brak wyników\n")
    with pytest.raises(ValueError, match="4326"):
        parse_uldk_geometry(f"0\nSRID=4326;{plain}\n")
    with pytest.raises(ValueError, match="WKB"):
        parse_uldk_geometry("0\nnot-hex\n")
    with pytest.raises(ValueError):
        parse_uldk_geometry("")


# ---- the whole region ------------------------------------------------------------------------------


def test_happy_path_passes_validation(fake):
    calls = []
    data = online(fake, progress=lambda done, total, label: calls.append((done, total, label)))
    validate_region_data(data, "26")

    g = data.gminy.set_index("teryt")
    # Kind-4/5 parts are not gminy; Sobków keeps the code ULDK knows (…083), population from the old BDL id.
    assert list(g.index) == ["2602012", "2602023", "2602083"]
    assert g.loc["2602023", "name"] == "Jędrzejów"
    assert g.loc["2602023", "type"] == 3 and g.loc["2602023", "type_name"] == "gmina miejsko-wiejska"
    assert g.loc["2602012", "type_name"] == "gmina wiejska"
    assert set(g["powiat_teryt"]) == {"2602"} and set(g["powiat_name"]) == {"jędrzejowski"}
    assert g.loc["2602023", "area_km2_official"] == pytest.approx(450.0)
    assert set(g["area_source"]) == {"computed"}
    assert g.loc["2602012"].geometry.geom_type == "MultiPolygon"
    assert data.gminy.crs.to_epsg() == 2180

    p = data.powiaty.iloc[0]
    assert (p["teryt"], p["name"], p["area_source"]) == ("2602", "jędrzejowski", "computed")
    assert not p["city_county"]
    assert p["area_km2_official"] == pytest.approx(1201.0)
    assert data.region[["teryt", "name"]].values.tolist() == [["26", "świętokrzyskie"]]

    pop = data.gminy_population.set_index("teryt")
    assert pop.loc["2602083", "population"] == 8300 and pop.loc["2602083", "population_2021"] == 8400
    assert set(pop["population_year"]) == {2024}
    assert str(pop["population"].dtype) == "Int64"
    assert data.powiaty_population.set_index("teryt").loc["2602", "population"] == 38400

    assert data.localities is None and data.gmina_points is None and data.terc is None
    assert data.official_counts is None
    assert [c[:2] for c in calls] == [(i, 5) for i in range(1, 6)]
    assert all(headers.get("User-Agent") == USER_AGENT for *_, headers in fake.requests)


def test_bdl_paging_is_followed(fake):
    fake.page_cap = 2
    data = online(fake)
    pages = sorted(int(q.get("page", 0)) for s, k, q, _ in fake.requests if k == "units" and q.get("level") == "6")
    assert pages == [0, 1, 2]  # 6 level-6 units, 2 a page
    assert len(data.gminy) == 3


def test_voivodeship_id_comes_from_the_region_code():
    with FakeServices(region="12", macroregion="01") as other:
        data = online(other, region="12")
    assert list(data.gminy["teryt"]) == ["1202012", "1202023", "1202083"]
    levels = [q for s, k, q, _ in other.requests if k == "units" and q.get("level") == "5"]
    assert levels[0]["parent-id"] == "011200000000"


def test_uldk_error_status_names_the_unit(fake):
    fake.uldk_status["260202_3"] = "-1 brak wyników"
    with pytest.raises(FetchError) as err:
        online(fake)
    message = str(err.value)
    assert "2602023" in message and "Jędrzejów" in message
    assert "-1 brak wyników" in message and "GetCommuneById" in message and fake.uldk_url in message


def test_uldk_error_for_a_powiat(fake):
    fake.uldk_status["2602"] = "-1 błąd bazy"
    with pytest.raises(FetchError, match=r"powiat 2602 jędrzejowski.*-1 błąd bazy.*GetCountyById"):
        online(fake)


def test_http_500_then_success_is_retried(fake):
    fake.fail_next["260202_3"] = 1
    fake.fail_next["units"] = 1
    data = online(fake, retries=2)
    validate_region_data(data, "26")
    assert fake.count("uldk", "260202_3") == 2
    assert fake.count("bdl", "units") == 1 + 1 + 1 + 2  # levels 2, 5, 6 (two pages), one repeat


def test_http_500_for_good_is_a_fetch_error(fake):
    fake.fail_next[f"data/by-variable/{services.BDL_POPULATION_VARIABLE}"] = 10
    with pytest.raises(FetchError, match=r"ludność powiatów.*HTTP 500.*by-variable/72305"):
        online(fake, retries=1)


def test_timeout_is_a_fetch_error(fake):
    fake.delay["2602"] = 3.0
    started = time.monotonic()
    with pytest.raises(FetchError) as err:
        online(fake, timeout=0.5, retries=1)
    assert time.monotonic() - started < 2.5
    message = str(err.value)
    assert "powiat 2602" in message and "0.5 s" in message and "GetCountyById" in message
    assert fake.count("uldk", "2602") == 2  # the first try and one retry


def test_unreachable_service_is_a_fetch_error():
    with FakeServices() as gone:
        bdl_url = gone.bdl_url
    with pytest.raises(FetchError, match=r"BDL: lista województw.*błąd połączenia"):
        load_online("26", bdl_url=bdl_url, uldk_url=bdl_url, timeout=1, retries=0, pause=0)


def test_unknown_region_and_missing_population(fake):
    with pytest.raises(FetchError, match="nie zna województwa o kodzie 30"):
        online(fake, region="30")
    with pytest.raises(FetchError, match="2 cyfry"):
        online(fake, region="2602")
    for unit in fake.gminy:
        unit.population.pop(2024, None)
    with pytest.raises(FetchError, match="brak danych o ludności gmin za 2024"):
        online(fake)


def test_registered_unemployment_from_bdl(fake):
    data = online(fake)
    u = data.unemployment
    persons = u[u["measure"] == "persons"].set_index(["teryt", "year"])["value"]
    # Gminy under their current code (Sobków's figures come from its old BDL id), no town or rural parts.
    assert persons.loc[("2602083", 2024)] == 162 and persons.loc[("2602083", 2022)] == 180
    assert persons.loc[("2602012", 2023)] == 95
    assert ("2602023", 2023) not in persons.index   # a year BDL does not give stays absent
    assert not any(t in ("2602024", "2602025") for t, _ in persons.index)
    assert persons.loc[("2602", 2024)] == 93 + 526 + 162 and persons.loc[("26", 2024)] == 32289
    rate = u[u["measure"] == "rate"].set_index(["teryt", "year"])["value"]
    # The voivodeship's rate comes with the counties' (the benchmark a county's rate is read against).
    assert rate.to_dict() == {("2602", 2022): 6.7, ("2602", 2024): 6.0, ("26", 2022): 8.0, ("26", 2024): 7.5}
    assert set(u["origin"]) == {needs.ORIGIN_BDL}
    assert set(u["source"]) == {needs.SOURCE["persons"], needs.SOURCE["rate"]}
    asked = {(k, q.get("unit-level")) for s, k, q, _ in fake.requests if s == "bdl" and k.startswith("data/")}
    assert ("data/by-variable/10514", "6") in asked and ("data/by-variable/60270", "5") in asked
    assert ("data/by-variable/60270", "2") in asked


def test_missing_unemployment_is_a_fetch_error(fake):
    for unit in fake.gminy:
        unit.unemployed.clear()
    with pytest.raises(FetchError, match="brak liczby bezrobotnych w gminach"):
        online(fake)


# ---- end to end through geoes.sources.fetch ----------------------------------------------------------------


def test_fetch_writes_files_and_a_failed_fetch_keeps_them(fake, tmp_path):
    settings = Settings(region="26", data_dir=tmp_path)
    written = fetch(settings, uldk_url=fake.uldk_url, bdl_url=fake.bdl_url, timeout=5.0, pause=0.0)
    expected = [settings.gminy_path, settings.powiaty_path, settings.region_path,
                settings.gminy_population_path, settings.powiaty_population_path, settings.unemployment_path]
    assert written == expected
    gminy = gpd.read_file(settings.gminy_path)
    assert gminy.crs.to_epsg() == 4326 and sorted(gminy["teryt"]) == ["2602012", "2602023", "2602083"]
    assert set(gminy["area_source"]) == {"computed"}
    lon, lat = gminy.union_all().centroid.coords[0]
    assert 19.8 < lon < 20.8 and 50.4 < lat < 50.9  # around Jędrzejów
    population = pd.read_csv(settings.gminy_population_path, dtype={"teryt": str})
    assert population.set_index("teryt").loc["2602023", "population"] == 26000

    before = {path: path.read_bytes() for path in expected}
    fake.uldk_status["260208_3"] = "-1 brak wyników"
    with pytest.raises(FetchError, match="Sobków"):
        fetch(settings, uldk_url=fake.uldk_url, bdl_url=fake.bdl_url, timeout=5.0, pause=0.0)
    assert {path: path.read_bytes() for path in expected} == before
    leftovers = [p.name for p in tmp_path.rglob(".*") if p.is_file()]
    assert leftovers == []


# ---- the voivodeship's unemployment rate: the benchmark of a county's -----------------------------------


def test_voivodeship_rate_from_bdl_is_the_counties_benchmark(fake, fetched_settings, tmp_path):
    """Fetched online, BDL's voivodeship rate stands beside each county's, with the relation; the local
    copy (the mirror) has only the counties' rates, and the voivodeship's is "brak w danych lokalnych"."""
    from tests.conftest import clone_settings
    from geoes.dataset.build import compute_all

    settings = clone_settings(fetched_settings, tmp_path / "data")
    local = needs.load_needs(settings.unemployment_path)
    assert needs.from_local_copy(local) and not (local["teryt"].eq("26") & local["measure"].eq("rate")).any()
    entities = tmp_path / "e.csv"
    entities.write_text("id,name,types,lat,lon,status,location_precision\n"
                        "j1,Podmiot j1,wtz,50.64,20.30,active,gmina\n", encoding="utf-8")
    _, ind, _, _ = compute_all(settings, entities)
    assert ind.voivodeship["unemployment_rate"] is None
    assert ind.voivodeship["suppressed"]["unemployment_rate"] == "not_in_local_data"
    county = ind.powiaty.set_index("teryt").loc["2602"]
    assert county["unemployment_rate"] == 6.0 and pd.isna(county["ratio_unemployment_rate"])

    # The same figures with BDL's answer for the voivodeship (the fake BDL, in the API's JSON shape).
    region = online(fake).unemployment
    from_bdl = region[region["teryt"].eq("26") & region["measure"].eq("rate")]
    combined = pd.concat([local, from_bdl], ignore_index=True)
    combined.to_csv(settings.unemployment_path, index=False)
    _, ind, _, _ = compute_all(settings, entities)
    assert ind.voivodeship["unemployment_rate"] == 7.5 and "unemployment_rate" not in ind.voivodeship["suppressed"]
    county = ind.powiaty.set_index("teryt").loc["2602"]
    assert county["ratio_unemployment_rate"] == pytest.approx(6.0 / 7.5, abs=0.001)
