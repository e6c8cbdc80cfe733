"""TensorFlow's own `tf.compat.v1` in graph mode, the reference of the differential tests
here (or a skip where TensorFlow is not installed), and the outcome of one graph in it."""
from __future__ import annotations

from typing import Callable

import numpy as np
import pytest


def tf1():
    """`tensorflow.compat.v1` with eager execution off (skips the calling test without it)."""
    real = pytest.importorskip("tensorflow")
    v1 = real.compat.v1
    v1.disable_eager_execution()
    return v1


def outcome(m, build: Callable) -> tuple:
    """("ok", fetched values) or ("raises", error class name) of `build(m)` -> (fetches,
    feed builder) run in a fresh graph and session of module `m` (lowerflow or TF)."""
    with m.Graph().as_default():
        try:
            fetches, feeds = build(m)
            with m.Session() as sess:
                return "ok", sess.run(fetches, feeds)
        except Exception as e:  # noqa: BLE001 - the class is the outcome compared
            return "raises", type(e).__name__


def assert_same_outcome(got: tuple, want: tuple) -> None:
    """The same error class, or the same values and dtypes (floats to within a few ulp)."""
    assert got[0] == want[0], (got, want)
    if got[0] == "raises":
        assert got[1] == want[1]
        return
    for g, w in zip(got[1], want[1]):
        g, w = np.asarray(g), np.asarray(w)
        assert g.dtype == w.dtype and g.shape == w.shape, (g, w)
        if g.dtype.kind == "f":
            np.testing.assert_allclose(g, w, rtol=4 * np.finfo(g.dtype).eps, atol=0)
        else:
            np.testing.assert_array_equal(g, w)
