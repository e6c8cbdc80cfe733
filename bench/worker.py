"""First runs measured in a child process: isolation, and fresh processes.

Two uses. A compile that exhausts memory (XLA did on JAX's 1000-op chain until the JAX peer
turned LLVM's post-RA scheduler off, `bench/peers.py`) would kill the whole suite, so JAX's
first runs happen in a child with a capped address space that answers one sample per request: the parent keeps
alternating, and a dead child becomes "n/a". And when lowerflow gets a disk cache, a first
run in a brand-new process is the number that cache is for.

Protocol: `python -m bench.worker PEER WORKLOAD PARAMS_JSON THREADS` reads one salt per
line on stdin and answers the seconds of that salt's first run on stdout.
"""
from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

MEMORY_LIMIT = 8 << 30  # address space of a worker: a third of this machine's 24 GiB
ROOT = Path(__file__).resolve().parent.parent


class WorkerDied(Exception):
    """The child process ended instead of answering; the message says how."""


class Worker:
    """A child process that runs first runs of one peer on one workload, on request."""

    def __init__(self, peer: str, workload: str, params: dict, threads: int | None):
        self._stderr = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115  closed by close()
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "bench.worker", peer, workload, json.dumps(params), str(threads or 0)],
            cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr, text=True)

    def first_run(self, salt: float) -> float:
        try:
            self._proc.stdin.write(f"{salt!r}\n")
            self._proc.stdin.flush()
            answer = self._proc.stdout.readline()
        except BrokenPipeError:
            answer = ""
        if not answer:
            raise WorkerDied(self._death())
        return float(answer)

    def _death(self) -> str:
        code = self._proc.wait(timeout=60)
        self._stderr.seek(0)
        err = self._stderr.read()
        if "bad_alloc" in err or "MemoryError" in err:
            return f"out of memory (8 GiB address-space cap; exit {code})"
        lines = [ln.strip() for ln in err.splitlines() if ln.strip()]
        return f"worker exited {code}: {lines[-1] if lines else 'no message'}"

    def close(self) -> None:
        if self._proc.poll() is None:
            self._proc.stdin.close()
            try:
                self._proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self._proc.kill()
        self._stderr.close()


def main(argv: list[str]) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    from bench import peers, workloads
    peer_name, name, params, threads = argv
    peer_cls = peers.Lowerflow if peer_name == "lowerflow" else peers.PEERS[peer_name]
    runner = peer_cls(int(threads) or None).prepare(workloads.BY_NAME[name], json.loads(params))
    for line in sys.stdin:
        print(runner.first_run(float(line)), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
