"""`W pobliżu` on the server: /api/nearest (the nearest entities under the map's filters, great-circle
distance and direction) and /api/places (the place a person types: the offline gazetteer, and GUGiK's
address geocoder where GEOES_PLACES_GEOCODER is set — here a local fake in the real service's format)."""
from __future__ import annotations

import json
import math
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from geoes.publish.layers import placed_mask
from geoes.web.served import served_data

JEDRZEJOW = (50.6403, 20.3036)  # the town's point in PRNG (and the resident's place in the browser tests)
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def haversine_km(lat1, lon1, lat2, lon2, radius_km=6371.0088) -> float:
    """Great-circle distance, written out independently of the code under test."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * radius_km * math.asin(math.sqrt(a))


def api_points(client, **filters) -> dict[str, tuple[float, float]]:
    """id → (lat, lon) of the entities with a point, as the GeoJSON API gives them."""
    fc = client.get("/api/entities.geojson", query_string=filters).get_json()
    return {f["id"]: (f["geometry"]["coordinates"][1], f["geometry"]["coordinates"][0])
            for f in fc["features"] if f["geometry"]}


def nearest(client, lat, lon, **params):
    r = client.get("/api/nearest", query_string={"lat": lat, "lon": lon, **params})
    assert r.status_code == 200, r.get_data(as_text=True)
    return r


def test_nearest_is_ordered_by_great_circle_distance_from_the_apis_points(client):
    r = nearest(client, *JEDRZEJOW, limit=50)
    doc = r.get_json()
    points = api_points(client)
    assert doc["matched"] == len(points) and doc["count"] == min(50, len(points))
    expected = sorted(haversine_km(*JEDRZEJOW, *p) for p in points.values())
    got = [it["distance_km"] for it in doc["items"]]
    assert got == sorted(got)
    assert got == pytest.approx(expected[:len(got)], abs=0.002)  # 6 decimals in the API: ~0.1 m
    for it in doc["items"]:
        assert it["distance_km"] == pytest.approx(haversine_km(*JEDRZEJOW, *points[it["id"]]), abs=0.002)
        assert (it["lat"], it["lon"]) == pytest.approx(points[it["id"]], abs=1e-6)
        assert it["url"] == f"/entities/{it['id']}"
    # A private answer: a person's whereabouts are kept by no shared cache.
    assert r.headers["Cache-Control"] == "private, no-store"


def test_nearest_words_distance_and_direction_the_polish_way(client):
    items = nearest(client, *JEDRZEJOW).get_json()["items"]
    first, far = items[0], items[-1]
    # The WTZ in Jędrzejów sits on the town's point: no "0,0 km", no direction.
    assert first["name"] == "Warsztat Terapii Zajęciowej w Jędrzejowie" and first["distance"] == "mniej niż 0,1\u00a0km"
    assert first["direction"] is None and first["approximate"] == "punkt miejscowości"
    # Below 10 km one decimal, from 10 km whole kilometres.
    assert far["distance_km"] >= 10 and far["distance"] == f"{round(far['distance_km'])}\u00a0km"
    # Mnichów lies 8 km north-east of Jędrzejów.
    mnichow = next(it for it in items if it["locality"] == "Mnichów")
    assert mnichow["distance"] == "8,1\u00a0km" and mnichow["direction"] == "na północny wschód"
    assert 0 < mnichow["bearing"] < 90


def test_nearest_takes_the_maps_filters_and_leaves_out_entities_without_a_point(client, app):
    ds = served_data(app).current()
    wtz = nearest(client, *JEDRZEJOW, type="wtz", limit=50).get_json()
    assert wtz["items"] and all("wtz" in it["types"] for it in wtz["items"])
    assert wtz["filters"] == {"type": ["wtz"]}
    is_wtz = ds.entities["types"].fillna("").str.split(";").map(lambda t: "wtz" in t)
    assert wtz["matched"] == int((is_wtz & placed_mask(ds.entities)).sum())
    assert wtz["unplaced"] == int((is_wtz & ~placed_mask(ds.entities)).sum())
    kielce = nearest(client, *JEDRZEJOW, powiat="2661", limit=50).get_json()
    assert {it["id"] for it in kielce["items"]} == set(api_points(client, powiat="2661"))
    assert nearest(client, *JEDRZEJOW, q="zzzz-nie-ma").get_json()["items"] == []


def test_nearest_breaks_ties_in_polish_alphabetical_order(client, app):
    from geoes.common.text import polish_key

    # Ten Kielce entities share one point: at the same distance they come by name.
    items = nearest(client, 50.8717, 20.6314, limit=10).get_json()["items"]
    same = [it["name"] for it in items if it["distance_km"] == items[0]["distance_km"]]
    assert len(same) >= 5 and same == sorted(same, key=polish_key)


@pytest.mark.parametrize("query, param", [
    ({"lon": "20"}, "lat"), ({"lat": "50"}, "lon"), ({"lat": "91", "lon": "20"}, "lat"),
    ({"lat": "50", "lon": "-181"}, "lon"), ({"lat": "abc", "lon": "20"}, "lat"), ({"lat": "nan", "lon": "20"}, "lat"),
    ({"lat": "50", "lon": "inf"}, "lon"), ({"lat": "50", "lon": "20", "limit": "0"}, "limit"),
    ({"lat": "50", "lon": "20", "limit": "51"}, "limit"), ({"lat": "50", "lon": "20", "type": "xyz"}, "type"),
    ({"lat": "50", "lon": "20", "powiat": "9999"}, "powiat"), ({"lat": "50", "lon": "20", "radius": "5"}, "radius"),
    ({"lat": ["50", "51"], "lon": "20"}, "lat"),
])
def test_nearest_refuses_bad_parameters_with_a_polish_400(client, query, param):
    r = client.get("/api/nearest", query_string=query)
    assert r.status_code == 400
    body = r.get_json()
    assert body["code"] == "InvalidParameterValue" and body["description"].startswith(param + ":")


def test_places_finds_the_town_of_a_name_and_offers_the_homonyms(client):
    for typed in ("Jędrzejów", "jedrzejow", "m. Jędrzejów", " JĘDRZEJÓW "):
        doc = client.get("/api/places", query_string={"q": typed}).get_json()
        chosen = doc["places"][doc["chosen"]]
        assert chosen["label"] == "Jędrzejów (miasto, gm. Jędrzejów, pow. jędrzejowski)", typed
        assert (chosen["lat"], chosen["lon"]) == JEDRZEJOW
    # The village of the same name (gmina Bodzechów) is offered, not taken.
    assert [p["label"] for p in doc["places"]][1:] == ["Jędrzejów (wieś, gm. Bodzechów, pow. ostrowiecki)"]
    assert "Wybrano miasto Jędrzejów" in doc["note"]


def test_places_lets_the_reader_choose_where_the_name_is_not_one_place(client):
    doc = client.get("/api/places", query_string={"q": "Wola"}).get_json()
    assert doc["chosen"] is None and len(doc["places"]) >= 5
    assert all(p["name"].startswith("Wola") for p in doc["places"])
    assert "Czy chodzi o jedną z tych" in doc["note"]
    none = client.get("/api/places", query_string={"q": "Nieistniejąca Wieś"}).get_json()
    assert none["places"] == [] and none["chosen"] is None
    assert none["note"] == "Nie znaleziono miejscowości „Nieistniejąca Wieś” w województwie."


def test_places_counts_from_the_locality_when_no_address_geocoder_is_set(client):
    doc = client.get("/api/places", query_string={"q": "Kielce, ul. Wesoła 52A"}).get_json()
    assert doc["places"][doc["chosen"]]["label"] == "Kielce (miasto, gm. Kielce)"
    assert "odległości są liczone od punktu miejscowości" in doc["note"]


@pytest.mark.parametrize("query", [{}, {"q": ""}, {"q": "x" * 201}, {"q": "Kielce", "lat": "50"}])
def test_places_refuses_bad_parameters(client, query):
    r = client.get("/api/places", query_string=query)
    assert r.status_code == 400 and r.get_json()["code"] == "InvalidParameterValue"


class FakeGugik:
    """GUGiK's UUG on 127.0.0.1: answers GetAddress with a fixture, logs each request."""

    def __init__(self, body: str):
        self.body, self.requests = body, []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                fake.requests.append(self.path)
                data = fake.body.encode("utf-8")
                self.send_response(200)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/uug/"


def app_with_geocoder(built_settings, url):
    from geoes.web import create_app

    return create_app({"TESTING": True, "GEOES_DATA_DIR": str(built_settings.data_dir), "GEOES_REGION": "26",
                       "GEOES_PLACES_GEOCODER": url})


def test_places_asks_the_configured_address_geocoder_once(built_settings):
    with FakeGugik((FIXTURES / "gugik_address.json").read_text(encoding="utf-8")) as fake:
        client = app_with_geocoder(built_settings, fake.url).test_client()
        for _ in range(2):
            doc = client.get("/api/places", query_string={"q": "Kielce, Wesoła 52A"}).get_json()
            address = doc["places"][doc["chosen"]]
            assert address["precision"] == "address" and address["source"] == "GUGiK"
            assert address["label"] == "25-000 Kielce ul. Wesoła 52A"
            assert haversine_km(address["lat"], address["lon"], 50.8717, 20.6314) < 3  # in Kielce
        assert len(fake.requests) == 1 and "GetAddress" in fake.requests[0]  # the second from the cache
        # A bare locality is the gazetteer's: no request.
        client.get("/api/places", query_string={"q": "Jędrzejów"})
        assert len(fake.requests) == 1


def test_places_keeps_the_locality_when_the_address_is_outside_the_region_or_the_service_fails(built_settings):
    outside = json.loads((FIXTURES / "gugik_address.json").read_text(encoding="utf-8"))
    outside["results"]["1"].update({"x": "500000", "y": "150000"})  # EPSG:2180 far west of the region
    with FakeGugik(json.dumps(outside)) as fake:
        client = app_with_geocoder(built_settings, fake.url).test_client()
        doc = client.get("/api/places", query_string={"q": "Kielce, Daleka 1"}).get_json()
        assert doc["places"][doc["chosen"]]["label"] == "Kielce (miasto, gm. Kielce)"
        assert "Nie znaleziono jednoznacznie tego adresu" in doc["note"]
        fake.body = "<html>przerwa techniczna</html>"
        doc = client.get("/api/places", query_string={"q": "Kielce, Inna 2"}).get_json()
        assert doc["places"][doc["chosen"]]["label"] == "Kielce (miasto, gm. Kielce)"
        assert "Wyszukiwarka adresów jest teraz niedostępna" in doc["note"]
