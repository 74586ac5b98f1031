"""A client of a Murmurations Index (the Murmurations Network's register of profiles; API version 2):

    POST {index}/nodes             {"profile_url": "https://…/api/murmurations/swk-001.json"}
      200  {"data": {"node_id": "<SHA-256 of the profile URL, hex>"}}
      400  {"errors": [{"status": 400, "title": "Invalid Profile URL", "detail": "…"}]}
    GET  {index}/nodes/{node_id}
      200  {"data": {"node_id", "profile_url", "profile_hash", "status", "last_updated"}}
           status: received → validated → posted (post_failed: the Index retries by itself; deleted)
      4xx  {"errors": [{"status", "title", "detail", "source"}], "meta": {"node_id", "profile_url"}} — the
           reasons of a profile that failed validation, or "Node Not Found"

`{index}` is e.g. https://index.murmurations.network/v2 (the test index: https://test-index…/v2). The
Index fetches and validates each profile itself, after answering the POST; a node's status says how far
it got. (As described by MurmurationsNetwork/MurmurationsServices: geoes/reference/murmurations/SOURCE.md.)

Requests are rate-limited (RATE per second) and GETs retried on connection errors and 429/5xx by the shared
session (geoes.sources.http); a POST is sent once. An index that cannot be reached, or answers 5xx or
something that is not its JSON, raises `IndexUnavailable` (exit code 2).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import requests

from geoes.errors import ServiceError
from geoes.sources import http

USER_AGENT = http.user_agent("profile Murmurations")
RATE = 2.0          # requests per second: a register of thousands is posted at a pace the Index takes
TIMEOUT = 30.0


class IndexUnavailable(ServiceError):
    """The Murmurations Index cannot be reached or fails: nothing more can be posted now."""


def node_id(profile_url: str) -> str:
    """The Index's id of a profile URL's node: the SHA-256 of the URL (hex)."""
    return hashlib.sha256(profile_url.encode("utf-8")).hexdigest()


@dataclass
class Posted:
    profile_url: str
    node_id: str = ""
    error: str = ""       # why the Index refused the URL (empty when it took it)


@dataclass
class NodeStatus:
    profile_url: str
    node_id: str
    status: str           # received, validated, posted, post_failed, deleted, validation_failed, not_found
    reasons: list[str] = field(default_factory=list)


def _errors(body) -> list[str]:
    errors = body.get("errors") if isinstance(body, dict) else None
    return [": ".join(str(e.get(k)) for k in ("title", "detail") if e.get(k)) for e in errors or []
            if isinstance(e, dict)]


class IndexClient:
    def __init__(self, base_url: str, session: requests.Session | None = None, *, rate: float = RATE,
                 timeout: float = TIMEOUT, clock=None, sleep=None):
        self.base_url = base_url.rstrip("/")
        self.session = session or http.make_session(USER_AGENT, accept="application/json")
        self.timeout = timeout
        self._call = http.ClockedRateLimiter(self._send, min_delay_seconds=1.0 / rate, clock=clock, sleep=sleep)

    def _send(self, method: str, url: str, **kw) -> requests.Response:
        try:
            return self.session.request(method, url, timeout=self.timeout, **kw)
        except requests.RequestException as exc:
            raise IndexUnavailable(f"indeks Murmurations {self.base_url} jest nieosiągalny ({type(exc).__name__})") \
                from None

    def _json(self, resp: requests.Response) -> dict:
        if resp.status_code >= 500:
            raise IndexUnavailable(f"indeks Murmurations {self.base_url} odpowiada błędem HTTP {resp.status_code}")
        try:
            body = resp.json()
        except ValueError:
            raise IndexUnavailable(f"indeks Murmurations {self.base_url} odpowiedział czymś, co nie jest JSON "
                                   f"(HTTP {resp.status_code}) — czy to adres API indeksu (…/v2)?") from None
        if not isinstance(body, dict):
            raise IndexUnavailable(f"indeks Murmurations {self.base_url}: nieoczekiwana odpowiedź")
        return body

    def post(self, profile_url: str) -> Posted:
        """Ask the Index to add (or refresh) the profile at `profile_url`."""
        resp = self._call("POST", f"{self.base_url}/nodes", json={"profile_url": profile_url})
        body = self._json(resp)
        data = body.get("data") if isinstance(body.get("data"), dict) else {}
        if resp.status_code == 200 and data.get("node_id"):
            return Posted(profile_url, str(data["node_id"]))
        reasons = _errors(body) or [f"HTTP {resp.status_code}"]
        return Posted(profile_url, error="; ".join(reasons))

    def status(self, profile_url: str) -> NodeStatus:
        """How far the Index got with the node of `profile_url`."""
        nid = node_id(profile_url)
        resp = self._call("GET", f"{self.base_url}/nodes/{nid}")
        body = self._json(resp)
        data = body.get("data") if isinstance(body.get("data"), dict) else {}
        if resp.status_code == 200 and data.get("status"):
            return NodeStatus(profile_url, nid, str(data["status"]))
        if resp.status_code == 404:
            return NodeStatus(profile_url, nid, "not_found", _errors(body))
        return NodeStatus(profile_url, nid, "validation_failed", _errors(body) or [f"HTTP {resp.status_code}"])
