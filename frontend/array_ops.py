"""TF1's shape and array ops (`tf.reshape` ... `tf.broadcast_to`, `Tensor.__getitem__`) and
the packing of lists of tensors that `convert_to_tensor` does with `stack`.

Signatures, defaults, op types and default names are TF1's (cf. TF1's array_ops.py).
Shape-like arguments (shapes, perms, axes, paddings, begin/size, depth, range bounds) become
IR attributes (`lowerflow/ir/ops/shape.py`, `array.py`): Python or numpy data, or tensors
computed from constants alone (`constant_value`, a generalised TF1 tensor_util.constant_value).
As in TF1, `tf.shape`, `tf.size` and `tf.rank` of statically known shapes are constants.
Reshape's shape, Fill's dims, Tile's multiples and Slice's begin/size (`shape_arg`) may also
be computed from shapes known only per run signature (`tf.shape(x)[0]` of an unknown dim):
they are resolved when the signature is lowered (frontend/shape_values.py), and the static
shape is the best partial one. Inputs of unknown rank are accepted where TF1 accepts them;
their checks wait for the run's shapes.
"""
from __future__ import annotations

import numpy as np

from lowerflow import ir
from lowerflow.frontend import dtypes, shape_values
from lowerflow.frontend.core_ops import constant, convert_operands, convert_to_tensor, identity
from lowerflow.frontend.graph import Operation, Tensor
from lowerflow.frontend.lowering import lower, needed_ops
from lowerflow.frontend.math_ops import cast
from lowerflow.frontend.op_builder import apply, apply_op, ir_type, natural_dtype, to_numpy
from lowerflow.frontend.reduction_ops import deprecated_argument_lookup
from lowerflow.frontend.slicing import is_bool_index, index_error, slice_spec
from lowerflow.frontend.tensor_shape import Dimension, TensorShape
from lowerflow.ir.interp import run_function
from lowerflow.ir.opdef import PURE

_SMALL = 1000  # TF1's zeros/ones make a Const below this many elements, else a Fill


# ---- build-time values of shape-like arguments ----------------------------------------

def constant_value(value, what: str) -> np.ndarray:
    """`value` known at build time: data, or a tensor whose slice holds only pure ops (no
    placeholder, variable or random op), evaluated by the reference interpreter."""
    if hasattr(value, "_as_tensor"):
        value = value._as_tensor()
    if isinstance(value, (list, tuple)) and any(isinstance(v, Tensor) or hasattr(v, "_as_tensor") for v in value):
        return np.array([constant_value(v, what) for v in value])
    if not isinstance(value, Tensor):
        return np.asarray(value)
    if value.op.type == "Const":
        return value.op.ir_attr("value")
    for op in needed_ops([value], [], set()):
        ir_name = ir.TF_TO_IR.get(op.type)
        if ir_name is None or not ir.get_op(ir_name).has(PURE):
            raise NotImplementedError(
                f"lowerflow needs the {what} when the graph is built, but {value.name} depends on "
                f"'{op.name}' ({op.type}), known only at run time: pass Python values or tensors "
                f"computed from constants")
    return run_function(lower([value], [], {}).func, [])[0]


def static_ints(value, what: str) -> list[int]:
    """A shape-like argument as a flat list of ints (TensorShapes and Dimensions included)."""
    if isinstance(value, TensorShape):
        value = value.as_list()
    if isinstance(value, (list, tuple)):
        value = [v.value if isinstance(v, Dimension) else v for v in value]
        if None in value:
            raise ValueError(f"Tried to convert '{what}' to a tensor and failed. Error: None values not supported.")
    arr = constant_value(value, what)
    if arr.dtype.kind not in "iu" and arr.size:  # an empty list is float64 to numpy
        raise TypeError(f"{what} must be integers, got {arr.dtype}: {value!r}")
    return [int(v) for v in arr.reshape(-1)]


def shape_arg(value, what: str, standin: int = 1):
    """A list-of-ints argument: its ints when the graph determines them, else a RunValue
    whose tensor the run signature's shapes determine (frontend/shape_values.py)."""
    try:
        return static_ints(value, what)
    except NotImplementedError:
        t = convert_to_tensor(value)
        if not t.dtype.is_integer or t.shape.ndims not in (None, 0, 1):
            raise TypeError(f"{what} must be a vector of integers, got {t!r}") from None
        n = t.shape.as_list()[0] if t.shape.ndims == 1 else None
        if n is None:
            raise ValueError(f"lowerflow needs the length of {what} when the graph is built, got {t!r}") from None
        return shape_values.RunValue(t, [standin] * n)


def _known(values) -> list:
    """Build-time dims of a shape argument (None where only the run knows them)."""
    if isinstance(values, shape_values.RunValue):
        return shape_values.partial_shape(values.tensor)
    return list(values)


def static_int(value, what: str) -> int:
    """A scalar shape-like argument (an axis, a depth) as an int."""
    values = static_ints(value, what)
    if len(values) != 1:
        raise ValueError(f"{what} must be a scalar, got {value!r}")
    return values[0]


def static_scalar(value, dtype: dtypes.DType, what: str):
    """A scalar argument (a pad or one-hot value) as a Python number of `dtype`."""
    arr = to_numpy(constant_value(value, what) if isinstance(value, Tensor) else value, dtype)
    if arr.size != 1:
        raise ValueError(f"{what} must be a scalar, got {value!r}")
    return arr.reshape(()).item()


def _create(op_type: str, inputs: list[Tensor], attrs: dict, name: str, arg_shapes: tuple = (),
            standin: int | None = None, exact: bool = False, run_checked: bool = False) -> Operation:
    """The graph op of TF1 type `op_type`. `arg_shapes`: TF1's shapes of the inputs that are
    attributes here ("[1]" for Reshape's shape), quoted in build-time errors as TF1 does.
    Inputs of unknown rank are checked as `standin` unknown dims; the outputs' static
    shapes are then unknown, or what that check inferred if `exact`. With `run_checked`,
    every dim is checked as unknown (TF1 checks those bounds in the kernel, at run time)."""
    if not run_checked and (standin is None or all(t.shape.ndims is not None for t in inputs)):
        try:
            return apply_op(op_type, inputs, attrs, name)
        except ValueError as e:
            if not arg_shapes:
                raise
            message = str(e)[:-1]  # "... with input shapes: [2,3]." less its period
            joiner = "" if message.endswith(": ") else ", "
            raise ValueError(f"{message}{joiner}{', '.join(arg_shapes)}.") from None
    types = [ir.TensorType((None,) * (standin if t.shape.ndims is None else t.shape.ndims), t.dtype.ir)
             if run_checked or t.shape.ndims is None else ir_type(t) for t in inputs]
    outs = ir.get_op(ir.TF_TO_IR[op_type]).infer(types, attrs)
    return inputs[0].graph.create_op(op_type, inputs, [(dtypes.as_dtype(o.dtype), TensorShape(o.shape if exact else None))
                                                       for o in outs], attrs, name)


def _vec(values: list) -> str:
    return f"[{len(values)}]"


def _axis_rank(axis: int, extra: int = 0) -> int:
    """The least rank for which `axis` is valid, less `extra` (the dims the op adds)."""
    return max(axis + 1 if axis >= 0 else -axis, 0) - extra


# ---- reshaping ------------------------------------------------------------------------------

def reshape(tensor, shape, name=None) -> Tensor:
    """tf.reshape: `shape` may hold one -1, the size that keeps the number of elements."""
    target = shape_arg(shape, "shape")
    if isinstance(target, shape_values.RunValue):
        return _run_reshape(convert_to_tensor(tensor), target, name or "Reshape")
    return _create("Reshape", [convert_to_tensor(tensor)], {"shape": target}, name or "Reshape",
                   (_vec(target),), standin=1, exact=True).outputs[0]


def _run_reshape(x: Tensor, target: shape_values.RunValue, name: str) -> Tensor:
    """Reshape to a shape the run knows; statically, the known dims and a resolvable -1."""
    dims = _known(target)
    n, rest = x.shape.num_elements(), [d for d in dims if d != -1]
    if dims.count(-1) == 1 and n is not None and None not in rest and np.prod(rest) > 0:
        dims = [n // int(np.prod(rest)) if d == -1 else d for d in dims]
    dims = [None if d == -1 else d for d in dims]
    return shape_values.create("Reshape", [x], {"shape": target}, name, dims).outputs[0]


def expand_dims(input, axis=None, name=None, dim=None) -> Tensor:
    """tf.expand_dims: a size-1 dim inserted at `axis` in [-rank-1, rank]."""
    axis = deprecated_argument_lookup(axis, "axis", dim, "dim")
    if axis is None:
        raise ValueError("Must specify an axis argument to tf.expand_dims()")
    axis = static_int(axis, "axis")
    return _create("ExpandDims", [convert_to_tensor(input)], {"axis": axis}, name or "ExpandDims", ("[]",),
                   standin=_axis_rank(axis, 1)).outputs[0]


def squeeze(input, axis=None, name=None, squeeze_dims=None) -> Tensor:
    """tf.squeeze: drop the size-1 dims `axis` (default: every one; unknown dims then give
    an unknown rank, as in TF1)."""
    axis = deprecated_argument_lookup(axis, "axis", squeeze_dims, "squeeze_dims")
    axes = [] if axis is None else static_ints(axis, "axis")
    x = convert_to_tensor(input)
    attrs = {"squeeze_dims": axes}
    if not axes and not x.shape.is_fully_defined():
        return x.graph.create_op("Squeeze", [x], [(x.dtype, TensorShape(None))], attrs, name or "Squeeze").outputs[0]
    return _create("Squeeze", [x], attrs, name or "Squeeze", standin=max(map(_axis_rank, axes), default=0)).outputs[0]


def transpose(a, perm=None, name="transpose", conjugate=False) -> Tensor:
    """tf.transpose: dims permuted by `perm` (default: reversed)."""
    x = convert_to_tensor(a)
    if perm is None and x.shape.ndims is not None:
        perm = list(range(x.shape.ndims))[::-1]
    attrs = {} if perm is None else {"perm": static_ints(perm, "perm")}
    rank = len(attrs["perm"]) if attrs else None
    return _create("Transpose", [x], attrs, name, (_vec(attrs.get("perm", [])),), standin=rank, exact=True).outputs[0]


def broadcast_to(input, shape, name=None) -> Tensor:
    """tf.broadcast_to: numpy broadcasting to `shape`."""
    dims = static_ints(shape, "shape")
    return _create("BroadcastTo", [convert_to_tensor(input)], {"shape": dims}, name or "BroadcastTo",
                   (_vec(dims),), standin=0, exact=True).outputs[0]


# ---- joining and splitting ------------------------------------------------------------------

def _known_rank(tensors: list[Tensor], fallback: int) -> tuple[int, bool]:
    """(rank to check unknown-rank inputs with, whether it is certain)."""
    ranks = [t.shape.ndims for t in tensors if t.shape.ndims is not None]
    return (ranks[0], True) if ranks else (fallback, False)


def concat(values, axis, name="concat") -> Tensor:
    """tf.concat along `axis` (negative counts from the end); one value is returned as identity."""
    values = list(values) if isinstance(values, (list, tuple)) else [values]
    axis = static_int(axis, "axis")
    if len(values) == 1:
        return identity(values[0], name=name)
    tensors = convert_operands(values)
    rank, exact = _known_rank(tensors, _axis_rank(axis))
    return _create("ConcatV2", tensors, {"axis": axis}, name, ("[]",), standin=rank, exact=exact).outputs[0]


def stack(values, axis=0, name="stack") -> Tensor:
    """tf.stack (TF1 op Pack): equal-shaped values joined along a new dim `axis`."""
    tensors = convert_operands(list(values))
    if not tensors:
        raise ValueError("List argument 'values' to 'Pack' Op with length 0 shorter than minimum length 1.")
    axis = static_int(axis, "axis")
    rank, exact = _known_rank(tensors, _axis_rank(axis, 1))
    return _create("Pack", tensors, {"axis": axis}, name, standin=rank, exact=exact).outputs[0]


def unstack(value, num=None, axis=0, name="unstack") -> list[Tensor]:
    """tf.unstack (TF1 op Unpack): the `num` slices along `axis`, `num` inferred if None."""
    x = convert_to_tensor(value)
    axis = static_int(axis, "axis")
    if num is None:
        rank = x.shape.ndims
        if rank is not None and not -rank <= axis < rank:
            raise ValueError(f"axis = {axis} not in [{-rank}, {rank})")
        num = None if rank is None else x.shape[axis].value
        if num is None:
            raise ValueError(f"Cannot infer num from shape {x.shape}")
    attrs = {"axis": axis, "num": static_int(num, "num")}
    return _create("Unpack", [x], attrs, name, standin=_axis_rank(axis)).outputs


def split(value, num_or_size_splits, axis=0, num=None, name="split") -> list[Tensor]:
    """tf.split: `num_or_size_splits` equal pieces (op Split) or pieces of the given sizes,
    one of which may be -1 (op SplitV)."""
    x = convert_to_tensor(value)
    axis = static_int(axis, "axis")
    if isinstance(num_or_size_splits, (int, np.integer, Dimension)):
        attrs, op_type, shapes = {"num_split": int(num_or_size_splits)}, "Split", ()
    else:
        sizes = constant_value(num_or_size_splits, "size_splits")
        if sizes.ndim == 0:
            raise ValueError("Rank-0 tensors are not supported as the num_or_size_splits argument to split. "
                             f"Argument provided: {num_or_size_splits!r}")
        sizes = static_ints(sizes, "size_splits")
        num = len(sizes) if num is None else num
        attrs, op_type, shapes = {"num_split": num, "size_splits": sizes}, "SplitV", (_vec(sizes), "[]")
    attrs["axis"] = axis
    return _create(op_type, [x], attrs, name, shapes, standin=_axis_rank(axis)).outputs


# ---- tiling, padding, slicing -----------------------------------------------------------------

def tile(input, multiples, name=None) -> Tensor:
    """tf.tile: each dim repeated `multiples[i]` times."""
    multiples = shape_arg(multiples, "multiples")
    x = convert_to_tensor(input)
    if isinstance(multiples, shape_values.RunValue):
        ins = x.shape.as_list() if x.shape.ndims is not None else [None] * len(multiples.standin)
        dims = [None if d is None or m is None else d * m for d, m in zip(ins, _known(multiples))]
        return shape_values.create("Tile", [x], {"multiples": multiples}, name or "Tile", dims).outputs[0]
    return _create("Tile", [convert_to_tensor(input)], {"multiples": multiples}, name or "Tile",
                   (_vec(multiples),), standin=len(multiples), exact=True).outputs[0]


_MIRROR = {"REFLECT", "SYMMETRIC"}


def pad(tensor, paddings, mode="CONSTANT", name=None, constant_values=0) -> Tensor:
    """tf.pad: `paddings[i] = [before, after]` per dim; CONSTANT fills with `constant_values`
    (op Pad, or PadV2 if not 0), REFLECT/SYMMETRIC mirror without/with the edge (MirrorPad)."""
    x = convert_to_tensor(tensor)
    widths = static_ints(paddings, "paddings")
    if len(widths) % 2:
        raise ValueError(f"paddings must be [rank, 2] integers, got {paddings!r}")
    if not isinstance(paddings, Tensor) and np.ndim(paddings) != 2:  # [] is rank 1, as TF1 sees it
        raise ValueError(f"Shape must be rank 2 but is rank {np.ndim(paddings)} for '{name or 'Pad'}' "
                         f"(op: 'Pad') with input shapes: paddings {list(np.shape(paddings))}.")
    mode = mode.upper()
    if mode != "CONSTANT" and mode not in _MIRROR:
        raise ValueError(f"Unknown padding mode: {mode}")
    zero = not isinstance(constant_values, Tensor) and np.all(constant_values == 0)  # TF1: op Pad, any dtype
    value = 0 if zero else static_scalar(constant_values, x.dtype, "constant_values")
    pairs = [widths[i:i + 2] for i in range(0, len(widths), 2)]
    attrs = {"paddings": pairs, "mode": mode, "constant_values": value}
    op_type = "MirrorPad" if mode in _MIRROR else "Pad" if zero else "PadV2"
    shapes = (f"[{len(pairs)},2]",) + (("[]",) if op_type == "PadV2" else ())
    return _create(op_type, [x], attrs, name or op_type, shapes, standin=len(pairs), exact=True).outputs[0]


def slice_(input_, begin, size, name=None) -> Tensor:
    """tf.slice: `size[i]` elements from `begin[i]` per dim; size -1 takes the rest. As in TF1,
    bounds are checked when the run starts (InvalidArgumentError), not at build time."""
    begin, size = shape_arg(begin, "begin", 0), shape_arg(size, "size", -1)
    x = convert_to_tensor(input_)
    if isinstance(begin, shape_values.RunValue) or isinstance(size, shape_values.RunValue):
        dims = [None if s in (None, -1) else s for s in _known(size)]
        return shape_values.create("Slice", [x], {"begin": begin, "size": size}, name or "Slice", dims).outputs[0]
    out = _create("Slice", [x], {"begin": begin, "size": size}, name or "Slice", standin=len(begin), exact=True,
                  run_checked=True).outputs[0]
    if x.shape.ndims is not None:  # size -1: the rest of a known dim
        out.set_shape([None if s == -1 and (d.value is None or d.value < b) else d.value - b if s == -1 else s
                       for d, b, s in zip(x.shape, begin, size)])
    return out


def strided_slice(input_, begin, end, strides=None, begin_mask=0, end_mask=0, ellipsis_mask=0,
                  new_axis_mask=0, shrink_axis_mask=0, var=None, name=None) -> Tensor:
    """tf.strided_slice: TF1's StridedSlice spec, masks included (what `tensor[...]` builds)."""
    begin, end = static_ints(begin, "begin"), static_ints(end, "end")
    strides = [1] * len(begin) if strides is None else static_ints(strides, "strides")
    masks = {"begin_mask": begin_mask, "end_mask": end_mask, "ellipsis_mask": ellipsis_mask,
             "new_axis_mask": new_axis_mask, "shrink_axis_mask": shrink_axis_mask}
    attrs = {"begin": begin, "end": end, "strides": strides, **{k: int(v) for k, v in masks.items()}}
    consumed = sum(not (ellipsis_mask | new_axis_mask) >> i & 1 for i in range(len(begin)))
    return _create("StridedSlice", [convert_to_tensor(input_)], attrs, name or "StridedSlice",
                   (_vec(begin), _vec(end), _vec(strides)), standin=consumed).outputs[0]


def _index(value) -> int:
    """One index of `tensor[...]`: an int or a scalar integer tensor known at build time."""
    if isinstance(value, Tensor) and (value.shape.ndims != 0 or not value.dtype.is_integer):
        raise index_error(value)
    if not isinstance(value, (int, np.integer, Tensor)) or isinstance(value, bool):
        raise index_error(value)
    return static_int(value, "index")


def _getitem(tensor: Tensor, index) -> Tensor:
    """`tensor[index]` as TF1 builds it: one StridedSlice named "strided_slice"."""
    from lowerflow.frontend import dynamic_ops  # it builds on this module

    if is_bool_index(index):
        return dynamic_ops.boolean_mask(tensor, index)
    fed = dynamic_ops.fed_slice(tensor, index)
    if fed is not None:
        return fed
    spec = slice_spec(index, _index)
    return strided_slice(tensor, spec.begin, spec.end, spec.strides, name="strided_slice", **spec.masks)


Tensor.__getitem__ = _getitem


# ---- gathering ---------------------------------------------------------------------------------

def gather(params, indices, validate_indices=None, name=None, axis=None, batch_dims=0) -> Tensor:
    """tf.gather (op GatherV2): slices of `params` along `axis` at `indices` (int32/int64);
    an index outside [0, dim) fails the run with InvalidArgumentError, as on TF1's CPU."""
    if batch_dims != 0:
        raise NotImplementedError("tf.gather with batch_dims != 0 is not supported")
    axis = 0 if axis is None else static_int(axis, "axis")
    return _create("GatherV2", [convert_to_tensor(params), convert_to_tensor(indices)], {"axis": axis},
                   name or "GatherV2", ("[]",), standin=_axis_rank(axis)).outputs[0]


def unsorted_segment_sum(data, segment_ids, num_segments, name=None) -> Tensor:
    """tf.math.unsorted_segment_sum: rows of `data` added into `num_segments` rows by id (a
    negative id drops its row; an id at or past num_segments fails the run, as on TF's CPU)."""
    attrs = {"num_segments": static_int(num_segments, "num_segments")}
    return apply("UnsortedSegmentSum", [convert_to_tensor(data), convert_to_tensor(segment_ids)], attrs,
                 name or "UnsortedSegmentSum")


def _value_dtype(value, hint=None) -> dtypes.DType:
    """The dtype `value` converts to, `hint` first (TF1's dtype_hint): 5 may be a float64 on
    value, 5.5 is never an int32 one."""
    if isinstance(value, Tensor):
        return value.dtype
    if hint is not None:
        try:
            to_numpy(value, dtypes.as_dtype(hint))
            return dtypes.as_dtype(hint)
        except TypeError:
            pass
    return natural_dtype(value)


def one_hot(indices, depth, on_value=None, off_value=None, axis=None, dtype=None, name=None) -> Tensor:
    """tf.one_hot: `on_value` where index == i along a new dim of size `depth` at `axis`
    (default last), else `off_value`; dtype from them, else float32 (TF1's rules)."""
    on_dtype = None if on_value is None else _value_dtype(on_value, dtype)
    off_dtype = None if off_value is None else _value_dtype(off_value, dtype)
    for given, what in ((on_dtype, "on_value"), (off_dtype, "off_value")):
        if given is not None and dtype is not None and given is not dtypes.as_dtype(dtype):
            raise TypeError(f"dtype {given!r} of {what} does not match dtype parameter {dtypes.as_dtype(dtype)!r}")
    if on_dtype is not None and off_dtype is not None and on_dtype is not off_dtype:
        raise TypeError(f"dtype {on_dtype!r} of on_value does not match dtype {off_dtype!r} of off_value")
    dtype = dtypes.as_dtype(dtype or on_dtype or off_dtype or dtypes.float32)
    attrs = {"depth": _run_scalar(depth, None, "depth", 1), "axis": -1 if axis is None else static_int(axis, "axis"),
             "on_value": static_scalar(1 if on_value is None else on_value, dtype, "on_value"),
             "off_value": static_scalar(0 if off_value is None else off_value, dtype, "off_value"),
             "dtype": dtype.ir}
    indices = convert_to_tensor(indices)
    if isinstance(attrs["depth"], shape_values.RunValue):  # a fed depth: sized at run time (run_dims.py)
        dims = None if indices.shape.ndims is None else indices.shape.as_list()
        if dims is not None:
            dims.insert(len(dims) if attrs["axis"] == -1 else attrs["axis"], None)
        return shape_values.create("OneHot", [indices], attrs, name or "one_hot", dims).outputs[0]
    return _create("OneHot", [indices], attrs, name or "one_hot", standin=0).outputs[0]


def _run_scalar(value, dtype: dtypes.DType | None, what: str, standin):
    """A scalar argument known at build time (an int, or a number of `dtype`), else a RunValue
    of its tensor: a size computed when the step runs (`frontend/run_dims.py`)."""
    try:
        return static_int(value, what) if dtype is None else static_scalar(value, dtype, what)
    except NotImplementedError:
        t = convert_to_tensor(value)
        if t.shape.ndims not in (None, 0):
            raise ValueError(f"{what} must be a scalar, got {t!r}") from None
        if dtype is not None and t.dtype is not dtype:  # as TF1's range casts its bounds
            t = cast(t, dtype)
        return shape_values.RunValue(t, standin)


# ---- generated tensors --------------------------------------------------------------------------

def fill(dims, value, name=None) -> Tensor:
    """tf.fill: a tensor of shape `dims` holding the scalar `value` (op Fill)."""
    x = convert_to_tensor(value)
    if x.shape.ndims not in (None, 0):
        raise ValueError(f"Shape must be rank 0 but is rank {x.shape.ndims} for '{name or 'Fill'}' (op: 'Fill') "
                         f"with input shapes: [?], [{','.join(map(str, x.shape.as_list()))}].")
    dims = shape_arg(dims, "dims")
    if isinstance(dims, shape_values.RunValue):
        return shape_values.create("Fill", [x], {"shape": dims}, name or "Fill", _known(dims)).outputs[0]
    return _create("Fill", [x], {"shape": dims}, name or "Fill", standin=0, exact=True).outputs[0]


def _filled(value: int, shape, dtype, name: str) -> Tensor:
    """tf.zeros/tf.ones: a constant when small, else a Fill, as TF1 builds them."""
    dtype = dtypes.as_dtype(dtype)
    dims = shape_arg(shape, "shape")
    value = np.asarray(value, dtype.as_numpy_dtype)  # 0/1 as the dtype's zero/one (False/True too)
    if isinstance(dims, shape_values.RunValue):
        return fill(dims.tensor, constant(value, dtype), name=name)
    if np.prod(dims, dtype=np.int64) < _SMALL:
        return constant(value, dtype, shape=dims, name=name)
    return fill(dims, constant(value, dtype), name=name)


def zeros(shape, dtype=dtypes.float32, name=None) -> Tensor:
    return _filled(0, shape, dtype, name or "zeros")


def ones(shape, dtype=dtypes.float32, name=None) -> Tensor:
    return _filled(1, shape, dtype, name or "ones")


def _like(op_type: str, value: int, tensor, dtype, name: str) -> Tensor:
    """zeros_like/ones_like: a constant when the shape is static (TF1's `optimize`), else an
    op with `tensor`'s run-time shape."""
    x = convert_to_tensor(tensor)
    dtype = dtypes.as_dtype(dtype or x.dtype)
    if x.shape.is_fully_defined():
        return _filled(value, x.shape.as_list(), dtype, name)
    return _create(op_type, [cast(x, dtype)], {"value": value}, name).outputs[0]


def zeros_like(tensor, dtype=None, name=None, optimize=True) -> Tensor:
    return _like("ZerosLike", 0, tensor, dtype, name or "zeros_like")


def ones_like(tensor, dtype=None, name=None, optimize=True) -> Tensor:
    return _like("OnesLike", 1, tensor, dtype, name or "ones_like")


def _range_dtype(values: list) -> dtypes.DType:
    """TF1's range infers the widest of int32 < int64 < float32 < float64 among its bounds."""
    order = [dtypes.int32, dtypes.int64, dtypes.float32, dtypes.float64]
    found = [_value_dtype(v) for v in values]
    for d in found:
        if d not in order:
            raise TypeError(f"range does not support dtype {d.name}")
    return max(found, key=order.index)


def range_(start, limit=None, delta=1, dtype=None, name="range") -> Tensor:
    """tf.range: start, start + delta, ... up to `limit` exclusive (`range(n)` is 0..n-1)."""
    if limit is None:
        start, limit = 0, start
    bounds = {"start": start, "limit": limit, "delta": delta}
    dtype = dtypes.as_dtype(dtype) if dtype is not None else _range_dtype(list(bounds.values()))
    attrs = {k: _run_scalar(v, dtype, k, None) for k, v in bounds.items()}
    attrs["dtype"] = dtype.ir
    if shape_values.run_values(attrs):  # a fed bound: sized at run time (run_dims.py)
        _range_standins(attrs)
        return shape_values.create("Range", [], attrs, name, [None]).outputs[0]
    return _create("Range", [], attrs, name, ("[]", "[]", "[]")).outputs[0]


def _range_standins(attrs: dict) -> None:
    """Stand-ins of a Range's fed bounds that make an empty, valid range with its known ones."""
    known = {k: v for k, v in attrs.items() if not isinstance(v, shape_values.RunValue)}
    start = known.get("start", known.get("limit", 0))
    limit = known.get("limit", start)
    for k, v in {"start": start, "limit": limit, "delta": 1 if limit >= start else -1}.items():
        if isinstance(attrs[k], shape_values.RunValue):
            attrs[k] = shape_values.RunValue(attrs[k].tensor, v)


def linspace(start, stop, num, name=None) -> Tensor:
    """tf.linspace (op LinSpace): `num` evenly spaced floats from `start` to `stop` inclusive."""
    dtype = _value_dtype(start)
    attrs = {"start": static_scalar(start, dtype, "start"), "stop": static_scalar(stop, dtype, "stop"),
             "num": static_int(num, "num"), "dtype": dtype.ir}
    return _create("LinSpace", [], attrs, name or "LinSpace", ("[]", "[]", "[]")).outputs[0]


lin_space = linspace


# ---- shape queries ----------------------------------------------------------------------------

def shape(input, name=None, out_type=dtypes.int32) -> Tensor:
    """tf.shape: a constant when the static shape is fully known (as TF1), else op Shape."""
    x, out_type = convert_to_tensor(input), dtypes.as_dtype(out_type)
    if x.shape.is_fully_defined():
        dims = np.array(x.shape.as_list(), out_type.as_numpy_dtype)  # typed: [] is float64 to numpy
        return constant(dims, out_type, name=name or "Shape")
    out = _create("Shape", [x], {"out_type": out_type.ir}, name or "Shape").outputs[0]
    out.set_shape([x.shape.ndims])
    return out


def size(input, name=None, out_type=dtypes.int32) -> Tensor:
    """tf.size: the number of elements; a constant when the static shape is fully known."""
    x, out_type = convert_to_tensor(input), dtypes.as_dtype(out_type)
    if x.shape.is_fully_defined():
        return constant(x.shape.num_elements(), out_type, name=name or "Size")
    out = _create("Size", [x], {"out_type": out_type.ir}, name or "Size").outputs[0]
    out.set_shape([])
    return out


def rank(input, name=None) -> Tensor:
    """tf.rank: the number of dims; a constant when the rank is known."""
    x = convert_to_tensor(input)
    if x.shape.ndims is not None:
        return constant(x.shape.ndims, dtypes.int32, name=name or "Rank")
    out = _create("Rank", [x], {}, name or "Rank").outputs[0]
    out.set_shape([])
    return out
