"""Proposed changes to the register and the operator's decisions on them.

Verification (`geoes.register.verify`, KRS) and the ministry's list of social enterprises
(`geoes.register.rjps`, RJPS) never edit `data/entities.csv`: they write **proposals** to a review file,
`data/review/proposals.json` (git-ignored), and only an operator's acceptance applies one. The file:

    {"format": "geoes-proposals/1", "updated_at": "2026-11-25T10:00:00+00:00",
     "proposals": [{"id": "p-3f2a…", "kind": "change", "source": "KRS", "entity_id": "swk-044",
                    "entity_name": "…", "field": "street", "register_value": "…", "official_value": "…",
                    "official_text": "PL. JANA PAWŁA II 3", "source_url": "https://api-krs…", "source_date":
                    "2026-11-20", "proposed_at": "…", "note": "…", "warnings": [{"code", "other_id", "text"}],
                    "entity": null, "state": "pending", "decided_at": "", "decided_by": "", "decision_note": ""}]}

Kinds: `change` (set `field` of `entity_id` to `official_value`), `confirm` (the official source agrees
with the register: accepting only records the verification), `unknown` (the KRS registry does not know the
entity's number: accepting removes the number from the record), `new_entity` (`entity` holds a whole new
record). States: `pending`, `accepted`, `rejected`. A proposal's id is a hash of what it proposes, so a
rerun that finds the same difference gives the same id: a rejected proposal stays rejected and is not
asked again, and a pending one the register no longer needs disappears.

Accepting sets the field and, except for `unknown`, `verified_at` (the date), `verified_source`
(KRS, RJPS …) and `verified_evidence` (what was compared: the official source's address and the date it
states its content for). The register and the review file are each written atomically, under one lock file so that
two operators (or the console and the CLI) cannot interleave; the register row is validated before it is
written, and a proposal whose register value has changed since it was made is refused (409).
"""
from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import fcntl
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from geoes.common.atomic import atomic_write_text
from geoes.common.polish import today_in_poland
from geoes.config import Settings
from geoes.errors import Conflict, InvalidInput, NotFound
from geoes.register.record import COLUMNS, VERIFIED_SOURCES, write_entities
from geoes.register.validate import validate_frame
from geoes.sources.territory import MissingData, load_territory

FORMAT = "geoes-proposals/1"
KINDS = ("change", "confirm", "unknown", "new_entity")
STATES = ("pending", "accepted", "rejected")
# Fields a proposal may change; anything else in a review file is refused rather than written.
FIELDS = ("name", "legal_form", "street", "postal_code", "locality", "gmina_teryt", "krs", "nip", "regon",
          "status", "social_enterprise", "operator", "operator_krs")
ADDRESS_FIELDS = ("street", "postal_code", "locality")
OPERATOR_FIELDS = ("operator", "operator_krs")
FIELD_LABELS = {
    "name": "nazwa", "legal_form": "forma prawna", "street": "ulica i numer", "postal_code": "kod pocztowy",
    "locality": "miejscowość", "gmina_teryt": "gmina (kod TERYT)", "krs": "numer KRS", "nip": "NIP",
    "regon": "REGON", "status": "status", "social_enterprise": "przedsiębiorstwo społeczne",
    "operator": "podmiot prowadzący", "operator_krs": "numer KRS podmiotu prowadzącego",
}
KIND_LABELS = {"change": "zmiana", "confirm": "potwierdzenie", "unknown": "KRS nie zna numeru",
               "new_entity": "nowy podmiot"}
STATE_LABELS = {"pending": "czeka", "accepted": "przyjęta", "rejected": "odrzucona"}


def now_iso() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()


@dataclass
class Proposal:
    kind: str
    source: str                      # KRS or RJPS (the verified_source an acceptance records)
    entity_id: str                   # "" for new_entity
    entity_name: str
    field: str = ""                  # "" for confirm and new_entity
    register_value: str = ""
    official_value: str = ""         # in the register's own spelling (what accepting writes)
    official_text: str = ""          # verbatim as the official source writes it
    source_url: str = ""
    source_date: str = ""            # the date the official source states its content for (ISO)
    proposed_at: str = ""
    note: str = ""                   # Polish: why this is proposed
    warnings: list[dict] = dataclasses.field(default_factory=list)
    entity: dict | None = None       # the new record (new_entity)
    state: str = "pending"
    decided_at: str = ""
    decided_by: str = ""
    decision_note: str = ""
    id: str = ""

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"nieznany rodzaj propozycji {self.kind!r}")
        if self.field and self.field not in FIELDS:
            raise ValueError(f"pole {self.field!r} nie może być zmieniane propozycją")
        if self.source not in VERIFIED_SOURCES:
            raise ValueError(f"nieznane źródło propozycji {self.source!r}")
        self.proposed_at = self.proposed_at or now_iso()
        self.id = self.id or self.key()

    def key(self) -> str:
        """Stable across runs: the same difference found again has the same id."""
        subject = self.entity_id or json.dumps(self.entity or {}, sort_keys=True, ensure_ascii=False)
        # A confirmation is asked again when the source states a newer date; a change keeps its id, so a
        # rejected change is not asked again while the official value stays the same.
        when = self.source_date if self.kind == "confirm" else ""
        raw = "|".join((self.kind, self.source, subject, self.field, self.official_value, when))
        return "p-" + hashlib.sha1(raw.encode("utf-8")).hexdigest()[:12]

    @property
    def is_change(self) -> bool:
        """Everything but a confirmation asks the register to change (what the exit code counts)."""
        return self.kind != "confirm"

    def to_json(self) -> dict:
        data = dataclasses.asdict(self)
        return {"id": data.pop("id"), **data}

    @classmethod
    def from_json(cls, data: dict) -> "Proposal":
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


# --------------------------------------------------------------------------------------------------
# The review file


def load(path: Path | str) -> list[Proposal]:
    path = Path(path)
    if not path.exists():
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"{path}: nieczytelny plik propozycji ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise InvalidInput(f"{path}: to nie jest plik propozycji {FORMAT}")
    return [Proposal.from_json(p) for p in data.get("proposals", [])]


def save(path: Path | str, proposals: list[Proposal]) -> None:
    body = {"format": FORMAT, "updated_at": now_iso(), "proposals": [p.to_json() for p in proposals]}
    atomic_write_text(path, json.dumps(body, ensure_ascii=False, indent=1) + "\n")


@contextlib.contextmanager
def locked(path: Path | str):
    """An exclusive lock beside the review file, held while the register or the file is rewritten."""
    lock = Path(path).with_name(Path(path).name + ".lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def merge(existing: list[Proposal], fresh: list[Proposal], source: str, scope: set[str],
          new_entities: bool = False) -> list[Proposal]:
    """The review file after a run of `source` that looked at the entities in `scope` (and, with
    `new_entities`, decided which new entities to propose).

    Decided proposals are history and stay. Pending proposals of this source for entities in scope (and
    its pending new-entity proposals, with `new_entities`) are replaced by this run's: a difference no
    longer found is dropped. A fresh proposal whose id was already decided is not asked again.
    """
    decided = {p.id for p in existing if p.state != "pending"}

    def replaced(p: Proposal) -> bool:
        if p.state != "pending" or p.source != source:
            return False
        return (p.kind == "new_entity" and new_entities) or (p.kind != "new_entity" and p.entity_id in scope)

    kept = [p for p in existing if not replaced(p)]
    kept_ids = {p.id for p in kept}
    return kept + [p for p in fresh if p.id not in decided and p.id not in kept_ids]


def record(settings: Settings, fresh: list[Proposal], source: str, scope: set[str], new_entities: bool = False,
           path: Path | str | None = None) -> list[Proposal]:
    """Merge a run's proposals into the review file (atomically, under the lock); the merged list."""
    path = Path(path or settings.proposals_path)
    with locked(path):
        merged = merge(load(path), fresh, source, scope, new_entities)
        save(path, merged)
    return merged


# --------------------------------------------------------------------------------------------------
# What the console calls


def list_proposals(settings: Settings, state: str | None = "pending", path: Path | str | None = None,
                   entity_id: str | None = None) -> list[Proposal]:
    """Proposals in the review file, oldest first; `state=None` for all of them."""
    items = load(path or settings.proposals_path)
    return [p for p in items if (state is None or p.state == state)
            and (entity_id is None or p.entity_id == entity_id)]


def get_proposal(settings: Settings, proposal_id: str, path: Path | str | None = None) -> Proposal:
    for p in load(path or settings.proposals_path):
        if p.id == proposal_id:
            return p
    raise NotFound(f"nie ma propozycji {proposal_id}")


@dataclass
class Applied:
    proposal: Proposal
    entity_id: str
    changed: dict                    # column → (old, new)
    relocated: bool = False          # the address changed: the old point was removed, run `geocode`


def _read_register(path: Path) -> pd.DataFrame:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    for col in COLUMNS:
        if col not in frame.columns:
            frame[col] = ""
    return frame


def _check_row(frame: pd.DataFrame, index, settings: Settings) -> None:
    one = frame.loc[[index]].copy()
    one.insert(0, "row", [int(index) + 2])
    try:
        territory = load_territory(settings)
    except MissingData:
        territory = None  # not fetched: the region checks are left out
    checked = validate_frame(one, units=territory)
    # A value validation would drop (a warning) is as wrong here as a rejected row: nothing is written.
    problems = pd.concat([checked.rejects.reindex(columns=["column", "reason"]),
                          checked.warnings.reindex(columns=["column", "reason"])])
    if len(problems):
        reasons = "; ".join(f"{r.column}: {r.reason}" for r in problems.itertuples())
        raise InvalidInput(f"po tej zmianie rekord {frame.at[index, 'id']} byłby niepoprawny ({reasons})")


def evidence(p: Proposal) -> str:
    """What a verification by an official source rests on, as the record keeps it (`verified_evidence`):
    the source's address and the date it states its content for."""
    what = {"KRS": "odpis aktualny z KRS", "RJPS": "wykaz przedsiębiorstw społecznych (RJPS)"}.get(p.source, p.source)
    when = f" według stanu na {p.source_date}" if p.source_date else ""
    return f"{what}{when}" + (f": {p.source_url}" if p.source_url else "")


def _apply_change(frame: pd.DataFrame, p: Proposal, today: str) -> tuple[object, dict, bool]:
    hits = frame.index[frame["id"] == p.entity_id]
    if not len(hits):
        raise NotFound(f"w rejestrze nie ma podmiotu {p.entity_id}")
    i = hits[0]
    changed: dict = {}
    relocated = False
    if p.field:
        current = frame.at[i, p.field]
        if current != p.register_value and current != p.official_value:
            raise Conflict(f"{p.entity_id}: wartość pola {FIELD_LABELS[p.field]} zmieniła się od czasu propozycji "
                           f"(było „{p.register_value}”, jest „{current}”) — uruchom weryfikację ponownie")
        if current != p.official_value:
            changed[p.field] = (current, p.official_value)
            frame.at[i, p.field] = p.official_value
        placed = frame.at[i, "lat"] != ""
        exact = frame.at[i, "location_precision"] in ("address", "street") or (
            p.field == "locality" and frame.at[i, "location_precision"] == "locality")
        if changed and p.field in ADDRESS_FIELDS and placed and exact:
            for col, value in (("lat", ""), ("lon", ""), ("geocoder", ""), ("location_precision", "none")):
                changed[col] = (frame.at[i, col], value)
                frame.at[i, col] = value
            relocated = True
    # An unknown number confirms nothing; an operator's extract confirms the operator, not the unit.
    if p.kind != "unknown" and p.field not in OPERATOR_FIELDS:
        for col, value in (("verified_at", today), ("verified_source", p.source), ("verified_evidence", evidence(p))):
            if frame.at[i, col] != value:
                changed[col] = (frame.at[i, col], value)
                frame.at[i, col] = value
    return i, changed, relocated


def _apply_new(frame: pd.DataFrame, p: Proposal, today: str) -> tuple[pd.DataFrame, object, dict]:
    entity = {c: str((p.entity or {}).get(c, "") or "") for c in COLUMNS}
    if not entity["id"] or not entity["name"]:
        raise InvalidInput(f"propozycja {p.id}: nowy podmiot bez identyfikatora lub nazwy")
    if (frame["id"] == entity["id"]).any():
        raise Conflict(f"podmiot {entity['id']} już jest w rejestrze")
    entity["verified_at"], entity["verified_source"], entity["verified_evidence"] = today, p.source, evidence(p)
    frame = pd.concat([frame, pd.DataFrame([entity], dtype=object)], ignore_index=True)
    return frame, frame.index[-1], {c: ("", v) for c, v in entity.items() if v}


def _pending(items: list[Proposal], proposal_id: str) -> Proposal:
    """The proposal `proposal_id`, still waiting for a decision (NotFound / Conflict otherwise)."""
    p = next((x for x in items if x.id == proposal_id), None)
    if p is None:
        raise NotFound(f"nie ma propozycji {proposal_id}")
    if p.state != "pending":
        raise Conflict(f"propozycja {proposal_id} jest już {STATE_LABELS[p.state]}")
    return p


def accept(settings: Settings, proposal_id: str, operator: str, *, note: str = "", today: str | None = None,
           path: Path | str | None = None, entities_path: Path | str | None = None) -> Applied:
    """Apply one pending proposal to the register and mark it accepted by `operator`."""
    path = Path(path or settings.proposals_path)
    entities_path = Path(entities_path or settings.entities_path)
    today = today or today_in_poland().isoformat()
    with locked(path):
        items = load(path)
        p = _pending(items, proposal_id)
        frame = _read_register(entities_path)
        if p.kind == "new_entity":
            frame, index, changed = _apply_new(frame, p, today)
            relocated = False
        else:
            index, changed, relocated = _apply_change(frame, p, today)
        _check_row(frame, index, settings)
        if changed:
            write_entities(frame, entities_path)
        p.state, p.decided_at, p.decided_by, p.decision_note = "accepted", now_iso(), operator, note
        save(path, items)
    return Applied(p, str(frame.at[index, "id"]), changed, relocated)


def reject(settings: Settings, proposal_id: str, operator: str, *, note: str = "",
           path: Path | str | None = None) -> Proposal:
    """Mark a pending proposal rejected; the register is not touched and a rerun will not ask again."""
    path = Path(path or settings.proposals_path)
    with locked(path):
        items = load(path)
        p = _pending(items, proposal_id)
        p.state, p.decided_at, p.decided_by, p.decision_note = "rejected", now_iso(), operator, note
        save(path, items)
    return p
