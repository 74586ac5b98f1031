"""Public reports (zgłoszenia): a resident's correction of an entity, or an entity the register lacks, sent
from the public form without an account.

A report waits in the review queue (kind `report`) until an operator decides: accepting puts its values into
the operator's draft of edits (geoes.console.queue), which reaches the public site only when published;
rejecting records the decision. The queue row's payload:

    {"text": "…",                          # Opis zmiany, as typed
     "values": {"phone": "…", …},          # the facts the reporter proposes (record columns) — for an
                                           # existing entity only those that differ from the register
     "register_values": {"phone": "…"},    # the register's values of those facts when the report came
     "source_url": "https://…",            # where the reporter saw it (optional)
     "contact_email": "…",                 # for the operator's questions (optional): never published
     "entity_name": "…", "new": false,
     "warnings": [{"code", "other_id", "text"}]}   # possible duplicates (geoes.register.duplicates)

Every field has a size limit; text is kept as typed apart from control and bidirectional-override
characters, and every page shows it as text. Reports from one address are counted in the console's store
against GEOES_REPORT_MAX_PER_WINDOW per GEOES_REPORT_WINDOW_MINUTES — the address as a keyed hash, kept
only for the window; and however many addresses send them, no more than GEOES_REPORT_MAX_PENDING reports
wait for an operator at once.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import re
import sqlite3
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from geoes.common.polish import count
from geoes.config import Settings
from geoes.console import audit, queue
from geoes.console.db import secret_key, transaction
from geoes.errors import GeoesError, InvalidInput
from geoes.register.duplicates import DuplicateIndex
from geoes.register.identifiers import digits_only, krs_normalise, krs_valid, nip_valid
from geoes.register.normalise import email as normalise_email
from geoes.register.normalise import phone as normalise_phone
from geoes.register.normalise import postal_code as normalise_postal_code
from geoes.register.normalise import website as normalise_website
from geoes.register.validate import EMAIL_RE, PHONE_RE, URL_RE

ACTOR = "formularz publiczny"          # who a report is from, in the queue and the audit log
SOURCE = "zgłoszenie"                  # the queue source of a report; accepted, the change_source it records
TEXT_LIMIT = 4000
LINK_LIMIT = 500
EMAIL_LIMIT = 200
# The whole form is a few kilobytes: a larger body is no report and is refused (413) before it is read.
MAX_BODY_BYTES = 32 * 1024
STATUS_CHOICES = (("", "nie wiem / bez zmian"), ("active", "działa"), ("inactive", "zamknięty – nie działa"))
HONEYPOT = "fax"                       # a field people never see; whatever fills it is not a person
POSTAL_RE = re.compile(r"^\d{2}-\d{3}$")
# C0/C1 controls (but tab and newline) and the invisible marks that reorder or hide text on screen.
_HIDDEN_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


@dataclass(frozen=True)
class Fact:
    name: str               # the record column (and the form field)
    label: str
    limit: int
    new_only: bool = False  # asked only when reporting a new entity
    hint: str = ""


FACTS = (
    Fact("name", "Nazwa", 300),
    Fact("types", "Rodzaj podmiotu", 40, new_only=True),
    Fact("street", "Ulica i numer", 200),
    Fact("postal_code", "Kod pocztowy", 12, hint="pięć cyfr, np. 28-300"),
    Fact("locality", "Miejscowość", 100),
    Fact("gmina_teryt", "Gmina", 7),
    Fact("phone", "Telefon", 60),
    Fact("email", "E-mail podmiotu", EMAIL_LIMIT, hint="publiczny adres podmiotu, nie Twój"),
    Fact("website", "Strona internetowa", 300, hint="np. https://example.pl"),
    Fact("status", "Czy podmiot działa?", 10),
    Fact("krs", "Numer KRS", 20, new_only=True, hint="dziesięć cyfr, jeśli znasz"),
    Fact("nip", "NIP", 20, new_only=True, hint="jeśli znasz"),
)
FACT_LABELS = {f.name: f.label for f in FACTS}
TEXT_FIELDS = {"opis": ("Opis zmiany", TEXT_LIMIT), "source_url": ("Link do źródła", LINK_LIMIT),
               "contact_email": ("Twój e-mail", EMAIL_LIMIT)}


class ReportInvalid(InvalidInput):
    """A report the form must ask again for; `problems` lists (form field, Polish message)."""

    def __init__(self, problems: list[tuple[str, str]]):
        super().__init__("; ".join(message for _, message in problems))
        self.problems = problems


class TooManyReports(GeoesError):
    """A burst of reports from one address."""
    http_status = 429
    code = "TooManyRequests"

    def __init__(self, retry_after: int):
        minutes = max(1, -(-retry_after // 60))
        super().__init__(f"Z tego adresu wysłano w krótkim czasie zbyt wiele zgłoszeń. Spróbuj ponownie za "
                         f"{minutes} min. Zgłoszenia wysłane wcześniej dotarły do operatora.")
        self.retry_after = retry_after


class ReportQueueFull(GeoesError):
    """So many reports wait for an operator that the form stops taking more (a flood from many addresses)."""
    http_status = 503
    code = "ServiceUnavailable"
    retry_after = 3600

    def __init__(self):
        super().__init__("Na decyzję operatora czeka teraz bardzo wiele zgłoszeń, więc formularz chwilowo nie "
                         "przyjmuje kolejnych. Spróbuj ponownie za kilka godzin.")


@dataclass
class Report:
    text: str
    values: dict[str, str]
    source_url: str = ""
    contact_email: str = ""
    entity_id: str = ""                    # "" for a new entity
    entity_name: str = ""
    register_values: dict[str, str] = field(default_factory=dict)
    warnings: list[dict] = field(default_factory=list)

    @property
    def new(self) -> bool:
        return not self.entity_id

    def payload(self) -> dict:
        return {"text": self.text, "values": self.values, "register_values": self.register_values,
                "source_url": self.source_url, "contact_email": self.contact_email,
                "entity_name": self.entity_name, "new": self.new, "warnings": self.warnings}


def clean(value) -> str:
    """The text as typed, without hidden characters, line ends as \\n, spaces trimmed."""
    text = _HIDDEN_RE.sub("", str(value or "").replace("\r\n", "\n").replace("\r", "\n"))
    return text.strip()


def facts_for(new: bool) -> tuple[Fact, ...]:
    return tuple(f for f in FACTS if new or not f.new_only)


def _fact_value(fact: Fact, value: str, gminy: Collection[str], types: Collection[str]) -> tuple[str, str]:
    """(the value as the register writes it, '' or the problem with it)."""
    name = fact.name
    if name == "postal_code":
        value = normalise_postal_code(value)
        return value, "" if POSTAL_RE.match(value) else "oczekiwano pięciu cyfr, np. 28-300"
    if name == "email":
        value = normalise_email(value)
        return value, "" if EMAIL_RE.match(value) else "to nie jest adres e-mail"
    if name == "phone":   # as the register writes it (+48 …), so the operator sees what will be published
        value = normalise_phone(value)
        ok = all(PHONE_RE.match(p.strip()) for p in value.split(","))
        return value, "" if ok else "oczekiwano polskiego numeru telefonu, np. 41 344 55 66 albo 600 123 456"
    if name == "website":
        value = normalise_website(value)
        return value, "" if URL_RE.match(value) else "oczekiwano adresu strony, np. https://example.pl"
    if name == "status":
        return value, "" if value in dict(STATUS_CHOICES) else "wybierz jedną z odpowiedzi"
    if name == "gmina_teryt":
        return value, "" if value in gminy else "wybierz gminę z listy"
    if name == "types":
        return value, "" if value in types else "wybierz rodzaj z listy"
    if name == "krs":
        value = krs_normalise(value)
        return value, "" if krs_valid(value) else "numer KRS ma dziesięć cyfr"
    if name == "nip":
        value = digits_only(value)
        return value, "" if nip_valid(value) else "nieprawidłowy NIP (dziesięć cyfr z cyfrą kontrolną)"
    return value, ""


def _text_fields(form: Mapping, problems: list) -> dict[str, str]:
    out = {}
    for name, (label, limit) in TEXT_FIELDS.items():
        value = clean(form.get(name))
        if len(value) > limit:
            problems.append((name, f"{label}: najwyżej {count(limit, 'znak')} (jest {len(value)})"))
        out[name] = value
    if not out["opis"]:
        problems.append(("opis", "Opis zmiany: to pole jest wymagane — napisz, co się zmieniło lub czego brakuje"))
    if out["source_url"]:
        out["source_url"] = normalise_website(out["source_url"])
        if not URL_RE.match(out["source_url"]):
            problems.append(("source_url", "Link do źródła: oczekiwano adresu strony, np. https://example.pl"))
    if out["contact_email"]:
        out["contact_email"] = normalise_email(out["contact_email"])
        if not EMAIL_RE.match(out["contact_email"]):
            problems.append(("contact_email", "Twój e-mail: to nie jest adres e-mail"))
    return out


def parse(form: Mapping, *, entity: Mapping | None, gminy: Collection[str], types: Collection[str]) -> Report:
    """The report the form sent, about `entity` (a record dict) or about a new entity (None); ReportInvalid
    with every problem at once when something must be corrected."""
    problems: list[tuple[str, str]] = []
    texts = _text_fields(form, problems)
    values: dict[str, str] = {}
    for fact in facts_for(entity is None):
        raw = clean(form.get(fact.name))
        if not raw:
            continue
        if len(raw) > fact.limit:
            problems.append((fact.name, f"{fact.label}: najwyżej {count(fact.limit, 'znak')} (jest {len(raw)})"))
            continue
        value, problem = _fact_value(fact, raw, gminy, types)
        if problem:
            problems.append((fact.name, f"{fact.label}: {problem}"))
        elif value:
            values[fact.name] = value
    if entity is None and not values.get("name"):
        problems.append(("name", "Nazwa: podaj nazwę nowego podmiotu"))
    if problems:
        raise ReportInvalid(problems)
    report = Report(texts["opis"], values, texts["source_url"], texts["contact_email"])
    if entity is not None:
        current = {k: str(entity.get(k) or "") for k in values}
        report.values = {k: v for k, v in values.items() if v != current[k]}
        report.register_values = {k: current[k] for k in report.values}
        report.entity_id, report.entity_name = str(entity["id"]), str(entity.get("name") or "")
    else:
        report.entity_name = values["name"]
    return report


def duplicate_warnings(report: Report, index: DuplicateIndex, entity: Mapping | None) -> list[dict]:
    """Possible duplicates the report would bring: a new entity's KRS/NIP or a very similar name in its gmina
    or locality; for an existing entity, only a likeness its proposed values add."""
    if entity is None:
        return index.warnings(report.values)
    before = index.warnings(dict(entity), exclude_id=report.entity_id)
    after = index.warnings({**entity, **report.values}, exclude_id=report.entity_id)
    return [w for w in after if w not in before]


# --- the rate limit and the queue -------------------------------------------------------------------

def address_key(settings: Settings, address: str) -> str:
    """The sender's address as the store keeps it: a keyed hash (HMAC with the console's secret key)."""
    return hmac.new(secret_key(settings).encode("ascii"), str(address).encode("utf-8"),
                    hashlib.sha256).hexdigest()[:32]


def wait_seconds(conn: sqlite3.Connection, settings: Settings, key: str, now: float) -> int:
    """Seconds until this address may send again (0: now)."""
    window = settings.report_window_minutes * 60
    n, first = conn.execute("SELECT COUNT(*), MIN(at) FROM report_attempts WHERE address = ? AND at >= ?",
                            (key, now - window)).fetchone()
    if n >= settings.report_max_per_window:
        return int(float(first) + window - now) + 1
    return 0


def check_rate(conn: sqlite3.Connection, settings: Settings, address: str, now: float | None = None) -> None:
    """TooManyReports when this address has used up its window (nothing is counted)."""
    wait = wait_seconds(conn, settings, address_key(settings, address), time.time() if now is None else now)
    if wait:
        raise TooManyReports(wait)


def pending_reports(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT COUNT(*) FROM queue WHERE kind = 'report' AND status = 'pending'").fetchone()[0])


def submit(conn: sqlite3.Connection, settings: Settings, report: Report | None, address: str,
           now: float | None = None) -> int | None:
    """Count a report against its address and queue it; `report` None is one the honeypot caught: counted,
    never queued. The queue item's number, or None. TooManyReports after a burst, ReportQueueFull when the
    queue is full (nothing is stored either way)."""
    now = time.time() if now is None else now
    key = address_key(settings, address)
    with transaction(conn):
        wait = wait_seconds(conn, settings, key, now)
        if wait:
            raise TooManyReports(wait)
        conn.execute("INSERT INTO report_attempts (address, at) VALUES (?, ?)", (key, now))
        # An address is kept no longer than the window it is counted in.
        conn.execute("DELETE FROM report_attempts WHERE at < ?", (now - settings.report_window_minutes * 60,))
        if report is None:
            return None
        if pending_reports(conn) >= settings.report_max_pending:
            raise ReportQueueFull()
        item_id = queue.add(conn, "report", report.payload(), created_by=ACTOR, entity_id=report.entity_id,
                            source=SOURCE)
        audit.record(conn, ACTOR, "report_received", f"zgłoszenie {item_id}", entity=report.entity_id,
                     name=report.entity_name, new=report.new, values=sorted(report.values))
    forget_contacts(conn, settings)
    return item_id


def forget_contacts(conn: sqlite3.Connection, settings: Settings, now: datetime | None = None) -> int:
    """Delete the reporter's e-mail from every report decided more than GEOES_REPORTER_EMAIL_DAYS ago (it
    was kept only for the operator's questions about that report); how many were deleted. Run when a
    report comes in and when an operator opens the queue; the report itself, without the address, stays."""
    now = now or datetime.now(timezone.utc)
    cutoff = (now - timedelta(days=settings.reporter_email_days)).replace(microsecond=0).isoformat()
    rows = conn.execute("SELECT id, payload FROM queue WHERE kind = 'report' AND status != 'pending' "
                        "AND decided_at IS NOT NULL AND decided_at < ?", (cutoff,)).fetchall()
    forgotten = []
    for row in rows:
        payload = json.loads(row["payload"] or "{}")
        if payload.get("contact_email"):
            payload["contact_email"] = ""
            payload["contact_email_deleted"] = now.date().isoformat()
            forgotten.append((json.dumps(payload, ensure_ascii=False), row["id"]))
    if forgotten:
        with transaction(conn):
            conn.executemany("UPDATE queue SET payload = ? WHERE id = ?", forgotten)
            audit.record(conn, "system", "report_emails_deleted", f"{len(forgotten)} zgłoszeń",
                         days=settings.reporter_email_days, items=[i for _p, i in forgotten])
    return len(forgotten)
