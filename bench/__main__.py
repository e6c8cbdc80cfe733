"""`python -m bench`: lowerflow against numpy, TensorFlow and JAX in one run (bench/README.md)."""
from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
from pathlib import Path

THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "TF_NUM_INTRAOP_THREADS")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("--quick", action="store_true", help="small sizes, few repetitions (smoke test)")
    p.add_argument("--only", default="", help="comma-separated workload names (see --list)")
    p.add_argument("--reps", type=int, default=None, help="repetitions per implementation (default 9, quick 3)")
    p.add_argument("--threads", type=int, default=None,
                   help="threads for lowerflow (intra_op_parallelism_threads) and the peers; default: each its own")
    p.add_argument("--peers", default="numpy,tensorflow,jax",
                   help="comma-separated peers to compare with lowerflow (numpy, tensorflow, jax)")
    p.add_argument("--busy", type=int, default=0, metavar="N",
                   help="run N competing busy processes (a tight loop each) during the run")
    p.add_argument("--markdown", metavar="FILE", help="also write the results as markdown")
    p.add_argument("--list", action="store_true", help="list the workloads and exit")
    return p.parse_args(argv)


def limit_threads(n: int) -> str:
    """Cap every library at `n` threads; return how, for the header. Set before numpy is
    imported: OpenBLAS, TF and XLA size their pools at start-up. JAX has no working thread
    option (XLA ignores its flags for this: jax-ml/jax#1539), so the process, and the
    children that inherit it, is pinned to `n` cores, which every pool's size follows."""
    for var in THREAD_ENV:
        os.environ[var] = str(n)
    how = "lowerflow/TF ConfigProto, OMP/BLAS env"
    cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    if 0 < n < len(cores):
        os.sched_setaffinity(0, cores[:n])
        how += f", pinned to cores {cores[:n]}"
    return how


def main(argv: list[str] | None = None) -> int:
    """Run the suite; print the header, machine limits, table and notes (stdout)."""
    args = parse_args(argv)
    if args.busy < 0:
        sys.exit("--busy must be at least 0")
    from bench.busy import busy

    with busy(args.busy):  # started before limit_threads pins this process
        how = ""
        if args.threads is not None:
            if args.threads < 1:
                sys.exit("--threads must be at least 1")
            how = limit_threads(args.threads)
        with _private_cache():
            return _run(args, how, argv)


@contextlib.contextmanager
def _private_cache():
    """A fresh, empty lowerflow disk cache for this run (unless $LOWERFLOW_CACHE_DIR is set):
    every run starts cold, and the salted never-reused first-run graphs don't pile up in the
    user's ~/.cache/lowerflow (its entries are never evicted)."""
    if "LOWERFLOW_CACHE_DIR" in os.environ:
        yield
        return
    with tempfile.TemporaryDirectory(prefix="lowerflow-bench-cache-") as where:
        os.environ["LOWERFLOW_CACHE_DIR"] = where
        try:
            yield
        finally:
            del os.environ["LOWERFLOW_CACHE_DIR"]


def _run(args: argparse.Namespace, how: str, argv: list[str] | None) -> int:
    # imported only now: the thread env must be set before numpy loads OpenBLAS
    from bench import harness, machine, peers, report, workloads

    if args.list:
        for wl in workloads.WORKLOADS:
            print(f"{wl.name:18} {wl.what}")
        return 0
    names = [n for n in args.only.split(",") if n] or [w.name for w in workloads.WORKLOADS]
    peer_names = [n for n in args.peers.split(",") if n]
    unknown = [n for n in names if n not in workloads.BY_NAME] + \
        [f"peer {n}" for n in peer_names if n not in peers.PEERS]
    if unknown:
        sys.exit(f"unknown: {', '.join(unknown)} (workloads: {', '.join(workloads.BY_NAME)})")
    reps = args.reps or (3 if args.quick else 9)
    if args.threads is not None:
        with contextlib.suppress(ImportError):  # numpy may be loaded already (main() in-process)
            from threadpoolctl import threadpool_limits
            threadpool_limits(args.threads)
    lineup = [peers.Lowerflow(args.threads)] + [peers.PEERS[n](args.threads) for n in peer_names]

    header = machine.describe()
    for p in lineup[1:]:
        reason = p.unavailable()
        # setdefault: the machine description already has numpy's version, with its BLAS
        header.setdefault(p.name, f"not measured: {reason}" if reason else p.version())
    header["threads"] = f"{args.threads} ({how})" if args.threads else "each library's default"
    if args.busy:
        header["competing busy processes"] = f"{args.busy} (python -m bench --busy {args.busy})"
    header["repetitions"] = f"{reps}, alternating; first_run_* at most {harness.FIRST_RUN_MAX_REPS}"
    header["command"] = "python -m bench " + " ".join(sys.argv[1:] if argv is None else argv)
    cache = peers.lowerflow_disk_cache()
    header["lowerflow disk cache"] = cache or "none found: first runs are measured in-process only"

    load = machine.CpuLoad()
    _log("measuring machine limits...")
    limits = machine.measure(reps, args.quick)
    salts, rows = harness.Salts(), []
    for name in names:
        wl = workloads.BY_NAME[name]
        _log(f"{name}...")
        params = wl.params(args.quick)
        reference = machine.sgemm_step(machine.sgemm_n(args.quick)) if wl.flops is not None else None
        rows.append(harness.run_workload(wl, params, lineup, reps, 0.002 if args.quick else 0.05, salts, _log,
                                         reference))
        if wl.mode == "first_run" and cache:
            rows.append(harness.run_fresh_process(wl, params, reps, args.threads, salts))
    header["other load during the run"] = load.others()

    lines = report.table(rows, [p.name for p in lineup], limits)
    note_lines = report.notes(rows, limits)
    print("\n".join(f"{k}: {v}" for k, v in header.items()))
    print("\n".join(report.limits_lines(limits)))
    print()
    print(report.text(lines))
    if note_lines:
        print("\n" + "\n".join(note_lines))
    if args.markdown:
        Path(args.markdown).write_text(report.markdown_document(header, limits, lines, note_lines))
    return 0


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
