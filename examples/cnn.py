"""A small TF1 convolutional network on synthetic MNIST-shaped data, trained with Adam, run
unchanged on lowerflow or TensorFlow.

    python examples/cnn.py               # import lowerflow as tf
    python examples/cnn.py --tensorflow  # import tensorflow.compat.v1 as tf (tf.layers need tf_keras)

It uses what classic TF1 tutorials use: `tf.reshape(x, [tf.shape(x)[0], 28, 28, 1])`,
`tf.layers.conv2d` / `max_pooling2d` / `batch_normalization` / `flatten` / `dropout` / `dense`,
UPDATE_OPS, `tf.nn.sparse_softmax_cross_entropy_with_logits` and `tf.train.AdamOptimizer`.
Initial values come from seeded numpy arrays (`tf.constant_initializer`), so both libraries
start from the same numbers and see the same batches; `cnn` returns the losses per step.
"""
from __future__ import annotations

import argparse
import os
import sys
from types import ModuleType

import numpy as np

SHAPES = {"conv2d/kernel": (5, 5, 1, 8), "conv2d_1/kernel": (3, 3, 8, 16), "dense/kernel": (7 * 7 * 16, 32),
          "dense_1/kernel": (32, 10)}


def mnist_like(n: int = 256, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Synthetic MNIST-shaped data: 784 pixels in [0, 1), labels from a fixed linear rule."""
    rng = np.random.default_rng(seed)
    images = rng.uniform(0, 1, (n, 784)).astype(np.float32)
    labels = (images @ rng.normal(0, 1, (784, 10))).argmax(axis=1).astype(np.int32)
    return images, labels


def initial_kernels(seed: int = 4) -> dict[str, np.ndarray]:
    """Glorot-uniform kernels as numpy arrays, by TF1 variable name."""
    rng = np.random.default_rng(seed)
    kernels = {}
    for name, shape in SHAPES.items():
        fan_in, fan_out = np.prod(shape[:-1]), shape[-1] * np.prod(shape[:-2])
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        kernels[name] = rng.uniform(-limit, limit, shape).astype(np.float32)
    return kernels


def model(tf: ModuleType, x, training, kernels: dict):
    """The logits of a [batch, 784] input."""
    init = {name: tf.constant_initializer(value) for name, value in kernels.items()}
    h = tf.reshape(x, [tf.shape(x)[0], 28, 28, 1])
    h = tf.layers.conv2d(h, 8, 5, padding="same", activation=tf.nn.relu, kernel_initializer=init["conv2d/kernel"])
    h = tf.layers.max_pooling2d(h, 2, 2)
    h = tf.layers.conv2d(h, 16, 3, padding="same", kernel_initializer=init["conv2d_1/kernel"])
    h = tf.nn.relu(tf.layers.batch_normalization(h, training=training))
    h = tf.layers.max_pooling2d(h, 2, 2)
    h = tf.layers.dense(tf.layers.flatten(h), 32, activation=tf.nn.relu, kernel_initializer=init["dense/kernel"])
    h = tf.layers.dropout(h, 0.5, training=False)
    return tf.layers.dense(h, 10, kernel_initializer=init["dense_1/kernel"])


def cnn(tf: ModuleType, steps: int = 6, batch: int = 32) -> list[float]:
    """Adam on the cross-entropy of `model`; the loss of each step."""
    images, labels = mnist_like()
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 784], name="x")
        y = tf.placeholder(tf.int32, [None], name="y")
        training = tf.placeholder_with_default(True, [], name="training")
        logits = model(tf, x, training, initial_kernels())
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
        with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):
            train = tf.train.AdamOptimizer(1e-3).minimize(loss)
        accuracy = tf.reduce_mean(tf.cast(tf.equal(tf.argmax(logits, 1, output_type=tf.int32), y), tf.float32))
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            losses = []
            for i in range(steps):
                lo = i * batch % len(images)
                feed = {x: images[lo:lo + batch], y: labels[lo:lo + batch]}
                losses.append(float(sess.run([train, loss], feed)[1]))
                print(f"cnn step {i}: loss {losses[-1]:.6f}")
            print(f"accuracy on all data: {sess.run(accuracy, {x: images, y: labels, training: False}):.3f}")
    return losses


def load(tensorflow: bool) -> ModuleType:
    """`tensorflow.compat.v1` in graph mode (its layers through tf_keras), or lowerflow."""
    if tensorflow:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        os.environ["TF_USE_LEGACY_KERAS"] = "1"
        import tensorflow.compat.v1 as tf
        tf.disable_eager_execution()
        return tf
    import lowerflow as tf
    return tf


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tensorflow", action="store_true", help="run on tensorflow.compat.v1 instead of lowerflow")
    cnn(load(p.parse_args(argv).tensorflow))
    return 0


if __name__ == "__main__":
    sys.exit(main())
