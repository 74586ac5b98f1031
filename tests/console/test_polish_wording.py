"""The console's Polish: every count phrase through the plural helper (geoes.common.polish), every kind of
audit entry a sentence with no machine words, checks of identifiers in words."""
from __future__ import annotations

import re
import time
from datetime import date

import pytest

from geoes.common.polish import NBSP, NOUNS, VERBS
from geoes.common.reference import entity_types
from geoes.config import PACKAGE_DIR
from geoes.console import audit, history
from geoes.console.audit import Entry
from geoes.register.identifiers import checks_in_words

CONSOLE_FILES = [*(PACKAGE_DIR / "web" / "templates" / "admin").glob("*.html"),
                 *(PACKAGE_DIR / "console").glob("*.py"), *(PACKAGE_DIR / "web" / "admin").glob("*.py")]
# Words that follow a number in a count phrase: every form of every counted noun the project knows.
COUNTED = {form for forms in NOUNS.values() for form in forms} | {
    word for t in entity_types().values() for form in t.forms for word in form.split()[:1]}
_WORDS = "|".join(sorted(map(re.escape, COUNTED), key=len, reverse=True))
# `{{ n }} podmiotów` in a template, `{n} podmiotów` in an f-string: a number written before a noun by hand.
TEMPLATE_COUNT = re.compile(r"\}\}\s*(?:" + _WORDS + r")\b")
FSTRING_COUNT = re.compile(r"\{(?P<expr>[^{}\n]+)\}\s*(?:" + _WORDS + r")\b")
HELPERS = ("count(", "count_genitive(", "count_verb(", "plural(")
VERB_FORMS = "|".join(sorted({f for forms in VERBS.values() for f in forms}, key=len, reverse=True))
# A verb after the helper's count must agree with it: `pl_count_verb`, never `pl_count(…) }} czeka`.
COUNT_THEN_VERB = re.compile(r"pl_count\([^)]*\)\s*\}\}\s*(?:" + VERB_FORMS + r")\b")
# Not counts: a number, then a noun that is not counted by it.
NOT_COUNTS = {
    ("fix_row.html", "}} pliku"): "the row's number, then the file's name: „Poprawa wiersza 4 pliku x.csv”",
}


def _hand_made(path) -> list[str]:
    found = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if path.suffix == ".html":
            hits = [m.group(0) for m in TEMPLATE_COUNT.finditer(line)]
            hits += [m.group(0) for m in COUNT_THEN_VERB.finditer(line)]
        else:
            hits = [m.group(0) for m in FSTRING_COUNT.finditer(line)
                    if not m.group("expr").strip().startswith(HELPERS)]
        found += [f"{path.name}:{n}: {hit}" for hit in hits if (path.name, hit) not in NOT_COUNTS]
    return found


def test_every_count_phrase_in_the_console_goes_through_the_plural_helper():
    assert len(CONSOLE_FILES) > 20
    problems = [p for path in CONSOLE_FILES for p in _hand_made(path)]
    assert not problems, "count phrases written by hand (use pl_count / pl_count_verb / count):\n" + "\n".join(problems)


def test_the_scan_finds_a_hand_made_count(tmp_path):
    bad = tmp_path / "bad.html"
    bad.write_text("<p>{{ n }} zgłoszeń czeka</p>\n<p>{{ n|pl_count('zgłoszenie') }} czeka na decyzję</p>\n",
                   encoding="utf-8")
    code = tmp_path / "bad.py"
    code.write_text('x = f"{len(rows)} wierszy"\ny = f"{count(len(rows), \'wiersz\')} w pliku"\n', encoding="utf-8")
    assert len(_hand_made(bad)) == 2 and len(_hand_made(code)) == 1


def _entry(action: str, actor: str = "ola", target: str = "", **detail) -> Entry:
    return Entry(1, "2026-12-06T19:43:00+00:00", actor, action, target, detail)


# One entry of every kind, with the detail the console records for it.
EXAMPLES = {
    "sign_in": _entry("sign_in", target="ola", address="127.0.0.1"),
    "sign_out": _entry("sign_out", target="ola"),
    "user_add": _entry("user_add", actor="wiersz poleceń", target="jan"),
    "user_remove": _entry("user_remove", actor="wiersz poleceń", target="jan", sessions_ended=2),
    "user_password": _entry("user_password", actor="cli", target="jan", sessions_ended=0),
    "user_gender": _entry("user_gender", actor="wiersz poleceń", target="ola", gender="feminine"),
    "upload": _entry("upload", target="zestaw 5", file="rejestr.xlsx", bytes=5000, rows=15, saved_mapping=True),
    "mapping": _entry("mapping", target="zestaw 5", mapping={"Nazwa": "name", "Lp.": "-", "Typ": "types"}),
    "mapping_saved": _entry("mapping_saved", target="rejestr.xlsx", layout="abc"),
    "row_fix": _entry("row_fix", target="zestaw 5, wiersz 4", values={"types": "inne", "locality": "Gnieździska"}),
    "refresh": _entry("refresh", target="zestaw 5"),
    "discard": _entry("discard", target="zestaw 5", file="rejestr.xlsx"),
    "entity_add": _entry("entity_add", target="swk-n099", values={"name": "Spółdzielnia Socjalna „Przykład”"},
                         changeset=7, name="Spółdzielnia Socjalna „Przykład”"),
    "entity_edit": _entry("entity_edit", target="swk-001", values={"phone": "+48 41 000 00 00", "website": ""},
                          changeset=7, name="Zakład Aktywności Zawodowej w Kielcach"),
    "entity_inactive": _entry("entity_inactive", target="swk-001", values={"status": "inactive"}, changeset=7,
                              name="Zakład Aktywności Zawodowej w Kielcach"),
    "publish": _entry("publish", target="20261206T194300000000Z-1a2b3c4d", changeset=5, added=15, changed=2,
                      removed=0, entities=112, previous="20261201T080000000000Z-00aa11bb",
                      by_type={"spoldzielnia_socjalna": {"added": 3, "changed": 0, "removed": 0},
                               "wtz": {"added": 12, "changed": 2, "removed": 0}},
                      source={"kind": "file", "file": "rejestr.xlsx", "changeset": 5}),
    "publish_failed": _entry("publish_failed", target="zestaw 5", reason="żaden wiersz nie przeszedł walidacji"),
    "restore": _entry("restore", target="20261201T080000000000Z-00aa11bb", added=0, changed=0, removed=15,
                      restored_from="20261201T080000000000Z-00aa11bb",
                      by_type={"wtz": {"added": 0, "changed": 0, "removed": 15}}),
    "queue_accept": _entry("queue_accept", target="zgłoszenie 12", kind="report", entity="swk-001",
                           name="Zakład Aktywności Zawodowej w Kielcach", values={"street": "ul. Sienkiewicza 1"},
                           changeset=8, note="zgodne ze stroną"),
    "queue_reject": _entry("queue_reject", target="zgłoszenie 13", kind="review", entity="swk-027", values={},
                           note=""),
    "queue_import": _entry("queue_import", actor="system", target="proposals.json", proposals=3),
    "report_received": _entry("report_received", actor="formularz publiczny", target="zgłoszenie 12",
                              entity="swk-001", name="Zakład Aktywności Zawodowej w Kielcach", new=False,
                              values=["phone", "street"]),
    "verify_start": _entry("verify_start", target="weryfikacja w KRS", api="https://api-krs.ms.gov.pl/api/krs"),
    "verify_done": _entry("verify_done", target="weryfikacja w KRS", message="zakończona", checked=10, changes=3,
                          unknown=1, queued=4, with_krs=12),
    "verify_failed": _entry("verify_failed", target="weryfikacja w KRS", message="API KRS nie odpowiada"),
    "report_emails_deleted": _entry("report_emails_deleted", actor="system", target="e-maile z 3 zgłoszeń", days=90,
                                    items=[1, 2, 3]),
}


def test_every_kind_of_entry_has_a_sentence_and_an_example():
    assert set(history.RENDERERS) == set(audit.ACTIONS) == set(EXAMPLES)


@pytest.mark.parametrize("action", sorted(EXAMPLES))
def test_each_sentence_is_polish_without_machine_words(action):
    entry = EXAMPLES[action]
    said = history.sentence(entry, history.Context())
    keys = {k for k in entry.detail} | {action} | {k for v in entry.detail.values() if isinstance(v, dict) for k in v}
    keys |= {"feminine", "masculine", "inactive", "report", "review", "file", "true", "none"}
    named = entry.target + " " + str(entry.detail.get("file", ""))      # file names are names
    words = set(re.findall(r"[A-Za-z_]+", said)) - set(re.findall(r"[A-Za-z_]+", named))
    assert not {k for k in keys if len(k) > 2} & words, said
    assert "{" not in said and "[" not in said and "\\u" not in said, said
    assert said.startswith(history.who(entry.actor)), said


def test_sentences_say_what_happened_in_a_persons_form_only_when_known():
    publish = EXAMPLES["publish"]
    neutral = history.sentence(publish, history.Context())
    assert neutral == (f"ola: opublikowano wersję z pliku rejestr.xlsx: dodano 15{NBSP}podmiotów (12{NBSP}warsztatów "
                       f"terapii zajęciowej, 3{NBSP}spółdzielnie socjalne), zmieniono 2{NBSP}podmioty (2{NBSP}warsztaty "
                       f"terapii zajęciowej); w rejestrze 112{NBSP}podmiotów")
    assert history.sentence(publish, history.Context(forms={"ola": "feminine"})).startswith(
        "ola opublikowała wersję z pliku rejestr.xlsx: dodano 15")
    assert history.sentence(publish, history.Context(forms={"ola": "masculine"})).startswith("ola opublikował wersję")
    # Not a person: never a gendered verb.
    assert history.sentence(EXAMPLES["queue_import"], history.Context(forms={"system": "feminine"})) == \
        f"system: 3{NBSP}pozycje trafiły do kolejki Zgłoszenia z pliku proposals.json"
    one = _entry("queue_import", actor="system", target="x.csv", proposals=1)
    assert history.sentence(one, history.Context()) == f"system: 1{NBSP}pozycja trafiła do kolejki Zgłoszenia z pliku x.csv"
    assert history.sentence(EXAMPLES["restore"], history.Context()).startswith(
        "ola: przywrócono wersję z 1 grudnia 2026, ".replace(" grudnia", f"{NBSP}grudnia"))
    assert "usunięto 15" in history.sentence(EXAMPLES["restore"], history.Context())
    line = history.line(publish, history.Context())
    assert re.match(rf"6{NBSP}grudnia 2026, \d\d:43 — ola: opublikowano", line)


def test_versions_and_sources_in_words():
    assert history.source_text({"kind": "file", "file": "rejestr.xlsx"}) == "plik rejestr.xlsx"
    assert history.source_text({"kind": "edit", "queue_items": [12], "edits": 0, "entities": 1}) == "zgłoszenie nr 12"
    assert history.source_text({"kind": "edit", "queue_items": [], "edits": 3, "entities": 2}) == \
        f"edycja w konsoli (2{NBSP}podmioty)"
    assert history.source_text({"kind": "edit", "queue_items": [4, 9], "edits": 1, "entities": 3}) == \
        f"edycja w konsoli (3{NBSP}podmioty) i zgłoszenia nr 4, 9"
    assert history.source_text({}, "build") == "wiersz poleceń (python -m geoes build)"
    assert history.source_text({"kind": "restore", "restored_from": "20261201T080000000000Z-00aa11bb"}).startswith(
        f"przywrócenie (wersja z 1{NBSP}grudnia 2026, ")
    assert history.change_text({"added": 0, "changed": 0, "removed": 0}) == "bez zmian w podmiotach"


def test_checks_of_identifiers_in_words():
    assert checks_in_words("Fundacja „Nadzieja Rodzinie”; krs:ok(10 digits); nip:ok; regon9:ok") == (
        "Fundacja „Nadzieja Rodzinie”; KRS: poprawny numer (10 cyfr); NIP: poprawna suma kontrolna; "
        "REGON (9 cyfr): poprawna suma kontrolna")
    assert checks_in_words("regon14:FAIL (14-digit check digit); 9-digit prefix 040092844:ok") == (
        "REGON (14 cyfr): błędna cyfra kontrolna; pierwsze 9 cyfr (040092844) jako REGON: poprawna suma kontrolna")
    assert checks_in_words("n/a (no identifier found)") == "nie znaleziono numeru"
    assert checks_in_words("sprawdzić aktualność") == "sprawdzić aktualność"


@pytest.mark.parametrize("utc, said", [
    ("2026-12-06T19:43:00+00:00", f"6{NBSP}grudnia 2026, 20:43"),      # winter: UTC+1
    ("2026-12-06T23:30:00+00:00", f"7{NBSP}grudnia 2026, 00:30"),      # past midnight in Poland, not in UTC
    ("2026-07-01T10:00:00+00:00", f"1{NBSP}lipca 2026, 12:00"),        # summer: UTC+2
])
def test_times_are_said_in_polish_time_whatever_the_servers_zone(monkeypatch, utc, said):
    monkeypatch.setenv("TZ", "America/New_York")     # a server set to another zone changes nothing
    time.tzset()
    try:
        assert history.when_text(utc) == said
    finally:
        monkeypatch.undo()
        time.tzset()


def test_the_logs_date_filter_takes_days_in_poland():
    # 7 December in Poland starts at 23:00 UTC on the 6th; 1 July at 22:00 UTC on 30 June.
    assert history.day_start(date(2026, 12, 7)) == "2026-12-06T23:00:00+00:00"
    assert history.day_start(date(2026, 7, 1)) == "2026-06-30T22:00:00+00:00"
