"""The one compile cache: executables in memory (bounded), then object code on disk, then a compile.

`CACHE.executable(func, ...)` is how every runtime path gets native code for an optimised IR
function (Session runs, `make_callable`, traced twins); `CACHE.get_or_build` holds other
loaded code by content hash (the Dask workers' AOT functions), under the same bound; and
`CACHE.aot_object` emits ahead-of-time objects through the same disk cache.

- Memory: at most `LOWERFLOW_JIT_CACHE_MAX` entries (`max_entries`, default 256), least
  recently used dropped first. The same number bounds what the runtime keeps per session
  (plans, warm runs), so one setting governs all code held in memory. Each JIT executable
  holds an MCJIT engine (~70 KB), and every new feed shape is a new executable.
- Disk: `cache.py` (object code keyed by the IR after the passes), so an executable dropped
  here, or compiled by another process, is loaded again (~2.5 ms) rather than compiled.
- Freed: dropping an entry drops the cache's reference; the engine (and the step's cached
  arena, `jit.JitModule.close`) is freed when nothing else references it: a plan holds its
  executable, so code that can still be called is never freed.
- Users: a Session registers as a user (`user()`); when the last one closes, the memory
  table is emptied (the code stays on disk) and the allocator is asked to give freed heap
  back to the system (`trim_heap_now_and_then`: glibc keeps it otherwise), so a process that
  closed every session holds no JIT code.
- Not a global bottleneck: a compile holds only its own key's lock (a second thread wanting
  the same key waits for it and gets the same executable; threads wanting other keys,
  compiled or not, never wait for it).
cf. XLA's `CompilationCache` and TF's `XlaCompilationCache` (bounded, per-signature), and
numba's in-memory dispatcher cache in front of its `cache=True` files.
"""
from __future__ import annotations

import ctypes
import functools
import gc
import os
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TypeVar

from lowerflow.backend import cache, jit
from lowerflow.backend.executable import Executable, bound_values, compile_function, key_text
from lowerflow.ir import Function

DEFAULT_MAX = 256
#: AOT objects emitted by LLVM, and read from the disk cache instead (tests read them).
AOT_STATS: dict[str, int] = {"emitted": 0, "cache_hits": 0}

V = TypeVar("V")


def max_entries() -> int:
    """`$LOWERFLOW_JIT_CACHE_MAX` (default 256; at least 1; unreadable: the default): the
    executables kept in memory, and the plans and warm runs a session keeps."""
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


class CompileCache:
    """Memory (an LRU of at most `capacity()` entries) -> disk -> compile; see the module docstring."""

    def __init__(self, capacity: Callable[[], int] = max_entries) -> None:
        self._capacity = capacity
        self._items: OrderedDict[Hashable, object] = OrderedDict()
        self._lock = threading.Lock()
        self._flight = SingleFlight()
        self._users = 0

    def __len__(self) -> int:
        return len(self._items)

    def keys(self) -> list[Hashable]:
        """The keys held, least recently used first (a snapshot)."""
        with self._lock:
            return list(self._items)

    def get(self, key: Hashable):
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: Hashable, value) -> None:
        evicted = []
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            limit = self._capacity()
            while len(self._items) > limit:
                evicted.append(self._items.popitem(last=False))
        evicted.clear()  # outside the lock: freeing engines runs their finalisers

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

    def executable(self, func: Function, *, threads: int = 1, trace: bool = False) -> Executable:
        """The executable of an optimised `func` (large kernels on `threads` threads; traced:
        also returning its kernel times), shared with every function that prints the same:
        from memory, else the disk cache, else compiled (`compile_function`). The table holds
        the code without `func`'s bound constants; the executable returned is bound to them."""
        printed = key_text(func)  # bound constants elided: the code is the same for every value
        bound = bound_values(func)

        def build() -> Executable:
            exe = compile_function(func, threads=threads, printed=printed, trace=trace)
            return exe.with_bound(None) if bound else exe  # the table keeps the code, not the constants
        exe = self.get_or_build(("jit", threads, trace, printed), build)
        return exe.with_bound(bound) if bound else exe

    def aot_object(self, llvm_ir: str, cpu: str) -> bytes:
        """The relocatable object of `llvm_ir` for `cpu` (`jit.emit_object`), from the disk
        cache when any process emitted it before (keyed by the text, the CPU and what every
        disk entry is keyed by); AOT objects are not kept in memory."""
        key = cache.cache_key("\n".join(["aot", cache.COMPILER_FINGERPRINT, cpu, llvm_ir]))
        entry = cache.load(key)
        if entry is not None:
            AOT_STATS["cache_hits"] += 1
            return entry.obj
        obj = jit.emit_object(llvm_ir, cpu)
        AOT_STATS["emitted"] += 1
        cache.store(key, cache.Entry(obj, []))
        return obj

    def clear(self) -> None:
        """Drop every entry (code still referenced elsewhere stays alive until it is not)."""
        with self._lock:
            items, self._items = self._items, OrderedDict()
        items.clear()  # outside the lock: freeing engines runs their finalisers

    def user(self) -> Callable[[], None]:
        """Register a user (a Session); the function returned unregisters it (once, however
        often it is called). When the last user goes, the table is emptied and freed heap is
        returned to the system."""
        with self._lock:
            self._users += 1
        done = []

        def release() -> None:
            with self._lock:
                if done:
                    return
                done.append(True)
                self._users -= 1
                last = not self._users
            if last:
                self.clear()
                trim_heap_now_and_then()
        return release


def trim_heap() -> bool:
    """Ask glibc to return freed heap to the system (`malloc_trim(0)`): freed engines leave
    their pages in the allocator otherwise. False where there is no glibc (nothing done)."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True


#: When the heap was last trimmed, how long that took, and `jit.JIT_STATS["freed"]` then.
_TRIMMED = {"at": float("-inf"), "took": 0.0, "freed": 0}
TRIM_SHARE = 0.01  # of the process's time at most, spent trimming


def trim_heap_now_and_then() -> bool:
    """`trim_heap`, if JIT modules were freed since the last trim and that last trim took at
    most `TRIM_SHARE` of the time since: `malloc_trim` walks the whole heap (~0.1 s with
    TensorFlow loaded), and a program that opens and closes sessions in a loop must not pay
    that at every close. A full garbage collection comes first: what the plans and
    executables held in reference cycles, long-lived and so in the oldest generation, is
    freed before the heap is trimmed."""
    start = time.monotonic()
    freed = jit.JIT_STATS["freed"]
    if freed == _TRIMMED["freed"] or (start - _TRIMMED["at"]) * TRIM_SHARE < _TRIMMED["took"]:
        return False
    gc.collect()
    done = trim_heap()
    _TRIMMED.update(at=start, took=time.monotonic() - start, freed=freed)
    return done


@functools.cache
def _malloc_trim():
    if not sys.platform.startswith("linux"):
        return None
    try:
        fn = ctypes.CDLL(None).malloc_trim
    except AttributeError:  # musl and other libcs have none
        return None
    fn.argtypes, fn.restype = [ctypes.c_size_t], ctypes.c_int
    return fn


#: The process's compile cache.
CACHE = CompileCache()
