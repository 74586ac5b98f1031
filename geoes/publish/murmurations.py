"""Murmurations profiles: each entity as a profile of the Murmurations Network's
`organizations_schema-v1.0.0`, so the Murmurations Index (where Karte von Morgen and other maps of the
regenerative and solidarity economy find organisations) can list the register.

* `profile(record, primary_url, region)` — one entity of the published layer (its public fields only, by
  name): `linked_schemas`, `name`, `primary_url` (the entity's page on this site), `tags` (its types:
  Polish name, abbreviation, English name, and "ekonomia społeczna"/"social economy"), `description`,
  `status` (`active` only when the register knows it is active — "unknown" is never called active),
  `full_address`, `country_iso_3166` `PL`, `geolocation` (when the entity has a point, 6 decimals),
  `telephone`, `contact_details.email`, `urls` (its website and the public sources of its data),
  `unique_id` (the register's id), and the default schema's `locality` and `region` (what the Index
  searches by).
* `problems(profile)` — what the vendored schemas (geoes/reference/murmurations: the Index's first check,
  `default-v2.0.0`, and `organizations_schema-v1.0.0`, with the fields they reference) find wrong, as the
  Index would: JSON Schema draft 7 with jsonschema, references resolved offline.
* `index_document(...)` — the list of profiles the site offers (`/api/murmurations.json`).

The web app serves the profiles (geoes.web.api); `python -m geoes murmurations register` posts their URLs
to an index (geoes.sources.murmurations).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import quote

import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from geoes.common.reference import REFERENCE_DIR, entity_types
from geoes.common.values import plain_record
from geoes.publish.escape import safe_url, split_sources
from geoes.publish.serialise import published
from geoes.register.record import TYPES_SEPARATOR

SCHEMA_NAME = "organizations_schema-v1.0.0"
DEFAULT_SCHEMA = "default-v2.0.0"
SCHEMAS_DIR = REFERENCE_DIR / "murmurations"
# The base of the vendored files' `$id`s: their `$ref: "../fields/x.json"` resolve under it.
LIBRARY_BASE = "https://test-library.murmurations.network/v2/"
COUNTRY = "PL"
COUNTRY_NAME = "Polska"
GENERAL_TAGS = ("ekonomia społeczna", "social economy")
MAX_NAME = 200  # the `name` field's maxLength
MAX_TAG = 100


def _tags(types: str) -> list[str]:
    known = entity_types()
    tags: list[str] = []
    for code in str(types or "").split(TYPES_SEPARATOR):
        t = known.get(code)
        if t:
            tags += [t.label_pl, t.short_pl, t.label_en]
    tags += GENERAL_TAGS
    return list(dict.fromkeys(tag[:MAX_TAG] for tag in tags if tag))


def _address(rec: dict) -> str:
    town = " ".join(p for p in (rec.get("postal_code"), rec.get("locality")) if p)
    parts = [p for p in (rec.get("street"), town) if p]
    return ", ".join([*parts, COUNTRY_NAME]) if parts else ""


def _urls(rec: dict) -> list[dict]:
    out, seen = [], set()
    candidates = [("Strona internetowa", rec.get("website"))]
    candidates += [("Źródło danych", s) for s in split_sources(rec.get("sources"))]
    for name, value in candidates:
        url = safe_url(value)
        if url and url not in seen:
            seen.add(url)
            out.append({"name": name, "url": url})
    return out


def profile(rec: dict, primary_url: str, region: str, point: tuple[float, float] | None = None) -> dict:
    """The profile of one published entity record (`point` = (lon, lat) when it has one)."""
    name = str(rec.get("name") or "")
    out = {"linked_schemas": [SCHEMA_NAME],
           "name": name if len(name) <= MAX_NAME else name[:MAX_NAME - 1] + "…",
           "primary_url": primary_url,
           "tags": _tags(rec.get("types")),
           "description": rec.get("description"),
           "status": "active" if rec.get("status") == "active" else None,
           "full_address": _address(rec),
           "country_iso_3166": COUNTRY,
           "geolocation": {"lat": round(point[1], 6), "lon": round(point[0], 6)} if point else None,
           "telephone": rec.get("phone"),
           "contact_details": {"email": rec["email"]} if rec.get("email") else None,
           "urls": _urls(rec),
           "unique_id": rec.get("id"),
           "locality": rec.get("locality"),
           "region": region}
    return {k: v for k, v in out.items() if v not in (None, "", [], {})}


@lru_cache(maxsize=None)
def _registry() -> Registry:
    resources = []
    for path in sorted((SCHEMAS_DIR / "fields").glob("*.json")):
        contents = json.loads(path.read_text(encoding="utf-8"))
        resources.append((f"{LIBRARY_BASE}fields/{path.name}",
                          Resource.from_contents(contents, default_specification=DRAFT7)))
    for path in sorted((SCHEMAS_DIR / "schemas").glob("*.json")):
        contents = json.loads(path.read_text(encoding="utf-8"))
        resources.append((contents["$id"], Resource.from_contents(contents, default_specification=DRAFT7)))
    return Registry().with_resources(resources)


@lru_cache(maxsize=None)
def schema(name: str) -> dict:
    return json.loads((SCHEMAS_DIR / "schemas" / f"{name}.json").read_text(encoding="utf-8"))


@lru_cache(maxsize=None)
def _validator(name: str) -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(schema(name), registry=_registry())


def problems(prof: dict) -> list[str]:
    """The schema errors of a profile against the Index's default schema and its linked schemas
    (["organizations_schema-v1.0.0: /tags: [] should be non-empty", …]); empty when it is valid."""
    out = []
    for name in (DEFAULT_SCHEMA, *prof.get("linked_schemas", [])):
        if not (SCHEMAS_DIR / "schemas" / f"{name}.json").is_file():
            out.append(f"{name}: schemat nieznany (brak kopii w geoes/reference/murmurations)")
            continue
        for err in sorted(_validator(name).iter_errors(prof), key=lambda e: list(e.absolute_path)):
            where = "/" + "/".join(str(p) for p in err.absolute_path)
            out.append(f"{name}: {where}: {err.message}")
    return out


def index_document(entries: list[dict], version: str, attribution: str) -> dict:
    """The site's list of profiles: [{id, name, status, profile_url, primary_url}, …]."""
    return {"schema": SCHEMA_NAME, "version": version, "attribution": attribution, "count": len(entries),
            "profiles": entries}


def profile_path(entity_id: str) -> str:
    """Where the site serves an entity's profile (below its root URL)."""
    return f"/api/murmurations/{quote(str(entity_id), safe='')}.json"


def page_path(entity_id: str) -> str:
    """The entity's page: its profile's `primary_url`."""
    return f"/entities/{quote(str(entity_id), safe='')}"


def layer_profile(frame, position: int, root: str, region: str) -> dict:
    """The profile of the entity at `position` of the published entity layer, for a site at `root`."""
    row = frame.iloc[position]
    rec = plain_record(row, drop=(frame.geometry.name,))
    geom = row[frame.geometry.name]
    point = (geom.x, geom.y) if geom is not None and not geom.is_empty else None
    return profile(rec, root.rstrip("/") + page_path(rec["id"]), region, point)


def index_entries(frame, positions, root: str) -> list[dict]:
    base = root.rstrip("/")
    sub = frame.iloc[positions]
    return [{"id": i, "name": n, "status": s, "profile_url": base + profile_path(i), "primary_url": base + page_path(i)}
            for i, n, s in zip(sub["id"].tolist(), sub["name"].tolist(), sub["status"].tolist())]


@dataclass
class SiteProfile:
    id: str
    profile_url: str
    profile: dict
    problems: list[str]


def site_profiles(dataset, site: str, include_inactive: bool = False) -> list[SiteProfile]:
    """The profiles a site at `site` (its public root URL) offers to an index, each checked against the
    schemas: every entity of the dataset not known to be inactive (or every one, `include_inactive`)."""
    frame = published(dataset.entities.reset_index(drop=True))
    region = dataset.voivodeship.get("name") or ""
    base = site.rstrip("/")
    records = [plain_record(r, drop=()) for r in frame.drop(columns=frame.geometry.name).to_dict("records")]
    out = []
    for rec, geom in zip(records, frame.geometry.to_numpy()):
        if rec.get("status") == "inactive" and not include_inactive:
            continue
        point = (geom.x, geom.y) if geom is not None and not geom.is_empty else None
        prof = profile(rec, base + page_path(rec["id"]), region, point)
        out.append(SiteProfile(rec["id"], base + profile_path(rec["id"]), prof, problems(prof)))
    return out
