"""Smoke tests of `python -m bench.starvation` and `bench.modes`: they run and print numbers, whatever they are
(timings belong in docs/performance.md, not in assertions)."""
from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # bench/ is run from the repository root, not installed
    sys.path.insert(0, str(ROOT))

from bench import starvation

RATIO = r"(\d+\.\d\d)x slower beside them \(median; each repeat: (\d+\.\d\d(, )?)+\)"


def test_starvation_runs_lowerflow_and_prints_medians(capsys, monkeypatch):
    monkeypatch.setenv("LOWERFLOW_CACHE_DIR", "off")
    starvation.main(["--runners", "1", "--repeats", "1", "--seconds", "0.05"])
    out = capsys.readouterr().out
    assert starvation.tf.__name__ == "lowerflow"
    assert len(re.findall(r"^  loop [\d,]+/s alone", out, re.M)) == 1
    assert re.search(r"^1 runner threads: [\d,]+ runs/s together", out, re.M)
    assert re.search(r"^unrelated Python loop: " + RATIO, out, re.M)
    assert re.search(r"^first run \(compile\) in a thread: " + RATIO, out, re.M)


def test_modes_child_reports_time_backoffs_and_addresses():
    """`python -m bench.modes`'s per-process record, on the small sizes."""
    from bench import modes
    row = modes._child("train_logreg", 1, 1, quick=True)
    assert row["us"] > 0 and row["min_us"] <= row["us"]
    assert row["serial_runs"].endswith("/200") and row["backoffs"] >= 0
    assert 0 <= row["x_mod4k"] < 4096 and 0 <= row["var_mod4k"] < 4096
