"""The warm path of `Session.run` and of `make_callable`: per (fetch structure, feed keys),
everything but the feed values is worked out once.

A cold run resolves names, converts and checks every feed, sorts the feeds into step order,
builds the run signature and looks its plan up (`session.py`). All of that depends only on
the fetch structure and the feed keys, except the feed values' dtypes and shapes. So a
`WarmRun` remembers, for one (fetch structure, feed keys): the fetch mapper's `build`, each
feed's tensor and numpy dtype, the permutation into step order, and the plan of every feed
shape combination seen so far. A warm call then only checks that each value is a C-contiguous
ndarray of the right dtype (a 0-d feed may be a Python float, a one-digit int, a bool or a
numpy scalar, converted natively; anything else goes through the session's full conversion
and its TF1 errors), looks the plan up by the values' shapes (a shape seen before was
checked against the tensor's static shape when it was first fed) and calls it. Unknown shapes return `MISS` and the caller takes the cold path, which checks them,
compiles if needed and remembers the plan here.

Only fetch structures whose equality means "same structure" are keyed: a graph element or
name, or a flat list or tuple of them (a namedtuple equals the plain tuple of its fields, so
the exact container type is checked on every hit). cf. TF1's `session.make_callable`, which
precomputes the same things for one feed list.

Short runs queue. A run of a tiny step is ~1 µs of Python around a ~0.1 µs native call, so
threads running such steps in a loop want the GIL all the time, and every other thread of
the process gets what CPython's switching leaves it: beside 4 such threads an unrelated
Python loop ran ~3-10x slower and a compile (many GIL hand-overs) ~5-9x. So a warm run whose
plan ran in under `SHORT_NS` (timed once, `timed_call`) holds one process-wide token,
`SHORT_RUNS`, for its whole length: threads waiting for it sleep without the GIL, and at
most one of them competes with the rest of the process. Short runs then run one at a time
(their native parts too: a few µs at most), while longer ones, whose native calls release
the GIL for long stretches anyway, never take it.
"""
from __future__ import annotations

import threading
import time
from threading import get_ident
from collections.abc import Callable
from typing import Any

import numpy as np

from lowerflow.backend import NATIVE_STATS
from lowerflow.backend.errors import ARGUMENT_MISMATCH
from lowerflow.backend.pyentry import takes_scalar
from lowerflow.runtime import errors

MISS = object()  # a warm call that needs the cold path (feed shapes not seen yet)
_CONTAINERS = (list, tuple, dict)
SHORT_NS = 20_000  # a run at most this long (Python and native, warm) queues on SHORT_RUNS
SHORT_RUNS = threading.Lock()
_acquire_short, _release_short = SHORT_RUNS.acquire, SHORT_RUNS.release
ALONE_RUNS = 4096  # short runs of one thread in a row after which it stops queueing
# The thread of the last short run and the queued runs still due. Threads race on them
# harmlessly: they only decide whether a run queues, never what it computes.
_last_thread, _queue_left = 0, 0


def timed_call(plan, sess, feeds: list) -> list:
    """`plan.call(sess, feeds)`, remembering in `plan.short` whether it writes no state and
    has once taken under `SHORT_NS` (its runs then queue: `queued`): one slow run (a thread's
    first, a preempted one) does not make a tiny step long. A writer waits for its variables'
    locks, which a queued run would do holding `SHORT_RUNS`; and writers of one variable
    already wait for each other without the GIL."""
    start = time.perf_counter_ns()
    out = plan.call(sess, feeds)
    plan.short = plan.short or (not plan.writes and time.perf_counter_ns() - start < SHORT_NS)
    return out


def queued(warm, sess, values) -> Any:
    """`warm(sess, values)`; holding `SHORT_RUNS` when `warm`'s plan is short (module
    docstring: the GIL is left to the rest of the process) and another thread ran short runs
    within the last `ALONE_RUNS`: a thread alone does not pay for the lock (~0.2 µs)."""
    global _last_thread, _queue_left
    if not warm.short:
        return warm(sess, values)
    me = get_ident()
    if me != _last_thread:  # a first short run of the process has no one to queue behind
        _last_thread, _queue_left = me, ALONE_RUNS if _last_thread else 0
    elif _queue_left:
        _queue_left -= 1
    else:
        return warm(sess, values)
    _acquire_short()
    try:
        return warm(sess, values)
    finally:
        _release_short()


def fetch_key(fetches) -> Any:
    """What a warm run is keyed by (the exact container type is checked apart); raises
    TypeError for unhashable structures (nested lists, dicts: they take the cold path)."""
    return tuple(fetches) if type(fetches) is list else fetches


def cacheable(fetches) -> bool:
    """Whether equal keys of `fetches` always mean the same structure: a leaf, or a plain
    list or tuple of leaves."""
    if type(fetches) in (list, tuple):
        return not any(isinstance(f, _CONTAINERS) for f in fetches)
    return not isinstance(fetches, _CONTAINERS)


class ArgumentMismatchError(errors.InvalidArgumentError):
    """The native entry refused a value passed unchecked (`pyentry.py`): a warm call then
    checks and converts the values in Python and tries again."""


def pure_entry(plan) -> Callable[[list], Any] | None:
    """For a plan of a step without state or prints whose outputs are the fetched values as
    they are (`_Plan.direct`), its allocating native entry (`Executable.allocating_entry`):
    a warm call then is that one builtin call. None for other plans (they go through
    `_Plan.call`, as does every plan that is not `_Plan.bare`)."""
    if plan.reads or plan.writes or not plan.bare or not plan.direct:
        return None
    return plan.exe.allocating_entry(plan.shown)


def _pure_call(sess, plan, entry, feeds: list) -> list | None:
    """The outputs of `entry` (`pure_entry(plan)`) on `feeds`; None when it refused them
    (`ARGUMENT_MISMATCH`). A step that failed is run again by its plan, which raises its
    TF1 error (a pure step fails the same way twice), as does a failed allocation.
    `WarmRun.__call__` inlines this."""
    try:
        outs = entry(feeds)
    except MemoryError:
        outs = None
    if type(outs) is list:
        NATIVE_STATS["calls"] += 1
        return outs
    return None if outs == ARGUMENT_MISMATCH else plan.call(sess, feeds)


def state_entry(plan) -> tuple | None:
    """For a plan of a step that reads state ops of one owner and writes state ops of one
    owner (a variable counter, a training step, a random op's run counter) and prints
    nothing: what `_state_call` needs, resolved once: (the native entry, `status_entry`; the
    written ops' locks' `acquire` and `release`; the dict read, the op read or a tuple of
    them; the dict written, the op written or a tuple of them; the first written value's
    index; `plan.finish`, or None when the outputs are the values). None for other plans."""
    if not plan.reads or not plan.writes or plan.read_from is None or plan.write_into is None or not plan.bare:
        return None
    entry = plan.exe.status_entry(plan.shown)
    if entry is None:
        return None
    read = plan.read_one if plan.read_one is not None else tuple(plan.reads)
    write = plan.write_one if plan.write_one is not None else tuple(plan.writes)
    return (entry, plan.locks.acquire, plan.locks.release, plan.read_from, read,
            plan.write_into, write, plan.n_fetches, None if plan.direct else plan.finish)


def _state_call(sess, plan, state: tuple, feeds: list) -> list | None:
    """`plan.call(sess, feeds)` through its `state_entry`: under the written ops' locks, the
    entry on the feeds and the values read, and the written values committed only when the
    step succeeded; None when the entry refused the feeds (`ARGUMENT_MISMATCH`). An
    uninitialised variable or a failed allocation is `plan.call`'s to report.
    `WarmStatic.__call__` inlines this."""
    entry, acquire, release, source, read, home, write, at, finish = state
    acquire()  # not `with lock`: its `__exit__` call would be a third of the run
    try:
        try:
            outs = entry(feeds + ([source[r] for r in read] if type(read) is tuple else [source[read]]))
        except (KeyError, MemoryError, ValueError):
            outs = None
        if type(outs) is list:
            if type(write) is tuple:
                home.update(zip(write, outs[at:]))
            else:
                home[write] = outs[at]
    finally:
        release()
    if type(outs) is list:
        NATIVE_STATS["calls"] += 1
        return outs if finish is None else finish(outs, sess)
    if outs is None:
        return plan.call(sess, feeds)
    if outs == ARGUMENT_MISMATCH:
        return None
    NATIVE_STATS["calls"] += 1
    raise plan.error(outs)


class WarmRun:
    """One (fetch structure, feed keys): `__call__(sess, values)` runs on feed values given in
    the keys' order, or returns `MISS`. `build` None: the fetch is one tensor or operation,
    whose value is the plan's first."""

    __slots__ = ("build", "kind", "last", "limit", "order", "plans", "pure", "short", "single", "state", "tensors")

    def __init__(self, kind: type, build: Callable[[list], Any], tensors: list, order: list[int], limit: int):
        self.kind = kind  # the exact fetch container type (namedtuples equal tuples)
        self.build = build
        self.tensors = tensors
        self.order = None if order == sorted(order) else order  # key order -> step order
        self.plans: dict = {}  # feed shapes (one feed: its shape) -> _Plan
        self.single = len(tensors) == 1
        self.limit = limit
        self.last = None  # the plan to pass values to unchecked; None: check them first
        self.pure = None  # (`last`'s pure entry, `last`) if it has one: read as one pair
        self.state = None  # (`last`, its `state_entry`) if it has one
        self.short = False  # the plan last run is short: calls queue (`queued`)

    def add(self, arrays: list[np.ndarray], plan) -> None:
        """Remember `plan` for the shapes of `arrays` (checked feeds, in key order); at the
        bound (the compile cache's, `compile_cache.max_entries`) the others are forgotten
        first, so the plan just made is always found."""
        if len(self.plans) >= self.limit:
            self.plans.clear()
        self.plans[self._shapes(arrays)] = plan
        self.short = plan.short

    def _shapes(self, arrays: list[np.ndarray]):
        return arrays[0].shape if self.single else tuple([a.shape for a in arrays])

    def __call__(self, sess, values: list | dict) -> Any:
        """The result of running on `values` (in the keys' order; or the feed dict itself):
        first passed as they are to the plan last used, whose native entry checks them
        (`Executable.checks_arguments`); if it refuses them, checked and converted here, and
        run by the plan of their shapes (`MISS`: none yet)."""
        pure = self.pure
        if pure is not None:  # `_pure_call`, inlined: this is the whole of a tiny run
            entry, plan = pure
            if self.order is not None:  # the entry takes a dict's values in the dict's order
                values = list(values.values()) if type(values) is dict else values
                feeds = [values[i] for i in self.order]
            else:
                feeds = values
            try:
                out = entry(feeds)
            except MemoryError:
                out = None
            if type(out) is list:
                NATIVE_STATS["calls"] += 1
                return out[0] if self.build is None else self.build(out)
            if out != ARGUMENT_MISMATCH:
                feeds = list(feeds.values()) if type(feeds) is dict else feeds
                out = plan.call(sess, feeds)
                return out[0] if self.build is None else self.build(out)
        elif self.state is not None:
            values = list(values.values()) if type(values) is dict else values
            plan, state = self.state
            out = _state_call(sess, plan, state, values if self.order is None else [values[i] for i in self.order])
            if out is not None:
                return out[0] if self.build is None else self.build(out)
        elif self.last is not None:
            values = list(values.values()) if type(values) is dict else values
            try:
                out = self.last.call(sess, values if self.order is None else [values[i] for i in self.order])
                return out[0] if self.build is None else self.build(out)
            except ArgumentMismatchError:
                pass
        return self._checked(sess, list(values.values()) if type(values) is dict else values)

    def _checked(self, sess, values: list) -> Any:
        given = list(values)
        for i, v in enumerate(values):
            values[i] = sess._feed_value(self.tensors[i], v)  # TF1's errors for bad values
        plan = self.plans.get(self._shapes(values))
        if plan is None:
            return MISS
        # Values that needed no conversion (a new shape, say), or none the native entry does
        # not do itself (a scalar it takes), pass unchecked next time; others (ints of more
        # than one digit, lists) are checked first.
        converted = any(v is not g and not takes_scalar(type(g), v.dtype, v.shape) for v, g in zip(values, given))
        self.last = None if converted or not plan.exe.checks_arguments else plan
        entry = None if self.last is None else pure_entry(plan)
        self.pure = None if entry is None else (entry, plan)
        state = None if self.last is None or entry is not None else state_entry(plan)
        self.state = None if state is None else (plan, state)
        out = timed_call(plan, sess, values if self.order is None else [values[i] for i in self.order])
        self.short = plan.short
        return out[0] if self.build is None else self.build(out)


class WarmStatic:
    """A fetch structure run without feeds: its one plan, called (a pure step through its
    entry, a step of state ops through its `state_entry`)."""

    __slots__ = ("build", "entry", "kind", "plan", "short", "state")

    def __init__(self, kind: type, build: Callable[[list], Any], plan):
        self.kind, self.build, self.plan = kind, build, plan
        self.short = plan.short  # timed by the run that made it (`timed_call`)
        self.entry = pure_entry(plan)
        state = None if self.entry is not None else state_entry(plan)
        # `run(train_op)`: nothing to build, the value is None
        self.state = None if state is None else (state, build is None and plan.fetches_op)

    def __call__(self, sess, values: None) -> Any:
        if self.state is not None:  # `_state_call`, inlined: the whole of a counter step
            (entry, acquire, release, source, read, home, write, at, finish), none = self.state
            acquire()
            try:
                try:
                    outs = entry([source[r] for r in read] if type(read) is tuple else [source[read]])
                except (KeyError, MemoryError, ValueError):
                    outs = None
                if type(outs) is list:
                    if type(write) is tuple:
                        home.update(zip(write, outs[at:]))
                    else:
                        home[write] = outs[at]
            finally:
                release()
            if type(outs) is list:
                NATIVE_STATS["calls"] += 1
                if none:
                    return None
                out = outs if finish is None else finish(outs, sess)
            elif outs is None or outs == ARGUMENT_MISMATCH:
                out = self.plan.call(sess, [])  # its TF1 error, or the value
            else:
                NATIVE_STATS["calls"] += 1
                raise self.plan.error(outs)
        else:
            out = None if self.entry is None else _pure_call(sess, self.plan, self.entry, [])
            if out is None:
                out = self.plan.call(sess, [])
        return out[0] if self.build is None else self.build(out)
