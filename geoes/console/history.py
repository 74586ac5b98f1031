"""The console's history as a person reads it: the audit log as Polish sentences, what a publish or a restore
changes, where each version came from.

* `change_text(summary)` — "dodano 15 podmiotów (3 spółdzielnie socjalne, …), zmieniono 2 podmioty (…)";
  `change_lines(summary)` — the same as lines of a table for the confirmation pages.
* `source_text(source)` — a version's origin: a file, edits in the console, reports, a restore, the CLI.
* `sentence(entry, context)` — one audit entry as a sentence: "ola: opublikowano wersję z pliku
  rejestr.xlsx: dodano 15 podmiotów (…)". One renderer per kind of entry (RENDERERS; every action of
  geoes.console.audit.ACTIONS has one). A person's gendered past tense ("ola opublikowała") only when the
  account says which forms to use (geoes.console.accounts: `users gender`); otherwise the
  impersonal form after a colon, which is correct whoever it was.

Every value shown goes through Polish labels (record fields, entity types, queue kinds): the log shows no
JSON and no machine keys.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from typing import Callable

from geoes.common.polish import POLISH_TIME, count, count_genitive, count_verb, date_text
from geoes.common.reference import entity_types
from geoes.console import accounts
from geoes.console.audit import ACTIONS, Entry
from geoes.console.imports import FIELD_LABELS
from geoes.console.queue import KIND_LABELS
from geoes.console.registers import read_register

ELLIPSIS_AFTER = 4          # types named in a sentence before "…"
FEMININE, MASCULINE = "feminine", "masculine"
GRAMMATICAL_GENDERS = (FEMININE, MASCULINE)
# Who acted when it was not a person (audit actors written by the system itself).
NOT_PEOPLE = {"system": "system", "cli": "wiersz poleceń", "wiersz poleceń": "wiersz poleceń",
              "formularz publiczny": "formularz publiczny", "import": "import"}


# --- times and versions ---------------------------------------------------------------------------

def local(iso: str | None) -> datetime | None:
    """An ISO time of the log (UTC) in Polish time."""
    if not iso:
        return None
    try:
        return datetime.fromisoformat(iso).astimezone(POLISH_TIME)
    except ValueError:
        return None


def day_start(day: date) -> str:
    """The start of a day in Poland as the log's ISO time (UTC) — the bound of the log's date filters."""
    return datetime.combine(day, time(), POLISH_TIME).astimezone(timezone.utc).isoformat(timespec="seconds")


def when_text(iso: str | None) -> str:
    """An ISO time (UTC) in Polish time as a reader says it: "6 grudnia 2026, 20:43"."""
    at = local(iso)
    return f"{date_text(at.date())}, {at:%H:%M}" if at else "–"


def version_time(version: str) -> str | None:
    """The time a version was built, from its name (20261206T202428356798Z-8417563c), as ISO (UTC)."""
    try:
        stamp = datetime.strptime(version.split("-")[0], "%Y%m%dT%H%M%S%fZ")
    except (ValueError, AttributeError):
        return None
    return stamp.strftime("%Y-%m-%dT%H:%M:%S+00:00")


def version_text(version: str | None, noun: str = "wersja") -> str:
    """A version as people name it: "wersja z 6 grudnia 2026, 20:24" (its id when it has no time); `noun` the
    case the sentence needs ("wersję", "wersją")."""
    if not version:
        return "brak wersji"
    stamp = version_time(version)
    return f"{noun} z {when_text(stamp)}" if stamp else f"{noun} {version}"


# --- what changed ---------------------------------------------------------------------------------

def _types_text(by_type: dict, key: str) -> str:
    types = entity_types()
    parts = []
    for code, counts in sorted((by_type or {}).items(), key=lambda kv: -int((kv[1] or {}).get(key, 0))):
        n = int((counts or {}).get(key, 0))
        if n:
            parts.append(count(n, types[code].forms) if code in types else f"{n} × {code}")
    if len(parts) > ELLIPSIS_AFTER:
        parts = parts[:ELLIPSIS_AFTER] + ["…"]
    return ", ".join(parts)


CHANGE_KINDS = (("added", "dodano", "Dodane"), ("changed", "zmieniono", "Zmienione"), ("removed", "usunięto", "Usunięte"))


def change_lines(summary: dict) -> list[tuple[str, str, str]]:
    """(label, "15 podmiotów", "3 spółdzielnie socjalne, …") for entities added, changed and removed."""
    return [(label, count(int(summary.get(key) or 0), "podmiot"), _types_text(summary.get("by_type"), key))
            for key, _verb, label in CHANGE_KINDS]


def change_text(summary: dict | None) -> str:
    """"dodano 15 podmiotów (3 spółdzielnie socjalne, …), zmieniono 2 podmioty (2 warsztaty terapii
    zajęciowej)"; "bez zmian w podmiotach" when nothing was added, changed or removed."""
    if not summary or not any(summary.get(k) for k, _v, _l in CHANGE_KINDS):
        return "bez zmian w podmiotach"
    parts = []
    for key, verb, _label in CHANGE_KINDS:
        n = int(summary.get(key) or 0)
        if n:
            types = _types_text(summary.get("by_type"), key)
            parts.append(f"{verb} {count(n, 'podmiot')}" + (f" ({types})" if types else ""))
    return ", ".join(parts)


def source_text(source: dict | None, action: str = "") -> str:
    """Where a version came from: "plik rejestr.xlsx", "edycja w konsoli (2 podmioty)", "zgłoszenie nr 12",
    "przywrócenie (wersja z …)", "wiersz poleceń"."""
    source = source or {}
    kind = source.get("kind") or {"restore": "restore", "build": "cli"}.get(action, "")
    if kind == "file":
        return f"plik {source.get('file') or '(bez nazwy)'}"
    if kind == "edit":
        items = [int(i) for i in source.get("queue_items") or []]
        parts = []
        if source.get("edits") or not items:
            n = int(source.get("entities") or 0)
            parts.append("edycja w konsoli" + (f" ({count(n, 'podmiot')})" if n else ""))
        if items:
            numbers = ", ".join(str(i) for i in items)
            parts.append(("zgłoszenia nr " if len(items) > 1 else "zgłoszenie nr ") + numbers)
        return " i ".join(parts)
    if kind == "restore":
        return f"przywrócenie ({version_text(source.get('restored_from'))})"
    if kind == "cli":
        return "wiersz poleceń (python -m geoes build)"
    return "nieznane"


# --- the audit log --------------------------------------------------------------------------------

@dataclass
class Context:
    """What sentences look up: entity names by id, change sets (kind, file) by number, operators' forms."""
    names: dict[str, str] = field(default_factory=dict)
    changesets: dict[int, tuple[str, str]] = field(default_factory=dict)
    forms: dict[str, str] = field(default_factory=dict)

    def entity(self, entity_id: str, name: str = "") -> str:
        name = name or self.names.get(entity_id, "")
        if name and entity_id:
            return f"„{name}” ({entity_id})"
        return f"„{name}”" if name else (entity_id or "nowy podmiot")

    def changeset(self, cs_id) -> str:
        try:
            kind, filename = self.changesets.get(int(cs_id), ("", ""))
        except (TypeError, ValueError):
            return ""
        if kind == "upload" and filename:
            return f"z pliku {filename}"
        return "z edycji w konsoli" if kind == "edit" else f"z zestawu zmian nr {cs_id}"


@dataclass(frozen=True)
class Said:
    """What an entry says: a verb in three forms (impersonal, masculine, feminine) and the rest; or, with no
    verb, a phrase that needs no person's form."""
    rest: str
    verb: tuple[str, str, str] | None = None


def _verb(impersonal: str, masculine: str, feminine: str) -> tuple[str, str, str]:
    return impersonal, masculine, feminine


def _values_text(values: dict | None, limit: int = 6) -> str:
    """Record fields as their labels with the values set: "Telefon „+48 41 …”, Strona internetowa (pusta)"."""
    parts = []
    for key, value in list((values or {}).items())[:limit]:
        label = FIELD_LABELS.get(key, key)
        text = str(value if value is not None else "").strip()
        parts.append(f"{label} „{_short(text)}”" if text else f"{label} (puste)")
    more = len(values or {}) - limit
    return ", ".join(parts) + (f" i {count(more, 'pole')} więcej" if more > 0 else "")


def _short(text: str, limit: int = 80) -> str:
    text = re.sub(r"\s+", " ", text)
    return text if len(text) <= limit else text[:limit - 1] + "…"


_SET_RE = re.compile(r"zestaw (\d+)")
_ROW_RE = re.compile(r"wiersz (\d+)")
_ITEM_RE = re.compile(r"zgłoszenie (\d+)")


def _number(pattern: re.Pattern, text: str) -> str:
    m = pattern.search(text or "")
    return m.group(1) if m else ""


def _sessions(d: dict) -> str:
    n = int(d.get("sessions_ended") or 0)
    return f" (zakończone sesje: {n})" if n else ""


def _sign_in(e: Entry, c: Context) -> Said:
    where = f" (z adresu {e.detail['address']})" if e.detail.get("address") else ""
    return Said("do konsoli" + where, _verb("zalogowano się", "zalogował się", "zalogowała się"))


def _sign_out(e: Entry, c: Context) -> Said:
    return Said("z konsoli", _verb("wylogowano się", "wylogował się", "wylogowała się"))


def _user_add(e: Entry, c: Context) -> Said:
    return Said(f"konto operatora „{e.target}”", _verb("dodano", "dodał", "dodała"))


def _user_remove(e: Entry, c: Context) -> Said:
    return Said(f"konto operatora „{e.target}”{_sessions(e.detail)}", _verb("usunięto", "usunął", "usunęła"))


def _user_password(e: Entry, c: Context) -> Said:
    return Said(f"hasło konta „{e.target}”{_sessions(e.detail)}", _verb("zmieniono", "zmienił", "zmieniła"))


def _user_gender(e: Entry, c: Context) -> Said:
    form = {FEMININE: "żeńskie", MASCULINE: "męskie"}.get(e.detail.get("gender"), "bezosobowe")
    return Said(f"formy czasowników w dzienniku dla konta „{e.target}”: {form}",
                _verb("ustawiono", "ustawił", "ustawiła"))


def _upload(e: Entry, c: Context) -> Said:
    d = e.detail
    rows = f" ({count(int(d['rows']), 'wiersz')})" if d.get("rows") is not None else ""
    saved = "; zastosowano zapamiętane mapowanie kolumn" if d.get("saved_mapping") else ""
    number = _number(_SET_RE, e.target)
    return Said(f"plik {d.get('file') or '(bez nazwy)'}{rows} do podglądu"
                + (f" — zestaw zmian nr {number}" if number else "") + saved,
                _verb("wczytano", "wczytał", "wczytała"))


def _mapping(e: Entry, c: Context) -> Said:
    mapping = e.detail.get("mapping") or {}
    read = sum(1 for target in mapping.values() if target and target != "-")
    what = f"kolumny wczytywane: {read}, pominięte: {len(mapping) - read}"
    return Said(f"mapowanie kolumn zestawu zmian nr {_number(_SET_RE, e.target)}: {what}",
                _verb("zatwierdzono", "zatwierdził", "zatwierdziła"))


def _mapping_saved(e: Entry, c: Context) -> Said:
    return Said(f"mapowanie kolumn pliku {e.target} dla kolejnych plików o tym samym układzie",
                _verb("zapamiętano", "zapamiętał", "zapamiętała"))


def _row_fix(e: Entry, c: Context) -> Said:
    values = _values_text(e.detail.get("values"))
    return Said(f"wiersz {_number(_ROW_RE, e.target)} w zestawie zmian nr {_number(_SET_RE, e.target)}"
                + (f": {values}" if values else ""), _verb("poprawiono", "poprawił", "poprawiła"))


def _refresh(e: Entry, c: Context) -> Said:
    return Said(f"podgląd zestawu zmian nr {_number(_SET_RE, e.target)} wobec obecnego rejestru",
                _verb("odświeżono", "odświeżył", "odświeżyła"))


def _discard(e: Entry, c: Context) -> Said:
    d = e.detail
    what = f" (plik {d['file']})" if d.get("file") else ""
    reason = f" — {d['reason']}" if d.get("reason") else ""
    return Said(f"zestaw zmian nr {_number(_SET_RE, e.target)}{what}; nic nie opublikowano{reason}",
                _verb("porzucono", "porzucił", "porzuciła"))


def _entity_change(verb: tuple[str, str, str], what: str, how: str = "") -> Callable[[Entry, Context], Said]:
    def render(e: Entry, c: Context) -> Said:
        d = e.detail
        values = d.get("values") or {}
        shown = {k: v for k, v in values.items() if k != "status"} if e.action == "entity_inactive" else values
        fields = _values_text(shown)
        waits = f" — czeka na publikację (zestaw zmian nr {d['changeset']})" if d.get("changeset") else ""
        return Said(f"{what} {c.entity(e.target, str(d.get('name') or values.get('name') or ''))}"
                    + (f" {how}" if how else "") + (f": {fields}" if fields else "") + waits, verb)
    return render


def origin_text(source: dict | None) -> str:
    """The origin after "wersję": "z pliku rejestr.xlsx", "z edycji w konsoli", "ze zgłoszenia nr 12"."""
    source = source or {}
    if source.get("kind") == "file":
        return f"z pliku {source.get('file') or '(bez nazwy)'}"
    if source.get("kind") == "edit":
        items = [str(int(i)) for i in source.get("queue_items") or []]
        reports = ("zgłoszeń nr " if len(items) > 1 else "zgłoszenia nr ") + ", ".join(items)
        if items and source.get("edits"):
            return f"z edycji w konsoli i {reports}"
        return f"ze {reports}" if items else "z edycji w konsoli"
    return ""


def _publish(e: Entry, c: Context) -> Said:
    d = e.detail
    origin = origin_text(d.get("source")) or c.changeset(d.get("changeset"))
    total = f"; w rejestrze {count(int(d['entities']), 'podmiot')}" if d.get("entities") is not None else ""
    return Said(f"wersję {origin}: {change_text(d)}{total}" if origin else f"wersję: {change_text(d)}{total}",
                _verb("opublikowano", "opublikował", "opublikowała"))


def _publish_failed(e: Entry, c: Context) -> Said:
    return Said(f"publikacja zestawu zmian nr {_number(_SET_RE, e.target)} nie powiodła się, strona publiczna "
                f"bez zmian: {e.detail.get('reason') or 'powód nieznany'}")


def _restore(e: Entry, c: Context) -> Said:
    d = e.detail
    restored = d.get("restored_from") or e.target
    again = " (zbudowaną ponownie z jej pliku podmiotów)" if d.get("restored_from") and d["restored_from"] != e.target else ""
    return Said(f"{version_text(restored, 'wersję')}{again}: {change_text(d)}",
                _verb("przywrócono", "przywrócił", "przywróciła"))


# A queue item's kind inside a sentence (the queue's own labels, without a parenthesis inside the parenthesis).
KIND_WORDS = {"review": "poprawka z importu do przeglądu"}


def _queue_decision(accepted: bool) -> Callable[[Entry, Context], Said]:
    def render(e: Entry, c: Context) -> Said:
        d = e.detail
        kind = KIND_WORDS.get(d.get("kind"), KIND_LABELS.get(d.get("kind"), ""))
        about = f" dotyczące podmiotu {c.entity(str(d['entity']), str(d.get('name') or ''))}" if d.get("entity") else ""
        values = _values_text(d.get("values")) if accepted else ""
        text = f"zgłoszenie nr {_number(_ITEM_RE, e.target)}" + (f" ({kind})" if kind else "") + about
        if values:
            text += f": {values} — czeka na publikację"
        if d.get("note"):
            text += f"; uwaga: „{_short(str(d['note']))}”"
        return Said(text, _verb("przyjęto", "przyjął", "przyjęła") if accepted
                    else _verb("odrzucono", "odrzucił", "odrzuciła"))
    return render


def _queue_import(e: Entry, c: Context) -> Said:
    n = int(e.detail.get("proposals") or 0)
    return Said(f"{count_verb(n, 'pozycja', 'trafiła')} do kolejki Zgłoszenia z pliku {e.target}")


def _report_received(e: Entry, c: Context) -> Said:
    d = e.detail
    about = "nowego podmiotu " + c.entity("", str(d.get("name") or "")) if d.get("new") or not d.get("entity") \
        else "podmiotu " + c.entity(str(d.get("entity")), str(d.get("name") or ""))
    fields = ", ".join(FIELD_LABELS.get(f, f) for f in d.get("values") or [])
    return Said(f"nowe zgłoszenie nr {_number(_ITEM_RE, e.target)} dotyczące {about}"
                + (f" — zmiana pól: {fields}" if fields else ""))


def _verify_start(e: Entry, c: Context) -> Said:
    return Said("weryfikację w KRS (w tle)", _verb("uruchomiono", "uruchomił", "uruchomiła"))


def _verify_done(e: Entry, c: Context) -> Said:
    d = e.detail
    parts = [f"sprawdzono {count(int(d.get('checked') or 0), 'podmiot')}"]
    if d.get("changes"):
        parts.append(f"{count(int(d['changes']), 'propozycja')} zmian")
    if d.get("unknown"):
        parts.append(f"numery nieznane w KRS: {int(d['unknown'])}")
    if d.get("queued") is not None:
        parts.append(f"nowe pozycje w kolejce: {int(d['queued'])}")
    return Said("weryfikacja w KRS zakończona: " + ", ".join(parts))


def _verify_failed(e: Entry, c: Context) -> Said:
    return Said(f"weryfikacja w KRS nie powiodła się: {e.detail.get('message') or 'powód nieznany'}")


def _emails_deleted(e: Entry, c: Context) -> Said:
    d = e.detail
    n = len(d.get("items") or []) or int(_number(re.compile(r"(\d+)"), e.target) or 0)
    return Said(f"e-maile zgłaszających z {count_genitive(n, 'zgłoszenie')} ({count(int(d.get('days') or 0), 'dzień')} "
                "po decyzji)", _verb("usunięto", "usunął", "usunęła"))


def _other(e: Entry, c: Context) -> Said:
    """An action without a renderer of its own (none today; a new action gets one): its label and target."""
    return Said(f"{ACTIONS.get(e.action, 'czynność')}: {e.target}".rstrip(": "))


RENDERERS: dict[str, Callable[[Entry, Context], Said]] = {
    "sign_in": _sign_in,
    "sign_out": _sign_out,
    "user_add": _user_add,
    "user_remove": _user_remove,
    "user_password": _user_password,
    "user_gender": _user_gender,
    "upload": _upload,
    "mapping": _mapping,
    "mapping_saved": _mapping_saved,
    "row_fix": _row_fix,
    "refresh": _refresh,
    "discard": _discard,
    "entity_add": _entity_change(_verb("dodano", "dodał", "dodała"), "podmiot"),
    "entity_edit": _entity_change(_verb("zmieniono", "zmienił", "zmieniła"), "podmiot"),
    "entity_inactive": _entity_change(_verb("oznaczono", "oznaczył", "oznaczyła"), "podmiot", "jako zamknięty"),
    "publish": _publish,
    "publish_failed": _publish_failed,
    "restore": _restore,
    "queue_accept": _queue_decision(True),
    "queue_reject": _queue_decision(False),
    "queue_import": _queue_import,
    "report_received": _report_received,
    "verify_start": _verify_start,
    "verify_done": _verify_done,
    "verify_failed": _verify_failed,
    "report_emails_deleted": _emails_deleted,
}


def who(actor: str) -> str:
    return NOT_PEOPLE.get(actor, actor)


def sentence(entry: Entry, context: Context) -> str:
    """The entry without its time: "ola: opublikowano wersję z pliku …" (or "ola opublikowała …" when the
    account's forms are known)."""
    said = RENDERERS.get(entry.action, _other)(entry, context)
    actor = who(entry.actor)
    if said.verb is None:
        return f"{actor}: {said.rest}"
    form = context.forms.get(entry.actor.lower()) if entry.actor not in NOT_PEOPLE else None
    if form in GRAMMATICAL_GENDERS:
        return f"{actor} {said.verb[2 if form == FEMININE else 1]} {said.rest}"
    return f"{actor}: {said.verb[0]} {said.rest}"


def line(entry: Entry, context: Context) -> str:
    """"6 grudnia 2026, 20:43 — ola: opublikowano wersję …"."""
    return f"{when_text(entry.at)} — {sentence(entry, context)}"


def context(conn, settings, entries: list[Entry]) -> Context:
    """What the sentences of `entries` look up: change sets by number, operators' forms, entity names (from
    the entries themselves, and the register only for ids an entry does not name)."""
    names: dict[str, str] = {}
    wanted: set[str] = set()
    numbers: set[int] = set()
    for e in entries:
        d = e.detail
        if e.action in ("entity_add", "entity_edit", "entity_inactive"):
            if d.get("name") or (d.get("values") or {}).get("name"):
                names.setdefault(e.target, str(d.get("name") or d["values"]["name"]))
            else:
                wanted.add(e.target)
        if e.action in ("queue_accept", "queue_reject", "report_received") and d.get("entity"):
            if d.get("name"):
                names.setdefault(str(d["entity"]), str(d["name"]))
            else:
                wanted.add(str(d["entity"]))
        if d.get("changeset"):
            try:
                numbers.add(int(d["changeset"]))
            except (TypeError, ValueError):
                pass
    wanted -= set(names)
    if wanted:
        register = read_register(settings)
        hit = register[register["id"].isin(wanted)]
        names.update(zip(hit["id"], hit["name"]))
    changesets = {}
    if numbers:
        marks = ",".join("?" * len(numbers))
        for r in conn.execute(f"SELECT id, kind, filename FROM changesets WHERE id IN ({marks})", tuple(numbers)):
            changesets[int(r["id"])] = (r["kind"], r["filename"])
    return Context(names, changesets, accounts.genders(conn))
