"""`python -m bench.soak`: resident memory over many compiled signatures and many sessions.

Phase 1 runs `--signatures` (default 10,000) distinct run signatures (a new feed shape each,
so each is lowered and compiled) on one Session, then closes it. Phase 2 runs the same
signatures again on a new Session: closing the first emptied the in-memory table, so each is
lowered again and its code loaded from the disk cache (a private temporary one), with no
LLVM optimisation. Phase 3 creates, runs and closes `--sessions` (default 10,000) Sessions
over one graph. RSS (from /proc/self/statm) is printed every tenth of each phase.

The bounds: the backend's compile cache (`backend/compile_cache.py`) keeps at most
`LOWERFLOW_JIT_CACHE_MAX` executables (default 256) in memory, and a session at most as many
plans and warm runs, so memory grows by about that many executables (~70 KB each) and then
stays flat: documented bound +300 MB over 10,000 compiles. Closing the last session empties
the table (the code stays on disk) and trims the heap (`malloc_trim`), so RSS returns close
to the start: the goal is within 10%. A compile itself leaves no LLVM memory behind
(`backend/pass_builder.py` frees the PassInstrumentationCallbacks llvmlite 0.50 allocated
for every PassBuilder and never deleted: ~1.5 KB a compile, ~3.5 KB of trimmed RSS with the
pages it pinned). What stays after the close is allocator fragmentation, one-time and set by the peak: Python's
arenas (1 MiB each, freed only when empty) and glibc heap pages that a few surviving objects
pin (malloc's bytes in use end where they started, +0.3 MB; measured with `mallinfo2`,
`sys._debugmallocstats` and /proc/self/smaps over 300 and 1,500 compiles: the same residue).
So what an entry holds was cut: a plan no longer keeps its step's lowered IR,
an executable keeps its LLVM source zlib-compressed (in the disk entry too: a cache hit kept
the SSA IR alive to build it again, in reference cycles, and phase 2 kept growing past the
table's bound) and derives the optimised text again when asked (~30 KB of strings each
before), the garbage of making a plan is collected while young (it aged into the oldest
generation and grew +4 arenas), and ctypes table types are made once per length. 300
compiles, start after one signature: +12.6 MB after the close before (arenas +8 MB, heap
+4.5 MB, LLVM's code +2.9 MB), +7.2 MB after; with this warm-up's start (LLVM's code paged
in), +4.4 MB. 1,000 signatures and 1,000 sessions: every session closed +4.1-4.3% (phase 2
+0.1 MB; +6.2-9.1% while hits kept the IR), peak +21 MB (+42 MB before).
Phase 1 takes ~20-50 ms per signature on idle
cores (~0.45 s on loaded ones).
"""
from __future__ import annotations

import argparse
import gc
import os
import resource
import shutil
import tempfile
import time

_CACHE = tempfile.mkdtemp(prefix="lowerflow-soak-cache-")
os.environ["LOWERFLOW_CACHE_DIR"] = _CACHE  # private: phase 1 fills it, phase 2 reads it
import numpy as np  # noqa: E402

import lowerflow as tf  # noqa: E402

_PAGE = resource.getpagesize()


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * _PAGE / 2**20


_PEAK = [0.0]  # the highest RSS reported


def report(label: str, start: float, t0: float) -> float:
    now = rss_mb()
    _PEAK[0] = max(_PEAK[0], now)
    print(f"{label:>28}: RSS {now:8.1f} MB ({now - start:+7.1f} MB)  {time.perf_counter() - t0:7.1f} s", flush=True)
    return now


def anon_mb() -> float:
    """The anonymous part of RSS (heap, allocator arenas, JIT code): what the process
    allocated, without the file-backed pages of the libraries' code."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) / 1024
    return float("nan")


#: Feed sizes compiled before the start is measured: LLVM's code paths that longer loops take
#: (the vectoriser's) page in ~2.7 MB of libllvmlite.so's code the first time, file-backed
#: pages that no later compile adds to.
WARM_SIZES = (1, 7, 64, 1000, 100_000)


def many_signatures(n: int, start: float, t0: float, sizes=None) -> float:
    """n feed shapes of one graph (or those of `sizes`): n lowerings and compiles."""
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [None])
        y = tf.tanh(x * 2.0 + 1.0)
        sess = tf.Session()
        for i in sizes or range(1, n + 1):
            out = sess.run(y, {x: np.ones(i, np.float32)})
            assert out.shape == (i,)
            if sizes is None and i % max(1, n // 10) == 0:
                report(f"{i} signatures", start, t0)
        end = rss_mb()
        sess.close()
    return end


def many_sessions(n: int, start: float, t0: float) -> None:
    g = tf.Graph()
    with g.as_default():
        v = tf.Variable(np.arange(64, dtype=np.float32))
        y = tf.reduce_sum(v * 3.0)
        init = tf.global_variables_initializer()
    for i in range(1, n + 1):
        with tf.Session(graph=g) as sess:
            sess.run(init)
            assert sess.run(y) == 3 * 63 * 64 / 2
        if i % max(1, n // 10) == 0:
            report(f"{i} sessions", start, t0)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__.split("\n")[0])
    p.add_argument("--signatures", type=int, default=10_000)
    p.add_argument("--sessions", type=int, default=10_000)
    args = p.parse_args(argv)
    t0 = time.perf_counter()
    many_signatures(0, rss_mb(), t0, WARM_SIZES)  # warm: imports, LLVM initialised and paged in
    gc.collect()
    start, start_anon = report("start", rss_mb(), t0), anon_mb()
    try:
        end1 = many_signatures(args.signatures, start, t0)
        gc.collect()
        closed1 = report("phase 1 session closed", start, t0)
        end2 = many_signatures(args.signatures, start, t0)
        gc.collect()
        closed2 = report("phase 2 session closed", start, t0)
        many_sessions(args.sessions, start, t0)
        gc.collect()
        final = report("phase 3 sessions closed", start, t0)
    finally:
        shutil.rmtree(_CACHE, ignore_errors=True)
    print(f"phase 1 (compiles): {end1 - start:+.1f} MB, {closed1 - start:+.1f} MB after close")
    print(f"phase 2 (cached):   {end2 - closed1:+.1f} MB more, {closed2 - closed1:+.1f} MB after close")
    print(f"phase 3 (sessions): {final - closed2:+.1f} MB more")
    print(f"start {start:.1f} MB, peak {_PEAK[0]:.1f} MB ({_PEAK[0] - start:+.1f}), every session closed "
          f"{final:.1f} MB ({100 * (final - start) / start:+.1f}% of the start; goal: within 10%); "
          f"anonymous RSS {start_anon:.1f} -> {anon_mb():.1f} MB")


if __name__ == "__main__":
    main()
