"""LOWERFLOW_DEBUG (runtime/config.py reads it, runtime/debug.py writes): what each level adds on stderr."""
from __future__ import annotations

import numpy as np
import pytest

import lowerflow as tf

LEVEL_MARKERS = {
    1: "lowerflow: compiled @step(tensor<3xf32>) -> (tensor<3xf32>): 1 kernels in ",
    2: "constant-fold",
    3: "// -----// IR after the pipeline //----- //",
    4: "; -----// LLVM IR (optimised) //----- //",
}


def _run_at(level, monkeypatch, capsys, scale: float) -> tuple[np.ndarray, str]:
    monkeypatch.setenv("LOWERFLOW_DEBUG", str(level))
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [3], name="x")
        y = tf.exp(x) * scale  # a new constant each level: a fresh plan (the code may be shared)
        with tf.Session() as sess:
            value = sess.run(y, {x: [0.0, 1.0, 2.0]})
    return value, capsys.readouterr().err


@pytest.mark.parametrize("level", [0, 1, 2, 3, 4])
def test_each_level_adds_its_output(level, monkeypatch, capsys):
    value, err = _run_at(level, monkeypatch, capsys, 1.0 + level)
    np.testing.assert_allclose(value, np.exp([0.0, 1.0, 2.0]) * (1.0 + level), rtol=1e-6)
    for marker_level, marker in LEVEL_MARKERS.items():
        assert (marker in err) == (level >= marker_level), (level, marker)
    if level >= 1:
        assert "lowerflow: run in " in err and " kernels in " in err and "passes " in err
    if level >= 2:
        assert "ops before" in err and "plan-buffers" in err
    if level >= 3:
        assert '"lf.fusion"' in err or '"lf.mul"' in err
    if level >= 4:
        assert "define " in err and "# -----// assembly //----- //" in err and "step:" in err


@pytest.mark.parametrize("raw", ["5", "-1", "verbose"])
def test_bad_level_is_a_clear_error(raw, monkeypatch):
    monkeypatch.setenv("LOWERFLOW_DEBUG", raw)
    with tf.Graph().as_default():
        tf.constant(1.0)
        with pytest.raises(ValueError, match=f"LOWERFLOW_DEBUG must be an integer from 0 to 4, got '{raw}'"):
            tf.Session()
