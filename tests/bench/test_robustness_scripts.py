"""Smoke test of `python -m bench.starvation`: it runs and prints ratios, whatever they are
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
