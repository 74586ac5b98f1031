"""The region's fetched files (boundaries, population, gazetteer, official counts, unemployment) in the
database, with GEOES_DATABASE_URL: an instance with an empty data directory gets them from there.

Third-party files are never committed to the repository; in the database they are the service's state,
like the register. The build stores the files it was built from (`store`) and an instance that lacks
them, or has other versions of them, writes the stored ones into its data directory before it builds
(`ensure_local`) — the data directory is then a cache of the database, not state of its own.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

from geoes.common import database
from geoes.common.atomic import atomic_write_bytes
from geoes.config import Settings

DDL = """
CREATE TABLE IF NOT EXISTS region_files (
    name TEXT PRIMARY KEY,              -- the path under the data directory, e.g. boundaries/gminy.geojson
    sha TEXT NOT NULL,
    data BYTEA NOT NULL,
    stored_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
"""


def paths(settings: Settings) -> list[Path]:
    """Every file `fetch` writes, in the data directory."""
    return [settings.gminy_path, settings.powiaty_path, settings.region_path, settings.gminy_population_path,
            settings.powiaty_population_path, settings.localities_path, settings.gmina_points_path,
            settings.terc_path, settings.official_counts_path, settings.unemployment_path]


def _connect(settings: Settings):
    conn = database.raw_connect(settings.database_url)
    database.ensure_schema(conn, settings.database_url, "region", DDL)
    return conn


def _name(settings: Settings, path: Path) -> str:
    return path.relative_to(settings.data_dir).as_posix()


def store(settings: Settings) -> int:
    """Put the region's local files into the database (those that differ); how many were stored."""
    local = [(p, p.read_bytes()) for p in paths(settings) if p.is_file()]
    stored = 0
    with _connect(settings) as conn, conn.transaction():
        known = dict(conn.execute("SELECT name, sha FROM region_files").fetchall())
        for path, data in local:
            name, digest = _name(settings, path), hashlib.sha256(data).hexdigest()
            if known.get(name) != digest:
                conn.execute("INSERT INTO region_files (name, sha, data) VALUES (%s, %s, %s) ON CONFLICT (name) "
                             "DO UPDATE SET sha = EXCLUDED.sha, data = EXCLUDED.data, stored_at = now()",
                             (name, digest, data))
                stored += 1
    return stored


def ensure_local(settings: Settings) -> int:
    """Write the stored files this instance lacks or has in another version; how many were written."""
    wanted = {_name(settings, p): p for p in paths(settings)}
    written = 0
    with _connect(settings) as conn:
        for name, digest in conn.execute("SELECT name, sha FROM region_files").fetchall():
            path = wanted.get(name)
            if path is None or (path.is_file() and hashlib.sha256(path.read_bytes()).hexdigest() == digest):
                continue
            data = conn.execute("SELECT data FROM region_files WHERE name = %s", (name,)).fetchone()[0]
            atomic_write_bytes(path, bytes(data))
            written += 1
    return written


_checked: set[tuple[str, str]] = set()


def ensure_local_once(settings: Settings) -> None:
    """`ensure_local` once per process and data directory (the console's importer context; a build checks
    every time)."""
    key = (settings.database_url, str(settings.data_dir))
    if key not in _checked:
        ensure_local(settings)
        _checked.add(key)
