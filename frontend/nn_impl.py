"""TF1's `tf.nn.dropout`, `embedding_lookup`, `batch_normalization` and `in_top_k`, composed
from ops that already lower natively, as TF1's nn_impl.py / embedding_ops.py compose them.

dropout draws its mask with `random_uniform` over `noise_shape` (default `tf.shape(x)`,
known per run signature when x's shape is not static). embedding_lookup over a list of
shards gathers from every shard and keeps, per id, the row of the shard that owns it (a
select instead of TF's dynamic_partition/dynamic_stitch: the same values and gradients,
with static shapes).
"""
from __future__ import annotations

import numbers

import numpy as np

from lowerflow.frontend import array_ops, dtypes
from lowerflow.frontend.core_ops import convert_to_tensor, identity
from lowerflow.frontend.graph import Tensor, name_scope
from lowerflow.frontend.math_ops import (  # TF1 names, `abs` included
    abs, add, cast, equal, floor_div, floormod, greater, greater_equal, less, logical_and, maximum, minimum,
    multiply, rsqrt, subtract, truediv, where_v2,
)
from lowerflow.frontend.random_ops import random_uniform
from lowerflow.frontend.reduction_ops import argmax, argmin, reduce_sum


def dropout(x, keep_prob=None, noise_shape=None, seed=None, name=None, rate=None) -> Tensor:
    """tf.nn.dropout: each element (or each `noise_shape` slice) kept with probability
    1 - rate and scaled by 1 / (1 - rate), else 0 (TF2's compat.v1 formulation)."""
    if keep_prob is not None:
        if rate is not None:
            raise ValueError("You cannot specify both 'rate' and 'keep_prob'.")
        rate = 1 - keep_prob
    if rate is None:
        raise ValueError("You must provide a rate to dropout.")
    with name_scope(name, "dropout", [x]) as scope:
        x = convert_to_tensor(x)
        if not x.dtype.is_floating:
            raise ValueError(f"x has to be a floating point tensor since it's going to be scaled. Got a "
                             f"{x.dtype.name} tensor instead.")
        if isinstance(rate, numbers.Real) and not 0 <= rate < 1:
            raise ValueError(f"rate must be a scalar tensor or a float in the range [0, 1), got {rate}")
        rate = convert_to_tensor(rate, dtype=x.dtype, name="rate")
        shape = array_ops.shape(x) if noise_shape is None else noise_shape
        noise = random_uniform(shape, seed=seed, dtype=x.dtype)
        keep = cast(greater_equal(noise, rate), x.dtype)
        scale = 1 / subtract(1, rate)
        return multiply(multiply(x, scale), keep, name=scope)


def embedding_lookup(params, ids, partition_strategy="mod", name=None, validate_indices=True,
                     max_norm=None) -> Tensor:
    """tf.nn.embedding_lookup: rows of `params` (one table, or shards split by "mod":
    id % n owns it, or "div": contiguous ranges) at `ids`."""
    shards = list(params) if isinstance(params, (list, tuple)) else [params]
    if not shards:
        raise ValueError("Need at least one param")
    if partition_strategy not in ("mod", "div"):
        raise ValueError(f"Unrecognized partition strategy: {partition_strategy}")
    if max_norm is not None:
        raise NotImplementedError("embedding_lookup: max_norm is not supported")
    with name_scope(name, "embedding_lookup", shards + [ids]) as scope:
        shards = [convert_to_tensor(p) for p in shards]
        ids = convert_to_tensor(ids)
        if len(shards) == 1:
            return array_ops.gather(shards[0], ids, name=scope)
        owner, local = _partition(shards, ids, partition_strategy)
        rows = None
        for p, shard in enumerate(shards):
            size = shard.shape[0].value
            picked = array_ops.gather(shard, minimum(maximum(local, 0), size - 1))
            mine = equal(owner, p)
            mask = array_ops.reshape(mine, array_ops.concat([array_ops.shape(mine),
                                                             np.ones(shard.shape.ndims - 1, np.int32)], 0))
            part = where_v2(mask, picked, array_ops.zeros_like(picked))
            rows = part if rows is None else add(rows, part)
        return identity(rows, name=scope)


def _partition(shards: list[Tensor], ids: Tensor, strategy: str) -> tuple[Tensor, Tensor]:
    """(owning shard, row within it) of each id, as TF's embedding_lookup assigns them."""
    n = len(shards)
    if strategy == "mod":
        return floormod(ids, n), floor_div(ids, n)
    sizes = [s.shape[0].value for s in shards]
    if None in sizes:
        raise ValueError("embedding_lookup with 'div' needs every shard's first dim known when the graph is built")
    per, extras = sum(sizes) // n, sum(sizes) % n
    owner = maximum(floor_div(ids, per + 1), floor_div(subtract(ids, extras), per))
    local = where_v2(less(owner, extras), floormod(ids, per + 1), floormod(subtract(ids, extras), per))
    return owner, local


def batch_normalization(x, mean, variance, offset, scale, variance_epsilon, name=None) -> Tensor:
    """tf.nn.batch_normalization: (x - mean) * scale / sqrt(variance + epsilon) + offset,
    computed as TF1 does: x * inv + (offset - mean * inv)."""
    with name_scope(name, "batchnorm", [x, mean, variance, scale, offset]) as scope:
        x = convert_to_tensor(x)
        inv = rsqrt(add(variance, variance_epsilon))
        if scale is not None:
            inv = multiply(inv, scale)
        shift = -mean * inv if offset is None else subtract(offset, multiply(mean, inv))
        return add(multiply(x, cast(inv, x.dtype)), cast(shift, x.dtype), name=scope)


def in_top_k(predictions, targets, k, name=None) -> Tensor:
    """tf.nn.in_top_k: whether each row's target class is among its `k` largest predictions
    (ties at the boundary count as in; a non-finite target prediction is never in)."""
    with name_scope(name, "in_top_k", [predictions, targets]) as scope:
        predictions, targets = convert_to_tensor(predictions), convert_to_tensor(targets)
        if predictions.shape.ndims != 2:
            raise ValueError(f"Shape must be rank 2 but is rank {predictions.shape.ndims} for 'InTopKV2'")
        classes = predictions.shape[1].value
        if classes is None:
            raise ValueError("in_top_k needs the number of classes known when the graph is built")
        hot = array_ops.one_hot(targets, classes, on_value=True, off_value=False, dtype=dtypes.bool_)
        target = reduce_sum(where_v2(hot, predictions, array_ops.zeros_like(predictions)), 1, keepdims=True)
        above = reduce_sum(cast(greater(predictions, target), dtypes.int32), 1)
        finite = less(abs(array_ops.reshape(target, [-1])), np.inf)
        return logical_and(less(above, k), finite, name=scope)


def top_k(input, k=1, sorted=True, name=None) -> tuple[Tensor, Tensor]:
    """tf.nn.top_k: the `k` largest entries of each last-axis row, largest first, equal values
    by lower index (k rounds of argmax, each masking the pick out), and their int32 indices."""
    with name_scope(name, "TopKV2", [input]) as scope:
        x = convert_to_tensor(input)
        depth = x.shape[-1].value if x.shape.ndims else None
        k = int(k)
        if depth is None:
            raise ValueError("top_k needs the last dim known when the graph is built")
        if depth < k:
            raise ValueError(f"input must have at least k columns. Had {depth}, needed {k}")
        values, indices, rest = [], [], x
        lowest = -np.inf if x.dtype.is_floating else np.iinfo(x.dtype.as_numpy_dtype).min
        for _ in range(k):
            index = argmax(rest, -1, output_type=dtypes.int32)
            hot = array_ops.one_hot(index, depth, on_value=True, off_value=False, dtype=dtypes.bool_)
            zeros = array_ops.zeros_like(x)
            values.append(reduce_sum(where_v2(hot, x, zeros), -1))
            indices.append(index)
            rest = where_v2(hot, array_ops.fill(array_ops.shape(x), np.array(lowest, x.dtype.as_numpy_dtype)), rest)
        return (array_ops.stack(values, -1, name=scope + "values"),
                array_ops.stack(indices, -1, name=scope + "indices"))


def softsign(features, name=None) -> Tensor:
    """tf.nn.softsign: x / (1 + |x|)."""
    with name_scope(name, "Softsign", [features]) as scope:
        x = convert_to_tensor(features)
        return truediv(x, add(abs(x), 1), name=scope)


def arg_max(input, dimension, output_type=dtypes.int64, name=None) -> Tensor:
    """tf.arg_max (deprecated TF1 spelling of argmax with `dimension`)."""
    return argmax(input, dimension, name=name, output_type=output_type)


def arg_min(input, dimension, output_type=dtypes.int64, name=None) -> Tensor:
    """tf.arg_min (deprecated TF1 spelling of argmin with `dimension`)."""
    return argmin(input, dimension, name=name, output_type=output_type)

