"""Timing: every implementation of a workload is set up, then measured in alternation.

Why alternate: this 2-core VM drifts by up to ±20 % over seconds (measured), so
measuring A's repetitions and then B's would fold that drift into the ratio. Here each
repetition takes one sample of every implementation, in an order rotated per repetition,
and the reported number is the median over repetitions. A sample of a fast step runs it
k times back to back (k calibrated so one sample lasts about `target_s`), with the garbage
collector paused, and divides by k.

Failures are data, not crashes: an implementation that cannot set up, run, or agree with
numpy on a workload gets a reason, shown as "n/a (reason)" or flagged in the table.
"""
from __future__ import annotations

import contextlib
import gc
import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import count
from typing import Any

import numpy as np

from bench.peers import NotApplicable, Peer, Runner
from bench.worker import Worker, WorkerDied
from bench.workloads import Workload

FIRST_RUN_MAX_REPS = 5  # a 1000-op first run takes seconds per sample on each implementation
SETTLE_S = 0.01  # the shortest pause between samples
SETTLE_MAX_S = 0.5  # the longest wait for other threads to go idle


def settle() -> None:
    """Sleep until no other thread of this process burns CPU (or `SETTLE_MAX_S` passed):
    worker pools spin after their work, OpenBLAS's for ~50-100 ms and libgomp's (lowerflow's)
    briefly, and a pool spinning on one of the two cores during the next implementation's
    sample halves that sample's 2-thread speed (the MLP measured 3.0 ms 10 ms after numpy's
    sgemm, 1.1 ms 100 ms after). This thread sleeps, so the process's CPU time grows only
    while others run."""
    deadline = time.perf_counter() + SETTLE_MAX_S
    time.sleep(SETTLE_S)
    while time.perf_counter() < deadline:
        cpu = time.process_time()
        time.sleep(SETTLE_S)
        if time.process_time() - cpu < 0.1 * SETTLE_S:
            return


@dataclass
class Cell:
    """One implementation's result on one workload."""

    samples: list[float] = field(default_factory=list)  # seconds per iteration
    na: str | None = None        # why there is no number
    mismatch: str | None = None  # its output disagreed with numpy's

    @property
    def seconds(self) -> float | None:
        return statistics.median(self.samples) if self.samples and not self.na else None


@dataclass
class Row:
    name: str
    workload: Workload
    params: dict
    cells: dict[str, Cell]
    reference: Cell | None = None  # the sgemm reference sampled in this row's rotation


def _short(e: BaseException) -> str:
    if isinstance(e, WorkerDied):
        return str(e)
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0] if text else ''}"[:160]


def _timed(step: Callable[[], Any], k: int) -> float:
    enabled = gc.isenabled()
    gc.disable()
    try:
        start = time.perf_counter()
        for _ in range(k):
            step()
        return (time.perf_counter() - start) / k
    finally:
        if enabled:
            gc.enable()


def _calibrate(step: Callable[[], Any], target_s: float) -> int:
    """How many back-to-back steps make one sample of about `target_s`."""
    k = 1
    for _ in range(3):
        per = _timed(step, k)
        if per * k >= target_s / 2:
            break
        k = min(1 << 22, max(k + 1, int(target_s / max(per, 1e-9))))
    return k


def _mismatch(out: Any, want: Any) -> str | None:
    """float32 work done in another order (fused, FMA, polynomial tanh) differs in the last
    bits, so the tolerance is loose: it catches wrong results, not rounding."""
    if want is None or out is None:
        return None
    got, want = np.asarray(out, np.float64), np.asarray(want, np.float64)
    if got.shape != want.shape:
        return f"shape {got.shape} != numpy's {want.shape}"
    if not np.allclose(got, want, rtol=1e-3, atol=1e-4, equal_nan=True):
        return f"max abs diff {np.nanmax(np.abs(got - want)):.3g} from numpy"
    return None


class Salts:
    """Values no earlier graph of this run (or of another run, for a disk cache) has used;
    exact in float32 (integers / 1024 below 2^24)."""

    def __init__(self):
        self._base = random.SystemRandom().randrange(10_000) * 1000
        self._next = count(1)

    def __call__(self) -> float:
        return (self._base + next(self._next)) / 1024


REFERENCE = "sgemm reference"  # its sampler's name: no peer is called that


def run_workload(wl: Workload, params: dict, peers: list[Peer], reps: int, target_s: float,
                 salts: Salts, log: Callable[[str], None] = lambda s: None,
                 reference: Callable[[], Any] | None = None) -> Row:
    """Set up every peer on `wl`, check its output against numpy, then sample in alternation;
    `reference` (a step: the sgemm a GFLOP/s figure is put against) is sampled in the same
    rotation, so the row's share of it compares like with like (`Row.reference`)."""
    cells = {p.name: Cell() for p in peers}
    ref = Cell() if reference is not None else None
    samplers: dict[str, Callable[[], float]] = {}
    runners: list[Runner] = []
    want = None
    if wl.mode != "first_run" and not wl.carry:
        _, feeds = wl.graph(None, **params)
        want = wl.expr(np, *feeds.values(), *wl.variables(**params).values(), **params)
    for peer in peers:
        cell = cells[peer.name]
        cell.na = peer.unavailable() or wl.not_for.get(peer.name)
        if cell.na:
            continue
        try:
            if wl.mode == "first_run" and peer.isolate_first_run:
                worker = Worker(peer.name, wl.name, params, peer.threads)
                runner = Runner(first_run=worker.first_run, close=worker.close)
            else:
                runner = peer.prepare(wl, params)
            runners.append(runner)
            if runner.first_run is not None:
                fresh = runner.first_run
                fresh(salts())  # the first graph also pays one-off start-up costs (imports, LLVM init)
                samplers[peer.name] = lambda fresh=fresh: fresh(salts())
            else:
                step = runner.step
                cell.mismatch = _mismatch(step(), want)
                k = _calibrate(step, target_s)
                samplers[peer.name] = lambda step=step, k=k: _timed(step, k)
        except NotApplicable as e:
            cell.na = str(e)
        except Exception as e:  # noqa: BLE001  an op lowerflow lacks, a peer's quirk: report, go on
            cell.na = _short(e)
        log(f"  {wl.name}: {peer.name} {'n/a: ' + cell.na if cell.na else 'ready'}")

    if wl.mode == "first_run":
        reps = min(reps, FIRST_RUN_MAX_REPS)
    if ref is not None and samplers:
        reference()
        k_ref = _calibrate(reference, target_s)
        samplers[REFERENCE] = lambda: _timed(reference, k_ref)
    cells_and_ref = {**cells, REFERENCE: ref}
    names = list(samplers)
    for r in range(reps if names else 0):
        for name in names[r % len(names):] + names[:r % len(names)]:  # rotated: no fixed position
            if cells_and_ref[name].na:
                continue
            settle()
            try:
                cells_and_ref[name].samples.append(samplers[name]())
            except Exception as e:  # noqa: BLE001  as above: one implementation's failure is data
                cells_and_ref[name].na = _short(e)
    for runner in runners:
        with contextlib.suppress(Exception):  # a failing close must not lose the row
            runner.close()
    del samplers, runners
    gc.collect()
    return Row(wl.name, wl, params, cells, ref)


def run_fresh_process(wl: Workload, params: dict, reps: int, threads: int | None, salts: Salts) -> Row:
    """lowerflow's first run in a new Python process, for when a disk cache exists: one
    process compiles the graph (filling the cache), then each sample is a new process that
    builds the same graph and times Session creation + first run (imports not counted)."""
    salt, cell = salts(), Cell()
    try:
        for i in range(min(reps, FIRST_RUN_MAX_REPS) + 1):
            worker = Worker("lowerflow", wl.name, params, threads)
            try:
                seconds = worker.first_run(salt)
            finally:
                worker.close()
            if i:  # the first process only fills the cache
                cell.samples.append(seconds)
    except Exception as e:  # noqa: BLE001  a failed child is a result (n/a), not a crash
        cell.na = _short(e)
    return Row(f"{wl.name} (fresh process)", wl, params, {"lowerflow": cell})
