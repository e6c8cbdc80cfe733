"""`sum-products`: a sum of matrix products of one shape becomes one product over their
concatenated contraction dimension, Σ_t A_t B_t = [A_1 ... A_n] [B_1; ...; B_n], and a sum of
column sums Σ_t reduce_sum(x_t, axes=[0]) one product ones[1, K] @ [x_1; ...; x_n] (a GEMM
reads the stacked rows in order, where a column sum strides across them).

Why: the gradient of a weight that n steps share (an unrolled RNN's kernel and bias) is such
a sum: n GEMMs with a contraction of one batch (K = 64), each writing its whole [M, N]
result, then an n-way add that reads them all back. One GEMM with K = n * batch packs its
operands once and keeps each C tile in registers over the whole contraction; the copies
into the concatenations cost less than one pass over the n results. (cf. XLA's
dot-merging and Grappler's AddN hoisting.)

A sum is a tree of "lf.add" ops of one float type, whose inner results have no other user;
its leaves that are products (or column sums) of the same signature, each used only by the
sum, are merged when there are at least two; the other leaves are added to the merged
values. The sum is reassociated, as a GEMM reassociates its own contraction; integer sums
are left alone. Unused leaves are left for `dce`. Runs on each region too (a loop body).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from lowerflow.ir.build import typed
from lowerflow.ir.core import Function, Operation, Value
from lowerflow.passes.manager import FunctionPass, register_pass

#: The fewest leaves of one signature worth merging.
MIN_LEAVES = 2


def _key(v: Value, uses: Counter) -> tuple | None:
    """What leaves must share to merge: the op, its attributes and operand types; None when
    `v` is no mergeable leaf."""
    op = v.op
    if op is None or uses[v] != 1:
        return None
    if op.name == "lf.matmul" and all(o.type.rank == 2 for o in op.operands):
        return ("lf.matmul", bool(op.attributes.get("transpose_a")), bool(op.attributes.get("transpose_b")),
                op.operands[0].type, op.operands[1].type)
    if op.name == "lf.reduce_sum" and list(op.attributes.get("axes", ())) == [0] \
            and not op.attributes.get("keepdims") and op.operands[0].type.rank == 2 and op.operands[0].type.is_static:
        return ("lf.reduce_sum", op.operands[0].type)
    return None


def _is_sum(op: Operation | None) -> bool:
    return op is not None and op.name == "lf.add" and op.results[0].type.dtype.is_float and \
        all(v.type == op.results[0].type for v in op.operands)


def _leaves(root: Operation, uses: Counter) -> list[Value]:
    out = []
    for v in root.operands:
        if _is_sum(v.op) and uses[v] == 1:
            out.extend(_leaves(v.op, uses))
        else:
            out.append(v)
    return out


def _merged(key: tuple, leaves: list[Value], location) -> list[Operation]:
    """The ops computing the one product (or column sum) of `leaves`, last the result."""
    ops = [v.op for v in leaves]
    if key[0] == "lf.reduce_sum":  # ones[1, K] @ stacked: the GEMM reads the rows in order
        stacked = typed("lf.concat", [o.operands[0] for o in ops], {"axis": 0}, location)
        rows, out = stacked.results[0].type, leaves[0].type
        ones = typed("lf.constant", [], {"value": np.ones((1, rows.shape[0]), rows.dtype.np_dtype)}, location)
        product = typed("lf.matmul", [ones.results[0], stacked.results[0]], {"transpose_a": False,
                                                                             "transpose_b": False}, location)
        return [stacked, ones, product, typed("lf.reshape", [product.results[0]], {"shape": list(out.shape)}, location)]
    _, ta, tb = key[:3]
    a = typed("lf.concat", [o.operands[0] for o in ops], {"axis": 0 if ta else 1}, location)
    b = typed("lf.concat", [o.operands[1] for o in ops], {"axis": 1 if tb else 0}, location)
    return [a, b, typed("lf.matmul", [a.results[0], b.results[0]], dict(ops[0].attributes), location)]


@register_pass
@dataclass(frozen=True)
class SumProducts(FunctionPass):
    """Merge a sum of same-shaped matrix products (or column sums) into one over concatenations."""

    name: ClassVar[str] = "sum-products"

    def run_on_function(self, func: Function) -> bool:
        uses = Counter(v for op in func.ops for v in op.operands)
        inner = {v for op in func.ops if _is_sum(op) for v in op.operands if _is_sum(v.op) and uses[v] == 1}
        ops, replaced = [], {}
        for op in func.ops:
            op.operands = [replaced.get(v, v) for v in op.operands]
            if _is_sum(op) and op.results[0] not in inner:
                new, value = self._rewrite(op, uses)
                if value is not None:
                    ops.extend(new)
                    replaced[op.results[0]] = value
            ops.append(op)
        for op in ops:
            op.parent = func.body
        func.body.ops = ops
        return bool(replaced)

    def _rewrite(self, root: Operation, uses: Counter) -> tuple[list[Operation], Value | None]:
        """The ops for `root`'s sum with its leaves merged, and its new value (None: no merge)."""
        groups: dict[tuple, list[Value]] = {}
        for v in _leaves(root, uses):
            groups.setdefault(_key(v, uses) or ("leaf", id(v)), []).append(v)
        if not any(k[0] != "leaf" and len(vs) >= MIN_LEAVES for k, vs in groups.items()):
            return [], None
        new, terms = [], []
        for key, vs in groups.items():
            if key[0] == "leaf" or len(vs) < MIN_LEAVES:
                terms.extend(vs)
                continue
            new.extend(_merged(key, vs, root.location))
            terms.append(new[-1].results[0])
        total = terms[0]
        for t in terms[1:]:
            new.append(typed("lf.add", [total, t], {}, root.location))
            total = new[-1].results[0]
        return new, total
