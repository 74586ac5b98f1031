"""Import a register as offices write it: read → map columns → preview → apply.

The same rules behind `python -m geoes import` and the operator console; nothing here knows about
either. The API, in the order a caller uses it:

    context  = ImportContext.from_settings(settings)     # region data, limits, saved mappings (load once)
    register = read_register(path, context, name=None)   # geoes.common.excel.OfficeFile; UnreadableFile
    proposal = propose(register, context, mapping=None)  # geoes.register.mapping.MappingProposal
        proposal.columns / .conflicts / .missing / .needs_confirmation / .describe() / .mapping()
        (a confirmed proposal is saved with `save_mapping(proposal, context.mappings_dir)` and comes
        back by itself for the next file of the same layout)
    existing = read_table(record_path).drop(columns="row")   # the record (data/entities.csv), or None
    result   = preview(proposal, existing, context, accept=False, corrections=False)   # → Preview
        MissingColumn: a required column is missing (one message: the headers found, how to map one);
        MappingNeedsConfirmation: guesses or conflicts and `accept` not given (`.proposal` attached).
    apply(result, path)        # writes the record atomically; Conflict if it changed since the preview
    csv_bytes(result.rejects)  # geoes.common.excel: rejects (or warnings, review) for download: BOM, CRLF,
                               # neutralised cells; `write_reports` writes the three beside the file

`import_file(path, settings, …)` chains them for the command line. Rows edited in a browser go through the
same steps as a file: `OfficeFile(name, "csv", [Sheet("", [(row_number, cells), …])])` (header row first)
in place of `read_register`.

`Preview` (all frames plain strings):
    added       row, id, name, types, types_from   — new entities (`types_from`: where an inferred type came from)
    changed     row, id, name, columns             — matched entities that change
    changes     row, id, name, column, old, new    — the same, field by field
    unchanged   row, id, name
    warnings    file, row, id, name, column, reason, value — the row is kept, the value dropped, or a
                type inferred, or a possible duplicate
    rejects     file, row, column, reason + the row's cells under the file's own headers (one line per
                row: fix it in Excel and import it again)
    review      file, row, id, name, column, current, proposed, as_of, sources, note, reason — corrections
                not applied (they contradict the register or change who the entity is)
    merged      the whole record as `apply` writes it; relocated: ids whose old point was removed
    counts      rows, added, changed, unchanged, warned, rejected, review

Corrections (`corrections=True`, and always for a field/value layout): matched rows may only fill
empty fields and add to description, as_of and sources — see geoes.register.merge. Rows that match no
entity are rejected, never added.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from geoes.common.excel import OfficeFile, ReadLimits, read_office_file, write_rejects
from geoes.common.polish import count
from geoes.config import Settings
from geoes.errors import Conflict, DataMissing
from geoes.register import normalise as norm
from geoes.register.duplicates import find_duplicates
from geoes.register.mapping import (COMBINED, MULTI, Mapping, MappingProposal, confirm, field_for, load_mapping,
                                    match_header, propose_mapping, save_mapping)
from geoes.register.merge import correct_rows, field_changes, match_rows, merge_rows, stable_id  # noqa: F401
from geoes.register.record import COLUMNS, SOURCES_SEPARATOR, read_table, write_entities
from geoes.register.validate import validate_frame
from geoes.sources.gazetteer import Gazetteer
from geoes.sources.territory import MissingData, load_territory

WARNING_COLUMNS = ["file", "row", "id", "name", "column", "reason", "value"]
REJECT_COLUMNS = ["file", "row", "column", "reason"]
REVIEW_COLUMNS = ["file", "row", "id", "name", "column", "current", "proposed", "as_of", "sources", "note", "reason"]


@dataclass
class ImportContext:
    """What an import needs besides the file: the region's data (None when not fetched) and the limits."""
    units: object | None = None                  # geoes.sources.territory.Territory
    gazetteer: Gazetteer | None = None
    limits: ReadLimits = field(default_factory=ReadLimits)
    mappings_dir: Path | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> "ImportContext":
        try:
            units, gazetteer = load_territory(settings), Gazetteer.load(settings)
        except MissingData:
            units = gazetteer = None
        return cls(units, gazetteer, ReadLimits.from_settings(settings), settings.mappings_dir)


@dataclass
class Preview:
    source: str
    layout: str
    mode: str                                       # "merge" or "corrections"
    rows_read: int
    added: pd.DataFrame
    changed: pd.DataFrame
    changes: pd.DataFrame
    unchanged: pd.DataFrame
    warnings: pd.DataFrame
    rejects: pd.DataFrame
    review: pd.DataFrame
    merged: pd.DataFrame
    relocated: list[str]
    ignored_columns: list[str]
    base: str                                       # digest of the record the preview was made against
    proposal: MappingProposal | None = field(default=None, repr=False)

    @property
    def counts(self) -> dict[str, int]:
        rejected = set(self.rejects["row"])
        warned = set(self.warnings["row"]) - rejected
        return {"rows": self.rows_read, "added": len(self.added), "changed": len(self.changed),
                "unchanged": len(self.unchanged), "warned": len(warned), "rejected": len(rejected),
                "review": len(self.review)}


# The fields a place is found by: a change to one of them may let the geocoder place the entity.
PLACE_FIELDS = ("street", "postal_code", "locality", "gmina_teryt", "powiat_teryt")

# --- reading and mapping --------------------------------------------------------------------------

def read_register(path: Path | str, context: ImportContext | None = None, name: str | None = None) -> OfficeFile:
    """Read a register file (XLSX or CSV) within the context's limits; UnreadableFile if it cannot be."""
    return read_office_file(path, (context or ImportContext()).limits, name=name)


def propose(register: OfficeFile, context: ImportContext | None = None, mapping: Mapping | None = None,
            name: str | None = None) -> MappingProposal:
    """The column mapping proposal; a mapping saved for this layout is applied by itself."""
    context = context or ImportContext()
    return propose_mapping(register, mapping, source=name, mappings_dir=context.mappings_dir)


def _unique_headers(headers: list[str]) -> list[str]:
    out: list[str] = []
    for j, h in enumerate(headers):
        name = h.strip() or f"kolumna {j + 1}"
        while name in out:
            name += " (2)"
        out.append(name)
    return out


def extract(proposal: MappingProposal) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(frame of the mapped targets with `row`, the rows as the file has them under its own headers)."""
    width = len(proposal.headers)
    cells = [(c + [""] * width)[:width] for _, c in proposal.data]
    numbers = [n for n, _ in proposal.data]
    original = pd.DataFrame(cells, columns=_unique_headers(proposal.headers), dtype=object)
    original.insert(0, "_row", numbers)
    frame = pd.DataFrame({"row": numbers})
    for m in proposal.used:
        values = original.iloc[:, m.index + 1].astype(str).str.strip()
        if m.target == "sources":
            values = values.map(_sources)
        if m.target in frame:  # several columns for a field that takes them all: joined
            values = [_joined(a, b, MULTI[m.target]) for a, b in zip(frame[m.target], values)]
        frame[m.target] = list(values)
    return frame, original


_URL_RE = re.compile(r"https?://[^\s|;<>\"']+", re.IGNORECASE)


def _sources(value: str) -> str:
    """URLs separated by ' | ' from a cell that lists them any way; a cell with other text is kept."""
    value = value.strip()
    urls = _URL_RE.findall(value)
    rest = _URL_RE.sub("", value).strip(" |;,\n\t")
    return SOURCES_SEPARATOR.join(u.rstrip(".,") for u in urls) if urls and not rest else value


def _joined(a: str, b: str, sep: str) -> str:
    items = [x.strip() for x in (a.split(sep.strip()) + b.split(sep.strip())) if x.strip()]
    return sep.join(dict.fromkeys(items))


# --- normalising ----------------------------------------------------------------------------------

_NORMALISERS = {
    "types": norm.type_codes, "postal_code": norm.postal_code, "phone": norm.phone, "krs": norm.krs,
    "nip": norm.digits_id, "regon": norm.digits_id,
    "operator_krs": norm.krs, "operator_nip": norm.digits_id, "lat": norm.decimal, "lon": norm.decimal,
    "employees": norm.integer, "social_enterprise": norm.boolean, "status": norm.status,
    "location_precision": norm.precision, "website": norm.website, "email": norm.email,
    "operator_phone": norm.phone, "operator_website": norm.website, "operator_email": norm.email,
}


class _Notes:
    """Warnings found before validation (row index → dicts)."""

    def __init__(self):
        self.items: list[dict] = []

    def add(self, frame: pd.DataFrame, i, column: str, reason: str, value: str = "") -> None:
        self.items.append({"_index": i, "row": frame.at[i, "row"], "column": column, "reason": reason,
                           "value": value})


def _expand_combined(f: pd.DataFrame, notes: _Notes) -> pd.DataFrame:
    """Cells of combined columns → the fields they hold; helper columns folded into record fields."""
    f = f.copy()
    if "legal_form/types" in f:
        pairs = f["legal_form/types"].map(norm.legal_form_type)   # cached per distinct value
        _fill(f, "legal_form", pairs.str[0])
        f["_form_types"] = pairs.str[1]
    if "legal_form" in f and "_form_types" not in f:
        f["_form_types"] = f["legal_form"].map(lambda v: norm.legal_form_type(v)[1])
    if "identifiers" in f:
        for i, value in f["identifiers"].items():
            found, unknown = norm.split_identifiers(value)
            for col, digits in found.items():
                _fill(f, col, pd.Series({i: digits}), only_empty=True)
            for number in unknown:
                notes.add(f, i, "identifiers", "numer nie jest ani KRS, ani NIP, ani REGON (długość lub suma "
                          "kontrolna) — pominięto", number)
    for col, splitter in (("address", norm.split_address), ("contacts", norm.split_contacts)):
        if col in f:
            parts = f[col].map(splitter)
            for target in ("street", "postal_code", "locality", "phone", "email", "website"):
                _fill(f, target, parts.map(lambda d: d.get(target, "")), only_empty=target != "street")
    _join_street(f)
    return f.drop(columns=[c for c in (*COMBINED, "house_number", "premises") if c in f])


def _fill(f: pd.DataFrame, col: str, values: pd.Series, only_empty: bool = False) -> None:
    values = values.reindex(f.index).fillna("")
    if col not in f:
        f[col] = values
    elif only_empty:
        f[col] = f[col].where(f[col].ne(""), values)
    else:
        f[col] = values.where(values.ne(""), f[col])


def _join_street(f: pd.DataFrame) -> None:
    if "house_number" not in f and "premises" not in f:
        return
    empty = pd.Series("", index=f.index)
    street, number, premises = (f.get(c, empty) for c in ("street", "house_number", "premises"))
    number = number.where(premises.eq("") | number.eq(""), number + "/" + premises)
    f["street"] = (street + " " + number).str.strip()


def normalise_frame(frame: pd.DataFrame, gazetteer: Gazetteer | None, notes: _Notes) -> pd.DataFrame:
    """Values to the record's forms (once per distinct value); gmina and powiat names → TERYT codes."""
    f = frame.copy()
    for col in f.columns:
        if col != "row":
            f[col] = f[col].fillna("").astype(str).str.strip()
    if "name" in f:
        f["name"] = f["name"].str.replace(r"\s+", " ", regex=True)
    for col, fn in _NORMALISERS.items():
        if col in f:
            f[col] = f[col].map({v: fn(v) for v in f[col].unique()})
    for col in COLUMNS:
        if col not in f:
            f[col] = ""
    _resolve_units(f, gazetteer, notes)
    return f


def _resolve_units(f: pd.DataFrame, gazetteer: Gazetteer | None, notes: _Notes) -> None:
    named = [c for c in ("powiat", "gmina") if c in f and f[c].ne("").any()]
    if named and gazetteer is None:
        raise DataMissing("plik podaje gminy lub powiaty nazwami, a dane regionu nie są pobrane: uruchom najpierw "
                          "`python -m geoes fetch` (lub `fetch --mirror KATALOG`)")
    for col in named:   # the powiat first: it decides between gminy of one name
        target = col + "_teryt"
        names = f[col].str.replace(r"\s*\(.*?\)\s*", " ", regex=True).str.strip()
        within = f["powiat_teryt"] if col == "gmina" else pd.Series("", index=f.index)
        keys = pd.Series(list(zip(names, within)), index=f.index)
        # Each distinct name resolved once: a register repeats its gminy.
        found = {k: (gazetteer.resolve_gmina(*k) if col == "gmina" else gazetteer.resolve_powiat(k[0]))
                 for k in keys[names.ne("")].unique()}
        code = keys.map(lambda k: found.get(k, ("", ""))[0])
        why = keys.map(lambda k: found.get(k, ("", ""))[1])
        given = names.ne("")
        clash = given & why.eq("") & f[target].ne("") & f[target].ne(code)
        for i in f.index[given & why.ne("")]:
            notes.add(f, i, target, why[i] + " — pominięto", f.at[i, col])
        for i in f.index[clash]:
            notes.add(f, i, target, f"kod {f.at[i, target]} nie zgadza się z nazwą „{f.at[i, col]}” ({code[i]}) — "
                      "zostawiono kod", f.at[i, col])
        fill = given & why.eq("") & ~clash
        f.loc[fill, target] = code[fill]


# --- types the file does not state ----------------------------------------------------------------

def infer_types(f: pd.DataFrame, notes: _Notes) -> tuple[pd.Series, pd.Series]:
    """(types, where each came from) for rows whose `types` is empty: from the legal form / combined type
    column and the name; 'legal_form' or 'name' marks an inferred type, '' one the file stated."""
    empty = pd.Series("", index=f.index)
    form = f["_form_types"] if "_form_types" in f else empty
    todo = f["types"].eq("")
    keys = list(zip(f.loc[todo, "name"], form[todo], f.loc[todo, "legal_form"]))
    found = {k: _infer_one(*k) for k in dict.fromkeys(keys)}   # each distinct (name, form) once
    results = [found[k] for k in keys]
    types, origin = f["types"].copy(), pd.Series("", index=f.index, dtype=object)
    types[todo] = [r[0] for r in results]
    origin[todo] = [r[1] for r in results]
    for i, row, (code, _, words) in zip(f.index[todo], f.loc[todo, "row"], results):
        if code:
            notes.items.append({"_index": i, "row": row, "column": "types", "value": code,
                                "reason": f"typ ustalony z {words} → {code} — sprawdź"})
    return types, origin


def _infer_one(name: str, form_codes: str, legal_form: str) -> tuple[str, str, str]:
    """(code, 'name' | 'legal_form', how it reads in Polish). Order: a unit named in the combined type
    column (WTZ, CIS…), a specific type in the name, the legal form, a generic one in the name."""
    legal_is_form = bool(norm.legal_form_type(legal_form)[0]) if legal_form else False
    if form_codes and not legal_is_form:
        return form_codes, "legal_form", "kolumny typu/formy prawnej"
    by_name, words = norm.name_type(name)
    if norm.is_specific_type(by_name):
        return by_name, "name", f"nazwy („{words}”)"
    if form_codes:
        return form_codes, "legal_form", f"formy prawnej („{legal_form}”)"
    if by_name:
        return by_name, "name", f"nazwy („{words}”)"
    return "", "", ""


# --- the preview ----------------------------------------------------------------------------------

def _existing(existing: pd.DataFrame | None) -> pd.DataFrame:
    if existing is None:
        return pd.DataFrame(columns=COLUMNS)
    return existing.reindex(columns=COLUMNS, fill_value="").fillna("").astype(str).reset_index(drop=True)


def record_digest(existing: pd.DataFrame) -> str:
    frame = _existing(existing)
    return hashlib.sha256(frame.to_csv(index=False).encode("utf-8")).hexdigest()[:16]


def _as_strings(valid: pd.DataFrame) -> pd.DataFrame:
    out = valid.copy()
    for col in ("lat", "lon"):
        out[col] = out[col].map(lambda v: "" if pd.isna(v) or v == "" else f"{float(v):.6f}")
    out["employees"] = out["employees"].map(lambda v: "" if pd.isna(v) else str(int(v)))
    for col in COLUMNS:
        out[col] = out[col].fillna("").astype(str)
    return out


def preview(proposal: MappingProposal, existing: pd.DataFrame | None, context: ImportContext | None = None, *,
            accept: bool = False, corrections: bool = False) -> Preview:
    """What importing the file would do to `existing` (the record, e.g. data/entities.csv read by
    `read_table`); nothing is written. See the module docstring for the Preview's frames."""
    context = context or ImportContext()
    confirm(proposal, accept=accept)
    base = _existing(existing)
    frame, original = extract(proposal)
    notes = _Notes()
    f = normalise_frame(_expand_combined(frame, notes), context.gazetteer, notes)
    mode = "corrections" if corrections or proposal.layout == "corrections" else "merge"
    if proposal.layout == "corrections":
        run = _run_long_corrections(f, base, context, proposal.source, notes)
    else:
        run = _run_rows(f, base, context, proposal.source, notes, corrections)
    return _assemble(proposal, mode, base, original, run)


@dataclass
class _Run:
    valid: pd.DataFrame            # candidate records that passed validation (row, COLUMNS, _target, types_from)
    warnings: list[dict]
    problems: list[dict]           # rejections: row, column, reason
    review: list[dict] = field(default_factory=list)
    relocated: list[str] = field(default_factory=list)
    unchanged_rows: list = field(default_factory=list)


def _validated(frame: pd.DataFrame, context: ImportContext, source: str, complete: bool):
    """Validate, returning (valid as strings on the frame's index, warnings, rejections)."""
    if frame.empty:
        return frame.copy(), [], []
    keep = frame.reset_index(names="_orig")
    checked = validate_frame(keep, units=context.units, source_name=source, complete=complete)
    valid = _as_strings(checked.valid).set_index("_orig", drop=True)   # extra columns ride along
    return valid, checked.warnings.to_dict("records"), checked.rejects[["row", "column", "reason"]].to_dict("records")


def _run_rows(f: pd.DataFrame, base: pd.DataFrame, context: ImportContext, source: str, notes: _Notes,
              corrections: bool) -> _Run:
    """A register export: validate what the rows state, match, infer types, merge or correct, validate again."""
    stated, warnings, problems = _validated(f, context, source, complete=False)
    rows, repeated = match_rows(stated, base)
    problems += repeated
    if corrections:
        return _run_wide_corrections(rows, base, context, source, notes, warnings, problems)
    untyped = rows["_target"].lt(0) | rows["_target"].map(lambda t: t >= 0 and base.at[t, "types"] == "")
    types, origin = infer_types(rows[untyped], notes)
    rows.loc[untyped, "types"] = types
    rows["types_from"] = origin.reindex(rows.index).fillna("")
    cand, relocated = merge_rows(rows, base, f"import:{Path(source).name}")
    cand["types_from"] = rows["types_from"].reindex(cand.index).fillna("")
    valid, more_warnings, more_problems = _validated(cand, context, source, complete=True)
    return _Run(valid, notes.items + warnings + more_warnings, problems + more_problems, relocated=relocated)


def _proposals_from_rows(rows: pd.DataFrame) -> list[dict]:
    out = []
    for _, r in rows.iterrows():
        for col in COLUMNS:
            if col not in ("id", "sources", "as_of") and r[col] and not (col == "location_precision" and r[col] == "none"):
                out.append({"row": r["row"], "id": r["id"], "name": "", "column": col, "proposed": r[col],
                            "as_of": r["as_of"], "sources": r["sources"], "note": r.get("note", "")})
    return out


def _run_wide_corrections(rows, base, context, source, notes, warnings, problems) -> _Run:
    known = rows["_target"].ge(0)
    for _, r in rows[~known].iterrows():
        problems.append({"row": r["row"], "column": "id", "reason": "poprawka dotyczy podmiotu spoza rejestru "
                         "(brak takiego identyfikatora, KRS ani NIP) — pominięta"})
    return _finish_corrections(_proposals_from_rows(rows[known]), base, context, source, notes.items + warnings,
                               problems)


def _named_unit(field: str, value: str, gazetteer: Gazetteer | None) -> tuple[str, str, str]:
    """A correction that names a gmina or powiat ("powiat: opatowski") → (record column, TERYT code, problem)."""
    kind = match_header(field).target
    if kind not in ("gmina", "powiat"):
        return "", value, ""
    column = kind + "_teryt"
    if gazetteer is None:
        return column, "", "dane regionu nie są pobrane — nie można zamienić nazwy na kod TERYT (`python -m geoes fetch`)"
    code, why = gazetteer.resolve_gmina(value) if kind == "gmina" else gazetteer.resolve_powiat(value)
    return column, code, (why + " — nie zastosowano") if why else ""


def _run_long_corrections(f: pd.DataFrame, base, context, source, notes: _Notes) -> _Run:
    """A field/value layout: each row proposes one value for one field of an existing entity."""
    proposals = []
    for _, r in f.iterrows():
        column, value = field_for(r["field"]), r["value"].strip()
        reason = "" if column else f"nieznane pole „{r['field']}” — nie zastosowano"
        if not column:
            column, value, reason = _named_unit(r["field"], value, context.gazetteer) or (column, value, reason)
            reason = reason if column else f"nieznane pole „{r['field']}” — nie zastosowano"
        if column in _NORMALISERS and column != "types":
            value = _NORMALISERS[column](value)
        proposals.append({"row": r["row"], "id": r["id"], "name": r["name"], "column": column if not reason else "",
                          "proposed": value, "as_of": r["as_of"], "sources": r["sources"], "note": r.get("note", ""),
                          "reason": reason})
    return _finish_corrections(proposals, base, context, source, notes.items, [])


def _finish_corrections(proposals, base, context, source, warnings, problems) -> _Run:
    cand, applied, review, more = correct_rows(proposals, base)
    valid, w2, p2 = _validated(cand, context, source, complete=True)
    for a in applied:
        if a.get("note"):
            warnings.append({"row": a["row"], "column": a["column"], "reason": f"uwaga źródła: {a['note']}",
                             "value": a["proposed"]})
    run = _Run(valid, warnings + w2, problems + more + p2, review)
    run.unchanged_rows = [p["row"] for p in proposals if p["row"] not in {a["row"] for a in applied}
                          and p["row"] not in {r["row"] for r in review} and p["row"] not in {x["row"] for x in more}]
    return run


# --- assembling, applying -------------------------------------------------------------------------

def _merged(base: pd.DataFrame, valid: pd.DataFrame) -> pd.DataFrame:
    merged = base.copy()
    matched = valid[valid["_target"].ge(0)]
    if len(matched):
        merged.loc[matched["_target"].to_numpy(), COLUMNS] = matched[COLUMNS].to_numpy()
    new = valid.loc[valid["_target"].lt(0), COLUMNS]
    return pd.concat([merged, new], ignore_index=True) if len(new) else merged


def _rejects(problems: list[dict], original: pd.DataFrame, source: str) -> pd.DataFrame:
    """One line per rejected row: its columns and reasons joined, then its cells as the file has them."""
    # A re-imported rejects file brings the old file/row/column/reason: they give way to the new ones.
    cells = original.drop(columns=[c for c in original.columns if c in REJECT_COLUMNS])
    if not problems:
        return pd.DataFrame(columns=[*REJECT_COLUMNS, *cells.columns[1:]])
    p = pd.DataFrame(problems)[["row", "column", "reason"]].drop_duplicates()
    p = p.groupby("row", sort=True).agg({"column": lambda s: "; ".join(dict.fromkeys(s)),
                                         "reason": lambda s: "; ".join(dict.fromkeys(s))}).reset_index()
    p.insert(0, "file", source)
    cells = cells.drop_duplicates("_row").rename(columns={"_row": "row"})
    return p.merge(cells, on="row", how="left").fillna("")


def _warnings(items: list[dict], valid: pd.DataFrame, rejected: set, source: str) -> pd.DataFrame:
    if not items:
        return pd.DataFrame(columns=WARNING_COLUMNS)
    w = pd.DataFrame(items).reindex(columns=["row", "column", "reason", "value"]).fillna("")
    w = w[~w["row"].isin(rejected)].drop_duplicates()
    who = valid.drop_duplicates("row").set_index("row")[["id", "name"]]
    w = w.join(who, on="row").fillna("")
    w.insert(0, "file", source)
    return w.reindex(columns=WARNING_COLUMNS).sort_values("row", kind="stable").reset_index(drop=True)


def _outcomes(valid: pd.DataFrame, base: pd.DataFrame, run: _Run):
    changes = field_changes(valid, base)
    changed = (changes.groupby(["row", "id", "name"], sort=False)["column"].agg(", ".join)
               .reset_index().rename(columns={"column": "columns"}))
    matched = valid[valid["_target"].ge(0)]
    unchanged = matched.loc[~matched["row"].isin(changed["row"]), ["row", "id", "name"]]
    if run.unchanged_rows:
        extra = pd.DataFrame({"row": run.unchanged_rows, "id": "", "name": ""})
        unchanged = pd.concat([unchanged, extra[~extra["row"].isin(changed["row"])]]).drop_duplicates("row")
    added = valid.loc[valid["_target"].lt(0)].reindex(columns=["row", "id", "name", "types", "types_from"]).fillna("")
    return added.reset_index(drop=True), changed, changes, unchanged.reset_index(drop=True)


def _assemble(proposal: MappingProposal, mode: str, base: pd.DataFrame, original: pd.DataFrame, run: _Run) -> Preview:
    valid = run.valid if len(run.valid) else pd.DataFrame(columns=["row", *COLUMNS, "_target", "types_from"])
    valid = valid.assign(_target=valid["_target"].astype(int))
    merged = _merged(base, valid)
    touched = valid[~valid["row"].isin([r["row"] for r in run.problems])]
    warnings = run.warnings + find_duplicates(touched, merged)
    rejects = _rejects(run.problems, original, proposal.source)
    added, changed, changes, unchanged = _outcomes(valid, base, run)
    review = pd.DataFrame(run.review, columns=REVIEW_COLUMNS[1:])
    review.insert(0, "file", proposal.source)
    return Preview(
        source=proposal.source, layout=proposal.layout, mode=mode, rows_read=len(original),
        added=added, changed=changed, changes=changes, unchanged=unchanged,
        warnings=_warnings(warnings, valid, set(rejects["row"]), proposal.source), rejects=rejects,
        review=review, merged=merged, relocated=run.relocated,
        ignored_columns=[c.header for c in proposal.ignored], base=record_digest(base), proposal=proposal)


def apply(result: Preview, path: Path | str) -> None:
    """Write the previewed record to `path` atomically — unless the record changed since the preview."""
    path = Path(path)
    current = read_table(path).drop(columns=["row"]) if path.exists() else None
    if record_digest(current) != result.base:
        raise Conflict(f"{path}: rejestr zmienił się od podglądu importu — wczytaj plik ponownie")
    write_entities(result.merged, path)


def write_reports(result: Preview, rejects_path: Path | None, warnings_path: Path | None,
                  review_path: Path | None) -> list[Path]:
    """The rejects, warnings and review tables as CSV for Excel (those that have rows); returns the paths."""
    written = []
    for frame, path in ((result.rejects, rejects_path), (result.warnings, warnings_path), (result.review, review_path)):
        if path is not None and len(frame):
            write_rejects(frame, path)
            written.append(Path(path))
    return written


# --- the command line -----------------------------------------------------------------------------

def report_paths(path: Path | str, reports_dir: Path | str | None = None) -> dict[str, Path]:
    """Where the rejects, warnings and review of an import go: beside the file, or in `reports_dir`."""
    path = Path(path)
    folder = Path(reports_dir) if reports_dir else path.parent
    return {kind: folder / f"{path.stem}.{suffix}.csv" for kind, suffix in
            (("rejects", "odrzucone"), ("warnings", "ostrzezenia"), ("review", "do_przegladu"))}


def import_file(path: Path | str, settings: Settings, *, output: Path | str | None = None,
                mapping_path: Path | str | None = None, accept_mapping: bool = False,
                save_mapping_to: Path | str | None = None, corrections: bool = False,
                context: ImportContext | None = None) -> Preview:
    """Read, map (a mapping file, a saved mapping, or the accepted proposal) and preview an import
    against the record at `output` (default data/entities.csv). Nothing is written but a mapping
    saved on request (`save_mapping_to`: a directory or a file); `apply` writes the record."""
    context = context or ImportContext.from_settings(settings)
    output = Path(output) if output else settings.entities_path
    register = read_register(path, context)
    mapping = load_mapping(mapping_path) if mapping_path else None
    proposal = propose(register, context, mapping)
    existing = read_table(output).drop(columns=["row"]) if output.exists() else None
    result = preview(proposal, existing, context, accept=accept_mapping,
                     corrections=corrections)
    if save_mapping_to is not None:
        save_mapping(proposal, save_mapping_to)
    return result


def _listing(title: str, frame: pd.DataFrame, fmt, limit: int) -> list[str]:
    if frame.empty:
        return []
    lines = [f"{title} ({len(frame)}):"] + [fmt(r) for r in frame.head(limit).itertuples()]
    if len(frame) > limit:
        lines.append(f"  … i {len(frame) - limit} więcej")
    return lines


def format_preview(result: Preview, output: Path | str, written: list[Path] | None = None, dry_run: bool = False,
                   limit: int = 30) -> str:
    """The preview in Polish for the command line."""
    c = result.counts
    lines = [f"Plik {result.source}: {count(c['rows'], 'wiersz')}; dodano {c['added']}, zmieniono {c['changed']}, "
             f"bez zmian {c['unchanged']}, z ostrzeżeniami {c['warned']}, odrzucono {c['rejected']}"
             + (f", do przeglądu {c['review']}" if result.mode == "corrections" else "") + "."]
    if result.ignored_columns:
        lines.append("Pominięte kolumny (nierozpoznane; wskaż je w pliku mapowania, jeśli są potrzebne): "
                     + ", ".join(f"„{h}”" for h in result.ignored_columns))
    lines += _listing("Dodane", result.added, lambda r: f"  wiersz {r.row}: {r.id} {r.name} [{r.types}]"
                      + (" (typ ustalony z nazwy)" if r.types_from == "name" else
                         " (typ ustalony z formy prawnej/typu)" if r.types_from else ""), limit)
    lines += _listing("Zmiany", result.changes, lambda r: f"  wiersz {r.row}: {r.id} {r.column}: „{r.old}” → „{r.new}”",
                      limit)
    lines += _listing("Ostrzeżenia", result.warnings,
                      lambda r: f"  wiersz {r.row}, kolumna {r.column}: {r.reason}" + (f" („{r.value}”)" if r.value else ""),
                      limit)
    lines += _listing("Odrzucone wiersze", result.rejects, lambda r: f"  wiersz {r.row}, kolumna {r.column}: {r.reason}",
                      limit)
    lines += _listing("Do przeglądu (nie zastosowano)", result.review,
                      lambda r: f"  wiersz {r.row}: {r.id} {r.column}: „{r.current}” → „{r.proposed}” — {r.reason}", limit)
    # Rows the geocoder may now place: new ones, and those whose place (not just a number) changed.
    moved = result.changes[result.changes["column"].isin(PLACE_FIELDS)]["id"] if len(result.changes) else []
    unplaced = result.merged["lat"].eq("") & result.merged["id"].isin(list(result.added["id"]) + list(moved))
    if unplaced.any():
        lines.append(f"Bez współrzędnych po imporcie: {count(int(unplaced.sum()), 'podmiot')} — uruchom "
                     "`python -m geoes geocode`.")
    if result.relocated:
        lines.append("Zmieniono miejsce — usunięto stare współrzędne, uruchom `python -m geoes geocode`: "
                     + ", ".join(result.relocated))
    lines += [f"Zapisano {p}" for p in written or []]
    lines.append("Próba (--dry-run): niczego nie zapisano." if dry_run
                 else f"Zapisano {count(len(result.merged), 'podmiot')} w {output}.")
    return "\n".join(lines)
