"""The entity list (/entities: the map's text alternative, filtered, sorted, paged) and one entity's page
(/entities/<id>)."""
from __future__ import annotations

import math
import re

from flask import Blueprint, current_app, request

from geoes.common.labels import PRECISION_PL, SOCIAL_ENTERPRISE_PL, geocoder_label, verification_label
from geoes.common.reference import entity_types
from geoes.common.text import polish_key
from geoes.errors import NotFound
from geoes.publish.escape import safe_url
from geoes.publish.filters import ParamError, apply_entities, choice, parse_filter, parse_int
from geoes.publish.labels import powiat_label, types_label
from geoes.web.maps import entity_map
from geoes.web.pagecache import cached_page
from geoes.web.pages.mapconfig import map_config
from geoes.web.pages.views import STATUS_PL, dataset, entity_rows, powiat_choices, record, render, type_codes_present
from geoes.web.served import served_data

bp = Blueprint("entities", __name__)

SORTS = {
    "name": "name", "type": "types", "locality": "locality", "gmina": "gmina_name", "powiat": "powiat_name",
    "employees": "employees", "status": "status",
}
MAX_PAGE = 999_999
ENTITY_FIELDS = [
    ("name", "Nazwa"), ("types", "Typ"), ("social_enterprise", "Przedsiębiorstwo społeczne (wykaz ministra)"),
    ("legal_form", "Forma prawna"), ("operator", "Podmiot prowadzący"), ("street", "Ulica"),
    ("postal_code", "Kod pocztowy"), ("locality", "Miejscowość"), ("gmina_name", "Gmina"),
    ("powiat_name", "Powiat"), ("gmina_teryt", "Gmina wg źródła (TERYT)"), ("location_precision", "Dokładność położenia"),
    ("geocoder", "Źródło współrzędnych"), ("coordinates", "Współrzędne (WGS84)"), ("krs", "KRS"), ("nip", "NIP"),
    ("regon", "REGON"), ("operator_krs", "KRS podmiotu prowadzącego"), ("operator_nip", "NIP podmiotu prowadzącego"), ("employees", "Zatrudnieni"), ("status", "Status"), ("as_of", "Stan na"),
    ("website", "Strona internetowa"), ("email", "E-mail"), ("phone", "Telefon"), ("description", "Opis"),
    ("sources", "Źródła"), ("id", "Identyfikator"),
]


def parse_sort(args) -> tuple[str, bool, int]:
    sort = choice(args, "sort", tuple(SORTS), "name")
    order = choice(args, "order", ("asc", "desc"), "asc")
    return sort, order == "desc", parse_int(args, "page", 1, 1, MAX_PAGE)


def sorted_entities(selected, sort: str, desc: bool):
    col = SORTS[sort]
    if col == "employees":
        key = selected["employees"].astype("Float64")
        order_index = key.sort_values(ascending=not desc, na_position="last").index
    else:
        key = selected[col].map(polish_key)  # Polish alphabetical order (Łagów after Lipnik)
        order_index = key.sort_values(ascending=not desc, kind="stable").index
    return selected.loc[order_index]


@bp.get("/entities")
@cached_page
def index():
    ds = dataset()
    f = parse_filter(request.args, ds)
    sort, desc, page = parse_sort(request.args)
    selected = apply_entities(ds.entities, f)
    ordered = sorted_entities(selected, sort, desc)
    size = current_app.extensions["geoes_settings"].page_size
    pages = max(1, math.ceil(len(ordered) / size))
    if page > pages:
        raise ParamError("page", f"jest tylko {pages} stron(y)")
    shown = ordered.iloc[(page - 1) * size: page * size]
    base_args = [(k, v) for k, v in request.args.items(multi=True) if k in ("type", "powiat", "gmina", "q") and v]
    gmina_rec = record(ds.gminy[ds.gminy["teryt"] == f.gmina].iloc[0]) if f.gmina else None
    return render("entities.html", ds=ds, rows=entity_rows(shown), total=len(ds.entities), matched=len(selected),
                  filter=f, sort=sort, desc=desc, page=page, pages=pages, size=size, base_args=base_args,
                  types=entity_types(), present=type_codes_present(ds), gmina_rec=gmina_rec,
                  powiaty=powiat_choices(ds), powiat_label=powiat_label, sorts=SORTS)


# Shown at the top of the page (name, types, the address line and the contact block), not again below.
TOP_FIELDS = ("name", "types", "street", "postal_code", "website", "email", "phone")


def entity_fields(rec: dict, geom, has_point: bool) -> tuple[list[dict], list[str]]:
    """The rows of the details list (fields the register fills, the top ones left out) and the labels of
    those it leaves empty: a reader sees what is known, then one line on what is not."""
    fields, empty = [], []
    for key, label in ENTITY_FIELDS:
        if key in TOP_FIELDS:
            continue
        if key == "coordinates":
            value = f"{geom.y:.5f}, {geom.x:.5f}" if has_point else None
        else:
            value = rec.get(key)
        if value is None or value == "":
            empty.append(label)
        else:
            fields.append({"key": key, "label": label, "value": value})
    return fields, empty


def address_line(rec: dict) -> str:
    """"ul. Wesoła 52A, 25-001 Kielce" from the parts the register has."""
    place = " ".join(p for p in (rec.get("postal_code"), rec.get("locality")) if p)
    return ", ".join(p for p in (rec.get("street"), place) if p)


def directions_url(lat: float, lon: float) -> str:
    """Directions to the point in OpenStreetMap (the reader enters where from)."""
    return (f"https://www.openstreetmap.org/directions?route=%3B{lat:.5f}%2C{lon:.5f}"
            f"#map=15/{lat:.5f}/{lon:.5f}")


def tel_href(phone: str | None) -> str | None:
    """A tel: link for a phone field holding one number (digits, spaces, +, -, parentheses), else None."""
    if not phone or not re.fullmatch(r"\+?[\d\s()-]{9,20}", phone):
        return None
    return "tel:" + re.sub(r"[\s()-]", "", phone)


def _identifiers(rec: dict) -> list[dict]:
    return [{"@type": "PropertyValue", "propertyID": key.upper(), "value": str(rec[key])}
            for key in ("krs", "nip", "regon") if rec.get(key)]


def entity_jsonld(rec: dict, geom, has_point: bool, region: str) -> dict:
    """schema.org data of an entity page: an Organization that is also a Place (so it may carry `geo`),
    with its address, coordinates, identifiers and contact as the register has them; nothing invented.
    The sources' free-text description stays on the page (the meta description summarises it)."""
    address = {"@type": "PostalAddress", "streetAddress": rec.get("street"), "postalCode": rec.get("postal_code"),
               "addressLocality": rec.get("locality"),
               "addressRegion": f"województwo {region}" if region else None, "addressCountry": "PL"}
    data = {
        "@context": "https://schema.org", "@type": ["Organization", "Place"], "@id": request.base_url,
        "name": rec.get("name"), "url": safe_url(rec.get("website")), "email": rec.get("email"),
        "telephone": rec.get("phone"), "taxID": rec.get("nip"),
        "address": {k: v for k, v in address.items() if v},
        "identifier": _identifiers(rec) or None,
    }
    if has_point:
        data["geo"] = {"@type": "GeoCoordinates", "latitude": round(geom.y, 5), "longitude": round(geom.x, 5)}
    if rec.get("employees") is not None:
        data["numberOfEmployees"] = {"@type": "QuantitativeValue", "value": rec["employees"]}
    return {k: v for k, v in data.items() if v not in (None, "", [])}


def entity_description(rec: dict) -> str:
    """The page's meta description: what, where, and what the page holds (at most ~160 characters)."""
    where = ", ".join(p for p in (rec.get("locality"), f"gmina {rec['gmina_name']}" if rec.get("gmina_name") else None) if p)
    text = f"{rec.get('name')} – {types_label(rec.get('types'))}" + (f", {where}" if where else "")
    text += ". Adres, kontakt i źródła danych."
    return text if len(text) <= 160 else text[:157].rstrip() + "…"


@bp.get("/entities/<entity_id>")
@cached_page
def entity(entity_id):
    ds = dataset()
    if len(entity_id) > 100:
        raise NotFound("Nie ma podmiotu o takim identyfikatorze.")
    rows = ds.entities[ds.entities["id"] == entity_id]
    if rows.empty:
        raise NotFound(f"Nie ma podmiotu o identyfikatorze „{entity_id}”.")
    row = rows.iloc[0]
    rec = record(row)
    geom = row.geometry
    has_point = geom is not None and not geom.is_empty
    parts = None
    if has_point:
        first = (rec.get("types") or "").split(";")[0]
        parts = served_data().cached(("entitymap", entity_id, request.script_root),
                                     lambda d: entity_map(geom.y, geom.x, rec["name"], first))
    fields, empty = entity_fields(rec, geom, has_point)
    return render("entity.html", ds=ds, rec=rec, fields=fields, left_out=", ".join(e.lower() for e in empty),
                  address=address_line(rec), tel_href=tel_href(rec.get("phone")),
                  directions=directions_url(geom.y, geom.x) if has_point else None, parts=parts,
                  mapcfg=map_config(ds, "entity", entity={"name": rec["name"]}), types_label=types_label,
                  status=STATUS_PL, precision=PRECISION_PL, se=SOCIAL_ENTERPRISE_PL, geocoder_label=geocoder_label,
                  description=entity_description(rec),
                  completeness="",  # a page without figures: the register's completeness is on the figures' pages
                  jsonld=entity_jsonld(rec, geom, has_point, ds.voivodeship.get("name") or ""),
                  verified=verification_label(rec.get("verified_at"), rec.get("verified_source")))
