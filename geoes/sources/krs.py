"""A client of the Ministry of Justice's open KRS API: the current extract (odpis aktualny) of an entry.

    GET {GEOES_KRS_API}/OdpisAktualny/{KRS}?rejestr=S|P&format=json

No key. The register has two parts that share one numbering: **S** (associations, foundations, other
social organisations, church legal persons with public-benefit status) and **P** (entrepreneurs:
cooperatives, companies). A number unknown in the register asked gives HTTP 404 (some gateways answer
204); an entry struck off has no current extract either. The body is JSON:

    {"odpis": {"rodzaj": "Aktualny",
               "naglowekA": {"rejestr": "RejS", "numerKRS": "0000198087", "stanZDnia": "08.03.2022",
                             "dataCzasOdpisu": "08.03.2022 05:03:05", ...},
               "dane": {"dzial1": {"danePodmiotu": {"formaPrawna": "...", "identyfikatory": {"nip", "regon"},
                                                    "nazwa": "...", "czyPosiadaStatusOPP": true},
                                   "siedzibaIAdres": {"siedziba": {"kraj", "wojewodztwo", "powiat", "gmina",
                                                                   "miejscowosc"},
                                                      "adres": {"ulica", "nrDomu", "nrLokalu", "miejscowosc",
                                                                "kodPocztowy", "poczta", "kraj"}}},
                        "dzial6": {"likwidacja": [...], "postepowanieUpadlosciowe": [...], ...}}}}

Texts are upper case, dates dd.mm.yyyy, the REGON of a legal person has 14 digits (9 + "00000").
During maintenance the service answers 200 with an HTML page "Przerwa techniczna" instead of JSON.

Every request is rate-limited (geopy's RateLimiter with an injectable clock, as the geocoders use),
retried on connection errors and 429/5xx (urllib3 Retry), and its answer — 404s included — is kept in
a SQLite cache (`data/cache/krs.sqlite`), so an interrupted run resumes where it stopped and a rerun
within `GEOES_KRS_CACHE_DAYS` asks nothing. When the service cannot be reached, `KrsUnavailable`
(exit code 2) says so in Polish.
"""
from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import requests
import urllib3

from geoes.config import Settings
from geoes.errors import ServiceError
from geoes.sources import http

REGISTERS = ("S", "P")
NOT_FOUND_STATUSES = (204, 404)
# HTTP header values must be Latin-1, so the Polish words are written without diacritics.
USER_AGENT = http.user_agent("weryfikacja z KRS")


class KrsUnavailable(ServiceError):
    """The KRS API cannot be reached or is down for maintenance: nothing can be verified now."""


class KrsAnswerError(ServiceError):
    """The KRS API answered something that is not a current extract (the message says what)."""


# --------------------------------------------------------------------------------------------------
# The extract


def _get(data: dict, *path, default=None):
    for key in path:
        if not isinstance(data, dict):
            return default
        data = data.get(key)
    return default if data is None else data


def krs_date(value: str) -> str:
    """'08.03.2022' (or '08.03.2022 05:03:05') → '2022-03-08'; '' when it is not such a date."""
    text = str(value or "").strip().split(" ")[0]
    try:
        return dt.datetime.strptime(text, "%d.%m.%Y").date().isoformat()
    except ValueError:
        return ""


def _has_content(value) -> bool:
    if isinstance(value, dict):
        return any(_has_content(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_content(v) for v in value)
    return value not in (None, "", False)


@dataclass(frozen=True)
class Extract:
    """One current extract as the API gave it, with the few facts the register compares."""

    krs: str
    register: str            # "S" or "P": the part of KRS that answered
    url: str                 # the public address of this extract (source of every proposal)
    data: dict               # the JSON body, untouched
    fetched_at: str          # when it was fetched (ISO, UTC), also for cached answers

    @property
    def subject(self) -> dict:
        return _get(self.data, "odpis", "dane", "dzial1", "danePodmiotu", default={})

    @property
    def name(self) -> str:
        return str(self.subject.get("nazwa") or "").strip()

    @property
    def legal_form(self) -> str:
        return str(self.subject.get("formaPrawna") or "").strip()

    @property
    def nip(self) -> str:
        return str(_get(self.subject, "identyfikatory", "nip", default="")).strip()

    @property
    def regon(self) -> str:
        return str(_get(self.subject, "identyfikatory", "regon", default="")).strip()

    @property
    def public_benefit(self) -> bool:
        return bool(self.subject.get("czyPosiadaStatusOPP"))

    @property
    def seat(self) -> dict:
        """wojewodztwo, powiat, gmina, miejscowosc (upper case, as KRS writes them)."""
        return _get(self.data, "odpis", "dane", "dzial1", "siedzibaIAdres", "siedziba", default={})

    @property
    def address(self) -> dict:
        """ulica, nrDomu, nrLokalu, kodPocztowy, miejscowosc, poczta, kraj."""
        return _get(self.data, "odpis", "dane", "dzial1", "siedzibaIAdres", "adres", default={})

    @property
    def as_of(self) -> str:
        """The date the extract states its content for (stanZDnia), ISO; the fetch date if absent."""
        head = _get(self.data, "odpis", "naglowekA", default={})
        return krs_date(head.get("stanZDnia")) or krs_date(head.get("dataCzasOdpisu")) or self.fetched_at[:10]

    @property
    def winding_up(self) -> str:
        """'likwidacja', 'upadłość' or 'rozwiązanie' when section 6 or the name says so, else ''."""
        section6 = _get(self.data, "odpis", "dane", "dzial6", default={})
        name = self.name.upper()
        if _has_content(section6.get("postepowanieUpadlosciowe")) or "W UPADŁOŚCI" in name:
            return "upadłość"
        if _has_content(section6.get("likwidacja")) or "W LIKWIDACJI" in name:
            return "likwidacja"
        if _has_content(section6.get("rozwiazanieUniewaznienie")):
            return "rozwiązanie"
        return ""


@dataclass(frozen=True)
class Lookup:
    """The answer for one KRS number: its extract, or None when no register asked knows it."""

    krs: str
    extract: Extract | None
    asked: tuple[str, ...]          # the registers asked, in order
    urls: tuple[str, ...]           # their extract addresses (for an "unknown number" proposal)


# --------------------------------------------------------------------------------------------------
# Cache


class KrsCache:
    """Answers keyed by (API address, KRS, register): the HTTP status and the body; a 404 is an answer too.

    The address is part of the key so that answers of one service (a test server, a mirror) are never
    taken for another's.
    """

    def __init__(self, path: Path | str | None):
        self.path = str(path) if path else ":memory:"
        if path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path)
        # A cache, not a record: WAL without an fsync per commit (a crash may lose the last few answers,
        # which a rerun fetches again); one fsync per answer would cost more than the answer itself.
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS answers (api TEXT NOT NULL, krs TEXT NOT NULL, "
                         "register TEXT NOT NULL, status INTEGER NOT NULL, body TEXT NOT NULL, "
                         "fetched_at TEXT NOT NULL, PRIMARY KEY (api, krs, register))")
        self._db.commit()
        self.hits = 0

    def get(self, api: str, krs: str, register: str, max_age_days: float) -> tuple[int, str, str] | None:
        if max_age_days <= 0:
            return None
        row = self._db.execute("SELECT status, body, fetched_at FROM answers WHERE api = ? AND krs = ? "
                               "AND register = ?", (api, krs, register)).fetchone()
        if row is None:
            return None
        age = dt.datetime.now(dt.timezone.utc) - dt.datetime.fromisoformat(row[2])
        if age > dt.timedelta(days=max_age_days):
            return None
        self.hits += 1
        return int(row[0]), row[1], row[2]

    def put(self, api: str, krs: str, register: str, status: int, body: str, fetched_at: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO answers VALUES (?, ?, ?, ?, ?, ?)",
                         (api, krs, register, status, body, fetched_at))
        self._db.commit()

    def __len__(self) -> int:
        return self._db.execute("SELECT count(*) FROM answers").fetchone()[0]

    def close(self) -> None:
        self._db.close()


# --------------------------------------------------------------------------------------------------
# HTTP


def make_session(retries: int | None = None, backoff: float | None = None) -> requests.Session:
    return http.make_session(USER_AGENT, retries=retries, backoff=backoff, accept="application/json")


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()


@dataclass
class KrsClient:
    base_url: str
    rate: float = 1.0                      # requests per second; 0 = no limit
    timeout: float = 20.0
    cache: KrsCache | None = None
    cache_days: float = 7
    session: requests.Session = field(default_factory=make_session)
    clock: Callable[[], float] | None = None
    sleep: Callable[[float], None] | None = None
    request_count: int = 0

    def __post_init__(self):
        self.base_url = self.base_url.rstrip("/")
        delay = 1.0 / self.rate if self.rate > 0 else 0.0
        self._limited = http.ClockedRateLimiter(self._request, min_delay_seconds=delay, clock=self.clock,
                                           sleep=self.sleep)

    @classmethod
    def from_settings(cls, settings: Settings, *, use_cache: bool = True, **kwargs) -> "KrsClient":
        cache = KrsCache(settings.krs_cache_path) if use_cache else None
        return cls(settings.krs_api, rate=settings.krs_rate, timeout=settings.krs_timeout, cache=cache,
                   cache_days=settings.krs_cache_days, **kwargs)

    def url(self, krs: str, register: str) -> str:
        return f"{self.base_url}/OdpisAktualny/{krs}?rejestr={register}&format=json"

    def _request(self, url: str) -> requests.Response:
        self.request_count += 1
        try:
            return self.session.get(url, timeout=self.timeout)
        except (requests.Timeout, urllib3.exceptions.TimeoutError):
            raise KrsUnavailable(f"API KRS nie odpowiada (limit czasu {self.timeout:g} s, {url}); "
                                 "spróbuj później — rejestru nie zmieniono") from None
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
            raise KrsUnavailable(f"brak połączenia z API KRS ({self.base_url}: {type(exc).__name__}); "
                                 "sprawdź połączenie lub ustawienie GEOES_KRS_API — rejestru nie zmieniono") from None

    def fetch(self, krs: str, register: str) -> tuple[int, str]:
        """One request (rate-limited): (status, body) with status 200 or 404; anything else raises."""
        url = self.url(krs, register)
        response = self._limited(url)
        if response.status_code in NOT_FOUND_STATUSES:
            return 404, ""
        if response.status_code in http.RETRY_STATUSES:
            raise KrsUnavailable(f"API KRS odpowiada błędem HTTP {response.status_code} ({url}); "
                                 "spróbuj później — rejestru nie zmieniono")
        if response.status_code != 200:
            raise KrsAnswerError(f"API KRS: HTTP {response.status_code} dla {url}")
        text = response.text
        try:
            json.loads(text)
        except ValueError:
            if "przerwa techniczna" in text.lower():
                raise KrsUnavailable("API KRS ma przerwę techniczną; spróbuj później — rejestru nie zmieniono") \
                    from None
            raise KrsAnswerError(f"API KRS: odpowiedź nie jest w formacie JSON ({url})") from None
        return 200, text

    def _answer(self, krs: str, register: str) -> tuple[int, str, str]:
        if self.cache is not None:
            hit = self.cache.get(self.base_url, krs, register, self.cache_days)
            if hit is not None:
                return hit
        status, body = self.fetch(krs, register)
        fetched = _now()
        if self.cache is not None:
            self.cache.put(self.base_url, krs, register, status, body, fetched)
        return status, body, fetched

    def lookup(self, krs: str, first: str = "S") -> Lookup:
        """The current extract of `krs`: the likely register first, then the other one."""
        order = (first, *[r for r in REGISTERS if r != first])
        for i, register in enumerate(order):
            status, body, fetched = self._answer(krs, register)
            if status == 200:
                data = json.loads(body)
                if not isinstance(_get(data, "odpis", "dane"), dict):
                    raise KrsAnswerError(f"API KRS: odpowiedź bez sekcji odpis.dane ({self.url(krs, register)})")
                extract = Extract(krs, register, self.url(krs, register), data, fetched)
                return Lookup(krs, extract, order[:i + 1], tuple(self.url(krs, r) for r in order[:i + 1]))
        return Lookup(krs, None, order, tuple(self.url(krs, r) for r in order))

    def close(self) -> None:
        if self.cache is not None:
            self.cache.close()
        self.session.close()
