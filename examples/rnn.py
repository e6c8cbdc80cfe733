"""A TF1 LSTM or GRU sequence classifier on synthetic MNIST-shaped data (each image read as 28
steps of 28 pixels), trained with Adam, run unchanged on lowerflow or TensorFlow.

    python examples/rnn.py                  # an LSTM, import lowerflow as tf
    python examples/rnn.py --tensorflow     # the same on import tensorflow.compat.v1 as tf
    python examples/rnn.py --cell gru       # a GRU
    python examples/rnn.py --dynamic        # tf.nn.dynamic_rnn (a tf.while_loop) instead

It is the classic TF1 recipe: `tf.unstack` the [batch, 28, 28] input into 28 steps,
`tf.nn.static_rnn` over a `tf.nn.rnn_cell.BasicLSTMCell` or `GRUCell`, a softmax layer on the
last output, `tf.nn.sparse_softmax_cross_entropy_with_logits` and `tf.train.AdamOptimizer`;
with `--dynamic`, `tf.nn.dynamic_rnn` over the [batch, 28, 28] input (the same variables and
numbers). Initial values come from seeded numpy arrays (the kernels through the variable
scope's initializer), so both libraries start from the same numbers and see the same batches;
`train` returns the losses per step.
"""
from __future__ import annotations

import argparse
import os
import sys
from types import ModuleType

import numpy as np

STEPS, PIXELS, UNITS, CLASSES = 28, 28, 32, 10
#: the cell class and the shapes of its kernels (LSTM: 4 gates; GRU: 2 gates, the candidate)
CELLS = {"lstm": ("BasicLSTMCell", [(PIXELS + UNITS, 4 * UNITS)]),
         "gru": ("GRUCell", [(PIXELS + UNITS, 2 * UNITS), (PIXELS + UNITS, UNITS)])}


def mnist_like(n: int = 256, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Synthetic MNIST-shaped data: [n, 28, 28] pixels in [0, 1), labels from a fixed linear rule."""
    rng = np.random.default_rng(seed)
    images = rng.uniform(0, 1, (n, STEPS, PIXELS)).astype(np.float32)
    labels = (images.reshape(n, -1) @ rng.normal(0, 1, (STEPS * PIXELS, CLASSES))).argmax(axis=1).astype(np.int32)
    return images, labels


def glorot(shape: tuple, rng: np.random.Generator) -> np.ndarray:
    limit = np.sqrt(6.0 / sum(shape))
    return rng.uniform(-limit, limit, shape).astype(np.float32)


def initial_values(cell: str, seed: int = 4) -> dict[tuple, np.ndarray]:
    """Glorot-uniform matrices by shape: the cell's kernels and the softmax weights."""
    rng = np.random.default_rng(seed)
    return {shape: glorot(shape, rng) for shape in [*CELLS[cell][1], (UNITS, CLASSES)]}


def model(tf: ModuleType, x, cell: str, values: dict, dynamic: bool = False):
    """The logits of a [batch, 28, 28] input: an RNN over the rows, softmax on the last output."""
    def init(shape, dtype=None, partition_info=None):
        return values[tuple(shape)]
    with tf.variable_scope("rnn", initializer=init) as scope:
        rnn_cell = getattr(tf.nn.rnn_cell, CELLS[cell][0])(UNITS)
        if dynamic:
            outputs, _ = tf.nn.dynamic_rnn(rnn_cell, x, dtype=tf.float32, scope=scope)
            last = outputs[:, -1]
        else:
            last = tf.nn.static_rnn(rnn_cell, tf.unstack(x, STEPS, axis=1), dtype=tf.float32, scope=scope)[0][-1]
    w = tf.get_variable("softmax/w", initializer=values[(UNITS, CLASSES)])
    b = tf.get_variable("softmax/b", [CLASSES], initializer=tf.zeros_initializer())
    return tf.matmul(last, w) + b


def train(tf: ModuleType, cell: str = "lstm", dynamic: bool = False, steps: int = 6, batch: int = 32) -> list[float]:
    """Adam on the cross-entropy of `model`; the loss of each step."""
    images, labels = mnist_like()
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, STEPS, PIXELS], name="x")
        y = tf.placeholder(tf.int32, [None], name="y")
        logits = model(tf, x, cell, initial_values(cell), dynamic)
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
        train_op = tf.train.AdamOptimizer(1e-2).minimize(loss)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            losses = []
            for i in range(steps):
                lo = i * batch % len(images)
                feed = {x: images[lo:lo + batch], y: labels[lo:lo + batch]}
                losses.append(float(sess.run([train_op, loss], feed)[1]))
                print(f"{cell} step {i}: loss {losses[-1]:.6f}")
    return losses


def load(tensorflow: bool) -> ModuleType:
    """`tensorflow.compat.v1` in graph mode, or lowerflow. TF 2.16+ serves `tf.nn.rnn_cell`
    from tf_keras (Keras 2); without it, TF's own vendored copy of those classes."""
    if tensorflow:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        import tensorflow.compat.v1 as tf
        tf.disable_eager_execution()
        try:
            tf.nn.rnn_cell.BasicLSTMCell  # noqa: B018  (lazy: raises without Keras 2)
        except (AttributeError, ImportError):
            from tensorflow.python.keras.layers.legacy_rnn import rnn_cell_impl
            tf.nn.rnn_cell = rnn_cell_impl
        return tf
    import lowerflow as tf
    return tf


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tensorflow", action="store_true", help="run on tensorflow.compat.v1 instead of lowerflow")
    p.add_argument("--cell", choices=sorted(CELLS), default="lstm", help="the recurrent cell (default: lstm)")
    p.add_argument("--dynamic", action="store_true", help="tf.nn.dynamic_rnn instead of tf.nn.static_rnn")
    args = p.parse_args(argv)
    train(load(args.tensorflow), args.cell, args.dynamic)
    return 0


if __name__ == "__main__":
    sys.exit(main())
