"""A small thread-safe LRU of serialised responses, bounded by entry count and by bytes.

Keys start with the dataset version; the first key of a new version drops everything older, so a
rebuild frees the previous version's bytes at once and a reader never gets a mix of two versions.
Used for filtered/paged bodies (which vary without end) so that they never push the per-version
layer data out of `ServedData.cached`; each app's caches are its `geoes.publish.served.ServedData`'s.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Callable, Hashable


def _size(value) -> int:
    if isinstance(value, (bytes, bytearray, str)):
        return len(value)
    if isinstance(value, (tuple, list)):
        return sum(_size(v) for v in value) + 64
    return getattr(value, "nbytes", 256)


class LRU:
    def __init__(self, max_entries: int = 2048, max_bytes: int = 256 * 1024 * 1024):
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._data: OrderedDict[Hashable, tuple[object, int]] = OrderedDict()
        self._bytes = 0
        self._version: object = None
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._data)

    @property
    def nbytes(self) -> int:
        return self._bytes

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self._bytes = 0

    def get(self, key: Hashable, default=None):
        with self._lock:
            try:
                value, _ = self._data[key]
            except KeyError:
                self.misses += 1
                return default
            self._data.move_to_end(key)
            self.hits += 1
            return value

    def put(self, key: Hashable, value, size: int | None = None) -> None:
        size = _size(value) if size is None else size
        if size > self.max_bytes:
            return  # too big to keep: serve it once
        with self._lock:
            version = key[0] if isinstance(key, tuple) and key else None
            if version != self._version:
                self._data.clear()
                self._bytes = 0
                self._version = version
            old = self._data.pop(key, None)
            if old is not None:
                self._bytes -= old[1]
            self._data[key] = (value, size)
            self._bytes += size
            while self._data and (len(self._data) > self.max_entries or self._bytes > self.max_bytes):
                _, (_, s) = self._data.popitem(last=False)
                self._bytes -= s

    def get_or_make(self, key: Hashable, make: Callable[[], object]):
        sentinel = _MISSING
        value = self.get(key, sentinel)
        if value is sentinel:
            value = make()
            self.put(key, value)
        return value


_MISSING = object()
