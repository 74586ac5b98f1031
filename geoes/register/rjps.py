"""The ministry's list of social enterprises (wykaz przedsiębiorstw społecznych, RJPS) against the register.

The voivode grants the status of a social enterprise (przedsiębiorstwo społeczne) by decision, and the
ministry publishes the list in its register of social-policy units (RJPS, rjps.mrips.gov.pl), also as a
spreadsheet. Its exact column layout could not be confirmed from a stored copy, so the columns are read
through a mapping file (`geoes/reference/rjps_columns.csv`: the sheet's header → a column, in the
importer's mapping-file shape) built from what the list is documented to hold: the enterprise's name and
seat (address, gmina, powiat, voivodeship), its KRS number, NIP and REGON, and the decision granting the
status (number, date) or the date it was lost. An operator whose sheet spells a header differently adds
a line to a copy of that file and passes it with `--mapping`.

Nothing is written to the register; every finding is a proposal (geoes.register.proposals):

* a row whose KRS number or NIP is in the register → `social_enterprise` = true (or false when the row
  says the status was lost), the identifier the register lacks, or a `confirm` when all agrees;
* a row in the region (by its voivodeship, else its gmina/powiat resolved by the gazetteer) that matches
  no entity → a `new_entity` proposal, with duplicate warnings (a similar name in the same gmina);
* rows of other voivodeships are counted and left alone.
"""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from geoes.common.reference import REFERENCE_DIR, krs_legal_forms, voivodeships
from geoes.config import Settings
from geoes.register import proposals as store
from geoes.register.duplicates import DuplicateIndex
from geoes.register.identifiers import digits_only, krs_normalise, krs_valid, nip_valid
from geoes.common.text import ascii_key
from geoes.common.excel import ReadLimits, decode_text, read_office_file, sniff_delimiter
from geoes.register.normalise import known_type_codes, postal_code
from geoes.register.proposals import Proposal
from geoes.register.record import COLUMNS, UnreadableFile, read_table
from geoes.register.validate import validate_frame
from geoes.sources.gazetteer import Gazetteer
from geoes.sources.territory import MissingData, load_territory

SOURCE = "RJPS"
DEFAULT_MAPPING = REFERENCE_DIR / "rjps_columns.csv"
DEFAULT_SOURCE_URL = "https://rjps.mrips.gov.pl/RJPS/WJ/start.do?wersja=1"
TARGETS = ("name", "krs", "nip", "regon", "legal_form", "street", "house_number", "premises", "postal_code",
           "locality", "gmina", "powiat", "voivodeship", "status_date", "status_decision", "status_end")
HEADER_ROWS = 15


def _key(header: str) -> str:
    return ascii_key(re.sub(r"\s+", " ", str(header).replace("\ufeff", "")).strip().strip(":*").strip())


def read_mapping(path: Path | str = DEFAULT_MAPPING) -> dict[str, str]:
    """header (compared without case and diacritics) → target column; '' or '-' skips a column."""
    path = Path(path)
    try:
        text, _ = decode_text(path.read_bytes(), str(path))
    except OSError as exc:
        raise UnreadableFile(f"{path}: nie można otworzyć pliku mapowania ({exc.strerror})") from None
    mapping: dict[str, str] = {}
    for n, row in enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text)), start=1):
        if len(row) < 2 or (n == 1 and row[1].strip().lower() == "column"):
            continue
        target = row[1].strip().lower()
        if target not in TARGETS and target not in ("", "-"):
            raise UnreadableFile(f"{path}, wiersz {n}: nieznana kolumna „{row[1].strip()}” "
                                 f"(dozwolone: {', '.join(TARGETS)})")
        mapping[_key(row[0])] = "" if target == "-" else target
    if not mapping:
        raise UnreadableFile(f"{path}: plik mapowania jest pusty")
    return mapping


def _sheet_rows(path: Path) -> list[tuple[int, list[str]]]:
    """The first sheet's rows, through the one reader of office files (refusals, limits, encodings)."""
    return read_office_file(path, ReadLimits(max_rows=None)).sheets[0].rows


def read_list(path: Path | str, mapping: dict[str, str] | None = None) -> pd.DataFrame:
    """The list as a frame of strings: `row` (as Excel numbers it) + the mapped columns."""
    path = Path(path)
    mapping = mapping if mapping is not None else read_mapping()
    rows = _sheet_rows(path)
    for pos, (_, values) in enumerate(rows[:HEADER_ROWS]):
        targets = [mapping.get(_key(v)) or None for v in values]
        if "name" in targets and ({"krs", "nip"} & set(targets)):
            break
    else:
        raise UnreadableFile(f"{path}: nie rozpoznano nagłówka wykazu (potrzebne kolumny nazwy oraz KRS lub NIP); "
                             "dla innego układu podaj plik mapowania: --mapping MAPOWANIE.csv")
    used = {}
    for j, t in enumerate(targets):
        if t and t not in used:
            used[t] = j
    records, numbers = [], []
    for line, values in rows[pos + 1:]:
        if not any(v.strip() for v in values):
            continue
        records.append({t: (values[j].strip() if j < len(values) else "") for t, j in used.items()})
        numbers.append(line)
    frame = pd.DataFrame(records, columns=list(used), dtype=object).fillna("")
    for col in TARGETS:
        if col not in frame:
            frame[col] = ""
    frame.insert(0, "row", numbers)
    frame["krs"] = frame["krs"].map(lambda v: krs_normalise(v) if v else "")
    frame["nip"] = frame["nip"].map(lambda v: digits_only(v) if v else "")
    frame["regon"] = frame["regon"].map(lambda v: digits_only(v) if v else "")
    return frame


# --------------------------------------------------------------------------------------------------
# Comparing with the register


@dataclass
class RjpsResult:
    proposals: list[Proposal]
    rows: int = 0
    in_region: int = 0
    matched: int = 0
    new: int = 0
    outside: int = 0
    unplaced: int = 0
    problems: list[str] = field(default_factory=list)     # "wiersz N, kolumna C: reason"

    @property
    def changes(self) -> list[Proposal]:
        return [p for p in self.proposals if p.is_change]


def _street(row: dict) -> str:
    number = row["house_number"] + (f"/{row['premises']}" if row["house_number"] and row["premises"] else "")
    return " ".join(x for x in (row["street"], number) if x)


def _type(row: dict) -> str:
    form = row["legal_form"].upper()
    by_form = krs_legal_forms().get(form, ("", ""))[1]
    from_name = "spoldzielnia_socjalna" if "spoldzielnia socjalna" in ascii_key(row["name"]) else ""
    return known_type_codes(row["legal_form"]) or from_name or by_form or "inne"


class _Region:
    def __init__(self, settings: Settings, gazetteer):
        self.name = voivodeships().get(settings.region, settings.region)
        self.gazetteer = gazetteer

    def locate(self, row: dict) -> tuple[str, str]:
        """('in' | 'out' | '', gmina TERYT) for a row of the list."""
        woj = ascii_key(re.sub(r"(?i)^\s*woj(?:ewództwo|\.)?\s*", "", row["voivodeship"]))
        gmina = ""
        if self.gazetteer is not None and (row["gmina"] or row["powiat"]):
            powiat = self.gazetteer.resolve_powiat(row["powiat"])[0] if row["powiat"] else ""
            gmina = self.gazetteer.resolve_gmina(row["gmina"], powiat)[0] if row["gmina"] else ""
            gmina = gmina or ""
            if not woj and (gmina or powiat):
                return "in", gmina
        if woj:
            return ("in" if woj == ascii_key(self.name) else "out"), gmina
        return "", gmina


def _proposal(kind: str, row: dict, subject: dict, url: str, **kw) -> Proposal:
    """`subject`: the register's entity (change, confirm) or {} for a new entity."""
    return Proposal(kind=kind, source=SOURCE, entity_id=subject.get("id", ""),
                    entity_name=subject.get("name", "") or row["name"],
                    source_url=url, source_date=row["status_date"] if _iso(row["status_date"]) else "", **kw)


def _iso(value: str) -> bool:
    try:
        dt.date.fromisoformat(value)
        return True
    except ValueError:
        return False


def _matched(row: dict, entity: dict, url: str) -> list[Proposal]:
    out = []
    wanted = "false" if row["status_end"] else "true"
    if entity.get("social_enterprise") != wanted:
        note = (f"w wykazie RJPS: status utracony {row['status_end']}" if row["status_end"] else
                "w wykazie przedsiębiorstw społecznych (RJPS)"
                + (f", decyzja {row['status_decision']}" if row["status_decision"] else "")
                + (f" z {row['status_date']}" if row["status_date"] else ""))
        out.append(_proposal("change", row, entity, url, field="social_enterprise",
                             register_value=entity.get("social_enterprise", ""), official_value=wanted,
                             official_text=row["status_end"] or row["status_decision"] or "tak", note=note))
    for col, valid in (("krs", krs_valid), ("nip", nip_valid)):
        if row[col] and valid(row[col]) and not entity.get(col):
            out.append(_proposal("change", row, entity, url, field=col, register_value="", official_value=row[col],
                                 official_text=row[col], note=f"{store.FIELD_LABELS[col]} z wykazu RJPS"))
    return out or [_proposal("confirm", row, entity, url, note="zgodne z wykazem przedsiębiorstw społecznych")]


def _new_entity(row: dict, gmina: str, settings: Settings, url: str) -> tuple[dict, list[str]]:
    key = row["krs"] or row["nip"] or hashlib.sha1(ascii_key(row["name"]).encode()).hexdigest()[:10]
    entity = {c: "" for c in COLUMNS}
    entity.update({
        "id": f"ps-{key}", "name": re.sub(r"\s+", " ", row["name"]), "types": _type(row),
        "social_enterprise": "true", "legal_form": row["legal_form"].lower(), "street": _street(row),
        "postal_code": postal_code(row["postal_code"]), "locality": row["locality"], "gmina_teryt": gmina,
        "krs": row["krs"], "nip": row["nip"], "regon": row["regon"], "status": "unknown",
        "as_of": row["status_date"], "location_precision": "none", "sources": url,
    })
    return _clean(entity, settings, row["row"])


def _clean(entity: dict, settings: Settings, line: int) -> tuple[dict, list[str]]:
    """A bad optional value costs that value, never the entity: drop what validation refuses."""
    dropped: list[str] = []
    for _ in range(3):
        frame = pd.DataFrame([{"row": line, **entity}], dtype=object)
        checked = validate_frame(frame, units=_territory(settings))
        for w in checked.warnings.itertuples():   # values validation dropped
            dropped.append(f"wiersz {line}, kolumna {w.column}: {w.reason} — pominięto wartość „{w.value}”")
            entity[w.column] = ""
        if checked.rejects.empty:
            return entity, dropped
        for r in checked.rejects.itertuples():
            if r.column in ("id", "name", "types"):
                raise ValueError(f"wiersz {line}, kolumna {r.column}: {r.reason}")
            dropped.append(f"wiersz {line}, kolumna {r.column}: {r.reason} — pominięto wartość „{entity[r.column]}”")
            entity[r.column] = ""
    return entity, dropped


def _territory(settings: Settings):
    """The region's units for validation; None when not fetched (the region checks are then left out)."""
    try:
        return load_territory(settings)
    except MissingData:
        return None


def compare(frame: pd.DataFrame, register: pd.DataFrame, settings: Settings, url: str,
            gazetteer=None) -> RjpsResult:
    result = RjpsResult([], rows=len(frame))
    by_krs = {r["krs"]: r for r in register.to_dict("records") if r["krs"]}
    by_nip = {digits_only(r["nip"]): r for r in register.to_dict("records") if r["nip"]}
    index = DuplicateIndex(register)
    region = _Region(settings, gazetteer)
    for row in frame.to_dict("records"):
        entity = by_krs.get(row["krs"]) if row["krs"] else None
        entity = entity or (by_nip.get(row["nip"]) if row["nip"] else None)
        if entity is not None:
            result.matched += 1
            result.proposals.extend(_matched(row, entity, url))
            continue
        where, gmina = region.locate(row)
        result.outside += where == "out"
        result.unplaced += where == ""
        if where != "in" or row["status_end"]:
            continue
        result.in_region += 1
        try:
            new, dropped = _new_entity(row, gmina, settings, url)
        except ValueError as exc:
            result.problems.append(str(exc))
            continue
        result.problems.extend(dropped)
        result.new += 1
        p = _proposal("new_entity", row, {}, url, entity=new,
                      note="w wykazie przedsiębiorstw społecznych (RJPS), brak w rejestrze"
                           + (f"; decyzja {row['status_decision']}" if row["status_decision"] else ""))
        p.warnings = index.warnings(new)
        result.proposals.append(p)
    result.in_region += result.matched  # matched rows are the register's, hence the region's
    return result


def _load_gazetteer(settings: Settings):
    try:
        return Gazetteer.load(settings)
    except Exception:  # noqa: BLE001 — data not fetched: the voivodeship column alone decides
        return None


def run(settings: Settings, path: Path | str, *, mapping_path: Path | str | None = None,
        source_url: str | None = None, proposals_path: Path | str | None = None, gazetteer="auto") -> RjpsResult:
    """Read the list, compare it with the register and record the proposals in the review file."""
    frame = read_list(path, read_mapping(mapping_path or DEFAULT_MAPPING))
    register = read_table(settings.entities_path).drop(columns=["row"]).reindex(columns=COLUMNS).fillna("")
    register["krs"] = register["krs"].map(lambda v: krs_normalise(v) if v else "")
    result = compare(frame, register, settings, source_url or DEFAULT_SOURCE_URL,
                     _load_gazetteer(settings) if gazetteer == "auto" else gazetteer)
    store.record(settings, result.proposals, SOURCE, set(register["id"]), new_entities=True, path=proposals_path)
    return result
