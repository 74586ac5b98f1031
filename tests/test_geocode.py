"""Geocoding chain: online providers against a local fake server, rate limiter, cache, the real entities.

No test needs the internet: GUGiK and Nominatim are replaced by an HTTP server on 127.0.0.1 that replays
answers in the services' response shapes (tests/fixtures), including empty results, HTTP errors and
timeouts. The gazetteer and boundaries are the fetched files under data/ (CI runs
`python -m geoes fetch --mirror ../shared/data` first).
"""
from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import click
import pandas as pd
import pytest
from click.testing import CliRunner

from geoes.config import REPO_DIR, Settings
from geoes.register.record import COLUMNS, read_table
from geoes.sources.http import ClockedRateLimiter
from geoes.register.geocode import (GeocodeCache, GugikProvider, NominatimProvider, ProviderError,
                           ProviderUnavailable, check_stated_units, geocode_frame, user_agent)

FIXTURES = Path(__file__).parent / "fixtures"
ENTITIES = REPO_DIR / "data" / "entities.csv"     # the committed record of the 97 real entities
SETTINGS: Settings                                # the mirror fetched into a temp dir (conftest)


@pytest.fixture(scope="module", autouse=True)
def _settings(fetched_settings):
    global SETTINGS
    SETTINGS = fetched_settings
    assert SETTINGS.localities_path.exists() and SETTINGS.gmina_points_path.exists(), "gazetteer not fetched"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


# --- a local fake of the online services ----------------------------------------------------------

class FakeService:
    """HTTP server on 127.0.0.1 (port 0) in a thread; `handler(path, params)` → (status, body, delay)."""

    def __init__(self):
        self.requests: list[tuple[str, dict, dict]] = []
        self.handler = lambda path, params: (404, "{}", 0)
        self.release = threading.Event()
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                url = urlparse(self.path)
                params = {k: v[0] for k, v in parse_qs(url.query).items()}
                service.requests.append((url.path, params, dict(self.headers)))
                status, body, delay = service.handler(url.path, params)
                if delay:
                    service.release.wait(delay)  # a slow service; released when the test ends
                data = body.encode("utf-8")
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json; charset=utf-8")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the client gave up (timeout)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.block_on_close = False
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02},
                                       daemon=True)

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    def count(self, path: str) -> int:
        return sum(1 for p, _, _ in self.requests if p == path)

    def gugik(self, **kw) -> GugikProvider:
        kw.setdefault("timeout", 2.0)
        kw.setdefault("min_delay_seconds", 0)
        return GugikProvider(f"http://127.0.0.1:{self.port}/uug/", **kw)

    def nominatim(self, clock=None, **kw) -> NominatimProvider:
        kw.setdefault("timeout", 2.0)
        clock = clock or FakeClock()
        return NominatimProvider(user_agent(), domain=f"127.0.0.1:{self.port}", scheme="http",
                                 clock=clock, sleep=clock.sleep, **kw)


@pytest.fixture
def service():
    s = FakeService()
    s.thread.start()
    yield s
    s.release.set()
    s.server.shutdown()
    s.server.server_close()


class FakeClock:
    """An injected clock: `sleep` advances time instead of waiting."""

    def __init__(self, start: float = 1000.0):
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- GUGiK ----------------------------------------------------------------------------------------

def test_gugik_address_found(service):
    service.handler = lambda path, params: (200, fixture("gugik_address.json"), 0)
    cands = service.gugik().lookup("Kielce, Wesoła 52A")
    path, params, headers = service.requests[0]
    assert path == "/uug/"
    assert params == {"request": "GetAddress", "address": "Kielce, Wesoła 52A"}
    assert headers["User-Agent"].startswith("geoes/")
    assert len(cands) == 1
    c = cands[0]
    assert c.precision == "address" and c.label == "gugik"
    # EPSG:2180 x (easting) / y (northing) converted to WGS84
    assert c.lat == pytest.approx(50.8829, abs=1e-5) and c.lon == pytest.approx(20.6385, abs=1e-5)
    assert "Wesoła 52A" in c.description


def test_gugik_query_puts_the_comma_after_the_locality(service):
    row = pd.Series({"locality": "Kielce", "street": "ul. Wesoła 52A", "postal_code": ""})
    assert service.gugik().query(row) == "Kielce, Wesoła 52A"
    assert service.gugik().query(pd.Series({"locality": "Kielce", "street": ""})) == "Kielce"
    assert service.gugik().query(pd.Series({"locality": "", "street": "ul. Wesoła 1"})) is None


def test_gugik_empty_result(service):
    service.handler = lambda path, params: (200, fixture("gugik_empty.json"), 0)
    assert service.gugik().lookup("Kielce, Nieistniejąca 1") == []


def test_gugik_several_results_are_all_returned(service):
    service.handler = lambda path, params: (200, fixture("gugik_two_places.json"), 0)
    cands = service.gugik().lookup("Testowo")
    assert [c.precision for c in cands] == ["locality", "locality"]
    assert cands[0].lon < cands[1].lon


def test_gugik_http_error(service):
    service.handler = lambda path, params: (500, '{"error": "internal"}', 0)
    with pytest.raises(ProviderError, match="HTTP 500"):
        service.gugik().lookup("Kielce")


def test_gugik_unreadable_answer(service):
    service.handler = lambda path, params: (200, "Błąd usługi", 0)
    with pytest.raises(ProviderError, match="JSON"):
        service.gugik().lookup("Kielce")


def test_gugik_timeout(service):
    service.handler = lambda path, params: (200, fixture("gugik_address.json"), 5)
    started = time.monotonic()
    with pytest.raises(ProviderError, match="limit czasu"):
        service.gugik(timeout=0.2).lookup("Kielce")
    assert time.monotonic() - started < 3


def test_gugik_no_network():
    provider = GugikProvider(f"http://127.0.0.1:{closed_port()}/uug/", timeout=1, min_delay_seconds=0)
    with pytest.raises(ProviderUnavailable, match="brak połączenia"):
        provider.lookup("Kielce")


# --- Nominatim ------------------------------------------------------------------------------------

def test_nominatim_address_found(service):
    service.handler = lambda path, params: (200, fixture("nominatim_address.json"), 0)
    provider = service.nominatim()
    row = pd.Series({"locality": "Ostrowiec Świętokrzyski", "street": "ul. Żabia 31", "postal_code": "27-400"})
    cands = provider.lookup(provider.query(row))
    path, params, headers = service.requests[0]
    assert path == "/search"
    assert params["street"] == "Żabia 31" and params["city"] == "Ostrowiec Świętokrzyski"
    assert params["postalcode"] == "27-400" and params["countrycodes"] == "pl" and params["format"] == "json"
    assert headers["User-Agent"].startswith("geoes/") and "geopy" not in headers["User-Agent"].split("/")[0]
    assert len(cands) == 1 and cands[0].precision == "address" and cands[0].label == "nominatim"
    assert (cands[0].lat, cands[0].lon) == (50.9395, 21.387)


def test_nominatim_place_is_locality_precision(service):
    service.handler = lambda path, params: (200, fixture("nominatim_village.json"), 0)
    provider = service.nominatim()
    cands = provider.lookup({"city": "Testowo", "country": "Polska"})
    assert [c.precision for c in cands] == ["locality"]


def test_nominatim_empty_result(service):
    service.handler = lambda path, params: (200, fixture("nominatim_empty.json"), 0)
    assert service.nominatim().lookup({"city": "Nigdzie", "country": "Polska"}) == []


@pytest.mark.parametrize("status", [500, 429, 403])
def test_nominatim_http_errors(service, status):
    service.handler = lambda path, params: (status, "{}", 0)
    with pytest.raises(ProviderError):
        service.nominatim().lookup({"city": "Kielce", "country": "Polska"})
    assert service.count("/search") == 1  # no hidden retries


def test_nominatim_timeout(service):
    service.handler = lambda path, params: (200, fixture("nominatim_address.json"), 5)
    with pytest.raises(ProviderError, match="limit czasu"):
        service.nominatim(timeout=0.2).lookup({"city": "Kielce", "country": "Polska"})


def test_nominatim_no_network():
    clock = FakeClock()
    provider = NominatimProvider(user_agent(), domain=f"127.0.0.1:{closed_port()}", scheme="http", timeout=1,
                                 clock=clock, sleep=clock.sleep)
    with pytest.raises(ProviderUnavailable, match="brak połączenia"):
        provider.lookup({"city": "Kielce", "country": "Polska"})


# --- rate limiter ---------------------------------------------------------------------------------

def test_rate_limiter_spaces_calls_by_one_second_without_sleeping():
    clock = FakeClock()
    calls = []
    limited = ClockedRateLimiter(lambda x: calls.append((clock(), x)), min_delay_seconds=1, clock=clock,
                                 sleep=clock.sleep)
    started = time.monotonic()
    for x in range(4):
        limited(x)
    assert [t - 1000.0 for t, _ in calls] == [0.0, 1.0, 2.0, 3.0]
    assert clock.sleeps == [1.0, 1.0, 1.0]
    clock.now += 5  # a pause longer than the delay: the next call goes at once
    limited(4)
    assert clock.sleeps == [1.0, 1.0, 1.0]
    assert time.monotonic() - started < 0.5  # nothing really slept


def test_nominatim_is_rate_limited_to_one_request_per_second(service):
    service.handler = lambda path, params: (200, fixture("nominatim_empty.json"), 0)
    clock = FakeClock()
    provider = service.nominatim(clock=clock)
    for city in ("A", "B", "C"):
        provider.lookup({"city": city, "country": "Polska"})
    assert service.count("/search") == 3
    assert clock.sleeps == [1.0, 1.0]
    assert provider._limited.min_delay_seconds == 1.0


# --- the chain ------------------------------------------------------------------------------------

def record(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame([{c: r.get(c, "") for c in COLUMNS} for r in rows], dtype=object).fillna("")
    frame.insert(0, "row", range(2, len(frame) + 2))
    return frame


CHAIN_ROWS = [
    {"id": "t1", "name": "A", "types": "wtz", "locality": "Kielce", "street": "ul. Wesoła 52A",
     "gmina_teryt": "2661011"},
    {"id": "t2", "name": "B", "types": "wtz", "locality": "Ostrowiec Świętokrzyski", "street": "ul. Żabia 31"},
    {"id": "t3", "name": "C", "types": "cis", "locality": "Testowo"},
    {"id": "t7", "name": "G", "types": "cis", "locality": "Testowo", "powiat_teryt": "2607"},
    {"id": "t4", "name": "D", "types": "zaz", "locality": "Kielce", "street": "ul. Wesoła 52A",
     "lat": "50.870000", "lon": "20.630000", "location_precision": "address", "geocoder": "gugik"},
    {"id": "t5", "name": "E", "types": "kis", "locality": "Kielce"},
    {"id": "t6", "name": "F", "types": "kis", "locality": "Ostrowiec Świętokrzyski", "street": "ul. Wesoła 52A",
     "gmina_teryt": "2607011"},
]


def chain_handler(path, params):
    if path == "/uug/":
        answers = {"Kielce, Wesoła 52A": "gugik_address.json", "Testowo": "gugik_two_places.json",
                   # a wrong answer: a point in Kielce for an Ostrowiec address
                   "Ostrowiec Świętokrzyski, Wesoła 52A": "gugik_address.json"}
        return 200, fixture(answers.get(params["address"], "gugik_empty.json")), 0
    if path == "/search":
        if params.get("street") == "Żabia 31":
            return 200, fixture("nominatim_address.json"), 0
        if params.get("city") == "Testowo":
            return 200, fixture("nominatim_village.json"), 0
        return 200, fixture("nominatim_empty.json"), 0
    return 404, "{}", 0


def run_chain(service, frame, cache, **kw):
    online = {"gugik": service.gugik(), "nominatim": service.nominatim()}
    return geocode_frame(frame, SETTINGS, cache=cache, online=online, progress=False, **kw)


def test_chain_places_each_row_from_the_best_source(service, tmp_path):
    service.handler = chain_handler
    cache = GeocodeCache(tmp_path / "cache.sqlite")
    report = run_chain(service, record(CHAIN_ROWS), cache)
    out = report.frame.set_index("id")
    assert out.loc["t1", ["location_precision", "geocoder", "lat", "lon"]].tolist() == \
        ["address", "gugik", "50.882900", "20.638500"]
    assert out.loc["t2", ["location_precision", "geocoder"]].tolist() == ["address", "nominatim"]
    # not in PRNG; GUGiK gives two far-apart places (ambiguous, refused); Nominatim gives one
    assert out.loc["t3", ["location_precision", "geocoder"]].tolist() == ["locality", "nominatim"]
    # the same two GUGiK places, but the stated powiat keeps only one of them
    assert out.loc["t7", ["location_precision", "geocoder", "lat"]].tolist() == ["locality", "gugik", "50.943900"]
    # already at address precision: untouched, never asked
    assert out.loc["t4", ["lat", "lon", "location_precision", "geocoder"]].tolist() == \
        ["50.870000", "20.630000", "address", "gugik"]
    # a locality-only row is done by the gazetteer, without a request
    assert out.loc["t5", ["location_precision", "geocoder"]].tolist() == ["locality", "gazetteer:PRNG 2021"]
    # GUGiK's answer lies outside the stated gmina: refused; the gazetteer point stays
    assert out.loc["t6", ["location_precision", "geocoder"]].tolist() == ["locality", "gazetteer:PRNG 2021"]
    asked = [p["address"] for path, p, _ in service.requests if path == "/uug/"]
    assert sorted(asked) == sorted(["Kielce, Wesoła 52A", "Ostrowiec Świętokrzyski, Żabia 31", "Testowo",
                                    "Ostrowiec Świętokrzyski, Wesoła 52A"])
    assert report.counts == {"address": 3, "street": 0, "locality": 4, "gmina": 0, "powiat": 0, "none": 0}
    assert report.cache_hits == 1  # the second "Testowo" was answered from the cache
    assert report.outside is not None and report.outside.empty


def test_second_run_makes_no_request(service, tmp_path):
    service.handler = chain_handler
    cache_path = tmp_path / "cache.sqlite"
    cache = GeocodeCache(cache_path)
    first = run_chain(service, record(CHAIN_ROWS), cache)
    cache.close()
    made = len(service.requests)
    assert made > 0
    second = run_chain(service, record(CHAIN_ROWS), GeocodeCache(cache_path))
    assert len(service.requests) == made  # zero new requests
    assert second.cache_hits > 0
    cols = ["id", "lat", "lon", "location_precision", "geocoder"]
    pd.testing.assert_frame_equal(first.frame[cols], second.frame[cols])


def test_offline_uses_the_cache_but_makes_no_request(service, tmp_path):
    service.handler = chain_handler
    cache = GeocodeCache(tmp_path / "cache.sqlite")
    run_chain(service, record(CHAIN_ROWS[:1]), cache)
    made = len(service.requests)
    report = run_chain(service, record(CHAIN_ROWS), cache, offline=True)
    assert len(service.requests) == made
    out = report.frame.set_index("id")
    assert out.loc["t1", "location_precision"] == "address"       # from the cache
    assert out.loc["t2", "location_precision"] == "locality"      # not cached: gazetteer only


def test_errors_are_not_cached_and_leave_a_reason(service, tmp_path):
    service.handler = lambda path, params: (500, "{}", 0)
    cache = GeocodeCache(tmp_path / "cache.sqlite")
    # No powiat stated: the row stays unplaced (with a powiat it would be placed to the powiat).
    rows = [{"id": "x1", "name": "A", "types": "wtz", "locality": "Testowo", "powiat_teryt": ""}]
    report = run_chain(service, record(rows), cache)
    assert report.frame.loc[0, "location_precision"] == "none"
    reason = report.unplaced.loc[0, "reason"]
    assert "GUGiK: HTTP 500" in reason and "Nominatim" in reason
    assert len(cache) == 0
    before = len(service.requests)
    run_chain(service, record(rows), cache)
    assert len(service.requests) > before  # asked again: errors are not remembered


def test_no_network_fails_cleanly_and_stops_asking(tmp_path):
    port = closed_port()
    clock = FakeClock()
    online = {"gugik": GugikProvider(f"http://127.0.0.1:{port}/uug/", timeout=1, min_delay_seconds=0),
              "nominatim": NominatimProvider(user_agent(), domain=f"127.0.0.1:{port}", scheme="http", timeout=1,
                                             clock=clock, sleep=clock.sleep)}
    rows = [{"id": f"n{i}", "name": "A", "types": "wtz", "locality": "Kielce", "street": f"ul. Wesoła {i}"}
            for i in range(1, 6)]
    report = geocode_frame(record(rows), SETTINGS, cache=GeocodeCache(None), online=online, progress=False)
    assert (report.frame["location_precision"] == "locality").all()  # the gazetteer still worked
    assert online["gugik"].requests == 1 and online["nominatim"].requests == 1
    assert any("brak połączenia" in e for e in report.errors)


def test_ambiguous_online_answer_is_not_taken(service, tmp_path):
    service.handler = lambda path, params: ((200, fixture("gugik_two_places.json"), 0) if path == "/uug/"
                                            else (200, "[]", 0))
    rows = [{"id": "a1", "name": "A", "types": "wtz", "locality": "Testowo"}]
    report = run_chain(service, record(rows), GeocodeCache(None))
    assert report.frame.loc[0, "location_precision"] == "none"
    assert "niejednoznaczny wynik" in report.unplaced.loc[0, "reason"]


def test_precision_is_never_lowered():
    rows = [{"id": "p1", "name": "A", "types": "wtz", "locality": "Kielce", "gmina_teryt": "2661011",
             "lat": "50.882900", "lon": "20.638500", "location_precision": "address", "geocoder": "gugik"},
            {"id": "p2", "name": "B", "types": "wtz", "locality": "", "gmina_teryt": "2661011",
             "lat": "50.871700", "lon": "20.631400", "location_precision": "locality", "geocoder": "reczny"}]
    report = geocode_frame(record(rows), SETTINGS, offline=True, progress=False)
    out = report.frame.set_index("id")
    assert out.loc["p1", ["lat", "lon", "location_precision", "geocoder"]].tolist() == \
        ["50.882900", "20.638500", "address", "gugik"]
    # a gmina-level answer never replaces a locality point
    assert out.loc["p2", ["location_precision", "geocoder"]].tolist() == ["locality", "reczny"]


def test_improves_a_lower_precision_point(service):
    service.handler = chain_handler
    rows = [{"id": "u1", "name": "A", "types": "wtz", "locality": "Kielce", "street": "ul. Wesoła 52A",
             "lat": "50.871700", "lon": "20.631400", "location_precision": "locality",
             "geocoder": "gazetteer:PRNG 2021"}]
    report = run_chain(service, record(rows), GeocodeCache(None))
    assert report.frame.loc[0, "location_precision"] == "address"
    assert report.improved == 1


# --- the real entities ----------------------------------------------------------------------------

def stripped_copy(tmp_path) -> Path:
    frame = read_table(ENTITIES).drop(columns="row")
    frame[["lat", "lon", "geocoder"]] = ""
    frame["location_precision"] = "none"
    path = tmp_path / "entities.csv"
    frame.to_csv(path, index=False)
    return path


def cli_group():
    from geoes.cli import GeoesGroup
    from geoes.cli.register import geocode_command, import_command

    @click.group(cls=GeoesGroup)  # the package's group: it turns errors into "Błąd: …" and exit code 2
    @click.pass_context
    def cli(ctx):
        ctx.obj = SETTINGS

    cli.add_command(geocode_command)
    cli.add_command(import_command)
    return cli


def test_cli_geocodes_the_real_entities_offline(tmp_path):
    path = stripped_copy(tmp_path)
    result = CliRunner().invoke(cli_group(), ["geocode", str(path), "--offline", "--quiet",
                                              "--cache", str(tmp_path / "c.sqlite")])
    assert result.exit_code == 0, result.output
    assert "Według precyzji:" in result.output and "Nieumieszczone" in result.output
    out = read_table(path)
    committed = read_table(ENTITIES)
    assert len(out) == len(committed) == 97
    # what is committed for the gazetteer rows is exactly what the offline geocoder produces
    from_gaz = committed["geocoder"].str.startswith("gazetteer:")
    assert from_gaz.any()
    cols = ["id", "lat", "lon", "location_precision", "geocoder"]
    pd.testing.assert_frame_equal(out.loc[from_gaz, cols].reset_index(drop=True),
                                  committed.loc[from_gaz, cols].reset_index(drop=True))
    # homonyms get no point; both Mieronice lie in powiat jędrzejowski, both Belno in powiat kielecki, so
    # each is placed to its powiat (precision powiat, no coordinates)
    ids = out.set_index("id")
    assert ids.loc["swk-005", ["location_precision", "powiat_teryt", "lat"]].tolist() == ["powiat", "2602", ""]
    assert ids.loc["swk-017", ["location_precision", "powiat_teryt", "lat"]].tolist() == ["powiat", "2604", ""]
    assert "Mieronice (wieś, gm. Małogoszcz 2602033); Mieronice (wieś, gm. Wodzisław 2602093)" in result.output


def test_committed_entities_are_geocoded_consistently():
    frame = read_table(ENTITIES)
    placed = frame["lat"].ne("") & frame["lon"].ne("")
    assert placed.sum() >= 40
    assert frame.loc[placed, "location_precision"].isin(["address", "street", "locality", "gmina"]).all()
    assert frame.loc[placed, "geocoder"].ne("").all()
    powiat_only = frame["location_precision"].eq("powiat")
    assert frame.loc[powiat_only, "powiat_teryt"].str.fullmatch(r"26\d\d").all()
    assert frame.loc[~placed & ~powiat_only, "location_precision"].eq("none").all()
    assert not (placed & powiat_only).any()
    assert frame.loc[placed, "lat"].str.fullmatch(r"\d+\.\d{6}").all()
    # every placed entity with a stated gmina (or powiat) lies inside it
    outside = check_stated_units(frame, SETTINGS)
    assert outside.empty, outside.to_string()


def test_check_stated_units_finds_a_point_outside_its_gmina():
    rows = [{"id": "o1", "name": "A", "types": "wtz", "gmina_teryt": "2607011", "lat": "50.871700",
             "lon": "20.631400", "location_precision": "locality", "geocoder": "x"}]
    out = check_stated_units(record(rows), SETTINGS)
    assert out[["id", "stated", "computed_gmina"]].values.tolist() == [["o1", "2607011", "2661011"]]
    assert out.loc[out.index[0], "distance_m"] > 10_000


def test_cli_expected_errors_exit_2_with_one_line(tmp_path):
    runner = CliRunner()
    result = runner.invoke(cli_group(), ["geocode", str(tmp_path / "brak.csv"), "--offline"])
    assert result.exit_code == 2
    assert result.output.strip().startswith("Błąd:") and len(result.output.strip().splitlines()) == 1
    result = runner.invoke(cli_group(), ["geocode", str(stripped_copy(tmp_path)), "--provider", "google"])
    assert result.exit_code == 2
    assert len(result.output.strip().splitlines()) == 1 and "google" in result.output


def test_cli_dry_run_writes_nothing(tmp_path):
    path = stripped_copy(tmp_path)
    before = path.read_bytes()
    result = CliRunner().invoke(cli_group(), ["geocode", str(path), "--offline", "--dry-run", "--quiet",
                                              "--no-cache"])
    assert result.exit_code == 0, result.output
    assert path.read_bytes() == before
    assert "locality: 73" in result.output


def test_report_file_lists_unplaced_with_reasons(tmp_path):
    path = stripped_copy(tmp_path)
    report = tmp_path / "nieumieszczone.csv"
    result = CliRunner().invoke(cli_group(), ["geocode", str(path), "--offline", "--quiet", "--no-cache",
                                              "--report", str(report)])
    assert result.exit_code == 0, result.output
    listed = pd.read_csv(report, dtype=str, keep_default_na=False)
    assert list(listed.columns) == ["row", "id", "name", "reason", "candidates"]
    assert listed["reason"].ne("").all()
    assert set(listed["id"]) >= {"swk-038", "swk-n036"}   # no place named; Smyków in three powiaty
    assert not set(listed["id"]) & {"swk-005", "swk-017"}   # homonyms within one powiat: placed to it


def test_cache_roundtrip(tmp_path):
    from geoes.register.geocode import Candidate

    cache = GeocodeCache(tmp_path / "c.sqlite")
    assert cache.get("gugik", "Kielce") is None
    cache.put("gugik", "Kielce", [Candidate(50.1, 20.2, "locality", "gugik", "Kielce")])
    cache.put("gugik", "Nigdzie", [])
    cache.close()
    again = GeocodeCache(tmp_path / "c.sqlite")
    assert again.get("gugik", "Kielce")[0].lat == 50.1
    assert again.get("gugik", "Nigdzie") == []       # 'not found' is remembered too
    assert again.hits == 2


def test_fixtures_are_valid_json():
    for path in FIXTURES.glob("*.json"):
        json.loads(path.read_text(encoding="utf-8"))


def test_user_agent_identifies_the_application():
    assert user_agent().startswith("geoes/")
    assert user_agent("rops@example.org").endswith("kontakt: rops@example.org")


def test_a_failing_provider_is_not_asked_forever(service):
    service.handler = lambda path, params: (500, "{}", 0)
    rows = [{"id": f"f{i}", "name": "A", "types": "wtz", "locality": "Kielce", "street": f"ul. Wesoła {i}"}
            for i in range(1, 9)]
    report = run_chain(service, record(rows), GeocodeCache(None))
    assert service.count("/uug/") == 5 and service.count("/search") == 5
    assert any("pominięto po 5 kolejnych błędach" in e for e in report.errors)
    assert (report.frame["location_precision"] == "locality").all()


def test_cli_broken_cache_exits_2(tmp_path):
    cache = tmp_path / "c.sqlite"
    cache.write_bytes(b"to nie jest baza SQLite" * 100)
    result = CliRunner().invoke(cli_group(), ["geocode", str(stripped_copy(tmp_path)), "--offline", "--quiet",
                                              "--cache", str(cache)])
    assert result.exit_code == 2 and "--no-cache" in result.output
    assert len(result.output.strip().splitlines()) == 1


# --- the real services (left out of CI: `-m network` runs them) -----------------------------------

@pytest.mark.network
def test_real_gugik_answers_in_the_expected_shape():
    cands = GugikProvider(timeout=20).lookup("Kielce, Wesoła 52A")
    assert cands and cands[0].precision in ("address", "street")
    assert 50.8 < cands[0].lat < 50.95 and 20.5 < cands[0].lon < 20.75


@pytest.mark.network
def test_real_nominatim_answers_in_the_expected_shape():
    provider = NominatimProvider(user_agent(), timeout=20)
    cands = provider.lookup({"city": "Kielce", "street": "Wesoła 52A", "country": "Polska"})
    assert cands and 50.8 < cands[0].lat < 50.95 and 20.5 < cands[0].lon < 20.75
