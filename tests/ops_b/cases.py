"""The shape/array op cases the ops_b tests share. Each case builds TF1 ops on an input
tensor `x` through a module `m` (`lowerflow`, or TensorFlow's compat.v1 in the
differential test) and says what numpy gives; the feed's shape `s` is known to the case,
so attributes may depend on it even when `x` has unknown dims."""
from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np


class Case(NamedTuple):
    applies: Callable[[tuple], bool]  # for a feed shape
    build: Callable  # (m, x, s) -> tensor or list of tensors
    want: Callable  # (x) -> array or list of arrays


def _any(s):
    return True


def _ranked(s):
    return len(s) >= 1


def _nonempty(s):
    return len(s) >= 1 and all(s)


def one(x):
    """A non-zero scalar of x's dtype (True for bool) as a Python value; x: array or tensor."""
    return np.ones((), getattr(x.dtype, "as_numpy_dtype", x.dtype)).item()


def _ints(values: list) -> np.ndarray:
    """A 1-D int32 array (TF converts an empty list to float32)."""
    return np.array(values, np.int32)


def _widths(pairs: list) -> np.ndarray:
    """Paddings as TF1 wants them, [rank, 2] (also for rank 0)."""
    return np.array(pairs, np.int32).reshape(-1, 2)


def _np_pad(x: np.ndarray, widths: list, **kwargs) -> np.ndarray:
    return np.pad(x, widths, **kwargs) if x.ndim else x  # numpy cannot pad a scalar


CASES: dict[str, Case] = {
    "reshape_flat": Case(_any, lambda m, x, s: m.reshape(x, [-1]), lambda x: x.reshape(-1)),
    "reshape_rows": Case(_nonempty, lambda m, x, s: m.reshape(x, [s[0], -1]), lambda x: x.reshape(x.shape[0], -1)),
    "reshape_reversed": Case(_any, lambda m, x, s: m.reshape(x, list(s)[::-1] + [1]),
                             lambda x: x.reshape(x.shape[::-1] + (1,))),
    "transpose": Case(_any, lambda m, x, s: m.transpose(x), lambda x: x.T),
    "transpose_rotate": Case(lambda s: len(s) >= 2, lambda m, x, s: m.transpose(x, [len(s) - 1, *range(len(s) - 1)]),
                             lambda x: np.moveaxis(x, -1, 0)),
    "expand_first": Case(_any, lambda m, x, s: m.expand_dims(x, 0), lambda x: x[None]),
    "expand_last": Case(_any, lambda m, x, s: m.expand_dims(x, -1), lambda x: x[..., None]),
    "squeeze_axis": Case(_any, lambda m, x, s: m.squeeze(m.expand_dims(x, -1), [-1]), lambda x: x),
    "squeeze_all": Case(_any, lambda m, x, s: m.squeeze(m.reshape(x, [1, *s, 1])), np.squeeze),
    "concat_first": Case(_ranked, lambda m, x, s: m.concat([x, x[::-1], x[:1]], 0),
                         lambda x: np.concatenate([x, x[::-1], x[:1]], 0)),
    "concat_last": Case(_ranked, lambda m, x, s: m.concat([x[..., :1], x[::-1]], -1),
                        lambda x: np.concatenate([x[..., :1], x[::-1]], -1)),
    "stack_first": Case(_any, lambda m, x, s: m.stack([x, x[::-1] if s else x]),
                        lambda x: np.stack([x, x[::-1] if x.ndim else x])),
    "stack_last": Case(_ranked, lambda m, x, s: m.stack([x[::-1], x, x], axis=-1), lambda x: np.stack([x[::-1], x, x], -1)),
    "unstack_first": Case(_ranked, lambda m, x, s: m.unstack(x, s[0]), list),
    "unstack_last": Case(_ranked, lambda m, x, s: m.unstack(x, s[-1], axis=-1), lambda x: list(np.moveaxis(x, -1, 0))),
    "split_even": Case(_ranked, lambda m, x, s: m.split(m.concat([x, x[::-1]], 0), 2),
                       lambda x: np.split(np.concatenate([x, x[::-1]]), 2)),
    "split_sizes": Case(lambda s: len(s) >= 1 and s[-1] >= 1, lambda m, x, s: m.split(x, [1, -1], -1),
                        lambda x: [x[..., :1], x[..., 1:]]),
    "tile": Case(_any, lambda m, x, s: m.tile(x, _ints([2] * len(s))), lambda x: np.tile(x, [2] * x.ndim)),
    "tile_uneven": Case(_ranked, lambda m, x, s: m.tile(x, [1] * (len(s) - 1) + [3]),
                        lambda x: np.tile(x, [1] * (x.ndim - 1) + [3])),
    "pad": Case(_any, lambda m, x, s: m.pad(x, _widths([[1, 0]] * len(s))), lambda x: _np_pad(x, [[1, 0]] * x.ndim)),
    "pad_value": Case(_ranked, lambda m, x, s: m.pad(x, [[0, 2]] + [[1, 1]] * (len(s) - 1), constant_values=one(x)),
                      lambda x: np.pad(x, [[0, 2]] + [[1, 1]] * (x.ndim - 1), constant_values=one(x))),
    "pad_reflect": Case(lambda s: all(d >= 2 for d in s), lambda m, x, s: m.pad(x, _widths([[1, d - 1] for d in s]), "REFLECT"),
                        lambda x: _np_pad(x, [[1, d - 1] for d in x.shape], mode="reflect")),
    "pad_symmetric": Case(_any, lambda m, x, s: m.pad(x, _widths([[d, min(d, 1)] for d in s]), "SYMMETRIC"),
                          lambda x: _np_pad(x, [[d, min(d, 1)] for d in x.shape], mode="symmetric")),
    "slice_all": Case(_any, lambda m, x, s: m.slice(x, _ints([0] * len(s)), _ints([-1] * len(s))), lambda x: x),
    "slice_middle": Case(_any, lambda m, x, s: m.slice(x, _ints([d // 2 for d in s]), _ints([(d + 1) // 3 for d in s])),
                         lambda x: x[tuple(slice(d // 2, d // 2 + (d + 1) // 3) for d in x.shape)]),
    "gather_rows": Case(_nonempty, lambda m, x, s: m.gather(x, [s[0] - 1, 0, s[0] - 1]), lambda x: x[[-1, 0, -1]]),
    "gather_axis1": Case(lambda s: len(s) >= 2 and s[1] >= 1,
                         lambda m, x, s: m.gather(x, np.array([[0], [s[1] - 1]], np.int64), axis=1),
                         lambda x: x[:, [[0], [x.shape[1] - 1]]]),
    "gather_none": Case(_ranked, lambda m, x, s: m.gather(x, np.zeros([0, 2], np.int32)), lambda x: x[np.zeros([0, 2], int)]),
    "broadcast_to": Case(_any, lambda m, x, s: m.broadcast_to(x, [2, *s]), lambda x: np.broadcast_to(x, (2, *x.shape))),
    "fill": Case(lambda s: np.prod(s) > 0, lambda m, x, s: m.fill([2, 3], m.reshape(x, [-1])[-1]),
                 lambda x: np.full([2, 3], x.reshape(-1)[-1])),
    "zeros_like": Case(_any, lambda m, x, s: m.zeros_like(x), np.zeros_like),
    "ones_like": Case(_any, lambda m, x, s: m.ones_like(x), np.ones_like),
    "shape": Case(_any, lambda m, x, s: m.shape(x), lambda x: np.array(x.shape, np.int32)),
    "shape64": Case(_any, lambda m, x, s: m.shape(x, out_type=m.int64), lambda x: np.array(x.shape, np.int64)),
    "size": Case(_any, lambda m, x, s: m.size(x), lambda x: np.array(x.size, np.int32)),
    "rank": Case(_any, lambda m, x, s: m.rank(x), lambda x: np.array(x.ndim, np.int32)),
}

SHAPES = [(2, 3, 4), (1, 5), (0, 3), (3,), (4, 1, 2), ()]


def sample(shape: tuple, dtype, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        return rng.integers(0, 2, shape).astype(bool)
    if dtype.kind == "f":
        return rng.standard_normal(shape).astype(dtype)
    return rng.integers(-50, 50, shape).astype(dtype)


def flatten(outs) -> list:
    """Case results as a flat list (unstack/split give lists)."""
    flat = []
    for o in outs:
        flat.extend(o if isinstance(o, list) else [o])
    return flat


def applicable(shape: tuple) -> list[str]:
    return [name for name, case in CASES.items() if case.applies(shape)]
