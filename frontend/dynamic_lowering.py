"""Values whose leading dim depends on fed values: lowered natively, no recompile per value
(cf. XLA's bounded dynamic shapes and its dynamic padder).

A value-dependent op (Where, Unique, DynamicPartition, a StridedSlice whose end or a Slice
whose size on axis 0 is fed) becomes static IR: its data in a buffer of the static bound
(the most rows it can have), and its run-time extent, a `tensor<i64>` computed natively
(`lf.mask_positions`, the count pass, or arithmetic on the fed bound). The lowerer keeps
`extent[value] = count` for every such value. Only these consumers accept one, and each
makes the rows past the extent (padding: valid but meaningless values) unable to change a
result or fail a step:

- elementwise ops and fusions: the result has the same extent; two operands must share one
  (the same count), a static operand must broadcast along the leading dim; an integer
  divisor or exponent is 1 in the padding;
- reductions: over the leading dim, the padding is the reduction's identity (a mean divides by
  the run-time count); otherwise the result keeps the extent; argmax/argmin off axis 0;
- gathers (`embedding_lookup`) at indices with an extent: padded indices read row 0; segment
  sums (gather's gradient) drop padded rows;
- matmul: a dynamic M keeps the extent; a contraction over the dynamic dim (the weight
  gradient) reads zeros in both operands' padding;
- per-row ops: sparse softmax cross entropy (padded labels read class 0), one_hot, slices
  that keep all of the leading dim, concat/stack/split/transpose/pad off it;
- reshapes that keep the leading dim run-time (`[-1, ...]`, or a shape computed from the
  value's own `tf.shape`), squeeze/expand_dims off axis 0, identities, `fill_like`, shape and
  size queries (from the count), the gradient plumbing ops (the extent of their like-operand);
- fetches: the step also returns the count, and the session returns the first `count` rows.

Anything else given such a value raises UnimplementedError when the signature is lowered.
"""
from __future__ import annotations

from math import prod

import numpy as np

from lowerflow import ir
from lowerflow.frontend import shape_values
from lowerflow.frontend.graph import Operation
from lowerflow.ir.opdef import ELEMENTWISE
from lowerflow.ir.ops.array import one_hot_axis, pad_widths, slice_window, transpose_perm
from lowerflow.ir.ops.reduction import identity_element, reduction_axes
from lowerflow.ir.types import BOOL, I64

_ORIGIN = ("(from tf.boolean_mask, one-argument tf.where, tf.unique, tf.dynamic_partition or a slice "
           "with a fed bound)")
_DIVISIONS = ("lf.floordiv", "lf.mod", "lf.truncdiv", "lf.truncmod", "lf.div", "lf.pow")
_REDUCTIONS = ("lf.reduce_sum", "lf.reduce_mean", "lf.reduce_prod", "lf.reduce_max", "lf.reduce_min",
               "lf.reduce_any", "lf.reduce_all")
_VIEWS = ("lf.reshape", "lf.squeeze", "lf.expand_dims")
_LIKE = {"lf.sum_to": 1, "lf.broadcast_like": 1, "lf.reshape_like": 1, "lf.slice_grad": 1}  # like-operand index


def refuse(what: str, op: Operation) -> NotImplementedError:
    return NotImplementedError(f"{what}: lowerflow computes a leading dim known only at run time {_ORIGIN} "
                               f"for elementwise ops, reductions, gathers, matmuls, per-row ops, reshapes and "
                               f"fetches only [[node {op.name} (op: {op.type})]]")


def is_dynamic(lw, v: ir.Value) -> bool:
    return bool(lw.extent) and v in lw.extent


# ---- small builders (below the consumer hook: their operands are handled already) ---------

def _raw(lw, name: str, operands: list, attrs: dict, op: Operation) -> ir.Operation:
    return lw.build_static(name, operands, attrs, op)


def _const(lw, value, dtype, op: Operation) -> ir.Value:
    return _raw(lw, "lf.constant", [], {"value": np.asarray(value, dtype)}, op).result


def _valid(lw, count: ir.Value, n: int, rank: int, op: Operation) -> ir.Value:
    """A bool [n, 1, ...] (rank `rank`): row i < count."""
    rows = _raw(lw, "lf.range", [], {"start": 0, "limit": n, "delta": 1, "dtype": I64}, op).result
    valid = _raw(lw, "lf.lt", [rows, count], {}, op).result
    return _raw(lw, "lf.reshape", [valid], {"shape": [n] + [1] * (rank - 1)}, op).result if rank > 1 else valid


def _masked(lw, x: ir.Value, count: ir.Value, fill, op: Operation) -> ir.Value:
    """`x` with the rows from `count` on replaced by `fill`."""
    valid = _valid(lw, count, x.type.shape[0], x.type.rank, op)
    return _raw(lw, "lf.select", [valid, x, _const(lw, fill, x.type.dtype.np_dtype, op)], {}, op).result


def _arith(lw, name: str, a: ir.Value, b, op: Operation) -> ir.Value:
    """An i64 scalar op; `b` an IR value or an int."""
    if not isinstance(b, ir.Value):
        b = _const(lw, b, np.int64, op)
    return _raw(lw, name, [a, b], {}, op).result


def _scalar_i64(lw, v: ir.Value, op: Operation) -> ir.Value:
    if v.type.shape:
        v = _raw(lw, "lf.reshape", [v], {"shape": []}, op).result
    return v if v.type.dtype == I64 else _raw(lw, "lf.cast", [v], {"to": I64}, op).result


def _bind(lw, op: Operation, index: int, data: ir.Value, count: ir.Value) -> None:
    lw.extent[data] = count
    lw.env.setdefault(op.outputs[index], data)


# ---- producers ----------------------------------------------------------------------------

def _positions(lw, mask: ir.Value, op: Operation) -> tuple[ir.Value, ir.Value]:
    """(positions of the true elements of a bool vector, padded with 0; their count), once per
    mask: two masks by the same tensor give results of one known length."""
    key = ("positions", mask)  # beside the values in `extent`, so it lives as long as they do
    if key not in lw.extent:
        lw.extent[key] = tuple(_raw(lw, "lf.mask_positions", [mask], {}, op).results)
    return lw.extent[key]


def _flat(lw, x: ir.Value, shape: list, op: Operation) -> ir.Value:
    return x if list(x.type.shape) == shape else _raw(lw, "lf.reshape", [x], {"shape": shape}, op).result


def lower_where(lw, op: Operation) -> None:
    """Where(cond): the coordinates of the true (non-zero) elements, in row-major order."""
    cond = lw.value(op.inputs[0])
    shape = cond.type.shape
    if not shape:
        raise refuse("tf.where of a scalar", op)
    if cond.type.dtype != BOOL:
        cond = _raw(lw, "lf.ne", [cond, _const(lw, 0, cond.type.dtype.np_dtype, op)], {}, op).result
    n = prod(shape)
    if n == 0:
        _bind(lw, op, 0, _const(lw, np.zeros((0, len(shape))), np.int64, op), _const(lw, 0, np.int64, op))
        return
    pos, count = _positions(lw, _flat(lw, cond, [n], op), op)
    columns, stride = [], n
    for j, d in enumerate(shape):
        stride //= d
        c = pos if stride == 1 else _arith(lw, "lf.floordiv", pos, stride, op)
        if j:
            c = _arith(lw, "lf.mod", c, d, op)
        columns.append(_raw(lw, "lf.reshape", [c], {"shape": [n, 1]}, op).result)
    coords = columns[0] if len(columns) == 1 else _raw(lw, "lf.concat", columns, {"axis": 1}, op).result
    _bind(lw, op, 0, coords, count)


def lower_unique(lw, op: Operation) -> None:
    """Unique(x): y = x at the first occurrence of each value, idx[i] = y's position of x[i].
    first[i] = min{j : x[j] == x[i] or j == i} (every NaN is its own value, as in TF1's hash
    map) and idx[i] = #{first occurrences before first[i]}: elementwise [n, n] tables that end
    in a row reduction, which the fusion pass turns into loops: O(n^2) time, O(n) memory."""
    x = lw.value(op.inputs[0])
    (n,) = x.type.shape
    out = op.outputs[1].dtype.ir
    if n == 0:
        _bind(lw, op, 0, x, _const(lw, 0, np.int64, op))
        lw.env.setdefault(op.outputs[1], _const(lw, np.zeros(0), out.np_dtype, op))
        return
    index = _raw(lw, "lf.range", [], {"start": 0, "limit": n, "delta": 1, "dtype": I64}, op).result
    col, row, i, j = (_flat(lw, v, s, op) for v, s in ((x, [n, 1]), (x, [1, n]), (index, [n, 1]), (index, [1, n])))
    same = _raw(lw, "lf.or", [_raw(lw, "lf.eq", [col, row], {}, op).result,
                              _raw(lw, "lf.eq", [i, j], {}, op).result], {}, op).result
    candidates = _raw(lw, "lf.select", [same, j, _const(lw, n, np.int64, op)], {}, op).result
    first = _raw(lw, "lf.reduce_min", [candidates], {"axes": [1], "keepdims": False}, op).result
    is_first = _raw(lw, "lf.eq", [first, index], {}, op).result
    pos, count = _positions(lw, is_first, op)
    _bind(lw, op, 0, _raw(lw, "lf.gather", [x, pos], {"axis": 0}, op).result, count)
    before = _raw(lw, "lf.lt", [j, _flat(lw, first, [n, 1], op)], {}, op).result
    counted = _raw(lw, "lf.and", [before, _flat(lw, is_first, [1, n], op)], {}, op).result
    ranks = _raw(lw, "lf.reduce_sum", [_raw(lw, "lf.cast", [counted], {"to": out}, op).result],
                 {"axes": [1], "keepdims": False}, op).result
    lw.env.setdefault(op.outputs[1], ranks)


def _checked(lw, index: ir.Value, limit: int, op: Operation) -> ir.Value:
    """`index` read through a gather of `limit` zeros: a value outside [0, limit) fails the
    step with InvalidArgumentError (native code has no assertion op; a gather checks)."""
    zeros = _const(lw, np.zeros(limit), index.type.dtype.np_dtype, op)
    return _raw(lw, "lf.add", [index, _raw(lw, "lf.gather", [zeros, index], {"axis": 0}, op).result], {}, op).result


def lower_dynamic_partition(lw, op: Operation) -> None:
    """DynamicPartition(data, partitions): output i holds the rows whose partition is i. The
    partitions are read once through a gather of a [num_partitions] vector, so one outside
    [0, num_partitions) fails the step (InvalidArgumentError) instead of being dropped."""
    data, parts = (lw.value(t) for t in op.inputs)
    k, num = parts.type.rank, op.get_attr("num_partitions")
    n = prod(parts.type.shape)
    flat = _flat(lw, data, [n] + list(data.type.shape[k:]), op)
    ids = _checked(lw, _flat(lw, parts, [n], op), num, op)
    for i in range(num):
        hit = _raw(lw, "lf.eq", [ids, _const(lw, i, np.int32, op)], {}, op).result
        pos, count = _positions(lw, hit, op)
        _bind(lw, op, i, _raw(lw, "lf.gather", [flat, pos], {"axis": 0}, op).result, count)


def lower_fed_slice(lw, op: Operation) -> None:
    """A slice whose bound on axis 0 is fed (StridedSlice's end, Slice's size); of a static
    leading dim only (the extent is counted from the static dim)."""
    if is_dynamic(lw, lw.value(op.inputs[0])):
        raise refuse("a fed slice bound of such a value", op)
    (_fed_strided_slice if op.type == "StridedSlice" else _fed_slice_size)(lw, op)


def _fed_slice_size(lw, op: Operation) -> None:
    """Slice(x, begin, size) with size[0] fed: `x[b:]` with the extent size[0] (-1: the rest);
    a size outside [0, dim - b] fails the step, as TF1's kernel."""
    attrs = dict(op._attrs)
    begin, size = attrs["begin"], attrs["size"]
    begin = shape_values.partial_shape(begin.tensor) if isinstance(begin, shape_values.RunValue) else begin
    known = shape_values.partial_shape(size.tensor) if isinstance(size, shape_values.RunValue) else size
    if begin is None or None in begin or not isinstance(size, shape_values.RunValue) or None in known[1:]:
        raise refuse("a fed slice bound other than the size of axis 0", op)
    x = lw.value(op.inputs[0])
    dim = x.type.shape[0]
    data = lw.build_static("lf.slice", [x], {"begin": begin, "size": [-1] + known[1:]}, op).result
    rest = max(dim - begin[0], 0)
    wanted = _scalar_i64(lw, _raw(lw, "lf.slice", [lw.value(size.tensor)], {"begin": [0], "size": [1]}, op).result, op)
    wanted = _raw(lw, "lf.select", [_arith(lw, "lf.eq", wanted, -1, op), _const(lw, rest, np.int64, op), wanted],
                  {}, op).result
    _bind(lw, op, 0, data, _checked(lw, wanted, rest + 1, op))


def _fed_strided_slice(lw, op: Operation) -> None:
    """StridedSlice whose end on axis 0 is fed (`x[b:n]`): the static slice `x[b:]` with the
    extent TF1's kernel gives the bounds (a negative end counts from the end; both clamped)."""
    attrs = dict(op._attrs)
    run = attrs["end"]
    known = shape_values.partial_shape(run.tensor)
    if attrs["strides"][0] != 1 or (attrs["shrink_axis_mask"] | attrs["new_axis_mask"] | attrs["ellipsis_mask"]) & 1 \
            or None in known[1:]:
        raise refuse("a fed slice bound other than the end of axis 0 with stride 1", op)
    x = lw.value(op.inputs[0])
    attrs.update(end=[0] + known[1:], end_mask=attrs["end_mask"] | 1)
    data = lw.build_static("lf.strided_slice", [x], attrs, op).result
    dim = x.type.shape[0]
    begin = 0 if attrs["begin_mask"] & 1 else attrs["begin"][0]
    begin = min(max(begin + dim if begin < 0 else begin, 0), dim)
    end = _scalar_i64(lw, _raw(lw, "lf.slice", [lw.value(run.tensor)], {"begin": [0], "size": [1]}, op).result, op)
    end = _raw(lw, "lf.select", [_arith(lw, "lf.lt", end, 0, op), _arith(lw, "lf.add", end, dim, op), end], {}, op).result
    end = _arith(lw, "lf.max", _arith(lw, "lf.min", end, dim, op), begin, op)
    _bind(lw, op, 0, data, _arith(lw, "lf.sub", end, begin, op))


def lower_run_reshape(lw, op: Operation, error: Exception) -> None:
    """Reshape of such a value to a shape computed from its own shape
    (`[tf.shape(y)[0], -1]`): the target is evaluated for two stand-in counts; when only its
    first entry follows them, and equals them, it is `[-1, rest...]`. Else `error` stands."""
    x = lw.value(shape_values.dense_inputs(op)[0])
    run = op._attrs["shape"]
    if not is_dynamic(lw, x) or not isinstance(run, shape_values.RunValue):
        raise error
    target = lw.value(run.tensor)
    tries = [[int(v) for v in shape_values.evaluate(target, "'shape' of Reshape",
                                                    {lw.extent[x]: np.array(c, np.int64)}).reshape(-1)]
             for c in (7, 11)]
    (first, *rest), (second, *rest2) = tries
    if (first, second) != (7, 11) or rest != rest2 or rest.count(-1) > 1:
        raise error
    if -1 in rest:  # the leading dim keeps its run-time length: -1 stands for the rest of a row
        known, row = -prod(rest), prod(x.type.shape[1:])
        if known <= 0 or row % known:
            raise error
        rest[rest.index(-1)] = row // known
    lw.env.setdefault(op.outputs[0], lw.build("lf.reshape", [x], {"shape": [-1] + rest}, op).result)


PRODUCERS = {"Where": lower_where, "Unique": lower_unique, "DynamicPartition": lower_dynamic_partition}


# ---- consumers ----------------------------------------------------------------------------

def consume(lw, name: str, operands: list, attrs: dict, op: Operation) -> ir.Operation:
    """Build IR op `name` of which some operands have a run-time extent (rules: module doc)."""
    rule = _RULES.get(name)
    if rule is None and ir.get_op(name).has(ELEMENTWISE):
        rule = _elementwise
    if rule is None:
        raise refuse(f"'{name}' of such a value", op)
    return rule(lw, name, list(operands), attrs, op)


def _one_count(lw, operands: list, op: Operation) -> ir.Value:
    counts = {id(lw.extent[v]): lw.extent[v] for v in operands if is_dynamic(lw, v)}
    if len(counts) > 1:
        raise refuse("values whose run-time lengths are not known to be equal", op)
    return next(iter(counts.values()))


def _keep(lw, res: ir.Operation, count: ir.Value) -> ir.Operation:
    for r in res.results:
        lw.extent[r] = count
    return res


def _elementwise(lw, name, operands, attrs, op):
    count = _one_count(lw, operands, op)
    rank = max(v.type.rank for v in operands)
    for v in operands:
        if is_dynamic(lw, v) and v.type.rank != rank:
            raise refuse(f"'{name}' broadcasting such a value along a new leading dim", op)
        if not is_dynamic(lw, v) and v.type.rank == rank and v.type.shape[0] != 1:
            raise refuse(f"'{name}' of such a value with a static leading dim {v.type.shape[0]}", op)
    if name in _DIVISIONS and is_dynamic(lw, operands[1]) and operands[1].type.dtype.is_int:
        operands[1] = _masked(lw, operands[1], count, 1, op)
    return _keep(lw, _raw(lw, name, operands, attrs, op), count)


def _reduce(lw, name, operands, attrs, op):
    (x,) = operands
    count = lw.extent[x]
    axes = reduction_axes(attrs, x.type.rank)
    if 0 not in axes:
        return _keep(lw, _raw(lw, name, operands, attrs, op), count)
    if name != "lf.reduce_mean":
        return _raw(lw, name, [_masked(lw, x, count, identity_element(name, x.type.dtype.np_dtype), op)], attrs, op)
    if not x.type.dtype.is_float:
        raise refuse("an integer mean over such a dim", op)
    total = _raw(lw, "lf.reduce_sum", [_masked(lw, x, count, 0, op)], attrs, op).result
    n = _arith(lw, "lf.mul", count, prod(x.type.shape[a] for a in axes if a), op)
    return _raw(lw, "lf.div", [total, _raw(lw, "lf.cast", [n], {"to": x.type.dtype}, op).result], {}, op)


def _arg(lw, name, operands, attrs, op):
    if attrs["axis"] % operands[0].type.rank == 0:
        raise refuse(f"'{name}' along such a dim", op)
    return _keep(lw, _raw(lw, name, operands, attrs, op), lw.extent[operands[0]])


def _gather(lw, name, operands, attrs, op):
    params, indices = operands
    if is_dynamic(lw, params) or attrs["axis"] % params.type.rank != 0:
        raise refuse("a gather from such a value, or along another axis than 0", op)
    count = lw.extent[indices]
    if params.type.shape[0] == 0:  # no row to pad with: a one-row table that real indices miss
        table = _const(lw, np.zeros((1,) + params.type.shape[1:]), params.type.dtype.np_dtype, op)
        rows = _raw(lw, "lf.cast", [_valid(lw, count, indices.type.shape[0], indices.type.rank, op)], {"to": I64},
                    op).result
        return _keep(lw, _raw(lw, name, [table, rows], attrs, op), count)
    return _keep(lw, _raw(lw, name, [params, _masked(lw, indices, count, 0, op)], attrs, op), count)


def _segment_sum(lw, name, operands, attrs, op):
    data, ids = operands
    if not is_dynamic(lw, ids) or not is_dynamic(lw, data) or not ids.type.dtype.is_signed:
        raise refuse("a segment sum whose data and signed ids do not share a run-time length", op)
    count = _one_count(lw, operands, op)
    return _raw(lw, name, [data, _masked(lw, ids, count, -1, op)], attrs, op)  # a negative id drops its row


def _matmul(lw, name, operands, attrs, op):
    a, b = operands
    ta, tb = attrs["transpose_a"], attrs["transpose_b"]
    if a.type.rank != 2 or b.type.rank != 2:
        raise refuse("a batched matmul of such a value", op)
    if is_dynamic(lw, a) and not ta and not is_dynamic(lw, b):
        return _keep(lw, _raw(lw, name, operands, attrs, op), lw.extent[a])
    if is_dynamic(lw, a) and is_dynamic(lw, b) and ta and not tb:  # contracts the dynamic dim
        count = _one_count(lw, operands, op)
        return _raw(lw, name, [_masked(lw, a, count, 0, op), _masked(lw, b, count, 0, op)], attrs, op)
    raise refuse("a matmul of such a value other than with a dynamic M or contracting it", op)


def _view(lw, name, operands, attrs, op):
    (x,) = operands
    count = lw.extent[x]
    if op.type == "Reshape" and list(attrs["shape"][:1]) != [-1]:  # a fixed leading dim: equal only at run time
        raise refuse("a reshape of such a value to a leading dim other than -1", op)
    res = _raw(lw, name, operands, attrs, op)
    out = res.result.type
    rest_in, rest_out = prod(x.type.shape[1:]), prod(out.shape[1:])
    if not out.shape or rest_out == 0 or rest_in % rest_out or out.shape[0] * rest_out != x.type.shape[0] * rest_in \
            or (name == "lf.expand_dims" and attrs["axis"] % (x.type.rank + 1) == 0) \
            or (name == "lf.squeeze" and (0 in [a % x.type.rank for a in attrs["squeeze_dims"]]
                                          or not attrs["squeeze_dims"])):  # TF1 squeezes a run-time 1 too
        raise refuse(f"'{name}' that does not keep such a leading dim first (reshape it to [-1, ...])", op)
    if rest_in != rest_out:
        count = _arith(lw, "lf.floordiv", _arith(lw, "lf.mul", count, rest_in, op), rest_out, op)
    return _keep(lw, res, count)


def _same(lw, name, operands, attrs, op):
    return _keep(lw, _raw(lw, name, operands, attrs, op), lw.extent[operands[0]])


def _shape(lw, name, operands, attrs, op):
    """Shape/Size of such a value, from its count (and its static trailing dims)."""
    (x,) = operands
    res = _raw(lw, name, operands, attrs, op)
    dtype = res.result.type.dtype
    count = _raw(lw, "lf.cast", [lw.extent[x]], {"to": dtype}, op).result
    if name == "lf.size":
        return _raw(lw, "lf.mul", [count, _const(lw, prod(x.type.shape[1:]), dtype.np_dtype, op)], {}, op)
    first = np.zeros(x.type.rank, dtype.np_dtype)
    first[0] = 1
    shifted = _raw(lw, "lf.sub", [count, _const(lw, x.type.shape[0], dtype.np_dtype, op)], {}, op).result
    return _raw(lw, "lf.add", [res.result, _raw(lw, "lf.mul", [_const(lw, first, dtype.np_dtype, op), shifted],
                                                    {}, op).result], {}, op)


def _rank(lw, name, operands, attrs, op):
    return _raw(lw, name, operands, attrs, op)


def _slice(lw, name, operands, attrs, op):
    """A slice that reads all of the leading dim, and keeps it first."""
    (x,) = operands
    w = slice_window(name, x.type.shape, attrs)
    first = attrs.get("new_axis_mask", 0) & 1 or (attrs.get("shrink_axis_mask", 0) & 1
                                                  and not attrs.get("ellipsis_mask", 0) & 1)
    if first or (w.starts[0], w.steps[0], w.sizes[0]) != (0, 1, x.type.shape[0]):
        raise refuse(f"'{name}' that does not keep all of such a leading dim", op)
    return _same(lw, name, operands, attrs, op)


def _joined(lw, name, operands, attrs, op):
    """concat/stack of values of one run-time length, along another axis than 0."""
    rank = operands[0].type.rank + (name == "lf.stack")
    if not all(is_dynamic(lw, v) for v in operands) or attrs["axis"] % rank == 0:
        raise refuse(f"'{name}' along such a dim or with static values", op)
    return _keep(lw, _raw(lw, name, operands, attrs, op), _one_count(lw, operands, op))


def _split(lw, name, operands, attrs, op):
    if attrs["axis"] % operands[0].type.rank == 0:
        raise refuse("a split of such a dim", op)
    return _same(lw, name, operands, attrs, op)


def _transpose(lw, name, operands, attrs, op):
    if transpose_perm(attrs, operands[0].type.rank)[0] != 0:
        raise refuse("a transpose that moves such a leading dim", op)
    return _same(lw, name, operands, attrs, op)


def _pad(lw, name, operands, attrs, op):
    if any(pad_widths(operands[0].type.shape, attrs)[0]):
        raise refuse("padding such a leading dim", op)
    return _same(lw, name, operands, attrs, op)


def _one_hot(lw, name, operands, attrs, op):
    if one_hot_axis(attrs, operands[0].type.rank) == 0:
        raise refuse("a one_hot whose depth goes before such a dim", op)
    return _same(lw, name, operands, attrs, op)


def _xent(lw, name, operands, attrs, op):
    """Per-row losses; padded labels read class 0, so they are in range."""
    logits, labels = operands
    count = _one_count(lw, operands, op)
    if not (is_dynamic(lw, logits) and is_dynamic(lw, labels)):
        raise refuse("a cross entropy whose logits and labels do not share a run-time length", op)
    return _keep(lw, _raw(lw, name, [logits, _masked(lw, labels, count, 0, op)], attrs, op), count)


_RULES = {**dict.fromkeys(_REDUCTIONS, _reduce), "lf.argmax": _arg, "lf.argmin": _arg, "lf.gather": _gather,
          "lf.unsorted_segment_sum": _segment_sum, "lf.matmul": _matmul, **dict.fromkeys(_VIEWS, _view),
          "lf.identity": _same, "lf.fill_like": _same, "lf.shape": _shape, "lf.size": _shape, "lf.rank": _rank,
          "lf.slice": _slice, "lf.strided_slice": _slice, "lf.concat": _joined, "lf.stack": _joined,
          "lf.transpose": _transpose, "lf.pad": _pad, "lf.sparse_softmax_xent": _xent,
          "lf.one_hot": _one_hot, "lf.split": _split}


def mark_like(lw, name: str, operands: list, results: list) -> None:
    """After a gradient plumbing op's expansion: its result has its like-operand's extent."""
    like = _LIKE.get(name)
    if like is not None and is_dynamic(lw, operands[like]):
        for r in results:
            lw.extent[r] = lw.extent[operands[like]]


def fetch_counts(lw, fetched: list[ir.Value]) -> tuple[list[ir.Value], list[tuple[int, int]]]:
    """(the counts to return after the step's other results, (fetch index, count index) pairs)."""
    counts, pairs = [], []
    for i, v in enumerate(fetched):
        if is_dynamic(lw, v):
            pairs.append((i, len(counts)))
            counts.append(lw.extent[v])
    return counts, pairs


def trimmer(native, extents: list[tuple[int, int]], first_count: int):
    """`native` (a step call) returning each fetch with an extent cut to its first `count`
    rows (a view of the native buffer), the counts removed from the outputs."""
    n = len({c for _, c in extents})

    def run(args: list) -> list:
        outs = native(args)
        counts = outs[first_count:first_count + n]
        for i, c in extents:
            outs[i] = outs[i][:int(counts[c])]
        del outs[first_count:first_count + n]
        return outs
    return run
