"""Polish for people: numbers as Polish readers write them and plural forms of counted nouns.

One helper each: pages, the report, charts, the OGC HTML views, the CLI tables and the
console all format through here, so 80 370 and 0,12 read the same everywhere.

* `number(value, decimals=None)` — thousands separated by a non-breaking space, decimal comma,
  "–" for a missing value (None, NaN, pd.NA). `decimals=None`: integers whole, others with 2 decimals
  below 100 and 1 above. `trim=True` drops trailing zeros (0,50 → 0,5).
* `plural(n, noun)` — the form of `noun` after the count n: 1 podmiot, 2–4 podmioty, 5–21 podmiotów,
  22–24 podmioty; a fraction takes the genitive singular (0,5 podmiotu). `noun` is a key of NOUNS or the
  four forms themselves (the entity types' nouns are data: geoes/reference/entity_types.csv).
* `agree(n, verb)` — the verb after a count as its subject: "1 zgłoszenie czeka", "3 zgłoszenia czekają",
  "5 zgłoszeń czeka" (VERBS); `count_verb(n, noun, verb)` — the count, the noun and the verb together.
* `count(n, noun)` — "5 podmiotów", the number formatted by `number`.
* `count_genitive(n, noun)` — the count after "z" (out of): "68 z 82 podmiotów", "z 1 podmiotu".
* `date_text(day)` — a date as a reader says it: "6 grudnia 2026".
* `distance_text(km)` — a distance: "0,4 km", "2,4 km", "12 km"; `direction(bearing)` — the way to go,
  one of eight: "na północny zachód".

The nouns and their forms are data (NOUNS); a noun not listed there is an error, not a guess.
"""
from __future__ import annotations

import math
from datetime import date, datetime
from zoneinfo import ZoneInfo
from numbers import Number

NBSP = "\u00a0"
# Times are shown in Polish time whatever the server's own zone (containers usually run in UTC).
POLISH_TIME = ZoneInfo("Europe/Warsaw")
MISSING = "–"

# noun: (1, 2–4, 5+, fraction)
NOUNS: dict[str, tuple[str, str, str, str]] = {
    "podmiot": ("podmiot", "podmioty", "podmiotów", "podmiotu"),
    "gmina": ("gmina", "gminy", "gmin", "gminy"),
    "powiat": ("powiat", "powiaty", "powiatów", "powiatu"),
    "mieszkaniec": ("mieszkaniec", "mieszkańców", "mieszkańców", "mieszkańca"),
    "osoba": ("osoba", "osoby", "osób", "osoby"),
    "bezrobotny": ("bezrobotny", "bezrobotnych", "bezrobotnych", "bezrobotnego"),
    "wiersz": ("wiersz", "wiersze", "wierszy", "wiersza"),
    "zmiana": ("zmiana", "zmiany", "zmian", "zmiany"),
    "zgłoszenie": ("zgłoszenie", "zgłoszenia", "zgłoszeń", "zgłoszenia"),
    "wersja": ("wersja", "wersje", "wersji", "wersji"),
    "strona": ("strona", "strony", "stron", "strony"),
    "pracownik": ("pracownik", "pracowników", "pracowników", "pracownika"),
    "miejscowość": ("miejscowość", "miejscowości", "miejscowości", "miejscowości"),
    "rok": ("rok", "lata", "lat", "roku"),
    "minuta": ("minuta", "minuty", "minut", "minuty"),
    "sekunda": ("sekunda", "sekundy", "sekund", "sekundy"),
    "problem": ("problem", "problemy", "problemów", "problemu"),
    "nieprawidłową wartość": ("nieprawidłową wartość", "nieprawidłowe wartości", "nieprawidłowych wartości",
                              "nieprawidłowej wartości"),
    "ostrzeżenie": ("ostrzeżenie", "ostrzeżenia", "ostrzeżeń", "ostrzeżenia"),
    "propozycja": ("propozycja", "propozycje", "propozycji", "propozycji"),
    "zapytanie": ("zapytanie", "zapytania", "zapytań", "zapytania"),
    "numer": ("numer", "numery", "numerów", "numeru"),
    "plik": ("plik", "pliki", "plików", "pliku"),
    "obiekt": ("obiekt", "obiekty", "obiektów", "obiektu"),
    "znak": ("znak", "znaki", "znaków", "znaku"),
    "jednostka": ("jednostka", "jednostki", "jednostek", "jednostki"),
    "profil": ("profil", "profile", "profili", "profilu"),
    "godzina": ("godzina", "godziny", "godzin", "godziny"),
    "dzień": ("dzień", "dni", "dni", "dnia"),
    "podobna nazwa": ("podobna nazwa", "podobne nazwy", "podobnych nazw", "podobnej nazwy"),
    "sesja": ("sesja", "sesje", "sesji", "sesji"),
    "kolumna": ("kolumna", "kolumny", "kolumn", "kolumny"),
    "pole": ("pole", "pola", "pól", "pola"),
    "wpis": ("wpis", "wpisy", "wpisów", "wpisu"),
    "poprawka": ("poprawka", "poprawki", "poprawek", "poprawki"),
    "pozycja": ("pozycja", "pozycje", "pozycji", "pozycji"),
}


# verb: (after 1, after 2–4, after 0 or 5+ — the genitive plural takes a singular neuter verb)
VERBS: dict[str, tuple[str, str, str]] = {
    "czekać": ("czeka", "czekają", "czeka"),
    "czekał": ("czekał", "czekały", "czekało"),
    "być": ("jest", "są", "jest"),
    "trafić": ("trafi", "trafią", "trafi"),
    "trafiła": ("trafiła", "trafiły", "trafiło"),      # a feminine noun's past tense: 1 pozycja trafiła
}


def is_missing(value) -> bool:
    """None, NaN, pd.NA and NaT: a value that is not there."""
    if value is None:
        return True
    try:
        return bool(value != value)  # NaN and NaT are not equal to themselves; pd.NA raises
    except TypeError:
        return True


def _as_number(value) -> float | int | None:
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, Number):
        return None
    return value


def number(value, decimals: int | None = None, *, trim: bool = False) -> str:
    if is_missing(value):
        return MISSING
    x = _as_number(value)
    if x is None:
        return str(value)
    if not math.isfinite(x):
        return MISSING
    if decimals is None:
        decimals = 0 if float(x).is_integer() else (2 if abs(x) < 100 else 1)
    text = f"{x:,.{decimals}f}"
    if trim and "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace(",", NBSP).replace(".", ",")


def percent(value, decimals: int = 1) -> str:
    return MISSING if is_missing(value) else f"{number(value, decimals)}{NBSP}%"


def ratio(value, decimals: int = 2) -> str:
    """A multiple of the voivodeship value: 0,35 ×."""
    return MISSING if is_missing(value) else f"{number(value, decimals)}{NBSP}×"


def _forms(noun: str | tuple[str, str, str, str]) -> tuple[str, str, str, str]:
    return NOUNS[noun] if isinstance(noun, str) else tuple(noun)


def _category(n, what: str) -> str:
    """one | few | many (after a whole number) | fraction."""
    x = _as_number(n)
    if x is None:
        raise TypeError(f"{what} needs a number, got {n!r}")
    if not float(x).is_integer():
        return "fraction"
    k = abs(int(x))
    if k == 1:
        return "one"
    if 2 <= k % 10 <= 4 and not 12 <= k % 100 <= 14:
        return "few"
    return "many"


def agree(n, verb: str) -> str:
    """The form of `verb` whose subject is "n things": czeka / czekają / czeka (VERBS)."""
    one, few, many = VERBS[verb]
    return {"one": one, "few": few}.get(_category(n, "agree"), many)


def count_verb(n, noun, verb: str) -> str:
    """"3 zgłoszenia czekają", "5 zgłoszeń czeka", "1 zgłoszenie czeka"."""
    return f"{count(n, noun)} {agree(n, verb)}"


def plural(n, noun: str | tuple[str, str, str, str]) -> str:
    one, few, many, fraction = _forms(noun)
    return {"one": one, "few": few, "many": many, "fraction": fraction}[_category(n, "plural")]


def noun_of_plural(word: str) -> str | None:
    """The noun whose plural ("2–4" form) is `word` — "podmioty" → "podmiot" — so that a unit a data file
    writes in one form can be inflected for its number; None for a word that is no known noun."""
    return next((noun for noun, forms in NOUNS.items() if forms[1] == word.strip()), None)


def count(n, noun: str | tuple[str, str, str, str], decimals: int | None = None) -> str:
    return f"{number(n, decimals)}{NBSP}{plural(n, noun)}"


def genitive(n, noun: str) -> str:
    """The form of `noun` after "z N" (out of N): genitive, singular for one and fractions, plural otherwise."""
    one, _few, many, fraction = _forms(noun)
    x = _as_number(n)
    if x is None:
        raise TypeError(f"genitive needs a number, got {n!r}")
    return fraction if not float(x).is_integer() or abs(int(x)) == 1 else many


def count_genitive(n, noun: str, decimals: int | None = None) -> str:
    return f"{number(n, decimals)}{NBSP}{genitive(n, noun)}"


MONTHS_GENITIVE = ("stycznia", "lutego", "marca", "kwietnia", "maja", "czerwca", "lipca", "sierpnia", "września",
                   "października", "listopada", "grudnia")


def today_in_poland() -> date:
    """The date in Poland now — the day an operator or a reader means, whatever the server's zone."""
    return datetime.now(POLISH_TIME).date()


def date_text(day: date) -> str:
    """6 grudnia 2026 (day, month in the genitive, year)."""
    return f"{day.day}{NBSP}{MONTHS_GENITIVE[day.month - 1]} {day.year}"


def distance_text(km: float) -> str:
    """A distance as a reader takes it: one decimal below 10 km ("2,4 km"), whole kilometres above; under
    50 m "mniej niż 0,1 km" (never "0,0 km")."""
    if km < 0.05:
        return f"mniej niż 0,1{NBSP}km"
    return f"{number(km, 1 if km < 9.95 else 0)}{NBSP}km"


# Eight directions, clockwise from the north; each covers 45° around its bearing.
DIRECTIONS = ("na północ", "na północny wschód", "na wschód", "na południowy wschód", "na południe",
              "na południowy zachód", "na zachód", "na północny zachód")


def direction(bearing: float) -> str:
    """The direction of a bearing in degrees (0 = north, clockwise): "na północny zachód"."""
    return DIRECTIONS[int(((bearing % 360) + 22.5) // 45) % 8]
