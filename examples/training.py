"""Three classic TF1 training programs, run unchanged on lowerflow or TensorFlow.

    python examples/training.py               # import lowerflow as tf
    python examples/training.py --tensorflow  # import tensorflow.compat.v1 as tf

Each program takes the module as `tf` and returns its losses, so tests can run both
libraries and compare. Initial values and data come from seeded numpy arrays
(`tf.Variable(np_array)`), so both libraries start from the same numbers.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from types import ModuleType

import numpy as np

PRINT_EVERY = 10


def _report(name: str, step: int, loss: float) -> None:
    if step % PRINT_EVERY == 0:
        print(f"{name} step {step:3d}: loss {loss:.6f}")


def linear_regression(tf: ModuleType, steps: int = 50) -> list[float]:
    """y = 3x + 2 plus noise, fitted by gradient descent on the mean squared error."""
    rng = np.random.default_rng(0)
    xs = rng.uniform(-1, 1, (100, 1)).astype(np.float32)
    ys = (3.0 * xs + 2.0 + rng.normal(0, 0.1, (100, 1))).astype(np.float32)
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 1], name="x")
        y = tf.placeholder(tf.float32, [None, 1], name="y")
        w = tf.Variable(np.array([[0.5]], np.float32), name="w")
        b = tf.Variable(np.zeros(1, np.float32), name="b")
        loss = tf.reduce_mean(tf.square(tf.matmul(x, w) + b - y))
        train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            losses = [float(sess.run([train, loss], {x: xs, y: ys})[1]) for _ in range(steps)]
    for i, value in enumerate(losses):
        _report("linear", i, value)
    return losses


def mnist_like(n: int = 512, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Synthetic MNIST-shaped data: 784 features in [0, 1), labels from a fixed linear rule."""
    rng = np.random.default_rng(seed)
    images = rng.uniform(0, 1, (n, 784)).astype(np.float32)
    labels = (images @ rng.normal(0, 1, (784, 10))).argmax(axis=1).astype(np.int64)
    return images, labels


def softmax_regression(tf: ModuleType, steps: int = 40, batch: int = 128) -> list[float]:
    """784 -> 10 softmax regression, one-hot labels, softmax_cross_entropy_with_logits_v2."""
    images, labels = mnist_like()
    rng = np.random.default_rng(2)
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 784], name="x")
        y = tf.placeholder(tf.float32, [None, 10], name="y")
        w = tf.Variable(rng.normal(0, 0.01, (784, 10)).astype(np.float32), name="w")
        b = tf.Variable(np.zeros(10, np.float32), name="b")
        logits = tf.matmul(x, w) + b
        loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=y, logits=logits))
        train = tf.train.GradientDescentOptimizer(0.02).minimize(loss)
        one_hot = np.eye(10, dtype=np.float32)[labels]
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            losses = []
            for i in range(steps):
                lo = i * batch % len(images)
                feed = {x: images[lo:lo + batch], y: one_hot[lo:lo + batch]}
                losses.append(float(sess.run([train, loss], feed)[1]))
    for i, value in enumerate(losses):
        _report("softmax", i, value)
    return losses


def _mlp(tf: ModuleType, x):
    """784 -> 64 -> 10 with ReLU; Glorot-uniform seeded weights."""
    rng = np.random.default_rng(3)
    h = x
    for i, (m, n) in enumerate([(784, 64), (64, 10)]):
        limit = np.sqrt(6.0 / (m + n))
        w = tf.Variable(rng.uniform(-limit, limit, (m, n)).astype(np.float32), name=f"w{i}")
        b = tf.Variable(np.zeros(n, np.float32), name=f"b{i}")
        h = tf.matmul(h, w) + b
        h = tf.nn.relu(h) if i == 0 else h
    return h


def mlp_adam(tf: ModuleType, steps: int = 30, batch: int = 64) -> tuple[list[float], float]:
    """An MLP trained with Adam, checkpointed with tf.train.Saver, restored into a fresh
    Session and evaluated there: returns (training losses, loss on all data after restore)."""
    images, labels = mnist_like()
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 784], name="x")
        y = tf.placeholder(tf.int64, [None], name="y")
        loss = tf.losses.sparse_softmax_cross_entropy(labels=y, logits=_mlp(tf, x))
        train = tf.train.AdamOptimizer(1e-3).minimize(loss)
        saver = tf.train.Saver()
        path = os.path.join(tempfile.mkdtemp(), "mlp.ckpt")
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            losses = []
            for i in range(steps):
                lo = i * batch % len(images)
                feed = {x: images[lo:lo + batch], y: labels[lo:lo + batch]}
                losses.append(float(sess.run([train, loss], feed)[1]))
            saver.save(sess, path)
        with tf.Session() as sess:
            saver.restore(sess, path)
            restored = float(sess.run(loss, {x: images, y: labels}))
    for i, value in enumerate(losses):
        _report("mlp", i, value)
    print(f"mlp after restore: loss {restored:.6f} on all {len(images)} examples")
    return losses, restored


def load(tensorflow: bool) -> ModuleType:
    """`tensorflow.compat.v1` in graph mode, or lowerflow."""
    if tensorflow:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        import tensorflow.compat.v1 as tf
        tf.disable_eager_execution()
        return tf
    import lowerflow as tf
    return tf


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tensorflow", action="store_true", help="run on tensorflow.compat.v1 instead of lowerflow")
    tf = load(p.parse_args(argv).tensorflow)
    linear_regression(tf)
    softmax_regression(tf)
    mlp_adam(tf)
    return 0


if __name__ == "__main__":
    sys.exit(main())
