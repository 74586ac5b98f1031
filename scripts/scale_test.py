"""Several instances behind nginx on one machine, under load, while an operator publishes and an instance dies.

    scripts/scale_test.sh [--seconds 40] [--threads 8] [--max-requests 40000]

Starts, all on 127.0.0.1 and in a temporary directory: PostgreSQL + PostGIS (scripts/pgtemp.py, as `nobody`
when run as root), three gunicorn instances of geoes on one database (GEOES_DATABASE_URL; the first with the
region's files, the other two with EMPTY data directories) and nginx in front (the upstream settings of
deploy/nginx/geoes.conf: passive health checks, `proxy_next_upstream`; its response cache is off here so
that every request reaches an instance). Then a bounded load through nginx; meanwhile an operator signs in
and publishes a real register file through nginx (the console's session goes wherever nginx sends each
request), and once the new version is served on every instance one instance is killed (SIGKILL to its master; with
--hard-kill to its workers too).

Every response must be 200, and every response that names a version must be complete for it: the entities
layer with exactly that version's number of entities. Prints one line — requests, errors, the versions seen
(each with its entities and whether every response of it was complete), p50/p99 latency — and exits 0 only
with no errors, every version complete, and the published version seen.
"""
from __future__ import annotations

import argparse
import csv
import io
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))

from geoes.common.polish import count  # noqa: E402
import pgtemp  # noqa: E402

PYTHON = str(REPO / ".venv" / "bin" / "python") if (REPO / ".venv" / "bin" / "python").exists() else sys.executable
OPERATOR, PASSWORD = "skala", "test-skali-publikacja-2026"
REGION_DIRS = ("boundaries", "population", "gazetteer", "official", "needs")
URLS = ("/healthz", "/api/entities.geojson", "/api/powiaty.geojson?view=map", "/ogc/collections/entities/items?limit=20",
        "/entities", "/")
# The published file: one real entity of the shared supplement, laid out as an office register.
SUPPLEMENT = "entities/pes_swietokrzyskie_uzupelnienie.csv"
NEW_ENTITY = "swk-n005"
HEADERS = ["Lp.", "Nazwa podmiotu", "Typ podmiotu", "Forma prawna", "Miejscowość", "Gmina", "Powiat", "Źródła"]


def mirror() -> Path:
    return Path(os.environ.get("GEOES_MIRROR") or REPO.parent / "shared" / "data")


def run(*args: str, env: dict, stdin: str | None = None) -> str:
    done = subprocess.run([PYTHON, "-m", "geoes", *args], cwd=REPO, env=env, input=stdin, capture_output=True,
                          text=True)
    if done.returncode:
        raise RuntimeError(f"geoes {' '.join(args)}: {done.stderr.strip() or done.stdout.strip()}")
    return done.stdout


def prepare_builder(data_dir: Path, env: dict) -> None:
    data_dir.mkdir(parents=True)
    local = REPO / "data"
    if (local / "boundaries" / "gminy.geojson").exists():
        for name in REGION_DIRS:
            if (local / name).exists():
                shutil.copytree(local / name, data_dir / name)
    else:
        run("fetch", "--mirror", str(mirror()), env=env)
    shutil.copy(REPO / "data" / "entities.csv", data_dir / "entities.csv")


def register_upload() -> bytes:
    with open(mirror() / SUPPLEMENT, encoding="utf-8", newline="") as fh:
        row = next(r for r in csv.DictReader(fh) if r["id"] == NEW_ENTITY)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(HEADERS)
    writer.writerow(["1", row["nazwa"], row["typ"], row["forma_prawna"], row["miejscowosc"], row["gmina"],
                     row["powiat"], row["zrodla"]])
    return out.getvalue().encode("utf-8-sig")


def start_instance(data_dir: Path, port: int, env: dict, log: Path) -> subprocess.Popen:
    data_dir.mkdir(parents=True, exist_ok=True)
    env = {**env, "GEOES_DATA_DIR": str(data_dir), "GEOES_WORKERS": "1", "GEOES_THREADS": "4",
           "GEOES_PROXY_COUNT": "1", "GEOES_LOG_LEVEL": "warning"}
    with open(log, "wb") as fh:
        return subprocess.Popen([PYTHON, "-m", "gunicorn", "-c", str(REPO / "gunicorn.conf.py"), "--bind",
                                 f"127.0.0.1:{port}", "app:app"], cwd=REPO, env=env, stdout=fh,
                                stderr=subprocess.STDOUT, start_new_session=True)


NGINX_CONF = """
{user}worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {root}/client_body;
    proxy_temp_path {root}/proxy;
    fastcgi_temp_path {root}/fastcgi;
    uwsgi_temp_path {root}/uwsgi;
    scgi_temp_path {root}/scgi;
    upstream geoes {{
{servers}
        keepalive 16;
        keepalive_timeout 4s;
    }}
    server {{
        listen 127.0.0.1:{port};
        client_max_body_size 11m;
        location / {{
            proxy_pass http://geoes;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_next_upstream error timeout http_502 http_503 http_504;
            proxy_next_upstream_tries 3;
            proxy_connect_timeout 2s;
            proxy_read_timeout 60s;
        }}
    }}
}}
"""


def start_nginx(root: Path, port: int, upstreams: list[int]) -> subprocess.Popen:
    servers = "\n".join(f"        server 127.0.0.1:{p} max_fails=1 fail_timeout=10s;" for p in upstreams)
    user = "user nobody nogroup;\n" if os.geteuid() == 0 else ""
    conf = root / "nginx.conf"
    conf.write_text(NGINX_CONF.format(user=user, root=root, servers=servers, port=port), encoding="utf-8")
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    return subprocess.Popen([nginx, "-p", str(root), "-c", str(conf), "-g", "daemon off;"],
                            stdout=subprocess.DEVNULL, stderr=open(root / "nginx.out", "wb"), start_new_session=True)


def wait_healthy(url: str, proc: subprocess.Popen | None = None, timeout: float = 120) -> dict:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{url}: the process exited ({proc.returncode})")
        try:
            r = requests.get(url + "/healthz", timeout=3)
            if r.status_code == 200:
                return r.json()
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url}/healthz did not answer")


def etag_version(etag: str | None) -> str | None:
    m = re.match(r'(?:W/)?"([^"-]+-[0-9a-f]+)', etag or "")
    return m.group(1) if m else None


class Load:
    """Worker threads sending GETs through nginx until stopped (or the request cap)."""

    def __init__(self, base: str, threads: int, max_requests: int):
        self.base, self.threads, self.max_requests = base, threads, max_requests
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.latencies: list[float] = []
        self.errors: list[str] = []
        self.seen: dict[str, set[int]] = defaultdict(set)   # version → entity counts its responses had

    def _worker(self, n: int) -> None:
        session = requests.Session()
        i = n
        while not self.stop.is_set():
            with self.lock:
                if len(self.latencies) + len(self.errors) >= self.max_requests:
                    return
            path = URLS[i % len(URLS)]
            i += 1
            start = time.perf_counter()
            try:
                r = session.get(self.base + path, timeout=30, headers={"Accept-Encoding": "gzip"})
                elapsed = time.perf_counter() - start
                if r.status_code != 200:
                    raise RuntimeError(f"{path}: HTTP {r.status_code}")
                version, entities = self._version_of(path, r)
            except Exception as exc:  # noqa: BLE001 — every failure is counted and reported
                with self.lock:
                    self.errors.append(f"{path}: {exc}")
                continue
            with self.lock:
                self.latencies.append(elapsed)
                if version:
                    self.seen[version].add(entities)

    @staticmethod
    def _version_of(path: str, r: requests.Response) -> tuple[str | None, int | None]:
        if path == "/healthz":
            body = r.json()
            return body["version"], body["entities"]
        if path == "/api/entities.geojson":
            return etag_version(r.headers.get("ETag")), len(r.json()["features"])
        return None, None

    def __enter__(self):
        self.pool = [threading.Thread(target=self._worker, args=(n,), daemon=True) for n in range(self.threads)]
        for t in self.pool:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.pool:
            t.join(timeout=60)
        return False


def publish(base: str) -> str:
    """Sign in and publish the upload through nginx, as an operator in a browser would; the new version."""
    s = requests.Session()

    def token(path: str) -> str:
        r = s.get(base + path, timeout=30)
        r.raise_for_status()
        return re.search(r'name="csrf_token" value="([^"]+)"', r.text).group(1)

    r = s.post(base + "/admin/login", data={"login": OPERATOR, "password": PASSWORD, "csrf_token": token("/admin/login")},
               allow_redirects=False, timeout=30)
    if r.status_code != 302:
        raise RuntimeError(f"sign-in: HTTP {r.status_code}")
    r = s.post(base + "/admin/upload", data={"csrf_token": token("/admin/")},
               files={"file": ("rejestr.csv", register_upload(), "text/csv")}, allow_redirects=False, timeout=120)
    if r.status_code != 302:
        raise RuntimeError(f"upload: HTTP {r.status_code}")
    changeset = r.headers["Location"]
    r = s.post(base + changeset + "/publish", data={"csrf_token": token(changeset)}, allow_redirects=False,
               timeout=300)
    if r.status_code != 302:
        raise RuntimeError(f"publish: HTTP {r.status_code} {r.text[:300]}")
    return r.headers["Location"].rstrip("/").rsplit("/", 1)[1]


def refuses(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return False
    except OSError:
        return True


def kill(proc: subprocess.Popen, port: int, hard: bool) -> float:
    """Kill an instance without warning: SIGKILL to its gunicorn master (its workers, orphaned, answer what
    they were answering and exit), or with `hard` to the master and every worker at once (a response
    already being sent then breaks off: no proxy can move half a response to another instance). Returns when
    the port refuses connections (the instance is gone)."""
    if hard:
        os.killpg(proc.pid, signal.SIGKILL)
    else:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    deadline = time.monotonic() + 60
    while not refuses(port):
        if time.monotonic() > deadline:
            raise RuntimeError(f"instance :{port} still answers a minute after its master was killed")
        time.sleep(0.1)
    return time.monotonic()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def expected_counts(url: str) -> dict[str, int]:
    import psycopg

    with psycopg.connect(url) as conn:
        return dict(conn.execute("SELECT version, entities FROM dataset_versions").fetchall())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=40.0, help="the load's length (s), at most 300")
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--max-requests", type=int, default=40_000)
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs)")
    parser.add_argument("--hard-kill", action="store_true",
                        help="SIGKILL the instance's workers too (a response being sent at that moment breaks off)")
    args = parser.parse_args()
    seconds = min(args.seconds, 300.0)

    root = Path(tempfile.mkdtemp(prefix="geoes-scale-"))
    os.chmod(root, 0o755)
    server = pgtemp.TempPostgres()
    procs: list[subprocess.Popen] = []
    nginx = None
    ok = False
    try:
        url = server.start()
        env = {k: v for k, v in os.environ.items() if not k.startswith("GEOES_")}
        env.update(GEOES_DATABASE_URL=url, GEOES_REGION=os.environ.get("GEOES_REGION", "26"))
        builder = root / "instance-1"
        prepare_builder(builder, {**env, "GEOES_DATA_DIR": str(builder)})
        run("db", "init", env={**env, "GEOES_DATA_DIR": str(builder)})
        run("users", "add", OPERATOR, "--password-stdin", env={**env, "GEOES_DATA_DIR": str(builder)},
            stdin=PASSWORD + "\n")
        ports = [pgtemp.free_port() for _ in range(3)]
        for n, port in enumerate(ports, start=1):
            procs.append(start_instance(root / f"instance-{n}", port, env, root / f"instance-{n}.log"))
        for port, proc in zip(ports, procs):
            wait_healthy(f"http://127.0.0.1:{port}", proc)
        front = pgtemp.free_port()
        nginx = start_nginx(root, front, ports)
        base = f"http://127.0.0.1:{front}"
        first = wait_healthy(base, nginx)["version"]

        with Load(base, args.threads, args.max_requests) as load:
            started = time.monotonic()
            time.sleep(min(3.0, seconds / 4))
            new = publish(base)
            # The killed instance is one of those that did not publish (nginx sends each request elsewhere).
            for port in ports:
                deadline = time.monotonic() + 10
                while wait_healthy(f"http://127.0.0.1:{port}")["version"] != new:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"instance :{port} did not serve {new} within 10 s")
                    time.sleep(0.2)
            gone_at = kill(procs[1], ports[1], hard=args.hard_kill)
            while (time.monotonic() - started < seconds or time.monotonic() - gone_at < 5) \
                    and not load.stop.is_set():
                with load.lock:
                    if len(load.latencies) + len(load.errors) >= args.max_requests:
                        break
                time.sleep(0.2)

        expected = expected_counts(url)
        versions = []
        complete = True
        for version in sorted(load.seen):
            counts = load.seen[version]
            whole = counts == {expected.get(version)}
            complete &= whole
            versions.append(f"{version} ({count(expected.get(version, 0), 'podmiot')}, "
                            f"{'kompletna' if whole else 'NIEKOMPLETNA: ' + str(sorted(counts))})")
        total = len(load.latencies) + len(load.errors)
        print(f"zapytania: {total}, błędy: {len(load.errors)}, wersje: {'; '.join(versions)}, "
              f"p50: {percentile(load.latencies, 0.5) * 1000:.1f} ms, p99: {percentile(load.latencies, 0.99) * 1000:.1f} ms"
              f" (3 instancje za nginx, jedna zabita po publikacji{' razem z procesami roboczymi' if args.hard_kill else ''};"
              f" {first} → {new})")
        for e in load.errors[:10]:
            print(f"  błąd: {e}", file=sys.stderr)
        ok = not load.errors and complete and new in load.seen and first in load.seen
        return 0 if ok else 1
    finally:
        if nginx is not None and nginx.poll() is None:
            nginx.send_signal(signal.SIGQUIT)
            try:
                nginx.wait(timeout=10)
            except subprocess.TimeoutExpired:
                nginx.kill()
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
        server.remove()
        if args.keep or not ok:
            print(f"katalog roboczy (dzienniki): {root}", file=sys.stderr)
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
