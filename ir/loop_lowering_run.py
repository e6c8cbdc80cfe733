"""The ops whose sizes are known only when the step runs (`lf.run_*`, `ops/dynamic.py`) as
loop nests bounded by their run-time dims.

Each op's last operand is its run-time dims, a static i64 vector the step's shape prelude
computed and the runtime allocated the result from (`runtime/run_dims.py`). The kernel loads
them ("loop.load" + "loop.to_index") and bounds its loops with them ("loop.for" with the
bound as an operand), so the code is the same for every value and a signature compiles
once. A buffer of run-time size is flat (`memref<?xf32>`): the nests compute flat indices
by index arithmetic, C order, the static dims as constants.

- RunRange: start, start + delta, ...: a running value carried by the loop (TF1's kernel
  adds delta each step, so floats round as there, not as start + i * delta).
- RunOneHot: loops over the dims before the axis, the run-time depth, the dims after it;
  `on` where the index (widened to i64) equals the depth's index, `off` elsewhere.
- RunFill: the value at every point; RunReshape: the operand's elements in order (the
  prelude checked the dims hold as many).
- RunTile: loops over the result's run-time dims, each index taken modulo the operand's dim.
- RunMap: an elementwise op over one flat loop of the result's points; a run-time-sized
  operand read at the point, a static one (the result's trailing dims, checked by the
  prelude) at the point modulo its size, a one-element one loaded once.
- RunReduce: the output set to the identity, then every element in C order folded into its
  output element (load, "loop.fold", store), then a mean divided by the count (an integer
  mean by at least 1, so an empty one stays 0).

    %0 = "loop.kernel"(%s, %d, %n) ({
    ^bb0(%out: memref<?xf32>, %start: memref<f32>, %delta: memref<f32>, %dims: memref<1xi64>):
      %c0 = "loop.const_index"() {value = 0} : () -> index
      %k = "loop.load"(%dims, %c0) : (memref<1xi64>, index) -> i64
      %n = "loop.to_index"(%k) : (i64) -> index
      ...
      %last = "loop.for"(%n, %first) ({
      ^bb0(%i: index, %value: f32):
        "loop.store"(%value, %out, %i) : (f32, memref<?xf32>, index) -> ()
        ...
"""
from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from math import prod

from lowerflow.ir.core import Block, Operation, Value
from lowerflow.ir.loop_build import counted, empty_kernel, scalar_constant, view
from lowerflow.ir.ops.loop import CONST_INDEX, FOLD, INDEX_ARITH, INDEX_CAST, LOAD, SCALAR, STORE, TO_INDEX
from lowerflow.ir.ops.reduction import COMBINE, identity_element, reduction_axes
from lowerflow.ir.types import BOOL, I64, INDEX, ElemType

Size = int | Value  # a dim: static, or an index the kernel loaded from its run-time dims


def _index(block: Block, n: Size) -> Value:
    """`n` as an index value ("loop.const_index" if static)."""
    return n if isinstance(n, Value) else block.add(CONST_INDEX, [], [INDEX], {"value": n}).result


def _arith(block: Block, op: str, x: Size, y: Size) -> Size:
    """Index arithmetic `x op y`, folded where static (and for x * 1, 0 * y, 0 + y)."""
    if isinstance(x, int) and isinstance(y, int):
        return {"add": x + y, "mul": x * y, "max": max(x, y), "mod": x % y}[op]
    if (op, x) in (("mul", 0), ("add", 0)) or (op, y) == ("mul", 1):
        return x if op == "mul" else y
    return block.add(INDEX_ARITH, [_index(block, x), _index(block, y)], [INDEX], {"op": op}).result


def _product(block: Block, sizes: list[Size]) -> Size:
    """The product of `sizes`, the static ones multiplied first."""
    total: Size = prod(d for d in sizes if isinstance(d, int))
    for d in sizes:
        if not isinstance(d, int):
            total = d if total == 1 else _arith(block, "mul", total, d)
    return total


def _flat_at(block: Block, sizes: list[Size], ivs: list[Value]) -> Size:
    """The C-order flat index of the point `ivs` in dims `sizes`."""
    at: Size = 0
    for n, i in zip(sizes, ivs):
        at = _arith(block, "add", _arith(block, "mul", at, n), i)
    return at


def _scalar(block: Block, name: str, operands: list[Value], t: ElemType, **attrs) -> Value:
    return block.add(SCALAR, operands, [t], {"op": name, **attrs}).result


def _cast(block: Block, v: Value, t: ElemType) -> Value:
    return v if v.type == t else _scalar(block, "lf.cast", [v], t, to=t)


class _Kernel:
    """The "loop.kernel" of a run-time-dims op being built: its result and operand buffers
    (every one seen flat), the run-time dims."""

    def __init__(self, op: Operation):
        self.op = op
        self.kernel, outs, ins = empty_kernel(op)
        self.body = self.kernel.regions[0]
        self.outs, self.ins = [self.flat(b) for b in outs], [self.flat(b) for b in ins[:-1]]
        self.dims_buffer = ins[-1]

    @cached_property
    def dims(self) -> list[Value]:
        """The run-time dims as indices, loaded where first asked for (the kernel's top level:
        every lowering asks before it builds a loop)."""
        d = self.dims_buffer
        return [self.body.add(TO_INDEX, [self.body.add(LOAD, [d, _index(self.body, j)], [I64]).result],
                              [INDEX]).result for j in range(d.type.shape[0])]

    def flat(self, buf: Value) -> Value:
        """`buf` as one flat dim (a buffer of run-time size already is; a scalar stays one)."""
        t = buf.type
        return buf if not t.is_static or not t.rank else view(self.body, buf, [prod(t.shape)], [1])

    def shape(self, shape: tuple) -> list[Size]:
        """`shape` with its `?` dims, in order, taken from the run-time dims."""
        given = iter(self.dims)
        return [next(given) if d is None else d for d in shape]

    def loops(self, sizes: list[Size], body: Callable[[Block, list[Value]], None],
              block: Block | None = None) -> None:
        """`body(block, ivs)` inside loops over `sizes` (in `block`, default the kernel's)."""
        block, ivs = block or self.body, []
        for n in sizes:
            block = counted(block, 0, n).regions[0]
            ivs.append(block.args[0])
        body(block, ivs)
        for _ in sizes:
            block.add("lf.yield")
            block = block.parent.parent

    def load(self, block: Block, buf: Value, at: Size) -> Value:
        """The element `at` of a flat buffer (of a scalar buffer: its element)."""
        return block.add(LOAD, [buf, *self._at(block, buf, at)], [buf.type.dtype]).result

    def store(self, block: Block, value: Value, buf: Value, at: Size) -> None:
        block.add(STORE, [value, buf, *self._at(block, buf, at)])

    @staticmethod
    def _at(block: Block, buf: Value, at: Size) -> list[Value]:
        return [_index(block, at)] if buf.type.rank else []

    def done(self) -> Operation:
        self.body.add("lf.yield")
        return self.kernel


def _range(k: _Kernel) -> None:
    (out,), (start, delta), (n,) = k.outs, k.ins, k.dims
    first, step = k.load(k.body, start, 0), k.load(k.body, delta, 0)
    loop = counted(k.body, 0, n, [first])
    inner = loop.regions[0]
    i, value = inner.args
    k.store(inner, value, out, i)
    inner.add("lf.yield", [_scalar(inner, "lf.add", [value, step], value.type)])


def _one_hot(k: _Kernel) -> None:
    (out,), (indices,), (depth,) = k.outs, k.ins, k.dims
    attrs, shape = k.op.attributes, k.op.operands[0].type.shape
    axis = len(shape) if attrs["axis"] == -1 else attrs["axis"]
    outer, inner = prod(shape[:axis]), prod(shape[axis:])
    t = out.type.dtype
    on, off = scalar_constant(k.body, attrs["on_value"], t), scalar_constant(k.body, attrs["off_value"], t)

    def point(block: Block, ivs: list[Value]) -> None:
        a, d, c = ivs
        index = _cast(block, k.load(block, indices, _flat_at(block, [outer, inner], [a, c])), I64)
        hot = _scalar(block, "lf.eq", [index, block.add(INDEX_CAST, [d], [I64], {"type": I64}).result], BOOL)
        k.store(block, _scalar(block, "lf.select", [hot, on, off], t), out,
                _flat_at(block, [outer, depth, inner], ivs))

    k.loops([outer, depth, inner], point)


def _fill(k: _Kernel) -> None:
    (out,), (value,) = k.outs, k.ins
    n = _product(k.body, k.dims)
    v = k.load(k.body, value, 0)
    k.loops([n], lambda block, ivs: k.store(block, v, out, ivs[0]))


def _reshape(k: _Kernel) -> None:
    (out,), (x,) = k.outs, k.ins
    k.loops([k.op.operands[0].type.size], lambda block, ivs: k.store(block, k.load(block, x, ivs[0]), out, ivs[0]))


def _tile(k: _Kernel) -> None:
    (out,), (x,) = k.outs, k.ins
    shape = k.op.operands[0].type.shape

    def point(block: Block, ivs: list[Value]) -> None:
        src = [_arith(block, "mod", i, s) for i, s in zip(ivs, shape)]
        k.store(block, k.load(block, x, _flat_at(block, list(shape), src)), out, _flat_at(block, k.dims, ivs))

    if prod(shape):
        k.loops(k.dims, point)


def _map(k: _Kernel) -> None:
    (out,), operands = k.outs, k.op.operands[:-1]
    attrs = dict(k.op.attributes)
    name = attrs.pop("op")
    once = {j: k.load(k.body, b, 0) for j, (b, o) in enumerate(zip(k.ins, operands))
            if o.type.is_static and o.type.size == 1}

    def point(block: Block, ivs: list[Value]) -> None:
        (i,) = ivs
        values = [once[j] if j in once else k.load(block, b, i if not o.type.is_static else
                                                   _arith(block, "mod", i, o.type.size))
                  for j, (b, o) in enumerate(zip(k.ins, operands))]
        k.store(block, _scalar(block, name, values, out.type.dtype, **attrs), out, i)

    k.loops([_product(k.body, k.shape(k.op.result.type.shape))], point)


def _reduce(k: _Kernel) -> None:
    (out,), (x,) = k.outs, k.ins
    attrs = dict(k.op.attributes)
    name = attrs.pop("op")
    t = out.type.dtype
    sizes = k.shape(k.op.operands[0].type.shape)
    axes = set(reduction_axes(attrs, len(sizes)))
    kept = [n for j, n in enumerate(sizes) if j not in axes]
    n_out = _product(k.body, kept)
    start = scalar_constant(k.body, identity_element(name, t.np_dtype), t)
    k.loops([n_out], lambda block, ivs: k.store(block, start, out, ivs[0]))

    def fold(block: Block, ivs: list[Value]) -> None:
        at = _flat_at(block, kept, [i for j, i in enumerate(ivs) if j not in axes])
        acc = k.load(block, out, at)
        value = k.load(block, x, _flat_at(block, sizes, ivs))
        k.store(block, block.add(FOLD, [acc, value], [t], {"op": COMBINE[name]}).result, out, at)

    k.loops(sizes, fold)
    if name == "lf.reduce_mean":
        count = _product(k.body, [n for j, n in enumerate(sizes) if j in axes])
        wide = t if t.is_float else I64
        if not t.is_float:  # an integer mean over no elements stays 0
            count = _arith(k.body, "max", count, 1)
        count = _index(k.body, count) if isinstance(count, int) else count
        divisor = _cast(k.body, k.body.add(INDEX_CAST, [count], [I64], {"type": I64}).result, wide)

        def divide(block: Block, ivs: list[Value]) -> None:
            mean = _scalar(block, "lf.div", [_cast(block, k.load(block, out, ivs[0]), wide), divisor], wide)
            k.store(block, _cast(block, mean, t), out, ivs[0])

        k.loops([n_out], divide)


_LOWERINGS: dict[str, Callable[[_Kernel], None]] = {
    "lf.run_range": _range, "lf.run_one_hot": _one_hot, "lf.run_fill": _fill, "lf.run_reshape": _reshape,
    "lf.run_tile": _tile, "lf.run_map": _map, "lf.run_reduce": _reduce,
}
#: the ops lowered here (their results may have run-time dims)
RUN_OPS = frozenset(_LOWERINGS)


def run_kernel(op: Operation) -> Operation:
    """The "loop.kernel" of a run-time-dims op (the module docstring's nests)."""
    k = _Kernel(op)
    _LOWERINGS[op.name](k)
    return k.done()
