"""`python -m tests.fuzz [--minutes N | --graphs N] [--seed S] [--out DIR]`: fuzz lowerflow
against TensorFlow; `python -m tests.fuzz --replay FILE...` reruns saved disagreements."""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # `fuzz` as the test suite imports it

import numpy as np  # noqa: E402

from fuzz.compare import judge, run  # noqa: E402
from fuzz.graphs import random_spec  # noqa: E402


def modules():
    """(lowerflow, tf.compat.v1 in graph mode)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf

    import lowerflow

    tf.compat.v1.disable_eager_execution()
    tf.get_logger().setLevel("ERROR")
    return lowerflow, tf.compat.v1


def check(spec: dict, lf, tf) -> tuple[str, str] | None:
    return judge(spec, run(lf, spec), run(tf, spec))


def fuzz(seed: int, deadline: float, max_graphs: int, out: Path, lf, tf) -> Counter:
    counts: Counter = Counter()
    rng = np.random.default_rng(seed)
    while counts["graphs"] < max_graphs and time.monotonic() < deadline:
        spec = random_spec(rng, lf)
        spec["seed"] = seed
        verdict = check(spec, lf, tf)
        counts["graphs"] += 1
        if verdict is None:
            continue
        counts[verdict[0]] += 1
        if verdict[0] == "disagree":
            out.mkdir(parents=True, exist_ok=True)
            path = out / f"disagreement-{seed}-{counts['graphs']}.json"
            path.write_text(json.dumps({**spec, "verdict": verdict}, indent=1))
            print(f"{path}: {verdict[1][:300]}", flush=True)
    return counts


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tests.fuzz", description=__doc__)
    p.add_argument("--minutes", type=float, default=1.0)
    p.add_argument("--graphs", type=int, default=10**9)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=Path("fuzz-disagreements"))
    p.add_argument("--replay", nargs="*", type=Path)
    args = p.parse_args(argv)
    lf, tf = modules()
    if args.replay:
        bad = 0
        for path in args.replay:
            verdict = check(json.loads(path.read_text()), lf, tf)
            bad += verdict is not None and verdict[0] == "disagree"
            print(f"{path}: {': '.join(verdict) if verdict else 'agrees'}")
        return int(bad > 0)
    counts = fuzz(args.seed, time.monotonic() + 60 * args.minutes, args.graphs, args.out, lf, tf)
    print(", ".join(f"{k}: {v}" for k, v in sorted(counts.items())))
    return int(counts["disagree"] > 0)


if __name__ == "__main__":
    sys.exit(main())
