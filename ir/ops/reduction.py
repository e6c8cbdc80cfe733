"""Reductions: TF1's Sum/Mean/Max/Min/Prod/Any/All, ArgMax/ArgMin, and
SparseSoftmaxCrossEntropyWithLogits (a log-sum-exp over the class axis).

Reduced axes are an attribute (TF1 passes them as a `reduction_indices` input;
lowerflow needs them static). `axes` is a list of ints, negative counting from
the end as in TF1; a missing `axes` reduces every axis (the frontend omits it
for `axis=None`, which also works while the input rank is still unknown).
`keepdims` keeps reduced axes as size-1 dims.

Semantics follow TF1's CPU kernels: float16 sums and means accumulate in float32,
integer means of up to 32 bits in 64 bits; an integer mean truncates toward zero (and is
0 over no elements); over no
elements sum is 0, prod 1, max the dtype's lowest value (-inf), min its highest,
any False, all True; max/min propagate NaN. ArgMax/ArgMin give the first
index of the extreme, ignoring NaN (0 when nothing beats -inf/+inf: all NaN), as TF's
kernel, and need a non-empty axis. The sparse cross entropy gives only TF1's first output, the loss
(not the backprop), and rejects labels outside [0, classes) like TF's CPU kernel.
"""
from __future__ import annotations

import numpy as np

from lowerflow.ir.opdef import PURE, GradOp, OpDef, not_differentiable, register
from lowerflow.ir.types import ELEM_TYPES, I32, I64, TensorType

NUMERIC, BOOLEAN = ("float", "int", "uint"), ("bool",)
_PURE = frozenset({PURE})


def reduction_axes(attrs: dict, rank: int) -> tuple[int, ...]:
    """The sorted, non-negative axes an op reduces; ValueError in TF1's words if out of range."""
    axes = attrs.get("axes")
    if axes is None:
        return tuple(range(rank))
    out = set()
    for a in axes:
        if not -rank <= a < rank:
            raise ValueError(f"Invalid reduction dimension {a} for input with {rank} dimensions.")
        out.add(a % rank)
    return tuple(sorted(out))


def reduced_shape(shape: tuple, axes: tuple, keepdims: bool) -> tuple:
    if keepdims:
        return tuple(1 if i in axes else d for i, d in enumerate(shape))
    return tuple(d for i, d in enumerate(shape) if i not in axes)


def accumulator_dtype(dtype: np.dtype) -> np.dtype:
    """The numpy dtype a reduction accumulates in (float16 in float32, as TF's CPU kernels)."""
    return np.dtype(np.float32) if dtype == np.float16 else np.dtype(dtype)


def _check_kind(t: TensorType, kinds: tuple, tf_name: str) -> None:
    if t.dtype.kind not in kinds:
        raise TypeError(f"Value passed to parameter 'input' has DataType {t.dtype.np_name} not "
                        f"in list of allowed values for '{tf_name}'")


def mean_accumulator_dtype(dtype: np.dtype) -> np.dtype:
    """What a mean sums in: integers of up to 32 bits in 64 (TF's mean of int32
    [2**31-1, 2**31-1] is 2**31-1, not a wrapped sum halved); else `accumulator_dtype`."""
    dtype = np.dtype(dtype)
    if dtype.kind in "iu" and dtype.itemsize < 8:
        return np.dtype(np.int64 if dtype.kind == "i" else np.uint64)
    return accumulator_dtype(dtype)


def _mean(x: np.ndarray, axes: tuple, keepdims: bool) -> np.ndarray:
    total = np.sum(x, axis=axes, keepdims=keepdims, dtype=mean_accumulator_dtype(x.dtype))
    count = int(np.prod([x.shape[a] for a in axes], dtype=np.int64))
    if x.dtype.kind == "f":
        return total / total.dtype.type(count)
    if count == 0:
        return total
    q = total // count  # C-style truncation: numpy's // floors
    return q + ((total % count != 0) & (total < 0)).astype(q.dtype)


def identity_element(name: str, dtype: np.dtype):
    """What reduction `name` gives over no elements (its identity; max/min: the extremes)."""
    if name in ("lf.reduce_max", "lf.reduce_min"):
        lowest = name == "lf.reduce_max"
        if dtype.kind == "f":
            return -np.inf if lowest else np.inf
        info = np.iinfo(dtype)
        return info.min if lowest else info.max
    return {"lf.reduce_sum": 0, "lf.reduce_mean": 0, "lf.reduce_prod": 1, "lf.reduce_any": False,
            "lf.reduce_all": True}[name]


#: reduction -> the elementwise op that folds one more element into its accumulator
COMBINE = {"lf.reduce_sum": "lf.add", "lf.reduce_mean": "lf.add", "lf.reduce_prod": "lf.mul",
           "lf.reduce_max": "lf.max", "lf.reduce_min": "lf.min", "lf.reduce_any": "lf.or",
           "lf.reduce_all": "lf.and"}


def _extreme(name: str, fn):
    """max/min: numpy's NaN-propagating reduction; the identity over no elements."""
    def reduce(x, axes, keepdims):
        if x.size == 0:
            shape = reduced_shape(x.shape, axes, keepdims)
            return np.full(shape, identity_element(name, x.dtype), x.dtype)
        return fn(x, axis=axes, keepdims=keepdims)
    return reduce


REDUCERS = {
    "lf.reduce_sum": (("Sum",), NUMERIC,
                      lambda x, a, k: np.sum(x, axis=a, keepdims=k, dtype=accumulator_dtype(x.dtype))),
    "lf.reduce_mean": (("Mean",), NUMERIC, _mean),
    "lf.reduce_prod": (("Prod",), NUMERIC, lambda x, a, k: np.prod(x, axis=a, keepdims=k, dtype=x.dtype)),
    "lf.reduce_max": (("Max",), NUMERIC, _extreme("lf.reduce_max", np.max)),
    "lf.reduce_min": (("Min",), NUMERIC, _extreme("lf.reduce_min", np.min)),
    "lf.reduce_any": (("Any",), BOOLEAN, lambda x, a, k: np.any(x, axis=a, keepdims=k)),
    "lf.reduce_all": (("All",), BOOLEAN, lambda x, a, k: np.all(x, axis=a, keepdims=k)),
}


def _back(e, v, op: GradOp):
    """A value of the reduction's result shape broadcast back over its operand."""
    axes = None if op.attrs["keepdims"] else op.attrs.get("axes")
    return e("lf.broadcast_like", v, op.inputs[0], **({} if axes is None else {"axes": list(axes)}))


def _sum_grad(e, op: GradOp, grads):
    return [_back(e, grads[0], op)]


def _mean_grad(e, op: GradOp, grads):
    (x,), (y,) = op.inputs, op.outputs
    count = e("lf.div", *(e("lf.cast", e("lf.size", v, out_type=I64), to=e.dtype(x)) for v in (x, y)))
    return [e("lf.div", _back(e, grads[0], op), count)]


def _prod_grad(e, op: GradOp, grads):
    """d prod / d x_i is the product of the other elements: prod / x_i without zeros; with
    one zero, the product of the nonzero elements at the zero and 0 elsewhere; with more, 0
    (TF gets the same from exclusive cumulative products)."""
    (x,), (y,) = op.inputs, op.outputs
    keep = {"keepdims": op.attrs["keepdims"], **({} if op.attrs.get("axes") is None else {"axes": list(op.attrs["axes"])})}
    zero = e("lf.eq", x, e.const(0, x))
    zeros = _back(e, e("lf.reduce_sum", e("lf.cast", zero, to=e.dtype(x)), **keep), op)
    nonzero_prod = _back(e, e("lf.reduce_prod", e("lf.select", zero, e("lf.fill_like", x, value=1), x), **keep), op)
    none = e("lf.eq", zeros, e.const(0, x))
    lone = e("lf.and", zero, e("lf.eq", zeros, e.const(1, x)))
    safe_x = e("lf.select", zero, e("lf.fill_like", x, value=1), x)
    other = e("lf.select", none, e("lf.div", _back(e, y, op), safe_x),
              e("lf.select", lone, nonzero_prod, e("lf.fill_like", x, value=0)))
    return [e("lf.mul", other, _back(e, grads[0], op))]


def _extreme_grad(e, op: GradOp, grads):
    """TF's _MinOrMaxGrad: the gradient is shared by the elements equal to the extreme."""
    (x,), (y,) = op.inputs, op.outputs
    hits = e("lf.cast", e("lf.eq", x, _back(e, y, op)), to=e.dtype(x))
    count = e("lf.reduce_sum", hits, keepdims=op.attrs["keepdims"],
              **({} if op.attrs.get("axes") is None else {"axes": list(op.attrs["axes"])}))
    return [e("lf.mul", e("lf.div", hits, _back(e, count, op)), _back(e, grads[0], op))]


GRADS = {"lf.reduce_sum": _sum_grad, "lf.reduce_mean": _mean_grad, "lf.reduce_prod": _prod_grad,
         "lf.reduce_max": _extreme_grad, "lf.reduce_min": _extreme_grad}


def _reduction(name: str, tf_names: tuple, kinds: tuple, fn) -> None:
    def infer(types, attrs):
        (x,) = types
        _check_kind(x, kinds, tf_names[0])
        axes = reduction_axes(attrs, x.rank)
        return [x.with_shape(reduced_shape(x.shape, axes, attrs["keepdims"]))]

    def reference(args, attrs):
        (x,) = args
        axes = reduction_axes(attrs, x.ndim)
        with np.errstate(all="ignore"):
            return [np.asarray(fn(x, axes, attrs["keepdims"])).astype(x.dtype)]

    register(OpDef(name, infer, reference, tf_names, _PURE, ("keepdims",),
                   grad=GRADS.get(name, not_differentiable)))


for _name, (_tf, _kinds, _fn) in REDUCERS.items():
    _reduction(_name, _tf, _kinds, _fn)


def _arg_infer(tf_name: str):
    def infer(types, attrs):
        (x,) = types
        _check_kind(x, NUMERIC, tf_name)
        axis = attrs["axis"]
        if not -x.rank <= axis < x.rank:
            raise ValueError(f"Expected dimension in the range [{-x.rank}, {x.rank}), but got {axis}")
        axis %= x.rank
        if x.shape[axis] == 0:
            dims = ",".join("?" if d is None else str(d) for d in x.shape)
            raise ValueError(f"Reduction axis {axis} is empty in shape [{dims}]")
        out = attrs["output_type"]
        out = ELEM_TYPES[out] if isinstance(out, str) else out
        if out not in (I32, I64):
            raise TypeError(f"output_type must be int32 or int64, got {out}")
        return [TensorType(x.shape[:axis] + x.shape[axis + 1:], out)]
    return infer


def _arg_reference(fn, nan_as: float):
    """The first index of the extreme, NaN never winning (TF's Eigen reducer starts from
    -inf for argmax, +inf for argmin, at index 0, and only a strictly better value moves it)."""
    def reference(args, attrs):
        (x,) = args
        if x.dtype.kind == "f":
            x = np.where(np.isnan(x), x.dtype.type(nan_as), x)
        return [fn(x, axis=attrs["axis"] % x.ndim)]
    return reference


register(OpDef("lf.argmax", _arg_infer("ArgMax"), _arg_reference(np.argmax, -np.inf), ("ArgMax",), _PURE,
               ("axis", "output_type"), grad=not_differentiable))
register(OpDef("lf.argmin", _arg_infer("ArgMin"), _arg_reference(np.argmin, np.inf), ("ArgMin",), _PURE,
               ("axis", "output_type"), grad=not_differentiable))


def _sparse_xent_infer(types, attrs):
    logits, labels = types
    if logits.rank < 1:
        raise ValueError(f"Logits cannot be scalars - received shape {logits.shape}.")
    if labels.rank != logits.rank - 1:
        raise ValueError(f"Rank mismatch: Rank of labels (received {labels.rank}) should equal rank "
                         f"of logits minus 1 (received {logits.rank}).")
    shape = []
    for a, b in zip(labels.shape, logits.shape[:-1]):
        if a is not None and b is not None and a != b:
            raise ValueError(f"Shape mismatch: The shape of labels (received {labels.shape}) should equal "
                             f"the shape of logits except for the last dimension (received {logits.shape}).")
        shape.append(b if a is None else a)
    if not logits.dtype.is_float or labels.dtype not in (I32, I64):
        raise TypeError(f"SparseSoftmaxCrossEntropyWithLogits needs float logits and int32/int64 "
                        f"labels, got {logits.dtype} and {labels.dtype}")
    return [TensorType(tuple(shape), logits.dtype)]


def _sparse_xent_reference(args, attrs):
    """log(sum(exp(x - max))) - (x[label] - max) per row, as TF's kernel computes it."""
    logits, labels = args
    classes = logits.shape[-1]
    bad = (labels < 0) | (labels >= classes)
    if bad.any():
        raise ValueError(f"Received a label value of {labels[bad].flat[0]} which is outside the valid "
                         f"range of [0, {classes}).")
    if logits.size == 0:  # no rows (a row without classes has no valid label)
        return [np.zeros(labels.shape, logits.dtype)]
    x = logits.astype(accumulator_dtype(logits.dtype))
    peak = x.max(-1, keepdims=True)
    picked = np.take_along_axis(x, labels[..., None].astype(np.intp), -1)[..., 0]
    with np.errstate(all="ignore"):
        return [np.log(np.exp(x - peak).sum(-1)) - (picked - peak[..., 0])]


def _sparse_xent_grad(e, op: GradOp, grads):
    """(softmax(logits) - one_hot(labels)) * g per row, as TF's kernel's backprop output."""
    (logits, labels), g = op.inputs, grads[0]
    depth = e.shape(logits)[-1]
    if depth is None:
        raise LookupError("SparseSoftmaxCrossEntropyWithLogits: the gradient needs a known class count")
    shifted = e("lf.sub", logits, e("lf.reduce_max", logits, axes=[-1], keepdims=True))
    exp = e("lf.exp", shifted)
    probs = e("lf.div", exp, e("lf.reduce_sum", exp, axes=[-1], keepdims=True))
    hot = e("lf.one_hot", labels, depth=depth, on_value=1.0, off_value=0.0, axis=-1, dtype=e.dtype(logits))
    return [e("lf.mul", e("lf.sub", probs, hot), e("lf.expand_dims", g, axis=-1)), None]


register(OpDef("lf.sparse_softmax_xent", _sparse_xent_infer, _sparse_xent_reference,
               ("SparseSoftmaxCrossEntropyWithLogits",), _PURE, grad=_sparse_xent_grad))
