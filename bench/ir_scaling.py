"""How the IR tooling scales with graph size: a TF1 graph of 1,000, 3,000 and 10,000 ops is
built with the frontend and lowered to IR (`lowerflow.to_ir`), then random elementwise IR
graphs of the same sizes go through building (`lowerflow.ir.build`), the default pass
pipeline (each pass, and the verifier between passes) and printing. A benchmark, not a test:

    python bench/ir_scaling.py [--sizes 1000,3000,10000] [--seed 0] [--repeat 3]

It prints seconds per phase and size (best of --repeat runs) and µs per op; about-constant
µs per op across sizes is about-linear growth (cf. Grappler's per-optimizer timing logs).
tests/passes/test_large_graph.py runs the 10,000-op graph through the pipeline for results.
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from lowerflow.ir import Function, build, print_module, tensor
from lowerflow.ir.core import Module
from lowerflow.ir.types import F32
from lowerflow.passes import DEFAULT_PIPELINE, PassManager

UNARY = ("lf.neg", "lf.exp", "lf.tanh", "lf.abs", "lf.sigmoid", "lf.square", "lf.identity")
BINARY = ("lf.add", "lf.sub", "lf.mul", "lf.max", "lf.min")


def random_graph(n_ops: int, seed: int = 0) -> Function:
    """`n_ops` elementwise ops on (8, 64) and broadcast (64,) values, returning every value
    nobody uses. Some ops repeat earlier ones (work for cse) and some constants are ones
    (work for canonicalize); operands favour recent values, so chains form (work for fuse)."""
    rng = np.random.default_rng(seed)
    func = Function("step", [tensor((8, 64), F32), tensor((64,), F32)], ["x:0", "bias:0"])
    values = list(func.args)

    def pick():
        if rng.random() < 0.8:
            return values[max(0, len(values) - int(rng.geometric(0.3)))]
        return values[rng.integers(len(values))]

    while len(func.ops) < n_ops:
        r = rng.random()
        if r < 0.04:
            value = np.ones(64, np.float32) if rng.random() < 0.5 else rng.normal(size=64).astype(np.float32)
            op = build(func.body, "lf.constant", [], {"value": value})
        elif r < 0.08:
            old = func.ops[rng.integers(len(func.ops))]
            op = build(func.body, old.name, old.operands, old.attributes)
        elif r < 0.5:
            op = build(func.body, str(rng.choice(UNARY)), [pick()])
        else:
            op = build(func.body, str(rng.choice(BINARY)), [pick(), pick()])
        values.append(op.result)
    used = {v for op in func.ops for v in op.operands}
    func.set_return([v for v in values[len(func.args):] if v not in used])
    return func


def tf_graph(n_ops: int, seed: int = 0):
    """A TF1 graph of about `n_ops` elementwise ops on a placeholder; returns (fetches, feed)."""
    import lowerflow as tf

    rng = np.random.default_rng(seed)
    unary = (tf.negative, tf.exp, tf.tanh, tf.abs, tf.sigmoid, tf.square)
    binary = (tf.add, tf.subtract, tf.multiply, tf.maximum, tf.minimum)
    with tf.Graph().as_default() as graph:
        x = tf.placeholder(tf.float32, [8, 64])
        values = [x]
        while graph.version < n_ops:
            a = values[max(0, len(values) - int(rng.geometric(0.3)))]
            if rng.random() < 0.5:
                values.append(unary[rng.integers(len(unary))](a))
            else:
                values.append(binary[rng.integers(len(binary))](a, values[rng.integers(len(values))]))
    return values[-8:], x


def measure(n_ops: int, seed: int) -> dict[str, float]:
    """Seconds per phase for one graph of `n_ops` ops."""
    import lowerflow as tf

    times: dict[str, float] = {}
    start = time.perf_counter()
    fetches, feed = tf_graph(n_ops, seed)
    times["tf build"] = time.perf_counter() - start
    start = time.perf_counter()
    tf.to_ir(fetches, [feed], graph=feed.graph)
    times["lower"] = time.perf_counter() - start
    start = time.perf_counter()
    func = random_graph(n_ops, seed)
    times["build"] = time.perf_counter() - start
    pm = PassManager(DEFAULT_PIPELINE)
    start = time.perf_counter()
    module = pm.run(Module([func]))
    total = time.perf_counter() - start
    for s in pm.stats:
        times[s.name] = s.ms / 1e3
    times["verify"] = total - sum(s.ms for s in pm.stats) / 1e3
    start = time.perf_counter()
    print_module(module)
    times["print"] = time.perf_counter() - start
    times["total"] = sum(times.values())
    times["ops after"] = pm.stats[-1].ops_after
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1000,3000,10000", help="graph sizes in ops, comma-separated")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=3, help="runs per size; the best time of each phase is kept")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    results = {n: [measure(n, args.seed) for _ in range(args.repeat)] for n in sizes}
    best = {n: {phase: min(r[phase] for r in runs) for phase in runs[0]} for n, runs in results.items()}
    phases = list(best[sizes[0]])
    print(f"pipeline: {DEFAULT_PIPELINE}  (seconds, best of {args.repeat})")
    print(f"{'phase':<16}" + "".join(f"{n:>12,} ops" for n in sizes))
    for phase in phases:
        fmt = "{:>16,.0f}" if phase == "ops after" else "{:>16.4f}"
        print(f"{phase:<16}" + "".join(fmt.format(best[n][phase]) for n in sizes))
    print(f"{'µs per op':<16}" + "".join(f"{best[n]['total'] / n * 1e6:>16.1f}" for n in sizes))
    first = sizes[0]
    for n in sizes[1:]:
        ratio = (best[n]["total"] / best[first]["total"]) / (n / first)
        print(f"time ratio / size ratio, {n:,} vs {first:,} ops: {ratio:.2f} (1.00 is linear)")


if __name__ == "__main__":
    main()
