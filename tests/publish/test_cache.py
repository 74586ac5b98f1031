"""geoes.publish.cache: bounded LRU that drops an old dataset version at once."""
from geoes.publish.cache import LRU


def test_bounded_by_entries_and_bytes():
    lru = LRU(max_entries=3, max_bytes=100)
    for i in range(5):
        lru.put(("v1", i), b"x" * 10)
    assert len(lru) == 3 and lru.get(("v1", 0)) is None and lru.get(("v1", 4)) == b"x" * 10
    lru.put(("v1", "big"), b"y" * 90)
    assert lru.nbytes <= 100
    lru.put(("v1", "huge"), b"z" * 1000)  # bigger than the cache: not kept
    assert lru.get(("v1", "huge")) is None


def test_lru_order():
    lru = LRU(max_entries=2)
    lru.put(("v", "a"), b"a")
    lru.put(("v", "b"), b"b")
    lru.get(("v", "a"))
    lru.put(("v", "c"), b"c")
    assert lru.get(("v", "a")) == b"a" and lru.get(("v", "b")) is None


def test_new_version_drops_old():
    lru = LRU()
    lru.put(("v1", "a"), b"a")
    lru.put(("v2", "a"), b"A")
    assert lru.get(("v1", "a")) is None and lru.get(("v2", "a")) == b"A"


def test_get_or_make_calls_once():
    lru = LRU()
    calls = []
    for _ in range(3):
        assert lru.get_or_make(("v", 1), lambda: calls.append(1) or b"made") == b"made"
    assert calls == [1]
