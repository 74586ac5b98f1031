"""Polish for people: numbers as Polish readers write them and plural forms of counted nouns.

One helper each: pages, the report, charts, the OGC HTML views, the CLI tables and the
console all format through here, so 80 370 and 0,12 read the same everywhere.

* `number(value, decimals=None)` — thousands separated by a non-breaking space, decimal comma,
  "–" for a missing value (None, NaN, pd.NA). `decimals=None`: integers whole, others with 2 decimals
  below 100 and 1 above. `trim=True` drops trailing zeros (0,50 → 0,5).
* `plural(n, noun)` — the form of `noun` after the count n: 1 podmiot, 2–4 podmioty, 5–21 podmiotów,
  22–24 podmioty; a fraction takes the genitive singular (0,5 podmiotu).
* `count(n, noun)` — "5 podmiotów", the number formatted by `number`.

The nouns and their forms are data (NOUNS); a noun not listed there is an error, not a guess.
"""
from __future__ import annotations

import math
from numbers import Number

NBSP = "\u00a0"
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


def plural(n, noun: str) -> str:
    one, few, many, fraction = NOUNS[noun]
    x = _as_number(n)
    if x is None:
        raise TypeError(f"plural needs a number, got {n!r}")
    if not float(x).is_integer():
        return fraction
    k = abs(int(x))
    if k == 1:
        return one
    if 2 <= k % 10 <= 4 and not 12 <= k % 100 <= 14:
        return few
    return many


def count(n, noun: str, decimals: int | None = None) -> str:
    return f"{number(n, decimals)}{NBSP}{plural(n, noun)}"
