"""The dataset the web app serves, and caches of serialised responses per dataset version.

A build switches `data/build/current` in one rename. Each request asks `current()`, which notices the
new version (one readlink, at most every CHECK_INTERVAL seconds), loads it completely, and only then
swaps it in: a reader gets either the old version or the new one, never a mix. Cached bytes are keyed
by version, so ETags follow the version.
"""
from __future__ import annotations

import os
import threading
import time
from typing import Callable

from flask import g, has_request_context

from geoes.config import Settings
from geoes.dataset.reader import Dataset, NoDataset, load_dataset
from geoes.publish.cache import LRU

CHECK_INTERVAL = 1.0


class DatasetStore:
    def __init__(self, settings: Settings, check_interval: float = CHECK_INTERVAL):
        self.settings = settings
        self.check_interval = check_interval
        self._dataset: Dataset | None = None
        self._version: str | None = None
        self._checked = 0.0
        self._lock = threading.Lock()
        self._cache: dict[tuple, object] = {}
        # Filtered position sets of the layers (geoes.publish.layers.matching_positions).
        self.positions = LRU(max_entries=1024, max_bytes=64 * 1024 * 1024)
        self.on_new_version: list[Callable[[str], None]] = []

    def _linked_version(self) -> str | None:
        link = self.settings.build_dir / "current"
        try:
            return os.readlink(link)
        except OSError:
            return None

    def current(self) -> Dataset:
        """The dataset of this request: resolved once per request, so that every part of a response
        (headers, cached bodies, layer data) comes from one version even if a switch happens meanwhile."""
        if not has_request_context():
            return self._resolve()
        pinned = g.setdefault("_geoes_datasets", {})
        dataset = pinned.get(id(self))
        if dataset is None:
            dataset = pinned[id(self)] = self._resolve()
        return dataset

    def _resolve(self) -> Dataset:
        now = time.monotonic()
        if self._dataset is None or now - self._checked >= self.check_interval:
            version = self._linked_version()
            self._checked = now
            if version is None and self._dataset is None:
                raise NoDataset("brak zbudowanych danych: uruchom `python -m geoes build`")
            if version is not None and version != self._version:
                with self._lock:
                    if version != self._version:
                        try:
                            dataset = load_dataset(self.settings.build_dir / version)
                        except FileNotFoundError:
                            # Pruned between readlink and load: keep serving what we have.
                            if self._dataset is None:
                                raise
                        else:
                            self._cache = {}
                            switched = self._version is not None
                            self._dataset, self._version = dataset, version
                            if switched:  # the first load is the start-up's own business
                                for hook in self.on_new_version:
                                    hook(version)
        return self._dataset

    def cached(self, key: tuple, make: Callable[[Dataset], object]):
        """Return the value for `key` in the current version, computing it once per version."""
        dataset = self.current()
        full_key = (dataset.version, *key)
        cache = self._cache
        try:
            return cache[full_key]
        except KeyError:
            pass
        value = make(dataset)
        if len(cache) > 512:  # bound memory: filtered responses vary without end
            cache.clear()
        cache[full_key] = value
        return value
