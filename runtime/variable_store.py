"""A session's state: variable values, random ops' run counters, and the locks that make
each step's update atomic.

A step reads its state, runs natively with the GIL released, and writes the new values
back. Without a lock two steps that update the same variable can both read the old value
and one update is lost. So every state op written by some step (a variable, or a random
op's run counter) has a lock in the session's `StateLocks`, and a step holds the locks of
everything it writes from its first read to its commit. Locks are taken in one fixed order
(the state op's creation order in its graph), so steps never deadlock; a step that writes
nothing takes no lock, and steps that write disjoint sets never wait for each other. This
is TF1's `use_locking=True` for every update: lowerflow gives the default no weaker
guarantee.

Two owners hold the values. `VariableStore` holds the variables' (read, commit, snapshot,
restore: what Session, Saver and ahead-of-time freezing use); `RunCounters` holds how many
times each random op has run in this session (so a seeded graph replays the same values in
every session), which no checkpoint or freeze ever sees. Values are never changed in
place (a step's results are new arrays), so a snapshot is a dict of references taken while
holding the locks of what it covers.

A compiled plan reads and commits through the owners' live dicts (`values`), resolved once
when the plan is made, so a warm run makes no method call for its state.
cf. TF's `ResourceVariable` mutex and `VariableOp`'s `mutex_lock` in the C++ runtime.
"""
from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable, Mapping

import numpy as np

from lowerflow.frontend.graph import Operation
from lowerflow.frontend.variables import VARIABLES_OP
from lowerflow.runtime import errors


class SessionState:
    """A session's state: its variables, its random ops' run counters, one lock table."""

    def __init__(self) -> None:
        self.locks = StateLocks()
        self.variables = VariableStore(self.locks)
        self.counters = RunCounters()

    def home(self, op: Operation) -> dict[Operation, np.ndarray]:
        """The live dict that holds state op `op`'s value (a variable's, or a run counter)."""
        return self.variables.values if op.type == VARIABLES_OP else self.counters.values

    def start(self, reads: Iterable[Operation]) -> None:
        """Start the run counters among a new plan's `reads` (variables need initialising)."""
        self.counters.start(op for op in reads if op.type != VARIABLES_OP)

    def clear(self) -> None:
        self.variables.clear()
        self.counters.clear()


class StateLocks:
    """One lock per state op of a session, handed out as ordered lock sets."""

    def __init__(self) -> None:
        self._locks: dict[Operation, threading.Lock] = {}
        self._guard = threading.Lock()

    def hold(self, ops: Iterable[Operation]):
        """A context manager holding the locks of `ops` (taken in the global order) for its
        body; None for no ops. One lock is its own context manager (the fast path of most
        steps: a C-level `with`)."""
        with self._guard:
            locks = [self._locks.setdefault(v, threading.Lock()) for v in sorted(set(ops), key=_order)]
        if not locks:
            return None
        return locks[0] if len(locks) == 1 else _AllOf(locks)

    def holding(self, ops: Iterable[Operation]):
        """`hold`, as a context manager also for no ops."""
        return self.hold(ops) or contextlib.nullcontext()


class VariableStore:
    """The values of a session's variables; `values` is the live dict that compiled plans
    read and commit to (one entry read needs no lock: dict lookups are atomic)."""

    def __init__(self, locks: StateLocks) -> None:
        self.values: dict[Operation, np.ndarray] = {}
        self.locks = locks

    def initialized(self, var: Operation) -> bool:
        return var in self.values

    def read(self, var: Operation) -> np.ndarray:
        """`var`'s value; FailedPreconditionError, as TF1's, when it is not initialised."""
        value = self.values.get(var)
        if value is None:
            raise errors.FailedPreconditionError(
                None, var, f"Attempting to use uninitialized value {var.name}\n\t [[{{{{node {var.name}}}}}]]")
        return value

    def commit(self, writes: list[Operation], new_values: Iterable[np.ndarray]) -> None:
        """Record a step's results; the caller holds `locks.hold(writes)` since its reads."""
        self.values.update(zip(writes, new_values))

    def snapshot(self, variables: Iterable[Operation] | None = None) -> dict[Operation, np.ndarray]:
        """The current values of `variables` (default: all), as of one instant: no step
        writing any of them is half done. Uninitialised variables are absent."""
        variables = list(self.values) if variables is None else list(variables)
        with self.locks.holding(variables):
            return {v: self.values[v] for v in variables if v in self.values}

    def read_all(self, variables: Iterable[Operation]) -> dict[Operation, np.ndarray]:
        """`snapshot(variables)`, where every variable must be initialised (a save, a freeze)."""
        variables = list(variables)
        values = self.snapshot(variables)
        for var in variables:
            if var not in values:
                self.read(var)  # raises
        return values

    def restore(self, new_values: Mapping[Operation, np.ndarray]) -> None:
        """Replace the values of `new_values`' variables at once (a checkpoint restore)."""
        with self.locks.holding(new_values):
            self.values.update(new_values)

    def clear(self) -> None:
        with self.locks.holding(list(self.values)):
            self.values.clear()


class RunCounters:
    """How many times each random op of a session has run: operand 0 of the op, the state
    that makes its n-th run draw the n-th values of its seeded stream. `values` is the live
    dict plans read and commit to; an op's counter starts when a plan that runs it is made,
    so a run never finds it missing."""

    START = np.zeros((), np.int64)  # every session replays each random op's values

    def __init__(self) -> None:
        self.values: dict[Operation, np.ndarray] = {}

    def start(self, ops: Iterable[Operation]) -> None:
        for op in ops:
            self.values.setdefault(op, self.START)

    def clear(self) -> None:
        self.values.clear()


def _order(op: Operation) -> int:
    """The global lock order: creation order in the (one) graph of a session."""
    return op._id


class _AllOf:
    """Several locks held together, acquired in the order given (`hold`'s)."""

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

    # A lock's names, for the warm path (`warm_run.state_entry`), which calls `acquire` and
    # `release` of one lock or of several alike (aliases: no call more).
    acquire = __enter__
    release = __exit__
