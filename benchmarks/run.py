#!/usr/bin/env python
"""geoes benchmarks: one command, one JSON file and one Markdown table.

    .venv/bin/python benchmarks/run.py [--sizes 1000,10000,100000,1000000]
                                       [--serve-sizes 1000,10000,100000] [--parts build,serve,scale]
                                       [--scale-sizes 1000,100000,1000000]
                                       [--out benchmarks/results]

Part `build` (the data core): at each size, in a fresh subprocess, synthetic entities
(geoes.register.synthetic, seeded, marked, never written into data/) go through the build's own in-memory
stages (`geoes.dataset.build.compute_frame`: validate → points → join → indicators), each timed through its
`on_stage` hook, and the process's peak memory (ru_maxrss) is reported. Side by side: the previous design
(`geoes.dataset.join.join_gminy_sjoin`, geopandas.sjoin) and the naive way (a Python loop of shapely
`contains` per point per gmina, timed on a subsample and extrapolated).

Part `serve` (the web side): at each serve size a data directory is made in a temporary directory
(fetched region data cloned + synthetic entities.csv + geoes.dataset.build.build), `gunicorn app:app` is started
on 127.0.0.1 with GEOES_DATA_DIR pointing there, and each function in SERVE_MEASUREMENTS measures one
thing against it. A measurement that cannot run (a route missing, Chromium or pygeoapi not installed)
reports "not available" with the reason instead of failing the run. Add a measurement by writing a
function `(ctx: ServeContext) -> dict` and listing it in SERVE_MEASUREMENTS.

Part `scale` (opt-in: `--parts scale`): at each scale size, a synthetic register file in a temporary
directory, built by `python -m geoes build --entities FILE` in a fresh process (wall time, peak RSS),
served by gunicorn; the map's light payload (/api/points.json) and the server's clusters (/api/clusters)
are fetched as the map fetches them (gzip), and the current map's first render is measured up to
`--render-max` entities.

Nothing here is a test: budgets are reported as pass/fail, the run never fails on them.
"""
from __future__ import annotations

import argparse
import gzip
import http.client
import json
import os
import platform
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
sys.path.insert(0, str(REPO_DIR))  # run as a script from a checkout: the package is not installed

import numpy as np  # noqa: E402
import shapely  # noqa: E402

from geoes.config import Settings  # noqa: E402
from geoes.dataset.build import STAGES, Computed, build, compute_frame  # noqa: E402
from geoes.dataset.join import entities_to_points, join_gminy_sjoin  # noqa: E402
from geoes.dataset.reader import load_current  # noqa: E402
from geoes.register.record import MAX_FILE_BYTES, read_table  # noqa: E402
from geoes.register.synthetic import as_read_table, generate, write_csv  # noqa: E402
from geoes.sources.territory import Territory, load_territory  # noqa: E402

SEED = 20260101
DEFAULT_SIZES = "1000,10000,100000,1000000"
DEFAULT_SERVE_SIZES = "1000,10000,100000"
NAIVE_SAMPLE = 1000          # points timed in the naive point-in-polygon loop (then extrapolated)
BUDGETS = {                   # the project's speed budgets (benchmarks/README.md, "Budgets")
    "join_indicators_s": {10_000: 1.0, 1_000_000: 10.0},
    "cached_items_p50_ms": 10.0,
    "map_html_kb": 50.0,
    "first_render_s": 3.0,
}
CHROMIUM = os.environ.get("GEOES_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PYGEOAPI_VENV = BENCH_DIR / ".venv-pygeoapi"
COPY_DIRS = ("boundaries", "population", "gazetteer", "official")


# --------------------------------------------------------------------------------------------------
# Small helpers


def _median(xs):
    return statistics.median(xs) if xs else None


def _pct(xs, q):
    if not xs:
        return None
    xs = sorted(xs)
    k = min(len(xs) - 1, max(0, int(round(q / 100 * (len(xs) - 1)))))
    return xs[k]


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def _rss_mb() -> float:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return float("nan")


def machine() -> dict:
    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    versions = {}
    for mod in ("geopandas", "shapely", "pandas", "numpy", "pyproj", "scipy", "flask", "gunicorn", "folium"):
        try:
            versions[mod] = version(mod)
        except PackageNotFoundError:
            versions[mod] = None
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": mem, "python": platform.python_version(),
            "platform": platform.platform(), "versions": versions}


def _data_source() -> Path:
    """The fetched region data (boundaries, population, gazetteer) to clone: ./data, made by `fetch`."""
    src = Settings.from_env().data_dir
    if not (src / "boundaries" / "gminy.geojson").exists():
        raise SystemExit(f"brak danych regionu w {src}: uruchom `python -m geoes fetch --mirror ../shared/data`")
    return src


def clone_data_dir(target: Path) -> Path:
    src = _data_source()
    target.mkdir(parents=True, exist_ok=True)
    for name in COPY_DIRS:
        if (src / name).exists():
            shutil.copytree(src / name, target / name, dirs_exist_ok=True)
    return target


def _child(args: list[str], timeout: float) -> dict:
    """Run this script in a fresh interpreter (`--child ...`) and return the JSON it prints last."""
    cmd = [sys.executable, str(Path(__file__).resolve()), *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=REPO_DIR)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"child {' '.join(args)} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return json.loads(lines[-1])


# --------------------------------------------------------------------------------------------------
# Part 1: build (validate + join + indicators), one fresh process per size


def child_build(n: int, data_dir: Path, repeat: int) -> dict:
    """Time the build's stages on n synthetic entities, then the sjoin and naive baselines (one process)."""
    settings = Settings(region="26", data_dir=data_dir)
    out: dict = {"n": n, "repeat": repeat}
    t = time.perf_counter()
    territory = load_territory(settings)
    out["load_territory_s"] = time.perf_counter() - t
    t = time.perf_counter()
    frame = as_read_table(generate(territory, n, seed=SEED))
    out["generate_s"] = time.perf_counter() - t
    out["rss_before_build_mb"] = _rss_mb()
    out["maxrss_before_build_mb"] = _maxrss_mb()
    computed = _time_stages(frame, settings, territory, repeat, out)
    out["peak_rss_mb"] = _maxrss_mb()
    out["build_rss_increment_mb"] = out["peak_rss_mb"] - out["rss_before_build_mb"]
    _time_sjoin(computed, territory, out)
    _time_naive(computed.joined, territory, out)
    # Like for like: both joins start from the same points frame (entities_to_points timed apart).
    out["sjoin_over_ours"] = out["join_sjoin_s"] / out["join_gminy_s"] if out["join_gminy_s"] else None
    _time_read_csv(frame, out)
    return out


def _time_stages(frame, settings: Settings, territory: Territory, repeat: int, out: dict) -> Computed:
    """Run `compute_frame` `repeat` times, timing each of its STAGES through the `on_stage` hook."""
    times: dict[str, list[float]] = {stage: [] for stage in STAGES}
    for i in range(repeat):
        marks = [time.perf_counter()]
        computed = compute_frame(frame, settings, territory, "synthetic",
                                 on_stage=lambda stage: marks.append(time.perf_counter()))
        for stage, start, end in zip(STAGES, marks, marks[1:]):
            times[stage].append(end - start)
        if i < repeat - 1:
            del computed
    out["rejected"] = int(len(computed.rejects))
    out["placed"] = int(computed.joined["placed"].sum())
    out["access_method"] = computed.indicators.method["access_method"]
    out["outside_region"] = int(computed.joined["outside_region"].sum())
    # Reported names: join = points (building the geometries) + join_gminy (the point-in-polygon join).
    stages = {"validate": times["validate"], "points": times["points"], "join_gminy": times["join"],
              "join": [a + b for a, b in zip(times["points"], times["join"])], "indicators": times["indicators"]}
    for k, xs in stages.items():
        out[f"{k}_s"] = _median(xs)
        out[f"{k}_all_s"] = xs
    out["join_indicators_s"] = out["join_s"] + out["indicators_s"]
    out["total_s"] = out["validate_s"] + out["join_indicators_s"]
    return computed


def _time_sjoin(computed: Computed, territory: Territory, out: dict) -> None:
    """The previous design: geopandas.sjoin over the spatial index (kept in geoes.dataset.join)."""
    points = entities_to_points(computed.valid)
    t = time.perf_counter()
    sj = join_gminy_sjoin(points, territory.gminy)
    out["join_sjoin_s"] = time.perf_counter() - t
    ours = computed.joined["gmina_teryt_computed"].to_numpy()
    out["sjoin_agrees"] = bool((sj["gmina_teryt_computed"].to_numpy() == ours).all())


def _time_naive(joined, territory: Territory, out: dict) -> None:
    """The naive way: for each point, for each gmina, shapely `contains`; a subsample, extrapolated."""
    placed = joined[joined["placed"]]
    rng = np.random.default_rng(SEED)
    k = min(NAIVE_SAMPLE, len(placed))
    sample = placed.iloc[np.sort(rng.choice(len(placed), k, replace=False))]
    polys = list(territory.gminy.sort_values("teryt")[["teryt", "geometry"]].itertuples(index=False))
    xs, ys = shapely.get_x(sample.geometry.to_numpy()), shapely.get_y(sample.geometry.to_numpy())
    t = time.perf_counter()
    found = []
    for x, y in zip(xs, ys):
        pt = shapely.Point(x, y)
        hit = ""
        for teryt, geom in polys:
            if geom.contains(pt):
                hit = teryt
                break
        found.append(hit)
    naive = time.perf_counter() - t
    out["naive_sample"] = k
    out["naive_sample_s"] = naive
    out["naive_join_extrapolated_s"] = naive / max(k, 1) * out["placed"]
    out["naive_agrees_on_sample"] = float(np.mean(np.array(found) == sample["gmina_teryt_computed"].to_numpy()))
    out["naive_over_ours"] = out["naive_join_extrapolated_s"] / out["join_s"] if out["join_s"] else None


def _time_read_csv(frame, out: dict) -> None:
    """Reading the file as the operator's import does (subject to the 50 MB import limit)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = write_csv(frame.drop(columns="row"), Path(tmp) / "entities.csv")
        size = path.stat().st_size
        out["csv_mb"] = size / 2**20
        if size <= MAX_FILE_BYTES:
            t = time.perf_counter()
            read_table(path)
            out["read_csv_s"] = time.perf_counter() - t
        else:
            out["read_csv_s"] = None
            out["read_csv_note"] = f"over the import limit ({MAX_FILE_BYTES // 2**20} MB)"


def part_build(sizes: list[int], data_dir: Path) -> list[dict]:
    rows = []
    for n in sizes:
        repeat = 1 if n >= 1_000_000 else 3
        print(f"[build] n={n:,} (fresh process, {repeat} run(s))", file=sys.stderr, flush=True)
        try:
            row = _child(["--child", "build", "--size", str(n), "--data-dir", str(data_dir),
                          "--repeat", str(repeat)], timeout=1800)
        except Exception as exc:  # noqa: BLE001 - report and go on
            row = {"n": n, "status": "failed", "reason": str(exc)[-500:]}
        budget = BUDGETS["join_indicators_s"].get(n)
        if budget is not None and "join_indicators_s" in row:
            row["budget_join_indicators_s"] = budget
            row["budget_met"] = row["join_indicators_s"] < budget
        rows.append(row)
        print(f"        {json.dumps({k: v for k, v in row.items() if not k.endswith('_all_s')})}",
              file=sys.stderr, flush=True)
    return rows


# --------------------------------------------------------------------------------------------------
# Part 2: serving (gunicorn on 127.0.0.1), one data dir per size


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_http(port: int, path: str = "/healthz", timeout: float = 90, proc=None) -> None:
    """Wait for an answer; where /healthz reports `warm`, wait until several answers in a row say so
    (each gunicorn worker prepares the map's layers after it starts — visitors come to a warm service)."""
    deadline = time.monotonic() + timeout
    warm_streak = 0
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            c.request("GET", path)
            r = c.getresponse()
            body = r.read()
            c.close()
            if r.status < 500:
                try:
                    warm = json.loads(body).get("warm", True)
                except (ValueError, AttributeError):
                    warm = True
                warm_streak = warm_streak + 1 if warm else 0
                if warm_streak >= 8:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"no answer on 127.0.0.1:{port}{path} within {timeout} s")


class Server:
    """A server process started by us, stopped by its pid (never by name)."""

    def __init__(self, cmd: list[str], env: dict, log: Path, port: int, cwd: Path = REPO_DIR,
                 ready_path: str = "/healthz", timeout: float = 90):
        self.port = port
        self.log = open(log, "wb")
        self.proc = subprocess.Popen(cmd, env={**os.environ, **env}, stdout=self.log, stderr=subprocess.STDOUT,
                                     cwd=cwd, start_new_session=True)
        try:
            _wait_http(port, ready_path, timeout=timeout, proc=self.proc)
        except Exception:
            self.stop()
            raise

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.log.close()


class Client:
    """Sequential keep-alive HTTP/1.1 client; times each request from send to the last body byte."""

    def __init__(self, port: int, gzip_ok: bool = True):
        self.port = port
        self.gzip_ok = gzip_ok
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)

    def get(self, path: str, accept: str = "application/geo+json, application/json") -> tuple[float, int, int, dict]:
        headers = {"Accept": accept}
        if self.gzip_ok:
            headers["Accept-Encoding"] = "gzip"
        for attempt in (0, 1):
            try:
                t = time.perf_counter()
                self.conn.request("GET", path, headers=headers)
                r = self.conn.getresponse()
                body = r.read()
                dt = time.perf_counter() - t
                return dt, r.status, len(body), dict(r.getheaders())
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=300)
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def series(self, paths: list[str], **kw) -> dict:
        times, statuses, sizes = [], set(), []
        for p in paths:
            dt, status, size, _ = self.get(p, **kw)
            times.append(dt)
            statuses.add(status)
            sizes.append(size)
        ms = [t * 1000 for t in times]
        return {"requests": len(ms), "p50_ms": _pct(ms, 50), "p99_ms": _pct(ms, 99), "max_ms": max(ms),
                "status": sorted(statuses), "bytes": int(_median(sizes))}

    def close(self) -> None:
        self.conn.close()


@dataclass
class ServeContext:
    n: int
    data_dir: Path
    port: int
    tmp: Path
    build: dict
    region_bbox: tuple
    notes: list = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def _not_available(reason: str) -> dict:
    return {"status": "not available", "reason": reason}


def _requests_for(n: int, heavy: bool) -> int:
    if not heavy:
        return 300
    return 100 if n <= 1_000 else 40 if n <= 10_000 else 12


def _check_route(client: Client, path: str) -> str | None:
    dt, status, _, headers = client.get(path)
    if status == 404:
        return f"{path}: 404"
    if status >= 400:
        return f"{path}: HTTP {status}"
    return None


def m_api_layer(ctx: ServeContext) -> dict:
    """GET /api/entities.geojson: cached (same URL again) vs cold (a new bbox each time: not cached)."""
    c = Client(ctx.port)
    try:
        missing = _check_route(c, "/api/entities.geojson")
        if missing:
            return _not_available(missing)
        k = _requests_for(ctx.n, heavy=True)
        cached = c.series(["/api/entities.geojson"] * k)
        minx, miny, maxx, maxy = ctx.region_bbox
        cold_paths = [f"/api/entities.geojson?bbox={minx - 0.01 - i * 1e-5:.6f},{miny - 0.01:.6f},"
                      f"{maxx + 0.01:.6f},{maxy + 0.01:.6f}" for i in range(k)]
        cold = c.series(cold_paths)
        gminy = c.series(["/api/gminy.geojson"] * 100)
        raw = Client(ctx.port, gzip_ok=False)
        try:
            _, _, raw_bytes, _ = raw.get("/api/entities.geojson")
        finally:
            raw.close()
        return {"entities_cached": cached, "entities_cold": cold, "gminy_cached": gminy,
                "entities_raw_bytes": raw_bytes, "entities_gzip_bytes": cached["bytes"]}
    finally:
        c.close()


def m_ogc_items(ctx: ServeContext) -> dict:
    """OGC API items pages of 100: cached (same page) vs cold (a new offset each time)."""
    c = Client(ctx.port)
    try:
        base = "/ogc/collections/entities/items"
        missing = _check_route(c, f"{base}?limit=100&f=json")
        if missing:
            return _not_available(missing)
        cached = c.series([f"{base}?limit=100&f=json"] * 300)
        # A (limit, offset) pair not asked before: offsets 3, 6, … 600 (all inside the collection).
        cold = c.series([f"{base}?limit=100&offset={i * 3}&f=json" for i in range(1, 201)])
        bbox = c.series([f"{base}?limit=100&f=json&bbox=20.5,50.7,20.8,50.95"] * 200)
        return {"items_cached": cached, "items_cold": cold, "items_bbox_cached": bbox}
    finally:
        c.close()


def m_map_page(ctx: ServeContext) -> dict:
    """The public map page `/`: HTML bytes, gzipped transfer (as served), and the same over entity counts."""
    c = Client(ctx.port, gzip_ok=False)
    try:
        dt, status, raw, headers = c.get("/", accept="text/html")
        if status != 200:
            return _not_available(f"/: HTTP {status}")
    finally:
        c.close()
    cz = Client(ctx.port, gzip_ok=True)
    try:
        _, _, transfer, zheaders = cz.get("/", accept="text/html")
    finally:
        cz.close()
    served_gzip = zheaders.get("Content-Encoding", "") == "gzip"
    conn = http.client.HTTPConnection("127.0.0.1", ctx.port, timeout=30)
    conn.request("GET", "/", headers={"Accept": "text/html"})
    html = conn.getresponse().read()
    conn.close()
    return {"html_bytes": raw, "html_kb": raw / 1024, "transfer_bytes": transfer, "served_gzip": served_gzip,
            "gzip_bytes": len(gzip.compress(html, 6)), "budget_kb": BUDGETS["map_html_kb"],
            "budget_met": raw / 1024 < BUDGETS["map_html_kb"]}


def _chromium_available() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"no Chromium at {CHROMIUM}"
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "playwright is not installed in this venv"
    return None


def _vendor_file(url: str) -> Path | None:
    """Local copies of the CDN files a folium page asks for (there is no internet here)."""
    name = url.split("?")[0].rsplit("/", 1)[-1]
    vendor = REPO_DIR / "geoes" / "web" / "static" / "vendor"
    candidates = {
        "leaflet.js": vendor / "leaflet" / "leaflet.js",
        "leaflet.css": vendor / "leaflet" / "leaflet.css",
        "jquery-3.7.1.min.js": Path("/usr/share/javascript/jquery/jquery.min.js"),
    }
    path = candidates.get(name)
    return path if path is not None and path.exists() else None


def _render(url: str, selector: str, runs: int = 3, timeout_s: float = 60) -> dict:
    """Open `url` in headless Chromium; time from navigation to `selector` visible (median of runs).

    Requests to anywhere but 127.0.0.1 / file: are answered from local copies (Leaflet, jQuery) or
    with an empty 200 (map tiles, other CDN CSS/JS): the measurement is the page's own work.
    """
    from playwright.sync_api import sync_playwright

    def route(r):
        u = r.request.url
        if u.startswith("http://127.0.0.1") or u.startswith("file:") or u.startswith("data:"):
            return r.continue_()
        local = _vendor_file(u)
        if local is not None:
            ctype = "text/css" if local.suffix == ".css" else "application/javascript"
            return r.fulfill(status=200, body=local.read_bytes(), headers={"Content-Type": ctype})
        return r.fulfill(status=200, body=b"")

    times, counts, timings, sent = [], [], [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            for _ in range(runs):
                ctx = browser.new_context(viewport={"width": 1280, "height": 800})
                page = ctx.new_page()
                page.route("**/*", route)
                t = time.perf_counter()
                try:
                    page.goto(url, wait_until="commit", timeout=timeout_s * 1000)
                    page.wait_for_selector(selector, state="visible", timeout=timeout_s * 1000)
                    times.append(time.perf_counter() - t)
                    sent.append(page.evaluate(BYTES_BEFORE_NOW))
                    counts.append(page.locator(selector).count())
                    timings.append(page.evaluate("() => (window.GEOES_MAP && GEOES_MAP.timing) || null"))
                except Exception as exc:  # noqa: BLE001 - a timeout is a result
                    times.append(None)
                    counts.append(f"{type(exc).__name__}")
                finally:
                    ctx.close()
        finally:
            browser.close()
    ok = [t for t in times if t is not None]
    return {"first_render_s": _median(ok) if ok else None, "runs_s": times, "drawn": counts,
            "timed_out": len(ok) < len(times), "page_timing": timings[-1] if timings else None,
            "bytes_before_render": _median([b for b in sent if b is not None]) if sent else None,
            "bytes_runs": sent}


# Bytes the page received (headers and bodies as sent, compressed) from navigation until now: the
# document and every resource whose response ended already (Resource Timing; all same-origin here).
BYTES_BEFORE_NOW = """() => { const now = performance.now();
    const nav = performance.getEntriesByType('navigation')[0];
    return (nav ? nav.transferSize : 0) + performance.getEntriesByType('resource')
        .filter(e => e.responseEnd > 0 && e.responseEnd <= now).reduce((a, e) => a + e.transferSize, 0); }"""


def m_map_render(ctx: ServeContext) -> dict:
    """First render of `/` in headless Chromium: until markers or clusters are drawn."""
    why = _chromium_available()
    if why:
        return _not_available(why)
    out = _render(ctx.url + "/", ".marker-cluster, .geoes-marker, .leaflet-marker-icon")
    out["budget_s"] = BUDGETS["first_render_s"]
    out["budget_met"] = out["first_render_s"] is not None and out["first_render_s"] < BUDGETS["first_render_s"]
    return out


def m_naive_folium(ctx: ServeContext) -> dict:
    """The naive map: a folium.Map with one Marker + Popup per entity embedded in the HTML."""
    import folium  # only this measurement draws the naive folium map

    if ctx.n > 100_000:
        return _not_available("skipped above 100k")
    ds = load_current(Settings(region="26", data_dir=ctx.data_dir))
    ents = ds.entities[~ds.entities.geometry.is_empty]
    t = time.perf_counter()
    m = folium.Map(location=[50.8, 20.7], zoom_start=9, tiles=None)
    for name, kind, geom in zip(ents["name"], ents["types"], ents.geometry):
        folium.Marker([geom.y, geom.x], popup=folium.Popup(f"<b>{name}</b><br>{kind}", max_width=300),
                      tooltip=name).add_to(m)
    path = ctx.tmp / f"naive_folium_{ctx.n}.html"
    m.save(str(path))
    make_s = time.perf_counter() - t
    html = path.read_bytes()
    out = {"entities": int(len(ents)), "html_bytes": len(html), "html_kb": len(html) / 1024,
           "gzip_bytes": len(gzip.compress(html, 6)), "generate_s": make_s}
    why = _chromium_available()
    if why:
        out["render"] = _not_available(why)
    else:
        # Serve it from the same origin type (file:) — the naive page has no server work to do.
        out["render"] = _render(path.as_uri(), ".leaflet-marker-icon", runs=1 if ctx.n >= 10_000 else 3,
                                timeout_s=120)
    path.unlink(missing_ok=True)
    return out


NAIVE_APP = '''
"""Naive server for the benchmark: serialise GeoJSON with geopandas on every request."""
from flask import Flask, Response, request
from geoes.config import Settings
from geoes.dataset.reader import load_current

ds = load_current(Settings.from_env())
entities = ds.entities
app = Flask(__name__)


@app.get("/healthz")
def healthz():
    return "ok"


@app.get("/entities.geojson")
def layer():
    return Response(entities.to_json(), mimetype="application/geo+json")


@app.get("/items")
def items():
    limit = int(request.args.get("limit", 100)); offset = int(request.args.get("offset", 0))
    return Response(entities.iloc[offset:offset + limit].to_json(), mimetype="application/geo+json")
'''


def m_naive_serialise(ctx: ServeContext) -> dict:
    """'Serialise GeoJSON on every request' (geopandas to_json per request), same gunicorn settings."""
    app_dir = ctx.tmp / "naive_app"
    app_dir.mkdir(exist_ok=True)
    (app_dir / "naive_app.py").write_text(NAIVE_APP)
    port = _free_port()
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    server = Server([gunicorn, "--workers", "2", "--threads", "4", "--worker-class", "gthread",
                     "--bind", f"127.0.0.1:{port}", "--chdir", str(app_dir), "naive_app:app"],
                    {"GEOES_DATA_DIR": str(ctx.data_dir), "PYTHONPATH": str(REPO_DIR)},
                    ctx.tmp / "naive_gunicorn.log", port)
    try:
        c = Client(port)
        try:
            k = _requests_for(ctx.n, heavy=True)
            c.get("/entities.geojson")
            layer = c.series(["/entities.geojson"] * k)
            items = c.series([f"/items?limit=100&offset={(i * 100) % max(ctx.n, 100)}" for i in range(200)])
        finally:
            c.close()
    finally:
        server.stop()
    return {"entities_every_request": layer, "items_every_request": items}


PYGEOAPI_CONFIG = """
server:
  bind: {{host: 127.0.0.1, port: {port}}}
  url: http://127.0.0.1:{port}
  mimetype: application/json; charset=UTF-8
  encoding: utf-8
  languages: [en-US]
  limits: {{default_items: 100, max_items: 10000}}
  map:
    url: "https://tile.openstreetmap.org/{{z}}/{{x}}/{{y}}.png"
    attribution: OSM
logging:
  level: ERROR
metadata:
  identification:
    title: geoes benchmark
    description: synthetic entities
    keywords: [benchmark]
    keywords_type: theme
    terms_of_service: https://creativecommons.org/licenses/by/4.0/
    url: http://127.0.0.1
  license: {{name: CC-BY 4.0, url: https://creativecommons.org/licenses/by/4.0/}}
  provider: {{name: geoes, url: http://127.0.0.1}}
  contact: {{name: bench, position: bench, address: x, city: x, stateorprovince: x, postalcode: x,
            country: PL, phone: x, fax: x, email: x@example.org, url: http://127.0.0.1, hours: x,
            instructions: x, role: pointOfContact}}
resources:
  entities:
    type: collection
    title: entities
    description: synthetic entities (the same built dataset the geoes server serves)
    keywords: [entities]
    extents:
      spatial: {{bbox: [19.6, 50.1, 22.0, 51.4], crs: http://www.opengis.net/def/crs/OGC/1.3/CRS84}}
    providers:
      - type: feature
        name: GeoJSON
        data: {data}
        id_field: id
"""


def m_pygeoapi(ctx: ServeContext) -> dict:
    """pygeoapi (its own venv) with a GeoJSON provider over the same entities, same items queries."""
    bin_dir = PYGEOAPI_VENV / "bin"
    if not (bin_dir / "pygeoapi").exists():
        return _not_available(f"pygeoapi not installed: create it with `python -m venv {PYGEOAPI_VENV} && "
                              f"{PYGEOAPI_VENV}/bin/pip install pygeoapi gunicorn`")
    ds = load_current(Settings(region="26", data_dir=ctx.data_dir))
    geojson = ctx.tmp / "pygeoapi_entities.geojson"
    ents = ds.entities[~ds.entities.geometry.is_empty][["id", "name", "types", "status", "gmina_teryt_computed",
                                                        "powiat_teryt_computed", "geometry"]]
    ents.to_file(geojson, driver="GeoJSON", engine="pyogrio")
    port = _free_port()
    cfg = ctx.tmp / "pygeoapi.yml"
    cfg.write_text(PYGEOAPI_CONFIG.format(port=port, data=geojson))
    openapi = ctx.tmp / "pygeoapi-openapi.yml"
    env = {"PYGEOAPI_CONFIG": str(cfg), "PYGEOAPI_OPENAPI": str(openapi), "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    gen = subprocess.run([str(bin_dir / "pygeoapi"), "openapi", "generate", str(cfg), "--output-file", str(openapi)],
                         env={**os.environ, **env}, capture_output=True, text=True, timeout=300)
    if gen.returncode != 0:
        return _not_available(f"pygeoapi openapi generate failed: {gen.stderr[-400:]}")
    server = Server([str(bin_dir / "gunicorn"), "--workers", "2", "--threads", "4", "--worker-class", "gthread",
                     "--bind", f"127.0.0.1:{port}", "pygeoapi.flask_app:APP"], env,
                    ctx.tmp / "pygeoapi.log", port, cwd=ctx.tmp, ready_path="/conformance?f=json")
    try:
        c = Client(port)
        try:
            base = "/collections/entities/items"
            missing = _check_route(c, f"{base}?limit=100&f=json")
            if missing:
                return _not_available(f"pygeoapi: {missing}")
            k = 200 if ctx.n <= 10_000 else 30
            same = c.series([f"{base}?limit=100&f=json"] * k)
            pages = c.series([f"{base}?limit=100&offset={(i * 100) % max(ctx.n, 100)}&f=json" for i in range(1, k + 1)])
            bbox = c.series([f"{base}?limit=100&f=json&bbox=20.5,50.7,20.8,50.95"] * k)
        finally:
            c.close()
    finally:
        server.stop()
    ver = subprocess.run([str(bin_dir / "python"), "-c", "import pygeoapi; print(pygeoapi.__version__)"],
                         capture_output=True, text=True).stdout.strip()
    return {"version": ver, "provider": "GeoJSON", "items_same_page": same, "items_pages": pages,
            "items_bbox": bbox}


SERVE_MEASUREMENTS = [
    ("api_layer", m_api_layer),
    ("ogc_items", m_ogc_items),
    ("map_page", m_map_page),
    ("map_render", m_map_render),
    ("naive_serialise", m_naive_serialise),
    ("naive_folium", m_naive_folium),
    ("pygeoapi", m_pygeoapi),
]


def child_make_data(n: int, data_dir: Path) -> dict:
    """Clone fetched data, write synthetic entities.csv and run the real `geoes.dataset.build.build`."""
    clone_data_dir(data_dir)
    settings = Settings(region="26", data_dir=data_dir)
    territory = load_territory(settings)
    write_csv(generate(territory, n, seed=SEED), settings.entities_path, protected=_data_source())
    t = time.perf_counter()
    result = build(settings)
    built = time.perf_counter() - t
    bounds = [float(v) for v in territory.region.total_bounds]
    return {"n": n, "build_s": built, "entities": result.entities, "rejected_rows": result.rejected_rows,
            "gpkg_mb": (result.path / "geoes.gpkg").stat().st_size / 2**20, "peak_rss_mb": _maxrss_mb(),
            "region_bbox": bounds}


# --------------------------------------------------------------------------------------------------
# Part 3: scale — `geoes build` of a synthetic register file from the command line, then the map's light
# payload and the server's clusters under gunicorn (issue 26: the map at national scale)


def child_make_csv(n: int, path: Path, data_dir: Path) -> dict:
    """Write n synthetic entities (seeded, marked) to `path` as the record file `write_entities` writes."""
    settings = Settings(region="26", data_dir=data_dir)
    t = time.perf_counter()
    write_csv(generate(load_territory(settings), n, seed=SEED), path, protected=_data_source())
    return {"n": n, "csv_mb": path.stat().st_size / 2**20, "generate_s": time.perf_counter() - t}


def child_cli_build(path: Path, data_dir: Path) -> dict:
    """`python -m geoes build --entities PATH` in this fresh process: wall time and the process's peak RSS."""
    from click.testing import CliRunner

    from geoes.cli import main as cli_main

    t = time.perf_counter()
    out = CliRunner().invoke(cli_main, ["build", "--entities", str(path)], env={"GEOES_DATA_DIR": str(data_dir)})
    took = time.perf_counter() - t
    if out.exit_code != 0:
        raise SystemExit(f"build failed ({out.exit_code}): {out.output[-1500:]}")
    return {"build_s": took, "peak_rss_mb": _maxrss_mb(), "output_head": out.output.splitlines()[:2]}


def _timed_get(c: Client, path: str, k: int) -> dict:
    first_dt, status, size, headers = c.get(path)
    series = c.series([path] * k)
    return {"first_ms": round(first_dt * 1000, 2), "status": status, "gzip_bytes": size,
            "encoding": headers.get("Content-Encoding", ""), "cached": series}


def m_scale_api(ctx: ServeContext) -> dict:
    """The map's light payload and the server's clusters: bytes as sent (gzip) and latencies."""
    c = Client(ctx.port)
    try:
        missing = _check_route(c, "/api/points.json")
        if missing:
            return _not_available(missing)
        west, south, east, north = ctx.region_bbox
        region = f"{west:.5f},{south:.5f},{east:.5f},{north:.5f}"
        out = {"points": _timed_get(c, "/api/points.json", 5),
               "points_filtered_powiat": _timed_get(c, "/api/points.json?powiat=2602", 5),
               "clusters_region_z8": _timed_get(c, f"/api/clusters?bbox={region}&zoom=8", 50),
               "clusters_region_z8_type": _timed_get(c, f"/api/clusters?bbox={region}&zoom=8&type=wtz", 50),
               "clusters_kielce_z14": _timed_get(c, "/api/clusters?bbox=20.58,50.84,20.70,50.90&zoom=14", 50)}
        # Panning at a high zoom: a new view each time (nothing cached), from the longitude index.
        cold = c.series([f"/api/clusters?bbox={20.50 + i * 0.002:.4f},50.84,{20.62 + i * 0.002:.4f},50.90&zoom=14"
                         for i in range(40)])
        out["clusters_pan_z14_cold"] = cold
        raw = Client(ctx.port, gzip_ok=False)
        try:
            _, _, out["points_raw_bytes"], _ = raw.get("/api/points.json")
        finally:
            raw.close()
        return out
    finally:
        c.close()


def _worker_rss_mb(master: int) -> list[float]:
    """Resident memory of each gunicorn worker (the children of the master process)."""
    out = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
        if fields.get("PPid", "").strip() == str(master) and "VmRSS" in fields:
            out.append(round(int(fields["VmRSS"].split()[0]) / 1024, 1))
    return sorted(out)


def part_scale(sizes: list[int], render_max: int) -> list[dict]:
    rows = []
    gunicorn = Path(sys.executable).with_name("gunicorn")
    for n in sizes:
        row: dict = {"n": n}
        rows.append(row)
        with tempfile.TemporaryDirectory(prefix=f"geoes-scale-{n}-") as tmpname:
            tmp = Path(tmpname)
            data_dir = clone_data_dir(tmp / "data")
            csv_path = tmp / "register" / "entities.csv"
            print(f"[scale] n={n:,}: register file, then `geoes build` in a fresh process", file=sys.stderr, flush=True)
            try:
                row["csv"] = _child(["--child", "make-csv", "--size", str(n), "--data-dir", str(data_dir),
                                     "--path", str(csv_path)], timeout=1800)
                row["build"] = _child(["--child", "cli-build", "--data-dir", str(data_dir), "--path", str(csv_path)],
                                      timeout=3600)
            except Exception as exc:  # noqa: BLE001
                row["status"] = "failed"
                row["reason"] = str(exc)[-800:]
                continue
            territory = load_territory(Settings(region="26", data_dir=data_dir))
            port = _free_port()
            t = time.perf_counter()
            try:
                server = Server([str(gunicorn), "-c", str(REPO_DIR / "gunicorn.conf.py"), "app:app"],
                                {"GEOES_DATA_DIR": str(data_dir), "GEOES_REGION": "26",
                                 "GEOES_BIND": f"127.0.0.1:{port}", "GEOES_WORKERS": "2", "GEOES_THREADS": "4",
                                 "GEOES_LOG_LEVEL": "warning"}, tmp / "gunicorn.log", port,
                                timeout=120 + n / 1000)  # each worker loads the version: ~minutes at 1M
            except Exception as exc:  # noqa: BLE001
                row["status"] = "not available"
                row["reason"] = f"gunicorn app:app did not start: {exc}"
                continue
            row["serve_ready_s"] = time.perf_counter() - t
            row["worker_rss_mb"] = _worker_rss_mb(server.proc.pid)
            try:
                ctx = ServeContext(n, data_dir, port, tmp, row["build"],
                                   tuple(float(v) for v in territory.region.total_bounds))
                row["api"] = m_scale_api(ctx)
                if n <= render_max:
                    row["map_render"] = m_map_render(ctx)
                else:
                    row["map_render"] = _not_available(f"not asked for above {render_max:,}")
            finally:
                server.stop()
        print(f"        {json.dumps(row, default=str)[:600]}", file=sys.stderr, flush=True)
    return rows


def _scale_table(scale: list[dict]) -> list[str]:
    lines = ["### Scale: `geoes build` of a register file, the map's payload and clusters under gunicorn", "",
             "| entities | CSV MB | build s | build peak RSS MB | server ready s | /api/points.json KB gzip (raw) "
             "| clusters z8 first / cached p50 ms | clusters z8 type filter first ms | clusters z14 pan (cold) p50/p99 ms "
             "| first render s (runs) | × 1k | KB before render | browser clustering ready s |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    base = next((r.get("map_render", {}).get("first_render_s") for r in scale if r["n"] == 1000), None)
    for r in scale:
        if "api" not in r:
            lines.append(f"| {r['n']:,} | {r.get('status')}: {str(r.get('reason', ''))[:80]} |" + " |" * 8)
            continue
        a = r["api"]
        pts = a["points"]
        rend = r.get("map_render") or {}
        first = rend.get("first_render_s")
        rend_s = (f"{first:.2f} ({', '.join(f'{t:.2f}' for t in rend['runs_s'] if t is not None)})" if first
                  else rend.get("status", "–"))
        ratio = f"{first / base:.2f}×" if first and base else "–"
        sent = f"{rend['bytes_before_render'] / 1024:,.0f}" if rend.get("bytes_before_render") else "–"
        timing = rend.get("page_timing") or {}
        ready = f"{timing['points_ms'] / 1000:.2f}" if timing.get("points_ms") else "server clusters"
        lines.append(
            f"| {r['n']:,} | {r['csv']['csv_mb']:.1f} | {r['build']['build_s']:.1f} | {r['build']['peak_rss_mb']:,.0f} | "
            f"{r['serve_ready_s']:.1f} | {pts['gzip_bytes'] / 1024:,.0f} ({a['points_raw_bytes'] / 1024:,.0f}) | "
            f"{a['clusters_region_z8']['first_ms']} / {_f(a['clusters_region_z8']['cached']['p50_ms'])} | "
            f"{a['clusters_region_z8_type']['first_ms']} | {_pp(a['clusters_pan_z14_cold'])} | {rend_s} | "
            f"{ratio} | {sent} | {ready} |")
    return lines + ["", "First render: navigation to the first cluster or marker visible, headless Chromium, map tiles "
                    "answered empty, median of 3; × 1k: that median over the 1k one of the same run; KB before "
                    "render: bytes received (compressed, with headers) until then (Resource Timing). Browser "
                    "clustering ready: until the payload was fetched and indexed by supercluster (below "
                    "GEOES_MAP_SERVER_CLUSTERS), measured from map.js's start.", ""]


def part_serve(sizes: list[int], only: set[str] | None) -> list[dict]:
    rows = []
    gunicorn = Path(sys.executable).with_name("gunicorn")
    for n in sizes:
        row: dict = {"n": n}
        rows.append(row)
        with tempfile.TemporaryDirectory(prefix=f"geoes-bench-{n}-") as tmpname:
            tmp = Path(tmpname)
            data_dir = tmp / "data"
            print(f"[serve] n={n:,}: building a data dir in {data_dir}", file=sys.stderr, flush=True)
            try:
                built = _child(["--child", "make-data", "--size", str(n), "--data-dir", str(data_dir)], timeout=3600)
            except Exception as exc:  # noqa: BLE001
                row["status"] = "failed"
                row["reason"] = str(exc)[-500:]
                continue
            row["build"] = built
            port = _free_port()
            try:
                server = Server([str(gunicorn), "-c", str(REPO_DIR / "gunicorn.conf.py"), "app:app"],
                                {"GEOES_DATA_DIR": str(data_dir), "GEOES_REGION": "26",
                                 "GEOES_BIND": f"127.0.0.1:{port}", "GEOES_WORKERS": "2", "GEOES_THREADS": "4",
                                 "GEOES_LOG_LEVEL": "warning"}, tmp / "gunicorn.log", port)
            except Exception as exc:  # noqa: BLE001
                row["status"] = "not available"
                row["reason"] = f"gunicorn app:app did not start: {exc}"
                continue
            try:
                # The first requests load the dataset in each worker: report them, then measure warm.
                c = Client(port)
                first = []
                for _ in range(4):
                    dt, status, _, _ = c.get("/api/entities.geojson?limit=1&bbox=0,0,1,1")
                    first.append(round(dt * 1000, 1))
                c.close()
                row["first_requests_ms"] = first
                ctx = ServeContext(n, data_dir, port, tmp, built, tuple(built["region_bbox"]))
                for name, fn in SERVE_MEASUREMENTS:
                    if only and name not in only:
                        continue
                    print(f"        {name}", file=sys.stderr, flush=True)
                    t = time.perf_counter()
                    try:
                        row[name] = fn(ctx)
                    except Exception as exc:  # noqa: BLE001 - one measurement never sinks the run
                        row[name] = {"status": "not available",
                                     "reason": f"{type(exc).__name__}: {str(exc)[:300]}",
                                     "trace": traceback.format_exc()[-1500:]}
                    row[name]["elapsed_s"] = round(time.perf_counter() - t, 1)
            finally:
                server.stop()
    return rows


# --------------------------------------------------------------------------------------------------
# Report


def _f(v, digits=3, unit=""):
    if v is None:
        return "–"
    if isinstance(v, float):
        if abs(v) >= 100:
            return f"{v:,.0f}{unit}"
        return f"{v:.{digits}g}{unit}" if abs(v) < 1 else f"{v:.{digits}g}{unit}"
    return f"{v}{unit}"


def _get(d: dict, *keys):
    for k in keys:
        if not isinstance(d, dict):
            return None
        d = d.get(k)
    return d


def markdown(result: dict) -> str:
    m = result["machine"]
    kept = "".join(f" ({part} part from {date})" for part, date in (result.get("kept_from") or {}).items())
    lines = [f"Measured {result['date']}{kept} on {m['cpu']} ({m['cores']} cores, {m['memory_gib']} GiB), "
             f"Python {m['python']}, geopandas {m['versions'].get('geopandas')}, shapely "
             f"{m['versions'].get('shapely')}, pandas {m['versions'].get('pandas')}.", ""]
    build = result.get("build") or []
    if build:
        lines += _build_table(build)
    if result.get("scale"):
        lines += _scale_table(result["scale"])
    serve = result.get("serve") or []
    if serve:
        lines += _serve_table(serve) + ["", "Ratios (naive or pygeoapi ÷ ours, p50):", ""] + _serve_ratios(serve)
        lines.append("")
    return "\n".join(lines)


def _build_table(build: list[dict]) -> list[str]:
    lines = ["### Build: validate + join + indicators (synthetic entities, fresh process per size)", "",
             "| entities | validate s | join s (points + pip) | indicators s | join + indicators s | budget "
             "| total s | peak RSS MB (build +) | read CSV s | sjoin (old) s | naive loop s (extrap.) "
             "| naive ÷ ours | sjoin ÷ ours pip |",
             "|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in build:
        if "validate_s" not in r:
            lines.append(f"| {r['n']:,} | {r.get('status')}: {r.get('reason', '')[:80]} |" + " |" * 12)
            continue
        budget = "–"
        if "budget_met" in r:
            budget = f"{'✅' if r['budget_met'] else '❌'} < {r['budget_join_indicators_s']:g} s"
        read = _f(r.get("read_csv_s")) if r.get("read_csv_s") is not None else "n/a (> 50 MB limit)"
        lines.append(
            f"| {r['n']:,} | {_f(r['validate_s'])} | {_f(r['join_s'])} ({_f(r.get('points_s'), 2)} + "
            f"{_f(r.get('join_gminy_s'), 2)}) | {_f(r['indicators_s'])} | "
            f"**{_f(r['join_indicators_s'])}** | {budget} | {_f(r['total_s'])} | {r['peak_rss_mb']:,.0f} "
            f"(+{r.get('build_rss_increment_mb', 0):,.0f}) | "
            f"{read} | {_f(r['join_sjoin_s'])} | {_f(r['naive_join_extrapolated_s'])} | "
            f"{r['naive_over_ours']:,.0f}× | {r['sjoin_over_ours']:.1f}× |")
    lines += ["", "join = entities_to_points (building the point geometries) + the point-in-polygon join; "
              "'sjoin ÷ ours pip' compares geopandas.sjoin with our join on the same points. Peak RSS is the "
              "whole process (the territory, the generated frame and the build); '+' is the build's increment over "
              "the RSS before validation.",
              "", f"Times are medians of 3 runs (1 run at 1M). The naive loop (shapely `contains` per point "
              f"per gmina, stopping at the first hit) is timed on {NAIVE_SAMPLE} sampled points and "
              f"extrapolated linearly to all points. Access-10 km method: "
              + ", ".join(f"{r['n']:,}: {r.get('access_method')}" for r in build if 'access_method' in r) + ".", ""]
    return lines


def _pp(d) -> str:
    """p50 / p99 of a series, or the reason it is missing."""
    if not isinstance(d, dict) or d.get("p50_ms") is None:
        return (d or {}).get("status", "–") if isinstance(d, dict) else "–"
    return f"{_f(d['p50_ms'])} / {_f(d['p99_ms'])}"


def _serve_table(serve: list[dict]) -> list[str]:
    lines = ["### Serving: gunicorn on 127.0.0.1 (2 workers × 4 threads), sequential keep-alive client, gzip",
             "", "| entities | layer cached p50/p99 ms | layer cold p50/p99 ms | naive to_json p50 ms | "
             "items cached p50/p99 ms | items cold p50/p99 ms | naive items p50 ms | pygeoapi items p50/p99 ms "
             "| map HTML KB (gzip) | first render s | folium HTML MB (gzip) | folium render s |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in serve:
        if "build" not in r:
            lines.append(f"| {r['n']:,} | {r.get('status')}: {r.get('reason', '')[:80]} |" + " |" * 11)
            continue
        mp = r.get("map_page") or {}
        html = (f"{mp['html_kb']:.1f} ({mp['gzip_bytes'] / 1024:.1f})" if "html_kb" in mp
                else mp.get("status", "–"))
        rend = r.get("map_render") or {}
        rend_s = _f(rend.get("first_render_s")) if "first_render_s" in rend else rend.get("status", "–")
        nf = r.get("naive_folium") or {}
        nf_html = (f"{nf['html_bytes'] / 2**20:.1f} ({nf['gzip_bytes'] / 2**20:.2f})" if "html_bytes" in nf
                   else nf.get("status", "–"))
        nfr = nf.get("render") or {}
        nf_s = (_f(nfr.get("first_render_s")) if nfr.get("first_render_s") is not None
                else ("timeout" if nfr.get("timed_out") else nfr.get("status", "–")))
        py = r.get("pygeoapi") or {}
        lines.append(
            f"| {r['n']:,} | {_pp(_get(r, 'api_layer', 'entities_cached'))} | "
            f"{_pp(_get(r, 'api_layer', 'entities_cold'))} | "
            f"{_f(_get(r, 'naive_serialise', 'entities_every_request', 'p50_ms'))} | "
            f"{_pp(_get(r, 'ogc_items', 'items_cached'))} | {_pp(_get(r, 'ogc_items', 'items_cold'))} | "
            f"{_f(_get(r, 'naive_serialise', 'items_every_request', 'p50_ms'))} | "
            f"{_pp(py.get('items_pages')) if 'items_pages' in py else py.get('status', '–')} | "
            f"{html} | {rend_s} | {nf_html} | {nf_s} |")
    return lines


def _serve_ratios(serve: list[dict]) -> list[str]:
    lines = []
    for r in serve:
        if "build" not in r:
            continue
        parts = []
        ours_layer = _get(r, "api_layer", "entities_cached", "p50_ms")
        naive_layer = _get(r, "naive_serialise", "entities_every_request", "p50_ms")
        if ours_layer and naive_layer:
            parts.append(f"GeoJSON layer to_json-per-request ÷ cached bytes {naive_layer / ours_layer:,.1f}×")
        ours_items = _get(r, "ogc_items", "items_cached", "p50_ms")
        ours_items_cold = _get(r, "ogc_items", "items_cold", "p50_ms")
        naive_items = _get(r, "naive_serialise", "items_every_request", "p50_ms")
        if ours_items and naive_items:
            parts.append(f"items page naive ÷ cached {naive_items / ours_items:,.1f}×")
        py = _get(r, "pygeoapi", "items_pages", "p50_ms")
        if ours_items and py:
            parts.append(f"pygeoapi items ÷ ours cached {py / ours_items:,.1f}× "
                         f"(÷ ours cold {py / ours_items_cold:,.1f}×)" if ours_items_cold else "")
        mp, nf = r.get("map_page") or {}, r.get("naive_folium") or {}
        if "html_bytes" in mp and "html_bytes" in nf:
            parts.append(f"folium HTML ÷ ours {nf['html_bytes'] / mp['html_bytes']:,.0f}×")
        rs = _get(r, "map_render", "first_render_s")
        nrs = _get(r, "naive_folium", "render", "first_render_s")
        if rs and nrs:
            parts.append(f"folium first render ÷ ours {nrs / rs:,.1f}×")
        lines.append(f"- {r['n']:,}: " + ("; ".join(p for p in parts if p) or "–"))
    return lines


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default=DEFAULT_SIZES, help="entity counts for the build part")
    ap.add_argument("--serve-sizes", default=DEFAULT_SERVE_SIZES, help="entity counts for the serving part")
    ap.add_argument("--parts", default="build,serve", help="build, serve or both")
    ap.add_argument("--only", default="", help="serving measurements to run (names in SERVE_MEASUREMENTS)")
    ap.add_argument("--out", default=str(BENCH_DIR / "results"))
    ap.add_argument("--scale-sizes", default="1000,100000,1000000",
                    help="entity counts for the scale part (build from a CSV, payload, clusters)")
    ap.add_argument("--render-max", type=int, default=10_000_000,
                    help="scale part: measure the map's first render up to this count")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--path", help=argparse.SUPPRESS)
    ap.add_argument("--size", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--data-dir", help=argparse.SUPPRESS)
    ap.add_argument("--repeat", type=int, default=1, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.child == "build":
        print(json.dumps(child_build(args.size, Path(args.data_dir), args.repeat)))
        return 0
    if args.child == "make-csv":
        print(json.dumps(child_make_csv(args.size, Path(args.path), Path(args.data_dir))))
        return 0
    if args.child == "cli-build":
        print(json.dumps(child_cli_build(Path(args.path), Path(args.data_dir))))
        return 0
    if args.child == "make-data":
        print(json.dumps(child_make_data(args.size, Path(args.data_dir))))
        return 0

    parts = {p.strip() for p in args.parts.split(",") if p.strip()}
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    result = {"date": time.strftime("%Y-%m-%d %H:%M"), "machine": machine(), "seed": SEED,
              "budgets": {k: (v if not isinstance(v, dict) else {str(a): b for a, b in v.items()})
                          for k, v in BUDGETS.items()}}
    previous = out_dir / "results.json"
    if previous.exists() and parts != {"build", "serve", "scale"}:
        # Running one part keeps the other parts' latest results (each row carries its own date).
        try:
            old = json.loads(previous.read_text(encoding="utf-8"))
            for part in ({"build", "serve", "scale"} - parts):
                if old.get(part):
                    result[part] = old[part]
                    result.setdefault("kept_from", {})[part] = old.get("date")
        except (OSError, ValueError):
            pass
    if "build" in parts:
        with tempfile.TemporaryDirectory(prefix="geoes-bench-territory-") as tmp:
            data_dir = clone_data_dir(Path(tmp) / "data")
            result["build"] = part_build([int(s) for s in args.sizes.split(",") if s], data_dir)
    if "scale" in parts:
        result["scale"] = part_scale([int(s) for s in args.scale_sizes.split(",") if s], args.render_max)
    if "serve" in parts:
        only = {s.strip() for s in args.only.split(",") if s.strip()} or None
        result["serve"] = part_serve([int(s) for s in args.serve_sizes.split(",") if s], only)
    (out_dir / "results.json").write_text(json.dumps(result, indent=1, default=str), encoding="utf-8")
    md = markdown(result)
    (out_dir / "results.md").write_text(md, encoding="utf-8")
    print(md)
    print(f"wrote {out_dir / 'results.json'} and {out_dir / 'results.md'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
