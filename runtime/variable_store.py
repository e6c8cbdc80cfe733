"""A session's variable values and the locks that make each step's update atomic.

A step reads its variables' values, runs natively with the GIL released, and writes the
new values back. Without a lock two steps that update the same variable can both read the
old value and one update is lost. So every variable (and random op run counter) written
by some step has a lock, and a step holds the locks of everything it writes from its first
read to its commit. Locks are taken in one fixed order (the state op's creation order in
its graph), so steps never deadlock; a step that writes nothing takes no lock, and steps
that write disjoint sets never wait for each other. This is TF1's `use_locking=True` for
every update: lowerflow gives the default no weaker guarantee.

Values are never changed in place (a step's results are new arrays), so a snapshot is a
dict of references taken while holding the locks of what it covers.
cf. TF's `ResourceVariable` mutex and `VariableOp`'s `mutex_lock` in the C++ runtime.
"""
from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable, Mapping

import numpy as np

from lowerflow.frontend.graph import Operation


class VariableStore:
    """The values of a session's state ops, one lock per op; `values` is the live dict
    (reading one entry needs no lock: dict lookups are atomic)."""

    def __init__(self) -> None:
        self.values: dict[Operation, np.ndarray] = {}
        self._locks: dict[Operation, threading.Lock] = {}
        self._locks_lock = threading.Lock()

    def __contains__(self, var: Operation) -> bool:
        return var in self.values

    def get(self, var: Operation) -> np.ndarray | None:
        return self.values.get(var)

    def lock_set(self, writes: Iterable[Operation]):
        """A context manager holding the locks of `writes` (taken in the global order) for
        its body; None for no writes. One lock is its own context manager (the fast path
        of most steps: a C-level `with`)."""
        with self._locks_lock:
            locks = [self._locks.setdefault(v, threading.Lock()) for v in sorted(set(writes), key=_order)]
        if not locks:
            return None
        return locks[0] if len(locks) == 1 else _AllOf(locks)

    def commit(self, writes: list[Operation], new_values: Iterable[np.ndarray]) -> None:
        """Record a step's results; the caller holds `lock_set(writes)` since its reads."""
        self.values.update(zip(writes, new_values))

    def snapshot(self, variables: Iterable[Operation] | None = None) -> dict[Operation, np.ndarray]:
        """The current values of `variables` (default: all), as of one instant: no step
        writing any of them is half done. Uninitialised variables are absent."""
        variables = list(self.values) if variables is None else list(variables)
        with self.lock_set(variables) or contextlib.nullcontext():
            return {v: self.values[v] for v in variables if v in self.values}

    def restore(self, new_values: Mapping[Operation, np.ndarray]) -> None:
        """Replace the values of `new_values`' variables at once (a checkpoint restore)."""
        with self.lock_set(new_values) or contextlib.nullcontext():
            self.values.update(new_values)

    def clear(self) -> None:
        with self.lock_set(list(self.values)) or contextlib.nullcontext():
            self.values.clear()


def _order(op: Operation) -> int:
    """The global lock order: creation order in the (one) graph of a session."""
    return op._id


class _AllOf:
    """Several locks held together, acquired in the order given (`lock_set`'s)."""

    def __init__(self, locks: list[threading.Lock]):
        self._locks = locks

    def __enter__(self) -> None:
        taken = []
        try:
            for lock in self._locks:
                lock.acquire()
                taken.append(lock)
        except BaseException:  # e.g. KeyboardInterrupt while waiting: hold nothing
            for lock in reversed(taken):
                lock.release()
            raise

    def __exit__(self, *exc) -> None:
        for lock in reversed(self._locks):
            lock.release()
