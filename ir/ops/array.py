"""Array ops that move elements: TF1's Transpose, ConcatV2, Pack, Unpack, Split/SplitV, Tile,
Pad/PadV2/MirrorPad, Slice, StridedSlice, GatherV2 and OneHot.

As in `shape.py`, TF1's shape-like tensor inputs (perm, axis, multiples, paddings, begin,
end, strides, depth, on/off values) are attributes. Each op's meaning is one function of
its operand shapes and attributes that infer, reference and the backend share:
`slice_window` gives the per-dim start, step and size that Slice and StridedSlice read
(StridedSlice with TF1's begin/end/ellipsis/new-axis/shrink masks, resolved as TF's
ValidateStridedSliceOp does), `split_sizes` the pieces of Split/SplitV, `pad_widths` the
checked paddings. Gather checks its indices at run time (TF1's CPU kernel:
InvalidArgumentError); its reference raises ValueError. Build-time errors use the words of
TF1's shape functions.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from lowerflow.ir.opdef import PURE, GradOp, OpDef, not_differentiable, register, same_dtype
from lowerflow.ir.ops.shape import elem_attr, shape_str
from lowerflow.ir.types import I32, I64, U8, TensorType

_PURE = frozenset({PURE})
MASKS = ("begin_mask", "end_mask", "ellipsis_mask", "new_axis_mask", "shrink_axis_mask")
PAD_MODES = ("CONSTANT", "REFLECT", "SYMMETRIC")


def norm_axis(axis: int, rank: int) -> int:
    """`axis` in [-rank, rank) as a non-negative index (TF1's wording if out of range)."""
    if not -rank <= axis < rank:
        raise ValueError(f"axis = {axis} not in [{-rank}, {rank})")
    return axis % rank


def _merge_dims(out: list, shape: tuple, skip: int | None, shapes: tuple) -> None:
    """Fill `out`'s unknown dims from `shape`; ValueError (TF1's words) where known dims differ."""
    for d, (a, b) in enumerate(zip(out, shape)):
        if d != skip and a is not None and b is not None and a != b:
            raise ValueError(f"Dimension {d} in both shapes must be equal, but are {a} and {b}. "
                             f"Shapes are {shape_str(shapes[0])} and {shape_str(shapes[1])}.")
        out[d] = b if a is None else a


# ---- Transpose ----------------------------------------------------------------------------

def transpose_perm(attrs: dict, rank: int) -> list[int]:
    """The permutation (absent: reversed dims, TF1's default)."""
    perm = attrs.get("perm")
    if perm is None:
        return list(range(rank))[::-1]
    perm = [int(p) for p in perm]
    if len(perm) != rank:
        raise ValueError(f"Dimension must be {rank} but is {len(perm)}")
    for p in perm:
        if not 0 <= p < rank:
            raise ValueError(f"perm dim {p} is out of range of input rank {rank}")
        if perm.count(p) > 1:
            raise ValueError(f"{p} is duplicated in perm")
    return perm


register(OpDef("lf.transpose",
               lambda types, attrs: [types[0].with_shape(types[0].shape[p]
                                                         for p in transpose_perm(attrs, types[0].rank))],
               lambda args, attrs: [np.transpose(args[0], transpose_perm(attrs, args[0].ndim))],
               ("Transpose",), _PURE, grad=lambda e, op, grads: [_transpose_back(e, grads[0], op.attrs)]))


def _transpose_back(e, g, attrs: dict):
    """The inverse permutation applied to the gradient (absent: reversal, its own inverse)."""
    perm = attrs.get("perm")
    if perm is None:
        return e("lf.transpose", g)
    return e("lf.transpose", g, perm=[int(i) for i in np.argsort(perm)])


# ---- ConcatV2, Pack ---------------------------------------------------------------------

def _concat_infer(types, attrs):
    same_dtype(types, "ConcatV2 inputs")
    rank = types[0].rank
    for t in types:
        if t.rank != rank:
            raise ValueError(f"Shape must be rank {rank} but is rank {t.rank}")
    if not -rank <= attrs["axis"] < rank:
        raise ValueError(f"ConcatOp : Expected concatenating dimensions in the range [{-rank}, {rank}), "
                         f"but got {attrs['axis']}")
    axis = attrs["axis"] % rank
    out = list(types[0].shape)
    for t in types[1:]:
        _merge_dims(out, t.shape, axis, (types[0].shape, t.shape))
    sizes = [t.shape[axis] for t in types]
    out[axis] = None if None in sizes else sum(sizes)
    return [types[0].with_shape(out)]


def _concat_grad(e, op: GradOp, grads):
    pieces = e("lf.split_like", grads[0], *op.inputs, axis=op.attrs["axis"])
    return list(pieces) if isinstance(pieces, tuple) else [pieces]


register(OpDef("lf.concat", _concat_infer, lambda args, attrs: [np.concatenate(args, attrs["axis"])],
               ("ConcatV2",), _PURE, ("axis",), grad=_concat_grad))


def _stack_infer(types, attrs):
    same_dtype(types, "Pack inputs")
    out = list(types[0].shape)
    for t in types[1:]:
        if t.rank != len(out):
            raise ValueError(f"Shapes must be equal rank, but are {len(out)} and {t.rank}")
        _merge_dims(out, t.shape, None, (types[0].shape, t.shape))
    axis = norm_axis(attrs["axis"], len(out) + 1)
    return [types[0].with_shape(out[:axis] + [len(types)] + out[axis:])]


def _stack_grad(e, op: GradOp, grads):
    pieces = e("lf.unstack", grads[0], axis=op.attrs["axis"], num=len(op.inputs))
    return list(pieces) if isinstance(pieces, tuple) else [pieces]


register(OpDef("lf.stack", _stack_infer, lambda args, attrs: [np.stack(args, attrs["axis"])],
               ("Pack",), _PURE, ("axis",), grad=_stack_grad))


# ---- Unpack, Split/SplitV ----------------------------------------------------------------

def _unstack_infer(types, attrs):
    (x,) = types
    axis, num = norm_axis(attrs["axis"], x.rank), attrs["num"]
    if x.shape[axis] not in (None, num):
        raise ValueError(f"Dimension must be {num} but is {x.shape[axis]}")
    return [x.with_shape(x.shape[:axis] + x.shape[axis + 1:])] * num


register(OpDef("lf.unstack", _unstack_infer,
               lambda args, attrs: list(np.moveaxis(args[0], attrs["axis"], 0)),
               ("Unpack",), _PURE, ("axis", "num"),
               grad=lambda e, op, grads: [e("lf.stack", *grads, axis=op.attrs["axis"])]))


def split_sizes(n: int | None, attrs: dict) -> list:
    """The sizes along the split axis: `num_split` equal pieces, or `size_splits` (one -1 at
    most, taking the rest); None while `n` is unknown."""
    num, sizes = attrs["num_split"], attrs.get("size_splits")
    if num < 1:
        raise ValueError(f"Number of ways to split should be > 0, but got {num}")
    if sizes is None:
        if n is not None and n % num:
            raise ValueError(f"Dimension size must be evenly divisible by {num} but is {n}")
        return [None if n is None else n // num] * num
    sizes = [int(s) for s in sizes]
    if len(sizes) != num:
        raise ValueError(f"Dimension must be {num} but is {len(sizes)}")
    if sizes.count(-1) > 1 or any(s < -1 for s in sizes):
        raise ValueError(f"size_splits may hold one -1 and otherwise non-negative sizes, got {sizes}")
    known = sum(s for s in sizes if s != -1)
    if n is not None and (known > n or -1 not in sizes and known != n):
        raise ValueError("Determined shape must either match input shape along split_dim exactly if "
                         "fully specified, or be less than the size of the input along split_dim if "
                         f"not fully specified.  Got: {known}")
    rest = None if n is None else n - known
    return [rest if s == -1 else s for s in sizes]


def _split_infer(types, attrs):
    (x,) = types
    axis = norm_axis(attrs["axis"], x.rank)
    return [x.with_shape(x.shape[:axis] + (s,) + x.shape[axis + 1:])
            for s in split_sizes(x.shape[axis], attrs)]


def _split_reference(args, attrs):
    (x,) = args
    axis = attrs["axis"] % x.ndim
    ends = np.cumsum(split_sizes(x.shape[axis], attrs))
    return np.split(x, ends[:-1], axis)


register(OpDef("lf.split", _split_infer, _split_reference, ("Split", "SplitV"), _PURE,
               ("axis", "num_split"), grad=lambda e, op, grads: [e("lf.concat", *grads, axis=op.attrs["axis"])]))


# ---- Tile, Pad ----------------------------------------------------------------------------

def _tile_infer(types, attrs):
    (x,) = types
    multiples = [int(m) for m in attrs["multiples"]]
    if len(multiples) != x.rank:
        raise ValueError(f"Dimension must be {x.rank} but is {len(multiples)}")
    for i, m in enumerate(multiples):
        if m < 0:
            raise ValueError(f"Expected multiples[{i}] >= 0, but got {m}")
    return [x.with_shape(0 if m == 0 else None if d is None else d * m for d, m in zip(x.shape, multiples))]


def _tile_grad(e, op: GradOp, grads):
    """Each tile's gradient summed: g as (multiple, dim) pairs, reduced over the multiples."""
    shape = e.shape(op.inputs[0])
    if None in shape:
        raise LookupError("Tile: the gradient needs the input's shape known when the graph is built")
    pairs = [n for m, d in zip(op.attrs["multiples"], shape) for n in (int(m), d)]
    split = e("lf.reshape", grads[0], shape=pairs)
    return [e("lf.reduce_sum", split, axes=list(range(0, len(pairs), 2)), keepdims=False)]


register(OpDef("lf.tile", _tile_infer, lambda args, attrs: [np.tile(args[0], attrs["multiples"])],
               ("Tile",), _PURE, ("multiples",), grad=_tile_grad))


def pad_widths(shape: tuple, attrs: dict) -> list[tuple[int, int]]:
    """(before, after) per dim, checked for the mode (REFLECT mirrors without the edge, so it
    pads less than the dim; SYMMETRIC repeats the edge, so at most the dim)."""
    paddings, mode = [tuple(int(v) for v in p) for p in attrs["paddings"]], attrs["mode"]
    if mode not in PAD_MODES:
        raise ValueError(f"mode must be one of {', '.join(PAD_MODES)}, got {mode!r}")
    if len(paddings) != len(shape) or any(len(p) != 2 for p in paddings):
        raise ValueError(f"The first dimension of paddings must be the rank of inputs "
                         f"{shape_str(shape)}, got {len(paddings)} (before, after) pairs")
    for n, p in zip(shape, paddings):
        if min(p) < 0:
            raise ValueError(f"Paddings must be non-negative: {p[0]} {p[1]}")
        if mode == "REFLECT" and n is not None and max(p) >= n:
            raise ValueError(f"paddings must be less than the dimension size: {p[0]}, {p[1]} not less than {n}")
        if mode == "SYMMETRIC" and n is not None and max(p) > n:
            raise ValueError(f"paddings must be no greater than the dimension size: {p[0]}, {p[1]} "
                             f"greater than {n}")
    return paddings


def _pad_reference(args, attrs):
    (x,) = args
    widths = pad_widths(x.shape, attrs)
    if x.ndim == 0:  # numpy cannot pad a scalar; padding it changes nothing
        return [x]
    if attrs["mode"] == "CONSTANT":
        return [np.pad(x, widths, constant_values=np.asarray(attrs["constant_values"]).astype(x.dtype))]
    return [np.pad(x, widths, mode=attrs["mode"].lower())]


register(OpDef("lf.pad",
               lambda types, attrs: [types[0].with_shape(
                   None if n is None else n + a + b
                   for n, (a, b) in zip(types[0].shape, pad_widths(types[0].shape, attrs)))],
               _pad_reference, ("Pad", "PadV2", "MirrorPad"), _PURE, ("paddings", "mode", "constant_values"),
               grad=lambda e, op, grads: [_pad_grad(e, grads[0], op.inputs[0], op.attrs)]))


def _pad_grad(e, g, x, attrs: dict):
    """The padded gradient's inner window; a mirror pad (TF's MirrorPadGrad) also adds each
    mirrored strip, reversed, onto the elements it copied, one dim at a time."""
    pairs = [(int(a), int(b)) for a, b in attrs["paddings"]]
    if attrs["mode"] == "CONSTANT":
        return _window(e, g, [a for a, _ in pairs], [-b for _, b in pairs])
    shape = e.shape(x)
    if shape is None or None in shape:
        raise LookupError("MirrorPad: the gradient needs the input's shape known when the graph is built")
    edge = 1 if attrs["mode"] == "REFLECT" else 0  # REFLECT does not repeat the edge element
    rank = len(pairs)
    for d, ((a, b), n) in enumerate(zip(pairs, shape)):
        if not a and not b:
            continue
        def part(lo, hi):
            begin, end = [0] * rank, [0] * rank
            begin[d], end[d] = lo, hi
            return _window(e, g, begin, end, whole=[i for i in range(rank) if i != d])
        total = part(a, -b)
        for lo, hi, before in ((0, a, edge), (a + n, a + n + b, n - b - edge)):
            if hi > lo:
                strip = _reverse(e, part(lo, hi), d)
                widths = [[0, 0]] * rank
                widths[d] = [before, n - before - (hi - lo)]
                total = e("lf.add", total, e("lf.pad", strip, paddings=widths, mode="CONSTANT", constant_values=0))
        g = total
    return g


def _window(e, g, begin: list, end: list, whole: tuple = ()):
    """g[begin:end] per dim (an end of 0 or a dim in `whole`: to the end)."""
    rank = len(begin)
    end_mask = sum(1 << d for d in range(rank) if end[d] == 0 or d in whole)
    begin_mask = sum(1 << d for d in whole)
    return e("lf.strided_slice", g, begin=begin, end=end, strides=[1] * rank, begin_mask=begin_mask, end_mask=end_mask)


def _reverse(e, g, d: int):
    rank = len(e.shape(g))
    strides = [1] * rank
    strides[d] = -1
    every = (1 << rank) - 1
    return e("lf.strided_slice", g, begin=[0] * rank, end=[0] * rank, strides=strides, begin_mask=every, end_mask=every)


# ---- Slice, StridedSlice --------------------------------------------------------------

@dataclass
class Window:
    """What a slice reads: per input dim its first index, step and count (None where the
    dim is unknown), and the result shape (new axes in, shrunk axes out)."""

    starts: list = field(default_factory=list)
    steps: list = field(default_factory=list)
    sizes: list = field(default_factory=list)
    shape: tuple = ()


def _slice_window(shape: tuple, attrs: dict) -> Window:
    """Slice: `begin` and `size` per dim, size -1 meaning to the end."""
    begin, size = [int(b) for b in attrs["begin"]], [int(s) for s in attrs["size"]]
    if len(begin) != len(shape) or len(size) != len(shape):
        raise ValueError(f"Expected begin and size arguments to be 1-D tensors of size {len(shape)}, "
                         f"but got shapes [{len(begin)}] and [{len(size)}] instead.")
    sizes = []
    for d, (n, b, s) in enumerate(zip(shape, begin, size)):
        if b < 0 or n is not None and b > n:
            raise ValueError(f"Expected begin[{d}] in [0, {'?' if n is None else n}], but got {b}")
        if s < -1 or n is not None and s > n - b:
            raise ValueError(f"Expected size[{d}] in [0, {'?' if n is None else n - b}], but got {s}")
        sizes.append(s if s != -1 else None if n is None else n - b)
    return Window(begin, [1] * len(shape), sizes, tuple(sizes))


def _dim_window(n: int | None, b: int, e: int, s: int, bits: set, dim: int) -> tuple:
    """(start, step, size) of one spec entry over a dim of size `n`, Python-slice style."""
    if "shrink_axis_mask" in bits:
        if n is None:
            return (b if b >= 0 else None), 1, 1
        if not -n <= b < n:
            raise ValueError(f"slice index {b} of dimension {dim} out of bounds.")
        return b % n, 1, 1
    if n is None:
        return None, s, None
    lo, hi = (0, n) if s > 0 else (-1, n - 1)

    def clamp(v: int, masked: bool, default: int) -> int:
        return default if masked else min(max(v + n if v < 0 else v, lo), hi)

    start = clamp(b, "begin_mask" in bits, lo if s > 0 else hi)
    stop = clamp(e, "end_mask" in bits, hi if s > 0 else lo)
    return start, s, max(0, -((start - stop) // s))


def _strided_window(shape: tuple, attrs: dict) -> Window:
    """StridedSlice: TF1's spec (begin/end/strides and the five masks) over `shape`."""
    begin, end, strides = ([int(v) for v in attrs[k]] for k in ("begin", "end", "strides"))
    if not len(begin) == len(end) == len(strides):
        raise ValueError(f"begin, end and strides must have the same length, got "
                         f"{len(begin)}, {len(end)} and {len(strides)}")
    bits = [{m for m in MASKS if attrs.get(m, 0) >> i & 1} for i in range(len(begin))]
    if sum("ellipsis_mask" in b for b in bits) > 1:
        raise ValueError("Multiple ellipses in slice spec not allowed")
    consumed = sum(not b & {"ellipsis_mask", "new_axis_mask"} for b in bits)
    rank = len(shape)
    if consumed > rank:
        raise ValueError(f"Index out of range using input dim {rank}; input has only {rank} dims")
    window, out, d = Window(), [], 0

    def take(start, step, size, keep: bool) -> None:
        window.starts.append(start)
        window.steps.append(step)
        window.sizes.append(size)
        if keep:
            out.append(size)

    for i, b in enumerate(bits):
        if "ellipsis_mask" in b:
            for _ in range(rank - consumed):
                take(0, 1, shape[d], True)
                d += 1
        elif "new_axis_mask" in b:
            out.append(1)
        else:
            if strides[i] == 0:
                raise ValueError(f"strides[{i}] must be non-zero")
            take(*_dim_window(shape[d], begin[i], end[i], strides[i], b, d), "shrink_axis_mask" not in b)
            d += 1
    while d < rank:  # an implicit ellipsis at the end
        take(0, 1, shape[d], True)
        d += 1
    window.shape = tuple(out)
    return window


def slice_window(op_name: str, shape: tuple, attrs: dict) -> Window:
    """The window "lf.slice" or "lf.strided_slice" reads from an operand of `shape`."""
    return (_slice_window if op_name == "lf.slice" else _strided_window)(shape, attrs)


def _slicer(name: str, tf_name: str, attrs: tuple) -> None:
    def infer(types, attrs):
        return [types[0].with_shape(slice_window(name, types[0].shape, attrs).shape)]

    def reference(args, attrs):
        (x,) = args
        w = slice_window(name, x.shape, attrs)
        index = np.ix_(*[start + step * np.arange(size) for start, step, size in zip(w.starts, w.steps, w.sizes)])
        return [x[index].reshape(w.shape)]

    register(OpDef(name, infer, reference, (tf_name,), _PURE, attrs,
                   grad=lambda e, op, grads: [e("lf.slice_grad", grads[0], op.inputs[0], op=name, **op.attrs)]))


_slicer("lf.slice", "Slice", ("begin", "size"))
_slicer("lf.strided_slice", "StridedSlice", ("begin", "end", "strides"))


# ---- GatherV2, OneHot --------------------------------------------------------------------

def _index_dtype(t: TensorType, allowed: tuple, what: str) -> None:
    if t.dtype not in allowed:
        raise TypeError(f"Value passed to parameter '{what}' has DataType {t.dtype.np_name} not in "
                        f"list of allowed values: {', '.join(a.np_name for a in allowed)}")


def _gather_infer(types, attrs):
    params, indices = types
    _index_dtype(indices, (I32, I64), "indices")
    if params.rank < 1:
        raise ValueError("Shape must be at least rank 1 but is rank 0")
    axis = norm_axis(attrs["axis"], params.rank)
    return [params.with_shape(params.shape[:axis] + indices.shape + params.shape[axis + 1:])]


def _gather_reference(args, attrs):
    params, indices = args
    axis = attrs["axis"] % params.ndim
    n = params.shape[axis]
    bad = (indices < 0) | (indices >= n)
    if bad.any():
        where = tuple(np.argwhere(bad)[0])
        raise ValueError(f"indices[{','.join(map(str, where))}] = {indices[where]} is not in [0, {n})")
    return [np.take(params, indices, axis)]


def _gather_grad(e, op: GradOp, grads):
    """Gradient rows scatter-added back to the rows they were gathered from; the gathered
    axis goes first for the segment sum and back after it."""
    (params, indices), g = op.inputs, grads[0]
    shape, index_rank = e.shape(params), len(e.shape(indices))
    axis = op.attrs["axis"] % len(shape)
    if shape[axis] is None and axis == 0:
        return [e("lf.segment_sum_like", g, indices, params), None]
    if shape[axis] is None:
        raise LookupError("GatherV2: the gradient needs params' gathered dim known when the graph is built")
    rank = len(shape) - 1 + index_rank
    front = list(range(axis, axis + index_rank)) + [d for d in range(rank) if not axis <= d < axis + index_rank]
    if axis:
        g = e("lf.transpose", g, perm=front)
    summed = e("lf.unsorted_segment_sum", g, indices, num_segments=shape[axis])
    if axis:
        summed = e("lf.transpose", summed, perm=list(range(1, axis + 1)) + [0] + list(range(axis + 1, len(shape))))
    return [summed, None]


register(OpDef("lf.gather", _gather_infer, _gather_reference, ("GatherV2",), _PURE, ("axis",), grad=_gather_grad))


def _update_row_infer(types, attrs):
    buffer, index, row = types
    _index_dtype(index, (I32, I64), "index")
    if index.rank != 0 or buffer.rank == 0:
        raise ValueError(f"lf.update_row takes a scalar index into a tensor of rank >= 1, got "
                         f"{shape_str(index.shape)} into {shape_str(buffer.shape)}")
    same_dtype([buffer, row], "lf.update_row's buffer and row")
    if row.rank != buffer.rank - 1 or any(a is not None and b is not None and a != b
                                          for a, b in zip(row.shape, buffer.shape[1:])):
        raise ValueError(f"Shapes must be equal: the row {shape_str(row.shape)} and the rows of "
                         f"{shape_str(buffer.shape)}")
    return [buffer]


def _update_row_reference(args, attrs):
    buffer, index, row = args
    if not 0 <= int(index) < buffer.shape[0]:
        raise ValueError(f"indices[0] = {int(index)} is not in [0, {buffer.shape[0]})")
    out = buffer.copy()
    out[int(index)] = row
    return [out]


def _update_row_grad(e, op: GradOp, grads):
    """The buffer's gradient is g with row i zeroed; the row's is row i of g."""
    (_, index, row), g = op.inputs, grads[0]
    return [e("lf.update_row", g, index, e("lf.fill_like", row, value=0)), None, e("lf.gather", g, index, axis=0)]


# "lf.update_row"(buffer, i, row): `buffer` with row i replaced (a TensorArray write, a loop's
# per-iteration stack): one row's work, where a select over the whole buffer is all of it.
register(OpDef("lf.update_row", _update_row_infer, _update_row_reference, ("LfUpdateRow",), _PURE,
               grad=_update_row_grad))


def _full_rows_infer(types, attrs):
    buffer, size = types
    _index_dtype(size, (I32,), "size")
    if size.rank != 0 or buffer.rank == 0:
        raise ValueError(f"lf.full_rows takes a scalar size and a tensor of rank >= 1, got "
                         f"{shape_str(size.shape)} and {shape_str(buffer.shape)}")
    return [buffer]


def _full_rows_reference(args, attrs):
    buffer, size = args
    if int(size) != buffer.shape[0]:
        raise ValueError(f"the TensorArray has {int(size)} elements, not the {buffer.shape[0]} its "
                         "static shape holds")
    return [buffer.copy()]


# "lf.full_rows"(buffer, size): `buffer`, once the run checked that all its rows are in use
# (a dynamic-size TensorArray stacked: its size is known at run time, its shape must be static).
register(OpDef("lf.full_rows", _full_rows_infer, _full_rows_reference, ("LfFullRows",), _PURE,
               grad=lambda e, op, grads: [grads[0], None]))


def _segment_sum_infer(types, attrs):
    data, ids = types
    _index_dtype(ids, (I32, I64), "segment_ids")
    if ids.shape != data.shape[:ids.rank] and None not in data.shape[:ids.rank] + ids.shape:
        raise ValueError(f"data.shape = {shape_str(data.shape)} does not start with segment_ids.shape = "
                         f"{shape_str(ids.shape)}")
    if attrs["num_segments"] < 0:
        raise ValueError(f"num_segments must be non-negative, got {attrs['num_segments']}")
    return [data.with_shape((attrs["num_segments"],) + data.shape[ids.rank:])]


def _segment_sum_reference(args, attrs):
    """Rows of `data` added into the segment their id names; negative ids are dropped, ids at or
    past num_segments are an error (TF's CPU kernel)."""
    data, ids = args
    n = attrs["num_segments"]
    if (ids >= n).any():
        raise ValueError(f"segment_ids[...] = {ids[ids >= n].flat[0]} is out of range [0, {n})")
    rows = data.reshape((ids.size,) + data.shape[ids.ndim:])
    out = np.zeros((n,) + data.shape[ids.ndim:], data.dtype)
    keep = ids.reshape(-1) >= 0
    np.add.at(out, ids.reshape(-1)[keep], rows[keep])
    return [out]


def _segment_sum_grad(e, op: GradOp, grads):
    """Each row's gradient is its segment's (TF's _GatherDropNegatives): dropped rows (a
    negative id) get zeros, read through id 0 so the gather stays in range."""
    (data, ids), g = op.inputs, grads[0]
    kept = e("lf.ge", ids, e.const(0, ids))
    rows = e("lf.gather", g, e("lf.max", ids, e.const(0, ids)), axis=0)
    for _ in range(len(e.shape(data)) - len(e.shape(ids))):
        kept = e("lf.expand_dims", kept, axis=-1)
    return [e("lf.select", kept, rows, e("lf.fill_like", rows, value=0)), None]


register(OpDef("lf.unsorted_segment_sum", _segment_sum_infer, _segment_sum_reference, ("UnsortedSegmentSum",),
               _PURE, ("num_segments",), grad=_segment_sum_grad))


def one_hot_axis(attrs: dict, rank: int) -> int:
    """Where OneHot's depth dim goes among rank + 1 dims (-1: last)."""
    axis = attrs["axis"]
    if not -1 <= axis <= rank:
        raise ValueError(f"Expected axis to be -1 or between [0, {rank}].  But received: {axis}")
    return rank if axis == -1 else axis


def _one_hot_infer(types, attrs):
    (indices,) = types
    _index_dtype(indices, (U8, I32, I64), "indices")
    depth = attrs["depth"]
    if depth < 0:
        raise ValueError(f"depth must be non-negative, got: {depth}")
    axis = one_hot_axis(attrs, indices.rank)
    return [TensorType(indices.shape[:axis] + (depth,) + indices.shape[axis:], elem_attr(attrs["dtype"]))]


def _one_hot_reference(args, attrs):
    (indices,) = args
    dtype = elem_attr(attrs["dtype"]).np_dtype
    hot = indices[..., None] == np.arange(attrs["depth"])
    out = np.where(hot, np.asarray(attrs["on_value"]).astype(dtype), np.asarray(attrs["off_value"]).astype(dtype))
    return [np.moveaxis(out, -1, one_hot_axis(attrs, indices.ndim))]


register(OpDef("lf.one_hot", _one_hot_infer, _one_hot_reference, ("OneHot",), _PURE,
               ("depth", "on_value", "off_value", "axis", "dtype"), grad=not_differentiable))
