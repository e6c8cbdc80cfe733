"""Builders of loop-level IR shared by the lowerings (`loop_lowering.py` and the kernel
families beside it): a kernel's shell, views, counted loops, scalar constants, the
elementwise nest (`loop_lowering.py` describes it; a matmul fusion's epilogue is one too)."""
from __future__ import annotations

from lowerflow.ir.buffers import OFFSET_ATTR
from lowerflow.ir.core import Block, Operation, Value
from lowerflow.ir.ops.loop import CONSTANT, FOR, KERNEL, LOAD, SCALAR, STORE, VIEW_OP, kernel_buffer
from lowerflow.ir.strides import collapse_dims
from lowerflow.ir.types import INDEX, ElemType, memref


def empty_kernel(op: Operation) -> tuple[Operation, list[Value], list[Value]]:
    """An empty "loop.kernel" for `op` with its operands, result types and buffer plan, (it,
    its result buffers, its operand buffers)."""
    attrs = {k: v for k, v in op.attributes.items() if k == OFFSET_ATTR}
    kernel = Operation(KERNEL, op.operands, [r.type for r in op.results], attrs, [Block(
        [kernel_buffer(v.type) for v in [*op.results, *op.operands]])], op.location)
    args = kernel.regions[0].args
    return kernel, args[:len(op.results)], args[len(op.results):]


def view(body: Block, buf: Value, dims: list[int], strides: list[int], offset: int = 0) -> Value:
    """`buf` seen with `dims` and element `strides` from element `offset` (`buf` itself when
    that is its type)."""
    t = memref(dims, buf.type.dtype, strides, offset)
    if t == buf.type:
        return buf
    attrs = {"shape": list(dims), "strides": list(strides), **({"offset": offset} if offset else {})}
    return body.add(VIEW_OP, [buf], [t], attrs).result


def c_strides(shape: list[int]) -> list[int]:
    """Element strides of a C-contiguous buffer of `shape`."""
    strides, step = [], 1
    for n in reversed(shape):
        strides.insert(0, step)
        step *= n
    return strides


def counted(block: Block, lower: int, upper: int | Value, carried: list[Value] = (), **hints) -> Operation:
    """A "loop.for" over [lower, upper) appended to `block` carrying `carried` (`upper` an
    index value: a run-time bound); its body is empty (the caller fills it and yields)."""
    types = [v.type for v in carried]
    bound = {"upper": upper} if isinstance(upper, int) else {}
    operands = list(carried) if bound else [upper, *carried]
    return block.add(FOR, operands, types, {"lower": lower, **bound, "step": 1, **hints},
                     regions=[Block([INDEX, *types])])


def plain_loops(block: Block, dims: list[int], body) -> None:
    """`body(block, ivs)` inside plain loops over `dims` (no hints, nothing carried)."""
    ivs = []
    for n in dims:
        block = counted(block, 0, n).regions[0]
        ivs.append(block.args[0])
    body(block, ivs)
    while ivs:
        block.add("lf.yield")
        block, ivs = block.parent.parent, ivs[:-1]


def scalar_constant(block: Block, value, t: ElemType) -> Value:
    """A "loop.constant" of `value` as a Python number of `t`'s kind."""
    value = bool(value) if t.is_bool else float(value) if t.is_float else int(value)
    return block.add(CONSTANT, [], [t], {"value": value, "type": t}).result


def scalar_of(block: Block, op: Operation, operands: list[Value]) -> Value:
    """Elementwise tensor op `op` applied to the scalars `operands`: a "loop.scalar"."""
    attrs = {k: v for k, v in op.attributes.items() if k != OFFSET_ATTR}
    return block.add(SCALAR, operands, [op.result.type.dtype], {"op": op.name, **attrs}).result


def elementwise_nest(body: Block, iter_shape: tuple, ins: list[Value], outs: list[Value], compute,
                     parallel: bool = True) -> None:
    """Views of every buffer over the collapsed dims, the loops (the outermost `parallel`
    unless told not), loads, `compute(block, loaded)`, stores."""
    buffers = [*ins, *outs]
    dims, strides = collapse_dims(iter_shape, [b.type.shape for b in buffers])
    views = [view(body, buf, dims, st) for buf, st in zip(buffers, strides)]
    block, ivs = body, []
    for k, n in enumerate(dims):
        hints = {"parallel": True} if k == 0 and parallel else {}
        if k == len(dims) - 1:
            hints["vector"] = True
        block = counted(block, 0, n, **hints).regions[0]
        ivs.append(block.args[0])
    loaded = [block.add(LOAD, [v, *ivs], [v.type.dtype]).result for v in views[:len(ins)]]
    for value, out in zip(compute(block, loaded), views[len(ins):]):
        block.add(STORE, [value, out, *ivs])
    while block is not body:
        block.add("lf.yield")
        block = block.parent.parent


def compute_scalars(block: Block, body_ops: list[Operation], params: list[Value], yielded: list[Value],
                    loaded: list[Value]) -> list[Value]:
    """Tensor ops `body_ops` on one element's scalars (`params` bound to `loaded`), in
    order, as "loop.scalar"s appended to `block`; the values of `yielded`."""
    env = dict(zip(params, loaded))
    for o in body_ops:
        env[o.result] = scalar_of(block, o, [env[v] for v in o.operands])
    return [env[v] for v in yielded]
