"""Process-wide compiled executables by IR text: bounded, and compiled without blocking others.

Executables are pure functions of their arguments, so every session shares one per
(pipeline, threads, IR). Two properties matter for a long-running service:
- Bounded: at most `LOWERFLOW_JIT_CACHE_MAX` executables (default 256) are kept; the least
  recently used one is dropped beyond that. Each holds an MCJIT engine (~180 KB), and a new
  feed shape is a new executable, so an unbounded table grows without limit. Dropping one
  frees its engine only when nothing else references it: a session's plan holds its
  executable (and the executable its engine), so code that can still be called is never
  freed. Closing a session drops its plans.
- Not a global bottleneck: a compile holds only its own key's lock (a second thread wanting
  the same key waits for it and gets the same executable; threads wanting other keys,
  compiled or not, never wait for it).
cf. XLA's `CompilationCache` and TF's `XlaCompilationCache` (bounded, per-signature).
"""
from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

DEFAULT_MAX = 256

V = TypeVar("V")


def max_entries() -> int:
    """`$LOWERFLOW_JIT_CACHE_MAX` (default 256; at least 1; unreadable: the default)."""
    try:
        return max(1, int(os.environ.get("LOWERFLOW_JIT_CACHE_MAX", DEFAULT_MAX)))
    except ValueError:
        return DEFAULT_MAX


class SingleFlight:
    """Builds each key once at a time: callers of one key share a lock, other keys never wait."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._building: dict[Hashable, list] = {}  # key -> [lock, number of callers]

    def run(self, key: Hashable, lookup: Callable[[], V | None], build: Callable[[], V]) -> V:
        """`lookup()`, or else `build()` while holding `key`'s lock (looking up again first:
        another caller may have built it meanwhile)."""
        with self._lock:
            slot = self._building.setdefault(key, [threading.Lock(), 0])
            slot[1] += 1
        try:
            with slot[0]:
                value = lookup()
                return build() if value is None else value
        finally:
            with self._lock:
                slot[1] -= 1
                if not slot[1]:
                    del self._building[key]


class LRUCache(Generic[V]):
    """A thread-safe mapping of at most `capacity()` entries, least recently used dropped first."""

    def __init__(self, capacity: Callable[[], int] = max_entries) -> None:
        self._capacity = capacity
        self._items: OrderedDict[Hashable, V] = OrderedDict()
        self._lock = threading.Lock()
        self._flight = SingleFlight()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: Hashable) -> V | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: Hashable, value: V) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            limit = self._capacity()
            while len(self._items) > limit:
                self._items.popitem(last=False)

    def get_or_build(self, key: Hashable, build: Callable[[], V]) -> V:
        """The cached value of `key`, or `build()`'s (cached); concurrent builds of other
        keys proceed in parallel, concurrent builds of one key happen once."""
        value = self.get(key)
        if value is not None:
            return value

        def build_and_put() -> V:
            value = build()
            self.put(key, value)
            return value

        return self._flight.run(key, lambda: self.get(key), build_and_put)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
