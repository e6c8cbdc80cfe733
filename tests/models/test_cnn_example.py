"""examples/cnn.py: the CNN trains (its loss goes down) and matches TensorFlow step by step
from the same initial values (to 1e-4 relative: summation orders differ)."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from tests.models.helpers import tf1_layers

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "cnn.py"


def _module():
    spec = importlib.util.spec_from_file_location("cnn_example", EXAMPLE)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


example = _module()


@pytest.fixture(scope="module")
def ours():
    return example.cnn(example.load(tensorflow=False))


def test_trains(ours):
    assert len(ours) == 6 and all(np.isfinite(ours))
    assert min(ours[3:]) < ours[0] - 0.5


def test_matches_tensorflow(ours):
    tf1_layers()
    theirs = example.cnn(example.load(tensorflow=True))
    np.testing.assert_allclose(ours, theirs, rtol=1e-4)
