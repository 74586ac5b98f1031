"""Provenance script: the contacts file as corrections for the importer, each value in the field it belongs to.

    python scripts/contacts_corrections.py ../shared/data/entities/pes_swietokrzyskie_kontakty.csv \
        /tmp/pes_swietokrzyskie_kontakty.poprawki.csv
    python -m geoes import --corrections /tmp/pes_swietokrzyskie_kontakty.poprawki.csv \
        --mapping scripts/mappings/pes_swietokrzyskie_uzupelnienie_istniejacych.csv --reports data/import

`pes_swietokrzyskie_kontakty.csv` is in the importer's field/value layout already; what it cannot say in
its `pole` column is whose a value is. The compiler wrote that in `uwagi` (SOURCES.md: "operator-owned
values marked in `uwagi`"): a phone, e-mail or website of the organisation that runs the unit begins its
remark with "telefon prowadzącego", "strona prowadzącego", "e-mail sekretariatu prowadzącego"; the address
of a DPS that runs a workshop says "adres DPS (prowadzącego)", "kod adresu DPS (prowadzącego)". This
script reads exactly that mark and names the operator's field in `pole` ("telefon prowadzącego",
"strona www prowadzącego", "e-mail prowadzącego", "adres prowadzącego" — the importer's header aliases),
so the value is shown as "kontakt przez prowadzącego", never as the unit's own. The two parts of one
operator address (street and postal code, same source) become one value. Nothing is added or changed
otherwise; a remark that only mentions the operator ("podstrona WTZ w serwisie prowadzącego", "kod podany
przy adresie … (prowadzącego); ten sam adres co WTZ") is not such a mark, and the importer sends that value
to review rather than guess. Whether a value is applied is the importer's rule (a phone only after a
check, a remark asking for a check → review, the operator's fields only where the register names the
operator); see scripts/mappings/README.md.
"""
from __future__ import annotations

import csv
import re
import sys
from pathlib import Path

# The compiler's mark of a value that is the operator's (the beginning of `uwagi`).
OPERATOR_MARK = re.compile(r"^(?:(?:strona|telefon|e-mail)(?: sekretariatu)? prowadzącego\b"
                           r"|(?:adres|kod adresu) \S+ \(prowadzącego\))")
# The contacts file's field → the operator's field as the importer's header aliases name it.
OPERATOR_FIELD = {"telefon": "telefon prowadzącego", "email": "e-mail prowadzącego",
                  "strona_www": "strona www prowadzącego", "ulica_nr": "adres prowadzącego",
                  "kod_pocztowy": "adres prowadzącego"}


def is_operators(row: dict) -> bool:
    return bool(OPERATOR_MARK.match(row["uwagi"].strip())) and row["pole"] in OPERATOR_FIELD


def corrections(rows: list[dict]) -> list[dict]:
    out: list[dict] = []
    addresses: dict[tuple[str, str], dict] = {}
    for row in rows:
        if not is_operators(row):
            out.append(dict(row))
            continue
        field = OPERATOR_FIELD[row["pole"]]
        if field != "adres prowadzącego":
            out.append({**row, "pole": field})
            continue
        key = (row["existing_id"], row["source_url"])      # one address: its parts from one source
        if key in addresses:
            first = addresses[key]
            first["wartosc"] = f"{first['wartosc']}, {row['wartosc']}"
            first["uwagi"] = "; ".join(dict.fromkeys([first["uwagi"], row["uwagi"]]))
        else:
            addresses[key] = {**row, "pole": field}
            out.append(addresses[key])
    return out


def main(source: str, target: str) -> None:
    with open(source, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        header, rows = reader.fieldnames, list(reader)
    out = corrections(rows)
    with open(target, "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.DictWriter(fh, header)
        writer.writeheader()
        writer.writerows(out)
    routed = sorted({r["existing_id"] for r in rows if is_operators(r)})
    print(f"{len(out)} poprawek z {len(rows)} wierszy → {Path(target)}; kontakty prowadzącego: {', '.join(routed)}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
