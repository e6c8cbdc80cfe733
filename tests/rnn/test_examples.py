"""examples/lstm.py and examples/gru.py: each trains (its loss goes down) and matches
TensorFlow step by step from the same initial values (to 1e-4 relative: summation orders
differ)."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from tests.models.helpers import tf1

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _example(name: str):
    spec = importlib.util.spec_from_file_location(f"{name}_example", EXAMPLES / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return getattr(mod, name), mod.load


@pytest.fixture(scope="module", params=["lstm", "gru"])
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
