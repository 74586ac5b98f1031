"""Entity pages keep their schema.org JSON-LD: an Organization with the register's KRS, NIP and REGON as
identifiers (and NIP as taxID), for every entity that has them — and no identifier it does not have."""
from __future__ import annotations

import json
import re

from geoes.web.served import served_data


def jsonld(client, entity_id: str) -> dict:
    html = client.get(f"/entities/{entity_id}").get_data(as_text=True)
    raw = re.search(r'<script type="application/ld\+json" nonce="[^"]+">(.*?)</script>', html, re.S).group(1)
    return json.loads(raw)


def test_every_entity_page_carries_its_registry_numbers(client, app):
    ents = served_data(app).current().entities
    with_numbers = 0
    for _, e in ents.iterrows():
        data = jsonld(client, e["id"])
        assert "Organization" in data["@type"] and data["name"] == e["name"]
        expected = {key.upper(): str(e[key]) for key in ("krs", "nip", "regon") if e[key]}
        got = {i["propertyID"]: i["value"] for i in data.get("identifier", [])}
        assert got == expected, e["id"]
        assert all(i["@type"] == "PropertyValue" for i in data.get("identifier", []))
        assert data.get("taxID") == (e["nip"] or None)
        with_numbers += bool(expected)
    assert with_numbers >= 1  # most entities of the sample are units run by an operator, without numbers of their own
