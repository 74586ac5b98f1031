"""What every client of an official or public service shares: one requests Session with a real User-Agent
and urllib3 retries, and geopy's rate limiter with a clock tests can drive.

The fetch (GUGiK ULDK, GUS BDL), the KRS client and the geocoders (GUGiK, Nominatim) all use these, so a
retry policy or a rate limit means the same thing for each service.
"""
from __future__ import annotations

import time
from collections.abc import Callable

import requests
from geopy.extra.rate_limiter import RateLimiter
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from geoes import __version__

RETRY_STATUSES = (429, 500, 502, 503, 504)
RETRIES = 3
RETRY_BACKOFF = 0.5      # seconds, doubled on each retry (urllib3)


def user_agent(purpose: str) -> str:
    """The services' policies (Nominatim's, the ministry's) ask for a client that says who it is."""
    return f"geoes/{__version__} (+mapa ekonomii spolecznej; {purpose})"


def make_session(agent: str, *, retries: int | None = None, backoff: float | None = None,
                 accept: str | None = None) -> requests.Session:
    """One Session with the User-Agent `agent` and urllib3 retries (5xx, 429, connection and read errors);
    RETRIES and RETRY_BACKOFF by default, read when called (tests set the back-off to 0)."""
    retries = RETRIES if retries is None else retries
    backoff = RETRY_BACKOFF if backoff is None else backoff
    retry = Retry(
        total=retries, connect=retries, read=retries, status=retries, other=0,
        backoff_factor=backoff, status_forcelist=RETRY_STATUSES, allowed_methods=frozenset({"GET"}),
        respect_retry_after_header=False,  # a rate-limit answer must not stall a fetch for minutes
        raise_on_status=False,  # the last response comes back, so the error can quote its status
    )
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = agent
    if accept:
        session.headers["Accept"] = accept
    return session


class ClockedRateLimiter(RateLimiter):
    """geopy's RateLimiter with an injectable clock and sleep (tests advance a fake clock, never sleep);
    errors reach the caller at once (no retries here: the session retries, and a caller decides)."""

    def __init__(self, func, *, min_delay_seconds: float = 1.0, clock: Callable[[], float] | None = None,
                 sleep: Callable[[float], None] | None = None, **kwargs):
        kwargs.setdefault("max_retries", 0)
        kwargs.setdefault("swallow_exceptions", False)
        super().__init__(func, min_delay_seconds=min_delay_seconds, **kwargs)
        self._clock_fn = clock or time.monotonic
        self._sleep_fn = sleep or time.sleep

    def _clock(self):
        return self._clock_fn()

    def _sleep(self, seconds):
        self._sleep_fn(seconds)
