"""Optional differential tests against TensorFlow itself (tf.compat.v1, graph mode): the
same graph built with `lowerflow` and with TensorFlow gives the same values, static
shapes and error classes. Skipped when TensorFlow is not installed."""
from __future__ import annotations

import numpy as np
import pytest

import lowerflow as lf

real_tf = pytest.importorskip("tensorflow")
tf1 = real_tf.compat.v1
if hasattr(tf1, "disable_eager_execution"):
    tf1.disable_eager_execution()

X = np.random.default_rng(5).standard_normal((3, 4, 5)).astype(np.float32)
LABELS = np.random.default_rng(6).uniform(size=(3, 4, 5)).astype(np.float32)
BUILDERS = {
    "sum": lambda m, x, y: m.reduce_sum(x, [0, 2], keepdims=True),
    "mean": lambda m, x, y: m.reduce_mean(x, -1),
    "max": lambda m, x, y: m.reduce_max(x, reduction_indices=1),
    "min": lambda m, x, y: m.reduce_min(x),
    "prod": lambda m, x, y: m.reduce_prod(x, 2, keep_dims=True),
    "any": lambda m, x, y: m.reduce_any(x > 0.5, 1),
    "all": lambda m, x, y: m.reduce_all(x > -2.0, [0, 1]),
    "argmax": lambda m, x, y: m.argmax(x, 2),
    "argmin": lambda m, x, y: m.argmin(x, output_type=m.int32),
    "matmul": lambda m, x, y: m.matmul(x, y, transpose_b=True),
    "relu6": lambda m, x, y: m.nn.relu6(x * 4),
    "elu": lambda m, x, y: m.nn.elu(x),
    "selu": lambda m, x, y: m.nn.selu(x),
    "softplus": lambda m, x, y: m.nn.softplus(x * 30),
    "leaky_relu": lambda m, x, y: m.nn.leaky_relu(x),
    "softmax": lambda m, x, y: m.nn.softmax(x * 50, axis=1),
    "log_softmax": lambda m, x, y: m.nn.log_softmax(x * 50),
    "bias_add": lambda m, x, y: m.nn.bias_add(x, m.constant(np.arange(5, dtype=np.float32))),
    "l2_normalize": lambda m, x, y: m.nn.l2_normalize(x, axis=[1, 2]),
    "xent_v2": lambda m, x, y: m.nn.softmax_cross_entropy_with_logits_v2(labels=y, logits=x),
    "xent_v1": lambda m, x, y: m.nn.softmax_cross_entropy_with_logits(labels=y, logits=x, dim=1),
    "sigmoid_xent": lambda m, x, y: m.nn.sigmoid_cross_entropy_with_logits(labels=y, logits=x),
    "moments": lambda m, x, y: m.nn.moments(x, [0, 1]),
    "sparse_xent": lambda m, x, y: m.nn.sparse_softmax_cross_entropy_with_logits(labels=m.argmax(y, -1),
                                                                                  logits=x),
}


def _run(module, build, x, y):
    with module.Graph().as_default():
        px = module.placeholder(module.float32, x.shape)
        py = module.placeholder(module.float32, y.shape)
        out = build(module, px, py)
        outs = out if isinstance(out, tuple) else (out,)
        shapes = [o.shape.as_list() for o in outs]
        with module.Session() as sess:
            return sess.run(list(outs), {px: x, py: y}), shapes


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_values_and_shapes_match_tensorflow(name):
    want, want_shapes = _run(tf1, BUILDERS[name], X, LABELS)
    got, got_shapes = _run(lf, BUILDERS[name], X, LABELS)
    assert got_shapes == want_shapes
    for g, w in zip(got, want):
        assert g.dtype == w.dtype and g.shape == w.shape
        np.testing.assert_allclose(g, w, rtol=2e-5, atol=1e-6)


ERRORS = {
    "matmul_inner": lambda m: m.matmul(m.placeholder(m.float32, [2, 3]), m.placeholder(m.float32, [4, 5])),
    "matmul_rank": lambda m: m.matmul(m.placeholder(m.float32, [3]), m.placeholder(m.float32, [3, 5])),
    "matmul_dtype": lambda m: m.matmul(m.placeholder(m.float32, [2, 3]), m.placeholder(m.float64, [3, 5])),
    "reduce_axis": lambda m: m.reduce_sum(m.placeholder(m.float32, [2, 3]), 2),
    "reduce_bool": lambda m: m.reduce_sum(m.placeholder(m.bool, [2])),
    "any_float": lambda m: m.reduce_any(m.placeholder(m.float32, [2])),
    "bias_dims": lambda m: m.nn.bias_add(m.placeholder(m.float32, [2, 3]), m.placeholder(m.float32, [4])),
    "uniform_int": lambda m: m.random_uniform([2], dtype=m.int32),
    "normal_int": lambda m: m.random_normal([2], dtype=m.int32),
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_build_errors_match_tensorflow(name):
    def error_of(module):
        with module.Graph().as_default():
            try:
                ERRORS[name](module)
            except (TypeError, ValueError) as e:
                return type(e), str(e)
        return None, ""

    want, want_msg = error_of(tf1)
    got, got_msg = error_of(lf)
    assert got is want, (got_msg, want_msg)


def test_matmul_error_text_matches_tensorflow():
    """TF 1.x names the node as "'MatMul' (op: 'MatMul')", TF 2's compat.v1 spells it out."""
    def message(module):
        with module.Graph().as_default(), pytest.raises(ValueError) as e:
            ERRORS["matmul_inner"](module)
        return str(e.value)

    want = message(tf1)
    assert want.startswith("Dimensions must be equal, but are 3 and 4 for ")
    assert want.endswith(" with input shapes: [2,3], [4,5].")
    if real_tf.__version__.startswith("1."):
        assert message(lf) == want


def _value_error(fn) -> str | None:
    """The first sentence of the ValueError `fn` raises (TF appends a traceback), or None."""
    try:
        fn()
    except ValueError as e:
        return str(e).split(" Did you")[0]
    return None


def test_variable_scopes_match_tensorflow():
    def names(module):
        with module.Graph().as_default():
            with module.variable_scope("foo"):
                w = module.get_variable("w", [2, 3])
                a = module.add(1.0, 2.0)
            with module.variable_scope("foo", reuse=True):
                same = module.get_variable("w", [2, 3]) is w
                b = module.add(1.0, 2.0)
                missing = _value_error(lambda: module.get_variable("nope", [1]))
            with module.variable_scope("foo", reuse=module.AUTO_REUSE):
                c = module.get_variable("c", [1], initializer=module.zeros_initializer())
            exists = _value_error(lambda: module.get_variable("foo/w", [2, 3]))
            return [w.name, a.name, b.name, c.name, same, missing, exists]

    assert names(lf) == names(tf1)


def test_random_shapes_and_dtypes_match_tensorflow():
    def describe(module):
        with module.Graph().as_default():
            outs = [module.random_normal([2, 3], dtype=module.float64), module.truncated_normal([4]),
                    module.random_uniform([5], 0, 7, dtype=module.int64), module.random_uniform([1, 2])]
            return [(o.shape.as_list(), o.dtype.name, o.op.name) for o in outs]

    assert describe(lf) == describe(tf1)
