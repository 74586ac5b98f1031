"""A local stand-in for GUGiK ULDK and GUS BDL, for offline tests of `geoes.sources.services`.

One `ThreadingHTTPServer` on 127.0.0.1 (port 0) in a background thread serves both:

* ULDK at `/uldk/`: `?request=GetCommuneById|GetCountyById|GetVoivodeshipById&id=…&result=geom_wkb`
  answers with text — a status line (`0`, or `-1 brak wyników`) and a line of hex WKB in EPSG:2180.
  The three spellings seen in the wild are all served: `SRID=2180;` + WKB (gminy), EWKB with the SRID
  inside (powiaty) and bare WKB (voivodeship).
* BDL at `/bdl/api/v1/`: `units` and `data/by-variable/72305` (population), `/10514` (registered
  unemployed) and `/60270` (unemployment rate, powiaty and the voivodeship), JSON shaped like the real API
  (`totalRecords`, `page`, `pageSize`, `links.first/prev/self/next/last`, `results`), pages of at most
  `page_cap` rows so paging is exercised.

The fake region is one powiat (XX02 jędrzejowski) with three gminy named after real ones; the codes
follow TERYT, but the polygons and populations are made up (rectangles placed where powiat jędrzejowski
lies in EPSG:2180, round population figures). It reproduces two real BDL quirks: an urban-rural gmina
is listed together with its town (kind 4) and rural part (kind 5), and a gmina whose kind changed
(Sobków, XX02082 → XX02083) is listed under both ids, with the data under the old one while ULDK
knows only the new one.

Fault injection (keys: the ULDK `id`, e.g. "260202_3", or the BDL path, e.g. "units"):
`uldk_status[id] = "-1 …"`, `fail_next[key] = n` (HTTP 500 n times), `delay[key] = seconds`.
Every request is logged in `requests` as (service, key, query dict, headers).
"""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

import shapely
from shapely.geometry import MultiPolygon, box

POPULATION_VARIABLE = 72305
UNEMPLOYED_VARIABLE = 10514
RATE_VARIABLE = 60270
# BDL variable → the FakeUnit attribute holding its values by year.
VARIABLES = {POPULATION_VARIABLE: "population", UNEMPLOYED_VARIABLE: "unemployed", RATE_VARIABLE: "rate"}


@dataclass
class FakeUnit:
    bdl_id: str
    name: str
    level: int
    kind: str
    population: dict[int, int]
    unemployed: dict = field(default_factory=dict)
    rate: dict = field(default_factory=dict)


class FakeServices:
    def __init__(self, region: str = "26", macroregion: str = "05", page_cap: int = 4):
        self.region = region
        self.macroregion = macroregion
        self.page_cap = page_cap
        self.uldk_status: dict[str, str] = {}
        self.fail_next: dict[str, int] = {}
        self.delay: dict[str, float] = {}
        self.requests: list[tuple[str, str, dict, dict]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._build()
        self.server: ThreadingHTTPServer | None = None
        self.thread: threading.Thread | None = None

    # ---- data ---------------------------------------------------------------------------------

    def _build(self) -> None:
        r, m = self.region, self.macroregion
        woj_id = f"{m}{r}00000000"
        powiat_id = f"{m}{r}11302000"  # region 1, podregion 13, powiat 02

        def gid(gmina: str, kind: str) -> str:
            return f"{m}{r}11302{gmina}{kind}"

        self.voivodeships = [
            FakeUnit(f"01{'12' if r != '12' else '24'}00000000", "INNE WOJEWÓDZTWO", 2, "0", {}),
            FakeUnit(woj_id, "ŚWIĘTOKRZYSKIE", 2, "0", {}),
            FakeUnit(f"07{'14' if r != '14' else '30'}00000000", "JESZCZE INNE", 2, "0", {}),
        ]
        self.woj_id = woj_id
        # Registered unemployed (made up): Jędrzejów has no 2023 figure, Sobków's are under its old id,
        # the town and rural parts of Jędrzejów carry their own (which are not gminy).
        gminy = [
            FakeUnit(gid("01", "2"), "Imielno", 6, "2", {2024: 4100, 2021: 4200}, {2022: 100, 2023: 95, 2024: 93}),
            FakeUnit(gid("02", "3"), "Jędrzejów", 6, "3", {2024: 26000, 2021: 27000}, {2022: 600, 2024: 526}),
            FakeUnit(gid("02", "4"), "Jędrzejów - miasto", 6, "4", {2024: 14000, 2021: 14500}, {2024: 300}),
            FakeUnit(gid("02", "5"), "Jędrzejów - obszar wiejski", 6, "5", {2024: 12000, 2021: 12500}, {2024: 226}),
            FakeUnit(gid("08", "2"), "Sobków", 6, "2", {2024: 8300, 2021: 8400}, {2022: 180, 2023: 170, 2024: 162}),
            FakeUnit(gid("08", "3"), "Sobków", 6, "3", {}),
        ]
        total = {y: sum(u.population.get(y, 0) for u in gminy if u.kind in "123") for y in (2024, 2021)}
        jobless = {y: sum(u.unemployed.get(y, 0) for u in gminy if u.kind in "123") for y in (2022, 2024)}
        self.powiaty = [FakeUnit(powiat_id, "Powiat jędrzejowski", 5, "0", total, jobless, {2022: 6.7, 2024: 6.0})]
        self.voivodeships[1].unemployed = {2022: 34029, 2024: 32289}
        # The voivodeship's rate (BDL publishes it for powiaty and up): made up, round on purpose.
        self.voivodeships[1].rate = {2022: 8.0, 2024: 7.5}
        self.gminy = gminy

        # EPSG:2180 (easting, northing), where powiat jędrzejowski really is (E 556-611 km, N 287-334 km).
        imielno = MultiPolygon([box(560_000, 290_000, 575_000, 320_000), box(561_000, 286_000, 562_000, 287_000)])
        jedrzejow = box(575_000, 290_000, 590_000, 320_000)
        sobkow = box(590_000, 290_000, 600_000, 320_000)
        p = f"{r}02"
        self.communes = {f"{p}01_2": imielno, f"{p}02_3": jedrzejow, f"{p}08_3": sobkow}
        self.counties = {p: shapely.union_all([imielno, jedrzejow, sobkow])}
        self.voivodeship_geoms = {r: box(550_000, 258_000, 702_000, 387_000)}

    # ---- server -------------------------------------------------------------------------------

    def start(self) -> "FakeServices":
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep test output clean
                pass

            def do_GET(self):
                fake._handle(self)

        class Server(ThreadingHTTPServer):
            daemon_threads = True

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

    def __enter__(self) -> "FakeServices":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def base(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def uldk_url(self) -> str:
        return f"{self.base}/uldk/"

    @property
    def bdl_url(self) -> str:
        return f"{self.base}/bdl/api/v1/"

    def count(self, service: str, key: str) -> int:
        return sum(1 for s, k, _, _ in self.requests if s == service and k == key)

    # ---- dispatch -----------------------------------------------------------------------------

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(h.path)
        query = {k: v if len(v) > 1 else v[0] for k, v in parse_qs(parts.query).items()}
        if parts.path.startswith("/uldk"):
            service, key = "uldk", str(query.get("id", ""))
        elif parts.path.startswith("/bdl/api/v1/"):
            service, key = "bdl", parts.path[len("/bdl/api/v1/"):].strip("/")
        else:
            return self._send(h, 404, "text/plain", "not found")
        with self._lock:
            self.requests.append((service, key, query, dict(h.headers)))
            failing = self.fail_next.get(key, 0)
            if failing:
                self.fail_next[key] = failing - 1
        if self.delay.get(key) and self._stop.wait(self.delay[key]):
            return None
        if failing:
            return self._send(h, 500, "text/plain", "Internal Server Error")
        if service == "uldk":
            return self._uldk(h, query)
        return self._bdl(h, key, query, parts.path)

    def _send(self, h, status: int, ctype: str, body: str) -> None:
        data = body.encode("utf-8")
        h.send_response(status)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)

    # ---- ULDK ---------------------------------------------------------------------------------

    def _uldk(self, h, q: dict) -> None:
        text = "text/plain; charset=utf-8"
        uid = str(q.get("id", ""))
        if q.get("result") != "geom_wkb":
            return self._send(h, 200, text, "-1 nieobsługiwany parametr result\n")
        if uid in self.uldk_status:
            return self._send(h, 200, text, self.uldk_status[uid] + "\n")
        request = q.get("request")
        if request == "GetCommuneById" and uid in self.communes:
            wkb = shapely.to_wkb(self.communes[uid], hex=True)
            return self._send(h, 200, text, f"0\nSRID=2180;{wkb}\n")
        if request == "GetCountyById" and uid in self.counties:
            wkb = shapely.to_wkb(shapely.set_srid(self.counties[uid], 2180), hex=True, include_srid=True)
            return self._send(h, 200, text, f"0\n{wkb}\n")
        if request == "GetVoivodeshipById" and uid in self.voivodeship_geoms:
            return self._send(h, 200, text, f"0\n{shapely.to_wkb(self.voivodeship_geoms[uid], hex=True)}\n")
        return self._send(h, 200, text, "-1 brak wyników\n")

    # ---- BDL ----------------------------------------------------------------------------------

    def _bdl(self, h, key: str, q: dict, path: str) -> None:
        if q.get("format") != "json":
            return self._send(h, 400, "application/json", json.dumps({"errorResult": "format"}))
        if key == "units":
            level = int(q.get("level", 0))
            parent = str(q.get("parent-id", ""))
            units = [u for u in self.voivodeships + self.powiaty + self.gminy
                     if u.level == level and u.bdl_id.startswith(parent.rstrip("0"))]
            rows = [{"id": u.bdl_id, "name": u.name, "parentId": self._parent(u), "level": u.level,
                     "kind": u.kind, "hasDescription": False} for u in units]
            extra = {}
        elif key.startswith("data/by-variable/") and int(key.rsplit("/", 1)[1]) in VARIABLES:
            variable = int(key.rsplit("/", 1)[1])
            level = int(q.get("unit-level", 0))
            parent = str(q.get("unit-parent-id", ""))
            years = q.get("year", [])
            years = [int(y) for y in ([years] if isinstance(years, str) else years)]
            rows = []
            for u in self.voivodeships + self.powiaty + self.gminy:
                if u.level != level or not u.bdl_id.startswith(parent.rstrip("0")):
                    continue
                data = getattr(u, VARIABLES[variable])
                values = [{"year": str(y), "val": data[y], "attrId": 1}
                          for y in sorted(data) if not years or y in years]
                if values:
                    rows.append({"id": u.bdl_id, "name": u.name, "values": values})
            extra = {"variableId": variable, "measureUnitId": 5, "lastUpdate": "2025-06-10T00:00:00"}
        else:
            return self._send(h, 404, "application/json", json.dumps({"errorResult": "not found"}))
        size = min(int(q.get("page-size", 10)), self.page_cap)
        page = int(q.get("page", 0))
        last = max(0, (len(rows) - 1) // size)

        def link(p: int) -> str:
            return f"{self.base}{path}?{urlencode({**q, 'page': p, 'page-size': size}, doseq=True)}"

        links = {"first": link(0), "self": link(page), "last": link(last)}
        if page > 0:
            links["prev"] = link(page - 1)
        if page < last:
            links["next"] = link(page + 1)
        body = {"totalRecords": len(rows), "page": page, "pageSize": size, "links": links,
                **extra, "results": rows[page * size:(page + 1) * size]}
        return self._send(h, 200, "application/json; charset=utf-8", json.dumps(body, ensure_ascii=False))

    def _parent(self, u: FakeUnit) -> str | None:
        if u.level == 2:
            return f"{u.bdl_id[:2]}0000000000"
        if u.level == 5:
            return self.woj_id
        return self.powiaty[0].bdl_id
