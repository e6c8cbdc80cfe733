"""Norm clipping: `tf.clip_by_norm`, `tf.global_norm`, `tf.clip_by_global_norm` (cf. TF1's
ops/clip_ops.py). Gradient lists keep their None entries, so the result zips back with the
variables of `compute_gradients`."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from lowerflow.frontend.array_ops import ones_like, stack
from lowerflow.frontend.core_ops import constant, convert_to_tensor, identity
from lowerflow.frontend.graph import Tensor, get_default_graph
from lowerflow.frontend.math_ops import cast, maximum, minimum, sqrt, square, where
from lowerflow.frontend.reduction_ops import reduce_sum


def clip_by_norm(t, clip_norm, axes=None, name=None) -> Tensor:
    """t * clip_norm / max(||t||, clip_norm), the L2 norm taken over `axes` (default: all)."""
    with get_default_graph().name_scope(name or "clip_by_norm") as scope:
        values = convert_to_tensor(t, name="t")
        if np.isscalar(clip_norm):
            clip_norm = max(clip_norm, 0)
        else:
            clip_norm = cast(maximum(clip_norm, 0), values.dtype)
        l2sum = reduce_sum(values * values, axes, keepdims=True)
        pred = l2sum > 0
        l2norm = where(pred, sqrt(where(pred, l2sum, ones_like(l2sum))), l2sum)
        return identity(values * clip_norm / maximum(l2norm, clip_norm), name=scope)


def _tensor_list(t_list) -> list:
    if not isinstance(t_list, Sequence) or isinstance(t_list, str):
        raise TypeError(f"`t_list` should be a sequence of tensors. Received {type(t_list)}.")
    return [None if t is None else convert_to_tensor(t, name=f"t_{i}") for i, t in enumerate(t_list)]


def global_norm(t_list, name=None) -> Tensor:
    """sqrt(sum of squares of every element of every tensor); None entries are ignored."""
    with get_default_graph().name_scope(name or "global_norm"):
        values = _tensor_list(t_list)
        squares = [reduce_sum(square(v)) for v in values if v is not None]
        return sqrt(reduce_sum(stack(squares)), name="global_norm")


def clip_by_global_norm(t_list, clip_norm, use_norm=None, name=None) -> tuple[list, Tensor]:
    """Every tensor scaled by clip_norm / max(global_norm, clip_norm); returns (list, norm).
    A non-finite norm makes every clipped value NaN, as in TF1."""
    values = _tensor_list(t_list)
    if use_norm is None:
        use_norm = global_norm(values, name)
    with get_default_graph().name_scope(name or "clip_by_global_norm") as scope:
        scale_for_finite = clip_norm * minimum(1.0 / use_norm,
                                               constant(1.0, dtype=use_norm.dtype) / clip_norm)
        scale = scale_for_finite + (use_norm - use_norm)
        clipped = [None if v is None else identity(v * cast(scale, v.dtype), name=f"{scope[:-1]}_{i}")
                   for i, v in enumerate(values)]
    return clipped, use_norm
