"""tf.nn.rnn_cell cells through tf.nn.static_rnn / static_bidirectional_rnn against
tensorflow.compat.v1: variable names and shapes, outputs, final states and the gradients of
a loss w.r.t. every variable, from the same initial values (fed to the variables'
initializers); finite differences on a tiny float64 LSTM; TF's errors."""
from __future__ import annotations

import zlib

import numpy as np
import pytest

import lowerflow
from tests.models.helpers import tf1

STEPS, BATCH, DEPTH = 3, 2, 4


def tf_reference():
    """tensorflow.compat.v1 with its `nn.rnn_cell` (TF 2.16+ moved the cells to tf_keras;
    without it, TF's own vendored copy of the same classes)."""
    tf = tf1()
    try:
        tf.nn.rnn_cell.BasicLSTMCell  # noqa: B018  (lazy: raises without Keras 2)
        cells = tf.nn.rnn_cell
    except (AttributeError, ImportError):
        from tensorflow.python.keras.layers.legacy_rnn import rnn_cell_impl as cells
    return tf, cells


CELLS = {
    "basic_rnn": lambda c: c.BasicRNNCell(5),
    "basic_lstm": lambda c: c.BasicLSTMCell(5, forget_bias=0.5),
    "basic_lstm_concat": lambda c: c.BasicLSTMCell(3, state_is_tuple=False),
    "lstm": lambda c: c.LSTMCell(5, use_peepholes=True, cell_clip=0.8, num_proj=3, proj_clip=0.5),
    "lstm_concat": lambda c: c.LSTMCell(4, num_proj=3, state_is_tuple=False, forget_bias=0.0),
    "gru": lambda c: c.GRUCell(5),
    "multi": lambda c: c.MultiRNNCell([c.DropoutWrapper(c.BasicLSTMCell(5)), c.GRUCell(4)]),
}
LENGTHS = {"basic_lstm": [3, 1], "gru": [2, 3], "multi": [0, 2]}


def _values(var_shapes: dict) -> dict:
    """A fixed array per variable name, in [-0.7, 0.7)."""
    return {name: np.random.default_rng(zlib.crc32(name.encode())).uniform(-0.7, 0.7, shape).astype(np.float32)
            for name, shape in var_shapes.items()}


def _inputs(dtype=np.float32):
    rng = np.random.default_rng(7)
    return [rng.uniform(-1, 1, (BATCH, DEPTH)).astype(dtype) for _ in range(STEPS)]


def run_case(tf, cells, case: str) -> dict:
    """Outputs, final state leaves, gradients and variable names/shapes of one case."""
    with tf.Graph().as_default():
        xs = [tf.placeholder(tf.float32, [None, DEPTH]) for _ in range(STEPS)]
        if case == "bidirectional":
            outputs, fw, bw = tf.nn.static_bidirectional_rnn(cells.GRUCell(3), cells.BasicLSTMCell(2), xs,
                                                             dtype=tf.float32, sequence_length=[2, 3])
            state = (fw, bw)
        else:
            outputs, state = tf.nn.static_rnn(CELLS[case](cells), xs, dtype=tf.float32,
                                              sequence_length=LENGTHS.get(case))
        weights = tf.constant(np.linspace(-1, 1, outputs[0].shape[-1]).astype(np.float32))
        loss = tf.add_n([tf.reduce_sum(tf.square(o) * weights) * (t + 1) for t, o in enumerate(outputs)])
        variables = tf.trainable_variables()
        grads = tf.gradients(loss, variables)
        flat_state = list(state) if not isinstance(state, tf.Tensor) else [state]
        while any(isinstance(s, (tuple, list)) for s in flat_state):
            flat_state = [leaf for s in flat_state for leaf in (s if isinstance(s, (tuple, list)) else [s])]
        names = {v.op.name: v.shape.as_list() for v in tf.global_variables()}
        values = _values(names)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer(),
                     {v.initial_value: values[v.op.name] for v in tf.global_variables()})
            out, st, gr = sess.run([outputs, flat_state, grads], {x: a for x, a in zip(xs, _inputs())})
    return {"names": names, "outputs": out, "state": st, "grads": gr, "shapes": [o.shape.as_list() for o in outputs]}


@pytest.fixture(scope="module")
def theirs():
    tf, cells = tf_reference()
    return {case: run_case(tf, cells, case) for case in [*CELLS, "bidirectional"]}


@pytest.mark.parametrize("case", [*CELLS, "bidirectional"])
def test_matches_tensorflow(case, theirs):
    ours, ref = run_case(lowerflow, lowerflow.nn.rnn_cell, case), theirs[case]
    assert ours["names"] == ref["names"]
    # with sequence_length, our rows select from a [batch] condition and know its static batch
    for a, b in zip(ours["shapes"], ref["shapes"]):
        assert lowerflow.TensorShape(a).is_compatible_with(b) and (a == b or case in LENGTHS)
    for key in ("outputs", "state", "grads"):
        assert len(ours[key]) == len(ref[key])
        for a, b in zip(ours[key], ref[key]):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5, err_msg=f"{case} {key}")


def test_masked_rows_copy_state_and_output_zeros(theirs):
    """basic_lstm's row 1 has length 1: zero outputs after step 0, its state frozen there."""
    out = theirs["basic_lstm"]["outputs"]
    assert np.all(out[1][1] == 0) and np.all(out[2][1] == 0) and np.any(out[0][1] != 0)


def test_gradients_match_finite_differences():
    """A tiny float64 LSTM: d loss / d kernel along random directions, centred differences."""
    tf = lowerflow
    with tf.Graph().as_default():
        xs = [tf.placeholder(tf.float64, [BATCH, DEPTH]) for _ in range(2)]
        cell = tf.nn.rnn_cell.LSTMCell(2, use_peepholes=True, num_proj=2)
        outputs, state = tf.nn.static_rnn(cell, xs, dtype=tf.float64)
        loss = tf.reduce_sum(tf.square(outputs[-1])) + tf.reduce_sum(state.c)
        variables = tf.trainable_variables()
        grads = tf.gradients(loss, variables)
        base = {v.op.name: np.random.default_rng(3).uniform(-0.8, 0.8, v.shape.as_list()) for v in variables}
        feed = {x: a.astype(np.float64) for x, a in zip(xs, _inputs())}
        with tf.Session() as sess:
            def loss_at(values):
                sess.run(tf.global_variables_initializer(), {v.initial_value: values[v.op.name] for v in variables})
                return sess.run(loss, feed)
            loss_at(base)
            analytic = dict(zip(base, sess.run(grads, feed)))
            rng, eps = np.random.default_rng(5), 1e-6
            for name in base:
                d = rng.normal(size=base[name].shape)
                plus = loss_at({**base, name: base[name] + eps * d})
                minus = loss_at({**base, name: base[name] - eps * d})
                np.testing.assert_allclose((plus - minus) / (2 * eps), np.sum(analytic[name] * d), rtol=1e-6,
                                           atol=1e-8, err_msg=name)


def test_dropout_wrapper_drops_outputs_and_the_lstm_h_only():
    """output_keep_prob 0.5: each output element is 0 or twice the unwrapped one; state
    dropout never touches an LSTM's c."""
    tf = lowerflow
    with tf.Graph().as_default():
        x = tf.constant(_inputs()[0])
        cell = tf.nn.rnn_cell.BasicLSTMCell(64)
        wrapped = tf.nn.rnn_cell.DropoutWrapper(cell, output_keep_prob=0.5, state_keep_prob=0.5, seed=3)
        state = cell.zero_state(BATCH, tf.float32)
        plain_out, plain_state = cell(x, state)
        out, new_state = wrapped(x, state)
        assert [v.op.name for v in wrapped.variables] == ["basic_lstm_cell/kernel", "basic_lstm_cell/bias"]
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            p, o, pc, c, ph, h = sess.run([plain_out, out, plain_state.c, new_state.c, plain_state.h, new_state.h])
    assert np.all((o == 0) | np.isclose(o, 2 * p)) and 0.3 < np.mean(o == 0) < 0.7
    np.testing.assert_array_equal(c, pc)
    assert np.all((h == 0) | np.isclose(h, 2 * ph)) and 0.3 < np.mean(h == 0) < 0.7


def test_zero_state_and_sizes():
    tf = lowerflow
    with tf.Graph().as_default():
        cell = tf.nn.rnn_cell.MultiRNNCell([tf.nn.rnn_cell.BasicLSTMCell(3), tf.nn.rnn_cell.GRUCell(2)])
        assert cell.state_size == (tf.nn.rnn_cell.LSTMStateTuple(3, 3), 2) and cell.output_size == 2
        (lstm, gru) = cell.zero_state(tf.placeholder(tf.int32, []), tf.float32)
        assert isinstance(lstm, tf.nn.rnn_cell.LSTMStateTuple) and lstm.dtype is tf.float32
        assert lstm.c.shape.as_list() == [None, 3] and gru.shape.as_list() == [None, 2]
        assert cell.zero_state(4, tf.float64)[1].shape.as_list() == [4, 2]


def _names(tf, cells, build) -> list[str]:
    with tf.Graph().as_default():
        build(tf, cells, [tf.placeholder(tf.float32, [BATCH, DEPTH])])
        return [v.op.name for v in tf.global_variables()]


SCOPING = {
    # one cell used twice shares its variables; `scope` names the scope
    "reused_cell": lambda tf, c, xs: [tf.nn.static_rnn(cell, xs, dtype=tf.float32) for cell in [c.GRUCell(2)] * 2],
    "scoped": lambda tf, c, xs: tf.nn.static_rnn(c.BasicLSTMCell(2, name="enc"), xs, dtype=tf.float32, scope="a"),
    "direct": lambda tf, c, xs: [cell(xs[0], cell.zero_state(BATCH, tf.float32), scope="foo")
                                 for cell in [c.BasicRNNCell(2)] * 2],
    "initializer": lambda tf, c, xs: tf.nn.static_rnn(
        c.LSTMCell(2, initializer=tf.constant_initializer(0.5)), xs, dtype=tf.float32),
}


@pytest.mark.parametrize("case", SCOPING)
def test_variable_names_match_tensorflow(case):
    tf, cells = tf_reference()
    assert _names(lowerflow, lowerflow.nn.rnn_cell, SCOPING[case]) == _names(tf, cells, SCOPING[case])


def test_default_initializers():
    """Kernels from the scope's initializer (glorot-uniform by default), biases zeros, GRU gate biases ones."""
    tf = lowerflow
    with tf.Graph().as_default():
        xs = [tf.placeholder(tf.float32, [BATCH, DEPTH])]
        tf.nn.static_rnn(tf.nn.rnn_cell.GRUCell(6), xs, dtype=tf.float32)
        with tf.variable_scope("init", initializer=tf.constant_initializer(0.25)):
            tf.nn.static_rnn(tf.nn.rnn_cell.BasicLSTMCell(2), xs, dtype=tf.float32)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            v = {var.op.name: sess.run(var) for var in tf.global_variables()}
    limit = np.sqrt(6 / (10 + 12))
    kernel = v["rnn/gru_cell/gates/kernel"]
    assert np.abs(kernel).max() <= limit and kernel.std() > limit / 4
    np.testing.assert_array_equal(v["rnn/gru_cell/gates/bias"], np.ones(12, np.float32))
    np.testing.assert_array_equal(v["rnn/gru_cell/candidate/bias"], np.zeros(6, np.float32))
    np.testing.assert_array_equal(v["init/rnn/basic_lstm_cell/kernel"], np.full((6, 8), 0.25, np.float32))
    np.testing.assert_array_equal(v["init/rnn/basic_lstm_cell/bias"], np.zeros(8, np.float32))


def ph(tf, shape, dtype=None):
    return tf.placeholder(dtype or tf.float32, shape)


ERRORS = {
    "rank_3": (ValueError, "expected ndim=2, found ndim=3",
               lambda tf, c: tf.nn.static_rnn(c.BasicLSTMCell(4), [ph(tf, [2, 3, 5])], dtype=tf.float32)),
    "rank_1": (ValueError, "expected ndim=2, found ndim=1",
               lambda tf, c: tf.nn.static_rnn(c.GRUCell(4), [ph(tf, [3])], dtype=tf.float32)),
    "not_a_sequence": (TypeError, "Argument `inputs` must be a sequence",
                       lambda tf, c: tf.nn.static_rnn(c.GRUCell(4), ph(tf, [2, 3]), dtype=tf.float32)),
    "empty": (ValueError, "Argument `inputs` must not be empty",
              lambda tf, c: tf.nn.static_rnn(c.GRUCell(4), [], dtype=tf.float32)),
    "no_dtype": (ValueError, "If no initial_state is provided, argument `dtype` must be specified",
                 lambda tf, c: tf.nn.static_rnn(c.GRUCell(4), [ph(tf, [2, 3])])),
    "unknown_depth": (ValueError, "must be accessible via shape inference",
                      lambda tf, c: tf.nn.static_rnn(c.GRUCell(4), [ph(tf, [2, None])], dtype=tf.float32)),
    "tensor_for_tuple_state": (TypeError, "",
                               lambda tf, c: tf.nn.static_rnn(c.BasicLSTMCell(4), [ph(tf, [2, 3])],
                                                              initial_state=ph(tf, [2, 8]))),
    "multi_state_not_tuple": (ValueError, "Expected state to be a tuple of length 1",
                              lambda tf, c: tf.nn.static_rnn(c.MultiRNNCell([c.GRUCell(4)]), [ph(tf, [2, 3])],
                                                             initial_state=ph(tf, [2, 4]))),
    "sequence_length_rank": (ValueError, "Argument `sequence_length` must be a vector of length 2",
                             lambda tf, c: tf.nn.static_rnn(c.GRUCell(4), [ph(tf, [2, 3])], dtype=tf.float32,
                                                            sequence_length=[[1, 2]])),
    "batch_mismatch": (ValueError, "Dimensions 2 and 3 are not compatible",
                       lambda tf, c: tf.nn.static_rnn(c.GRUCell(4), [ph(tf, [2, 3]), ph(tf, [3, 3])],
                                                      dtype=tf.float32)),
    "not_a_cell": (TypeError, "The argument 'cell' \\(x\\) is not an RNNCell",
                   lambda tf, c: tf.nn.static_rnn("x", [ph(tf, [2, 3])], dtype=tf.float32)),
    "int_inputs": (ValueError, "RNN cell only supports floating point inputs, but saw dtype: <dtype: 'int32'>",
                   lambda tf, c: tf.nn.static_rnn(c.GRUCell(4), [ph(tf, [2, 3], tf.int32)], dtype=tf.int32)),
    "no_cells": (ValueError, "Must specify at least one cell for MultiRNNCell", lambda tf, c: c.MultiRNNCell([])),
    "keep_prob": (ValueError, "Parameter input_keep_prob must be between 0 and 1: 1",
                  lambda tf, c: c.DropoutWrapper(c.GRUCell(4), input_keep_prob=1.5)),
    "new_cell_same_scope": (ValueError, "Variable a/basic_lstm_cell/kernel already exists, disallowed",
                            lambda tf, c: [tf.nn.static_rnn(c.BasicLSTMCell(4), [ph(tf, [2, 3])], dtype=tf.float32,
                                                            scope="a") for _ in range(2)]),
    "bidirectional_not_a_cell": (TypeError, "The argument 'cell_bw' \\(x\\) is not an RNNCell",
                                 lambda tf, c: tf.nn.static_bidirectional_rnn(c.GRUCell(4), "x", [ph(tf, [2, 3])],
                                                                              dtype=tf.float32)),
}


@pytest.mark.parametrize("case", ERRORS)
def test_errors_match_tensorflow(case):
    error, match, build = ERRORS[case]
    tf, cells = tf_reference()
    for lib, c in ((lowerflow, lowerflow.nn.rnn_cell), (tf, cells)):
        with lib.Graph().as_default(), pytest.raises(error, match=match):
            build(lib, c)
