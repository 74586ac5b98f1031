"""Which column of a register file is which field of the record: a proposal, its confirmation, saved layouts.

Headers are compared folded (geoes.common.text.fold: case, diacritics, punctuation, underscores and
spaces do not matter) against the record's columns and the aliases in geoes/reference/header_aliases.csv.
A header is matched, in order:

1. `exact` — it is a column name or an alias, also after leaving out a remark in parentheses
   ("Typ podmiotu (CIS/KIS/WTZ…)") or a label before a colon ("Adres: ulica i nr");
2. `combined` — its parts, split at / , + & "i" "lub" "oraz", name fields that one combined target
   reads from one cell: `legal_form/types` ("Forma prawna / typ"), `identifiers` ("NIP/REGON": numbers
   told apart by length and checksum), `address` (street, postal code, locality), `contacts` (phone,
   e-mail, www); parts naming one field ("prowadzący lub założyciele") are that field;
3. `fuzzy` — it begins with an alias ("teryt gminy wg gazetteera") or is a near spelling of one
   ("Miejscowsc"): a guess, to be confirmed;
4. `ordinal` — "Lp.", or a "Nr" column holding 1, 2, 3…: left out;
5. otherwise not recognised: left out and listed.

Remark-like headers ("Uwagi", "Notatki", "Komentarz", "Do sprawdzenia"…) are the record's `internal_notes`
(never published); only a header that plainly says so ("Opis", "Opis działalności") is the public
`description`.

Two columns giving one field (`sources`, `description` and `internal_notes` excepted: they are joined) are a conflict: the better
match (then the leftmost) is proposed, the other left out, and the proposal must be confirmed, like any
fuzzy guess or a combination the importer cannot split. A missing required column (the name; for
corrections the id, the field and the value) is not a question but a stop: `MissingColumn`, one message
with the headers found.

A confirmed mapping (`Mapping`: header → target) is saved as JSON named by the layout's fingerprint
(the folded headers, sorted) and applied by itself to the next file of the same layout. Mapping files
written by hand are CSV: header;target per line, "-" to leave a column out.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path

from rapidfuzz import fuzz, process

from geoes.common.atomic import atomic_write_text
from geoes.common.excel import OfficeFile, UnreadableFile, decode_text, sniff_delimiter
from geoes.common.reference import header_aliases
from geoes.common.text import fold
from geoes.register.record import COLUMNS

SKIP = "-"
HELPERS = {
    "gmina": "nazwa gminy (→ gmina_teryt)", "powiat": "nazwa powiatu (→ powiat_teryt)",
    "house_number": "numer domu (dołączany do ulicy)", "premises": "numer lokalu (dołączany do ulicy)",
}
COMBINED = {
    "legal_form/types": "forma prawna lub typ: typ rozpoznany z wartości, forma prawna zapisana",
    "identifiers": "KRS/NIP/REGON rozdzielone wg długości i sumy kontrolnej",
    "address": "adres: ulica, kod pocztowy i miejscowość rozdzielone",
    "contacts": "telefon, e-mail i strona www rozdzielone",
}
LONG = {"field": "nazwa pola (układ poprawek)", "value": "wartość pola (układ poprawek)",
        "note": "uwaga do wiersza poprawki (pokazywana; przy zastosowanej zmianie zapisana w uwagach wewnętrznych)"}
TARGETS = (*COLUMNS, *HELPERS, *COMBINED, *LONG)
# Several columns giving one of these are joined (with this separator), never in conflict.
MULTI = {"sources": " | ", "description": "; ", "internal_notes": "; "}
# What a target fills: (fields it states, fields it fills only where no other column states them).
PROVIDES = {
    "legal_form/types": ({"legal_form"}, {"types"}),
    "identifiers": (set(), {"krs", "nip", "regon"}),
    "address": ({"street"}, {"postal_code", "locality"}),
    "contacts": (set(), {"phone", "email", "website"}),
}
# Parts of a combined header → the combined target.
_COMBINATIONS = [
    ({"legal_form", "types"}, "legal_form/types"),
    ({"krs", "nip", "regon"}, "identifiers"), ({"nip", "regon"}, "identifiers"), ({"krs", "nip"}, "identifiers"),
    ({"krs", "regon"}, "identifiers"),
    ({"street", "house_number"}, "street"), ({"street", "house_number", "premises"}, "street"),
    ({"postal_code", "locality"}, "address"), ({"street", "postal_code", "locality"}, "address"),
    ({"address", "postal_code", "locality"}, "address"), ({"street", "locality"}, "address"),
    ({"phone", "email"}, "contacts"), ({"phone", "email", "website"}, "contacts"), ({"email", "website"}, "contacts"),
    ({"phone", "website"}, "contacts"),
]
_SPLIT_RE = re.compile(r"\s*(?:/|\\|\+|&|,|;|\s+lub\s+|\s+i\s+|\s+oraz\s+|\s+albo\s+)\s*", re.IGNORECASE)
_ORDINAL_HEADERS = {"", "lp", "l p", "nr", "no", "nr porzadkowy", "liczba porzadkowa"}
REQUIRED_COLUMNS = {"entities": ("name",), "corrections": ("id", "field", "value")}
# Columns of a rejects file written by the importer: a re-uploaded rejects file maps as its original.
REJECT_HEADERS = ("file", "row", "column", "reason")
_RANK = {"confirmed": 0, "saved": 0, "exact": 1, "combined": 2, "fuzzy": 3}
FUZZY_MIN = 85
HEADER_SEARCH_ROWS = 20


class MissingColumn(UnreadableFile):
    """A required field has no column: the import stops at once, with the headers found."""


class MappingNeedsConfirmation(UnreadableFile):
    """The proposal has guesses or conflicts: confirm it (or give a mapping) before importing."""

    def __init__(self, description: str, proposal: "MappingProposal"):
        super().__init__(description)
        self.proposal = proposal


class BadMapping(UnreadableFile):
    """A mapping file that cannot be used (unknown target, unreadable)."""


@dataclass
class ColumnMatch:
    index: int
    header: str
    target: str                   # a member of TARGETS, SKIP, or "" (not recognised)
    how: str                      # exact | combined | fuzzy | ordinal | saved | confirmed | conflict | unknown
    score: int = 100
    note: str = ""

    @property
    def used(self) -> bool:
        return self.target not in ("", SKIP) and self.how not in ("conflict", "unknown")

    @property
    def uncertain(self) -> bool:
        return self.how in ("fuzzy", "conflict") or (self.how == "unknown" and bool(self.note))


@dataclass
class Conflict:
    field: str
    headers: list[str]
    chosen: str


@dataclass
class MappingProposal:
    source: str
    sheet: str
    header_row: int
    headers: list[str]
    columns: list[ColumnMatch]
    conflicts: list[Conflict]
    layout: str                                       # "entities" or "corrections"
    fingerprint: str
    missing: list[str]
    data: list[tuple[int, list[str]]] = field(default_factory=list, repr=False)   # the rows under the header
    saved_from: str = ""

    @property
    def uncertain(self) -> list[ColumnMatch]:
        return [c for c in self.columns if c.uncertain]

    @property
    def needs_confirmation(self) -> bool:
        return bool(self.uncertain or self.conflicts)

    @property
    def used(self) -> list[ColumnMatch]:
        return [c for c in self.columns if c.used]

    @property
    def ignored(self) -> list[ColumnMatch]:
        return [c for c in self.columns if not c.used and c.header.strip() and c.how != "ordinal"
                and c.target != SKIP]

    def mapping(self) -> "Mapping":
        """The proposal as a mapping (conflict losers and unrecognised columns left out)."""
        cols = {c.header: (c.target if c.used else SKIP) for c in self.columns if c.header.strip()}
        return Mapping(cols, self.fingerprint, list(self.headers))

    def describe(self) -> str:
        return describe(self)


@dataclass
class Mapping:
    columns: dict[str, str]                           # header as in the file → target (SKIP: left out)
    fingerprint: str = ""
    headers: list[str] = field(default_factory=list)

    def target_for(self, header: str) -> str | None:
        return self._folded().get(fold(header))

    def _folded(self) -> dict[str, str]:
        return {fold(h): t for h, t in self.columns.items()}

    def to_json(self) -> dict:
        return {"version": 1, "fingerprint": self.fingerprint, "headers": self.headers, "columns": self.columns,
                "saved": datetime.now(timezone.utc).isoformat(timespec="seconds")}


# --- matching one header --------------------------------------------------------------------------

@lru_cache(maxsize=None)
def _aliases() -> dict[str, str]:
    return {**{fold(c): c for c in COLUMNS}, **{fold(h): t for h, t in header_aliases().items()}}


def _direct(header: str) -> tuple[str, str] | None:
    """(target, note) when the header, bare or without a remark or label, is a column or an alias."""
    aliases = _aliases()
    key = fold(header)
    if key in aliases:
        return aliases[key], ""
    bare = re.sub(r"\(.*?\)|\[.*?\]", " ", header)
    if fold(bare) in aliases and fold(bare):
        return aliases[fold(bare)], "uwaga w nawiasie pominięta"
    if ":" in bare:
        label, _, rest = bare.rpartition(":")
        for part in (rest, label):
            if fold(part) in aliases and fold(part):
                return aliases[fold(part)], ""
    return None


def _combined(header: str) -> ColumnMatch | None:
    bare = re.sub(r"\(.*?\)|\[.*?\]", " ", header).replace(":", " ")
    parts = [p for p in _SPLIT_RE.split(bare) if fold(p)]
    if len(parts) < 2:
        return None
    targets = [(_direct(p) or ("", ""))[0] for p in parts]
    if not all(targets) or SKIP in targets:
        return None
    found = set(targets)
    if len(found) == 1:
        return ColumnMatch(-1, header, targets[0], "exact", 100, "części nagłówka wskazują to samo pole")
    for combo, target in _COMBINATIONS:
        if found == combo:
            return ColumnMatch(-1, header, target, "combined", 100, COMBINED.get(target, ""))
    return ColumnMatch(-1, header, "", "unknown", 0,
                       "części nagłówka wskazują różne pola (" + ", ".join(sorted(found))
                       + "), których nie da się rozdzielić — wskaż jedno w mapowaniu")


def _fuzzy(header: str) -> ColumnMatch | None:
    key = fold(re.sub(r"\(.*?\)|\[.*?\]", " ", header))
    if len(key) < 3:
        return None
    aliases = _aliases()
    tokens = key.split()
    prefixes = [a for a in aliases if len(a) >= 4 and aliases[a] != SKIP and tokens[:len(a.split())] == a.split()]
    if prefixes:
        alias = max(prefixes, key=len)
        return ColumnMatch(-1, header, aliases[alias], "fuzzy", round(100 * len(alias) / len(key)),
                           f"zaczyna się od „{alias}”")
    hit = process.extractOne(key, [a for a in aliases if aliases[a] != SKIP], scorer=fuzz.ratio,
                             score_cutoff=FUZZY_MIN)
    if hit:
        return ColumnMatch(-1, header, aliases[hit[0]], "fuzzy", round(hit[1]), f"podobna do „{hit[0]}”")
    return None


LIKELY_MIN = 65


# Where offices join two fields in one header: "Gmina i powiat", "Nazwa podmiotu / forma prawna".
_HEADER_PARTS = re.compile(r"\s*(?:/|\\|,|;|\+|&|\bi\b|\boraz\b)\s*")


def likely_targets(header: str, limit: int = 3) -> list[str]:
    """The targets a header most resembles (its aliases compared as the fuzzy rule compares them), best first —
    the choices a person confirming the mapping is offered first. A combined header is also compared part by
    part, so "Gmina i powiat" offers both."""
    key = fold(re.sub(r"\(.*?\)|\[.*?\]", " ", header))
    if not key:
        return []
    aliases = _aliases()
    choices = [a for a in aliases if aliases[a] != SKIP]
    parts = [key, *(p for p in _HEADER_PARTS.split(key) if p and p != key)]
    scored: dict[str, float] = {}
    for part in parts:
        for alias, score, _i in process.extract(part, choices, scorer=fuzz.ratio, limit=limit * 6,
                                                score_cutoff=LIKELY_MIN):
            scored[aliases[alias]] = max(score, scored.get(aliases[alias], 0))
    return sorted(scored, key=lambda target: -scored[target])[:max(limit, len(parts) - 1)]


def match_header(header: str, index: int = -1, mapping: Mapping | None = None) -> ColumnMatch:
    """The target of one header (see the module docstring for the order of the rules)."""
    text = str(header).replace("\ufeff", "").replace("\u00a0", " ").strip()
    if mapping is not None and mapping.target_for(text) is not None:
        how = "saved" if mapping.fingerprint else "confirmed"
        return ColumnMatch(index, text, mapping.target_for(text), how, 100, "")
    if fold(text) in REJECT_HEADERS:
        return ColumnMatch(index, text, SKIP, "exact", 100, "kolumna pliku odrzuconych wierszy")
    direct = _direct(text)
    if direct:
        how = "combined" if direct[0] in COMBINED else "exact"
        return ColumnMatch(index, text, direct[0], how, 100, direct[1] or COMBINED.get(direct[0], ""))
    found = _combined(text) or _fuzzy(text) or ColumnMatch(-1, text, "", "unknown", 0, "")
    return replace(found, index=index)


# --- the proposal for a file ----------------------------------------------------------------------

def fingerprint(headers: list[str]) -> str:
    """The layout's key: its folded headers, sorted (the same columns in another order are one layout)."""
    keys = sorted(fold(h) for h in headers if fold(h) and fold(h) not in REJECT_HEADERS)
    return hashlib.sha256("\n".join(keys).encode("utf-8")).hexdigest()[:16]


def _layout(matches: list[ColumnMatch]) -> str:
    targets = {m.target for m in matches}
    return "corrections" if {"field", "value"} <= targets else "entities"


def _header_score(matches: list[ColumnMatch]) -> tuple[int, int]:
    targets = {m.target for m in matches if m.target not in ("", SKIP) and m.how != "fuzzy"}
    required = REQUIRED_COLUMNS[_layout(matches)]
    return (all(r in targets for r in required), len(targets))


def _find_header(office: OfficeFile, mapping: Mapping | None):
    """(sheet, position of the header row, matches): the first sheet whose header names the required
    fields; else the row that names the most fields anywhere."""
    best = None
    for sheet in office.sheets:
        for pos, (_, cells) in enumerate(sheet.rows[:HEADER_SEARCH_ROWS]):
            matches = [match_header(c, j, mapping) for j, c in enumerate(cells)]
            score = _header_score(matches)
            if score[0] and score[1] >= 2:
                return sheet, pos, matches
            if best is None or score > best[0]:
                best = (score, sheet, pos, matches)
    if best is None:
        raise UnreadableFile(f"{office.path}: plik nie zawiera żadnych danych")
    return best[1:]


def _is_ordinal(values: list[str]) -> bool:
    numbers = [v.strip().rstrip(".") for v in values if v.strip()]
    if len(numbers) < 2 or not all(n.isdigit() for n in numbers):
        return False
    ints = [int(n) for n in numbers]
    return all(b == a + 1 for a, b in zip(ints, ints[1:]))


def _mark_ordinals(matches: list[ColumnMatch], data: list[tuple[int, list[str]]]) -> None:
    for m in matches:
        if m.how in ("saved", "confirmed") or fold(m.header) not in _ORDINAL_HEADERS:
            continue
        values = [cells[m.index] if m.index < len(cells) else "" for _, cells in data[:1000]]
        if m.target == SKIP or _is_ordinal(values):
            m.target, m.how, m.note = SKIP, "ordinal", "liczba porządkowa — pominięta"


def _corrections_only(matches: list[ColumnMatch]) -> None:
    """In a field/value layout other columns can only say which entity, when, from where — or remark: a
    remark column ("Uwagi") is the note of its row (kept with an applied fact in the internal notes)."""
    for m in matches:
        if m.used and m.target == "internal_notes" and m.how not in ("saved", "confirmed"):
            m.target, m.note = "note", "uwaga do poprawki: pokazana przy zmianie, zapisana w uwagach wewnętrznych"
        elif m.used and m.target not in ("id", "name", "as_of", "sources", *LONG) and m.how not in ("saved", "confirmed"):
            m.note = f"w układzie poprawek (pole/wartość) potraktowana jako uwaga, nie jako {m.target}"
            m.target, m.how, m.score = "note", "fuzzy", 50


def _resolve_conflicts(matches: list[ColumnMatch]) -> list[Conflict]:
    by_field: dict[str, list[ColumnMatch]] = {}
    for m in matches:
        if not m.used:
            continue
        for f in PROVIDES.get(m.target, ({m.target}, set()))[0]:
            if f not in MULTI:
                by_field.setdefault(f, []).append(m)
    conflicts = []
    for f, ms in by_field.items():
        if len(ms) < 2:
            continue
        ms = sorted(ms, key=lambda m: (_RANK.get(m.how, 9), m.index))
        for loser in ms[1:]:
            if loser.used:
                loser.how, loser.note = "conflict", f"pole {f} już z kolumny „{ms[0].header}” — pominięta"
        conflicts.append(Conflict(f, [m.header for m in sorted(ms, key=lambda m: m.index)], ms[0].header))
    return conflicts


def propose_mapping(office: OfficeFile, mapping: Mapping | None = None, source: str | None = None,
                    mappings_dir: Path | None = None) -> MappingProposal:
    """The mapping proposal for a file read by geoes.common.excel.read_office_file.

    `mapping` (a confirmed or hand-written one) decides the headers it names; without it, a mapping
    saved in `mappings_dir` for the same layout is applied by itself.
    """
    sheet, pos, matches = _find_header(office, mapping)
    headers = [m.header for m in matches]
    fp = fingerprint(headers)
    saved_from = ""
    if mapping is None and mappings_dir is not None:
        saved = find_saved_mapping(mappings_dir, fp)
        if saved is not None:
            mapping, saved_from = saved, str(mappings_dir / f"{fp}.json")
            matches = [match_header(h, j, mapping) for j, h in enumerate(headers)]
    data = sheet.rows[pos + 1:]
    _mark_ordinals(matches, data)
    layout = _layout(matches)
    if layout == "corrections":
        _corrections_only(matches)
    conflicts = _resolve_conflicts(matches)
    targets = {t for m in matches if m.used for t in PROVIDES.get(m.target, ({m.target}, set()))[0] | {m.target}}
    missing = [r for r in REQUIRED_COLUMNS[layout] if r not in targets]
    return MappingProposal(source or str(office.path), sheet.name, sheet.rows[pos][0], headers, matches, conflicts,
                           layout, fp, missing, data, saved_from)


# --- confirming -----------------------------------------------------------------------------------

_FIELD_LABEL = {"name": "nazwa podmiotu", "id": "identyfikator podmiotu", "field": "nazwa pola (pole)",
                "value": "wartość pola (wartość)"}


def check_required(proposal: MappingProposal) -> None:
    """Raise MissingColumn (one message, the headers found, how to map one) when a required field has no column."""
    if not proposal.missing:
        return
    what = ", ".join(f"{m} ({_FIELD_LABEL.get(m, m)})" for m in proposal.missing)
    found = ", ".join(f"„{h}”" for h in proposal.headers if h.strip()) or "(brak)"
    raise MissingColumn(
        f"{proposal.source}: brak kolumny wymaganej: {what}. Nagłówki w pliku (wiersz {proposal.header_row}): "
        f"{found}. Wskaż kolumnę w pliku mapowania CSV (wiersz „nagłówek;{proposal.missing[0]}”) i podaj go "
        "opcją --mapping PLIK.csv — albo popraw nagłówek w pliku.")


def confirmation_message(proposal: MappingProposal) -> str:
    lines = [f"{proposal.source}: mapowanie kolumn wymaga potwierdzenia:"]
    for c in proposal.uncertain:
        if c.how == "conflict":
            continue
        target = c.target or "?"
        lines.append(f"  kolumna „{c.header}” → {target} (niepewne: {c.note})")
    for k in proposal.conflicts:
        lines.append(f"  pole {k.field}: kolumny " + ", ".join(f"„{h}”" for h in k.headers)
                     + f" — proponowana „{k.chosen}”, pozostałe pominięte")
    lines.append("Przyjmij propozycję: --accept-mapping (i zapamiętaj ją dla tego układu: --save-mapping), "
                 "albo podaj własne mapowanie: --mapping PLIK.csv (wiersze „nagłówek;pole”, „-” = pomiń; "
                 "wzór: --show-mapping).")
    return "\n".join(lines)


def confirm(proposal: MappingProposal, accept: bool = False) -> MappingProposal:
    """The proposal, ready to import: MissingColumn if a required field has no column;
    MappingNeedsConfirmation if it holds guesses or conflicts and `accept` is not given."""
    check_required(proposal)
    if proposal.needs_confirmation and not accept:
        raise MappingNeedsConfirmation(confirmation_message(proposal), proposal)
    return proposal


def describe(proposal: MappingProposal) -> str:
    """The proposal in Polish, one line per column (for the CLI; the console shows `columns`)."""
    where = f", arkusz „{proposal.sheet}”" if proposal.sheet else ""
    kind = " (układ poprawek: pole/wartość)" if proposal.layout == "corrections" else ""
    lines = [f"{proposal.source}{where}: nagłówek w wierszu {proposal.header_row}{kind}, układ {proposal.fingerprint}"
             + (f" (zapamiętane mapowanie {proposal.saved_from})" if proposal.saved_from else "")]
    how_pl = {"exact": "pewne", "combined": "połączona", "fuzzy": "niepewne", "ordinal": "pominięta",
              "saved": "zapamiętane", "confirmed": "z pliku mapowania", "conflict": "konflikt",
              "unknown": "nierozpoznana"}
    for c in proposal.columns:
        if not c.header.strip():
            continue
        target = c.target if c.target and c.target != SKIP else "—"
        note = f": {c.note}" if c.note else ""
        lines.append(f"  „{c.header}” → {target} [{how_pl.get(c.how, c.how)}{note}]")
    return "\n".join(lines)


def mapping_csv(proposal: MappingProposal) -> str:
    """The proposal as a mapping file to edit: header;target;how (read back by `load_mapping`)."""
    out = io.StringIO()
    w = csv.writer(out, delimiter=";", lineterminator="\n")
    w.writerow(["kolumna w pliku", "pole rekordu", "pewność", "uwagi"])
    for c in proposal.columns:
        if c.header.strip():
            w.writerow([c.header, c.target if c.used else SKIP, c.how, c.note])
    return out.getvalue()


# --- files ----------------------------------------------------------------------------------------

def find_saved_mapping(directory: Path | str, fp: str) -> Mapping | None:
    path = Path(directory) / f"{fp}.json"
    return load_mapping(path) if path.is_file() else None


def save_mapping(proposal: MappingProposal, target: Path | str) -> Path:
    """Save the confirmed proposal as JSON: into `target` if it is a directory (named by the layout's
    fingerprint, found again by `propose_mapping(..., mappings_dir=…)`), else at that path."""
    target = Path(target)
    path = target / f"{proposal.fingerprint}.json" if target.is_dir() or not target.suffix else target
    atomic_write_text(path, json.dumps(proposal.mapping().to_json(), ensure_ascii=False, indent=1) + "\n")
    return path


def load_mapping(path: Path | str) -> Mapping:
    """A saved JSON mapping, or a CSV one: first column the file's header, second the target ('-' skips)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise BadMapping(f"{path}: nie można otworzyć pliku mapowania ({exc.strerror})") from None
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(raw.decode("utf-8"))
            columns = {str(k): str(v) for k, v in data["columns"].items()}
        except (ValueError, KeyError, AttributeError):
            raise BadMapping(f"{path}: nieprawidłowy plik mapowania JSON") from None
        _check_targets(columns, path)
        return Mapping(columns, str(data.get("fingerprint", "")), list(data.get("headers", [])))
    return Mapping(_read_mapping_csv(raw, path))


def _read_mapping_csv(raw: bytes, path: Path) -> dict[str, str]:
    text, _ = decode_text(raw, str(path))
    delimiter = sniff_delimiter(text)
    columns: dict[str, str] = {}
    for n, row in enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), start=1):
        if len(row) < 2 or not row[0].strip():
            continue
        target = row[1].strip()
        if n == 1 and target.lower() not in (*TARGETS, SKIP, "") and any(
                w in fold(target) for w in ("kolumn", "rekord", "pole", "column", "target", "field")):
            continue  # a header row such as "kolumna w pliku;pole rekordu"
        columns[row[0].strip()] = target.lower() or SKIP
    if not columns:
        raise BadMapping(f"{path}: plik mapowania jest pusty")
    _check_targets(columns, path)
    return columns


def _check_targets(columns: dict[str, str], path: Path) -> None:
    for header, target in columns.items():
        if target not in (*TARGETS, SKIP):
            raise BadMapping(f"{path}: nieznana kolumna rekordu „{target}” dla „{header}” "
                             f"(dozwolone: {', '.join(TARGETS)}; „-” pomija kolumnę)")


def field_for(text: str) -> str:
    """The record field a corrections row names in its field column ("ulica_nr" → street); a combined
    name with a free-text part ("stan_wg_zrodla / fakty") means that part; '' when none is certain."""
    m = match_header(text)
    if m.used and m.how in ("exact", "combined") and m.target in COLUMNS:
        return m.target
    parts = [(_direct(p) or ("", ""))[0] for p in _SPLIT_RE.split(str(text)) if fold(p)]
    return "description" if "description" in parts else ""
