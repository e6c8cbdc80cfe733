"""examples/training.py: the same TF1 training programs on lowerflow and on TensorFlow.

Both libraries start from the same seeded numpy values and see the same batches, so their
losses agree step by step to float32 rounding (summation order differs: 1e-5 relative);
lowerflow's losses must also go down.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
RTOL = 1e-5


def _module():
    spec = importlib.util.spec_from_file_location("training_example", EXAMPLES / "training.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


example = _module()
PROGRAMS = {
    "linear": lambda tf: example.linear_regression(tf),
    "softmax": lambda tf: example.softmax_regression(tf),
    "mlp": lambda tf: example.mlp_adam(tf),
}


@pytest.fixture(scope="module")
def lowerflow_results():
    tf = example.load(tensorflow=False)
    return {name: run(tf) for name, run in PROGRAMS.items()}


@pytest.fixture(scope="module")
def tensorflow_results():
    pytest.importorskip("tensorflow")
    tf = example.load(tensorflow=True)
    return {name: run(tf) for name, run in PROGRAMS.items()}


def _losses(result):
    return result[0] if isinstance(result, tuple) else result


@pytest.mark.parametrize("name", list(PROGRAMS))
def test_lowerflow_loss_decreases(lowerflow_results, name):
    losses = _losses(lowerflow_results[name])
    assert all(np.isfinite(losses))
    assert np.mean(losses[-5:]) < 0.6 * losses[0]


def test_mlp_restore_gives_trained_loss(lowerflow_results):
    losses, restored = lowerflow_results["mlp"]
    assert restored < 0.6 * losses[0]


@pytest.mark.parametrize("name", list(PROGRAMS))
def test_losses_match_tensorflow(lowerflow_results, tensorflow_results, name):
    ours, theirs = lowerflow_results[name], tensorflow_results[name]
    np.testing.assert_allclose(_losses(ours), _losses(theirs), rtol=RTOL, atol=0)
    if name == "mlp":
        np.testing.assert_allclose(ours[1], theirs[1], rtol=RTOL, atol=0)


def test_main_prints_losses(capsys):
    assert example.main([]) == 0
    out = capsys.readouterr().out
    assert "linear step   0: loss" in out and "mlp after restore: loss" in out
