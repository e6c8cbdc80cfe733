"""Random ops at build time and in the reference interpreter: TF1 seeding, op structure,
distributions, and the run counter that makes successive runs differ."""
from __future__ import annotations

import numpy as np
import pytest

import lowerflow as tf
from lowerflow import ir
from lowerflow.ir.ops.random import RUN_COUNTER
from ops_a.helpers import reference_run

N = 40_000


def test_seeds_follow_tf1_get_seed():
    with tf.Graph().as_default() as g:
        a = tf.random_normal([2])
        assert a.op.type == "AddV2"
        tf.set_random_seed(7)
        assert g.seed == 7
        b = tf.random_normal([2], seed=3)
        c = tf.random_uniform([2])
        rnd_b = b.op.inputs[0].op.inputs[0].op
        assert rnd_b.type == "RandomStandardNormal" and rnd_b.name == "random_normal_1/RandomStandardNormal"
        assert (rnd_b.get_attr("seed"), rnd_b.get_attr("seed2")) == (7, 3)
        assert c.op.type == "RandomUniform"  # as TF1: a [0, 1) range is the op itself
        assert c.op.get_attr("seed2") > 0  # the graph's last op id
    with tf.Graph().as_default():
        d = tf.truncated_normal([2], seed=5).op.inputs[0].op.inputs[0].op
        assert (d.get_attr("seed"), d.get_attr("seed2")) == (87654321, 5)
        tf.set_random_seed(0)
        e = tf.random_uniform([2], seed=0).op
        assert (e.get_attr("seed"), e.get_attr("seed2")) == (0, 2**31 - 1)  # never (0, 0)


def _sample(build, counter=0):
    with tf.Graph().as_default():
        tf.set_random_seed(1)
        out = build()
        return out, reference_run([out], counter=counter)[0]


@pytest.mark.parametrize("dtype", [tf.float16, tf.float32, tf.float64])
def test_float_distributions(dtype):
    out, x = _sample(lambda: tf.random_normal([N], mean=2.0, stddev=3.0, dtype=dtype))
    assert out.dtype == dtype and x.dtype == dtype.as_numpy_dtype and x.shape == (N,)
    x = x.astype(np.float64)
    assert abs(x.mean() - 2.0) < 0.1 and abs(x.std() - 3.0) < 0.1
    _, t = _sample(lambda: tf.truncated_normal([N], stddev=2.0, dtype=dtype))
    t = t.astype(np.float64)
    assert np.abs(t).max() <= 4.0 and abs(t.std() - 2.0 * 0.8796) < 0.05
    _, u = _sample(lambda: tf.random_uniform([N], -1.0, 3.0, dtype=dtype))
    u = u.astype(np.float64)
    assert u.min() >= -1.0 and u.max() < 3.0 and abs(u.mean() - 1.0) < 0.05


@pytest.mark.parametrize("dtype", [tf.int32, tf.int64])
def test_int_uniform(dtype):
    out, x = _sample(lambda: tf.random_uniform([N], -3, 5, dtype=dtype))
    assert out.op.type == "RandomUniformInt" and out.op.name == "random_uniform"
    assert x.dtype == dtype.as_numpy_dtype and x.min() == -3 and x.max() == 4
    counts = np.bincount(x + 3)
    assert counts.min() > N / 8 * 0.9


def test_run_counter_changes_values_and_seeds_reproduce():
    def build():
        return tf.random_uniform([3, 4], seed=4)
    _, first = _sample(build, counter=0)
    _, again = _sample(build, counter=0)
    _, second = _sample(build, counter=1)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, second)


def test_shapes_and_errors():
    with tf.Graph().as_default():
        assert tf.random_normal(tf.TensorShape([2, 3])).shape.as_list() == [2, 3]
        assert tf.random_normal(np.array([4])).shape.as_list() == [4]
        assert tf.random.uniform(tf.constant([0, 2])).shape.as_list() == [0, 2]
        with pytest.raises(ValueError, match="Must specify maxval for integer dtype"):
            tf.random_uniform([2], dtype=tf.int32)
        with pytest.raises(ValueError, match="Invalid dtype"):
            tf.random_uniform([2], dtype=tf.bool)
        with pytest.raises(TypeError):
            tf.random_normal([2], dtype=tf.int32)
        assert tf.random_normal(tf.placeholder(tf.int32, [2])).shape.as_list() == [None, None]  # run-time value


def test_ir_form():
    with tf.Graph().as_default():
        module = tf.to_ir(tf.random_normal([2], seed=1))
    (rnd,) = [op for op in module.functions[0].ops if op.name == "lf.random_normal"]
    assert ir.get_op(rnd.name).has(RUN_COUNTER) and not ir.get_op(rnd.name).has("pure")
    assert rnd.operands[0] is module.functions[0].args[0]
    text = str(module)
    assert str(ir.parse_module(text)) == text
