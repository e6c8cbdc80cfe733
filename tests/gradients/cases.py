"""Differentiable graphs of one float64 [3, 4] input, shared by the finite-difference and the
TensorFlow tests: each builds its output from `x` with the module `tf` it is given."""
from __future__ import annotations

import numpy as np

CASES = {
    "unary": lambda tf, x: (tf.abs(x - 0.5) + tf.square(x) + tf.exp(x) + tf.expm1(x) + tf.log1p(x)
                            + tf.sin(x) + tf.cos(x) + tf.log(x) + tf.sqrt(x) + tf.rsqrt(x) + tf.tanh(x)
                            + tf.sigmoid(x) + tf.reciprocal(x) + tf.nn.relu(x - 0.5) - tf.negative(x)),
    "binary": lambda tf, x: (tf.squared_difference(x, 0.3) + tf.floormod(x, 0.3) + tf.minimum(x, 0.4)
                             + tf.maximum(x, 0.6) + x / (x + 1.0) + tf.pow(x, x) + x * x - x),
    "broadcast": lambda tf, x: x + tf.constant(np.ones((2, 3, 4))) * tf.constant(np.arange(4.0)),
    "broadcast_column": lambda tf, x: tf.constant(np.ones((3, 1))) * x + tf.reduce_sum(x, 1, keepdims=True),
    "where": lambda tf, x: tf.where(x > 0.5, x, -x * x),
    "select_v2": lambda tf, x: tf.where_v2(x > 0.5, x, tf.constant(2.0, tf.float64)) * x,
    "reduce_sum": lambda tf, x: tf.reduce_sum(x, axis=0) * tf.reduce_sum(x),
    "reduce_mean": lambda tf, x: tf.reduce_mean(x, axis=1, keepdims=True) * tf.reduce_mean(x),
    "reduce_max": lambda tf, x: tf.reduce_max(x, axis=0) + tf.reduce_min(x, axis=1, keepdims=True),
    "reduce_prod": lambda tf, x: tf.reduce_prod(x, axis=1),
    "matmul": lambda tf, x: tf.matmul(x, tf.constant(np.arange(20.0).reshape(4, 5))),
    "matmul_t": lambda tf, x: tf.matmul(x, tf.constant(np.ones((3, 5))), transpose_a=True)
                              + tf.matmul(x, tf.constant(np.ones((5, 3))), transpose_a=True, transpose_b=True),
    "batch_matmul": lambda tf, x: tf.matmul(tf.reshape(x, [1, 3, 4]), tf.constant(np.ones((2, 4, 2)))),
    "reshape": lambda tf, x: tf.reshape(x, [2, 6]) ** 2 + tf.reduce_sum(tf.squeeze(tf.expand_dims(x, 0))),
    "transpose": lambda tf, x: tf.transpose(x) * tf.constant(np.arange(12.0).reshape(4, 3)),
    "slice": lambda tf, x: x[1:, ::2] * 2.0 + tf.reduce_sum(x[::-1, 1::2]) + tf.reduce_sum(x[:, 1]),
    "slice_op": lambda tf, x: tf.slice(x, [1, 1], [2, -1]) ** 2,
    "concat": lambda tf, x: tf.concat([x, x * 2.0, x[:, :1]], axis=1),
    "stack": lambda tf, x: tf.stack([x, tf.exp(x)], axis=1),
    "unstack_split": lambda tf, x: tf.unstack(x, axis=1)[0] * 3.0 + tf.reduce_sum(tf.split(x, 2, axis=1)[1]),
    "tile_pad": lambda tf, x: tf.reduce_sum(tf.tile(x, [2, 1])) + tf.pad(x, [[1, 0], [2, 3]]),
    "mirror_pad": lambda tf, x: (tf.reduce_sum(tf.pad(x, [[2, 1], [1, 3]], mode="REFLECT"))
                                 + tf.pad(x, [[1, 3], [0, 2]], mode="SYMMETRIC")),
    "gather": lambda tf, x: tf.gather(x, [2, 0, 2], axis=1) + tf.reduce_sum(tf.gather(x, [[1, 0], [1, 1]])),
    "softmax": lambda tf, x: tf.nn.softmax(x) + tf.nn.log_softmax(x),
    "sparse_xent": lambda tf, x: tf.nn.sparse_softmax_cross_entropy_with_logits(labels=[1, 0, 3], logits=x),
    "segment_sum": lambda tf, x: tf.math.unsorted_segment_sum(x, [0, 2, 0], 4),
    "broadcast_to": lambda tf, x: tf.broadcast_to(tf.reduce_sum(x, 0), [2, 4]),
    "tensor_array": lambda tf, x: (tf.TensorArray(tf.float64, 3).write(0, x[2]).write(2, tf.exp(x[0]))
                                   .write(1, x[1] * x[0]).stack()),
}


def build_loss(tf, name: str, x, seed: int = 0):
    """sum(case(x) * w) for fixed random weights w, so every output element matters."""
    y = CASES[name](tf, x)
    w = np.random.default_rng(seed).standard_normal(y.shape.as_list())
    return tf.reduce_sum(y * tf.constant(w))
