"""`python -m bench.dask_scaling`: MLP inference over a 2**20-row dask array on 1..N workers.

The same compiled MLP (64-256-256-10, ReLU, softmax; float32) runs three ways:
- one process: `Session.run` on all rows at once, with 1 thread and with every core;
- `lowerflow.dask.map_batches` on a `LocalCluster(processes=True, threads_per_worker=1)`
  of 1, 2, ... workers (`--workers 1,2`), over a dask array of `--chunk` rows per chunk.
The rows are generated on the workers and kept there before timing (`persist`), and each
timed job computes `probs.sum()`, so the times are the workers' inference plus scheduling,
not moving 256 MiB of input or 40 MiB of output through the client. Compiling the
programs (on the client, once per chunk size) is reported apart. Medians of `--reps`.
A measurement script, not a test: on shared cores the numbers drift by tens of percent.
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import lowerflow as tf
import lowerflow.dask as lfd

SIZES = (64, 256, 256, 10)


def mlp(session_config=None):
    """The MLP graph with random weights, and a Session on it."""
    g = tf.Graph()
    rs = np.random.RandomState(0)
    with g.as_default():
        x = tf.placeholder(tf.float32, [None, SIZES[0]], name="x")
        h = x
        for i, (n_in, n_out) in enumerate(zip(SIZES, SIZES[1:])):
            w = tf.constant((rs.randn(n_in, n_out) / np.sqrt(n_in)).astype(np.float32), name=f"w{i}")
            h = tf.matmul(h, w)
            h = tf.nn.relu(h) if i < len(SIZES) - 2 else tf.nn.softmax(h, name="probs")
    return x, h, tf.Session(graph=g, config=session_config)


def median_seconds(fn, reps: int) -> float:
    fn()  # warm-up: loads the code
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def one_process(rows: int, reps: int) -> list[tuple[str, float]]:
    data = np.random.default_rng(0).standard_normal((rows, SIZES[0]), dtype=np.float32)
    out = []
    for threads, label in ((1, "one process, Session.run, 1 thread"), (0, "one process, Session.run, all cores")):
        x, probs, sess = mlp(tf.ConfigProto(intra_op_parallelism_threads=threads))
        out.append((label, median_seconds(lambda: sess.run(probs, {x: data}), reps)))
        sess.close()
    return out


def on_cluster(workers: int, rows: int, chunk: int, reps: int) -> tuple[float, float]:
    """(compile seconds, median job seconds) on a fresh cluster of `workers` workers."""
    import dask.array as da
    import distributed

    with distributed.LocalCluster(processes=True, n_workers=workers, threads_per_worker=1,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        data = da.random.default_rng(0).standard_normal((rows, SIZES[0]), chunks=(chunk, SIZES[0]),
                                                        dtype=np.float32).persist()
        distributed.wait(data)
        x, probs, sess = mlp()
        start = time.perf_counter()
        total = lfd.map_batches(probs, {x: data}, session=sess).sum()
        compile_s = time.perf_counter() - start
        job = median_seconds(lambda: client.compute(total).result(), reps)
        sess.close()
    return compile_s, job


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=2**20)
    p.add_argument("--chunk", type=int, default=2**16)
    p.add_argument("--workers", default="1,2")
    p.add_argument("--reps", type=int, default=5)
    args = p.parse_args()
    flops = 2 * args.rows * sum(a * b for a, b in zip(SIZES, SIZES[1:]))
    print(f"MLP {'-'.join(map(str, SIZES))}, {args.rows} rows, chunks of {args.chunk}; "
          f"medians of {args.reps}\n")
    print("| how | time | rows/s | GFLOP/s | vs one process, 1 thread |")
    print("|---|---:|---:|---:|---:|")
    base = None
    rows = one_process(args.rows, args.reps)
    for n in map(int, args.workers.split(",")):
        compile_s, seconds = on_cluster(n, args.rows, args.chunk, args.reps)
        rows.append((f"map_batches, {n} worker{'s' if n > 1 else ''} x 1 thread "
                     f"(compile {compile_s:.2f} s apart)", seconds))
    for label, seconds in rows:
        base = base or seconds
        print(f"| {label} | {seconds * 1e3:.0f} ms | {args.rows / seconds / 1e6:.2f} M | "
              f"{flops / seconds / 1e9:.1f} | {base / seconds:.2f}x |")


if __name__ == "__main__":
    main()
