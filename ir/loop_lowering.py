"""Elementwise tensor ops and "lf.fusion" regions as loop nests over buffers (cf. MLIR Toy's
`LowerToAffineLoops.cpp`, XLA's elemental IR emitter, tinygrad's lowering to ranges, loads
and stores). One algorithm serves the `lower-to-loops` pass (which prints the level) and the
backend (which lowers what reaches it still at the tensor level, so a step that comes from a
compile cache never builds, verifies or prints loop IR), as `buffers.py` serves both for
buffer plans.

`lower_op(op)` builds the "loop.kernel" of `op`, with the same operands, result types and
recorded buffer plan (`lf.offset`), and new result values; `op` is left as it is. The loop
nest: one iteration space (the broadcast of every shape in the op), size-1 dims dropped and
dims contiguous for every buffer merged (`strides.collapse_dims`), each buffer read or written
through a "loop.view" with its strides (0 where it broadcasts), every operand loaded once per
point, the body's ops as "loop.scalar"s in registers, every result stored. The outermost loop
is `parallel`, the innermost `vector`. A zero-size iteration space gives an empty kernel.
"""
from __future__ import annotations

from math import prod

from lowerflow.ir.buffers import OFFSET_ATTR
from lowerflow.ir.core import Block, Operation, Value
from lowerflow.ir.opdef import ELEMENTWISE, OPS, broadcast_shapes
from lowerflow.ir.ops.loop import FOR, KERNEL, LOAD, SCALAR, STORE, VIEW_OP
from lowerflow.ir.ops.structure import REGION
from lowerflow.ir.strides import collapse_dims
from lowerflow.ir.types import INDEX, memref

FUSION = "lf.fusion"


def lowerable(op: Operation) -> bool:
    """Whether this pass lowers `op`: a fusion, or a lone elementwise op, of static shapes."""
    opdef = OPS.get(op.name)  # an unknown op is not lowered here: the backend names it
    kind = op.name == FUSION or (opdef is not None and opdef.has(ELEMENTWISE) and not opdef.has(REGION))
    return kind and all(v.type.is_static for v in [*op.operands, *op.results])


def lower_op(op: Operation) -> Operation:
    """The "loop.kernel" computing `op` (new result values of the same types)."""
    if op.name == FUSION:
        (block,) = op.regions
        body_ops, params, yielded = block.ops[:-1], block.args, block.terminator.operands
    else:
        body_ops, params, yielded = [op], op.operands, op.results
    shapes = [v.type.shape for v in yielded] + [r.type.shape for o in body_ops for r in o.results]
    iter_shape = broadcast_shapes(*shapes) if shapes else ()
    attrs = {k: v for k, v in op.attributes.items() if k == OFFSET_ATTR}
    kernel = Operation(KERNEL, op.operands, [r.type for r in op.results], attrs, [Block(
        [memref(v.type.shape, v.type.dtype) for v in [*op.results, *op.operands]])], op.location)
    body = kernel.regions[0]
    outs, ins = body.args[:len(op.results)], body.args[len(op.results):]
    if prod(iter_shape):
        _nest(body, iter_shape, ins, outs, lambda b, loaded: _compute(b, body_ops, params, yielded, loaded))
    body.add("lf.yield")
    return kernel


def _nest(body: Block, iter_shape: tuple, ins: list[Value], outs: list[Value], compute) -> None:
    """Views of every buffer over the collapsed dims, the loops, loads, `compute`, stores."""
    buffers = [*ins, *outs]
    dims, strides = collapse_dims(iter_shape, [b.type.shape for b in buffers])
    views = [_view(body, buf, dims, st) for buf, st in zip(buffers, strides)]
    block, ivs = body, []
    for k, n in enumerate(dims):
        hints = {"parallel": True} if k == 0 else {}
        if k == len(dims) - 1:
            hints["vector"] = True
        loop = block.add(FOR, attributes={"lower": 0, "upper": n, "step": 1, **hints}, regions=[Block([INDEX])])
        block = loop.regions[0]
        ivs.append(block.args[0])
    loaded = [block.add(LOAD, [v, *ivs], [v.type.dtype]).result for v in views[:len(ins)]]
    for value, view in zip(compute(block, loaded), views[len(ins):]):
        block.add(STORE, [value, view, *ivs])
    while block is not body:
        block.add("lf.yield")
        block = block.parent.parent


def _view(body: Block, buf: Value, dims: list[int], strides: list[int]) -> Value:
    """`buf` seen with the loop's dims and its strides (`buf` itself when that is its type)."""
    t = memref(dims, buf.type.dtype, strides)
    if t == buf.type:
        return buf
    return body.add(VIEW_OP, [buf], [t], {"shape": list(dims), "strides": list(strides)}).result


def _compute(block: Block, body_ops: list[Operation], params: list[Value], yielded: list[Value],
             loaded: list[Value]) -> list[Value]:
    """The body's ops on one element's scalars, in order; the yielded values."""
    env = dict(zip(params, loaded))
    for o in body_ops:
        attrs = {k: v for k, v in o.attributes.items() if k != OFFSET_ATTR}
        scalar = block.add(SCALAR, [env[v] for v in o.operands], [o.result.type.dtype], {"op": o.name, **attrs})
        env[o.result] = scalar.result
    return [env[v] for v in yielded]
