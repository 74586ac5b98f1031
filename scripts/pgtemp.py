"""A throw-away PostgreSQL + PostGIS server in a temporary directory, for the tests, the benchmarks and
scripts/scale_test.sh: Debian's binaries (postgresql-15, postgresql-15-postgis-3), loopback only.

`initdb` refuses to run as root (and CI runs as root): as root the cluster belongs to `nobody`, and the
server runs as that user; otherwise as the current user. Durability is traded for speed (fsync off):
the data live as long as the directory.

    python scripts/pgtemp.py start DIR      # prints the database URL (postgresql://geoes@127.0.0.1:PORT/geoes)
    python scripts/pgtemp.py stop DIR
"""
from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

PG_BIN_DIRS = ("/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/17/bin")
DATABASE = "geoes"
SUPERUSER = "geoes"


def pg_bin() -> Path:
    for d in PG_BIN_DIRS:
        if Path(d, "initdb").exists():
            return Path(d)
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    raise RuntimeError("brak PostgreSQL: apt-get install postgresql-15 postgresql-15-postgis-3")


def postgis_available() -> bool:
    try:
        share = subprocess.run([str(pg_bin() / "pg_config"), "--sharedir"], capture_output=True, text=True,
                               check=True).stdout.strip()
    except (RuntimeError, OSError, subprocess.CalledProcessError):
        share = "/usr/share/postgresql/15"
    return Path(share, "extension", "postgis.control").exists()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class TempPostgres:
    """`root`: the server's directory; as root it must be reachable by `nobody` (e.g. under /tmp, not under
    a 0700 directory), so by default it is a new one under the system's temporary directory."""

    def __init__(self, root: Path | None = None, port: int | None = None):
        self.root = Path(root) if root else Path(tempfile.mkdtemp(prefix="geoes-pg-"))
        self.data = self.root / "data"
        self.port_file = self.root / "port"
        self.port = port or (int(self.port_file.read_text()) if self.port_file.exists() else free_port())

    @property
    def url(self) -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{DATABASE}"

    def _as_owner(self) -> dict:
        if os.geteuid() != 0:
            return {}
        nobody = pwd.getpwnam("nobody")
        return {"user": nobody.pw_uid, "group": nobody.pw_gid, "extra_groups": []}

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run(list(args), capture_output=True, text=True, cwd=self.root,
                              env={**os.environ, "LC_ALL": "C.UTF-8"}, **self._as_owner())
        if check and done.returncode:
            raise RuntimeError(f"{Path(args[0]).name} zakończył się kodem {done.returncode}: "
                               f"{(done.stderr or done.stdout).strip()[-2000:]}")
        return done

    def start(self) -> str:
        self.root.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            nobody = pwd.getpwnam("nobody")
            os.chown(self.root, nobody.pw_uid, nobody.pw_gid)
        os.chmod(self.root, 0o700)
        bindir = pg_bin()
        if not (self.data / "PG_VERSION").exists():
            self._run(str(bindir / "initdb"), "-D", str(self.data), "-U", SUPERUSER, "-A", "trust", "-E", "UTF8",
                      "--locale=C.UTF-8", "--no-sync")
            with open(self.data / "postgresql.conf", "a", encoding="utf-8") as fh:
                fh.write(f"\nlisten_addresses = '127.0.0.1'\nport = {self.port}\n"
                         f"unix_socket_directories = '{self.root}'\nfsync = off\nsynchronous_commit = off\n"
                         "full_page_writes = off\nmax_connections = 200\nshared_buffers = 64MB\n")
            self.port_file.write_text(str(self.port))
        self._run(str(bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "server.log"), "-w",
                  "-t", "60", "start")
        psql = [str(bindir / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", SUPERUSER, "-v", "ON_ERROR_STOP=1"]
        exists = self._run(*psql, "-d", "postgres", "-tAc",
                           f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}'").stdout.strip()
        if not exists:
            self._run(*psql, "-d", "postgres", "-c", f"CREATE DATABASE {DATABASE}")
            self._run(*psql, "-d", DATABASE, "-c", "CREATE EXTENSION IF NOT EXISTS postgis; "
                      "CREATE EXTENSION IF NOT EXISTS citext")
        return self.url

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run(str(pg_bin() / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop", check=False)

    def remove(self) -> None:
        """Stop the server and delete its directory."""
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("start", "stop"):
        print(__doc__, file=sys.stderr)
        return 2
    server = TempPostgres(Path(argv[1]))
    if argv[0] == "start":
        print(server.start())
    else:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
