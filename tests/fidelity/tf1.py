"""TensorFlow's own `tf.compat.v1` in graph mode, the reference of the differential tests
here, or a skip where TensorFlow is not installed."""
from __future__ import annotations

import pytest


def tf1():
    """`tensorflow.compat.v1` with eager execution off (skips the calling test without it)."""
    real = pytest.importorskip("tensorflow")
    v1 = real.compat.v1
    v1.disable_eager_execution()
    return v1
