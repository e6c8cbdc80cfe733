"""Python indexing (`tensor[1:, ..., ::-1, tf.newaxis, 0]`) as a TF1 StridedSlice spec:
begin/end/strides and the five bit masks (cf. TF1's array_ops._slice_helper).

Each index becomes one spec entry: an int shrinks its axis (end = begin + 1), a slice sets
begin/end/stride (omitted bounds set begin_mask/end_mask bits), `...` sets ellipsis_mask
and `None` (tf.newaxis) new_axis_mask. Indices must be known when the graph is built:
ints, or scalar integer tensors computed from constants (a bool index and `x[b:n]` with a
fed `n` are handled before, by frontend/dynamic_ops.py).
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field

import numpy as np

from lowerflow.frontend.graph import Tensor


@dataclass
class SliceSpec:
    """StridedSlice's begin/end/strides lists and its mask attributes, one bit per entry."""

    begin: list[int] = field(default_factory=list)
    end: list[int] = field(default_factory=list)
    strides: list[int] = field(default_factory=list)
    masks: dict[str, int] = field(default_factory=lambda: dict.fromkeys(
        ("begin_mask", "end_mask", "ellipsis_mask", "new_axis_mask", "shrink_axis_mask"), 0))

    def add(self, begin: int, end: int, stride: int, *masks: str) -> None:
        for m in masks:
            self.masks[m] |= 1 << len(self.begin)
        self.begin.append(begin)
        self.end.append(end)
        self.strides.append(stride)


def is_bool_index(index) -> bool:
    """Whether `tensor[index]` is TF1's boolean-mask indexing (tf.boolean_mask)."""
    if isinstance(index, Tensor):
        return index.dtype.is_bool
    return isinstance(index, (bool, np.bool_)) or isinstance(index, np.ndarray) and index.dtype == bool


def slice_spec(index, to_int) -> SliceSpec:
    """The StridedSlice spec of `tensor[index]`; `to_int(value)` resolves one index value."""
    spec = SliceSpec()
    for s in index if isinstance(index, (list, tuple)) else [index]:
        if isinstance(s, slice):
            masks = []
            begin = 0 if s.start is None else to_int(s.start)
            if s.start is None:
                masks.append("begin_mask")
            end = 0 if s.stop is None or s.stop is sys.maxsize else to_int(s.stop)
            if s.stop is None or s.stop is sys.maxsize:  # Python 2 passed x[1:] as maxsize
                masks.append("end_mask")
            spec.add(begin, end, 1 if s.step is None else to_int(s.step), *masks)
        elif s is Ellipsis:
            spec.add(0, 0, 1, "ellipsis_mask")
        elif s is None:
            spec.add(0, 0, 1, "new_axis_mask")
        else:
            i = to_int(s)
            spec.add(i, i + 1, 1, "shrink_axis_mask")
    return spec


def index_error(index) -> TypeError:
    """TF1's complaint about an index that is none of the valid kinds."""
    return TypeError("Only integers, slices (`:`), ellipsis (`...`), tf.newaxis (`None`) and scalar "
                     f"tf.int32/tf.int64 tensors are valid indices, got {index!r}")
