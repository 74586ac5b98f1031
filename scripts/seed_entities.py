"""One-off provenance script: how data/entities.csv was first made from the hand-compiled facts.

    python scripts/seed_entities.py ../shared/data/entities/pes_swietokrzyskie_fakty_ze_stron.csv

It maps the facts file's columns to the entity record and nothing more: no fact is added. Where the
source only mentions a place in passing ("wzmianka") the locality is not used for placing (it moves to
the description), because the entity's own seat is not known. Coordinates come from `geoes geocode`.
"""
from __future__ import annotations

import sys

import pandas as pd

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[1]))
from geoes.config import Settings  # noqa: E402
from geoes.register.record import write_entities  # noqa: E402

POWIAT_BY_NAME = {"buski": "2601", "kielecki": "2604", "sandomierski": "2609"}
# Gmina named by the source (column `gmina`, or the gmina page the fact comes from: swk-047).
GMINA_BY_NAME = {
    "Busko-Zdrój": "2601013", "Krasocin": "2613022", "Radków": "2613042", "Dwikozy": "2609022",
    "Sadowie": "2606062", "Łoniów": "2609052", "Szydłów": "2612083",
}
SEAT_OF_LEADER_ONLY = {"swk-049": "2661011"}  # KOOWES: the source gives the leader's seat city only


def convert(path: str) -> pd.DataFrame:
    src = pd.read_csv(path, dtype=str).fillna("")
    rows = []
    for _, r in src.iterrows():
        precision_note = r["precyzja_lokalizacji"]
        locality, gmina = r["miejscowosc"], GMINA_BY_NAME.get(r["gmina"], "")
        if "strona gminy Szydłów" in precision_note:
            gmina = GMINA_BY_NAME["Szydłów"]
        description = r["fakty"]
        street = r["ulica_nr"]
        if r["id"] == "swk-044":  # two addresses in one cell: keep the current one, the rest as a fact
            street = "Plac Najświętszej Maryi Panny 1"
            description += "; adres: " + r["ulica_nr"]
        if precision_note.startswith("wzmianka"):
            if locality:
                description += f"; miejscowość wymieniona tylko we wzmiance: {locality} ({precision_note})"
            locality = ""
            gmina = SEAT_OF_LEADER_ONLY.get(r["id"], gmina)
        elif precision_note.startswith("brak"):
            description += f"; lokalizacja: {precision_note}"
        rows.append({
            "id": r["id"], "name": r["nazwa"], "types": r["typ"], "social_enterprise": "unknown",
            "legal_form": r["forma_prawna"], "operator": r["prowadzacy_lub_zalozyciele"],
            "street": street, "postal_code": r["kod_pocztowy"], "locality": locality,
            "gmina_teryt": gmina, "powiat_teryt": POWIAT_BY_NAME.get(r["powiat"], ""),
            "lat": "", "lon": "", "location_precision": "none", "geocoder": "",
            "krs": r["krs"], "nip": r["nip"], "regon": r["regon"], "employees": "",
            "status": "unknown", "as_of": r["stan_wg_zrodla"], "website": "", "email": "", "phone": "",
            "description": description, "sources": r["zrodla"],
        })
    return pd.DataFrame(rows)


if __name__ == "__main__":
    frame = convert(sys.argv[1])
    write_entities(frame, Settings.from_env().entities_path)
    print(f"{len(frame)} podmiotów zapisano do {Settings.from_env().entities_path}")
