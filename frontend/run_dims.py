"""Sizes set by fed values with no static bound: `tf.one_hot(i, depth=n)`, `tf.range(n)`,
`tf.fill`/`zeros`/`ones([n, m])`, `tf.reshape(x, s)`, `tf.tile(x, m)` with `n`, `s`, `m` fed
(cf. TF's kernels, which size their outputs from their inputs' values).

Such an op has a RunValue attribute that depends on fed values (`shape_values.py`), so no
signature can fix its size. It is lowered without recompiling per value, in two native
phases of one signature:

1. the *shape prelude*, a small step of its own (`Prelude.func`) over the same feeds, computes
   every such op's dims (an i64 vector) and a check code (0, or which of TF's checks failed:
   `message`), plus the values TF's message quotes;
2. the runtime (`runtime/run_dims.py`) raises TF's error for a failed check, allocates each
   result from its dims (an absurd size: ResourceExhaustedError), and calls the main step,
   which takes the dims as its last arguments: the op becomes `lf.run_range`,
   `lf.run_one_hot`, `lf.run_fill`, `lf.run_reshape` or `lf.run_tile` (`ir/ops/dynamic.py`),
   whose result type has `?` dims and whose kernel loads its loop bounds from the dims.

The result can be fetched and given to the consumers `consume` lists (each a run-time-sized
value too, in an output slot the runtime allocates: `hidden`); any other use of it raises
UnimplementedError when the signature is lowered. Build-time static shapes are the best
partial ones (`[batch, None]` for one_hot).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from lowerflow import ir
from lowerflow.frontend import shape_values
from lowerflow.frontend.graph import Operation, Tensor
from lowerflow.ir.opdef import ELEMENTWISE
from lowerflow.ir.ops.reduction import reduction_axes
from lowerflow.ir.ops.shape import elem_attr
from lowerflow.ir.types import I64, TensorType

TYPES = ("OneHot", "Range", "Fill", "Reshape", "Tile")
CHECKS = 100  # check codes from here on: an elementwise consumer's size (`RunDims.checks`)
_REDUCTIONS = ("lf.reduce_sum", "lf.reduce_mean", "lf.reduce_prod", "lf.reduce_max", "lf.reduce_min",
               "lf.reduce_any", "lf.reduce_all")


@dataclass
class RunDims:
    """One op sized at run time: its graph op, the main step's dims argument, the static
    shape of its data operand (Reshape, Tile) and its prelude results (filled in later)."""

    op: Operation
    dims: ir.Value
    data_shape: tuple = ()
    # run-time checks of consumers: (dims index, the static size it must be, the consumer's
    # node name, its operands' shapes with None for run-time dims, "elementwise" or "matmul")
    checks: list = field(default_factory=list)
    pinned: dict = field(default_factory=dict)  # dims index -> the static size a check requires


@dataclass
class Prelude:
    """The shape prelude: `func` (the feeds in step order -> per op: dims, code, quoted...)."""

    func: ir.Function
    ops: list[RunDims]
    quoted: list[int]  # how many quoted values follow each op's dims and code
    hidden: int = 0  # the main step's last results: run-time-sized temporaries (`hidden`)


def refuse(what: str, op: Operation) -> NotImplementedError:
    return NotImplementedError(f"{what}: lowerflow sizes a value by fed values with no static bound "
                               f"(tf.one_hot(depth=n), tf.range(n), tf.fill, tf.zeros, tf.ones, tf.reshape, "
                               f"tf.tile with a fed size) only to fetch it, to apply elementwise ops to it (with "
                               f"scalars or values of the same size), or to reduce all its run-time dims "
                               f"[[node {op.name} (op: {op.type})]]")


def _tensors(op: Operation) -> dict[str, Tensor]:
    return {k: v.tensor for k, v in op._attrs.items() if isinstance(v, shape_values.RunValue)}


def _const(lw, value, dtype, op: Operation) -> ir.Value:
    return lw.build_static("lf.constant", [], {"value": np.asarray(value, dtype)}, op).result


def _scalar(lw, op: Operation, key: str, dtype) -> ir.Value:
    """Attribute `key` as a scalar IR value of `dtype` (an ElemType)."""
    attr = op._attrs[key]
    if not isinstance(attr, shape_values.RunValue):
        return _const(lw, attr, dtype.np_dtype, op)
    v = lw.value(attr.tensor)
    if v.type.shape:
        v = lw.build_static("lf.reshape", [v], {"shape": []}, op).result
    return v if v.type.dtype == dtype else lw.build_static("lf.cast", [v], {"to": dtype}, op).result


# ---- the main step: the op over its run-time dims ------------------------------------------

def lower(lw, op: Operation) -> None:
    """Lower `op` into the main step: a dims argument (moved last by `finish`) and the
    `lf.run_*` op reading it."""
    if lw.extent is None:
        raise refuse("a size set by a fed value inside tf.cond or tf.while_loop", op)
    inputs = shape_values.dense_inputs(op)
    data = lw.value(inputs[0]) if inputs else None
    if data is not None and data in lw.unbounded:
        raise refuse(f"'{op.type}' of such a value", op)
    if data is not None and data in lw.extent:
        raise refuse(f"'{op.type}' of a value of a run-time leading dim", op)
    k = 1 if op.type in ("OneHot", "Range") else \
        lw.value(_tensors(op)["multiples" if op.type == "Tile" else "shape"]).type.shape[0]
    dims = lw.func.body.add_arg(TensorType((k,), I64))
    lw.func.arg_names.append(f"{op.name}/dims")
    lw.run_dims.append(RunDims(op, dims, () if data is None else data.type.shape))
    attrs = op._attrs
    if op.type == "Range":
        dtype = elem_attr(attrs["dtype"])
        operands, name, ir_attrs = [_scalar(lw, op, "start", dtype), _scalar(lw, op, "delta", dtype)], \
            "lf.run_range", {}
    elif op.type == "OneHot":
        operands, name = [data], "lf.run_one_hot"
        ir_attrs = {k: attrs[k] for k in ("on_value", "off_value", "axis", "dtype")}
    else:
        operands, name, ir_attrs = [data], {"Fill": "lf.run_fill", "Reshape": "lf.run_reshape",
                                            "Tile": "lf.run_tile"}[op.type], {}
    result = lw.build_static(name, operands + [dims], ir_attrs, op).result
    lw.unbounded[result] = dims
    lw.env.setdefault(op.outputs[0], result)


def consume(lw, name: str, operands: list, attrs: dict, op: Operation) -> ir.Operation:
    """An IR op given values sized at run time: the static op once the prelude checks every
    run-time dim static; else an elementwise op over values of one dims argument, scalars and
    trailing static dims (`lf.run_map`), a reduction of all their run-time dims or of none
    (`lf.run_reduce`), a shape query, a matmul contracting them with a static operand's;
    anything else is refused."""
    sized = [v for v in operands if v in lw.unbounded]
    dims = lw.unbounded[sized[0]]
    opdef = ir.get_op(name)
    records = {v: next(r for r in lw.run_dims if r.dims is lw.unbounded[v]) for v in sized}
    if all(_static_shape(records[v], v) is not None for v in sized):  # every run-time dim checked static
        return lw.build(name, [_pin(lw, records[v], v, op) if v in records else v for v in operands], attrs, op)
    if any(lw.unbounded[v] is not dims or v.type.shape != sized[0].type.shape for v in sized):
        raise refuse(f"'{op.type}' of values sized by different fed values", op)
    if opdef.has(ELEMENTWISE):
        _check_static_operands(lw, dims, sized[0].type.shape, operands, op)
        result_op = lw.build_static("lf.run_map", list(operands) + [dims], {"op": name, **attrs}, op)
        lw.unbounded[result_op.result] = dims
        return result_op
    if name == "lf.matmul":
        return _matmul(lw, operands, attrs, dims, op)
    if name in ("lf.shape", "lf.size", "lf.rank"):
        return _shape_query(lw, name, sized[0], dims, attrs, op)
    if name in _REDUCTIONS and sized[0].type.dtype.np_name != "float16":
        (x,) = operands
        axes = reduction_axes(attrs, x.type.rank)
        reduced = {j in axes for j, d in enumerate(x.type.shape) if d is None}
        if len(reduced) == 1:  # every run-time dim reduced (a static result), or none (one of these dims)
            result_op = lw.build_static("lf.run_reduce", [x, dims], {"op": name, **attrs}, op)
            if False in reduced:
                lw.unbounded[result_op.result] = dims
            return result_op
    raise refuse(f"'{op.type}' of such a value", op)


def _static_shape(record: RunDims, v: ir.Value) -> list | None:
    """`v`'s shape with its run-time dims as the sizes the prelude checks them to have; None
    while one is unchecked (`v` is sized by `record`'s dims)."""
    given = iter(range(v.type.shape.count(None)))
    shape = [record.pinned.get(next(given)) if d is None else d for d in v.type.shape]
    return None if None in shape else shape


def _pin(lw, record: RunDims, v: ir.Value, op: Operation) -> ir.Value:
    """`v` seen with the static type its checked dims give (one view per value)."""
    key = ("pinned", v)
    if key not in lw.unbounded:
        lw.unbounded[key] = lw.build_static("lf.run_static", [v, record.dims], {"shape": _static_shape(record, v)},
                                            op).result
    return lw.unbounded[key]


def _matmul(lw, operands: list, attrs: dict, dims: ir.Value, op: Operation) -> ir.Operation:
    """A matmul whose run-time dims are all contracted with a static operand's (a one-hot
    times an embedding): the prelude checks them equal, then it is the static matmul."""
    a, b = operands
    if (a in lw.unbounded) == (b in lw.unbounded) or a.type.rank != 2 or b.type.rank != 2:
        raise refuse("a matmul of two such values, or of rank other than 2", op)
    sized, other = (a, b) if a in lw.unbounded else (b, a)
    k_sized = (0 if attrs.get("transpose_a") else 1) if sized is a else (1 if attrs.get("transpose_b") else 0)
    k_other = (1 if attrs.get("transpose_b") else 0) if sized is a else (0 if attrs.get("transpose_a") else 1)
    if any(d is None for j, d in enumerate(sized.type.shape) if j != k_sized):
        raise refuse("a matmul whose run-time dim is not contracted with a static operand's", op)
    record = next(r for r in lw.run_dims if r.dims is dims)
    record.checks.append((0, other.type.shape[k_other], op.name,
                          [sized.type.shape if v is sized else v.type.shape for v in operands], "matmul"))
    record.pinned[0] = other.type.shape[k_other]
    return lw.build("lf.matmul", [_pin(lw, record, v, op) if v is sized else v for v in operands], attrs, op)


def _shape_query(lw, name: str, x: ir.Value, dims: ir.Value, attrs: dict, op: Operation) -> ir.Operation:
    """tf.shape, tf.size, tf.rank of a run-time-sized value: from its dims argument."""
    out = ir.get_op(name).infer([x.type], attrs)[0].dtype
    if name == "lf.rank":
        return lw.build_static("lf.constant", [], {"value": np.asarray(x.type.rank, out.np_dtype)}, op)
    pieces, j = [], 0
    for d in x.type.shape:
        if d is None:
            pieces.append(lw.build_static("lf.slice", [dims], {"begin": [j], "size": [1]}, op).result)
            j += 1
        else:
            pieces.append(_const(lw, [d], np.int64, op))
    shape = pieces[0] if len(pieces) == 1 else lw.build_static("lf.concat", pieces, {"axis": 0}, op).result
    if name == "lf.size":
        shape = lw.build_static("lf.reduce_prod", [shape], {"keepdims": False}, op).result
    return lw.build_static("lf.cast", [shape], {"to": out}, op)


def _check_static_operands(lw, dims: ir.Value, shape: tuple, operands: list, op: Operation) -> None:
    """Static operands of an elementwise op over run-time-sized values: a scalar (one
    element), or the trailing dims of `shape`, whose run-time ones the prelude checks."""
    record = next(r for r in lw.run_dims if r.dims is dims)
    for v in operands:
        if v in lw.unbounded or v.type.size == 1:
            continue
        s = v.type.shape
        tail = shape[len(shape) - len(s):] if len(s) <= len(shape) else None
        if tail is None or any(a != b if a is not None else b == 1 for a, b in zip(tail, s)):
            raise refuse(f"'{op.type}' of such a value and a static shape {list(s)} other than its trailing dims", op)
        for j, (a, b) in enumerate(zip(tail, s)):
            if a is None:
                at = sum(d is None for d in shape[:len(shape) - len(s) + j])
                record.checks.append((at, b, op.name, [shape if u in lw.unbounded else u.type.shape for u in operands],
                                      "elementwise"))
                record.pinned[at] = b


def hidden(lw, results: list) -> list:
    """The run-time-sized values the step computes but does not return: the step writes
    them to output slots too (their size is unknown when it is compiled), which the runtime
    allocates and drops."""
    returned = set(results)
    return [v for v in lw.unbounded if isinstance(v, ir.Value) and v not in returned]


def finish(lw, feeds: dict) -> Prelude | None:
    """Move the dims arguments after every other argument, and build the shape prelude."""
    if not lw.run_dims:
        return None
    if lw.extent:  # the two kinds each own the plan's native call
        raise refuse("a step that also computes a leading dim known only at run time (tf.boolean_mask, ...)",
                     lw.run_dims[0].op)
    args = lw.func.body.args
    names = dict(zip(args, lw.func.arg_names))
    moved = [r.dims for r in lw.run_dims]
    order = [a for a in args if a not in set(moved)] + moved
    args[:] = order
    for i, a in enumerate(order):
        a.index = i
    lw.func.arg_names[:] = [names[a] for a in order]
    return _prelude(lw, feeds)


# ---- the shape prelude ----------------------------------------------------------------------

def _prelude(lw, feeds: dict) -> Prelude:
    from lowerflow.frontend.lowering import _Lowerer, needed_ops  # it builds on this module

    pl = _Lowerer(feeds)
    pl.func.name = "step_dims"
    tensors = [t for r in lw.run_dims for t in _tensors(r.op).values()]
    for o in needed_ops(tensors, [], set(feeds)):
        pl.lower_op(o)
    if pl.reads or pl.writes or pl.extent or pl.run_dims:
        raise refuse("a size computed from a variable, a random op or another run-time size", lw.run_dims[0].op)
    results, names, quoted = [], [], []
    for r in lw.run_dims:
        b = _Builder(pl, r.op)
        dims, code, said = _SHAPES[r.op.type](b, r)
        for k, (at, size, *_) in enumerate(r.checks):  # consumers' sizes
            given = b("lf.reshape", b("lf.slice", dims, begin=[at], size=[1]), shape=[])
            bad = b("lf.and", b("lf.eq", code, b.c(0)), b("lf.ne", given, b.c(size)))
            code = b.pick(bad, b.c(CHECKS + k), code)
        results += [dims, code] + said
        names += [f"{r.op.name}/dims", f"{r.op.name}/check"] + [f"{r.op.name}/quoted{j}" for j in range(len(said))]
        quoted.append(len(said))
    pl.func.set_return(results, names)
    return Prelude(pl.func, lw.run_dims, quoted)


class _Builder:
    """Scalar and vector arithmetic in the prelude, as IR ops of graph op `op`."""

    def __init__(self, pl, op: Operation):
        self.pl, self.op = pl, op

    def __call__(self, name: str, *operands, **attrs) -> ir.Value:
        return self.pl.build_static(name, list(operands), attrs, self.op).result

    def c(self, value, like: ir.Value | None = None) -> ir.Value:
        dtype = np.int64 if like is None else like.type.dtype.np_dtype
        return _const(self.pl, value, dtype, self.op)

    def i64(self, v: ir.Value) -> ir.Value:
        return v if v.type.dtype == I64 else self("lf.cast", v, to=I64)

    def vector(self, key: str) -> ir.Value:
        return self.i64(self.pl.value(_tensors(self.op)[key]))

    def pick(self, cond: ir.Value, a: ir.Value, b: ir.Value) -> ir.Value:
        return self("lf.select", cond, a, b)

    def code(self, checks: list[ir.Value]) -> ir.Value:
        """1 + the index of the first true check, else 0."""
        code = self.c(0)
        for j in reversed(range(len(checks))):
            code = self.pick(checks[j], self.c(j + 1), code)
        return code


def _one_hot_shape(b: _Builder, r: RunDims):
    depth = b.i64(_scalar(b.pl, r.op, "depth", I64))
    negative = b("lf.lt", depth, b.c(0))
    return b("lf.reshape", b("lf.max", depth, b.c(0)), shape=[1]), b.code([negative]), [depth]


def _range_shape(b: _Builder, r: RunDims):
    dtype = elem_attr(r.op._attrs["dtype"])
    start, limit, delta = (_scalar(b.pl, r.op, k, dtype) for k in ("start", "limit", "delta"))
    zero = b.c(0, start)
    up = b("lf.gt", delta, zero)  # TF's kernel tests `start <= limit` (so NaN bounds fail) when
    checks = [b("lf.eq", delta, zero), b("lf.and", up, b("lf.not", b("lf.le", start, limit))),  # delta > 0,
              b("lf.and", b("lf.not", up), b("lf.not", b("lf.ge", start, limit)))]  # else `start >= limit`
    span, step = b("lf.abs", b("lf.sub", limit, start)), b("lf.abs", b.pick(checks[0], b.c(1, delta), delta))
    if dtype.is_float:
        count = b("lf.ceil", b("lf.div", span, step))
        checks.append(b("lf.not", b("lf.lt", count, b.c(2.0 ** 63, count))))  # NaN, or past an int64
        size = b.i64(b.pick(checks[-1], b.c(0, count), count))
    else:
        size = b("lf.floordiv", b("lf.sub", b("lf.add", b.i64(span), b.i64(step)), b.c(1)), b.i64(step))
    code = b.code(checks)
    size = b.pick(b("lf.eq", code, b.c(0)), size, b.c(0))
    return b("lf.reshape", size, shape=[1]), code, [start, limit, delta]


def _fill_shape(b: _Builder, r: RunDims):
    dims = b.vector("shape")
    negative = b("lf.reduce_any", b("lf.lt", dims, b.c(0)), keepdims=False)
    return b("lf.max", dims, b.c(0)), b.code([negative]), [dims]


def _reshape_shape(b: _Builder, r: RunDims):
    """TF's Reshape: at most one -1, inferred from the data's size; the rest >= 0. With a 0 in
    the shape, TF leaves 0s out of both products (so a -1 beside a 0 is still inferred), and
    checks no multiple when the data has a 0 dim too."""
    shape, n = b.vector("shape"), int(np.prod(r.data_shape, dtype=np.int64))
    nonzero = int(np.prod([d for d in r.data_shape if d], dtype=np.int64))
    free, zero = b("lf.eq", shape, b.c(-1)), b("lf.eq", shape, b.c(0))
    has_zero = b("lf.reduce_any", zero, keepdims=False)
    known = b("lf.reduce_prod", b.pick(b("lf.or", free, zero), b.c(1), shape), keepdims=False)
    frees = b("lf.reduce_sum", b.i64(free), keepdims=False)
    safe, elements = b("lf.max", known, b.c(1)), b.pick(has_zero, b.c(nonzero), b.c(n))
    dims = b.pick(free, b("lf.floordiv", elements, safe), shape)
    total = b("lf.reduce_prod", dims, keepdims=False)
    multiple = b("lf.ne", b("lf.mod", elements, safe), b.c(0))
    if 0 in r.data_shape:
        multiple = b("lf.and", multiple, b("lf.not", has_zero))
    checks = [b("lf.reduce_any", b("lf.lt", shape, b.c(-1)), keepdims=False), b("lf.gt", frees, b.c(1)),
              b("lf.and", b("lf.eq", frees, b.c(1)), multiple), b("lf.ne", total, b.c(n))]
    code = b.code(checks)
    ok = b("lf.eq", code, b.c(0))
    return b.pick(ok, dims, b("lf.mul", dims, b.c(0))), code, [shape, known, total, elements]


def _tile_shape(b: _Builder, r: RunDims):
    multiples = b.vector("multiples")
    negative = b("lf.reduce_any", b("lf.lt", multiples, b.c(0)), keepdims=False)
    data = b.c(np.array(r.data_shape, np.int64))
    return b("lf.mul", data, b("lf.max", multiples, b.c(0))), b.code([negative]), [multiples]


_SHAPES = {"OneHot": _one_hot_shape, "Range": _range_shape, "Fill": _fill_shape, "Reshape": _reshape_shape,
           "Tile": _tile_shape}


def _num(v) -> str:
    """A quoted value as TF's StrCat prints it (5, 0.3)."""
    v = np.asarray(v).item()
    return f"{v:g}" if isinstance(v, float) else str(v)


def _first(values, test) -> int:
    return next(i for i, v in enumerate(np.asarray(values).tolist()) if test(v))


def message(r: RunDims, code: int, quoted: list[np.ndarray], dims: np.ndarray) -> str:
    """TF's words for check `code` of op `r` (quoting the prelude's values and its dims)."""
    kind = r.op.type
    if code >= CHECKS:
        _, _, node, shapes, kind = r.checks[code - CHECKS]
        text = []
        for shape in shapes:  # a run-time-sized operand's `?` dims are the dims, in order
            given = iter(dims.tolist())
            text.append("[" + ",".join(str(next(given) if d is None else d) for d in shape) + "]")
        if kind == "matmul":
            return f"Matrix size-incompatible: In[0]: {text[0]}, In[1]: {text[1]} [[node {node}]]"
        return f"Incompatible shapes: {' vs. '.join(text)} [[node {node}]]"
    if kind == "OneHot":
        return f"depth must be non-negative, got: {_num(quoted[0])}"
    if kind == "Range":
        start, limit, delta = map(_num, quoted)
        return [f"Requires delta != 0: {delta}", f"Requires start <= limit when delta > 0: {start}/{limit}",
                f"Requires start >= limit when delta < 0: {start}/{limit}",
                f"Requires ((limit - start) / delta) <= {np.iinfo(np.int64).max}"][code - 1]
    if kind == "Fill":
        return f"Dimension {_num(quoted[0][_first(quoted[0], lambda v: v < 0)])} must be >= 0"
    if kind == "Tile":
        i = _first(quoted[0], lambda v: v < 0)
        return f"Expected multiples[{i}] >= 0, but got {_num(quoted[0][i])}"
    shape, known, total, elements = quoted
    n = int(np.prod(r.data_shape, dtype=np.int64))
    if code == 1:
        i = _first(shape, lambda v: v < -1)
        return f"Size {i} must be non-negative, not {_num(shape[i])}"
    if code == 2:
        i = _first(shape, lambda v: v == -1)
        j = _first(shape[i + 1:], lambda v: v == -1) + i + 1
        return f"Only one input size may be -1, not both {i} and {j}"
    if code == 3:
        return f"Input to reshape is a tensor with {_num(elements)} values, but the requested shape requires a " \
               f"multiple of {_num(known)}"
    return f"Input to reshape is a tensor with {n} values, but the requested shape has {_num(total)}"
