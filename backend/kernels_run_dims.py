"""Kernels of the ops whose sizes have no static bound (`lf.run_range`, `lf.run_one_hot`,
`lf.run_fill`, `lf.run_reshape`, `lf.run_tile`; `ir/ops/dynamic.py`).

Each takes its run-time dims as its last operand, a static i64 vector the step's shape
prelude computed and the runtime allocated the result from (`runtime/run_dims.py`), and
loads its loop bounds from it: the code is the same for every value, so a signature
compiles once. The result is written through its output slot, never the arena (its size
is unknown when the step is compiled).
"""
from __future__ import annotations

from llvmlite import ir

from lowerflow.backend.kernels import KERNEL_LOWERINGS, VIEW_LOWERINGS, KernelCtx, scalar_lowering
from lowerflow.backend.scalar_ops import ScalarCtx
from lowerflow.ir.ops.reduction import COMBINE, identity_element, reduction_axes
from lowerflow.backend.lltypes import I1, I64, PTR, declare, load_elem, reg_type, store_elem
from lowerflow.backend.loops import counted_loop
from lowerflow.ir import Operation
from lowerflow.ir.types import I64 as I64_ELEM

_ZERO = ir.Constant(I64, 0)


def _dims(kc: KernelCtx) -> list[ir.Value]:
    """The run-time dims (the last operand), loaded once."""
    dims = kc.operands[-1]
    return [load_elem(kc.b, dims.ptr, ir.Constant(I64, j), I64_ELEM) for j in range(dims.type.shape[0])]


def _total(b: ir.IRBuilder, dims: list[ir.Value]) -> ir.Value:
    n = ir.Constant(I64, 1)
    for d in dims:
        n = b.mul(n, d, flags=("nuw", "nsw"))
    return n


def _constant(dtype, value) -> ir.Constant:
    t = reg_type(dtype)
    return ir.Constant(t, float(value) if dtype.is_float else int(value))


def lower_run_range(kc: KernelCtx, op: Operation) -> None:
    """start, start + delta, ...: a running value in the dtype (TF1's kernel), n of them."""
    (out,), (start, delta, _) = kc.results, kc.operands
    b, dtype = kc.b, out.type.dtype
    (n,) = _dims(kc)
    first, step = load_elem(b, start.ptr, _ZERO, dtype), load_elem(b, delta.ptr, _ZERO, dtype)
    pre = b.block
    loop, done = kc.fn.append_basic_block("range.loop"), kc.fn.append_basic_block("range.done")
    b.cbranch(b.icmp_signed("<", _ZERO, n), loop, done)
    b.position_at_end(loop)
    i, value = b.phi(I64, "i"), b.phi(reg_type(dtype), "value")
    store_elem(b, value, out.ptr, i, dtype)
    nxt = b.add(i, ir.Constant(I64, 1), flags=("nuw", "nsw"))
    following = b.fadd(value, step) if dtype.is_float else b.add(value, step)
    i.add_incoming(_ZERO, pre)
    i.add_incoming(nxt, loop)
    value.add_incoming(first, pre)
    value.add_incoming(following, loop)
    b.cbranch(b.icmp_signed("<", nxt, n), loop, done)
    b.position_at_end(done)


def lower_run_one_hot(kc: KernelCtx, op: Operation) -> None:
    """out[a, d, c] = on if indices[a, c] == d else off, d below the run-time depth."""
    (out,), (indices, _) = kc.results, kc.operands
    b, dtype = kc.b, out.type.dtype
    (depth,) = _dims(kc)
    shape = indices.type.shape
    axis = len(shape) if op.attributes["axis"] == -1 else op.attributes["axis"]
    outer, inner = 1, 1
    for d in shape[:axis]:
        outer *= d
    for d in shape[axis:]:
        inner *= d
    on, off = _constant(dtype, op.attributes["on_value"]), _constant(dtype, op.attributes["off_value"])
    signed = indices.type.dtype.is_signed

    def per_outer(a: ir.Value) -> None:
        def per_depth(d: ir.Value) -> None:
            row = b.mul(b.add(b.mul(a, depth, flags=("nsw",)), d, flags=("nsw",)), ir.Constant(I64, inner),
                        flags=("nsw",))

            def per_inner(c: ir.Value) -> None:
                at = b.add(b.mul(a, ir.Constant(I64, inner), flags=("nsw",)), c, flags=("nsw",))
                index = load_elem(b, indices.ptr, at, indices.type.dtype)
                wide = (b.sext if signed else b.zext)(index, I64) if index.type != I64 else index
                store_elem(b, b.select(b.icmp_signed("==", wide, d), on, off), out.ptr,
                           b.add(row, c, flags=("nsw",)), dtype)

            counted_loop(b, _ZERO, ir.Constant(I64, inner), per_inner, name="c")

        counted_loop(b, _ZERO, depth, per_depth, name="d")

    counted_loop(b, _ZERO, ir.Constant(I64, outer), per_outer, name="a")


def lower_run_fill(kc: KernelCtx, op: Operation) -> None:
    (out,), (value, _) = kc.results, kc.operands
    b, dtype = kc.b, out.type.dtype
    v = load_elem(b, value.ptr, _ZERO, dtype)
    counted_loop(b, _ZERO, _total(b, _dims(kc)), lambda i: store_elem(b, v, out.ptr, i, dtype))


def lower_run_reshape(kc: KernelCtx, op: Operation) -> None:
    """The operand's bytes (the prelude checked that the dims hold as many elements)."""
    (out,), (x, _) = kc.results, kc.operands
    if x.type.nbytes:
        memcpy = declare(kc.module, "llvm.memcpy.p0.p0.i64", ir.VoidType(), [PTR, PTR, I64, I1])
        kc.b.call(memcpy, [out.ptr, x.ptr, ir.Constant(I64, x.type.nbytes), ir.Constant(I1, 0)])


def lower_run_tile(kc: KernelCtx, op: Operation) -> None:
    """out[i_0, ..., i_k] = x[i_0 mod s_0, ...] over the run-time dims of the result."""
    (out,), (x, _) = kc.results, kc.operands
    b, dtype, shape = kc.b, out.type.dtype, x.type.shape
    dims = _dims(kc)

    def nest(j: int, at_out: ir.Value, at_in: ir.Value) -> None:
        if j == len(shape):
            store_elem(b, load_elem(b, x.ptr, at_in, dtype), out.ptr, at_out, dtype)
            return

        def body(i: ir.Value) -> None:
            src = b.urem(i, ir.Constant(I64, shape[j]))
            nest(j + 1, b.add(b.mul(at_out, dims[j], flags=("nsw",)), i, flags=("nsw",)),
                 b.add(b.mul(at_in, ir.Constant(I64, shape[j]), flags=("nsw",)), src, flags=("nsw",)))

        counted_loop(b, _ZERO, dims[j], body, name=f"t{j}")

    if x.type.size:
        nest(0, _ZERO, _ZERO)


def _scalar(kc: KernelCtx, name: str, attrs: dict, operands: list, out_dtype, values: list[ir.Value],
            b: ir.IRBuilder) -> ir.Value:
    ctx = ScalarCtx(kc.module, [o.type.dtype for o in operands], out_dtype, attrs, kc.error_if)
    return scalar_lowering(name)(b, values, ctx)


def lower_run_map(kc: KernelCtx, op: Operation) -> None:
    """An elementwise op over values of the run-time dims (one flat loop) and scalars."""
    (out,), operands = kc.results, kc.operands[:-1]
    b = kc.b
    name = op.attributes["op"]
    inner = {k: v for k, v in op.attributes.items() if k != "op"}
    scalars = {j: load_elem(b, o.ptr, _ZERO, o.type.dtype) for j, o in enumerate(operands)
               if o.type.is_static and o.type.size == 1}

    def at(i: ir.Value, o) -> ir.Value:
        """A static operand is the trailing dims of the result (the prelude checked them)."""
        return b.urem(i, ir.Constant(I64, o.type.size)) if o.type.is_static else i

    def body(i: ir.Value) -> None:
        values = [scalars[j] if j in scalars else load_elem(b, o.ptr, at(i, o), o.type.dtype)
                  for j, o in enumerate(operands)]
        store_elem(b, _scalar(kc, name, inner, operands, out.type.dtype, values, b), out.ptr, i, out.type.dtype)

    counted_loop(b, _ZERO, _total(b, _full_shape(kc, out.type.shape)), body)


def _full_shape(kc: KernelCtx, shape: tuple) -> list[ir.Value]:
    """`shape` with its `?` dims taken, in order, from the run-time dims."""
    given = iter(_dims(kc))
    return [next(given) if d is None else ir.Constant(I64, d) for d in shape]


def lower_run_reduce(kc: KernelCtx, op: Operation) -> None:
    """A reduction of every run-time dim, or of none (and maybe of static ones): the output
    set to the identity, then every element in C order folded into its output element; a
    mean divided after."""
    (out,), (x, _) = kc.results, kc.operands
    b, dtype = kc.b, out.type.dtype
    name = op.attributes["op"]
    axes = set(reduction_axes(op.attributes, x.type.rank))
    dims = _full_shape(kc, x.type.shape)
    start = _constant(dtype, identity_element(name, dtype.np_dtype)) if not dtype.is_bool else \
        ir.Constant(I1, int(identity_element(name, dtype.np_dtype)))
    kept = [j for j in range(x.type.rank) if j not in axes]
    kept_sizes = [dims[j] for j in kept]  # run-time ones too: a reduction may keep every run-time dim
    n_out = _total(b, kept_sizes)
    counted_loop(b, _ZERO, n_out, lambda i: store_elem(b, start, out.ptr, i, dtype))
    fold = COMBINE[name]

    def nest(j: int, at_in: ir.Value, at_out: ir.Value) -> None:
        if j == x.type.rank:
            acc = load_elem(b, out.ptr, at_out, dtype)
            v = load_elem(b, x.ptr, at_in, dtype)
            store_elem(b, _scalar(kc, fold, {}, [x, x], dtype, [acc, v], b), out.ptr, at_out, dtype)
            return

        def body(i: ir.Value) -> None:
            nxt_out = at_out
            if j in kept:
                nxt_out = b.add(b.mul(at_out, kept_sizes[kept.index(j)], flags=("nsw",)), i, flags=("nsw",))
            nest(j + 1, b.add(b.mul(at_in, dims[j], flags=("nsw",)), i, flags=("nsw",)), nxt_out)

        counted_loop(b, _ZERO, dims[j], body, name=f"r{j}")

    nest(0, _ZERO, _ZERO)
    if name == "lf.reduce_mean":
        count = ir.Constant(I64, 1)
        for j in axes:
            count = b.mul(count, dims[j], flags=("nsw",))

        def divide(i: ir.Value) -> None:
            v = load_elem(b, out.ptr, i, dtype)
            if dtype.is_float:
                q = b.fdiv(v, b.sitofp(count, v.type))
            else:
                wide = b.sext(v, I64) if v.type != I64 else v
                safe = b.select(b.icmp_signed("==", count, _ZERO), ir.Constant(I64, 1), count)
                q = b.trunc(b.sdiv(wide, safe), v.type) if v.type != I64 else b.sdiv(wide, safe)
            store_elem(b, q, out.ptr, i, dtype)

        counted_loop(b, _ZERO, n_out, divide, name="mean")


VIEW_LOWERINGS["lf.run_static"] = lambda module, b, op, ptrs: [ptrs[0]]  # the buffer, checked by the prelude
KERNEL_LOWERINGS.update({"lf.run_map": lower_run_map, "lf.run_reduce": lower_run_reduce,
                         "lf.run_range": lower_run_range, "lf.run_one_hot": lower_run_one_hot,
                         "lf.run_fill": lower_run_fill, "lf.run_reshape": lower_run_reshape,
                         "lf.run_tile": lower_run_tile})
