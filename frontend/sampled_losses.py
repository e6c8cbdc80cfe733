"""TF1's sampled losses, `tf.nn.nce_loss` and `tf.nn.sampled_softmax_loss`, and the sampler they
use by default, `tf.nn.log_uniform_candidate_sampler` (cf. TF1's nn_impl.py
`_compute_sampled_logits` and candidate_sampling_ops.py), composed from native ops.

The log-uniform (Zipfian) sampler draws class k with P(k) = log((k + 2) / (k + 1)) /
log(range_max + 1), as floor(exp(u * log(range_max + 1))) - 1. TF1's unique sampler draws with
replacement until `num_sampled` distinct classes came up; the set and its order are those of
sampling without replacement proportionally to P, drawn here as the top `num_sampled` Gumbel
keys log P(k) - log(-log u_k), and the number of draws it took, which the expected counts 1 -
(1 - P) ** tries need (P * num_sampled when nothing was rejected), as a sum of geometric waits:
after j distinct classes of total probability S_j, the next new one takes 1 + floor(log u / log
S_j) draws. So the values match TF1 in distribution only (its random streams differ); given the
same `sampled_values`, the losses are TF1's. Accidental hits (a sampled class that is one of a
row's true classes) get the logit -FLT_MAX as in TF1's compute_accidental_hits.
"""
from __future__ import annotations

import numpy as np

from lowerflow.frontend import array_ops, dtypes
from lowerflow.frontend.core_ops import constant, convert_to_tensor, stop_gradient
from lowerflow.frontend.graph import Tensor, name_scope
from lowerflow.frontend.linalg_ops import matmul
from lowerflow.frontend.math_ops import (
    add, cast, equal, exp, expm1, floor, log, log1p, maximum, minimum, multiply, subtract, where_v2,
)
from lowerflow.frontend.nn_impl import embedding_lookup, top_k
from lowerflow.frontend.nn_losses import sigmoid_cross_entropy_with_logits, softmax_cross_entropy_with_logits_v2
from lowerflow.frontend.random_ops import random_uniform
from lowerflow.frontend.reduction_ops import reduce_any, reduce_sum

_LOWEST = float(np.finfo(np.float32).min)  # TF1's -FLT_MAX for accidental hits


def _log_uniform_probability(classes: Tensor, range_max: int) -> Tensor:
    """log1p(1 / (k + 1)): log(k + 2) - log(k + 1) without float32's cancellation."""
    k = cast(classes, dtypes.float32)
    return log1p(1.0 / (k + 1.0)) / float(np.log(range_max + 1.0))


def log_uniform_candidate_sampler(true_classes, num_true, num_sampled, unique, range_max, seed=None,
                                  name=None) -> tuple[Tensor, Tensor, Tensor]:
    """(sampled_candidates [num_sampled] int64, true_expected_count [batch, num_true],
    sampled_expected_count [num_sampled]), TF1's LogUniformCandidateSampler."""
    num_sampled, range_max = int(num_sampled), int(range_max)
    if unique and num_sampled > range_max:
        raise ValueError(f"Sampler's range is too small: range_max {range_max} < num_sampled {num_sampled}")
    with name_scope(name, "LogUniformCandidateSampler", [true_classes]):
        true_classes = cast(convert_to_tensor(true_classes), dtypes.int64)
        if unique:
            classes = np.arange(range_max, dtype=np.int64)
            keys = log(_log_uniform_probability(constant(classes), range_max)) - \
                log(-log(random_uniform([range_max], np.float32(1e-30), 1.0, seed=seed)))
            _, picked = top_k(keys, num_sampled)
            sampled = cast(picked, dtypes.int64)
            p = _log_uniform_probability(sampled, range_max)
            earlier = np.triu(np.ones((num_sampled, num_sampled), np.float32), 1)  # [i, j]: i < j
            before = matmul(array_ops.reshape(p, [1, -1]), constant(earlier))
            total = minimum(array_ops.reshape(before, [-1]), np.float32(1 - 1e-7))
            u = random_uniform([num_sampled], np.float32(1e-30), 1.0, seed=None if seed is None else seed + 1)
            waits = 1.0 + floor(log(u) / minimum(log(total), np.float32(-1e-30)))
            tries = reduce_sum(where_v2(equal(total, 0.0), array_ops.ones_like(waits), waits))

            def expected(cls):  # TF1's ExpectedCountHelper: p * n when no draw was rejected
                prob = _log_uniform_probability(cls, range_max)
                return where_v2(equal(tries, float(num_sampled)), prob * float(num_sampled),
                                -expm1(tries * log1p(-prob)))
        else:
            u = random_uniform([num_sampled], 0.0, 1.0, seed=seed)
            drawn = floor(exp(u * float(np.log(range_max + 1.0)))) - 1.0
            sampled = cast(minimum(maximum(drawn, 0.0), float(range_max - 1)), dtypes.int64)

            def expected(cls):
                return _log_uniform_probability(cls, range_max) * float(num_sampled)
        return sampled, expected(true_classes), expected(sampled)


def _sampled_logits(weights, biases, labels, inputs, num_sampled, num_classes, num_true, sampled_values,
                    remove_accidental_hits, partition_strategy, seed) -> tuple[Tensor, Tensor]:
    """TF1's _compute_sampled_logits with subtract_log_q: ([batch, num_true + num_sampled]
    logits, their labels 1/num_true for the true classes and 0 for the sampled)."""
    labels = cast(convert_to_tensor(labels), dtypes.int64)
    inputs = convert_to_tensor(inputs)
    if sampled_values is None:
        sampled_values = log_uniform_candidate_sampler(labels, num_true, num_sampled, True, num_classes, seed=seed)
    sampled, true_expected, sampled_expected = (stop_gradient(convert_to_tensor(s)) for s in sampled_values)
    sampled = cast(sampled, dtypes.int64)
    weights = list(weights) if isinstance(weights, (list, tuple)) else [weights]
    true_w = embedding_lookup(weights, labels, partition_strategy)  # [batch, num_true, dim]
    true_b = embedding_lookup(biases, labels)
    true_logits = add(reduce_sum(multiply(array_ops.expand_dims(inputs, 1), true_w), 2), true_b)
    sampled_w = embedding_lookup(weights, sampled, partition_strategy)
    sampled_logits = add(matmul(inputs, sampled_w, transpose_b=True), embedding_lookup(biases, sampled))
    if remove_accidental_hits:
        hits = reduce_any(equal(array_ops.expand_dims(labels, 2), array_ops.reshape(sampled, [1, 1, -1])), 1)
        sampled_logits = add(sampled_logits, where_v2(hits, _LOWEST, 0.0))
    true_logits = subtract(true_logits, log(cast(true_expected, inputs.dtype)))
    sampled_logits = subtract(sampled_logits, log(cast(sampled_expected, inputs.dtype)))
    logits = array_ops.concat([true_logits, sampled_logits], 1)
    targets = array_ops.concat([array_ops.ones_like(true_logits) / float(num_true),
                                array_ops.zeros_like(sampled_logits)], 1)
    return logits, targets


def nce_loss(weights, biases, labels, inputs, num_sampled, num_classes, num_true=1, sampled_values=None,
             remove_accidental_hits=False, partition_strategy="mod", name="nce_loss") -> Tensor:
    """tf.nn.nce_loss: per row, the sigmoid cross-entropies of the true and sampled logits, summed."""
    with name_scope(name, "nce_loss", [weights, biases, labels, inputs]):
        logits, targets = _sampled_logits(weights, biases, labels, inputs, num_sampled, num_classes, num_true,
                                          sampled_values, remove_accidental_hits, partition_strategy, None)
        return reduce_sum(sigmoid_cross_entropy_with_logits(labels=targets, logits=logits), 1)


def sampled_softmax_loss(weights, biases, labels, inputs, num_sampled, num_classes, num_true=1,
                         sampled_values=None, remove_accidental_hits=True, partition_strategy="mod",
                         name="sampled_softmax_loss", seed=None) -> Tensor:
    """tf.nn.sampled_softmax_loss: per row, the softmax cross-entropy over the true and sampled logits."""
    with name_scope(name, "sampled_softmax_loss", [weights, biases, labels, inputs]):
        logits, targets = _sampled_logits(weights, biases, labels, inputs, num_sampled, num_classes, num_true,
                                          sampled_values, remove_accidental_hits, partition_strategy, seed)
        return softmax_cross_entropy_with_logits_v2(labels=stop_gradient(targets), logits=logits)
