"""`python -m bench.starvation`: do busy Session threads starve the rest of the process?

Three measurements, each alone and then while `--runners` threads (default 4) run a tiny
compiled graph (`x * 2 + 1` on a fed scalar) in a loop on one Session, `--repeats` times
(alone and busy back to back; medians reported):
- an unrelated Python thread's loop rate (pure bytecode, no lowerflow): slowdown factor;
- a first run, i.e. lowering + passes + LLVM compile, of a new graph in another thread;
- the runners' own rate (runs per second, all threads together).
`--framework tensorflow` runs the same on `tensorflow.compat.v1`; `--compare` runs both,
alternating, one process each. The goal: the Python loop slows at most ~2x and
a compile is not stalled by the runners nor blocks them. This is a measurement script, not
a test: on 2 shared cores single ratios swing by 2x with the host's load.

What was found (2 shared cores, CPython 3.11; docs/performance.md, "Long-running
processes"): a compile no longer holds a lock that other signatures need (it held the
session's lock and the process-wide executable table's: `backend/compile_cache.py`).
The rest is the GIL. A tiny run is Python (feed conversion, plan lookup, outputs: 2-10 µs)
around a 0.1 µs native call, so four runner threads want the GIL all the time and the
unrelated thread gets what CPython's switching gives it (the fair share is 1/5: 5x).
Releasing the GIL around the native call (`backend/pyentry.py`) hands it over at every run
boundary; keeping it for short calls measured no better for the loop and made compiles
7-10x slower (every GIL-releasing llvmlite call waits a switch interval to get it back).
TF1 starves the loop less because its runs are ~20x slower and spend that time in C++
without the GIL (~2,000 runs/s against ~37,000 for lowerflow on the same 4 threads).
So short stateless runs of several threads now queue on one token (`runtime/warm_run.py`,
`SHORT_RUNS`) instead of on the GIL. On an Intel Xeon (2 cores, otherwise idle), 1.5 s loops
showed the loop 1.2-1.3x and the compile 1.8-2.0x slower, against 9.6x and 22x before;
`--compare` gave the loop 2.4-2.6x (TF1 2.9-3.4x) and the compile 2.0-2.5x (TF1 2.3-2.6x),
the runners making ~16x TF1's runs (docs/performance.md, "Session 24").
"""
from __future__ import annotations

import argparse
import importlib
import os
import statistics
import subprocess
import sys
import threading
import time

os.environ.setdefault("LOWERFLOW_CACHE_DIR", "off")  # a first run must really compile
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np  # noqa: E402

FRAMEWORKS = {"lowerflow": "lowerflow", "tensorflow": "tensorflow.compat.v1"}
tf = None  # the framework measured (`load`): lowerflow, or TensorFlow 1 as the reference


def load(framework: str) -> None:
    """Import the framework measured as `tf` (TF1 in graph mode for "tensorflow")."""
    global tf
    tf = importlib.import_module(FRAMEWORKS[framework])
    if framework == "tensorflow":
        tf.disable_eager_execution()


def python_loop_rate(seconds: float) -> float:
    """Iterations per second of a loop that never leaves the interpreter."""
    n, end = 0, time.perf_counter() + seconds
    while time.perf_counter() < end:
        sum(range(100))
        n += 1
    return n / seconds


def in_thread(fn, *args):
    """fn(*args) in a new thread; returns its result."""
    out = []
    t = threading.Thread(target=lambda: out.append(fn(*args)))
    t.start()
    t.join()
    return out[0]


_COMPILE_SERIAL = [0]


def first_run_seconds() -> float:
    """Time a new graph's first run (a compile: its constant differs every call)."""
    _COMPILE_SERIAL[0] += 1
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [8])
        y = tf.tanh(x * float(_COMPILE_SERIAL[0]) + 0.5) - x
        with tf.Session() as sess:
            start = time.perf_counter()
            sess.run(y, {x: np.ones(8, np.float32)})
            return time.perf_counter() - start


class Runners:
    """`n` threads running a tiny graph on one Session until stopped; counts runs."""

    def __init__(self, n: int):
        g = tf.Graph()
        with g.as_default():
            self._x = tf.placeholder(tf.float32, [])
            self._y = self._x * 2.0 + 1.0
        self._sess = tf.Session(graph=g)
        self._sess.run(self._y, {self._x: np.float32(1)})  # compiled before timing
        self._stop = threading.Event()
        self.runs = [0] * n
        self._threads = [threading.Thread(target=self._loop, args=(i,)) for i in range(n)]

    def _loop(self, i: int) -> None:
        run, y, feed = self._sess.run, self._y, {self._x: np.float32(3)}
        while not self._stop.is_set():
            run(y, feed)
            self.runs[i] += 1

    def __enter__(self) -> "Runners":
        self.start = time.perf_counter()
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        for t in self._threads:
            t.join()
        self.seconds = time.perf_counter() - self.start
        self._sess.close()


def compare(args: argparse.Namespace) -> None:
    """Each framework in a process of its own, alternating for `--rounds` rounds (the host
    drifts: ratios from adjacent runs are the comparable part)."""
    for r in range(args.rounds):
        for framework in FRAMEWORKS:
            cmd = [sys.executable, "-m", "bench.starvation", "--framework", framework,
                   "--runners", str(args.runners), "--seconds", str(args.seconds),
                   "--repeats", str(args.repeats)]
            print(f"-- round {r + 1}: {framework}", flush=True)
            subprocess.run(cmd, check=True)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.starvation", description=__doc__.split("\n")[0])
    p.add_argument("--runners", type=int, default=4, help="threads running the tiny graph")
    p.add_argument("--seconds", type=float, default=2.0, help="length of each loop measurement")
    p.add_argument("--framework", choices=sorted(FRAMEWORKS), default="lowerflow",
                   help="what runs the graphs: lowerflow, or tensorflow.compat.v1 as the reference")
    p.add_argument("--repeats", type=int, default=3, help="alone/busy measurement pairs (median reported)")
    p.add_argument("--compare", action="store_true", help="both frameworks, alternating, one process each")
    p.add_argument("--rounds", type=int, default=2, help="rounds of --compare")
    args = p.parse_args(argv)
    if args.compare:
        return compare(args)
    load(args.framework)
    first_run_seconds()  # warm the frontend, passes and LLVM once
    loops, compiles, rates = [], [], []
    for _ in range(args.repeats):  # alone and busy back to back: the host drifts between repeats
        loop_alone = in_thread(python_loop_rate, args.seconds)
        compile_alone = min(in_thread(first_run_seconds) for _ in range(3))
        with Runners(args.runners) as runners:
            time.sleep(0.2)
            loop_busy = in_thread(python_loop_rate, args.seconds)
            compile_busy = min(in_thread(first_run_seconds) for _ in range(3))
        rates.append(sum(runners.runs) / runners.seconds)
        loops.append(loop_alone / loop_busy)
        compiles.append(compile_busy / compile_alone)
        print(f"  loop {loop_alone:,.0f}/s alone, {loop_busy:,.0f}/s busy; compile {compile_alone * 1e3:.1f} ms "
              f"alone, {compile_busy * 1e3:.1f} ms busy", flush=True)
    print(f"{args.runners} runner threads: {statistics.median(rates):,.0f} runs/s together (median)")
    print(f"unrelated Python loop: {statistics.median(loops):.2f}x slower beside them "
          f"(median; each repeat: {', '.join(f'{r:.2f}' for r in loops)})")
    print(f"first run (compile) in a thread: {statistics.median(compiles):.2f}x slower beside them "
          f"(median; each repeat: {', '.join(f'{r:.2f}' for r in compiles)})")

if __name__ == "__main__":
    main()
