"""Murmurations profiles (geoes.publish.murmurations, /api/murmurations/<id>.json): every entity's profile
validates against the vendored organizations_schema-v1.0.0 and the Index's default schema (jsonschema),
says only what the register knows, and carries nothing but published fields."""
from __future__ import annotations

import json

import jsonschema
import pytest

from geoes.publish import murmurations
from geoes.publish.murmurations import SCHEMA_NAME, layer_profile, problems, profile
from geoes.publish.serialise import published
from geoes.web.served import served_data


@pytest.fixture(scope="module")
def ds(app):
    return served_data(app).current()


def get_json(client, url, status=200):
    r = client.get(url)
    assert r.status_code == status, (url, r.status_code, r.data[:200])
    return json.loads(r.data)


def test_the_vendored_schema_is_the_librarys(ds):
    schema = murmurations.schema(SCHEMA_NAME)
    assert schema["metadata"]["schema"]["name"] == SCHEMA_NAME
    assert schema["required"] == ["linked_schemas", "name"]
    assert {"primary_url", "geolocation", "full_address", "country_iso_3166", "tags", "telephone"} <= set(schema["properties"])
    folder = murmurations.SCHEMAS_DIR
    assert "GNU GENERAL PUBLIC LICENSE" in (folder / "LICENSE").read_text()
    assert "MurmurationsNetwork/MurmurationsLibrary" in (folder / "SOURCE.md").read_text()


def test_every_entity_has_a_valid_profile(client, ds):
    index = get_json(client, "/api/murmurations.json")
    assert index["schema"] == SCHEMA_NAME and index["count"] == len(ds.entities) == len(index["profiles"])
    assert [p["id"] for p in index["profiles"]] == list(ds.entities["id"])
    for entry in index["profiles"]:
        assert entry["profile_url"] == f"http://localhost/api/murmurations/{entry['id']}.json"
        prof = get_json(client, entry["profile_url"].removeprefix("http://localhost"))
        assert problems(prof) == [], (entry["id"], problems(prof))
        # the schema as jsonschema itself reads it, independently of problems()
        jsonschema.validate(prof, murmurations.schema(SCHEMA_NAME), cls=jsonschema.Draft7Validator,
                            registry=murmurations._registry())
        assert prof["linked_schemas"] == [SCHEMA_NAME] and prof["country_iso_3166"] == "PL"
        assert prof["primary_url"] == entry["primary_url"] == f"http://localhost/entities/{entry['id']}"


def test_profiles_say_what_the_register_knows(client, ds):
    layer = published(ds.entities)
    for _, e in layer.iterrows():
        prof = get_json(client, f"/api/murmurations/{e['id']}.json")
        assert prof["name"] == e["name"] and prof["unique_id"] == e["id"]
        # "unknown" is never called active; nothing else is claimed about a status
        assert prof.get("status") == ("active" if e["status"] == "active" else None)
        if e.geometry is None:
            assert "geolocation" not in prof
        else:
            assert prof["geolocation"] == {"lat": round(e.geometry.y, 6), "lon": round(e.geometry.x, 6)}
        for code in e["types"].split(";"):
            assert murmurations.entity_types()[code].label_pl in prof["tags"]
        assert prof.get("locality") == e["locality"] and prof["region"] == "świętokrzyskie"
        if e["locality"]:
            assert e["locality"] in prof["full_address"] and prof["full_address"].endswith("Polska")
        assert prof.get("description") == e["description"]
        assert prof.get("telephone") == e["phone"]
    assert client.get("/entities/swk-001").status_code == 200  # primary_url is the entity's page


def test_problems_finds_what_the_index_would_refuse():
    good = profile({"id": "x", "name": "Spółdzielnia", "types": "cis", "status": "active"},
                   "https://mapa.example.pl/entities/x", "świętokrzyskie", (20.63, 50.87))
    assert problems(good) == []
    assert any("/tags" in p for p in problems({**good, "tags": []}))
    assert any("/country_iso_3166" in p for p in problems({**good, "country_iso_3166": "XX"}))
    assert any("/primary_url" in p for p in problems({**good, "primary_url": "mapa.example.pl/x"}))
    assert any("/geolocation/lat" in p for p in problems({**good, "geolocation": {"lat": 95, "lon": 20}}))
    assert any("default-v2.0.0" in p for p in problems({**good, "Name": "x"}))  # property names: lower case
    assert any("nieznany" in p for p in problems({**good, "linked_schemas": ["nie_ma_takiego-v1.0.0"]}))
    assert problems({k: v for k, v in good.items() if k != "name"}) != []


def test_nothing_but_published_fields_reaches_a_profile(ds):
    frame = published(ds.entities.reset_index(drop=True))
    frame["internal_notes"] = "NIE PUBLIKOWAĆ"
    frame["row"] = 17
    prof = layer_profile(frame, 0, "https://mapa.example.pl", "świętokrzyskie")
    text = json.dumps(prof, ensure_ascii=False)
    assert "NIE PUBLIKOWAĆ" not in text and '"row"' not in text
    allowed = set(murmurations.schema(SCHEMA_NAME)["properties"]) | set(murmurations.schema("default-v2.0.0")["properties"])
    assert set(prof) <= allowed


def test_index_filters_and_errors(client):
    for query in ("type=wtz", "powiat=2602", "q=caritas"):
        expected = [f["id"] for f in json.loads(client.get(f"/api/entities.geojson?{query}").data)["features"]]
        assert [p["id"] for p in get_json(client, f"/api/murmurations.json?{query}")["profiles"]] == expected
    assert get_json(client, "/api/murmurations/nie-ma-takiego.json", 404)["code"] == "NotFound"
    assert get_json(client, "/api/murmurations/swk-001.json?x=1", 400)["code"] == "InvalidParameterValue"
    assert get_json(client, "/api/murmurations.json?powiat=26", 400)["code"] == "InvalidParameterValue"
