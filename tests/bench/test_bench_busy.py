"""bench/busy.py: the competing busy processes start, burn CPU and are gone afterwards;
`python -m bench.busy` times both thread settings of a workload (quick sizes)."""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # bench/ is run from the repository root, not installed
    sys.path.insert(0, str(ROOT))

from bench.busy import busy, compare, main


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def test_busy_processes_burn_cpu_and_are_killed():
    with busy(2) as pids:
        assert len(set(pids)) == 2
        time.sleep(0.5)
        assert all(_cpu_s(pid) > 0.05 for pid in pids)
    assert not any(Path(f"/proc/{pid}").exists() for pid in pids)


def test_compare_times_one_and_default_threads(capsys):
    ((name, one, default),) = compare(["matmul"], rounds=2, quick=True, target_s=0.001)
    assert name == "matmul" and 0 < one < 1 and 0 < default < 1
    assert main(["--quick", "--busy", "1", "--rounds", "1", "--only", "mlp"]) == 0
    out = capsys.readouterr().out
    assert "busy processes: 1" in out and out.splitlines()[-1].split()[0] == "mlp"
