"""`python -m bench.starvation`: do busy Session threads starve the rest of the process?

Three measurements, each alone and then while `--runners` threads (default 4) run a tiny
compiled graph (`x * 2 + 1` on a fed scalar) in a loop on one Session:
- an unrelated Python thread's loop rate (pure bytecode, no lowerflow): slowdown factor;
- a first run, i.e. lowering + passes + LLVM compile, of a new graph in another thread;
- the runners' own rate (runs per second, all threads together).
The goal (issue 12): the Python loop slows at most ~2x and a compile is not stalled by
the runners nor blocks them. This is a measurement script, not a test: timings depend on
the machine and its load (on 2 shared cores they vary by tens of percent).

What was found (2 shared cores, CPython 3.11): a compile no longer holds a lock that other
signatures need (it held the session's lock and the process-wide executable table's, so a
first run elsewhere waited for it: `runtime/executable_cache.py`). The rest is the GIL: a
tiny run is ~1.5 µs of Python around a 0.1 µs native call, so runners want the GIL nearly
all the time. Releasing it around the native call (`backend/pyentry.py`) measured better
than keeping it: kept, runners become CPU-bound threads and every GIL-releasing llvmlite
call of a compile waits a full switch interval to get it back (compile 8-30x slower, loop
4.6-5.8x: the fair 1/5 share); released, the loop measured 2.8-3.4x and the compile
2.7-4.6x (TF1 in the issue: 1.5x and 4.3x, its runs spend most of their time in C++).
"""
from __future__ import annotations

import argparse
import os
import threading
import time

os.environ.setdefault("LOWERFLOW_CACHE_DIR", "off")  # a first run must really compile
import numpy as np  # noqa: E402

import lowerflow as tf  # noqa: E402


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


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.starvation", description=__doc__.split("\n")[0])
    p.add_argument("--runners", type=int, default=4, help="threads running the tiny graph")
    p.add_argument("--seconds", type=float, default=2.0, help="length of each loop measurement")
    args = p.parse_args(argv)
    first_run_seconds()  # warm the frontend, passes and LLVM once
    loop_alone = in_thread(python_loop_rate, args.seconds)
    compile_alone = min(in_thread(first_run_seconds) for _ in range(3))
    with Runners(args.runners) as runners:
        time.sleep(0.2)
        loop_busy = in_thread(python_loop_rate, args.seconds)
        compile_busy = min(in_thread(first_run_seconds) for _ in range(3))
    rate = sum(runners.runs) / runners.seconds
    print(f"{args.runners} runner threads: {rate:,.0f} runs/s together")
    print(f"unrelated Python loop: {loop_alone:,.0f}/s alone, {loop_busy:,.0f}/s beside them: "
          f"{loop_alone / loop_busy:.2f}x slower")
    print(f"first run (compile) in a thread: {compile_alone * 1e3:.1f} ms alone, {compile_busy * 1e3:.1f} ms "
          f"beside them: {compile_busy / compile_alone:.2f}x slower")


if __name__ == "__main__":
    main()
