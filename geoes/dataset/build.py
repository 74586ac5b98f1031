"""`build`: validate, join, compute; write one new dataset version and switch to it atomically.

Layout under data/build/:
    <version>/geoes.gpkg        layers entities, gminy, powiaty (EPSG:4326) with indicators
    <version>/indicators.json   voivodeship values, white spots, completeness, method, checks
    <version>/rejects.csv       rejected rows with row, column and reason (for Excel: geoes.common.excel)
    <version>/entities.csv      the entities file the version was built from (restoring puts it back)
    <version>/map_points.json   the public map's light payload: every placed entity's id, point, type and
                                precision (geoes.dataset.mappoints), made once per version
    <version>/mismatches.csv    every entity whose point lies in another gmina than its source states
                                (indicators.json lists the first MAX_LISTED_MISMATCHES and the total)
    current -> <version>        symlink, replaced in one rename; readers follow it
A build writes into a hidden temporary directory first, so an interrupted build leaves nothing
half-written that a reader could pick up, and a lock keeps two builds from interleaving.

With GEOES_DATABASE_URL the versions live in PostgreSQL instead (geoes.dataset.pgstore): the build reads
the stored register unless given a file, writes the version in one transaction, switches to it in
another, and the lock is an advisory lock, held across instances.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import tempfile
import time
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import pandas as pd

from geoes.common.dictionary import whole_numbers
from geoes.common.excel import write_rejects
from geoes.common.reference import attribution
from geoes.config import Settings
from geoes.dataset import indicators as ind
from geoes.dataset import pgstore
from geoes.dataset.gpkg import read_layers
from geoes.dataset.official import completeness, completeness_text, incomplete, type_series
from geoes.dataset.join import DERIVED_COLUMNS, entities_to_points, join_gminy, mismatches
from geoes.dataset.mappoints import POINTS_NAME, encode as encode_points, points_table
from geoes.errors import Conflict
from geoes.register import stored
from geoes.register.record import PUBLISHED_COLUMNS, UnreadableFile, read_table
from geoes.register.validate import validate_frame
from geoes.sources import region_store
from geoes.sources.needs import load_needs
from geoes.sources.territory import Territory, load_territory

KEEP_VERSIONS = 3
GPKG_NAME = "geoes.gpkg"
INDICATORS_NAME = "indicators.json"
REJECTS_NAME = "rejects.csv"
INPUT_NAME = "entities.csv"
MISMATCHES_NAME = "mismatches.csv"
# indicators.json is read whole by every server process: a national register's mismatches (possibly
# thousands) are counted there and listed in full only in mismatches.csv.
MAX_LISTED_MISMATCHES = 100
HASH_CHUNK = 1 << 20


class BuildLocked(Conflict):
    """Another build holds the lock."""


class NothingValid(UnreadableFile):
    """Every row of the input was rejected: the served version is kept rather than replaced by an empty map."""


@dataclass
class BuildResult:
    version: str
    path: Path
    entities: int
    placed: int
    rejected_rows: int
    indicators: ind.Indicators
    summary: dict
    rejects_path: Path | None = None


@contextmanager
def build_lock(settings: Settings):
    if settings.uses_database:
        with pgstore.lock(settings) as held:
            if not held:
                raise BuildLocked("trwa inna przebudowa danych (w innej instancji lub z wiersza poleceń); "
                                  "spróbuj później")
            yield
        return
    settings.build_dir.mkdir(parents=True, exist_ok=True)
    with open(settings.build_dir / ".lock", "w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BuildLocked("trwa inna przebudowa danych (blokada data/build/.lock); spróbuj później") from None
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


# The in-memory stages of a build, in order; `compute_frame` reports the end of each to `on_stage`.
STAGES = ("validate", "points", "join", "indicators")


@dataclass
class Computed:
    """What the in-memory stages produce, before anything is written."""
    valid: pd.DataFrame          # rows that passed validation, typed and normalised
    rejects: pd.DataFrame        # row, column, reason and the row's raw values
    joined: pd.DataFrame         # valid entities as points with the gmina/powiat they fall in
    indicators: ind.Indicators
    extra: dict                  # completeness, mismatches, source: the rest of indicators.json


def compute_frame(frame: pd.DataFrame, settings: Settings, territory: Territory, source: str = "",
                  on_stage: Callable[[str], None] | None = None) -> Computed:
    """Validate, place, join and compute indicators for an entity table, in memory.

    `frame` is a table as `geoes.register.record.read_table` returns it (strings and a `row` column);
    `territory` the region's gminy and powiaty (`geoes.sources.territory.load_territory`); `source` names
    the input in messages and in the summary. `on_stage(name)`, if given, is called as each of STAGES
    ends — the benchmarks time the build's own stages with it instead of re-chaining them.
    """
    done = on_stage or (lambda name: None)
    valid, rejects = validate_frame(frame, units=territory, source_name=source)
    done("validate")
    points = entities_to_points(valid)
    done("points")
    joined = join_gminy(points, territory.gminy)
    del points
    done("join")
    region_name = territory.region["name"].iloc[0] if len(territory.region) else settings.region
    indicators = ind.compute(joined, territory.gminy, territory.powiaty, settings.region, str(region_name),
                             needs=load_needs(settings.unemployment_path))
    official = None
    if settings.official_counts_path.exists():
        official = pd.read_csv(settings.official_counts_path, dtype=str)
    rows = completeness(indicators.voivodeship, official)   # the same counts as every table by type
    # The statement travels with every table written from this version (method: API, CSV README, GPKG).
    indicators.method["completeness"] = "W rejestrze wobec oficjalnych liczb: " + completeness_text(rows)
    indicators.method["register"] = ("wskaźniki liczone z rejestru znanych podmiotów, który nie jest pełny"
                                     if incomplete(rows) else "rejestr obejmuje wszystkie znane podmioty")
    extra = {
        "official_series": type_series(official).to_dict("records"),
        "completeness": rows,
        "mismatches": mismatches(joined),
        "source": source,
    }
    done("indicators")
    return Computed(valid, rejects, joined, indicators, extra)


def compute_all(settings: Settings, entities_path: Path | str | None = None):
    """Read the entities file and run `compute_frame` on it; returns (joined, Indicators, rejects, extra)."""
    path = Path(entities_path or settings.entities_path)
    computed = compute_frame(read_table(path), settings, load_territory(settings), str(path))
    return computed.joined, computed.indicators, computed.rejects, computed.extra


def _region_inputs(settings: Settings) -> tuple[Path, ...]:
    return settings.gminy_path, settings.gminy_population_path, settings.powiaty_population_path


def _update_digest(digest, path: Path) -> None:
    with open(path, "rb") as fh:  # a chunk at a time: a national register is hundreds of MB
        for chunk in iter(lambda: fh.read(HASH_CHUNK), b""):
            digest.update(chunk)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    _update_digest(digest, path)
    return digest.hexdigest()


def _version(entities_path: Path, settings: Settings) -> str:
    digest = hashlib.sha256()
    for p in (entities_path, *_region_inputs(settings)):
        _update_digest(digest, p)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    return f"{stamp}-{digest.hexdigest()[:8]}"


def input_digests(settings: Settings, register_sha256: str) -> dict[str, str]:
    """What a version is built from, as content hashes (recorded with the version): the register's bytes and
    the region's files its id covers. A set-up compares these, not file times — a restore in the console
    puts an older register back, newer on disk than the version it restores, yet the same content."""
    region = hashlib.sha256()
    for p in _region_inputs(settings):
        if p.exists():
            _update_digest(region, p)
    return {"register_sha256": register_sha256, "region_sha256": region.hexdigest()}


def _recorded_inputs(settings: Settings, version: str) -> dict[str, str]:
    """The input hashes recorded with `version`; for a version built before they were recorded, the hash of the
    register it kept (its region files unknown)."""
    kept: Path | bytes | None
    if settings.uses_database:
        summary, kept = pgstore.summary_of(settings, version), pgstore.input_of(settings, version)
    else:
        folder = settings.build_dir / version
        try:
            summary = json.loads((folder / INDICATORS_NAME).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            summary = None
        kept = folder / INPUT_NAME if (folder / INPUT_NAME).exists() else None
    recorded = dict((summary or {}).get("inputs") or {})
    if "register_sha256" not in recorded and kept is not None:
        recorded["register_sha256"] = (file_sha256(kept) if isinstance(kept, Path)
                                       else hashlib.sha256(kept).hexdigest())
    return recorded


def up_to_date(settings: Settings) -> str | None:
    """The served version when it was built from the register as it is now (and the same region files); None
    when a build is due: no version yet, or the register's content (or the region's) differs."""
    version = current_version(settings)
    if version is None:
        return None
    recorded = _recorded_inputs(settings, version)
    if settings.uses_database:
        register = stored.sha(settings)
    else:
        register = file_sha256(settings.entities_path) if settings.entities_path.exists() else \
            hashlib.sha256(b"").hexdigest()
    now = input_digests(settings, register)
    if recorded.get("register_sha256") != now["register_sha256"]:
        return None
    if "region_sha256" in recorded and all(p.exists() for p in _region_inputs(settings)) \
            and recorded["region_sha256"] != now["region_sha256"]:
        return None
    return version


def _json_default(value):
    if hasattr(value, "item"):
        return value.item()
    if pd.isna(value):
        return None
    return str(value)


def write_version(target: Path, joined, indicators: ind.Indicators, rejects: pd.DataFrame, extra: dict,
                  version: str) -> dict:
    target.mkdir(parents=True)
    # Only the record's published fields go into a version: everything served is read from it, so an
    # internal field (the operator's notes) cannot reach a page, a download or the OGC API. A selection of
    # columns is a new frame already: no copy of the whole table on top of it.
    entities = joined[[*PUBLISHED_COLUMNS, *DERIVED_COLUMNS, "row", "geometry"]]
    entities["employees"] = entities["employees"].astype("float64")
    gpkg = target / GPKG_NAME
    entities.to_file(gpkg, layer="entities", driver="GPKG", engine="pyogrio")
    del entities
    (target / POINTS_NAME).write_bytes(encode_points(points_table(joined), version))
    # Counts of people (registered unemployed) are whole numbers: Integer in the GeoPackage, not Real.
    whole_numbers(indicators.gminy, "units").to_file(gpkg, layer="gminy", driver="GPKG", engine="pyogrio")
    whole_numbers(indicators.powiaty, "units").to_file(gpkg, layer="powiaty", driver="GPKG", engine="pyogrio")
    # Rejected rows hold raw input and are opened in Excel: the one rejects writer (BOM, neutralised).
    write_rejects(rejects, target / REJECTS_NAME)
    mismatched = extra["mismatches"]
    if not isinstance(mismatched, pd.DataFrame):
        mismatched = pd.DataFrame(mismatched)
    write_rejects(mismatched, target / MISMATCHES_NAME)
    summary = {
        "version": version,
        "built_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "voivodeship": indicators.voivodeship,
        "white_spots": indicators.white_spots.to_dict("records"),
        "method": indicators.method,
        "completeness": extra["completeness"],
        "official_series": extra.get("official_series", []),
        "mismatches": mismatched.head(MAX_LISTED_MISMATCHES).to_dict("records"),
        "mismatches_total": int(len(mismatched)),
        "entities_total": int(len(joined)),
        "entities_placed": int(joined["placed"].sum()),
        "rejected_rows": int(rejects["row"].nunique()) if len(rejects) else 0,
        "source": extra["source"],
        "inputs": extra.get("inputs", {}),
        "attribution": attribution(),
    }
    (target / INDICATORS_NAME).write_text(
        json.dumps(summary, ensure_ascii=False, indent=1, default=_json_default), encoding="utf-8")
    for f in target.iterdir():
        with open(f, "rb") as fh:
            os.fsync(fh.fileno())
    return summary


def switch_current(settings: Settings, version: str) -> None:
    if settings.uses_database:
        pgstore.switch(settings, version)
        return
    link = settings.build_dir / "current"
    tmp = settings.build_dir / f".current-{os.getpid()}"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    os.symlink(version, tmp)
    os.replace(tmp, link)


def current_version(settings: Settings) -> str | None:
    """The version the `current` link names (None before the first build): the one reader of the link (or of
    the database's `dataset_current`)."""
    if settings.uses_database:
        return pgstore.current(settings)
    link = settings.build_dir / "current"
    if not link.is_symlink():
        return None
    return os.readlink(link)


def keep_input(target: Path, entities_path: Path) -> None:
    """Keep the entities file a version is built from inside the version, so that restoring the version
    can put the register back as it was (the operator console's restore)."""
    shutil.copyfile(entities_path, target / INPUT_NAME)
    with open(target / INPUT_NAME, "rb") as fh:
        os.fsync(fh.fileno())


def prune(settings: Settings, keep: int = KEEP_VERSIONS) -> None:
    if settings.uses_database:
        pgstore.prune(settings, keep)
        return
    current = current_version(settings)
    versions = sorted(p for p in settings.build_dir.iterdir()
                      if p.is_dir() and not p.is_symlink() and not p.name.startswith("."))
    for old in versions[:-keep]:
        if old.name != current:
            shutil.rmtree(old, ignore_errors=True)
    # Leftovers of interrupted builds.
    for tmp in settings.build_dir.glob(".tmp-*"):
        if time.time() - tmp.stat().st_mtime > 3600:
            shutil.rmtree(tmp, ignore_errors=True)


def _store_in_database(settings: Settings, version: str, write: Callable[[Path], dict], path: Path):
    """Write the version's files aside, then store the layers as the reader reads them, indicators.json, the
    rejected rows and the input in the database (one transaction). The rejected rows stay beside the data
    directory for the person who ran the build. Returns (summary, rejects file or None)."""
    with tempfile.TemporaryDirectory(prefix="geoes-build-") as scratch:
        target = Path(scratch) / version
        summary = write(target)
        pgstore.save(settings, version, read_layers(target / GPKG_NAME),
                     (target / INDICATORS_NAME).read_text(encoding="utf-8"), (target / REJECTS_NAME).read_bytes(),
                     path.read_bytes())
        rejects_path = None
        if summary["rejected_rows"]:
            rejects_path = settings.build_dir / f"{version}-{REJECTS_NAME}"
            rejects_path.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(target / REJECTS_NAME, rejects_path)
    return summary, rejects_path


def build(settings: Settings, entities_path: Path | str | None = None) -> BuildResult:
    """Build a version from `entities_path` (by default the register: data/entities.csv, or the stored one
    with GEOES_DATABASE_URL) and serve it."""
    if settings.uses_database:
        region_store.ensure_local(settings)   # the region's files, from the database if this instance lacks them
    source = stored.as_file(settings) if not entities_path else nullcontext(Path(entities_path))
    with build_lock(settings), source as path:
        joined, indicators, rejects, extra = compute_all(settings, path)
        if len(joined) == 0 and len(rejects):
            first = rejects.iloc[0]
            raise NothingValid(
                f"{path}: żaden wiersz nie przeszedł walidacji ({rejects['row'].nunique()} odrzuconych; "
                f"pierwszy: wiersz {first['row']}, kolumna {first['column']}: {first['reason']}); "
                f"dane nie zostały przebudowane — szczegóły: python -m geoes validate {path}")
        version = _version(path, settings)
        extra["inputs"] = input_digests(settings, file_sha256(path))
        final = settings.build_dir / version

        def write(target: Path) -> dict:
            written = write_version(target, joined, indicators, rejects, extra, version)
            keep_input(target, path)
            return written

        if settings.uses_database:
            region_store.store(settings)
            summary, rejects_path = _store_in_database(settings, version, write, path)
        else:
            tmp = settings.build_dir / f".tmp-{version}"
            try:
                summary = write(tmp)
                os.rename(tmp, final)
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise
            rejects_path = final / REJECTS_NAME
        switch_current(settings, version)
        prune(settings)
    return BuildResult(version, final, len(joined), int(joined["placed"].sum()),
                       summary["rejected_rows"], indicators, summary, rejects_path)
