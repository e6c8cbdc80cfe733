"""tf.variable_scope / tf.get_variable: TF1's naming, reuse rules and errors, and the
initializers' graphs and values (reference interpreter)."""
from __future__ import annotations

import numpy as np
import pytest

import lowerflow as tf
from ops_a.helpers import reference_run


def test_names_and_name_scopes():
    with tf.Graph().as_default():
        with tf.variable_scope("foo") as scope:
            w = tf.get_variable("w", [2, 3])
            assert tf.add(1, 2).op.name == "foo/Add"
            with tf.variable_scope("bar"):
                assert tf.get_variable("b", [3]).name == "foo/bar/b:0"
                assert tf.get_variable_scope().name == "foo/bar"
        assert scope.name == "foo" and scope.original_name_scope == "foo/"
        assert w.name == "foo/w:0" and w.op.type == "VariableV2"
        assert w.initial_value.op.name.startswith("foo/w/Initializer/random_uniform")
        with tf.name_scope("ns"):
            assert tf.get_variable("v", [1]).name == "v:0"  # name scopes do not name variables
        with tf.variable_scope("foo", reuse=True):
            assert tf.add(1, 2).op.name == "foo_1/Add"
        with tf.variable_scope(scope):  # a scope object reopens its variable names
            assert tf.get_variable_scope().original_name_scope == "foo/"
            assert tf.get_variable("z", [1]).name == "foo/z:0"
        with tf.variable_scope(None, default_name="layer"):
            assert tf.get_variable("k", [1]).name == "layer/k:0"
        with tf.variable_scope(None, default_name="layer"):
            assert tf.get_variable("k", [1]).name == "layer_1/k:0"
        with tf.variable_scope("aux", auxiliary_name_scope=False):
            assert tf.add(1, 2).op.name == "Add"  # no name scope of its own
        assert [v.name for v in tf.trainable_variables()] == [
            "foo/w:0", "foo/bar/b:0", "v:0", "foo/z:0", "layer/k:0", "layer_1/k:0"]


def test_reuse_rules_and_errors():
    with tf.Graph().as_default():
        with tf.variable_scope("foo"):
            w = tf.get_variable("w", [2])
            with pytest.raises(ValueError, match=r"^Variable foo/w already exists, disallowed. Did you "
                                                 r"mean to set reuse=True or reuse=tf.AUTO_REUSE in VarScope\?"):
                tf.get_variable("w", [2])
        with tf.variable_scope("foo", reuse=True):
            assert tf.get_variable("w", [2]) is w and tf.get_variable("w") is w
            assert tf.get_variable_scope().reuse is True
            with pytest.raises(ValueError, match=r"^Variable foo/x does not exist, or was not created "
                                                 r"with tf.get_variable\(\)"):
                tf.get_variable("x", [2])
            with tf.variable_scope("inner", reuse=False):
                assert tf.get_variable_scope().reuse is True  # reuse is inherited, False cannot undo it
            with pytest.raises(ValueError, match="Trying to share variable foo/w, but specified shape"):
                tf.get_variable("w", [3])
            with pytest.raises(ValueError, match="specified dtype float64 and found dtype float32"):
                tf.get_variable("w", [2], dtype=tf.float64)
        with tf.variable_scope("foo") as scope:
            scope.reuse_variables()
            assert tf.get_variable("w") is w
        with tf.variable_scope("foo", reuse=tf.AUTO_REUSE):
            assert tf.get_variable("w", [2]) is w
            assert tf.get_variable("new", [1]).name == "foo/new:0"
        with pytest.raises(ValueError, match="The reuse parameter must be"):
            with tf.variable_scope("foo", reuse="yes"):
                pass
        with pytest.raises(ValueError, match="reuse=True cannot be used without a name_or_scope"):
            with tf.variable_scope(None, default_name="d", reuse=True):
                pass
        with pytest.raises(TypeError):
            with tf.variable_scope(None):
                pass
        with pytest.raises(ValueError, match="If initializer is a constant, do not specify shape"):
            tf.get_variable("c", [2], initializer=[1.0, 2.0])
        with pytest.raises(ValueError, match="must be fully defined"):
            tf.get_variable("u", [None, 2])


def test_scope_defaults_and_regularizer():
    with tf.Graph().as_default():
        with tf.variable_scope("s", initializer=tf.ones_initializer(), dtype=tf.float64,
                               regularizer=lambda v: tf.reduce_sum(v)):
            v = tf.get_variable("v", [2])
            i = tf.get_variable("i", [3], dtype=tf.int32)
            c = tf.get_variable("c", initializer=tf.constant([1, 2]))
        assert v.dtype == tf.float64 and i.dtype == tf.int32 and c.shape.as_list() == [2]
        losses = tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)
        assert [loss.op.name for loss in losses] == ["s/v/Regularizer/Sum", "s/i/Regularizer/Sum",
                                                     "s/c/Regularizer/Sum"]
        got = reference_run([v.initial_value, i.initial_value, c.initial_value])
    np.testing.assert_array_equal(got[0], [1.0, 1.0])
    np.testing.assert_array_equal(got[1], [1, 1, 1])
    np.testing.assert_array_equal(got[2], [1, 2])


INITIALIZERS = {
    "zeros": (lambda: tf.zeros_initializer(), lambda x: np.all(x == 0)),
    "ones": (lambda: tf.initializers.ones(), lambda x: np.all(x == 1)),
    "constant": (lambda: tf.constant_initializer(2.5), lambda x: np.all(x == 2.5)),
    "normal": (lambda: tf.random_normal_initializer(1.0, 0.5, seed=1), lambda x: abs(x.mean() - 1) < 0.05),
    "uniform": (lambda: tf.random_uniform_initializer(-2, 2, seed=1), lambda x: np.abs(x).max() <= 2),
    "truncated": (lambda: tf.truncated_normal_initializer(stddev=0.1), lambda x: np.abs(x).max() <= 0.2),
    "glorot_uniform": (lambda: tf.glorot_uniform_initializer(), lambda x: np.abs(x).max() <= np.sqrt(6 / 150)),
    "glorot_normal": (lambda: tf.keras.initializers.glorot_normal(),
                      lambda x: np.abs(x).max() <= 2 * np.sqrt(2 / 150) / 0.8796),
    "default": (lambda: None, lambda x: np.abs(x).max() <= np.sqrt(6 / 150) and x.std() > 0.05),
    "keras_normal": (lambda: tf.keras.initializers.RandomNormal(), lambda x: abs(x.std() - 0.05) < 0.005),
    "he_uniform": (lambda: tf.initializers.he_uniform(), lambda x: np.abs(x).max() <= np.sqrt(6 / 50)),
}


@pytest.mark.parametrize("name", sorted(INITIALIZERS))
def test_initializer_values(name):
    make, check = INITIALIZERS[name]
    with tf.Graph().as_default():
        v = tf.get_variable("v", [50, 100], initializer=make())
        (value,) = reference_run([v.initial_value])
    assert value.shape == (50, 100) and value.dtype == np.float32 and check(value)


def test_initializer_objects():
    cfg = tf.glorot_normal_initializer(seed=3).get_config()
    assert cfg == {"seed": 3, "dtype": "float32"}
    assert tf.variance_scaling_initializer(2.0, "fan_out").get_config()["mode"] == "fan_out"
    with pytest.raises(ValueError, match="Invalid `mode` argument"):
        tf.variance_scaling_initializer(mode="fan")
    with pytest.raises(ValueError, match="positive"):
        tf.variance_scaling_initializer(scale=0.0)
    with pytest.raises(ValueError, match="Expected floating point type"):
        tf.random_normal_initializer(dtype=tf.int32)
    with tf.Graph().as_default():
        t = tf.zeros_initializer()([2], dtype=tf.bool)
        assert t.dtype == tf.bool and t.op.name == "zeros"
        assert tf.initializers.global_variables().type == "NoOp"
