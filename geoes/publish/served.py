"""The data one server publishes: the current dataset version and every cache derived from it.

The web factory creates one `ServedData` per app and everything the app caches belongs to it, so two
apps in one process (tests, a console beside the public site) never share cached bytes.

* `current()` — the dataset version served now. A build switches `data/build/current` in one rename
  (`geoes.dataset.build`); `current()` notices the new version (one read of the link, at most every
  `check_interval` seconds), loads it completely, and only then swaps it in: a reader gets either the
  old version or the new one, never a mix, and while one thread loads the new version the others go on
  serving the old one. The first load is the start-up's; each later switch calls the `on_new_version`
  hooks (the web app warms its caches there). With GEOES_DATABASE_URL the version comes from the
  database's `dataset_current`, heard through a LISTEN and a poll in the background
  (geoes.dataset.pgstore.VersionWatcher): every instance serves a new version within seconds.
* `cached(key, make)` — a value computed once per version from the dataset (`make(dataset)`): the
  serialised layers, map shells, charts, the report. Dropped when the version changes.
* Bounded LRUs (`geoes.publish.cache`) of what varies without end: `api_bodies` (GeoJSON API and
  download bodies), `ogc_bodies` (OGC API pages), `pages` (rendered HTML pages, split where each request
  puts its own CSP nonce), `positions` (filtered feature positions) and `deflated` (gzip of large bodies,
  keyed by the body object). Their keys start with the dataset version, so a switch drops the previous
  version's bytes at once.

Nothing here knows the web framework; `geoes.web.served` pins `current()` to one version per request.
"""
from __future__ import annotations

import threading
import time
from typing import Callable

from geoes.config import Settings
from geoes.dataset import pgstore
from geoes.dataset.build import current_version
from geoes.dataset.reader import Dataset, NoDataset, load_version
from geoes.publish.cache import LRU

CHECK_INTERVAL = 1.0
MAX_VALUES = 512  # per-version values vary with the page (map shells per unit, charts): bound them


class ServedData:
    def __init__(self, settings: Settings, check_interval: float = CHECK_INTERVAL):
        self.settings = settings
        self.check_interval = check_interval
        self._dataset: Dataset | None = None
        self._version: str | None = None
        self._checked = 0.0
        self._lock = threading.Lock()
        self.values: dict[tuple, object] = {}
        self.on_new_version: list[Callable[[str], None]] = []
        self.api_bodies = LRU(max_entries=1024, max_bytes=128 * 1024 * 1024)
        self.ogc_bodies = LRU(max_entries=4096, max_bytes=128 * 1024 * 1024)
        self.pages = LRU(max_entries=2048, max_bytes=64 * 1024 * 1024)
        self.positions = LRU(max_entries=1024, max_bytes=64 * 1024 * 1024)
        self.deflated = LRU(max_entries=2048, max_bytes=96 * 1024 * 1024)

    def current(self) -> Dataset:
        """The dataset version served now (the web layer pins it once per request)."""
        return self.resolve()

    def resolve(self) -> Dataset:
        """Pick up a new version behind the `current` link, at most every `check_interval` seconds."""
        now = time.monotonic()
        if self._dataset is None or now - self._checked >= self.check_interval:
            version = self._served_version()
            self._checked = now
            if version is None and self._dataset is None:
                raise NoDataset("brak zbudowanych danych: uruchom `python -m geoes build`")
            if version is not None and version != self._version:
                self._switch(version)
        return self._dataset

    def _served_version(self) -> str | None:
        if self.settings.uses_database:
            return pgstore.watcher(self.settings).version()
        return current_version(self.settings)

    def _switch(self, version: str) -> None:
        # Only the start-up waits for a load; later, the thread that loads the new version is the only one
        # that waits, the others keep serving the old one until it is swapped in.
        if not self._lock.acquire(blocking=self._dataset is None):
            return
        try:
            if version == self._version:
                return  # another thread loaded it meanwhile
            try:
                dataset = load_version(self.settings, version)
            except FileNotFoundError:
                # Pruned between reading the link and loading: keep serving what we have.
                if self._dataset is None:
                    raise
                return
            self.values = {}
            switched = self._version is not None
            self._dataset, self._version = dataset, version
        finally:
            self._lock.release()
        if switched:  # the first load is the start-up's own business
            for hook in self.on_new_version:
                hook(version)

    def cached(self, key: tuple, make: Callable[[Dataset], object]):
        """The value for `key` in the current version, computed once per version by `make(dataset)`."""
        dataset = self.current()
        full_key = (dataset.version, *key)
        values = self.values
        try:
            return values[full_key]
        except KeyError:
            pass
        value = make(dataset)
        if len(values) > MAX_VALUES:
            values.clear()
        values[full_key] = value
        return value
