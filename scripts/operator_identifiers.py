"""Provenance script: the identifiers of entities and of their operators, as corrections for the importer.

    python scripts/operator_identifiers.py ../shared/data/entities/identyfikatory_prowadzacych.csv \
        /tmp/identyfikatory_prowadzacych.poprawki.csv
    python -m geoes import --corrections /tmp/identyfikatory_prowadzacych.poprawki.csv \
        --mapping scripts/mappings/pes_swietokrzyskie_uzupelnienie_istniejacych.csv --reports data/import

`identyfikatory_prowadzacych.csv` names the row a number belongs to in its `role` column (`entity`, or
`operator_of:<id>` for the organisation that runs a unit with no legal personality of its own: a WTZ, ZAZ or
CIS). The importer's field/value layout names the row in a column of its own, so this script only moves
each number to that layout — `existing_id`, `pole`, `wartosc`, `source_url`, `source_quote`, `uwagi` — and
adds nothing: a row without a number gives no line. Whether a number is applied is the importer's rule
(an operator's number only where the register names the operator; anything else goes to review), and
whether KRS knows it is `python -m geoes verify`'s.
"""
from __future__ import annotations

import csv
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from geoes.register.identifiers import checks_in_words  # noqa: E402

# The identifiers file's column → the field (as the importer's header aliases name it), per role.
FIELDS = {
    "entity": {"krs": "krs", "nip": "nip", "regon": "regon"},
    "operator": {"krs": "krs_prowadzacego", "nip": "nip_prowadzacego"},
}
OUT_HEADER = ["existing_id", "nazwa_w_istniejacym_pliku", "pole", "wartosc", "stan_wg_zrodla", "source_url",
              "source_quote", "uwagi"]


def corrections(rows: list[dict]) -> list[dict]:
    out = []
    for row in rows:
        role = row["role"].strip()
        if role == "entity":
            target, fields = row["entity_id"].strip(), FIELDS["entity"]
        elif role.startswith("operator_of:"):
            target, fields = role.split(":", 1)[1].strip(), FIELDS["operator"]
        else:
            continue
        for column, field in fields.items():
            value = row[column].strip()
            if not target or not value:
                continue
            out.append({"existing_id": target, "nazwa_w_istniejacym_pliku": "", "pole": field, "wartosc": value,
                        "stan_wg_zrodla": "", "source_url": row["source_url"], "source_quote": row["source_quote"],
                        # The source's checksum notes ("krs:ok(10 digits)") in the words an operator reads.
                        "uwagi": f"{row['organisation_as_in_source']}; {checks_in_words(row['checksum_ok'])}"})
    return out


def main(source: str, target: str) -> None:
    with open(source, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    out = corrections(rows)
    with open(target, "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.DictWriter(fh, OUT_HEADER)
        writer.writeheader()
        writer.writerows(out)
    print(f"{len(out)} corrections from {len(rows)} rows → {Path(target)}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
