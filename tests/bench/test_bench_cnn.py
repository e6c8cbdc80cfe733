"""The CNN rows of the benchmark (`bench/workloads_cnn.py`) at their quick sizes: the rows run and agree
with numpy's im2col, and the JAX training step (what JAX is timed on) is lowerflow's step on the
same TF1 graph over three Adam steps."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # bench/ is run from the repository root, not installed
    sys.path.insert(0, str(ROOT))

from bench.__main__ import main  # noqa: E402
from tests.bench.test_bench_smoke import SLOTS, TIME, _rows, three_steps  # noqa: E402


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("LOWERFLOW_CACHE_DIR", str(tmp_path / "lfcache"))


def test_cnn_rows_agree_with_numpy(tmp_path):
    out = tmp_path / "cnn.md"
    assert main(["--quick", "--reps", "1", "--only", "cnn_inference,conv2d_1,conv2d_2,train_cnn_adam",
                 "--peers", "numpy", "--markdown", str(out)]) == 0
    rows = _rows(out.read_text())
    for name in ("cnn_inference", "conv2d_1", "conv2d_2"):
        assert TIME.match(rows[name]["lowerflow"]) and TIME.match(rows[name]["numpy"]), rows[name]
    assert TIME.match(rows["train_cnn_adam"]["lowerflow"])
    assert "no hand-written CNN gradients" in rows["train_cnn_adam"]["numpy"]
    assert "(!)" not in out.read_text()


def test_jax_training_step_matches_the_tf1_graph():
    pytest.importorskip("jax")
    import jax.numpy as jnp

    got, state, keys = three_steps("train_cnn_adam", jnp)
    for key, want in zip(keys, state):
        name = key[:-2].replace("/", "_") + SLOTS[key[-2:]] if key[-2:] in SLOTS else key.replace("/", "_")
        np.testing.assert_allclose(got[name], np.asarray(want), rtol=2e-4, atol=1e-6, err_msg=key)
