"""A place a person types (`Miejscowość lub adres` in `W pobliżu`), found offline in the locality gazetteer
and, where an address geocoder is configured (`GEOES_PLACES_GEOCODER`), by address.

`find_place(gazetteer, text, address_lookup)` returns the candidates as the page lists them and which one
is taken (`chosen`, an index, or None when the reader must choose):

* a locality of that name (with or without Polish letters): taken when it is the only one, or the only town
  among several ("Jędrzejów" is the town, not the village in gmina Bodzechów) — the others are listed so
  the reader can switch; several villages of one name are the reader's choice;
* no locality of that name: the localities whose names start with it, none taken;
* text with a street or number after the locality ("Kielce, Wesoła 52"): with an address geocoder, its
  answer inside the region is taken when it is one place; otherwise the locality, and the note says that
  distances are counted from the locality, not from the address.

Nothing is guessed beyond that; the reader sees the label of the place the distances are counted from.
"""
from __future__ import annotations

import re
from typing import Callable

import geopandas as gpd
import shapely

from geoes.config import CRS_METRIC
from geoes.publish.nearest import great_circle
from geoes.register.geocode import (BOUNDARY_TOLERANCE_M, PRECISION_RANK, SAME_PLACE_M, Candidate, GeocodeCache,
                                    GugikProvider)
from geoes.sources.gazetteer import Gazetteer

ADDRESS_RE = re.compile(r",\s*\S|\d")


def place_label(row) -> str:
    """"Jędrzejów (miasto, gm. Jędrzejów, pow. jędrzejowski)"; a city with powiat rights is its own powiat."""
    parts = [row["kind"]]  # PRNG's own word: miasto, wieś
    if row.get("gmina_name"):
        parts.append(f"gm. {row['gmina_name']}")
    powiat = row.get("powiat_name")
    if powiat and powiat[:1].islower():
        parts.append(f"pow. {powiat}")
    return f"{row['name']} ({', '.join(parts)})"


def _locality(row) -> dict:
    return {"name": row["name"], "label": place_label(row), "kind": row["kind"], "lat": round(float(row["lat"]), 6),
            "lon": round(float(row["lon"]), 6), "precision": "locality", "source": "gazeter PRNG"}


def looks_like_address(text: str) -> bool:
    """A street or a house number after the locality ("Kielce, Wesoła 52", "Kielce Wesoła 52")."""
    return bool(ADDRESS_RE.search(text))


def find_place(gazetteer: Gazetteer, text: str,
               address_lookup: Callable[[str], list[dict]] | None = None) -> dict:
    """`address_lookup(text)` → [the address as one place] or []; None: no address geocoder configured."""
    hits, exact = gazetteer.find_places(text)
    places = [_locality(r) for r in hits.to_dict("records")]
    chosen, note = None, None
    if exact and places:
        towns = hits["kind"].eq("miasto").sum()
        if len(places) == 1 or towns == 1:
            chosen = 0
            if len(places) > 1:
                note = (f"Wybrano miasto {places[0]['name']}; inne miejscowości o tej nazwie są na liście poniżej.")
        else:
            note = f"Jest kilka miejscowości o nazwie „{places[0]['name']}” — wybierz właściwą."
    elif places:
        note = f"Nie ma miejscowości o nazwie „{text.split(',')[0].strip()}”. Czy chodzi o jedną z tych?"
    if looks_like_address(text):
        found, why = _address(text, address_lookup)
        if found:
            return {"query": text, "places": [found, *places], "chosen": 0, "note": None}
        if chosen is not None:
            note = (note + " " if note else "") + why
    if not places:
        note = f"Nie znaleziono miejscowości „{text.strip()}” w województwie."
    return {"query": text, "places": places, "chosen": chosen, "note": note}


def _address(text: str, lookup) -> tuple[dict | None, str]:
    """(the address as one place, or None; why the locality is used instead)."""
    if lookup is None:
        return None, "Adresów nie wyszukujemy: odległości są liczone od punktu miejscowości."
    try:
        found = lookup(text)
    except Exception:  # a failing service costs the address only: the locality still answers
        return None, "Wyszukiwarka adresów jest teraz niedostępna: odległości są liczone od punktu miejscowości."
    if len(found) != 1:
        return None, "Nie znaleziono jednoznacznie tego adresu: odległości są liczone od punktu miejscowości."
    return found[0], ""


class AddressLookup:
    """The address geocoder for typed places: GUGiK's UUG (geoes.register.geocode.GugikProvider) behind the
    geocoder's SQLite cache, answers kept only inside the region (its boundary ±500 m), the most precise
    of them, and only when they are one place (several within 1 km count as one)."""

    def __init__(self, url: str, cache_path, timeout: float = 5.0):
        self.provider = GugikProvider(url, timeout=timeout)
        self.cache_path = cache_path

    def _candidates(self, text: str) -> list[Candidate]:
        cache = GeocodeCache(self.cache_path)
        try:
            found = cache.get(self.provider.name, text)
            if found is None:
                found = self.provider.lookup(text)
                cache.put(self.provider.name, text, found)
            return found
        finally:
            cache.close()

    def __call__(self, text: str, region) -> list[dict]:
        """The one place `text` names inside `region` (a shapely geometry in lon/lat), as a list of 0 or 1."""
        inside = [c for c in self._candidates(text.strip()) if region.contains(shapely.Point(c.lon, c.lat))]
        if not inside:
            return []
        top = max(PRECISION_RANK[c.precision] for c in inside)
        inside = [c for c in inside if PRECISION_RANK[c.precision] == top]
        first = inside[0]
        km, _ = great_circle(first.lat, first.lon, [c.lat for c in inside], [c.lon for c in inside])
        if (km > SAME_PLACE_M / 1000).any():
            return []
        return [{"name": first.description or text, "label": first.description or text, "kind": first.precision,
                 "lat": first.lat, "lon": first.lon, "precision": first.precision, "source": "GUGiK"}]


def region_shape(powiaty) -> object:
    """The region's outline from its powiaty (lon/lat), widened by the boundaries' stated accuracy (~500 m)."""
    metric = powiaty.to_crs(CRS_METRIC).geometry.union_all().buffer(BOUNDARY_TOLERANCE_M)
    shape = gpd.GeoSeries([metric], crs=CRS_METRIC).to_crs(powiaty.crs).iloc[0]
    shapely.prepare(shape)
    return shape
