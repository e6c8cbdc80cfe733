"""tf.nn.dynamic_rnn and bidirectional_dynamic_rnn against tensorflow.compat.v1: variable
names and shapes, outputs, final states and the gradients of a loss w.r.t. every variable
and the inputs, from the same initial values; sequence lengths, time-major inputs, given
initial states; TF's errors."""
from __future__ import annotations

import numpy as np
import pytest

import lowerflow
from tests.rnn.test_static_rnn import CELLS, _values, tf_reference

STEPS, BATCH, DEPTH = 4, 3, 2
LENGTHS = [4, 1, 0]


def _build(tf, cells, case: str, x):
    """(outputs, state) of one case over x [batch, time, depth] (or time-major)."""
    if case == "bidirectional":
        (fw, bw), states = tf.nn.bidirectional_dynamic_rnn(cells.GRUCell(3), cells.BasicLSTMCell(2), x,
                                                           sequence_length=LENGTHS, dtype=tf.float32)
        return [fw, bw], states
    if case == "bidirectional_time_major":
        (fw, bw), states = tf.nn.bidirectional_dynamic_rnn(cells.BasicRNNCell(2), cells.GRUCell(2),
                                                           tf.transpose(x, [1, 0, 2]), dtype=tf.float32,
                                                           time_major=True)
        return [fw, bw], states
    if case == "time_major":
        return tf.nn.dynamic_rnn(cells.BasicLSTMCell(3), tf.transpose(x, [1, 0, 2]), dtype=tf.float32,
                                 time_major=True, scope="encoder")
    if case == "initial_state":
        cell = cells.GRUCell(3)
        return tf.nn.dynamic_rnn(cell, x, initial_state=tf.ones([BATCH, 3]) * 0.5, sequence_length=[2, 3, 4])
    lengths = LENGTHS if case.endswith("_lengths") else None
    return tf.nn.dynamic_rnn(CELLS[case.removesuffix("_lengths")](cells), x, sequence_length=lengths,
                             dtype=tf.float32)


def _leaves(tf, structure) -> list:
    if isinstance(structure, (tuple, list)):
        return [leaf for s in structure for leaf in _leaves(tf, s)]
    return [structure]


def run_case(tf, cells, case: str) -> dict:
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, STEPS, DEPTH])
        outputs, state = _build(tf, cells, case, x)
        outs, states = _leaves(tf, outputs), _leaves(tf, state)
        loss = tf.add_n([tf.reduce_sum(tf.square(o) * np.linspace(-1, 1, o.shape[-1]).astype(np.float32))
                         for o in outs]) + tf.add_n([tf.reduce_sum(s) for s in states])
        variables = tf.trainable_variables()
        grads = tf.gradients(loss, variables + [x])
        names = {v.op.name: v.shape.as_list() for v in tf.global_variables()}
        values = _values(names)
        feed = {x: np.random.default_rng(11).uniform(-1, 1, (BATCH, STEPS, DEPTH)).astype(np.float32)}
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer(),
                     {v.initial_value: values[v.op.name] for v in tf.global_variables()})
            out, st, gr = sess.run([outs, states, grads], feed)
    return {"names": names, "outputs": out, "state": st, "grads": gr,
            "shapes": [o.shape.as_list() for o in outs + states]}


CASES = ["basic_lstm", "basic_lstm_lengths", "lstm", "lstm_concat", "gru_lengths", "multi", "multi_lengths",
         "basic_rnn", "time_major", "initial_state", "bidirectional", "bidirectional_time_major"]


@pytest.fixture(scope="module")
def theirs():
    tf, cells = tf_reference()
    return {case: run_case(tf, cells, case) for case in CASES}


@pytest.mark.parametrize("case", CASES)
def test_matches_tensorflow(case, theirs):
    ours, ref = run_case(lowerflow, lowerflow.nn.rnn_cell, case), theirs[case]
    assert ours["names"] == ref["names"]
    for a, b in zip(ours["shapes"], ref["shapes"]):
        assert lowerflow.TensorShape(a).is_compatible_with(b)
    for key in ("outputs", "state", "grads"):
        assert len(ours[key]) == len(ref[key])
        for a, b in zip(ours[key], ref[key]):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5, err_msg=f"{case} {key}")


def test_rows_past_their_length_output_zeros(theirs):
    out = theirs["basic_lstm_lengths"]["outputs"][0]  # [batch, time, units]; lengths 4, 1, 0
    assert np.all(out[1, 1:] == 0) and np.any(out[1, 0] != 0) and np.all(out[2] == 0)


def test_errors_as_tensorflow():
    tf = lowerflow
    with tf.Graph().as_default():
        cell = tf.nn.rnn_cell.GRUCell(2)
        with pytest.raises(ValueError, match="you must give a dtype"):
            tf.nn.dynamic_rnn(cell, tf.zeros([2, 3, 4]))
        with pytest.raises(ValueError, match="depth of inputs"):
            tf.nn.dynamic_rnn(cell, tf.placeholder(tf.float32, [2, 3, None]), dtype=tf.float32)
        with pytest.raises(TypeError, match="is not an RNNCell"):
            tf.nn.dynamic_rnn(object(), tf.zeros([2, 3, 4]), dtype=tf.float32)
        with pytest.raises(NotImplementedError, match="number of time steps"):
            tf.nn.dynamic_rnn(cell, tf.placeholder(tf.float32, [2, None, 4]), dtype=tf.float32)
