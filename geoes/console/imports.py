"""The one adapter between the console and the register importer (geoes.register.importer).

Everything the console needs from the importer goes through here — checking an uploaded file, the
proposed header mapping, reading the rows, the merge with the register and its preview — so that a
change of the importer's API is a change of this file alone. The importer does the header matching,
normalisation and validation; this module only arranges its answers for the console:

* `check_upload` refuses, before anything is parsed, a file over the size limit, a file that is not
  what its name says (a binary file named .xlsx, a ZIP named .csv), an XLSX whose parts inflate past
  `max_unpacked_bytes` (a "ZIP bomb": the declared sizes are checked first, then every part is inflated
  as a stream with a running count, never held whole; zipfile stops at a part's declared size and checks
  its CRC, so an archive that understates its sizes is refused as damaged) and a file with more rows
  than `max_upload_rows`.
* `propose_mapping` shows how each column of the header row would be read: recognised, guessed (only
  after dropping a parenthesis), in conflict (two columns for one field), unknown, or from a saved
  mapping; the operator confirms it when anything is uncertain or a required field has no column.
* `preview` merges the rows (with the operator's fixes) into the register by the importer's rules,
  places new rows offline from the locality gazetteer, and lists rows added, changed field by field,
  unchanged, warned and rejected, with the importer's Polish reasons.
"""
from __future__ import annotations

import hashlib
import io
import zipfile
import zlib
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd

from geoes.common.excel import csv_bytes
from geoes.common.reference import entity_types
from geoes.config import Settings
from geoes.errors import InvalidInput
from geoes.register import importer, normalise
from geoes.register.record import COLUMNS, HEADER_ALIASES, UnreadableFile, decode_bytes

XLSX_SUFFIXES = (".xlsx", ".xlsm")
CSV_SUFFIXES = (".csv", ".txt")
REQUIRED_FIELDS = ("name", "types")
HELPER_FIELDS = importer.HELPER_COLUMNS
GEOCODER_CLICK = "konsola: punkt wskazany na mapie"

# Polish names of the record's columns and of the importer's helper columns, as the console shows them.
FIELD_LABELS = {
    "id": "Identyfikator", "name": "Nazwa", "types": "Typ", "social_enterprise": "Przedsiębiorstwo społeczne",
    "legal_form": "Forma prawna", "operator": "Podmiot prowadzący", "street": "Ulica i numer",
    "postal_code": "Kod pocztowy", "locality": "Miejscowość", "gmina_teryt": "Gmina (TERYT)",
    "powiat_teryt": "Powiat (TERYT)", "lat": "Szerokość geograficzna", "lon": "Długość geograficzna",
    "location_precision": "Dokładność położenia", "geocoder": "Źródło współrzędnych", "krs": "KRS",
    "nip": "NIP", "regon": "REGON", "employees": "Liczba zatrudnionych", "status": "Status",
    "as_of": "Stan na", "website": "Strona internetowa", "email": "E-mail", "phone": "Telefon",
    "description": "Opis", "sources": "Źródła", "gmina": "Gmina (nazwa)", "powiat": "Powiat (nazwa)",
    "house_number": "Numer domu", "premises": "Numer lokalu",
    "verified_at": "Zweryfikowano (data)", "verified_source": "Źródło weryfikacji",
}
STATUS_LABELS = {"ok": "rozpoznana", "saved": "z zapisanego mapowania", "guess": "niepewna",
                 "conflict": "konflikt", "unknown": "nierozpoznana — pominięta", "skipped": "pominięta"}


class UploadRefused(InvalidInput):
    """The uploaded file is refused before any of it is imported."""


@dataclass(frozen=True)
class Limits:
    max_bytes: int
    max_unpacked: int
    max_rows: int

    @classmethod
    def from_settings(cls, settings: Settings) -> "Limits":
        return cls(settings.max_upload_bytes, settings.max_unpacked_bytes, settings.max_upload_rows)


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:.1f}".replace(".", ",") + " MB"


# --- checking an upload ---------------------------------------------------------------------------

def check_upload(data: bytes, filename: str, limits: Limits) -> str:
    """The file's kind ('xlsx' or 'csv'), or UploadRefused with a Polish message naming the file."""
    name = Path(filename or "plik").name
    suffix = Path(name).suffix.lower()
    if not data:
        raise UploadRefused(f"{name}: plik jest pusty.")
    if len(data) > limits.max_bytes:
        raise UploadRefused(f"{name}: plik ma {_mb(len(data))}, a największy przyjmowany to {_mb(limits.max_bytes)}.")
    if suffix == ".xls":
        raise UploadRefused(f"{name}: stary format Excela (.xls) — zapisz plik jako .xlsx albo CSV i wczytaj ponownie.")
    if suffix in XLSX_SUFFIXES:
        _check_xlsx(data, name, limits)
        return "xlsx"
    if suffix in CSV_SUFFIXES:
        _check_csv(data, name, limits)
        return "csv"
    raise UploadRefused(f"{name}: nieobsługiwany rodzaj pliku „{suffix or 'bez rozszerzenia'}” — "
                        "wczytaj rejestr jako .xlsx (Excel) albo .csv.")


def _check_csv(data: bytes, name: str, limits: Limits) -> None:
    if data[:4] == b"PK\x03\x04":
        raise UploadRefused(f"{name}: to plik ZIP lub XLSX, a nie tekst CSV — zmień rozszerzenie na .xlsx "
                            "albo zapisz arkusz jako CSV.")
    try:
        decode_bytes(data, name)
    except UnreadableFile as exc:
        raise UploadRefused(exc.description + ".") from None
    lines = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
    if lines > limits.max_rows + 1:
        raise UploadRefused(f"{name}: plik ma {lines} wierszy, a najwięcej przyjmowanych to {limits.max_rows} "
                            "— podziel rejestr na części.")


def _check_xlsx(data: bytes, name: str, limits: Limits) -> None:
    not_xlsx = f"{name}: to nie jest plik XLSX (Excel) — plik jest uszkodzony albo ma złe rozszerzenie."
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = set(archive.namelist())
    except (zipfile.BadZipFile, ValueError, OSError):
        raise UploadRefused(not_xlsx) from None
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        raise UploadRefused(not_xlsx)
    too_big = (f"{name}: po rozpakowaniu plik miałby ponad {_mb(limits.max_unpacked)} — to nie wygląda na "
               "zwykły rejestr (zapisz go ponownie w Excelu albo jako CSV).")
    if sum(i.file_size for i in archive.infolist()) > limits.max_unpacked:
        raise UploadRefused(too_big)
    inflated, rows = 0, 0
    for info in archive.infolist():
        try:
            inflated, found = _inflate(archive, info, inflated, limits.max_unpacked)
        except OverflowError:
            raise UploadRefused(too_big) from None
        except (zipfile.BadZipFile, zlib.error, NotImplementedError, RuntimeError, OSError, EOFError):
            raise UploadRefused(not_xlsx) from None
        if info.filename.startswith("xl/worksheets/"):
            rows += found
    if rows > limits.max_rows + 1:
        raise UploadRefused(f"{name}: arkusze mają {rows} wierszy, a najwięcej przyjmowanych to "
                            f"{limits.max_rows} — podziel rejestr na części.")


def _inflate(archive: zipfile.ZipFile, info: zipfile.ZipInfo, inflated: int, limit: int) -> tuple[int, int]:
    """Stream one member, counting inflated bytes (OverflowError past `limit`) and `<row` elements."""
    rows, tail = 0, b""
    with archive.open(info) as fh:
        while True:
            chunk = fh.read(1 << 16)
            if not chunk:
                return inflated, rows
            inflated += len(chunk)
            if inflated > limit:
                raise OverflowError
            window = tail + chunk
            rows += window.count(b"<row ") + window.count(b"<row>") - tail.count(b"<row ") - tail.count(b"<row>")
            tail = chunk[-5:]


# --- mapping --------------------------------------------------------------------------------------

@dataclass
class Column:
    index: int
    header: str
    target: str          # record or helper column; "" = not read
    status: str          # ok | saved | guess | conflict | unknown | skipped
    samples: list[str] = field(default_factory=list)   # the first values under the header

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]


@dataclass
class MappingProposal:
    columns: list[Column]
    layout: str
    header_row: int = 1
    missing: list[str] = field(default_factory=list)
    found_header: bool = True

    @property
    def needs_confirmation(self) -> bool:
        return bool(self.missing) or not self.found_header or any(
            c.status in ("guess", "conflict") for c in self.columns)

    def mapping(self) -> dict[str, str]:
        """What the importer takes: header key → target ('' = left out on purpose). Unknown columns are
        not listed, so the importer reports them as ignored."""
        return {importer.header_key(c.header): c.target for c in self.columns
                if importer.header_key(c.header) and (c.target or c.status == "skipped")}

    def to_json(self) -> dict:
        return {"columns": [asdict(c) for c in self.columns], "layout": self.layout,
                "header_row": self.header_row, "missing": self.missing, "found_header": self.found_header}

    @classmethod
    def from_json(cls, data: dict) -> "MappingProposal":
        return cls([Column(**c) for c in data["columns"]], data["layout"], data.get("header_row", 1),
                   data.get("missing", []), data.get("found_header", True))


def mapping_targets() -> list[tuple[str, str]]:
    """(column, Polish label) the operator may choose for a header, record columns first."""
    return [(c, FIELD_LABELS.get(c, c)) for c in (*COLUMNS, *HELPER_FIELDS)]


def _refused(exc: UnreadableFile, path: Path) -> UploadRefused:
    """The importer's message, naming the file as the operator sent it (not the temporary copy)."""
    return UploadRefused(exc.description.replace(str(path), path.name))


HEAD_ROWS = 60          # rows read to propose a mapping: the header is within the first 15, samples below it


def _xlsx_head(path: Path) -> list[list[tuple[int, list[str]]]]:
    """The first rows of each sheet, as the importer's reader gives them (a register of 10,000 rows need not
    be read whole to show how its header would be read)."""
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a broken file
        raise UnreadableFile(f"{path}: nie można odczytać pliku XLSX ({type(exc).__name__})") from None
    try:
        return [[(n, [normalise.cell_text(v) for v in values])
                 for n, values in enumerate(ws.iter_rows(max_row=HEAD_ROWS, values_only=True), start=1)]
                for ws in wb.worksheets]
    finally:
        wb.close()


def _tables(path: Path) -> list[list[tuple[int, list[str]]]]:
    try:
        if path.suffix.lower() in XLSX_SUFFIXES:
            return _xlsx_head(path)
        raw = path.read_bytes()
        cut = -1
        for _ in range(HEAD_ROWS):  # whole lines only, so no character is split
            nxt = raw.find(b"\n", cut + 1)
            if nxt < 0:
                cut = len(raw)
                break
            cut = nxt
        return importer._csv_rows(path, raw[:cut + 1])
    except UnreadableFile as exc:
        raise _refused(exc, path) from None


def layout_key(headers: list[str]) -> str:
    keys = [importer.header_key(h) for h in headers if importer.header_key(h)]
    return hashlib.sha256("\x1f".join(keys).encode("utf-8")).hexdigest()[:20]


def _status(header: str, saved: dict[str, str]) -> tuple[str, str]:
    key = importer.header_key(header)
    if key in saved:
        return saved[key], "saved" if saved[key] else "skipped"
    if key in COLUMNS or key in HEADER_ALIASES:
        return importer._target_for(header, {}), "ok"
    target = importer._target_for(header, {})
    return (target, "guess") if target else ("", "unknown")


def propose_mapping(path: Path | str, saved: dict[str, str] | None = None) -> MappingProposal:
    """How the importer would read the file's header row (the best table, as `read_export` picks it)."""
    path = Path(path)
    saved = saved or {}
    tables = _tables(path)
    best = None
    for rows in tables:
        found = importer._find_header(rows, saved)
        if found and (best is None or sum(map(bool, found[1])) > sum(map(bool, best[1][1]))):
            best = (rows, found)
            if path.suffix.lower() in XLSX_SUFFIXES:
                break
    found_header = best is not None
    if best is None:  # nothing recognisable: offer the first non-empty row for mapping by hand
        rows = next((r for r in tables if r), [])
        first = next(((n, v) for n, v in rows if any(x.strip() for x in v)), None)
        if first is None:
            raise UploadRefused(f"{path.name}: plik nie zawiera żadnych wierszy.")
        header_row, header = first
    else:
        rows, (pos, _targets) = best
        header_row, header = rows[pos]
    body = [v for n, v in rows if n > header_row and any(x.strip() for x in v)][:50]
    columns = []
    for j, h in enumerate(header):
        if not str(h).strip():
            continue
        target, status = _status(h, saved)
        samples = [_short(v[j].strip()) for v in body if j < len(v) and v[j].strip()][:3]
        columns.append(Column(j, str(h).strip(), target or "", status, samples))
    _mark_conflicts(columns)
    proposal = MappingProposal(columns, layout_key(header), header_row, [], found_header)
    proposal.missing = missing_required(columns)
    return proposal


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _mark_conflicts(columns: list[Column]) -> None:
    by_target: dict[str, list[Column]] = {}
    for c in columns:
        if c.target:
            by_target.setdefault(c.target, []).append(c)
    for group in by_target.values():
        if len(group) > 1:
            for c in group:
                c.status = "conflict"


def missing_required(columns: list[Column]) -> list[str]:
    targets = {c.target for c in columns if c.target}
    missing = [f for f in REQUIRED_FIELDS if f not in targets]
    # The importer on main derives the type from a legal-form column when there is no type column.
    if "types" in missing and "legal_form" in targets:
        missing.remove("types")
    return missing


def confirm_mapping(proposal: MappingProposal, choices: dict[int, str]) -> MappingProposal:
    """The proposal with the operator's choice for each column (index → target, '' = not read)."""
    allowed = set(COLUMNS) | set(HELPER_FIELDS) | {""}
    columns = []
    for c in proposal.columns:
        target = choices.get(c.index, c.target)
        if target not in allowed:
            raise InvalidInput(f"nieznana kolumna rekordu „{target}”")
        status = "ok" if target == c.target and c.status in ("ok", "saved") else ("saved" if target else "skipped")
        columns.append(Column(c.index, c.header, target, status, c.samples))
    taken: dict[str, str] = {}
    for c in columns:
        if c.target and c.target in taken:
            raise InvalidInput(f"pole „{FIELD_LABELS.get(c.target, c.target)}” wybrano dla dwóch kolumn: „{taken[c.target]}” "
                               f"i „{c.header}” — wybierz jedną, drugą pomiń")
        if c.target:
            taken[c.target] = c.header
    missing = missing_required(columns)
    if missing:
        raise InvalidInput("brak kolumny dla pól wymaganych: " + ", ".join(FIELD_LABELS.get(m, m) for m in missing))
    return MappingProposal(columns, proposal.layout, proposal.header_row, [], True)


# --- reading and previewing -----------------------------------------------------------------------

def read_rows(path: Path | str, mapping: dict[str, str]) -> tuple[pd.DataFrame, list[str]]:
    """The file's rows as the importer reads them: `row` (as Excel numbers it) + mapped columns."""
    path = Path(path)
    try:
        return importer.read_export(path, mapping)
    except UnreadableFile as exc:
        raise _refused(exc, path) from None


_GAZETTEERS: dict[tuple, object] = {}


def gazetteer(settings: Settings):
    """The locality gazetteer, loaded once per process and data file version."""
    from geoes.sources.gazetteer import Gazetteer

    paths = (settings.localities_path, settings.gmina_points_path, settings.terc_path)
    key = tuple((str(p), p.stat().st_mtime_ns if p.exists() else 0) for p in paths)
    if key not in _GAZETTEERS:
        _GAZETTEERS.clear()
        _GAZETTEERS[key] = Gazetteer.load(settings)
    return _GAZETTEERS[key]


@dataclass
class Preview:
    rows_read: int = 0
    added: list[dict] = field(default_factory=list)      # row, id, name, types, locality, precision
    changed: list[dict] = field(default_factory=list)    # row, id, name, diffs [[column, old, new]]
    unchanged: int = 0
    warned: list[dict] = field(default_factory=list)     # row, id, name, reasons [[column, text]], candidates
    rejected: list[dict] = field(default_factory=list)   # row, name, reasons, fields {column: value}, candidates
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


def apply_fixes(frame: pd.DataFrame, fixes: dict) -> pd.DataFrame:
    """The rows with the values the operator typed in (row number → {column: value})."""
    f = frame.copy()
    for row, values in fixes.items():
        hit = f.index[f["row"].astype(int) == int(row)]
        for col, value in values.items():
            if col not in f.columns:
                f[col] = ""
            f.loc[hit, col] = str(value)
    return f


def preview(frame: pd.DataFrame, base: pd.DataFrame, settings: Settings, source_name: str,
            fixes: dict | None = None) -> tuple[pd.DataFrame, Preview]:
    """(the register as it would be after this upload, what changes) — nothing is written."""
    from geoes.console.changes import diff_registers

    fixed = apply_fixes(frame, fixes or {})
    gaz = gazetteer(settings)
    result = importer.import_frame(fixed, base, settings, source_name, gazetteer=gaz)
    merged = result.merged
    rows_of = {r.id: int(r.row) for r in pd.concat([result.added[["row", "id"]], result.changed[["row", "id"]]])
               .itertuples()}
    merged, warnings = place_rows(merged, set(rows_of), settings, gaz)
    out = Preview(rows_read=result.rows_read, source=Path(source_name).name,
                  ignored_columns=list(result.ignored_columns))
    diff = diff_registers(base, merged)
    by_id = merged.set_index("id")
    for entity_id in diff.added:
        rec = by_id.loc[entity_id]
        out.added.append({"row": rows_of.get(entity_id, 0), "id": entity_id, "name": rec["name"],
                          "types": rec["types"], "locality": rec["locality"],
                          "precision": rec["location_precision"] or "none"})
    for entity_id, diffs in diff.changed.items():
        out.changed.append({"row": rows_of.get(entity_id, 0), "id": entity_id, "name": by_id.at[entity_id, "name"],
                            "diffs": [list(d) for d in diffs]})
    out.added.sort(key=lambda r: r["row"])
    out.changed.sort(key=lambda r: r["row"])
    out.unchanged = max(0, len(rows_of) - len(diff.added) - len(diff.changed)) + int(result.unchanged)
    for entity_id, reasons, candidates in warnings:
        out.warned.append({"row": rows_of.get(entity_id, 0), "id": entity_id, "name": by_id.at[entity_id, "name"],
                           "reasons": reasons, "candidates": candidates})
    out.warned.sort(key=lambda r: r["row"])
    out.rejected = _rejected(result.rejects, fixed, gaz)
    return merged, out


def place_rows(merged: pd.DataFrame, ids: set[str], settings: Settings, gaz=None) -> tuple[pd.DataFrame, list]:
    """Place the entities `ids` that have no point, offline from the gazetteer; warnings (id, reasons,
    homonyms to choose from) for those left unplaced or placed only at gmina level."""
    from geoes.register.geocode import geocode_frame

    gaz = gaz if gaz is not None else gazetteer(settings)
    todo = merged.index[merged["id"].isin(ids) & merged["lat"].eq("")]
    warnings = []
    if not len(todo):
        return merged, warnings
    report = geocode_frame(merged.loc[todo], settings, providers=["gazetteer"], offline=True, gazetteer=gaz,
                           progress=False, check_areas=False)
    merged = merged.copy()
    placed = report.frame
    for col in ("lat", "lon", "location_precision", "geocoder"):
        merged.loc[todo, col] = placed[col].to_numpy()
    for r in report.unplaced.itertuples():
        rec = merged.loc[merged["id"] == r.id].iloc[0]
        warnings.append((r.id, [["lat", "nie umieszczono na mapie: " + r.reason]],
                         homonyms(gaz, rec["locality"], rec["powiat_teryt"] or rec["gmina_teryt"][:4])))
    for r in report.notes.itertuples():
        warnings.append((r.id, [["location_precision", r.note]], []))
    return merged, warnings


def homonyms(gaz, locality: str, powiat: str = "") -> list[dict]:
    """Localities of the gazetteer with this name (in this powiat when given): gmina, label, point."""
    from geoes.sources.gazetteer import locality_key

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


def _rejected(rejects: pd.DataFrame, frame: pd.DataFrame, gaz) -> list[dict]:
    if not len(rejects):
        return []
    fields = [c for c in frame.columns if c != "row"]
    by_row = frame.drop_duplicates("row").set_index(frame.drop_duplicates("row")["row"].astype(int))
    out = []
    for row, group in rejects.groupby("row", sort=True):
        rec = by_row.loc[int(row)] if int(row) in by_row.index else pd.Series(dtype=object)
        values = {c: str(rec.get(c, "") or "") for c in fields}
        reasons = [[str(r.column), str(r.reason)] for r in group.itertuples()]
        candidates = []
        if any("miejscowo" in t or "gmin" in t for _c, t in reasons):
            candidates = homonyms(gaz, values.get("locality", ""))
        out.append({"row": int(row), "name": values.get("name", ""), "reasons": reasons, "fields": values,
                    "candidates": candidates})
    return out


def editable_fields(item: dict, frame_columns: list[str]) -> list[str]:
    """The columns the operator may correct for one row: the file's own, the required ones, those named
    in a reason, and the point."""
    cols = [c for c in frame_columns if c != "row"]
    for c in ("name", "types", *(r[0] for r in item.get("reasons", []))):
        if c in COLUMNS and c not in cols and c not in ("lat", "lon"):
            cols.append(c)
    return [c for c in cols if c not in ("lat", "lon", "location_precision", "geocoder")]


def rejects_csv(previewed: Preview, frame_columns: list[str]) -> bytes:
    """The rejected rows for Excel: the file's columns (so it can be fixed and uploaded again), then the
    reasons — written by the project's one writer of such files (geoes.common.excel: UTF-8 with BOM,
    cells that a spreadsheet would run as formulas neutralised)."""
    fields = [c for c in frame_columns if c != "row"]
    reverse = {}
    for alias, target in HEADER_ALIASES.items():
        reverse.setdefault(target, alias)
    headers = [c if c in COLUMNS else reverse.get(c, c) for c in fields]
    records = []
    for item in previewed.rejected:
        rec = [item["fields"].get(c, "") for c in fields]
        rec += [item["row"], "; ".join(f"{FIELD_LABELS.get(c, c)}: {t}" for c, t in item["reasons"])]
        records.append(rec)
    table = pd.DataFrame(records, columns=[*headers, "wiersz w pliku źródłowym", "powód odrzucenia"], dtype=object)
    return csv_bytes(table)


def type_choices() -> list[tuple[str, str]]:
    return [(code, t.label_pl) for code, t in entity_types().items()]


def new_entity_id(name: str, locality: str) -> str:
    """The id the importer gives a row without one (the same name and locality, the same id)."""
    return importer.stable_id(name, locality)
