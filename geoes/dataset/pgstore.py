"""Published dataset versions in PostgreSQL + PostGIS (GEOES_DATABASE_URL): what `data/build/` holds in the
embedded default, shared by every instance.

    dataset_versions   one row per version: indicators.json (`summary`, as text), the rejected rows, the
                       entities file it was built from, and each layer's columns with the dtypes the reader
                       restores
    dataset_current    one row: the version served now
    geoes_layers."<version>_<layer>"
                       the layers (entities, gminy, powiaty) as PostGIS tables: one column per property
                       (BOOLEAN, BIGINT, DOUBLE PRECISION, TEXT), `geometry geometry(Geometry, 4326)` with a
                       GiST index, `fid` the row's place — QGIS and ogr2ogr read them directly

A version is written in one transaction (its tables and its row: a version is there complete or not at
all), and the switch to it is another: one UPDATE of `dataset_current` and a NOTIFY on `geoes_dataset`,
which every instance hears (geoes.publish.served; it also polls, in case a notification is missed).
The frames stored are the ones the reader makes of the version's GeoPackage, and they are read back with
the same dtypes, so an instance serving from the database serves exactly what the builder would.
"""
from __future__ import annotations

import json
import logging
import threading
import time
from contextlib import contextmanager
from typing import Iterator

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from psycopg import sql

from geoes.common import database
from geoes.config import CRS_PUBLISH, Settings

SCHEMA = "geoes_layers"
CHANNEL = "geoes_dataset"
LAYERS = ("entities", "gminy", "powiaty")
BUILD_LOCK = "geoes:build"
SRID = 4326
log = logging.getLogger(__name__)

DDL = f"""
CREATE EXTENSION IF NOT EXISTS postgis;
CREATE SCHEMA IF NOT EXISTS {SCHEMA};
CREATE TABLE IF NOT EXISTS dataset_versions (
    version TEXT PRIMARY KEY,
    built_at TEXT NOT NULL,
    entities BIGINT,
    summary TEXT NOT NULL,
    layers JSONB NOT NULL,
    rejects BYTEA NOT NULL,
    input BYTEA NOT NULL
);
CREATE TABLE IF NOT EXISTS dataset_current (
    id BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (id),
    version TEXT NOT NULL REFERENCES dataset_versions (version),
    switched_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
"""


def connect(settings: Settings):
    conn = database.raw_connect(settings.database_url)
    database.ensure_schema(conn, settings.database_url, "datasets", DDL)
    return conn


def table_name(version: str, layer: str) -> str:
    return f"{version}_{layer}"


def _table(version: str, layer: str) -> sql.Identifier:
    return database.identifier(SCHEMA, table_name(version, layer))


# --- writing --------------------------------------------------------------------------------------

def _pg_type(dtype) -> str:
    kind = getattr(dtype, "kind", "O")
    if kind == "b":
        return "BOOLEAN"
    if kind in "iu":
        return "BIGINT"
    if kind == "f":
        return "DOUBLE PRECISION"
    return "TEXT"


def _values(series: pd.Series) -> list:
    """A column as Python values, None where missing."""
    if isinstance(series.dtype, gpd.array.GeometryDtype):
        arr = shapely.set_srid(np.asarray(series.array), SRID)
        return [None if g is None else g for g in shapely.to_wkb(arr, hex=True, include_srid=True)]
    values = series.astype(object).where(series.notna(), None)
    return values.tolist()


def _create_layer(cur, version: str, layer: str, frame: gpd.GeoDataFrame) -> list[list[str]]:
    geometry = frame.geometry.name
    columns = [c for c in frame.columns if c != geometry]
    table = _table(version, layer)
    defs = [sql.SQL("fid BIGINT PRIMARY KEY")]
    defs += [sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(_pg_type(frame[c].dtype))) for c in columns]
    defs.append(sql.SQL("{} geometry(Geometry, {})").format(sql.Identifier(geometry), sql.Literal(SRID)))
    cur.execute(sql.SQL("CREATE TABLE {} ({})").format(table, sql.SQL(", ").join(defs)))
    names = sql.SQL(", ").join(sql.Identifier(c) for c in ["fid", *columns, geometry])
    data = [range(len(frame)), *(_values(frame[c]) for c in columns), _values(frame[geometry])]
    with cur.copy(sql.SQL("COPY {} ({}) FROM STDIN").format(table, names)) as copy:
        for row in zip(*data):
            copy.write_row(row)
    cur.execute(sql.SQL("CREATE INDEX ON {} USING GIST ({})").format(table, sql.Identifier(geometry)))
    return [[c, str(frame[c].dtype)] for c in columns] + [[geometry, "geometry"]]


def save(settings: Settings, version: str, layers: dict[str, gpd.GeoDataFrame], summary: str, rejects: bytes,
         input_bytes: bytes) -> None:
    """Store a complete version (its tables and its row) in one transaction; nothing is switched."""
    meta = json.loads(summary)   # indicators.json may hold NaN, which JSONB would refuse: kept as text
    with connect(settings) as conn, conn.transaction(), conn.cursor() as cur:
        manifest = {name: _create_layer(cur, version, name, frame) for name, frame in layers.items()}
        cur.execute("INSERT INTO dataset_versions (version, built_at, entities, summary, layers, rejects, input) "
                    "VALUES (%s, %s, %s, %s, %s, %s, %s)",
                    (version, meta.get("built_at", ""), meta.get("entities_total"), summary, json.dumps(manifest),
                     rejects, input_bytes))


def switch(settings: Settings, version: str) -> None:
    """Serve `version` from now on, everywhere: one transaction, and a notification to every instance."""
    with connect(settings) as conn, conn.transaction():
        conn.execute("INSERT INTO dataset_current (id, version) VALUES (TRUE, %s) ON CONFLICT (id) DO UPDATE "
                     "SET version = EXCLUDED.version, switched_at = now()", (version,))
        conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, version))


def prune(settings: Settings, keep: int) -> None:
    """Drop the layers and rows of all but the newest `keep` versions (never the current one)."""
    with connect(settings) as conn, conn.transaction():
        current = _current(conn)
        names = [r[0] for r in conn.execute("SELECT version FROM dataset_versions ORDER BY version")]
        for old in names[:-keep] if keep else names:
            if old == current:
                continue
            for layer in LAYERS:
                conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(_table(old, layer)))
            conn.execute("DELETE FROM dataset_versions WHERE version = %s", (old,))


@contextmanager
def lock(settings: Settings) -> Iterator[bool]:
    """The build lock across instances (an advisory lock): True when held, False when another build has it."""
    with database.advisory_lock(settings.database_url, BUILD_LOCK) as held:
        yield held is not None


# --- reading --------------------------------------------------------------------------------------

def _current(conn) -> str | None:
    row = conn.execute("SELECT version FROM dataset_current").fetchone()
    return row[0] if row else None


def current(settings: Settings) -> str | None:
    with connect(settings) as conn:
        return _current(conn)


def kept(settings: Settings) -> dict[str, dict]:
    """The stored versions: {version: {"built_at", "entities", "input"}} (as the build directory lists them)."""
    with connect(settings) as conn:
        rows = conn.execute("SELECT version, built_at, entities FROM dataset_versions").fetchall()
    return {v: {"built_at": built, "entities": n, "input": True} for v, built, n in rows}


def input_of(settings: Settings, version: str) -> bytes | None:
    with connect(settings) as conn:
        row = conn.execute("SELECT input FROM dataset_versions WHERE version = %s", (version,)).fetchone()
    return bytes(row[0]) if row else None


def _restore(values: list, dtype: str) -> pd.Series | np.ndarray:
    if dtype == "geometry":
        return gpd.GeoSeries(shapely.from_wkb(values), crs=CRS_PUBLISH)
    return pd.Series(values, dtype=dtype)


def read_layer(conn, version: str, layer: str, manifest: list[list[str]], columns: list[str] | None = None,
               ) -> pd.DataFrame:
    """One layer with the dtypes it was stored with; only `columns` (no geometry) when given."""
    wanted = [(c, t) for c, t in manifest if columns is None or c in columns]
    select = [sql.SQL("ST_AsBinary({})").format(sql.Identifier(c)) if t == "geometry" else sql.Identifier(c)
              for c, t in wanted]
    with conn.cursor() as cur:
        cur.execute(sql.SQL("SELECT {} FROM {} ORDER BY fid").format(sql.SQL(", ").join(select),
                                                                      _table(version, layer)))
        rows = cur.fetchall()
    cols = list(zip(*rows)) if rows else [()] * len(wanted)
    data = {c: _restore(list(values), t) for (c, t), values in zip(wanted, cols)}
    geometry = next((c for c, t in wanted if t == "geometry"), None)
    if geometry is None:
        return pd.DataFrame(data)
    return gpd.GeoDataFrame(data, geometry=geometry, crs=CRS_PUBLISH)


def load(settings: Settings, version: str) -> tuple[dict[str, gpd.GeoDataFrame], str]:
    """Every layer of `version` and its indicators.json text; LookupError when the version is not stored."""
    with connect(settings) as conn:
        row = conn.execute("SELECT summary, layers FROM dataset_versions WHERE version = %s", (version,)).fetchone()
        if row is None:
            raise LookupError(version)
        summary, manifest = row
        return {name: read_layer(conn, version, name, manifest[name]) for name in LAYERS}, summary


def layer_columns(settings: Settings, layer: str, columns: list[str]) -> list[tuple[dict, pd.DataFrame]]:
    """For each stored version (oldest first): its summary and the given columns of one layer (the register's
    history)."""
    out = []
    with connect(settings) as conn:
        rows = conn.execute("SELECT version, summary, layers FROM dataset_versions ORDER BY version").fetchall()
        for version, summary, manifest in rows:
            out.append((json.loads(summary), read_layer(conn, version, layer, manifest[layer], columns)))
    return out


# --- the served version, heard by every instance --------------------------------------------------

class VersionWatcher:
    """The version `dataset_current` names, kept up to date in the background: a LISTEN on `geoes_dataset`
    wakes it at once on a switch, and it reads the row again at least every `POLL` seconds anyway (a
    notification sent while it was reconnecting is not lost). While the database cannot be reached it keeps
    the last version it knew, and the instance keeps serving that version from memory."""
    POLL = 2.0

    def __init__(self, settings: Settings):
        self.settings = settings
        self._version: str | None = None
        self._known = False
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def version(self) -> str | None:
        if not self._known:
            self._version, self._known = current(self.settings), True
        if self._thread is None or not self._thread.is_alive():
            with self._lock:
                if self._thread is None or not self._thread.is_alive():
                    self._thread = threading.Thread(target=self._run, name="geoes-version-watch", daemon=True)
                    self._thread.start()
        return self._version

    def _run(self) -> None:
        failing = False
        while True:
            try:
                with database.raw_connect(self.settings.database_url) as conn:
                    conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(CHANNEL)))
                    while True:
                        self._version, failing = _current(conn), False
                        for _ in conn.notifies(timeout=self.POLL, stop_after=1):
                            pass
            except Exception as exc:  # noqa: BLE001 — the database restarting or unreachable: try again shortly
                if not failing:   # once per outage, not once a second
                    log.warning("brak połączenia z bazą danych (%s); serwowana jest ostatnia znana wersja",
                                str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)
                failing = True
                time.sleep(1.0)


_watchers: dict[str, VersionWatcher] = {}
_watchers_lock = threading.Lock()


def watcher(settings: Settings) -> VersionWatcher:
    """The process's one watcher of the served version for this database."""
    with _watchers_lock:
        if settings.database_url not in _watchers:
            _watchers[settings.database_url] = VersionWatcher(settings)
        return _watchers[settings.database_url]
