"""Verification of the register against KRS: what the official extract says that the register does not.

For every entity with a KRS number (or only those verified longer than N days ago) the current extract is
fetched (`geoes.sources.krs`: the likely part of the register first — S for associations, foundations and
church legal persons, P for cooperatives and companies — then the other) and compared field by field:

* `name` — case, quotes and the usual abbreviations of legal forms do not count as a difference;
* `legal_form` — the register's wording may be longer ("spółdzielnia socjalna" for KRS's "SPÓŁDZIELNIA",
  "… ze statusem OPP" for "… BĘDĄCA ORGANIZACJĄ POŻYTKU PUBLICZNEGO");
* the address of the seat — `street` (street and number, flat after a slash), `postal_code`, `locality`,
  and `gmina_teryt` from the seat's gmina (with the gazetteer, when the region's data were fetched);
* `nip`, `regon` (a 14-digit REGON ending in 00000 is the 9-digit one);
* whether the entry exists (an unknown number gives an `unknown` proposal) and whether it is being wound
  up (liquidation, bankruptcy, dissolution in section 6: `status` → inactive).

A unit with no legal personality of its own (a WTZ, ZAZ or CIS run by an association, a foundation or
Caritas) has no KRS number, but its operator has: `operator_krs`. Its extract is compared with the
`operator` the register names (the official name contained in it is agreement, so "lider: Caritas …;
partnerzy: …" agrees with CARITAS …); an operator KRS does not know, or one being wound up, is proposed
for review too. The operator's extract says nothing of the unit's own facts, so it never confirms the
unit: accepting an operator proposal does not set the unit's `verified_at`.

A difference becomes a **proposal** (geoes.register.proposals) with the official value written the way
the register writes it (KRS writes upper case) and the official text verbatim. An official field that
is empty is never proposed as a removal: the extract may simply not state it. An entity whose extract
agrees gets a `confirm` proposal, so that an operator's acceptance records the verification. The
register is read, never written: `verified_at` is set only when an operator accepts.
"""
from __future__ import annotations

import datetime as dt
import re
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from geoes.common.polish import today_in_poland
from geoes.common.reference import krs_legal_forms, voivodeships
from geoes.config import Settings
from geoes.register import proposals as store
from geoes.register.duplicates import DuplicateIndex
from geoes.register.identifiers import digits_only, krs_normalise, krs_valid
from geoes.common.text import ascii_key
from geoes.register.proposals import Proposal
from geoes.register.record import COLUMNS, read_table
from geoes.sources.gazetteer import Gazetteer
from geoes.sources.krs import Extract, KrsAnswerError, KrsClient, Lookup

SOURCE = "KRS"
# A run in which KRS knows none of at least this many numbers is a wrong address, not a wrong register.
ALL_UNKNOWN_MIN = 3
P_TYPES = {"spoldzielnia_socjalna", "spoldzielnia_pracy", "spoldzielnia_inwalidow", "spolka_non_profit"}


# --------------------------------------------------------------------------------------------------
# Writing KRS's upper case the way the register writes names of places and streets

# Roman numerals of street names ("Jana Pawła II", "I Armii Wojska Polskiej"): I to XXXIX.
_ROMAN = re.compile(r"^(?=[XVI])X{0,3}(IX|IV|V?I{0,3})$")
_ABBREVIATIONS = {a: a for a in ("ul.", "al.", "pl.", "os.", "św.", "gen.", "ks.", "bp.", "abp.", "prof.", "im.",
                                 "płk.", "mjr.", "kard.", "marsz.", "hm.", "dr", "inż.", "rtm.", "kpt.")}
_LOWER_WORDS = {"nad", "pod", "przy", "na", "w", "z", "ze", "k.", "koło"}
_STREET_PREFIXES = ("ul.", "al.", "pl.", "os.", "plac", "aleja", "aleje", "osiedle", "rynek", "skwer", "bulwar",
                    "ulica", "park", "wybrzeże", "droga", "trakt")


def _word(word: str, first: bool) -> str:
    lower = word.lower()
    if lower in _ABBREVIATIONS:
        return _ABBREVIATIONS[lower]
    if _ROMAN.match(word.strip("„”\"'(),").upper()):
        return word.upper()
    if lower in _LOWER_WORDS and not first:
        return lower
    if word[:1].isdigit():
        return word.upper()
    return "-".join(_capitalise(part) for part in word.split("-"))


def _capitalise(part: str) -> str:
    for i, ch in enumerate(part):
        if ch.isalpha():
            return part[:i] + ch.upper() + part[i + 1:].lower()
    return part


def polish_case(text: str) -> str:
    """'PL. JANA PAWŁA II' → 'pl. Jana Pawła II'; 'SKARŻYSKO-KAMIENNA' → 'Skarżysko-Kamienna'."""
    words = str(text or "").split()
    return " ".join(_word(w, i == 0) for i, w in enumerate(words))


def official_street(extract: Extract) -> tuple[str, str]:
    """(street as the register writes it, KRS's own text) from the extract's address."""
    a = extract.address
    street, number, flat = (str(a.get(k) or "").strip() for k in ("ulica", "nrDomu", "nrLokalu"))
    locality = str(a.get("miejscowosc") or extract.seat.get("miejscowosc") or "").strip()
    house = number + (f"/{flat}" if number and flat else "")
    raw = " ".join(x for x in (street, house) if x)
    if not street and not house:
        return "", ""
    if street:
        name = polish_case(street)
        if not name.lower().startswith(_STREET_PREFIXES):
            name = "ul. " + name
    else:  # an address without streets: "Szczaworyż 12"
        name = polish_case(locality)
    return " ".join(x for x in (name, house) if x), raw


# --------------------------------------------------------------------------------------------------
# Comparison keys: what counts as "the same"

_LEGAL_ABBREVIATIONS = (
    (r"\bspolka z ograniczona odpowiedzialnoscia\b", "sp z o o"), (r"\bspolka akcyjna\b", "sa"),
    (r"\bspolka komandytowa\b", "sp k"), (r"\bspolka jawna\b", "sp j"),
    (r"\bspoldzielnia socjalna\b", "ss"), (r"\bspoldzielnia\b", "sp"),
)
_OPP = (r"\bbedaca organizacja pozytku publicznego\b", r"\bze statusem (?:opp|organizacji pozytku publicznego)\b",
        r"\(opp\)", r"\bopp\b")


def _plain(value: str) -> str:
    key = ascii_key(value)
    key = re.sub(r"[.,;:()\"'/\\]", " ", key)
    return re.sub(r"\s+", " ", key).strip()


def name_key(value: str) -> str:
    key = _plain(value)
    for pattern, short in _LEGAL_ABBREVIATIONS:
        key = re.sub(pattern, short, key)
    return key.replace(" ", "")


def street_key(value: str) -> str:
    key = ascii_key(value)
    key = re.sub(r"^(?:ul\.?|ulica|al\.?|aleja|aleje|pl\.?|plac|os\.?|osiedle)\s+", "", key)
    return re.sub(r"[\s.,]", "", key)


def legal_form_key(value: str) -> str:
    key = ascii_key(value)
    for pattern in _OPP:
        key = re.sub(pattern, " ", key)
    return re.sub(r"\s+", " ", key).strip()


def same_legal_form(register: str, official: str) -> bool:
    r, o = legal_form_key(register), legal_form_key(official)
    return r == o or (bool(r) and (r.startswith(o) or o.startswith(r)))


def regon_key(value: str) -> str:
    d = digits_only(value)
    return d[:9] if len(d) == 14 and d.endswith("00000") else d


def official_regon(value: str) -> str:
    """KRS gives a legal person's 9-digit REGON padded to 14 digits; the register keeps 9."""
    return regon_key(value)


# --------------------------------------------------------------------------------------------------
# Which part of the register to ask first


@lru_cache(maxsize=None)
def _forms_longest_first() -> tuple[tuple[str, str], ...]:
    forms = {ascii_key(k): reg for k, (reg, _) in krs_legal_forms().items()}
    return tuple(sorted(forms.items(), key=lambda kv: -len(kv[0])))


def register_order(row: dict) -> str:
    """'S' or 'P': where the entity most likely is, from its legal form, else its types; S by default."""
    form = ascii_key(row.get("legal_form", ""))
    if form:
        forms = _forms_longest_first()
        for known, reg in forms:
            if form.startswith(known):
                return reg
        for known, reg in forms:  # the first word: "spółdzielnia socjalna", "fundacja rodzinna"
            if known.split()[0] in form.split():
                return reg
    types = set(str(row.get("types", "")).split(";"))
    return "P" if types & P_TYPES and not types - P_TYPES else "S"


# --------------------------------------------------------------------------------------------------
# Comparing one entity with its extract


@dataclass
class Context:
    today: str
    region: str
    region_name: str
    gazetteer: object | None = None
    seats: dict = field(default_factory=dict)    # (powiat, gmina) names → resolved (code, note), once each


def _proposal(row: dict, extract: Extract, field_: str, value: str, text: str, note: str) -> Proposal:
    return Proposal(kind="change", source=SOURCE, entity_id=row["id"], entity_name=row["name"], field=field_,
                    register_value=row.get(field_, ""), official_value=value, official_text=text,
                    source_url=extract.url, source_date=extract.as_of, note=note)


def _seat_gmina(extract: Extract, ctx: Context) -> tuple[str, str]:
    """(gmina TERYT, '') from the seat's powiat and gmina names; ('', warning) when it cannot be said."""
    seat = extract.seat
    woj = str(seat.get("wojewodztwo") or "").strip()
    if woj and ascii_key(woj) != ascii_key(ctx.region_name):
        return "", f"siedziba według KRS poza województwem {ctx.region_name}: {woj.lower()}"
    if ctx.gazetteer is None or not seat.get("gmina"):
        return "", ""
    key = (str(seat.get("powiat") or ""), str(seat["gmina"]))
    if key not in ctx.seats:
        powiat, _ = ctx.gazetteer.resolve_powiat(key[0])
        code, why = ctx.gazetteer.resolve_gmina(key[1], powiat)
        ctx.seats[key] = (code, "") if code else ("", f"gmina siedziby z KRS nierozpoznana: {why}")
    return ctx.seats[key]


def compare(row: dict, extract: Extract, ctx: Context) -> tuple[list[Proposal], list[str]]:
    """Proposals for one entity and notes (Polish) on what could not be compared."""
    out: list[Proposal] = []
    notes: list[str] = []

    def check(field_: str, value: str, text: str, same) -> None:
        if value and not same(row.get(field_, ""), value):
            label = store.FIELD_LABELS[field_]
            out.append(_proposal(row, extract, field_, value, text,
                                 f"{label}: KRS podaje inaczej niż rejestr" if row.get(field_)
                                 else f"{label}: KRS podaje, w rejestrze brak"))

    check("name", extract.name, extract.name, lambda a, b: name_key(a) == name_key(b))
    form = extract.legal_form
    check("legal_form", form.lower(), form, same_legal_form)
    street, raw = official_street(extract)
    check("street", street, raw, lambda a, b: street_key(a) == street_key(b))
    postal = str(extract.address.get("kodPocztowy") or "").strip()
    check("postal_code", postal, postal, lambda a, b: digits_only(a) == digits_only(b))
    place = str(extract.address.get("miejscowosc") or extract.seat.get("miejscowosc") or "").strip()
    check("locality", polish_case(place), place, lambda a, b: ascii_key(a) == ascii_key(b))
    gmina, why = _seat_gmina(extract, ctx)
    if why:
        notes.append(why)
    check("gmina_teryt", gmina, str(extract.seat.get("gmina") or ""), lambda a, b: a == b)
    check("nip", digits_only(extract.nip), extract.nip, lambda a, b: digits_only(a) == b)
    check("regon", official_regon(extract.regon), extract.regon, lambda a, b: regon_key(a) == b)
    ending = extract.winding_up
    if ending and row.get("status") != "inactive":
        out.append(_proposal(row, extract, "status", "inactive", ending,
                             f"w KRS: {ending} — podmiot prawdopodobnie nie działa"))
    return out, notes


def compare_operator(row: dict, extract: Extract) -> list[Proposal]:
    """Proposals on a unit's operator from the operator's extract (its name; its winding-up)."""
    out = []
    official, named = name_key(extract.name), name_key(row.get("operator", ""))
    if official and official not in named:
        out.append(_proposal(row, extract, "operator", extract.name, extract.name,
                             f"podmiot prowadzący: KRS {row['operator_krs']} to {extract.name}"
                             + (", w rejestrze inna nazwa" if named else ", w rejestrze brak nazwy")))
    ending = extract.winding_up
    if ending and row.get("status") != "inactive":
        out.append(_proposal(row, extract, "status", "inactive", ending,
                             f"podmiot prowadzący w KRS: {ending} — sprawdź, czy jednostka nadal działa "
                             "(mogła przejść do innego prowadzącego)"))
    return out


def unknown_proposal(row: dict, lookup: Lookup, field_: str = "krs") -> Proposal:
    asked = " i ".join(lookup.asked)
    whose = "" if field_ == "krs" else " podmiotu prowadzącego"
    return Proposal(kind="unknown", source=SOURCE, entity_id=row["id"], entity_name=row["name"], field=field_,
                    register_value=row[field_], official_value="", official_text="",
                    source_url=lookup.urls[0], source_date=today_in_poland().isoformat(),
                    note=f"KRS nie zna numeru{whose} {row[field_]} (rejestr {asked}: brak odpisu aktualnego; "
                         "numer błędny albo podmiot wykreślony) — sprawdź numer; przyjęcie usuwa go z rekordu")


def confirm_proposal(row: dict, extract: Extract, notes: list[str]) -> Proposal:
    return Proposal(kind="confirm", source=SOURCE, entity_id=row["id"], entity_name=row["name"],
                    source_url=extract.url, source_date=extract.as_of,
                    note="; ".join(["dane zgodne z odpisem aktualnym KRS", *notes]))


# --------------------------------------------------------------------------------------------------
# The run


@dataclass
class VerifyResult:
    proposals: list[Proposal]
    scope: set[str]                       # ids of the entities looked at
    with_krs: int = 0                     # entities with a (valid) KRS number in the register
    checked: int = 0                      # … of them looked at in this run
    skipped_recent: int = 0               # verified within --only-older-than days
    invalid_krs: list[str] = field(default_factory=list)    # ids whose KRS is not ten digits
    found: int = 0
    unknown: int = 0
    requests: int = 0
    cache_hits: int = 0
    registers: dict = field(default_factory=lambda: {"S": 0, "P": 0})   # where the extracts were found
    with_operator_krs: int = 0            # units whose operator's KRS number the register holds
    operators_checked: int = 0
    operators_found: int = 0
    operators_unknown: int = 0
    notes: dict = field(default_factory=dict)                            # id → notes

    @property
    def changes(self) -> list[Proposal]:
        return [p for p in self.proposals if p.is_change]


def progress_enabled(quiet: bool, stream=None) -> bool:
    """A progress bar only for a person watching a terminal: not with --quiet, not into a file or pipe."""
    stream = stream if stream is not None else sys.stderr
    return not quiet and hasattr(stream, "isatty") and stream.isatty()


def _load_gazetteer(settings: Settings):
    try:
        return Gazetteer.load(settings)
    except Exception:  # noqa: BLE001 — data not fetched: compare without gmina codes
        return None


def select(frame: pd.DataFrame, only_older_than: int | None, today: dt.date) -> tuple[pd.DataFrame, int]:
    """Rows with a KRS number of their own or of their operator; with `only_older_than`, those never verified
    or verified before the cut-off."""
    rows = frame[frame["krs"].str.strip().ne("") | frame["operator_krs"].str.strip().ne("")]
    if only_older_than is None:
        return rows, 0
    cutoff = (today - dt.timedelta(days=only_older_than)).isoformat()
    recent = rows["verified_at"].ne("") & rows["verified_at"].ge(cutoff)
    return rows[~recent], int(recent.sum())


def verify(settings: Settings, *, client: KrsClient | None = None, entities_path: Path | str | None = None,
           only_older_than: int | None = None, progress: bool = False, gazetteer="auto",
           today: dt.date | None = None) -> VerifyResult:
    """Compare the register with KRS; returns the proposals, writes nothing (see `run`)."""
    today = today or today_in_poland()
    frame = read_table(entities_path or settings.entities_path).drop(columns=["row"])
    frame = frame.reindex(columns=COLUMNS).fillna("")
    rows, recent = select(frame, only_older_than, today)
    ctx = Context(today.isoformat(), settings.region, voivodeships().get(settings.region, settings.region),
                  _load_gazetteer(settings) if gazetteer == "auto" else gazetteer)
    own_client = client is None
    client = client or KrsClient.from_settings(settings)
    result = VerifyResult([], set(rows["id"]), with_krs=int(frame["krs"].str.strip().ne("").sum()),
                          skipped_recent=recent,
                          with_operator_krs=int(frame["operator_krs"].str.strip().ne("").sum()))
    index = DuplicateIndex(frame)
    lookups: dict[str, Lookup] = {}
    try:
        for row in tqdm(rows.to_dict("records"), desc="Weryfikacja w KRS", unit=" podm.", disable=not progress,
                        file=sys.stderr):
            _verify_one(row, client, ctx, lookups, result, index)
        asked = len(lookups)           # distinct numbers: Caritas's is asked once for all its units
        if asked >= ALL_UNKNOWN_MIN and not result.found + result.operators_found:
            raise KrsAnswerError(f"API KRS pod adresem {client.base_url} nie zna żadnego z {asked} numerów "
                                 "— to raczej zły adres (GEOES_KRS_API) niż same błędne numery; "
                                 "niczego nie zaproponowano, rejestru nie zmieniono")
    finally:
        result.requests = client.request_count
        result.cache_hits = client.cache.hits if client.cache is not None else 0
        if own_client:
            client.close()
    return result


def _lookup(krs: str, first: str, client: KrsClient, lookups: dict) -> Lookup:
    """One lookup per number in a run: Caritas runs several units, and is one entity too."""
    if krs not in lookups:
        lookups[krs] = client.lookup(krs, first=first)
    return lookups[krs]


def _verify_one(row: dict, client: KrsClient, ctx: Context, lookups: dict, result: VerifyResult,
                index: DuplicateIndex) -> None:
    found = _verify_operator(row, client, lookups, result) if row["operator_krs"].strip() else []
    if row["krs"].strip():
        found += _verify_own(row, client, ctx, lookups, result)
    # Warn of what the proposals would bring (a NIP or a name another entity has), and of a KRS number
    # shared with another entity; a likeness the register already had is not this proposal's news.
    proposed = {**row, **{p.field: p.official_value for p in found if p.field and p.kind == "change"}}
    before = index.warnings(row, exclude_id=row["id"])
    warnings = [w for w in index.warnings(proposed, exclude_id=row["id"])
                if w["code"] == "duplicate_krs" or w not in before]
    for p in found:
        p.warnings = warnings
    result.proposals.extend(found)


def _operator_register(row: dict) -> str:
    """Operators are mostly associations, foundations and church legal persons (S); a cooperative is in P."""
    return "P" if "spoldzielnia" in ascii_key(row.get("operator", "")) else "S"


def _looked_up(row: dict, column: str, first, client: KrsClient, lookups: dict,
               result: VerifyResult) -> tuple[dict, Lookup] | None:
    """(the row with its number normalised, the lookup) for the KRS number in `column`; None for a number
    that is not ten digits (listed, not asked)."""
    krs = krs_normalise(row[column])
    if not krs_valid(krs):
        result.invalid_krs.append(row["id"])
        return None
    row = {**row, column: krs}
    return row, _lookup(krs, first(row), client, lookups)


def _verify_operator(row: dict, client: KrsClient, lookups: dict, result: VerifyResult) -> list[Proposal]:
    hit = _looked_up(row, "operator_krs", _operator_register, client, lookups, result)
    if hit is None:
        return []
    row, lookup = hit
    result.operators_checked += 1
    if lookup.extract is None:
        result.operators_unknown += 1
        return [unknown_proposal(row, lookup, "operator_krs")]
    result.operators_found += 1
    return compare_operator(row, lookup.extract)


def _verify_own(row: dict, client: KrsClient, ctx: Context, lookups: dict, result: VerifyResult) -> list[Proposal]:
    hit = _looked_up(row, "krs", register_order, client, lookups, result)
    if hit is None:
        return []
    row, lookup = hit
    result.checked += 1
    if lookup.extract is None:
        result.unknown += 1
        return [unknown_proposal(row, lookup)]
    result.found += 1
    result.registers[lookup.extract.register] += 1
    found, notes = compare(row, lookup.extract, ctx)
    if notes:
        result.notes[row["id"]] = notes
    return found or [confirm_proposal(row, lookup.extract, notes)]


def run(settings: Settings, **kwargs) -> VerifyResult:
    """`verify` and record its proposals in the review file (what the console's button calls)."""
    path = kwargs.pop("proposals_path", None)
    result = verify(settings, **kwargs)
    store.record(settings, result.proposals, SOURCE, result.scope, path=path)
    return result
