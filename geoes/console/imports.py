"""The one adapter between the console and the register importer (geoes.register.importer).

Everything the console needs from the importer goes through here — reading an uploaded file, the
proposed column mapping and its confirmation, the preview of the merge with the register — so that a
change of the importer's API is a change of this file alone. The importer reads the file (within its
limits: size, type, unpacked size of an XLSX, rows), matches headers, normalises, infers types, validates
and merges; this module only arranges its answers for the console:

* `read_upload` reads the uploaded bytes with the importer's reader: a file over the limit, a binary file
  named .xlsx, a ZIP named .csv, an XLSX that inflates past the limit ("ZIP bomb") or a file of more
  rows than allowed is refused with the importer's Polish message naming the file.
* `propose_mapping` is the importer's proposal for the header row, shown column by column (recognised,
  combined, guessed, in conflict, unknown, left out, saved); `confirm_mapping` takes the operator's
  choices through the importer's own matching again, so a confirmed mapping obeys the same rules.
* The rows under the header are kept as the file has them (`StagedRows`); the operator's fixes are laid
  over their cells, and the importer previews them as it would a file — the importer's own way for rows
  edited in a browser. New entities without a point are then placed offline from the locality gazetteer.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd

from geoes.common.excel import OfficeFile, ReadLimits, Sheet, UnreadableFile, csv_bytes
from geoes.common.reference import entity_types
from geoes.config import Settings
from geoes.errors import InvalidInput
from geoes.register import importer, mapping as mapping_rules
from geoes.register.merge import stable_id
from geoes.console.registers import diff_registers
from geoes.register.geocode import geocode_frame
from geoes.register.record import COLUMNS
from geoes.sources import region_store
from geoes.sources.gazetteer import locality_key
from geoes.sources.territory import MissingData

GEOCODER_CLICK = "konsola: punkt wskazany na mapie"
SKIP = mapping_rules.SKIP

# Polish names of the record's columns and of the importer's other targets, as the console shows them.
FIELD_LABELS = {
    "id": "Identyfikator", "name": "Nazwa", "types": "Typ", "social_enterprise": "Przedsiębiorstwo społeczne",
    "legal_form": "Forma prawna", "operator": "Podmiot prowadzący", "street": "Ulica i numer",
    "postal_code": "Kod pocztowy", "locality": "Miejscowość", "gmina_teryt": "Gmina (TERYT)",
    "powiat_teryt": "Powiat (TERYT)", "lat": "Szerokość geograficzna", "lon": "Długość geograficzna",
    "location_precision": "Dokładność położenia", "geocoder": "Źródło współrzędnych", "krs": "KRS",
    "nip": "NIP", "regon": "REGON", "operator_krs": "KRS podmiotu prowadzącego",
    "operator_nip": "NIP podmiotu prowadzącego", "employees": "Liczba zatrudnionych", "status": "Status",
    "as_of": "Stan na", "website": "Strona internetowa", "email": "E-mail", "phone": "Telefon",
    "description": "Opis", "sources": "Źródła", "verified_at": "Zweryfikowano (data)",
    "verified_source": "Źródło weryfikacji", "verified_evidence": "Jak zweryfikowano",
    "changed_at": "Zmieniono na podstawie zgłoszenia (data)", "change_source": "Źródło zmiany",
    "operator_phone": "Telefon prowadzącego", "operator_email": "E-mail prowadzącego",
    "operator_website": "Strona www prowadzącego", "operator_address": "Adres prowadzącego",
    "internal_notes": "Uwagi wewnętrzne (nie są publikowane)", "gmina": "Gmina (nazwa)", "powiat": "Powiat (nazwa)",
    "house_number": "Numer domu", "premises": "Numer lokalu", "legal_form/types": "Forma prawna lub typ",
    "identifiers": "KRS / NIP / REGON", "address": "Adres (ulica, kod, miejscowość)",
    "contacts": "Kontakt (telefon, e-mail, www)", "field": "Pole (układ poprawek)",
    "value": "Wartość (układ poprawek)", "note": "Uwaga do wiersza (zapisywana w uwagach wewnętrznych)",
}
# The importer's ways of matching a header → the console's words for them.
STATUS = {"exact": "ok", "combined": "combined", "fuzzy": "guess", "conflict": "conflict", "unknown": "unknown",
          "ordinal": "skipped", "saved": "saved", "confirmed": "saved"}
STATUS_LABELS = {"ok": "rozpoznana", "combined": "rozpoznana (kilka pól w jednej kolumnie)", "saved": "zatwierdzona",
                 "guess": "niepewna", "conflict": "konflikt", "unknown": "nierozpoznana — pominięta",
                 "skipped": "pominięta"}


class UploadRefused(InvalidInput):
    """The uploaded file is refused before any of it is imported."""


@dataclass(frozen=True)
class Limits:
    max_bytes: int
    max_unpacked: int
    max_rows: int

    @classmethod
    def from_settings(cls, settings: Settings) -> "Limits":
        # The console's upload limit (the request body) and the importer's own, whichever is smaller.
        return cls(min(settings.max_upload_bytes, settings.import_max_bytes), settings.import_max_unpacked,
                   settings.import_max_rows)

    def read_limits(self) -> ReadLimits:
        return ReadLimits(self.max_bytes, self.max_unpacked, self.max_rows)


ACCEPTED_SUFFIXES = (".xlsx", ".xlsm", ".csv", ".txt", ".tsv")
OLD_SUFFIXES = (".xls", ".ods")      # the importer's reader explains these itself


def read_upload(path: Path, name: str, settings: Settings) -> OfficeFile:
    """The uploaded file read by the importer's reader, or UploadRefused with its message. Only the
    kinds of file a register comes as are read at all (a PDF or an image is refused by its name)."""
    suffix = Path(name).suffix.lower()
    if suffix not in ACCEPTED_SUFFIXES + OLD_SUFFIXES:
        raise UploadRefused(f"{name}: nieobsługiwany rodzaj pliku „{suffix or 'bez rozszerzenia'}” — wczytaj "
                            "rejestr jako .xlsx (Excel) albo .csv.")
    try:
        return importer.read_register(path, _context(settings, Limits.from_settings(settings)), name=name)
    except UnreadableFile as exc:
        raise UploadRefused(exc.description) from None


_CONTEXTS: dict[tuple, importer.ImportContext] = {}


def _context(settings: Settings, limits: Limits | None = None) -> importer.ImportContext:
    """The importer's context (region data, gazetteer), loaded once per process and data files."""
    if settings.uses_database:
        region_store.ensure_local_once(settings)   # an instance started with an empty data directory
    paths = (settings.localities_path, settings.gmina_points_path, settings.terc_path, settings.gminy_path)
    key = tuple((str(p), p.stat().st_mtime_ns if p.exists() else 0) for p in paths)
    if key not in _CONTEXTS:
        _CONTEXTS.clear()
        _CONTEXTS[key] = importer.ImportContext.from_settings(settings)
    base = _CONTEXTS[key]
    return importer.ImportContext(base.units, base.gazetteer, (limits or Limits.from_settings(settings)).read_limits(),
                                  settings.mappings_dir)


def territory(settings: Settings):
    """The region's units for validation (None when the region data are not fetched)."""
    return _context(settings).units


def gazetteer(settings: Settings):
    gaz = _context(settings).gazetteer
    if gaz is None:
        raise MissingData("brak danych regionu: uruchom najpierw `python -m geoes fetch`")
    return gaz


# --- mapping --------------------------------------------------------------------------------------

@dataclass
class Column:
    index: int
    header: str
    target: str          # an importer target; "" = not read
    status: str          # ok | combined | saved | guess | conflict | unknown | skipped
    note: str = ""
    samples: list[str] = field(default_factory=list)   # the first values under the header

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]


@dataclass
class MappingProposal:
    """The importer's proposal as the console shows and stores it (JSON in the console's store)."""
    columns: list[Column]
    layout: str                     # the importer's fingerprint of the header row (saved mappings)
    header_row: int = 1
    missing: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)   # Polish, one line per field in conflict
    found_header: bool = True

    @property
    def needs_confirmation(self) -> bool:
        return bool(self.missing or self.conflicts) or any(c.status in ("guess", "conflict") for c in self.columns)

    def mapping(self) -> dict[str, str]:
        """Header → target, SKIP for a column left out (what the importer takes as a confirmed mapping).
        A column nobody recognised is not named, so that the importer lists it as left out."""
        return {c.header: (c.target if c.target and c.status != "conflict" else SKIP)
                for c in self.columns if c.status != "unknown"}

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> "MappingProposal":
        return cls([Column(**c) for c in data["columns"]], data["layout"], data.get("header_row", 1),
                   data.get("missing", []), data.get("conflicts", []), data.get("found_header", True))


def mapping_targets() -> list[tuple[str, str]]:
    """(target, Polish label) the operator may choose for a column."""
    targets = (*COLUMNS, *mapping_rules.HELPERS, *mapping_rules.COMBINED, *mapping_rules.LONG)
    return [(t, FIELD_LABELS.get(t, t)) for t in targets]


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _view(proposal: mapping_rules.MappingProposal) -> MappingProposal:
    data = [cells for _, cells in proposal.data[:50]]
    columns = []
    for c in proposal.columns:
        if not c.header.strip():
            continue
        samples = [_short(r[c.index].strip()) for r in data if c.index < len(r) and r[c.index].strip()][:3]
        target = c.target if c.target != SKIP else ""
        columns.append(Column(c.index, c.header, target, STATUS.get(c.how, "unknown"), c.note, samples))
    conflicts = [f"{FIELD_LABELS.get(k.field, k.field)}: " + ", ".join(f"„{h}”" for h in k.headers)
                 for k in proposal.conflicts]
    required = set(mapping_rules.REQUIRED_COLUMNS["entities"])
    return MappingProposal(columns, proposal.fingerprint, proposal.header_row, list(proposal.missing), conflicts,
                           bool(required & {c.target for c in proposal.columns if c.used}))


def _importer_mapping(saved: dict[str, str] | None, layout: str = "") -> mapping_rules.Mapping | None:
    return mapping_rules.Mapping(dict(saved), layout, list(saved)) if saved else None


def propose(office: OfficeFile, settings: Settings, saved: dict[str, str] | None = None,
            name: str = "") -> tuple[MappingProposal, "StagedRows"]:
    """The proposal for the file's header row (a saved mapping applied), and the rows under it."""
    try:
        proposal = importer.propose(office, _context(settings), _importer_mapping(saved), name=name or None)
    except UnreadableFile as exc:
        raise UploadRefused(exc.description) from None
    rows = StagedRows(name or office.path.name, proposal.header_row, list(proposal.headers),
                      [[n, list(cells)] for n, cells in proposal.data])
    return _view(proposal), rows


def confirm_mapping(rows: "StagedRows", settings: Settings, choices: dict[int, str]) -> MappingProposal:
    """The operator's choice for each column (index → target, '' = leave out), checked by the importer's
    rules: two columns for one field or a required field without a column are refused."""
    allowed = {t for t, _ in mapping_targets()} | {""}
    columns: dict[str, str] = {}
    for j, header in enumerate(rows.headers):
        if not header.strip():
            continue
        target = choices.get(j, "")
        if target not in allowed:
            raise InvalidInput(f"nieznane pole rekordu „{target}”")
        columns[header] = target or SKIP
    proposal = importer.propose(rows.office(), _context(settings), mapping_rules.Mapping(columns), name=rows.source)
    if proposal.conflicts:
        k = proposal.conflicts[0]
        raise InvalidInput(f"pole „{FIELD_LABELS.get(k.field, k.field)}” wybrano dla kilku kolumn: "
                           + ", ".join(f"„{h}”" for h in k.headers) + " — wybierz jedną, pozostałe pomiń")
    if proposal.missing:
        raise InvalidInput("brak kolumny dla pól wymaganych: "
                           + ", ".join(FIELD_LABELS.get(m, m) for m in proposal.missing))
    return _view(proposal)


# --- the staged rows and their preview ------------------------------------------------------------

@dataclass
class StagedRows:
    """The header row and the rows under it as the file has them: what a preview is made from again."""
    source: str
    header_row: int
    headers: list[str]
    data: list[list]                 # [row number as Excel shows it, [cells]]

    def office(self, fixes: dict | None = None, mapping: dict[str, str] | None = None) -> OfficeFile:
        """The rows as a file for the importer, with the operator's fixes laid over their cells (a fixed
        field without a column of its own gets one, confirmed for that field)."""
        headers = list(self.headers)
        by_target = {t: headers.index(h) for h, t in (mapping or {}).items() if t != SKIP and h in headers}
        rows = {int(n): list(cells) for n, cells in self.data}
        for row, values in (fixes or {}).items():
            cells = rows.get(int(row))
            if cells is None:
                continue
            for target, value in values.items():
                if target not in by_target:
                    headers.append(target)
                    by_target[target] = len(headers) - 1
                j = by_target[target]
                cells.extend([""] * (j + 1 - len(cells)))
                cells[j] = str(value)
        sheet = Sheet("", [(self.header_row, headers)] + [(n, rows[n]) for n in sorted(rows)])
        return OfficeFile(Path(self.source), "csv", [sheet])

    def mapping_with(self, mapping: dict[str, str], fixes: dict | None) -> dict[str, str]:
        """The confirmed mapping plus the columns that fixes added (each named by its field)."""
        out = dict(mapping)
        for values in (fixes or {}).values():
            for target in values:
                if target not in out.values():
                    out.setdefault(target, target)
        return out

    def values(self, row: int, mapping: dict[str, str], fixes: dict | None = None) -> dict[str, str] | None:
        """Field → value of one row as the importer will read it (fixes included); None: no such row."""
        index = self.__dict__.get("_by_row")
        if index is None or len(index) != len(self.data):   # made once: a preview asks for many rows
            index = self.__dict__["_by_row"] = {int(n): c for n, c in self.data}
        cells = index.get(int(row))
        if cells is None:
            return None
        out = {}
        for h, t in mapping.items():
            if t != SKIP and h in self.headers:
                j = self.headers.index(h)
                out[t] = cells[j] if j < len(cells) else ""
        out.update((fixes or {}).get(str(int(row)), {}))
        return out

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> "StagedRows":
        return cls(**data)


@dataclass
class Preview:
    rows_read: int = 0
    added: list[dict] = field(default_factory=list)      # row, id, name, types, locality, precision
    changed: list[dict] = field(default_factory=list)    # row, id, name, diffs [[column, old, new]]
    unchanged: int = 0
    warned: list[dict] = field(default_factory=list)     # row, id, name, reasons [[column, text]], candidates
    rejected: list[dict] = field(default_factory=list)   # row, name, reasons, candidates
    ignored_columns: list[str] = field(default_factory=list)
    source: str = ""

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> "Preview":
        return cls(**data)

    def row(self, number: int) -> dict | None:
        for item in (*self.rejected, *self.warned):
            if item["row"] == number:
                return item
        return None


def preview(rows: StagedRows, mapping: dict[str, str], base: pd.DataFrame, settings: Settings,
            fixes: dict | None = None) -> tuple[pd.DataFrame, Preview, bytes]:
    """(the register as it would be after this upload, what changes, the rejects for Excel) — nothing written."""
    full = rows.mapping_with(mapping, fixes)
    context = _context(settings)
    try:
        proposal = importer.propose(rows.office(fixes, full), context, mapping_rules.Mapping(full), name=rows.source)
        result = importer.preview(proposal, base, context, accept=True)
    except UnreadableFile as exc:
        raise UploadRefused(exc.description) from None
    rows_of = {r.id: int(r.row) for r in pd.concat([result.added[["row", "id"]], result.changed[["row", "id"]]])
               .itertuples()}
    merged, placing = place_rows(result.merged, set(rows_of), settings)
    out = Preview(rows_read=result.rows_read, source=rows.source, ignored_columns=list(result.ignored_columns),
                  unchanged=len(result.unchanged))
    diff = diff_registers(base, merged)
    by_id = merged.drop_duplicates("id").set_index("id")
    records = by_id[["name", "types", "locality", "location_precision"]].to_dict("index")
    for entity_id in diff.added:
        rec = records[entity_id]
        out.added.append({"row": rows_of.get(entity_id, 0), "id": entity_id, "name": rec["name"], "types": rec["types"],
                          "locality": rec["locality"], "precision": rec["location_precision"] or "none"})
    for entity_id, diffs in diff.changed.items():
        out.changed.append({"row": rows_of.get(entity_id, 0), "id": entity_id, "name": records[entity_id]["name"],
                            "diffs": [list(d) for d in diffs]})
    out.added.sort(key=lambda r: r["row"])
    out.changed.sort(key=lambda r: r["row"])
    out.warned = _warned(result, placing, rows_of, by_id, settings)
    out.rejected = _rejected(result.rejects, rows, full, fixes, settings)
    return merged, out, csv_bytes(result.rejects) if len(result.rejects) else b""


def _warned(result, placing: list, rows_of: dict, by_id: pd.DataFrame, settings: Settings) -> list[dict]:
    """The importer's warnings and corrections left for review, and the placement's, one item per row."""
    items: dict[int, dict] = {}

    def item(row: int, entity_id: str, name: str) -> dict:
        return items.setdefault(row, {"row": row, "id": entity_id, "name": name, "reasons": [], "candidates": []})

    for w in result.warnings.itertuples():
        text = w.reason + (f" („{w.value}”)" if w.value and w.value not in w.reason else "")
        item(int(w.row), w.id, w.name)["reasons"].append([w.column, text])
    for r in result.review.itertuples():
        item(int(r.row), r.id, r.name)["reasons"].append(
            [r.column, f"do przeglądu, nie zastosowano: „{r.current}” → „{r.proposed}” — {r.reason}"])
    for entity_id, reasons, candidates in placing:
        row = rows_of.get(entity_id, 0)
        name = by_id.at[entity_id, "name"] if entity_id in by_id.index else ""
        it = item(row, entity_id, name)
        it["reasons"] += reasons
        it["candidates"] = candidates
    return [items[k] for k in sorted(items)]


def _rejected(rejects: pd.DataFrame, rows: StagedRows, mapping: dict[str, str], fixes: dict | None,
              settings: Settings) -> list[dict]:
    out = []
    for r in rejects.itertuples():
        values = rows.values(int(r.row), mapping, fixes) or {}
        columns, reasons = str(r.column).split("; "), str(r.reason).split("; ")
        pairs = [[c, t] for c, t in zip(columns, reasons)] if len(columns) == len(reasons) else [[r.column, r.reason]]
        candidates = []
        if any("miejscowo" in t or "gmin" in t for _c, t in pairs) and values.get("locality"):
            candidates = homonyms(gazetteer(settings), values["locality"])
        out.append({"row": int(r.row), "name": values.get("name", ""), "reasons": pairs, "candidates": candidates})
    return out


def editable_fields(item: dict, mapping: dict[str, str]) -> list[str]:
    """The fields the operator may correct in one row: those the file has, the name and the type, those
    named in a reason; the point is set on the map."""
    fields = [t for t in mapping.values() if t != SKIP]
    for c in ("name", "types", *(r[0] for r in item.get("reasons", []))):
        if c in COLUMNS and c not in fields:
            fields.append(c)
    return [c for c in dict.fromkeys(fields) if c not in ("lat", "lon", "location_precision", "geocoder", "row")]


# --- placing new entities -------------------------------------------------------------------------

def place_rows(merged: pd.DataFrame, ids: set[str], settings: Settings) -> tuple[pd.DataFrame, list]:
    """Place the entities `ids` that have no point, offline from the gazetteer; warnings (id, reasons,
    homonyms to choose from) for those left unplaced or placed only at gmina level."""
    todo = merged.index[merged["id"].isin(ids) & merged["lat"].eq("")]
    warnings = []
    if not len(todo):
        return merged, warnings
    gaz = gazetteer(settings)
    report = geocode_frame(merged.loc[todo], settings, providers=["gazetteer"], offline=True, gazetteer=gaz,
                           progress=False, check_areas=False)
    merged = merged.copy()
    for col in ("lat", "lon", "location_precision", "geocoder"):
        merged.loc[todo, col] = report.frame[col].to_numpy()
    for r in report.unplaced.itertuples():
        rec = merged.loc[merged["id"] == r.id].iloc[0]
        warnings.append((r.id, [["lat", "nie umieszczono na mapie: " + r.reason]],
                         homonyms(gaz, rec["locality"], rec["powiat_teryt"] or rec["gmina_teryt"][:4])))
    for r in report.notes.itertuples():
        warnings.append((r.id, [["location_precision", r.note]], []))
    return merged, warnings


def homonyms(gaz, locality: str, powiat: str = "") -> list[dict]:
    """Localities of the gazetteer with this name (in this powiat when given): gmina, label, point."""
    if not str(locality or "").strip():
        return []
    key = locality_key(pd.Series([locality])).iloc[0]
    hits = gaz.localities[gaz.localities["key"] == key]
    if powiat and (hits["powiat_teryt"] == powiat).any():
        hits = hits[hits["powiat_teryt"] == powiat]
    names = dict(zip(gaz.gminy["teryt"], gaz.gminy["name"]))
    powiaty = dict(zip(gaz.powiaty["teryt"], gaz.powiaty["name"]))
    return [{"gmina_teryt": h.gmina_teryt, "lat": float(h.lat), "lon": float(h.lon),
             "label": f"{h.name} ({h.kind}), gm. {names.get(h.gmina_teryt, '?')}, "
                      f"pow. {powiaty.get(h.gmina_teryt[:4], '?')} — {h.gmina_teryt}"}
            for h in hits.sort_values(["gmina_teryt", "name"]).itertuples()][:30]


def type_choices() -> list[tuple[str, str]]:
    return [(code, t.label_pl) for code, t in entity_types().items()]


def new_entity_id(name: str, locality: str) -> str:
    """The id the importer gives a row without one (the same name and locality, the same id)."""
    return stable_id(name, locality)
