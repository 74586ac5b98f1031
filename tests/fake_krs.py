"""A local stand-in for the Ministry of Justice's open KRS API, for offline tests and the benchmark.

One `ThreadingHTTPServer` on 127.0.0.1 (port 0) in a background thread answers
`GET /api/krs/OdpisAktualny/{KRS}?rejestr=S|P&format=json` like the real API: the extract as JSON
(`application/json; charset=utf-8`) when the number is in that part of the register, HTTP 404 with an
empty body when it is not, HTTP 400 for a missing or unknown `rejestr` or a `format` other than json.

Extracts come from `tests/fixtures/krs_*.json` (see tests/fixtures/README.md) and from `add()`;
`synthetic_extract()` builds one in the same shape for generated test entities (benchmark, scale tests).

Fault injection: `fail_next[krs] = n` (HTTP 500 n times), `maintenance = True` (HTTP 200 with the HTML
page "Przerwa techniczna" the real service shows during maintenance), `delay = seconds` (every answer).
Every request is logged in `requests` as (krs, rejestr, query dict, headers).
"""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

FIXTURES = Path(__file__).resolve().parent / "fixtures"
PREFIX = "/api/krs/OdpisAktualny/"
MAINTENANCE_PAGE = ("<!DOCTYPE html><html lang=\"pl\"><head><meta charset=\"utf-8\"><title>Przerwa techniczna"
                    "</title></head><body><h1>Przerwa techniczna</h1><p>Serwis jest chwilowo niedostępny."
                    "</p></body></html>")


def load_fixtures(directory: Path = FIXTURES) -> dict[tuple[str, str], dict]:
    out = {}
    for path in sorted(directory.glob("krs_*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        head = data["odpis"]["naglowekA"]
        out[head["numerKRS"], head["rejestr"][-1]] = data
    return out


def _check_digit(digits: str, weights: tuple[int, ...]) -> int:
    return sum(int(d) * w for d, w in zip(digits, weights)) % 11


def synthetic_nip(n: int) -> str:
    """A NIP that passes the checksum, from the prefixes 998/997 no tax office uses (test data only)."""
    for prefix in ("998", "997", "996"):
        base = f"{prefix}{n % 1_000_000:06d}"
        check = _check_digit(base, (6, 5, 7, 2, 3, 4, 5, 6, 7))
        if check != 10:
            return base + str(check)
    raise AssertionError("unreachable: two prefixes cannot both give check digit 10")


def synthetic_regon(n: int) -> str:
    base = f"998{n % 100_000:05d}"
    return base + str(_check_digit(base, (8, 9, 2, 3, 4, 5, 6, 7)) % 10)


def synthetic_extract(krs: str, register: str, name: str, *, locality: str = "KIELCE", street: str = "UL. TESTOWA",
                      number: str = "1", postal: str = "25-001", nip: str = "", regon: str = "",
                      legal_form: str = "STOWARZYSZENIE", seat: dict | None = None) -> dict:
    """An extract in the API's shape for a synthetic (marked) entity."""
    seat = seat or {"powiat": locality, "gmina": locality}
    return {"odpis": {
        "rodzaj": "Aktualny",
        "naglowekA": {"rejestr": f"Rej{register}", "numerKRS": krs, "dataCzasOdpisu": "20.11.2026 10:00:00",
                      "stanZDnia": "20.11.2026", "stanPozycji": 1},
        "dane": {
            "dzial1": {
                "danePodmiotu": {"formaPrawna": legal_form, "identyfikatory": {"regon": regon + "00000" if len(regon) == 9 else regon,
                                                                          "nip": nip},
                                 "nazwa": name, "daneOWczesniejszejRejestracji": {},
                                 "czyProwadziDzialalnoscZInnymiPodmiotami": False, "czyPosiadaStatusOPP": False},
                "siedzibaIAdres": {
                    "siedziba": {"kraj": "POLSKA", "wojewodztwo": "ŚWIĘTOKRZYSKIE", "powiat": seat["powiat"],
                                 "gmina": seat["gmina"], "miejscowosc": locality},
                    "adres": {"ulica": street, "nrDomu": number, "miejscowosc": locality, "kodPocztowy": postal,
                              "poczta": locality, "kraj": "POLSKA"},
                },
            },
            "dzial2": {}, "dzial3": {}, "dzial4": {}, "dzial5": {}, "dzial6": {},
        },
    }}


class FakeKrs:
    def __init__(self, extracts: dict[tuple[str, str], dict] | None = None):
        self.extracts = load_fixtures() if extracts is None else dict(extracts)
        self.fail_next: dict[str, int] = {}
        self.maintenance = False
        self.delay = 0.0
        self.requests: list[tuple[str, str, dict, dict]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.server: ThreadingHTTPServer | None = None
        self.thread: threading.Thread | None = None

    def add(self, extract: dict) -> None:
        head = extract["odpis"]["naglowekA"]
        self.extracts[head["numerKRS"], head["rejestr"][-1]] = extract

    def start(self) -> "FakeKrs":
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body are two writes: with Nagle's algorithm on, the client's delayed ACK would add
            # ~40 ms to every keep-alive answer, a delay of this fake, not of the real service.
            disable_nagle_algorithm = True

            def log_message(self, *args):
                pass

            def do_GET(self):
                fake._handle(self)

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            request_queue_size = 64

            def handle_error(self, request, client_address):  # client gone after a timeout: expected
                pass

        self.server = Server(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
        if self.thread is not None:
            self.thread.join(timeout=5)

    def __enter__(self) -> "FakeKrs":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def base(self) -> str:
        """The value for GEOES_KRS_API."""
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/api/krs"

    def count(self, krs: str | None = None) -> int:
        return sum(1 for k, *_ in self.requests if krs is None or k == krs)

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(h.path)
        if not parts.path.startswith(PREFIX):
            return self._send(h, 404, "text/plain", "")
        krs = parts.path[len(PREFIX):].strip("/")
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        register = query.get("rejestr", "").upper()
        with self._lock:
            self.requests.append((krs, register, query, dict(h.headers)))
            failing = self.fail_next.get(krs, 0)
            if failing:
                self.fail_next[krs] = failing - 1
        if self.delay and self._stop.wait(self.delay):
            return None
        if failing:
            return self._send(h, 500, "text/plain", "Internal Server Error")
        if self.maintenance:
            return self._send(h, 200, "text/html; charset=utf-8", MAINTENANCE_PAGE)
        if register not in ("S", "P") or query.get("format") != "json":
            return self._send(h, 400, "application/json", json.dumps({"message": "nieprawidłowe parametry"}))
        extract = self.extracts.get((krs, register))
        if extract is None:
            return self._send(h, 404, "application/json", "")
        return self._send(h, 200, "application/json; charset=utf-8", json.dumps(extract, ensure_ascii=False))

    def _send(self, h, status: int, ctype: str, body: str) -> None:
        data = body.encode("utf-8")
        h.send_response(status)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)
