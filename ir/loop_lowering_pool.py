"""Pooling and its gradients as loop nests (cf. the direct loops of TF's CPU pooling kernels).

Every bound is static: the output positions of each spatial dim are grouped into spans
whose windows are clipped alike by the input's edges (`pool.Window.spans`: the interior is
one span, each border position its own), and each pair of spans (rows x cols) gets its own
nest, whose window loops run over exactly the input elements of the window. So no padding
is ever read, and a span's average divides by one constant count. Window loops of up to
`UNROLL` elements carry the `unroll` hint, so the channel loop around them is straight-line
code the vectoriser takes.

    for n (parallel), per span pair:
      for oh, for ow, for c (vector):
        forward:        max: from the lowest finite value, a strictly greater element
                        moves it (lf.gt, ordered, and lf.select); avg: lf.add folded from
                        -0.0 in the accumulator dtype, divided by the count; stored
        MaxPoolGrad:    the window's maximum found the same way, then a second pass over
                        the window adds g to the first element equal to it (the first
                        element when nothing beat the start: a carried "found" flag), 0
                        to the others; no scatter, so the channel loop vectorises
    AvgPoolGrad:  for oh, for ow, for the window's rows and cols, for c (vector):
                        dx += g * (1 / count)

The gradients zero their result first (per batch element, in the same parallel loop), then
add into it where windows overlap (batch elements never share memory); windows that do not
overlap store their part, and windows that tile the input (stride = size, every position
covered, as in a CNN's 2x2 pooling by 2) leave nothing to zero.
"""
from __future__ import annotations

from lowerflow.ir.core import Block, Operation, Value
from lowerflow.ir.loop_build import counted, empty_kernel, scalar_constant, view
from lowerflow.ir.ops.loop import CONST_INDEX, FOLD, INDEX_ARITH, LOAD, SCALAR, STORE
from lowerflow.ir.ops.pool import Window, lowest, windows
from lowerflow.ir.ops.reduction import accumulator_dtype
from lowerflow.ir.types import BOOL, INDEX, elem_type_of

POOL_OPS = ("lf.max_pool", "lf.avg_pool", "lf.max_pool_grad", "lf.avg_pool_grad")
#: windows of up to this many elements are unrolled (straight-line code in the channel loop,
#: which then vectorises); larger ones stay loops
UNROLL = 64


class _Builder:
    """Index arithmetic o * s + d, with the index constants it needs made once, first, in
    the kernel's body (the strides other than 1, the spans' first offsets other than 0)."""

    def __init__(self, top: Block, h: Window, w: Window):
        strides = {win.s for win in (h, w) if win.s != 1}
        offsets = {sp[2] for win in (h, w) for sp in win.spans() if sp[2] != 0}  # all negative
        needed = strides | offsets
        self.consts = {v: top.add(CONST_INDEX, [], [INDEX], {"value": v}).result for v in sorted(needed)}

    def at(self, block: Block, o: Value, s: int, d: int) -> Value:
        """o * s + d."""
        if s != 1:
            o = block.add(INDEX_ARITH, [o, self.consts[s]], [INDEX], {"op": "mul"}).result
        return o if d == 0 else block.add(INDEX_ARITH, [o, self.consts[d]], [INDEX], {"op": "add"}).result


def pool_kernel(op: Operation) -> Operation:
    """The "loop.kernel" of a pooling op or its gradient."""
    kernel, (out,), ins = empty_kernel(op)
    body = kernel.regions[0]
    shape = out.type.shape if op.name.endswith("_grad") else ins[0].type.shape
    h, w = windows(shape, op.attributes)
    if 0 not in shape and h.out and w.out:
        build = _Builder(body, h, w)
        batch = counted(body, 0, shape[0], parallel=True)
        block, n = batch.regions[0], batch.regions[0].args[0]
        if op.name.endswith("_grad") and not (_tiles(h) and _tiles(w)):
            _zero(block, out, n)
        emit = {"lf.max_pool": _forward, "lf.avg_pool": _forward, "lf.max_pool_grad": _max_grad,
                "lf.avg_pool_grad": _avg_grad}[op.name]
        for hs in h.spans():
            for ws in w.spans():
                emit(op, build, block, n, out, ins, (h, hs), (w, ws))
        block.add("lf.yield")
    body.add("lf.yield")
    return kernel


def _tiles(win: Window) -> bool:
    """Whether the windows of `win` cover every input position exactly once (no overlap, no
    gap): a gradient then stores each element once, with nothing to zero or add to."""
    return sum((o1 - o0) * (hi - lo) for o0, o1, lo, hi in win.spans()) == win.size and win.s >= win.k


def _accumulate(block: Block, dx: Value, part: Value, index: list[Value], overlap: bool) -> None:
    """dx[index] += part (dx[index] = part where windows do not overlap)."""
    if overlap:
        old = block.add(LOAD, [dx, *index], [part.type]).result
        part = block.add(SCALAR, [old, part], [part.type], {"op": "lf.add"}).result
    block.add(STORE, [part, dx, *index])


def _zero(block: Block, out: Value, n: Value) -> None:
    """out[n] = 0, one unit-stride loop over the batch element's elements."""
    size = out.type.shape[1] * out.type.shape[2] * out.type.shape[3]
    flat = view(block, out, [out.type.shape[0], size], [size, 1])
    zero = scalar_constant(block, 0, out.type.dtype)
    loop = counted(block, 0, size, vector=True)
    loop.regions[0].add(STORE, [zero, flat, n, loop.regions[0].args[0]])
    loop.regions[0].add("lf.yield")


def _positions(block: Block, build: _Builder, rows: tuple, cols: tuple, channels: int, inner):
    """Loops over a span pair's output positions (oh, ow) then the channels (`vector`) unless
    `inner` takes the channel loop itself: inner(block, oh, ow, base_h, base_w[, c])."""
    (hw, (h0, h1, hlo, _)), (ww, (w0, w1, wlo, _)) = rows, cols
    loops = [counted(block, h0, h1)]
    block = loops[0].regions[0]
    oh = block.args[0]
    base_h = build.at(block, oh, hw.s, hlo)
    loops.append(counted(block, w0, w1))
    block = loops[1].regions[0]
    ow = block.args[0]
    base_w = build.at(block, ow, ww.s, wlo)
    if channels:
        loop = counted(block, 0, channels, vector=True)
        inner(loop.regions[0], oh, ow, base_h, base_w, loop.regions[0].args[0])
        loop.regions[0].add("lf.yield")
    else:
        inner(block, oh, ow, base_h, base_w)
    for loop in reversed(loops):
        loop.regions[0].add("lf.yield")


def _window(block: Block, build: _Builder, rows: tuple, cols: tuple, carried: list[Value], step) -> list[Value]:
    """Fold `step(block, h, w, carried) -> carried` over the window at (base_h, base_w),
    rows then cols (C order); returns the final carried values."""
    (hspan, base_h), (wspan, base_w) = rows, cols
    hints = {"unroll": True} if _count(hspan, wspan) <= UNROLL else {}
    outer = counted(block, 0, hspan[3] - hspan[2], carried, **hints)
    ob = outer.regions[0]
    h = ob.add(INDEX_ARITH, [base_h, ob.args[0]], [INDEX], {"op": "add"}).result
    inner = counted(ob, 0, wspan[3] - wspan[2], list(ob.args[1:]), **hints)
    ib = inner.regions[0]
    w = ib.add(INDEX_ARITH, [base_w, ib.args[0]], [INDEX], {"op": "add"}).result
    ib.add("lf.yield", step(ib, h, w, list(ib.args[1:])))
    ob.add("lf.yield", list(inner.results))
    return list(outer.results)


def _better(block: Block, v: Value, best: Value) -> Value:
    """TF's maximum step: `v` if strictly greater (ordered: NaN never), else `best`."""
    wins = block.add(SCALAR, [v, best], [BOOL], {"op": "lf.gt"}).result
    return block.add(SCALAR, [wins, v, best], [v.type], {"op": "lf.select"}).result


def _count(hs: tuple, ws: tuple) -> int:
    return (hs[3] - hs[2]) * (ws[3] - ws[2])


def _forward(op: Operation, build: _Builder, block: Block, n: Value, out: Value, ins: list[Value],
             rows: tuple[Window, tuple], cols: tuple[Window, tuple]) -> None:
    (x,), dtype = ins, out.type.dtype
    average = op.name == "lf.avg_pool"
    acc = elem_type_of(accumulator_dtype(dtype.np_dtype)) if average else dtype
    start = scalar_constant(block, -0.0 if average else lowest(dtype.np_dtype), acc)
    count = scalar_constant(block, _count(rows[1], cols[1]), acc) if average else None

    def at(b: Block, oh: Value, ow: Value, base_h: Value, base_w: Value, c: Value) -> None:
        def step(wb: Block, h: Value, w: Value, carried: list[Value]) -> list[Value]:
            v = wb.add(LOAD, [x, n, h, w, c], [dtype]).result
            if not average:
                return [_better(wb, v, carried[0])]
            v = v if acc == dtype else wb.add(SCALAR, [v], [acc], {"op": "lf.cast", "to": acc}).result
            return [wb.add(FOLD, [carried[0], v], [acc], {"op": "lf.add"}).result]
        (value,) = _window(b, build, (rows[1], base_h), (cols[1], base_w), [start], step)
        if average:
            value = b.add(SCALAR, [value, count], [acc], {"op": "lf.div"}).result
            if acc != dtype:
                value = b.add(SCALAR, [value], [dtype], {"op": "lf.cast", "to": dtype}).result
        b.add(STORE, [value, out, n, oh, ow, c])

    _positions(block, build, rows, cols, out.type.shape[3], at)


def _max_grad(op: Operation, build: _Builder, block: Block, n: Value, dx: Value, ins: list[Value],
              rows: tuple[Window, tuple], cols: tuple[Window, tuple]) -> None:
    x, _, g = ins
    dtype, overlap = dx.type.dtype, rows[0].s < rows[0].k or cols[0].s < cols[0].k
    zero, no = scalar_constant(block, 0, dtype), scalar_constant(block, False, BOOL)
    start = scalar_constant(block, lowest(dtype.np_dtype), dtype)

    def scalar(b: Block, name: str, args: list[Value], t=BOOL) -> Value:
        return b.add(SCALAR, args, [t], {"op": name}).result

    def at(b: Block, oh: Value, ow: Value, base_h: Value, base_w: Value, c: Value) -> None:
        def better(wb: Block, h: Value, w: Value, carried: list[Value]) -> list[Value]:
            return [_better(wb, wb.add(LOAD, [x, n, h, w, c], [dtype]).result, carried[0])]
        window = ((rows[1], base_h), (cols[1], base_w))
        (best,) = _window(b, build, *window, [start], better)
        none = scalar(b, "lf.eq", [best, start])  # nothing beat the start: the first element wins
        grad = b.add(LOAD, [g, n, oh, ow, c], [dtype]).result

        def give(wb: Block, h: Value, w: Value, carried: list[Value]) -> list[Value]:
            v = wb.add(LOAD, [x, n, h, w, c], [dtype]).result
            hit = scalar(wb, "lf.or", [scalar(wb, "lf.eq", [v, best]), none])
            first_hit = scalar(wb, "lf.and", [hit, scalar(wb, "lf.not", [carried[0]])])
            part = scalar(wb, "lf.select", [first_hit, grad, zero], dtype)
            _accumulate(wb, dx, part, [n, h, w, c], overlap)
            return [scalar(wb, "lf.or", [carried[0], hit])]
        _window(b, build, *window, [no], give)

    _positions(block, build, rows, cols, dx.type.shape[3], at)


def _avg_grad(op: Operation, build: _Builder, block: Block, n: Value, dx: Value, ins: list[Value],
              rows: tuple[Window, tuple], cols: tuple[Window, tuple]) -> None:
    (_, g), dtype = ins, dx.type.dtype
    overlap = rows[0].s < rows[0].k or cols[0].s < cols[0].k
    scale = scalar_constant(block, 1.0 / _count(rows[1], cols[1]), dtype)

    def at(b: Block, oh: Value, ow: Value, base_h: Value, base_w: Value) -> None:
        def step(wb: Block, h: Value, w: Value, carried: list[Value]) -> list[Value]:
            loop = counted(wb, 0, dx.type.shape[3], vector=True)
            cb, c = loop.regions[0], loop.regions[0].args[0]
            part = cb.add(SCALAR, [cb.add(LOAD, [g, n, oh, ow, c], [dtype]).result, scale], [dtype],
                          {"op": "lf.mul"}).result
            _accumulate(cb, dx, part, [n, h, w, c], overlap)
            cb.add("lf.yield")
            return []
        _window(b, build, (rows[1], base_h), (cols[1], base_w), [], step)

    _positions(block, build, rows, cols, 0, at)
