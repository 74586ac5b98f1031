"""How units and entity types are named for people: one wording for the pages, the report and the maps."""
from __future__ import annotations

from geoes.common.reference import entity_types
from geoes.common.text import polish_key
from geoes.register.record import TYPES_SEPARATOR


def powiat_label(rec: dict) -> str:
    """"powiat jędrzejowski", or "Kielce (miasto na prawach powiatu)" for a city with county rights."""
    return f"{rec['name']} (miasto na prawach powiatu)" if rec.get("city_county") else f"powiat {rec['name']}"


def gmina_label(rec: dict) -> str:
    return f"gmina {rec['name']}"


def capitalised(label: str) -> str:
    return label[:1].upper() + label[1:]


def ordered_types(codes, label: str = "short_pl") -> list[str]:
    """Type codes in Polish alphabetical order of the label a list shows, the catch-all "inne" last."""
    types = entity_types()
    return sorted(codes, key=lambda c: (c == "inne", polish_key(getattr(types[c], label) if c in types else c)))


def types_label(codes) -> str:
    """The Polish names of the entity's types ("cis;wtz" → "Centrum Integracji Społecznej, …")."""
    types = entity_types()
    return ", ".join(types[c].label_pl if c in types else c for c in str(codes or "").split(TYPES_SEPARATOR) if c)
