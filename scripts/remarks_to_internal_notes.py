"""Provenance script: the compiler's remarks of the first supplement, moved from the public description to the
internal notes (once, 2026-12; issue 20).

    python scripts/remarks_to_internal_notes.py ../shared/data/entities/pes_swietokrzyskie_uzupelnienie.csv

The first supplement was imported with its `uwagi` column joined to `description` (then the mapping's
choice, scripts/mappings/pes_swietokrzyskie_uzupelnienie.csv). Those are the compiler's research notes
("powiat wnioskowany z…", "mianownik nazwy miejscowości odtworzony", "nazwa miejscowości niejednoznaczna w
gazetteerze: …"), not facts about the entity, and they were shown on the public pages. The importer now maps
remark columns to `internal_notes` (kept in the register and the console, never published); this script
gives the entities imported before that the same form. For each row of the supplement with remarks, it
takes out of the entity's description exactly the parts that came from `uwagi` (the importer joined the
two columns part by part with "; ") — a part that is also one of the row's `fakty` stays — and keeps them
in `internal_notes`. Nothing else changes; nothing is added that the file does not say.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from geoes.config import Settings  # noqa: E402
from geoes.register.record import COLUMNS, read_table, write_entities  # noqa: E402

SEP = ";"


def parts(text: str) -> list[str]:
    return [p.strip() for p in str(text or "").split(SEP) if p.strip()]


def move(record: pd.DataFrame, supplement: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """The record with the supplement's remarks moved to `internal_notes`; the ids changed."""
    out = record.copy()
    position = {v: i for i, v in out["id"].items()}
    changed = []
    for _, row in supplement.iterrows():
        remarks, facts = parts(row["uwagi"]), set(parts(row["fakty"]))
        i = position.get(row["id"])
        if not remarks or i is None:
            continue
        moved = [p for p in parts(out.at[i, "description"]) if p in remarks and p not in facts]
        if not moved:
            continue
        out.at[i, "description"] = "; ".join(p for p in parts(out.at[i, "description"]) if p not in moved)
        notes = parts(out.at[i, "internal_notes"])
        out.at[i, "internal_notes"] = "; ".join(dict.fromkeys(notes + moved))
        changed.append(row["id"])
    return out, changed


def main(source: str) -> None:
    settings = Settings.from_env()
    supplement = pd.read_csv(source, dtype=str, keep_default_na=False)
    record = read_table(settings.entities_path).drop(columns="row").reindex(columns=COLUMNS, fill_value="")
    out, changed = move(record, supplement)
    write_entities(out, settings.entities_path)
    print(f"Uwagi kompilatora przeniesione z opisu do uwag wewnętrznych: {len(changed)} podmiotów "
          f"({', '.join(changed)})")


if __name__ == "__main__":
    main(sys.argv[1])
