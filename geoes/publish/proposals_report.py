"""A report of proposed register changes for people (`verify --report`, `rjps --report`), in Polish.

The format follows the file name: `.csv` — for Excel in Poland (semicolons, UTF-8 with BOM, cells that
could run as formulas neutralised); `.md` — Markdown; `.html`/`.htm` — a standalone page, every value
escaped (entity names and official texts come from outside). Written atomically.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from geoes.common.atomic import atomic_write_bytes, atomic_write_text
from geoes.common.excel import BOM, neutralise_frame
from geoes.common.polish import count, today_in_poland
from geoes.errors import InvalidInput
from geoes.publish.escape import text as esc
from geoes.register.proposals import FIELD_LABELS, KIND_LABELS, STATE_LABELS, Proposal

HEADERS = {
    "id": "Propozycja", "kind": "Rodzaj", "entity_id": "Podmiot (id)", "entity_name": "Nazwa w rejestrze",
    "field": "Pole", "register_value": "W rejestrze", "official_value": "Proponowana wartość",
    "official_text": "Zapis w źródle urzędowym", "source": "Źródło", "source_date": "Stan na dzień",
    "source_url": "Adres źródła", "note": "Uwagi", "warnings": "Ostrzeżenia (duplikaty)", "state": "Stan",
}
FORMATS = {".csv": "csv", ".md": "md", ".markdown": "md", ".html": "html", ".htm": "html"}


def report_frame(proposals: list[Proposal]) -> pd.DataFrame:
    rows = []
    for p in proposals:
        official = p.official_value
        if p.kind == "new_entity" and p.entity:
            e = p.entity
            official = ", ".join(x for x in (e.get("name"), e.get("street"), e.get("postal_code"), e.get("locality"),
                                             f"KRS {e['krs']}" if e.get("krs") else "",
                                             f"NIP {e['nip']}" if e.get("nip") else "") if x)
        rows.append({
            "id": p.id, "kind": KIND_LABELS[p.kind], "entity_id": p.entity_id, "entity_name": p.entity_name,
            "field": FIELD_LABELS.get(p.field, p.field), "register_value": p.register_value,
            "official_value": official, "official_text": p.official_text, "source": p.source,
            "source_date": p.source_date, "source_url": p.source_url, "note": p.note,
            "warnings": " | ".join(w["text"] for w in p.warnings), "state": STATE_LABELS[p.state],
        })
    return pd.DataFrame(rows, columns=list(HEADERS)).rename(columns=HEADERS)


def write_report(proposals: list[Proposal], path: Path | str, title: str) -> Path:
    path = Path(path)
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InvalidInput(f"{path}: raport zapisuje się jako .csv, .md albo .html")
    frame = report_frame(proposals)
    if fmt == "csv":
        # Semicolons: Excel with Polish regional settings splits columns on ";", not ",".
        data = neutralise_frame(frame).to_csv(index=False, sep=";", lineterminator="\r\n")
        atomic_write_bytes(path, (BOM + data).encode("utf-8"))
    elif fmt == "md":
        atomic_write_text(path, _markdown(frame, title, len(proposals)))
    else:
        atomic_write_text(path, _html(frame, title, len(proposals)))
    return path


def _summary(n: int) -> str:
    return f"{count(n, 'propozycja')}; sporządzono {today_in_poland().isoformat()}. Rejestr nie został zmieniony — " \
           "każdą propozycję przyjmuje albo odrzuca operator."


def _md_cell(value) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def _markdown(frame: pd.DataFrame, title: str, n: int) -> str:
    lines = [f"# {title}", "", _summary(n), ""]
    if not len(frame):
        return "\n".join(lines + ["Brak propozycji.", ""])
    lines.append("| " + " | ".join(frame.columns) + " |")
    lines.append("|" + "---|" * len(frame.columns))
    for row in frame.itertuples(index=False):
        lines.append("| " + " | ".join(_md_cell(v) for v in row) + " |")
    return "\n".join(lines) + "\n"


def _html(frame: pd.DataFrame, title: str, n: int) -> str:
    head = "".join(f"<th scope=\"col\">{esc(c)}</th>" for c in frame.columns)
    body = "".join("<tr>" + "".join(f"<td>{esc(v)}</td>" for v in row) + "</tr>"
                   for row in frame.itertuples(index=False))
    table = (f"<table><caption>{esc(title)}</caption><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
             if len(frame) else "<p>Brak propozycji.</p>")
    return ("<!DOCTYPE html>\n<html lang=\"pl\"><head><meta charset=\"utf-8\">"
            f"<title>{esc(title)}</title><style>body{{font-family:sans-serif;margin:1rem}}"
            "table{border-collapse:collapse}th,td{border:1px solid #888;padding:.25rem .5rem;"
            "vertical-align:top;text-align:left}</style></head>"
            f"<body><h1>{esc(title)}</h1><p>{esc(_summary(n))}</p>{table}</body></html>\n")
