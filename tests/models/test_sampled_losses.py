"""tf.nn.nce_loss, sampled_softmax_loss and log_uniform_candidate_sampler: the losses and their
gradients against numpy and tensorflow.compat.v1 given the same sampled ids (accidental hits
removed or not), and the sampler against TF1's distribution (its random stream differs)."""
from __future__ import annotations

import numpy as np
import pytest

import lowerflow as tf
from tests.models.helpers import tf1

R = np.random.default_rng(5)
W = R.standard_normal((50, 8)).astype(np.float32)
B = R.standard_normal(50).astype(np.float32)
X = R.standard_normal((4, 8)).astype(np.float32)
LABELS = np.array([[1, 3], [7, 2], [0, 4], [9, 9]], np.int64)
SAMPLED = np.array([3, 0, 11, 5, 7], np.int64)
TRUE_EXPECTED = R.uniform(0.1, 1, (4, 2)).astype(np.float32)
SAMPLED_EXPECTED = R.uniform(0.1, 1, 5).astype(np.float32)
CASES = [(loss, hits) for loss in ("nce_loss", "sampled_softmax_loss") for hits in (False, True)]


def _losses(lib):
    """Every case's loss and its gradients to the weights, biases and inputs."""
    w, b, x = lib.constant(W), lib.constant(B), lib.constant(X)
    out = []
    for loss, hits in CASES:
        value = getattr(lib.nn, loss)(w, b, LABELS, x, 5, 50, num_true=2, remove_accidental_hits=hits,
                                      sampled_values=(SAMPLED, TRUE_EXPECTED, SAMPLED_EXPECTED))
        out += [value] + [lib.convert_to_tensor(g) for g in lib.gradients(lib.reduce_sum(value), [w, b, x])]
    return out


def _run(lib) -> list:
    with lib.Graph().as_default():
        fetches = _losses(lib)
        with lib.Session() as sess:
            return sess.run(fetches)


@pytest.fixture(scope="module")
def ours():
    return _run(tf)


def _numpy_logits(hits: bool):
    true = (X[:, None, :] * W[LABELS]).sum(-1) + B[LABELS] - np.log(TRUE_EXPECTED)
    sampled = X @ W[SAMPLED].T + B[SAMPLED] - np.log(SAMPLED_EXPECTED)
    if hits:
        sampled = sampled + np.where((LABELS[:, :, None] == SAMPLED).any(1), np.finfo(np.float32).min, 0)
    logits = np.concatenate([true, sampled], 1).astype(np.float64)
    labels = np.concatenate([np.full_like(true, 0.5), np.zeros_like(sampled)], 1)
    return logits, labels


def test_losses_against_numpy(ours):
    for i, (loss, hits) in enumerate(CASES):
        z, y = _numpy_logits(hits)
        if loss == "nce_loss":
            want = (np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))).sum(1)
        else:
            shifted = z - z.max(1, keepdims=True)
            want = -(y * (shifted - np.log(np.exp(shifted).sum(1, keepdims=True)))).sum(1)
        np.testing.assert_allclose(ours[4 * i], want, rtol=1e-5, atol=1e-5)
        assert ours[4 * i].shape == (4,) and ours[4 * i + 1].shape == W.shape


def test_losses_against_tf(ours):
    theirs = _run(tf1())
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


def _samples(lib, unique: bool, runs: int) -> list:
    with lib.Graph().as_default():
        fetches = lib.nn.log_uniform_candidate_sampler(LABELS, 2, 16, unique, 1000, seed=3)
        with lib.Session() as sess:
            return [sess.run(fetches) for _ in range(runs)]


def _probability(k):
    return np.log((k + 2.0) / (k + 1.0)) / np.log(1001.0)


def test_sampler():
    unique, plain = _samples(tf, True, 300), _samples(tf, False, 300)
    for ids, true_expected, sampled_expected in unique:
        assert ids.dtype == np.int64 and ids.shape == (16,) and len(set(ids)) == 16
        assert ids.min() >= 0 and ids.max() < 1000 and true_expected.shape == (4, 2)
        p = _probability(ids)
        if not np.allclose(sampled_expected, 16 * p, rtol=1e-5):  # some draws were rejected
            tries = np.log1p(-sampled_expected.astype(np.float64)) / np.log1p(-p)  # one count for all
            np.testing.assert_allclose(tries, np.round(np.median(tries)), rtol=2e-2)
            assert np.median(tries) > 16.5
    for ids, true_expected, sampled_expected in plain:
        np.testing.assert_allclose(sampled_expected, 16 * _probability(ids), rtol=1e-5)
        np.testing.assert_allclose(true_expected, 16 * _probability(LABELS), rtol=1e-5)
    drawn = np.concatenate([ids for ids, _, _ in plain])
    for k in (0, 1, 5):  # with replacement: class k's share of the draws is P(k)
        assert abs(np.mean(drawn == k) - _probability(k)) < 0.02


def test_sampler_against_tf():
    ours, theirs = _samples(tf, True, 300), _samples(tf1(), True, 300)
    assert np.mean([0 in s[0] for s in ours]) == pytest.approx(np.mean([0 in s[0] for s in theirs]), abs=0.08)
    np.testing.assert_allclose(np.mean([s[1] for s in ours], 0), np.mean([s[1] for s in theirs], 0), rtol=0.1)
    np.testing.assert_allclose(np.mean([s[2].mean() for s in ours]), np.mean([s[2].mean() for s in theirs]), rtol=0.1)


def test_default_sampler_trains():
    """Without sampled_values the losses draw their own classes: finite values and gradients."""
    with tf.Graph().as_default():
        w = tf.Variable(W)
        loss = tf.reduce_mean(tf.nn.nce_loss(w, B, LABELS[:, :1], X, 5, 50))
        soft = tf.reduce_mean(tf.nn.sampled_softmax_loss(w, B, LABELS[:, :1], X, 5, 50, seed=1))
        grads = tf.gradients(loss + soft, w)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            values = sess.run([loss, soft] + grads)
    assert np.isfinite(values[0]) and np.isfinite(values[1]) and values[0] > 0 and values[1] > 0
    assert np.isfinite(values[2]).all() and np.abs(values[2]).sum() > 0


def test_sampler_range_error():
    with pytest.raises(ValueError, match="range"):
        tf.nn.log_uniform_candidate_sampler(LABELS, 2, 20, True, 10)
