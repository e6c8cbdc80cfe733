"""`python -m bench.soak`: resident memory over many compiled signatures and many sessions.

Phase 1 runs `--signatures` (default 10,000) distinct run signatures (a new feed shape each,
so each is lowered and compiled) on one Session, then closes it. Phase 2 runs the same
signatures again on a new Session: the process-wide table dropped most of them, so each is
lowered again and its code loaded from the disk cache (a private temporary one), with no
LLVM optimisation. Phase 3 creates, runs and closes `--sessions` (default 10,000) Sessions
over one graph. RSS (from /proc/self/statm) is printed every tenth of each phase.

The bound: at most `LOWERFLOW_JIT_CACHE_MAX` executables (default 256) stay
alive in the process-wide table and at most as many plans in a session, so lowerflow's own
memory grows by about that many executables (~130 KB each: ~35 MB) and then stays flat;
phases 2 and 3 add almost nothing. LLVM keeps ~2 KB per first-time compile: the
PassBuilder's instrumentation callbacks, which llvmlite allocates and never frees. (It
used to be ~90 KB: llvmlite 0.50 never frees a ModulePassManager, and the global LLVM
context kept every module's constants; `backend/jit.py` frees the one and gives each
module a context of its own.) Documented bound: +300 MB over 10,000 compiles; measured
+35.6 MB at 2,000, about +50 MB expected at 10,000 (docs/performance.md, "Long-running
processes"). Closing the session does not lower RSS: the table keeps its 256 executables
for the next session, and freed heap stays with the allocator. Phase 1 takes ~20-40 ms
per signature on an idle machine (several minutes).
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


def report(label: str, start: float, t0: float) -> float:
    now = rss_mb()
    print(f"{label:>28}: RSS {now:8.1f} MB ({now - start:+7.1f} MB)  {time.perf_counter() - t0:7.1f} s", flush=True)
    return now


def many_signatures(n: int, start: float, t0: float) -> float:
    """n feed shapes of one graph: n lowerings and compiles."""
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [None])
        y = tf.tanh(x * 2.0 + 1.0)
        sess = tf.Session()
        for i in range(1, n + 1):
            out = sess.run(y, {x: np.ones(i, np.float32)})
            assert out.shape == (i,)
            if i % max(1, n // 10) == 0:
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
    many_signatures(1, rss_mb(), t0)  # warm: imports, LLVM initialised, first compile
    gc.collect()
    start = report("start", rss_mb(), t0)
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


if __name__ == "__main__":
    main()
