"""Strided access of C-contiguous tensors in a loop nest, over static shapes (cf. numpy's
nditer, which coalesces dimensions the same way).

An elementwise loop walks its iteration shape once; every buffer it touches (an "access")
has its own element strides into that shape, 0 on broadcast dimensions. Dimensions of size 1
are dropped and adjacent dimensions that are contiguous for *every* access are merged, so the
common same-shape case becomes one flat loop with stride 1, which LLVM vectorises. The loop
level (`lower-to-loops`) and the backend's kernels share these rules.
"""
from __future__ import annotations

from typing import Sequence


def broadcast_strides(shape: Sequence[int], iter_shape: Sequence[int]) -> list[int]:
    """Element strides of a C-contiguous `shape` read through broadcasting into `iter_shape`."""
    pad = len(iter_shape) - len(shape)
    if pad < 0:
        raise ValueError(f"shape {tuple(shape)} does not broadcast to {tuple(iter_shape)}")
    strides, step = [0] * len(iter_shape), 1
    for d in range(len(shape) - 1, -1, -1):
        n = shape[d]
        if n != 1:
            if n != iter_shape[pad + d]:
                raise ValueError(f"shape {tuple(shape)} does not broadcast to {tuple(iter_shape)}")
            strides[pad + d] = step
        step *= n
    return strides


def collapse_dims(iter_shape: Sequence[int], shapes: Sequence[Sequence[int]]
                  ) -> tuple[list[int], list[list[int]]]:
    """(loop trip counts, per-access strides per loop), outermost first, after dropping
    size-1 dims and merging dims that are contiguous for every access."""
    full = [broadcast_strides(s, iter_shape) for s in shapes]
    return merge_dims(iter_shape, [[f[d] for d in range(len(iter_shape))] for f in full])


def merge_dims(dims: Sequence[int], strides: Sequence[Sequence[int]]) -> tuple[list[int], list[list[int]]]:
    """`dims` without size-1 dims, neighbours merged where every access steps contiguously
    from one into the other (outer stride == inner stride * inner count); any stride sign."""
    out: list[int] = []
    merged: list[list[int]] = [[] for _ in strides]
    for d, n in enumerate(dims):
        if n == 1:
            continue
        if out and all(m[-1] == st[d] * n for m, st in zip(merged, strides)):
            out[-1] *= n  # (i, j) -> i*n*s + j*s == (i*n + j)*s for every access
            for m, st in zip(merged, strides):
                m[-1] = st[d]
        else:
            out.append(n)
            for m, st in zip(merged, strides):
                m.append(st[d])
    return out, merged
