"""The LSTM workloads: TF1's static_rnn over a BasicLSTMCell (batch 64, 28 steps of 28
inputs, 128 units) with a 128 -> 10 softmax layer on the last output; inference and a
GradientDescent training step.

The graph is the classic TF1 one (`tf.nn.static_rnn`, `tf.nn.rnn_cell.BasicLSTMCell`; or
`tf.nn.dynamic_rnn` for `lstm_train_dynamic`), the same for lowerflow and TensorFlow; the array-library expression is the same cell as a
loop over time: `lax.scan` for JAX (under jax.jit, `jax.grad` for the training step), a
Python loop and backpropagation through time written out for numpy.
"""
from __future__ import annotations

import numpy as np

from bench.workloads import Workload, _one_hot, _softmax, _xent, uniform

KERNEL, BIAS = "rnn/basic_lstm_cell/kernel", "rnn/basic_lstm_cell/bias"


def _cells(tf):
    """`tf.nn.rnn_cell`; TF 2.16+ without tf_keras keeps the classes only in its vendored copy."""
    try:
        tf.nn.rnn_cell.BasicLSTMCell  # noqa: B018  (lazy: raises without Keras 2)
        return tf.nn.rnn_cell
    except (AttributeError, ImportError):
        from tensorflow.python.keras.layers.legacy_rnn import rnn_cell_impl
        return rnn_cell_impl


def lstm_init(inputs: int, units: int, classes: int, **_) -> dict[str, np.ndarray]:
    """Glorot-uniform kernel and softmax weights, zero biases (BasicLSTMCell's), by TF1 name."""
    k, w = np.sqrt(6.0 / (inputs + 5 * units)), np.sqrt(6.0 / (units + classes))
    return {KERNEL: uniform((inputs + units, 4 * units), 30, -k, k), BIAS: np.zeros(4 * units, np.float32),
            "w": uniform((units, classes), 31, -w, w), "b": np.zeros(classes, np.float32)}


def _feeds(batch: int, steps: int, inputs: int, classes: int) -> dict[str, np.ndarray]:
    return {"x": uniform((batch, steps, inputs), 32, 0.0, 1.0), "y": _one_hot(batch, classes, 33)}


def _logits_graph(tf, x, values: dict, steps: int, units: int, dynamic: bool = False):
    def init(shape, dtype=None, partition_info=None):
        return values[KERNEL]
    with tf.variable_scope("rnn", initializer=init) as scope:
        cell = _cells(tf).BasicLSTMCell(units)
        if dynamic:
            last = tf.nn.dynamic_rnn(cell, x, dtype=tf.float32, scope=scope)[0][:, -1]
        else:
            last = tf.nn.static_rnn(cell, tf.unstack(x, steps, axis=1), dtype=tf.float32, scope=scope)[0][-1]
    return tf.matmul(last, tf.get_variable("w", initializer=values["w"])) + \
        tf.get_variable("b", initializer=values["b"])


def lstm_infer_graph(tf, batch: int, steps: int, inputs: int, units: int, classes: int, **_):
    def build():
        x = tf.placeholder(tf.float32, [batch, steps, inputs], name="x")
        return _logits_graph(tf, x, lstm_init(inputs, units, classes), steps, units)
    feeds = _feeds(batch, steps, inputs, classes)
    return build, {"x": feeds["x"]}


def lstm_train_graph(tf, batch: int, steps: int, inputs: int, units: int, classes: int, lr: float,
                     dynamic: bool = False, **_):
    def build():
        x = tf.placeholder(tf.float32, [batch, steps, inputs], name="x")
        y = tf.placeholder(tf.float32, [batch, classes], name="y")
        logits = _logits_graph(tf, x, lstm_init(inputs, units, classes), steps, units, dynamic)
        loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=y, logits=logits))
        return tf.train.GradientDescentOptimizer(lr).minimize(loss)
    return build, _feeds(batch, steps, inputs, classes)


def _sigmoid(xp, z):
    return 1.0 / (1.0 + xp.exp(-z))


def _cell(xp, kernel, bias, carry, x_t):
    """One BasicLSTMCell step, gates i, j, f, o, forget bias 1: ((c, h), h)."""
    c, h = carry
    i, j, f, o = xp.split(xp.concatenate([x_t, h], axis=1) @ kernel + bias, 4, axis=1)
    c = c * _sigmoid(xp, f + 1.0) + _sigmoid(xp, i) * xp.tanh(j)
    h = xp.tanh(c) * _sigmoid(xp, o)
    return (c, h), h


def _last_h(xp, x, kernel, bias):
    zeros = xp.zeros((x.shape[0], kernel.shape[1] // 4), x.dtype)
    if xp is np:
        carry = (zeros, zeros)
        for t in range(x.shape[1]):
            carry, _ = _cell(np, kernel, bias, carry, x[:, t])
        return carry[1]
    import jax
    (_, h), _ = jax.lax.scan(lambda carry, x_t: _cell(xp, kernel, bias, carry, x_t), (zeros, zeros),
                             xp.swapaxes(x, 0, 1))
    return h


def lstm_infer_expr(xp, x, kernel, bias, w, b, **_):
    return _last_h(xp, x, kernel, bias) @ w + b


def _loss(xp, params, x, y):
    kernel, bias, w, b = params
    return _xent(xp, _last_h(xp, x, kernel, bias) @ w + b, y)


def _bptt_by_hand(params, x, y):
    """Reverse mode of `_loss` in numpy: the forward steps kept, then walked back."""
    kernel, bias, w, b = params
    units, depth = kernel.shape[1] // 4, x.shape[2]
    c = h = np.zeros((x.shape[0], units), np.float32)
    tape = []
    for t in range(x.shape[1]):
        xh = np.concatenate([x[:, t], h], axis=1)
        i, j, f, o = np.split(xh @ kernel + bias, 4, axis=1)
        si, tj, sf, so = _sigmoid(np, i), np.tanh(j), _sigmoid(np, f + 1.0), _sigmoid(np, o)
        tape.append((xh, c, si, tj, sf, so))
        c = c * sf + si * tj
        h = np.tanh(c) * so
        tape[-1] += (np.tanh(c),)
    dlogits = (_softmax(np, h @ w + b) - y) / np.float32(len(x))
    dw, db, dh = h.T @ dlogits, dlogits.sum(axis=0), dlogits @ w.T
    dc, dkernel, dbias = np.zeros_like(c), np.zeros_like(kernel), np.zeros_like(bias)
    for xh, c_prev, si, tj, sf, so, tc in reversed(tape):
        dc = dc + dh * so * (1 - tc * tc)
        gates = np.concatenate([dc * tj * si * (1 - si), dc * si * (1 - tj * tj), dc * c_prev * sf * (1 - sf),
                                dh * tc * so * (1 - so)], axis=1)
        dkernel += xh.T @ gates
        dbias += gates.sum(axis=0)
        dh, dc = (gates @ kernel.T)[:, depth:], dc * sf
    return [dkernel, dbias, dw, db]


def lstm_sgd_expr(xp, x, y, *params, lr: float, **_):
    if xp is np:
        grads = _bptt_by_hand(params, x, y)
    else:
        import jax
        grads = jax.grad(lambda p: _loss(xp, p, x, y))(list(params))
    return tuple(p - lr * g for p, g in zip(params, grads))


FULL = {"batch": 64, "steps": 28, "inputs": 28, "units": 128, "classes": 10}
QUICK = {"batch": 4, "steps": 5, "inputs": 6, "units": 8, "classes": 10}


def _size(batch: int, steps: int, inputs: int, units: int, **_) -> str:
    return f"b{batch} {steps}x{inputs} -> {units}"


def _flops(batch: int, steps: int, inputs: int, units: int, classes: int, **_) -> int:
    return 2 * batch * (steps * (inputs + units) * 4 * units + units * classes)


RNN_WORKLOADS = [
    Workload("lstm_infer", "LSTM inference: static_rnn of BasicLSTMCell, softmax layer on the last output",
             lstm_infer_graph, lstm_infer_expr, FULL, QUICK, _size, variables=lstm_init, flops=_flops),
    Workload("lstm_train", "training step: that LSTM, cross-entropy, GradientDescent", lstm_train_graph,
             lstm_sgd_expr, {**FULL, "lr": 0.1}, {**QUICK, "lr": 0.1}, _size, variables=lstm_init, carry=True,
             flops=lambda **p: 3 * _flops(**p)),
    Workload("lstm_train_dynamic", "that training step through dynamic_rnn (a while loop and its backward loop)",
             lstm_train_graph, lstm_sgd_expr, {**FULL, "lr": 0.1, "dynamic": True},
             {**QUICK, "lr": 0.1, "dynamic": True}, _size, variables=lstm_init, carry=True,
             flops=lambda **p: 3 * _flops(**p)),
]
