"""`--busy N`: N competing busy processes for the whole run, killed when it ends.

Why: on a machine whose cores other processes share, a thread team that spins at barriers
or splits work into fixed shares waits for its slowest (descheduled) thread; a quiet
benchmark cannot see that. Each busy process is a tight Python loop started before
`--threads` pins the bench to some cores, so it may run on any core and the scheduler places
it where it competes with the measured threads, as another program would.
"""
from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator

_LOOP = "while True: pass"


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
