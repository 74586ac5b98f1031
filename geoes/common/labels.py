"""Polish labels for the values and column names the data carry in English (codes stay English in files).

One table for pages, the report, charts and the OGC HTML views: a person reads "miejscowość", not
"locality"; "gazeter", not "gazetteer".
"""
from __future__ import annotations

from geoes.common.reference import entity_types

PRECISION_PL = {
    "address": "adres", "street": "ulica", "locality": "miejscowość", "gmina": "gmina (punkt w gminie)",
    "powiat": "tylko powiat (bez punktu)", "none": "brak położenia",
}
STATUS_PL = {"active": "działa", "inactive": "nie działa", "unknown": "nieznany"}
SOCIAL_ENTERPRISE_PL = {"true": "tak", "false": "nie", "unknown": "brak informacji"}
# Who last confirmed an entity's facts (the record's `verified_source`).
VERIFIED_SOURCE_PL = {"KRS": "KRS", "RJPS": "wykaz RJPS", "operator": "operator", "zgłoszenie": "zgłoszenie"}
ACCESS_METHOD_PL = {"exact": "dokładne pole bufora"}

# While the register is incomplete every count is a count of the known register, and the labels say so.
INDICATOR_LABELS = {
    "entities": "Podmioty w rejestrze (aktywne)",
    "entities_per_10k": "Podmioty w rejestrze na 10 tys. mieszkańców",
    "entities_per_100km2": "Podmioty w rejestrze na 100 km²",
    "employees": "Zatrudnieni (znani z rejestru)",
    "employees_per_10k": "Zatrudnieni (znani) na 10 tys. mieszkańców",
    "employees_known_pct": "Podmioty ze znanym zatrudnieniem (%)",
    "entities_without_gmina": "Podmioty znane tylko z dokładnością do powiatu",
    "gminy_with_entity": "Gminy z podmiotem w rejestrze",
    "gminy_total": "Gminy ogółem",
    "gmina_coverage_pct": "Gminy z podmiotem w rejestrze (%)",
    "population_coverage_pct": "Ludność gmin z podmiotem w rejestrze (%)",
    "access_10km_pct": "Powierzchnia w zasięgu 10 km od podmiotu z rejestru (%)",
    "population": "Ludność",
    "area_km2": "Powierzchnia (km²)",
    "unemployed": "Bezrobotni zarejestrowani",
    "unemployed_2022": "Bezrobotni zarejestrowani w 2022 r.",
    "unemployed_per_10k": "Bezrobotni zarejestrowani na 10 tys. mieszkańców",
    "unemployed_change_pct": "Zmiana liczby bezrobotnych od 2022 r. (%)",
    "unemployment_rate": "Stopa bezrobocia rejestrowanego (%)",
    "unemployment_rate_2022": "Stopa bezrobocia rejestrowanego w 2022 r. (%)",
    "unemployment_rate_change_pp": "Zmiana stopy bezrobocia od 2022 r. (pkt proc.)",
    "entities_per_1k_unemployed": "Podmioty w rejestrze na 1000 bezrobotnych",
    "verified_24m": "Podmioty zweryfikowane w ostatnich 24 miesiącach",
    "verified_24m_pct": "Podmioty zweryfikowane w ostatnich 24 miesiącach (%)",
}

# Column names of the published layers and tables, as a person reads them (`gmina_teryt`/`powiat_teryt` of an
# entity are the units the site counts it in, `*_stated` what the register says: geoes.publish.serialise).
FIELD_LABELS = {
    "id": "Identyfikator", "name": "Nazwa", "types": "Typ", "social_enterprise": "Przedsiębiorstwo społeczne",
    "legal_form": "Forma prawna", "operator": "Podmiot prowadzący", "street": "Ulica", "postal_code": "Kod pocztowy",
    "locality": "Miejscowość", "gmina_teryt": "Gmina (TERYT)", "powiat_teryt": "Powiat (TERYT)",
    "gmina_teryt_stated": "Gmina wg źródła (TERYT)", "powiat_teryt_stated": "Powiat wg źródła (TERYT)",
    "lat": "Szerokość geogr.", "lon": "Długość geogr.", "location_precision": "Dokładność położenia",
    "geocoder": "Źródło współrzędnych", "krs": "KRS", "nip": "NIP", "regon": "REGON", "operator_krs": "KRS prowadzącego",
    "operator_nip": "NIP prowadzącego", "employees": "Zatrudnieni",
    "status": "Status", "as_of": "Stan na", "website": "Strona internetowa", "email": "E-mail", "phone": "Telefon",
    "description": "Opis", "sources": "Źródła", "gmina_name": "Gmina", "powiat_name": "Powiat",
    "gmina_teryt_computed": "Gmina (TERYT; nazwa przestarzała)", "powiat_teryt_computed": "Powiat (TERYT; nazwa przestarzała)", "gmina_mismatch": "Inna gmina niż w źródle",
    "outside_region": "Poza województwem", "row": "Wiersz", "teryt": "TERYT", "type": "Rodzaj",
    "type_name": "Rodzaj gminy", "city_county": "Miasto na prawach powiatu", "area_km2_official": "Powierzchnia urzędowa (km²)",
    "area_km2": "Powierzchnia (km²)", "area_km2_computed": "Powierzchnia z geometrii (km²)", "area_source": "Źródło powierzchni",
    "population": "Ludność", "population_year": "Rok danych o ludności", "population_2021": "Ludność 2021",
    "suppressed": "Pominięte wartości i powody", "level": "Poziom",
}


def field_label(name: str) -> str:
    """A column's Polish label: the table above, the indicators' labels, ranks and relations; else the
    name itself (a type count or a code the table does not know yet)."""
    if name in FIELD_LABELS:
        return FIELD_LABELS[name]
    if name in INDICATOR_LABELS:
        return INDICATOR_LABELS[name]
    for prefix, word in (("rank_", "miejsce: "), ("ratio_", "relacja do województwa: ")):
        if name.startswith(prefix):
            base = name[len(prefix):]
            tail = " (najgorsze przy remisie)" if base.endswith("_max") else ""
            base = base[:-4] if base.endswith("_max") else base
            return word + INDICATOR_LABELS.get(base, base) + tail
    if name.startswith("entities_"):
        t = entity_types().get(name[len("entities_"):])
        if t:
            return f"Podmioty: {t.short_pl}"
    return name


def verification_label(verified_at, verified_source) -> str:
    """"Zweryfikowano: 25.11.2026, KRS" or "Nie weryfikowano" (the record's verified_at is an ISO date)."""
    when = str(verified_at or "").strip()
    if not when or when.lower() == "nan":
        return "Nie weryfikowano"
    parts = when[:10].split("-")
    shown = ".".join(reversed(parts)) if len(parts) == 3 else when
    source = str(verified_source or "").strip()
    source = VERIFIED_SOURCE_PL.get(source, source)
    return f"Zweryfikowano: {shown}" + (f", {source}" if source else "")


def geocoder_label(value) -> str:
    """Where the coordinates come from, in Polish: "gazetteer:PRNG 2021" → "gazeter: PRNG 2021"."""
    text = str(value or "")
    for english, polish in (("gazetteer:", "gazeter: "), ("gugik", "GUGiK (geokoder adresowy)"),
                            ("nominatim", "Nominatim (OpenStreetMap)")):
        if text.startswith(english):
            return polish + text[len(english):]
    return text


def access_method_label(value) -> str:
    text = str(value or "")
    if text.startswith("grid"):
        return "siatka " + text[len("grid"):].strip()
    return ACCESS_METHOD_PL.get(text, text)
