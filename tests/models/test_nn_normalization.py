"""tf.nn.depthwise_conv2d(_native), separable_conv2d, fused_batch_norm and
local_response_normalization against numpy and tensorflow.compat.v1: values, static shapes,
op names, gradients and TF's errors. One graph per library holds every case (one compile)."""
from __future__ import annotations

import numpy as np
import pytest

import lowerflow as tf
from tests.models.helpers import compare

R = np.random.default_rng(3)
X = R.standard_normal((2, 7, 6, 3)).astype(np.float32) * 2 + 1
DW = R.standard_normal((3, 3, 3, 2)).astype(np.float32)
PW = R.standard_normal((1, 1, 6, 4)).astype(np.float32)
SCALE, OFFSET = R.standard_normal(3).astype(np.float32), R.standard_normal(3).astype(np.float32)
MEAN, VAR = R.standard_normal(3).astype(np.float32), R.uniform(0.5, 2, 3).astype(np.float32)
DEPTHWISE = [([1, 1, 1, 1], "SAME", None), ([1, 2, 2, 1], "VALID", None), ([1, 1, 1, 1], "SAME", [2, 2])]
LRNS = [{}, {"depth_radius": 2, "bias": 2.0, "alpha": 0.1, "beta": 0.75}, {"depth_radius": 1, "beta": 1.0}]


def _outputs(tf, x):
    """Every op of this file on `x` (NHWC), in a fixed order."""
    outs = [tf.nn.depthwise_conv2d(x, DW, s, p, rate=r) for s, p, r in DEPTHWISE]
    outs.append(tf.nn.depthwise_conv2d_native(x, DW, [1, 2, 1, 1], "SAME"))
    outs.append(tf.nn.separable_conv2d(x, DW, PW, [1, 1, 1, 1], "SAME"))
    outs.append(tf.nn.separable_conv2d(x, DW, PW, [1, 1, 1, 1], "VALID", rate=[2, 1]))
    outs += list(tf.nn.fused_batch_norm(x, SCALE, OFFSET))
    nchw = tf.transpose(x, [0, 3, 1, 2])
    outs += list(tf.nn.fused_batch_norm(nchw, SCALE, OFFSET, data_format="NCHW"))
    outs += list(tf.nn.fused_batch_norm(x, SCALE, OFFSET, MEAN, VAR, epsilon=1e-4, is_training=False))
    outs += list(tf.nn.fused_batch_norm(x, SCALE, OFFSET, MEAN, VAR, exponential_avg_factor=0.25))[1:]
    wide = tf.concat([x, x * 0.5, -x], 3)
    outs += [tf.nn.local_response_normalization(wide, **kw) for kw in LRNS]
    outs.append(tf.nn.lrn(x))
    return outs


def _build(tf):
    x = tf.placeholder(tf.float32, [2, 7, 6, 3])
    outs = _outputs(tf, x)
    loss = tf.add_n([tf.reduce_sum(tf.sin(o)) for o in outs])
    return {"x": x}, outs + tf.gradients(loss, [x])


@pytest.fixture(scope="module")
def ours():
    """lowerflow's values (checked against TF's in test_against_tf, when TF is installed)."""
    with tf.Graph().as_default():
        inputs, fetches = _build(tf)
        with tf.Session() as sess:
            return sess.run(fetches, {inputs["x"]: X})


def test_against_tf():
    compare(_build, {"x": X}, rtol=1e-4, atol=2e-4)


def _numpy_depthwise(x, f, stride, pads, rate=1):
    kh, kw, cin, mult = f.shape
    x = np.pad(x, [(0, 0), pads[0], pads[1], (0, 0)])
    oh = (x.shape[1] - (kh - 1) * rate - 1) // stride + 1
    ow = (x.shape[2] - (kw - 1) * rate - 1) // stride + 1
    out = np.zeros((x.shape[0], oh, ow, cin, mult), np.float64)
    for i in range(kh):
        for j in range(kw):
            rows = slice(i * rate, i * rate + (oh - 1) * stride + 1, stride)
            patch = x[:, rows, j * rate:j * rate + (ow - 1) * stride + 1:stride]
            out += patch[..., None] * f[i, j]
    return out.reshape(x.shape[0], oh, ow, cin * mult)


def test_depthwise_and_separable_against_numpy(ours):
    np.testing.assert_allclose(ours[0], _numpy_depthwise(X, DW, 1, [(1, 1), (1, 1)]), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(ours[1], _numpy_depthwise(X, DW, 2, [(0, 0), (0, 0)]), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(ours[2], _numpy_depthwise(X, DW, 1, [(2, 2), (2, 2)], rate=2), rtol=1e-4, atol=1e-5)
    assert ours[0].shape == (2, 7, 6, 6) and ours[1].shape == (2, 3, 2, 6) and ours[3].shape == (2, 4, 6, 6)
    np.testing.assert_allclose(ours[4], np.tensordot(ours[0], PW[0, 0], axes=1), rtol=1e-4, atol=1e-4)


def test_fused_batch_norm_against_numpy(ours):
    y, mean, var = ours[6:9]
    n = X.size // 3
    want_mean, biased = X.mean((0, 1, 2)), X.var((0, 1, 2))
    np.testing.assert_allclose(mean, want_mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(var, biased * n / (n - 1), rtol=1e-5)  # returned unbiased, as TF1
    np.testing.assert_allclose(y, (X - want_mean) / np.sqrt(biased + 1e-3) * SCALE + OFFSET, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(ours[9].transpose(0, 2, 3, 1), y, rtol=1e-5, atol=1e-5)
    y, mean, var = ours[12:15]
    np.testing.assert_allclose(y, (X - MEAN) / np.sqrt(VAR + 1e-4) * SCALE + OFFSET, rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(mean, MEAN)
    np.testing.assert_array_equal(var, VAR)
    np.testing.assert_allclose(ours[15], 0.75 * MEAN + 0.25 * want_mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours[16], 0.75 * VAR + 0.25 * biased * n / (n - 1), rtol=1e-5)


def test_lrn_against_numpy(ours):
    wide = np.concatenate([X, X * 0.5, -X], 3).astype(np.float64)
    for got, kw in zip(ours[17:20], LRNS):
        r, bias, alpha, beta = kw.get("depth_radius", 5), kw.get("bias", 1.0), kw.get("alpha", 1.0), kw.get("beta", 0.5)
        sq = np.pad(wide ** 2, [(0, 0)] * 3 + [(r, r)])
        sums = sum(sq[..., k:k + wide.shape[3]] for k in range(2 * r + 1))
        np.testing.assert_allclose(got, wide / (bias + alpha * sums) ** beta, rtol=1e-5, atol=1e-6)


def test_names_and_shapes():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 7, 6, 3])
        assert tf.nn.depthwise_conv2d(x, DW, [1, 1, 1, 1], "SAME").name == "depthwise:0"
        assert tf.nn.depthwise_conv2d_native(x, DW, [1, 1, 1, 1], "VALID").shape.as_list() == [None, 5, 4, 6]
        assert tf.nn.separable_conv2d(x, DW, PW, [1, 1, 1, 1], "SAME").shape.as_list() == [None, 7, 6, 4]
        y, mean, var = tf.nn.fused_batch_norm(x, SCALE, OFFSET)
        assert y.name == "FusedBatchNormV3:0" and mean.shape.as_list() == [3] and var.shape.as_list() == [3]
        assert tf.nn.lrn(x).name == "LRN:0" and tf.nn.local_response_normalization is tf.nn.lrn


def test_errors():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [2, 7, 6, 4])
        with pytest.raises(ValueError, match="Dimensions must be equal"):
            tf.nn.depthwise_conv2d_native(x, DW, [1, 1, 1, 1], "SAME")
        with pytest.raises(ValueError, match="strides > 1 not supported in conjunction with rate > 1"):
            tf.nn.depthwise_conv2d(x, DW, [1, 2, 2, 1], "SAME", rate=[2, 2])
        with pytest.raises(ValueError, match="must be a 1D tensor when `is_training` is False"):
            tf.nn.fused_batch_norm(x, SCALE, OFFSET, is_training=False)
        with pytest.raises(ValueError, match="Shape must be rank 4"):
            tf.nn.fused_batch_norm(tf.zeros([2, 3]), SCALE, OFFSET)
        with pytest.raises(ValueError, match="Shape must be rank 4"):
            tf.nn.lrn(tf.zeros([2, 3]))
        with pytest.raises(TypeError, match="DataType int32 not in list of allowed values"):
            tf.nn.lrn(tf.zeros([1, 2, 2, 3], tf.int32))
        with pytest.raises(ValueError, match="incompatible"):
            tf.nn.separable_conv2d(tf.zeros([1, 5, 5, 3]), DW, np.zeros((2, 2, 6, 4), np.float32), [1, 1, 1, 1], "SAME")


def test_errors_match_tf():
    """The same bad arguments raise the same error classes under TensorFlow."""
    tf1 = pytest.importorskip("tensorflow.compat.v1")
    tf1.disable_eager_execution()
    for lib in (tf, tf1):
        with lib.Graph().as_default():
            x = lib.placeholder(lib.float32, [2, 7, 6, 4])
            with pytest.raises(ValueError):
                lib.nn.depthwise_conv2d_native(x, DW, [1, 1, 1, 1], "SAME")
            with pytest.raises(ValueError):
                lib.nn.depthwise_conv2d(x, DW, [1, 2, 2, 1], "SAME", rate=[2, 2])
            with pytest.raises(ValueError):
                lib.nn.fused_batch_norm(x, SCALE, OFFSET, is_training=False)
            with pytest.raises(TypeError):
                lib.nn.lrn(lib.zeros([1, 2, 2, 3], lib.int32))
