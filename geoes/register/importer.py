"""Import a register export (XLSX or CSV, Polish or English headers) into the entity record.

    read → map headers (built-in aliases, or a mapping file for layouts they do not cover)
         → normalise values (types, postal codes, phones, identifiers, decimal commas; gmina and powiat
           names → TERYT codes) → give rows without an id a stable one → validate (geoes.register.validate)
         → merge with the existing record by id, KRS or NIP, never duplicating.

The merge updates only what the export states: an empty cell or a missing column never erases a value,
`sources` are united, and coordinates are replaced only by ones of at least the same precision. When the
address of a placed entity changes and the export gives no coordinates, its old point is removed so that
`geocode` places it again.
"""
from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from geoes.register import normalise as norm
from geoes.common.excel import neutralise_frame
from geoes.config import Settings
from geoes.register.record import (COLUMNS, check_file, HEADER_ALIASES, SOURCES_SEPARATOR, UnreadableFile,
                       decode_bytes, read_table, write_entities)

PRECISION_RANK = {"none": 0, "gmina": 1, "locality": 2, "street": 3, "address": 4}
# Helper columns an export may have; they are folded into record columns.
HELPER_COLUMNS = ("gmina", "powiat", "house_number", "premises")
ADDRESS_COLUMNS = ("street", "postal_code", "locality", "gmina_teryt", "powiat_teryt")
COORDINATE_COLUMNS = ("lat", "lon", "location_precision", "geocoder")
REJECT_COLUMNS = ["file", "row", "column", "reason"]
ID_PREFIX = "pes-"



class ImportFailed(UnreadableFile):
    """The import cannot proceed (bad mapping file, missing reference data): exit code 2."""


@dataclass
class ImportResult:
    merged: pd.DataFrame
    added: pd.DataFrame                 # row, id, name
    changed: pd.DataFrame               # row, id, name, columns
    unchanged: int
    rejects: pd.DataFrame               # file, row, column, reason + the row's fields
    ignored_columns: list[str] = field(default_factory=list)
    relocated: list[str] = field(default_factory=list)   # ids whose old point was removed (address changed)
    source: str = ""
    rows_read: int = 0

    @property
    def rejected_rows(self) -> int:
        return int(self.rejects["row"].nunique()) if len(self.rejects) else 0


# --- reading --------------------------------------------------------------------------------------

def header_key(name: str) -> str:
    key = re.sub(r"\s+", " ", str(name).replace("\ufeff", "")).strip().strip(":*").strip().lower()
    return key


def _target_for(header: str, mapping: dict[str, str]) -> str | None:
    key = header_key(header)
    if not key:
        return None
    if key in mapping:
        return mapping[key]  # '' = skipped on purpose
    for k in (key, re.sub(r"\s*\(.*?\)\s*", " ", key).strip()):
        if k in COLUMNS:
            return k
        if k in HEADER_ALIASES:
            return HEADER_ALIASES[k]
    return None


def read_mapping(path: Path | str) -> dict[str, str]:
    """A mapping file: CSV, first column the export's header, second the record column ('' or '-' to skip).

    The record columns are those of the entity record plus the helpers gmina, powiat (names),
    house_number and premises (joined to the street).
    """
    path = Path(path)
    try:
        text = decode_bytes(path.read_bytes(), path)
    except OSError as exc:
        raise ImportFailed(f"{path}: nie można otworzyć pliku mapowania ({exc.strerror})") from None
    delimiter = ";" if text.split("\n", 1)[0].count(";") > text.split("\n", 1)[0].count(",") else ","
    allowed = set(COLUMNS) | set(HELPER_COLUMNS)
    mapping: dict[str, str] = {}
    for n, row in enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), start=1):
        if len(row) < 2 or not any(c.strip() for c in row):
            continue
        source, target = header_key(row[0]), row[1].strip().lower()
        if n == 1 and target not in allowed and any(w in target for w in ("kolumn", "rekord", "target",
                                                                              "column", "pole")):
            continue  # a header row such as "kolumna w pliku,kolumna rekordu"
        if target in ("", "-"):
            mapping[source] = ""
        elif target in allowed:
            mapping[source] = target
        else:
            raise ImportFailed(f"{path}, wiersz {n}: nieznana kolumna rekordu „{row[1].strip()}” "
                               f"(dozwolone: {', '.join(COLUMNS)}, {', '.join(HELPER_COLUMNS)})")
    if not mapping:
        raise ImportFailed(f"{path}: plik mapowania jest pusty")
    return mapping


def _xlsx_rows(path: Path) -> list[list[tuple[int, list[str]]]]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a broken file
        raise UnreadableFile(f"{path}: nie można odczytać pliku XLSX ({type(exc).__name__})") from None
    try:
        sheets = []
        for ws in wb.worksheets:
            rows = [(n, [norm.cell_text(v) for v in values])
                    for n, values in enumerate(ws.iter_rows(values_only=True), start=1)]
            sheets.append(rows)
        return sheets
    finally:
        wb.close()


def _csv_rows(path: Path, raw: bytes) -> list[list[tuple[int, list[str]]]]:
    text = decode_bytes(raw, path)
    if not text.strip():
        raise UnreadableFile(f"{path}: plik jest pusty")
    candidates = []
    for delimiter in (";", ",", "\t"):
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        rows = []
        try:
            for values in reader:
                rows.append((reader.line_num, [v.strip() for v in values]))
        except csv.Error as exc:
            raise UnreadableFile(f"{path}: nieprawidłowy format CSV ({exc})") from None
        candidates.append(rows)
    return candidates


def _find_header(rows: list[tuple[int, list[str]]], mapping: dict[str, str]) -> tuple[int, list[str | None]] | None:
    for pos, (_, values) in enumerate(rows[:15]):
        targets = [_target_for(v, mapping) for v in values]
        known = [t for t in targets if t]
        if "name" in known and len(set(known)) >= 2:
            return pos, targets
    return None


def read_export(path: Path | str, mapping: dict[str, str] | None = None) -> tuple[pd.DataFrame, list[str]]:
    """Read an export into a frame of strings: `row` (as Excel numbers it) + mapped columns.

    Returns the frame and the list of the export's columns that were not used.
    """
    path = check_file(path)
    mapping = mapping or {}
    suffix = path.suffix.lower()
    if suffix == ".xls":
        raise UnreadableFile(f"{path}: stary format Excela (.xls) — zapisz plik jako .xlsx lub CSV")
    if suffix in (".xlsx", ".xlsm"):
        tables = _xlsx_rows(path)
    else:
        tables = _csv_rows(path, path.read_bytes())
    best = None
    for rows in tables:
        found = _find_header(rows, mapping)
        if found and (best is None or sum(map(bool, found[1])) > sum(map(bool, best[1][1]))):
            best = (rows, found)
            if suffix in (".xlsx", ".xlsm"):
                break  # the first sheet with a recognisable header
    if best is None:
        raise UnreadableFile(
            f"{path}: nie rozpoznano nagłówka (potrzebna co najmniej kolumna nazwy, np. „Nazwa”, i jedna inna); "
            "dla nietypowego układu podaj plik mapowania: --mapping MAPOWANIE.csv")
    rows, (pos, targets) = best
    header = rows[pos][1]
    used: dict[str, int] = {}
    ignored: list[str] = []
    for j, (h, t) in enumerate(zip(header, targets)):
        if t and t not in used:
            used[t] = j
        elif t == "":
            continue  # skipped in the mapping file
        elif h.strip():
            ignored.append(h.strip() + (f" (powtórzona kolumna {t})" if t else ""))
    records, numbers = [], []
    for line, values in rows[pos + 1:]:
        if not any(v.strip() for v in values):
            continue
        records.append({t: (values[j].strip() if j < len(values) else "") for t, j in used.items()})
        numbers.append(line)
    frame = pd.DataFrame(records, columns=list(used), dtype=object).fillna("")
    frame.insert(0, "row", numbers)
    return frame, ignored


# --- normalising ----------------------------------------------------------------------------------

_URL_RE = re.compile(r"https?://[^\s|;,<>\"']+(?:,[^\s|;<>\"']+)*", re.IGNORECASE)


def _sources(value: str) -> str:
    value = value.strip()
    if not value or SOURCES_SEPARATOR.strip() in value:
        return value
    urls = _URL_RE.findall(value)
    rest = _URL_RE.sub("", value).strip(" ;,\n\t")
    return SOURCES_SEPARATOR.join(urls) if urls and not rest else value


_NORMALISERS = {
    "types": norm.type_codes, "postal_code": norm.postal_code, "phone": norm.phone, "krs": norm.krs,
    "nip": norm.digits_id, "regon": norm.digits_id, "lat": norm.decimal, "lon": norm.decimal,
    "employees": norm.integer, "social_enterprise": norm.boolean, "status": norm.status,
    "location_precision": norm.precision, "website": norm.website, "email": norm.email, "sources": _sources,
    "gmina_teryt": lambda v: re.sub(r"\s", "", v), "powiat_teryt": lambda v: re.sub(r"\s", "", v),
}


def normalise_frame(frame: pd.DataFrame, settings: Settings | None = None,
                    gazetteer=None) -> tuple[pd.DataFrame, list[dict]]:
    """Normalise values column by column; gmina/powiat names become TERYT codes.

    Returns the frame (record columns present in the export, strings) and problems (row, column, reason).
    """
    f = frame.copy()
    problems: list[dict] = []
    for col in f.columns:
        if col != "row":
            f[col] = f[col].fillna("").astype(str).str.strip()
    if "name" in f:
        f["name"] = f["name"].str.replace(r"\s+", " ", regex=True)
    for col, fn in _NORMALISERS.items():
        if col in f:
            uniques = {v: fn(v) for v in f[col].unique()}
            f[col] = f[col].map(uniques)
    if "legal_form" in f:  # "Forma prawna: spółdzielnia socjalna" says the type when Typ is missing
        derived = f["legal_form"].map(norm.known_type_codes)
        if "types" not in f:
            f["types"] = ""
        f["types"] = f["types"].where(f["types"].ne(""), derived)
    if "house_number" in f or "premises" in f:
        street = f["street"] if "street" in f else pd.Series("", index=f.index)
        number = f["house_number"] if "house_number" in f else pd.Series("", index=f.index)
        premises = f["premises"] if "premises" in f else pd.Series("", index=f.index)
        number = number.where(premises.eq("") | number.eq(""), number + "/" + premises)
        f["street"] = (street + " " + number).str.strip()
        f = f.drop(columns=[c for c in ("house_number", "premises") if c in f])
    if ("gmina" in f and f["gmina"].ne("").any()) or ("powiat" in f and f["powiat"].ne("").any()):
        if gazetteer is None:
            from geoes.sources.gazetteer import Gazetteer

            gazetteer = Gazetteer.load(settings or Settings.from_env())
        for col, target in (("powiat", "powiat_teryt"), ("gmina", "gmina_teryt")):
            if col not in f:
                continue
            if target not in f:
                f[target] = ""
            memo: dict[tuple[str, str], tuple[str, str]] = {}   # resolve each distinct name once
            for i in f.index[f[col].ne("")]:
                name = f.at[i, col]
                powiat = f.at[i, "powiat_teryt"] if target == "gmina_teryt" and "powiat_teryt" in f else ""
                if (name, powiat) not in memo:
                    memo[name, powiat] = (gazetteer.resolve_gmina(name, powiat) if target == "gmina_teryt"
                                          else gazetteer.resolve_powiat(name))
                code, why = memo[name, powiat]
                if why:
                    problems.append({"_index": i, "row": f.at[i, "row"], "column": target, "reason": why})
                elif f.at[i, target] and f.at[i, target] != code:
                    problems.append({"_index": i, "row": f.at[i, "row"], "column": target,
                                     "reason": f"kod {f.at[i, target]} nie zgadza się z nazwą „{name}” ({code})"})
                else:
                    f.at[i, target] = code
        if "gmina_teryt" in f and "powiat_teryt" in f:
            clash = f["gmina_teryt"].ne("") & f["powiat_teryt"].ne("") & \
                f["gmina_teryt"].str[:4].ne(f["powiat_teryt"])
            for i in f.index[clash]:
                problems.append({"_index": i, "row": f.at[i, "row"], "column": "gmina_teryt",
                                 "reason": f"gmina {f.at[i, 'gmina_teryt']} nie leży w powiecie "
                                           f"{f.at[i, 'powiat_teryt']}"})
        f = f.drop(columns=[c for c in ("gmina", "powiat") if c in f])
    return f, problems


def stable_id(name: str, locality: str) -> str:
    """A deterministic id for a row without one: the same name and locality always give the same id."""
    key = f"{norm.text_key(name)}|{norm.text_key(locality)}"
    return ID_PREFIX + hashlib.sha1(key.encode("utf-8")).hexdigest()[:10]


# --- merging --------------------------------------------------------------------------------------

def _rank(precision: str, lat: str) -> int:
    return PRECISION_RANK.get(precision or "locality", 0) if lat else 0


def _as_strings(valid: pd.DataFrame) -> pd.DataFrame:
    out = valid.copy()
    for col in ("lat", "lon"):
        out[col] = out[col].map(lambda v: "" if pd.isna(v) else f"{float(v):.6f}")
    out["employees"] = out["employees"].map(lambda v: "" if pd.isna(v) else str(int(v)))
    for col in COLUMNS:
        out[col] = out[col].fillna("").astype(str)
    return out


def _union_sources(old: str, new: str) -> str:
    items = []
    for part in (old.split(SOURCES_SEPARATOR.strip()) + new.split(SOURCES_SEPARATOR.strip())):
        part = part.strip()
        if part and part not in items:
            items.append(part)
    return SOURCES_SEPARATOR.join(items)


def import_frame(frame: pd.DataFrame, existing: pd.DataFrame, settings: Settings, source_name: str,
                 gazetteer=None) -> ImportResult:
    """Normalise, match, validate and merge an export frame (from `read_export`) into `existing`.

    Each export row is matched to an existing entity by id, then KRS, then NIP; what it states (non-empty
    cells) is laid over that entity, and the result is validated as a whole record — so an update that
    only gives a new phone number need not repeat the name and type.
    """
    from geoes.register.validate import validate_frame

    existing = existing.reindex(columns=COLUMNS).fillna("").astype(str).reset_index(drop=True)
    f, problems = normalise_frame(frame, settings, gazetteer)
    for col in COLUMNS:
        if col not in f:
            f[col] = ""
    by_id = {v: i for i, v in existing["id"].items() if v}
    by_krs = {k: i for i, k in existing["krs"].map(norm.krs).items() if k}
    by_nip = {k: i for i, k in existing["nip"].map(norm.digits_id).items() if k}
    bad = {p["_index"] for p in problems}
    taken: dict[int, int] = {}                  # existing index → export row that matched it
    in_file: dict[str, dict] = {"id": {}, "krs": {}, "nip": {}}   # identifiers seen earlier in this file
    proposed, targets, relocated = [], {}, {}
    source_label = f"import:{Path(source_name).name}"
    for i, new in f.iterrows():
        if i in bad:
            continue
        ident = new["id"] or (stable_id(new["name"], new["locality"]) if new["name"] else "")
        keys = {"id": ident, "krs": new["krs"], "nip": new["nip"]}
        seen = [k for k, v in keys.items() if v and v in in_file[k]]
        if seen:
            k = seen[0]
            what = "ta sama nazwa i miejscowość" if k == "id" and not new["id"] else f"ten sam {k.upper()}"
            problems.append({"_index": i, "row": new["row"], "column": k,
                             "reason": f"ten sam podmiot co wiersz {in_file[k][keys[k]]} ({what})"})
            continue
        hits = {h for h in (by_id.get(ident) if ident else None,
                            by_krs.get(new["krs"]) if new["krs"] else None,
                            by_nip.get(new["nip"]) if new["nip"] else None) if h is not None}
        if len(hits) > 1:
            who = ", ".join(sorted(existing.loc[list(hits), "id"]))
            problems.append({"_index": i, "row": new["row"], "column": "id",
                             "reason": f"konflikt: id, KRS i NIP wskazują różne podmioty ({who})"})
            continue
        target = hits.pop() if hits else None
        if target is not None and target in taken:
            problems.append({"_index": i, "row": new["row"], "column": "id",
                             "reason": f"ten sam podmiot co wiersz {taken[target]} ({existing.at[target, 'id']})"})
            continue
        coords = bool(new["lat"] and new["lon"])
        partial = bool(new["lat"]) != bool(new["lon"])   # kept so that validation names the row
        if coords:
            new["location_precision"] = new["location_precision"] or "locality"
            new["geocoder"] = new["geocoder"] or source_label
        if target is None:
            row = {c: new[c] for c in COLUMNS}
            row["id"] = ident
            if not coords and not partial:
                row.update(lat="", lon="", location_precision="none", geocoder="")
        else:
            taken[target] = new["row"]
            old = existing.loc[target]
            row = {c: old[c] for c in COLUMNS}
            for col in COLUMNS:
                if col in ("id", *COORDINATE_COLUMNS) or not new[col]:
                    continue
                row[col] = _union_sources(old[col], new[col]) if col == "sources" else new[col]
            address_changed = any(row[c] != old[c] for c in ADDRESS_COLUMNS)
            if partial:
                row.update(lat=new["lat"], lon=new["lon"])
            elif coords and _rank(new["location_precision"], "1") >= _rank(old["location_precision"], old["lat"]):
                row.update({c: new[c] for c in COORDINATE_COLUMNS})
            elif not coords and old["lat"] and address_changed:
                row.update(lat="", lon="", location_precision="none", geocoder="")
                relocated[i] = old["id"]
            targets[i] = target
        row["row"], row["_src"] = new["row"], i
        proposed.append(row)
        for k in ("id", "krs", "nip"):
            if row[k]:
                in_file[k].setdefault(row[k], new["row"])

    cand = pd.DataFrame(proposed, columns=["row", *COLUMNS, "_src"])
    if len(cand):
        valid, rejects = validate_frame(cand, settings, source_name)
        valid = _as_strings(valid)
    else:
        valid, rejects = cand, pd.DataFrame(columns=REJECT_COLUMNS)

    merged = existing.copy()
    added, changed, new_rows = [], [], []
    unchanged = 0
    for _, new in valid.iterrows():
        i = new["_src"]
        target = targets.get(i)
        if target is None:
            new_rows.append({c: new[c] for c in COLUMNS})
            added.append({"row": new["row"], "id": new["id"], "name": new["name"]})
            continue
        old = existing.loc[target]
        diff = [c for c in COLUMNS if c not in COORDINATE_COLUMNS and new[c] != old[c]]
        if any(new[c] != old[c] for c in ("lat", "lon", "location_precision")):
            diff.append("lat/lon" if new["lat"] else "lat/lon usunięte")
        for col in COLUMNS:
            merged.at[target, col] = new[col]
        if diff:
            changed.append({"row": new["row"], "id": new["id"], "name": new["name"], "columns": ", ".join(diff)})
        else:
            unchanged += 1

    if new_rows:
        merged = pd.concat([merged, pd.DataFrame(new_rows, columns=COLUMNS)], ignore_index=True)

    # Rejects: file, row, column, reason + the row as the export has it (so the operator can fix it there).
    own = pd.DataFrame(problems, columns=["_index", "row", "column", "reason"]).drop(columns="_index")
    own.insert(0, "file", source_name)
    listed = [r for r in (rejects.reindex(columns=REJECT_COLUMNS), own) if len(r)]
    all_rejects = pd.concat(listed, ignore_index=True) if listed else pd.DataFrame(columns=REJECT_COLUMNS)
    if len(all_rejects):
        all_rejects["file"] = source_name
        all_rejects = all_rejects.sort_values(["row", "column"], kind="stable").reset_index(drop=True)
        original = frame.drop_duplicates("row").set_index("row")
        all_rejects = all_rejects.join(original, on="row")
    valid_src = set(valid["_src"])
    return ImportResult(
        merged=merged, added=pd.DataFrame(added, columns=["row", "id", "name"]),
        changed=pd.DataFrame(changed, columns=["row", "id", "name", "columns"]), unchanged=unchanged,
        rejects=all_rejects, relocated=[v for k, v in relocated.items() if k in valid_src],
        source=source_name, rows_read=len(frame),
    )


def default_rejects_path(path: Path | str) -> Path:
    path = Path(path)
    return path.with_name(f"{path.stem}.odrzucone.csv")   # as `validate` names its rejects file


def import_file(path: Path | str, settings: Settings, output: Path | str | None = None,
                mapping_path: Path | str | None = None, dry_run: bool = False,
                rejects_path: Path | str | None = None) -> ImportResult:
    path = Path(path)
    output = Path(output) if output else settings.entities_path
    mapping = read_mapping(mapping_path) if mapping_path else None
    frame, ignored = read_export(path, mapping)
    existing = read_table(output).drop(columns=["row"]) if output.exists() else pd.DataFrame(columns=COLUMNS)
    result = import_frame(frame, existing, settings, str(path))
    result.ignored_columns = ignored
    if not dry_run:
        write_entities(result.merged, output)
        if len(result.rejects):
            from geoes.common.atomic import atomic_write_bytes

            # UTF-8 with BOM, like `validate`: Excel opens it with Polish letters intact.
            atomic_write_bytes(rejects_path or default_rejects_path(path),
                               neutralise_frame(result.rejects).to_csv(index=False, lineterminator="\n").encode("utf-8-sig"))
    return result


def format_result(result: ImportResult, output: Path | str, rejects_path: Path | str | None,
                  dry_run: bool = False, limit: int = 30) -> str:
    lines = [f"Plik {result.source}: wierszy {result.rows_read}; dodano {len(result.added)}, "
             f"zmieniono {len(result.changed)}, bez zmian {result.unchanged}, odrzucono {result.rejected_rows}."]
    if result.ignored_columns:
        lines.append("Pominięte kolumny (nieznane; dodaj je do pliku mapowania, jeśli są potrzebne): "
                     + ", ".join(result.ignored_columns))
    for title, frame, fmt in (
        ("Dodane", result.added, lambda r: f"  wiersz {r.row}: {r.id} {r.name}"),
        ("Zmienione", result.changed, lambda r: f"  wiersz {r.row}: {r.id} {r.name} — {r.columns}"),
    ):
        if len(frame):
            lines.append(f"{title}:")
            lines += [fmt(r) for r in frame.head(limit).itertuples()]
            if len(frame) > limit:
                lines.append(f"  … i {len(frame) - limit} więcej")
    unplaced = result.merged["lat"].eq("") & result.merged["id"].isin(
        list(result.added["id"]) + list(result.changed["id"]))
    if unplaced.any():
        lines.append(f"Bez współrzędnych po imporcie: {int(unplaced.sum())} — uruchom `python -m geoes geocode`.")
    if result.relocated:
        lines.append("Zmieniono adres — usunięto stare współrzędne, uruchom `python -m geoes geocode`: "
                     + ", ".join(result.relocated))
    if len(result.rejects):
        lines.append("Odrzucone wiersze:")
        rej = result.rejects
        lines += [f"  wiersz {r.row}, kolumna {r.column}: {r.reason}" for r in rej.head(limit).itertuples()]
        if len(rej) > limit:
            lines.append(f"  … i {len(rej) - limit} więcej")
        if not dry_run:
            lines.append(f"Odrzucone wiersze z powodami zapisano w {rejects_path}")
    if dry_run:
        lines.append("Próba (--dry-run): niczego nie zapisano.")
    else:
        lines.append(f"Zapisano {len(result.merged)} podmiotów w {output}.")
    return "\n".join(lines)
