"""examples/rnn.py (an LSTM or a GRU through static_rnn, and an LSTM through dynamic_rnn with
--dynamic): each trains (its loss goes down) and matches TensorFlow step by step from the same
initial values (to 1e-4 relative: summation orders differ)."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from tests.models.helpers import tf1

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "rnn.py"


def _example():
    spec = importlib.util.spec_from_file_location("rnn_example", EXAMPLE)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module", params=[("lstm", False), ("lstm", True), ("gru", False)],
                ids=["lstm", "lstm_dynamic", "gru"])
def example(request):
    mod, (cell, dynamic) = _example(), request.param
    return mod, cell, dynamic, mod.train(mod.load(tensorflow=False), cell, dynamic)


def test_trains(example):
    ours = example[3]
    assert len(ours) == 6 and all(np.isfinite(ours))
    assert min(ours[3:]) < ours[0] - 0.5


def test_matches_tensorflow(example):
    mod, cell, dynamic, ours = example
    tf1()
    np.testing.assert_allclose(ours, mod.train(mod.load(tensorflow=True), cell, dynamic), rtol=1e-4)


def test_command_line(capsys):
    assert _example().main(["--cell", "gru"]) == 0
    assert capsys.readouterr().out.count("gru step") == 6
