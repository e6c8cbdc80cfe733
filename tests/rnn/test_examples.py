"""examples/lstm.py (static_rnn, and dynamic_rnn with --dynamic) and examples/gru.py: each trains (its loss goes down) and matches
TensorFlow step by step from the same initial values (to 1e-4 relative: summation orders
differ)."""
from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

import numpy as np
import pytest

from tests.models.helpers import tf1

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _example(case: str):
    name, _, variant = case.partition("_")
    spec = importlib.util.spec_from_file_location(f"{name}_example", EXAMPLES / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    train = getattr(mod, name)
    return (functools.partial(train, dynamic=True) if variant == "dynamic" else train), mod.load


@pytest.fixture(scope="module", params=["lstm", "lstm_dynamic", "gru"])
def example(request):
    train, load = _example(request.param)
    return train, load, train(load(tensorflow=False))


def test_trains(example):
    ours = example[2]
    assert len(ours) == 6 and all(np.isfinite(ours))
    assert min(ours[3:]) < ours[0] - 0.5


def test_matches_tensorflow(example):
    train, load, ours = example
    tf1()
    np.testing.assert_allclose(ours, train(load(tensorflow=True)), rtol=1e-4)
