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

Reductions (Sum ... All) and "lf.reduce_fusion" regions (elementwise ops ending in one
reduction, XLA's kInput fusion) are the nest of the reduction kernels that emitted LLVM from
tensor ops before (cf. XLA's reduction emitter): loops over the kept dims, C order, size-1
dims dropped (none merged); for each output element an accumulator carried by loops over the
reduced dims (`loop.for` iter_args), folding every element in C order with "loop.fold"; then
the result (a mean divided by the count, float16 accumulated in float32 and cast back) is
stored. The element is loaded from the operand, or, in a fusion, computed in registers from
the fusion's operands (each loaded once per point, broadcast by stride 0), so the reduced
tensor never exists in memory. A float sum starts from -0.0 (so a sum of -0.0s stays -0.0);
a reduction over no elements stores its identity (`ir/ops/reduction.py`). The outer loops
carry no `parallel` hint: the reduction kernels run on one thread (a thread split of
reductions is a choice of its own, to be measured). The innermost fold loop is `vector` when
it is unit-stride; the float sum's reassociation (`loop.fold`'s liberty) is what lets O3
vectorise it.

When the innermost dim (size-1 dims aside) is kept and `MIN_ROW` wide or more, that nest would walk each output
element's elements with a stride (a column sum: every bias gradient). Then the reduction
folds row by row into the output buffer instead (cf. XLA's column reduction, numpy's
add.reduce over axis 0): the buffer set to the start, loops over every dim in the input's
C order with the kept innermost one `vector`, each element folded into its output element
(load, fold, store), then a mean's division. Each output element still folds its elements
one at a time in C order of the reduced dims, so the result is the strided nest's, bit for
bit; the vectoriser works across the row. It needs the accumulator to be the result's
dtype: float16 (summed in float32) and integer means (in int64) keep the first nest.
"""
from __future__ import annotations

from math import prod

from lowerflow.ir.core import Block, Operation, Value
from lowerflow.ir.loop_build import c_strides, compute_scalars, elementwise_nest, empty_kernel, plain_loops, view
from lowerflow.ir.loop_fold import Fold, accumulator
from lowerflow.ir.loop_lowering_arg import ARG_OPS, arg_kernel
from lowerflow.ir.loop_lowering_array import ARRAY_OPS, array_kernel
from lowerflow.ir.loop_lowering_gemm import GEMM_OPS, gemm_kernel
from lowerflow.ir.loop_lowering_pool import POOL_OPS, pool_kernel
from lowerflow.ir.loop_lowering_rows import ROW_OPS, row_kernel
from lowerflow.ir.loop_lowering_random import RANDOM_OPS, random_kernel
from lowerflow.ir.loop_lowering_run import RUN_OPS, run_kernel
from lowerflow.ir.loop_lowering_shape import SHAPE_OPS, shape_kernel
from lowerflow.ir.loop_lowering_xent import XENT_OPS, xent_kernel
from lowerflow.ir.opdef import ELEMENTWISE, OPS, broadcast_shapes
from lowerflow.ir.ops.fusion import fusion_parts
from lowerflow.ir.ops.loop import LOAD, STORE
from lowerflow.ir.ops.reduction import COMBINE, reduction_axes
from lowerflow.ir.ops.structure import REGION
from lowerflow.ir.strides import broadcast_strides

FUSION, REDUCE_FUSION = "lf.fusion", "lf.reduce_fusion"
#: tensor ops with a loop nest of their own beside the elementwise and reduction ones
KERNELS = {**{name: arg_kernel for name in ARG_OPS}, **{name: pool_kernel for name in POOL_OPS},
           **{name: row_kernel for name in ROW_OPS}, **{name: xent_kernel for name in XENT_OPS},
           **{name: random_kernel for name in RANDOM_OPS},
           **{name: array_kernel for name in ARRAY_OPS}, **{name: shape_kernel for name in SHAPE_OPS},
           **{name: gemm_kernel for name in GEMM_OPS}, **{name: run_kernel for name in RUN_OPS}}


def lowerable(op: Operation) -> bool:
    """Whether this pass lowers `op`: a fusion, a lone elementwise op or reduction, a reduce
    fusion or an op of `KERNELS`, of static shapes (of run-time dims for the `lf.run_*` ops)."""
    opdef = OPS.get(op.name)  # an unknown op is not lowered here: the backend names it
    kind = op.name in (FUSION, REDUCE_FUSION) or op.name in COMBINE or op.name in KERNELS or \
        (opdef is not None and opdef.has(ELEMENTWISE) and not opdef.has(REGION))
    return kind and (op.name in RUN_OPS or all(v.type.is_static for v in [*op.operands, *op.results]))


def is_reduction(op: Operation) -> bool:
    """Whether `op` lowers to a reduction's nest (a reduction or a reduce fusion)."""
    return op.name == REDUCE_FUSION or op.name in COMBINE


def lower_op(op: Operation) -> Operation:
    """The "loop.kernel" computing `op` (new result values of the same types)."""
    if op.name in KERNELS:
        return KERNELS[op.name](op)
    if is_reduction(op):
        return _reduction_kernel(op)
    if op.name == FUSION:
        (block,) = op.regions
        body_ops, params, yielded = block.ops[:-1], block.args, block.terminator.operands
    else:
        body_ops, params, yielded = [op], op.operands, op.results
    shapes = [v.type.shape for v in yielded] + [r.type.shape for o in body_ops for r in o.results]
    iter_shape = broadcast_shapes(*shapes) if shapes else ()
    kernel, outs, ins = empty_kernel(op)
    body = kernel.regions[0]
    if prod(iter_shape):
        elementwise_nest(body, iter_shape, ins, outs, lambda b, loaded: compute_scalars(b, body_ops, params, yielded, loaded))
    body.add("lf.yield")
    return kernel


def _reduction_kernel(op: Operation) -> Operation:
    """The "loop.kernel" of a reduction or reduce fusion (the nest the module docstring describes)."""
    if op.name == REDUCE_FUSION:
        reduction, producers = fusion_parts(op)  # ValueError naming a malformed body
        params = op.regions[0].args
    else:
        producers, reduction, params = [], op, op.operands
    kernel, outs, ins = empty_kernel(op)
    body = kernel.regions[0]
    x = reduction.operands[0]
    shape = x.type.shape
    axes = reduction_axes(reduction.attributes, len(shape))
    kept = [d for d in range(len(shape)) if d not in axes]
    if outs and prod(shape[d] for d in kept):
        outer, inner = [d for d in kept if shape[d] != 1], [d for d in axes if shape[d] != 1]
        count = prod(shape[d] for d in axes)
        rows = _by_rows(reduction, shape, count, outer, inner)
        order = sorted(outer + inner) if rows else outer + inner
        views = [view(body, buf, [shape[d] for d in order], [st[d] for d in order])
                 for buf, st in ((b, broadcast_strides(b.type.shape, shape)) for b in ins)]
        kept_strides = dict(zip(kept, c_strides([shape[d] for d in kept])))
        out = view(body, outs[0], [shape[d] for d in outer], [kept_strides[d] for d in outer])

        def element(block: Block, ivs: list[Value]) -> Value:
            loaded = [block.add(LOAD, [v, *ivs], [v.type.dtype]).result for v in views]
            return compute_scalars(block, producers, params, [x], loaded)[0]

        unit = bool(inner) and all(broadcast_strides(b.type.shape, shape)[inner[-1]] in (0, 1) for b in ins)
        fold = Fold(reduction, count, body, unit)  # its constants come first
        if rows:
            fold.rows(body, out, [shape[d] for d in order], [order.index(d) for d in outer], element)
        else:
            plain_loops(body, [shape[d] for d in outer], lambda block, ivs: block.add(
                STORE, [fold.result(block, ivs, [shape[d] for d in inner], element), out, *ivs]))
    body.add("lf.yield")
    return kernel


#: the narrowest innermost kept dim folded row by row: below it the vector loop is mostly
#: its scalar remainder, a chain through memory slower than the strided nest (measured:
#: [16000, 12] 0.7x, [64, 6] 0.8x, [25000, 8] 2.9x, [20000, 16] 12x)
MIN_ROW = 16


def _by_rows(op: Operation, shape: tuple, count: int, outer: list[int], inner: list[int]) -> bool:
    """Whether the reduction folds row by row into its output buffer: the innermost dim
    (size-1 dims aside) is kept, at least `MIN_ROW` wide, at least one dim is reduced, over
    some elements, in an accumulator of the result's own dtype (not float16's float32, not a
    narrow integer mean's int64: those have no buffer to accumulate in, and keep the
    per-element nest)."""
    dtype = op.operands[0].type.dtype
    return bool(inner) and bool(outer) and outer[-1] > inner[-1] and shape[outer[-1]] >= MIN_ROW \
        and count > 0 and accumulator(op) == dtype


