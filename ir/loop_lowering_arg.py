"""ArgMax/ArgMin as loop nests (the nest their direct kernel emitted before): plain loops over
the kept dims (size-1 dims dropped), then, for each output element, a loop over the reduced
axis carrying the best value and its index. A float starts from -inf (argmax) or +inf
(argmin) at index 0, an integer from the first element; an element moves them only when it
compares strictly better ("lf.gt"/"lf.lt", ordered: NaN never wins), so the first index of
the extreme is kept, as TensorFlow's reducer does. The index is stored as the result's
integer type ("loop.index_cast").
"""
from __future__ import annotations

from lowerflow.ir.core import Block, Operation, Value
from lowerflow.ir.loop_build import c_strides, counted, empty_kernel, plain_loops, scalar_constant, view
from lowerflow.ir.ops.loop import CONST_INDEX, INDEX_CAST, INDEX_SELECT, LOAD, SCALAR, STORE
from lowerflow.ir.types import BOOL, INDEX

ARG_OPS = {"lf.argmax": "lf.gt", "lf.argmin": "lf.lt"}


def arg_kernel(op: Operation) -> Operation:
    """The "loop.kernel" of an lf.argmax or lf.argmin."""
    kernel, (out,), (x,) = empty_kernel(op)
    body = kernel.regions[0]
    shape, dtype = list(x.type.shape), x.type.dtype
    axis = op.attributes["axis"] % len(shape)
    kept = [d for d in range(len(shape)) if d != axis and shape[d] != 1]
    strides = c_strides(shape)
    if 0 not in shape:
        src = view(body, x, [shape[d] for d in kept] + [shape[axis]], [strides[d] for d in kept] + [strides[axis]])
        out_strides = dict(zip([d for d in range(len(shape)) if d != axis], c_strides(list(out.type.shape))))
        dst = view(body, out, [shape[d] for d in kept], [out_strides[d] for d in kept])
        start = scalar_constant(body, float("-inf" if op.name == "lf.argmax" else "inf"), dtype) \
            if dtype.is_float else None
        zero = body.add(CONST_INDEX, [], [INDEX], {"value": 0}).result
        plain_loops(body, [shape[d] for d in kept], lambda block, ivs: block.add(
            STORE, [_best_index(block, op, src, ivs, start, zero), dst, *ivs]))
    body.add("lf.yield")
    return kernel


def _best_index(block: Block, op: Operation, src: Value, ivs: list[Value], start: Value | None,
                zero: Value) -> Value:
    """The index of the first extreme along the last dim of `src` at `ivs`, as the result type."""
    dtype = src.type.dtype
    first = start if start is not None else block.add(LOAD, [src, *ivs, zero], [dtype]).result
    loop = counted(block, 0, src.type.shape[-1], [first, zero])
    inner = loop.regions[0]
    k, best, best_k = inner.args
    v = inner.add(LOAD, [src, *ivs, k], [dtype]).result
    wins = inner.add(SCALAR, [v, best], [BOOL], {"op": ARG_OPS[op.name]}).result
    inner.add("lf.yield", [inner.add(SCALAR, [wins, v, best], [dtype], {"op": "lf.select"}).result,
                           inner.add(INDEX_SELECT, [wins, k, best_k], [INDEX]).result])
    index = loop.results[1]
    return block.add(INDEX_CAST, [index], [op.result.type.dtype], {"type": op.result.type.dtype}).result
