"""The register file as the console reads and compares it: its bytes and their hash (a preview is bound to
the register it was made against), the frame in the record's columns, and the difference of two registers
by entity id. Shared by the staged changes, the importer adapter and publish."""
from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field

import pandas as pd

from geoes.config import Settings
from geoes.register import stored
from geoes.register.record import COLUMNS, read_table


@dataclass
class Diff:
    added: list[str] = field(default_factory=list)
    changed: dict[str, list[tuple[str, str, str]]] = field(default_factory=dict)
    removed: list[str] = field(default_factory=list)



def register_bytes(settings: Settings) -> bytes:
    """The register's bytes: data/entities.csv, or the stored register with GEOES_DATABASE_URL."""
    return stored.read_bytes(settings)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def register_sha(settings: Settings) -> str:
    return stored.sha(settings)


def frame_from_csv(data: bytes) -> pd.DataFrame:
    if not data.strip():
        return pd.DataFrame({c: pd.Series(dtype=object) for c in COLUMNS})
    frame = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, encoding="utf-8-sig")
    return frame.reindex(columns=COLUMNS).fillna("").astype(str)


def frame_to_csv(frame: pd.DataFrame) -> bytes:
    """The record file's bytes, exactly as geoes.register.record.write_entities writes them."""
    return frame.reindex(columns=COLUMNS).fillna("").to_csv(index=False, lineterminator="\n").encode("utf-8")


def file_bytes(path) -> bytes:
    """A record file (CSV or XLSX, any encoding Excel writes) as the register's bytes."""
    return frame_to_csv(read_table(path).drop(columns=["row"]))


def read_register(settings: Settings) -> pd.DataFrame:
    return frame_from_csv(register_bytes(settings))


def diff_registers(base: pd.DataFrame, new: pd.DataFrame) -> Diff:
    """Entities added, changed (column, old, new) and removed between two registers, by id."""
    cols = [c for c in COLUMNS if c != "id"]
    b = base.reindex(columns=COLUMNS).fillna("").astype(str).drop_duplicates("id").set_index("id")[cols]
    n = new.reindex(columns=COLUMNS).fillna("").astype(str).drop_duplicates("id").set_index("id")[cols]
    out = Diff(added=[i for i in n.index if i not in b.index], removed=[i for i in b.index if i not in n.index])
    common = n.index[n.index.isin(b.index)]
    if len(common):
        old, cur = b.loc[common], n.loc[common]
        differs = old.ne(cur)
        for entity_id in common[differs.any(axis=1).to_numpy()]:
            mask = differs.loc[entity_id]
            out.changed[entity_id] = [(c, old.at[entity_id, c], cur.at[entity_id, c]) for c in cols if mask[c]]
    return out
