"""Per-process modes of a warm training step: `python -m bench.modes [--procs 8] [--only train_logreg]`.

Why: a GEMM-bound step's time was bimodal from process to process (the logistic-regression
step about 64 or about 100 µs, same code). Each fresh process here times the step as the
harness does (samples of back-to-back runs, a `settle` pause before each) and records, beside
its time, what could pick its mode: how many parallel regions were judged not to pay
(`parallel._SERIAL_UNTIL` moving), how many runs started inside a serial window, and the fed
array's and the first variable's address modulo 4096. One line per process; compare the
lines of the fast and the slow processes.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

CHILD = "--child"


def _child(name: str, threads: int, samples: int, quick: bool = False) -> dict:
    import lowerflow as tf
    from bench.harness import settle
    from bench.workloads import BY_NAME
    from lowerflow.backend import parallel
    wl = BY_NAME[name]
    build, feeds = wl.graph(tf, **(wl.quick if quick else wl.full))
    with tf.Graph().as_default() as g:
        op = build()
        fd = {g.get_tensor_by_name(f"{k}:0"): v for k, v in feeds.items()}
        config = tf.ConfigProto(intra_op_parallelism_threads=threads) if threads else None
        sess = tf.Session(config=config)
        sess.run(tf.global_variables_initializer())
    for _ in range(50):
        sess.run(op, fd)
    until = parallel._SERIAL_UNTIL
    times, lost, serial, runs = [], 0, 0, 0
    for _ in range(samples):
        settle()
        last, t = until.value, time.perf_counter()
        for _ in range(200):
            sess.run(op, fd)
            serial += time.monotonic_ns() < until.value
            lost += until.value != last
            last = until.value
        times.append((time.perf_counter() - t) / 200 * 1e6)
        runs += 200
    first_var = next(iter(sess._store.values.values()))
    return {"us": statistics.median(times), "min_us": min(times), "backoffs": lost,
            "serial_runs": f"{serial}/{runs}", "x_mod4k": next(iter(feeds.values())).ctypes.data % 4096,
            "var_mod4k": first_var.ctypes.data % 4096}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--procs", type=int, default=8)
    ap.add_argument("--only", default="train_logreg")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--samples", type=int, default=9)
    ap.add_argument(CHILD, action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(_child(args.only, args.threads, args.samples)))
        return
    for _ in range(args.procs):
        cmd = [sys.executable, "-m", "bench.modes", CHILD, "--only", args.only,
               "--threads", str(args.threads), "--samples", str(args.samples)]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
        row = json.loads(out.strip().splitlines()[-1])
        print("  ".join(f"{k} {v:.1f}" if isinstance(v, float) else f"{k} {v}" for k, v in row.items()), flush=True)


if __name__ == "__main__":
    main()
