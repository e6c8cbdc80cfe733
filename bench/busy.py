"""`--busy N`: N competing busy processes for a run, killed when it ends; and
`python -m bench.busy`, the 1-thread against default-thread comparison beside them.

Why: on a machine whose cores other processes share, a thread team that spins at barriers
or splits work into fixed shares waits for its slowest (descheduled) thread; a quiet
benchmark cannot see that. Each busy process is a tight Python loop started before
`--threads` pins the bench to some cores, so it may run on any core and the scheduler places
it where it competes with the measured threads, as another program would.

`python -m bench --threads 1` and `python -m bench` are two runs, minutes apart on a machine
whose load drifts; `python -m bench.busy` alternates a 1-thread and a default-thread Session
of each workload in one process, round by round, so both see the same machine.
"""
from __future__ import annotations

import argparse
import contextlib
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator

_LOOP = "while True: pass"
ROWS = ("mlp", "matmul", "train_mlp_adam", "lstm_train")


@contextlib.contextmanager
def busy(n: int) -> Iterator[list[int]]:
    """Run `n` busy processes while the block runs; yields their pids."""
    procs = [subprocess.Popen([sys.executable, "-c", _LOOP], stdin=subprocess.DEVNULL) for _ in range(n)]
    try:
        yield [p.pid for p in procs]
    finally:
        for p in procs:
            p.kill()
        for p in procs:
            p.wait()


def sessions(name: str, quick: bool) -> tuple[dict, callable]:
    """Sessions of workload `name` on 1 and on the default threads (0), initialised and
    warm, and `step(sess)`, one run of its fetch with its feeds."""
    import lowerflow as tf
    from bench import workloads

    wl = workloads.BY_NAME[name]
    build, feeds = wl.graph(tf, **wl.params(quick))
    g = tf.Graph()
    with g.as_default():
        fetch = build()
        init = tf.global_variables_initializer()
    feed = {g.get_tensor_by_name(f"{k}:0"): v for k, v in feeds.items()}
    made = {}
    for threads in (1, 0):
        sess = tf.Session(graph=g, config=tf.ConfigProto(intra_op_parallelism_threads=threads))
        sess.run(init)
        sess.run(fetch, feed)
        made[threads] = sess
    return made, lambda sess: sess.run(fetch, feed)


def compare(names: list[str], rounds: int, quick: bool, target_s: float = 0.05) -> list[tuple[str, float, float]]:
    """(name, 1-thread median s, default-thread median s) per workload, alternating."""
    out = []
    for name in names:
        made, step = sessions(name, quick)
        t0 = time.perf_counter()
        step(made[1])
        k = max(1, int(target_s / max(time.perf_counter() - t0, 1e-6)))
        times = {1: [], 0: []}
        for r in range(rounds):
            for threads in ((1, 0) if r % 2 else (0, 1)):
                t0 = time.perf_counter()
                for _ in range(k):
                    step(made[threads])
                times[threads].append((time.perf_counter() - t0) / k)
        out.append((name, statistics.median(times[1]), statistics.median(times[0])))
        for sess in made.values():
            sess.close()
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.busy", description=__doc__.split("\n\n")[0])
    p.add_argument("--busy", type=int, default=1, metavar="N", help="competing busy processes (default 1)")
    p.add_argument("--only", default=",".join(ROWS), help="comma-separated workloads")
    p.add_argument("--rounds", type=int, default=10, help="alternating rounds (default 10)")
    p.add_argument("--quick", action="store_true", help="small sizes (smoke test)")
    args = p.parse_args(argv)
    from bench import machine

    load = machine.CpuLoad()
    with busy(max(0, args.busy)):
        time.sleep(0.2)
        rows = compare([n for n in args.only.split(",") if n], args.rounds, args.quick)
        others = load.others()
    print(f"busy processes: {args.busy}; other load (busy ones included): {others}")
    print(f"{'workload':16} {'1 thread':>10} {'default':>10} {'default÷1':>10}")
    for name, one, default in rows:
        print(f"{name:16} {one * 1e3:8.2f}ms {default * 1e3:8.2f}ms {default / one:10.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
