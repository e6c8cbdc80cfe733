"""numpy oracles for the losses, written from the math in float64: the per-element losses
of `tf.nn` and `tf.losses`, and TF1's reductions of weighted losses."""
from __future__ import annotations

import numpy as np


def log_softmax(x, axis=-1):
    s = x - x.max(axis, keepdims=True)
    return s - np.log(np.exp(s).sum(axis, keepdims=True))


def softmax_xent(labels, logits, axis=-1):
    return -(labels * log_softmax(logits, axis)).sum(axis)


def sparse_xent(labels, logits):
    return -np.take_along_axis(log_softmax(logits), labels[..., None], -1)[..., 0]


def sigmoid_xent(labels, logits):
    return np.maximum(logits, 0) - logits * labels + np.log1p(np.exp(-np.abs(logits)))


def weighted_xent(labels, logits, pos_weight):
    """-q z log(sigmoid(x)) - (1 - z) log(1 - sigmoid(x)), with log-sigmoid as -softplus(-x)."""
    return pos_weight * labels * np.logaddexp(0, -logits) + (1 - labels) * np.logaddexp(0, logits)


def huber(labels, predictions, delta=1.0):
    e = np.abs(predictions - labels)
    return np.where(e <= delta, 0.5 * e ** 2, 0.5 * delta ** 2 + delta * (e - delta))


def log_loss(labels, predictions, eps=1e-7):
    return -labels * np.log(predictions + eps) - (1 - labels) * np.log(1 - predictions + eps)


def hinge(labels, logits):
    return np.maximum(0, 1 - (2 * labels - 1) * logits)


def reduce(losses, weights, reduction):
    """TF1's compute_weighted_loss from its definition: sum, mean over weights, over
    elements, or over non-zero weights; 0 where the divisor is 0."""
    weights = np.broadcast_to(np.asarray(weights, np.float64), np.shape(losses))
    weighted = losses * weights
    divisors = {"weighted_sum_by_nonzero_weights": np.count_nonzero(weights),
                "weighted_mean": weights.sum(), "weighted_sum_over_batch_size": weighted.size}
    if reduction == "none":
        return weighted
    if reduction == "weighted_sum":
        return weighted.sum()
    divisor = divisors[reduction]
    return 0.0 if divisor == 0 else weighted.sum() / divisor
