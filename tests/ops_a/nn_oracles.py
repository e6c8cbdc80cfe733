"""numpy oracles for `tf.nn` functions, written from the math (float64), shared by the
reference-level and the native tests."""
from __future__ import annotations

import numpy as np

SELU_ALPHA, SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946


def softmax(x, axis=-1):
    e = np.exp(x - x.max(axis, keepdims=True))
    return e / e.sum(axis, keepdims=True)


def log_softmax(x, axis=-1):
    s = x - x.max(axis, keepdims=True)
    return s - np.log(np.exp(s).sum(axis, keepdims=True))


ACTIVATIONS = {
    "relu6": lambda x: np.clip(x, 0, 6),
    "elu": lambda x: np.where(x > 0, x, np.expm1(x)),
    "selu": lambda x: SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(x)),
    "softplus": lambda x: np.logaddexp(0, x),
    "leaky_relu": lambda x: np.where(x > 0, x, float(np.float32(0.2)) * x),  # alpha is TF's float32 attr
    "softmax": softmax,
    "log_softmax": log_softmax,
    "l2_normalize": lambda x: x / np.sqrt(np.maximum((x * x).sum(), 1e-12)),
}


def sigmoid_xent(labels, logits):
    return np.maximum(logits, 0) - logits * labels + np.log1p(np.exp(-np.abs(logits)))


def softmax_xent(labels, logits, axis=-1):
    return -(labels * log_softmax(logits, axis)).sum(axis)
