"""`fuse-rows`: softmax, log-softmax, layer norm and their kin into "lf.row_fusion" ops
(`ir/ops/fusion.py`), so each row is read from memory once and written once (cf. XLA's
softmax rewriter, ONNX Runtime's fused softmax and layer norm).

It runs before `fuse`, which otherwise cuts such a subgraph at every reduction whose
result is broadcast back over the row: softmax becomes four kernels and four passes over
memory. A group starts at each reduction over the last axis (with `keepdims`, static row
shape S = (*lead, C), C >= `min-row`) that no group holds yet, and grows breadth first over
producers and users: elementwise ops whose result is a row value (shape S) or a row scalar
((*lead, 1)) and whose operands broadcast to S row by row, and further such reductions of
row values, up to `max-ops`. It is kept when:
- some op of the group reads, directly or not, a reduction of the group and gives a row
  value (a phase after the first, in `row_schedule`); otherwise `fuse` serves as well;
- the row values later phases read again, unless they are results anyway, fit in
  `max-scratch` bytes of stack per row;
- contracting it leaves the graph acyclic: no path leaves the group and comes back
  (searched over at most `CYCLE_CHECK_BUDGET` ops, groups kept so far counted as one node).

Narrow rows stay apart (`min-row`, default 64): a row of 10 classes is mostly the scalar
remainder of the row's vector loops, where the kernels `fuse` makes run across rows. Measured
(Intel Xeon, one thread, best of 5x500 runs): softmax cross-entropy of 256x10 logits
9.1 µs fused by rows against 3.6 apart, 4096x10 128 against 50, 256x64 14.0 against 8.7,
4096x64 230 against 224; from 96 columns on the row fusion wins at 4096 rows (327 against
371 µs; 4096x256 798 against 1025).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from lowerflow.ir.core import Function, Operation, users
from lowerflow.ir.opdef import ELEMENTWISE, get_op
from lowerflow.ir.ops.fusion import REDUCTIONS, ROW_FUSION, is_row_reduction, row_access, row_schedule
from lowerflow.passes.contract import build_region_op, contract, path_back
from lowerflow.passes.manager import FunctionPass, option, register_pass

#: Most ops one cycle search may visit before it gives up (and the group is refused).
CYCLE_CHECK_BUDGET = 256


@register_pass
@dataclass(frozen=True)
class FuseRows(FunctionPass):
    """Fuse row-wise subgraphs (softmax, layer norm: reductions over the last axis whose
    results are broadcast back over the row) into lf.row_fusion ops."""

    name: ClassVar[str] = "fuse-rows"
    max_ops: int = option(32, "most ops in one row fusion")
    max_scratch: int = option(65536, "most bytes of stack scratch per row")
    min_row: int = option(64, "narrowest row (last dim) a fusion starts from")

    def __post_init__(self):
        if self.max_ops < 2:
            raise ValueError(f"max-ops must be >= 2, got {self.max_ops}")
        if self.min_row < 2:
            raise ValueError(f"min-row must be >= 2, got {self.min_row}")

    def run_on_function(self, func: Function) -> bool:
        groups = _Grouper(func, self.max_ops, self.max_scratch, self.min_row).groups
        if groups:
            contract(func, [(ROW_FUSION, g) for g in groups])
        return bool(groups)


class _Grouper:
    def __init__(self, func: Function, max_ops: int, max_scratch: int, min_row: int):
        self.index = {op: i for i, op in enumerate(func.ops)}
        self.users = users(func.body)
        self.group_of: dict[Operation, int] = {}
        self.groups: list[list[Operation]] = []
        for op in func.ops:
            if op not in self.group_of and _starts_group(op, min_row):
                members = self._grow(op, tuple(op.operands[0].type.shape), max_ops)
                if self._worth(members, max_scratch) and self._acyclic(members):
                    self.group_of.update(dict.fromkeys(members, len(self.groups)))
                    self.groups.append(members)

    def _neighbours(self, op: Operation) -> list[Operation]:
        return [v.op for v in op.operands if v.op is not None] + \
            [u for r in op.results for u in self.users.get(r, ())]

    def _grow(self, seed: Operation, row_shape: tuple, max_ops: int) -> list[Operation]:
        members, queue, seen = [seed], [seed], {seed}
        while queue:
            for n in self._neighbours(queue.pop(0)):
                if len(members) == max_ops:
                    return sorted(members, key=self.index.__getitem__)
                if n not in seen and n not in self.group_of and n in self.index and _fits(n, row_shape):
                    members.append(n)
                    queue.append(n)
                seen.add(n)
        return sorted(members, key=self.index.__getitem__)

    def _worth(self, members: list[Operation], max_scratch: int) -> bool:
        region, _ = build_region_op(ROW_FUSION, members, self.users)
        schedule = row_schedule(region)
        yielded = set(region.regions[0].terminator.operands)
        scratch = sum(schedule.row_shape[-1] * v.type.dtype.np_dtype.itemsize
                      for v in schedule.carried if v not in yielded)
        return any(p.row_ops for p in schedule.phases[1:]) and scratch <= max_scratch

    def _acyclic(self, members: list[Operation]) -> bool:
        """No path from the group through outside ops back into it. Paths lead forward in
        block order, and through a kept group (one node once contracted) from any of its
        members to any other: so only ops up to `_horizon` can lead back."""
        inside = set(members)
        last = self._horizon(members)

        def successors(op: Operation) -> set[Operation]:
            group = self.group_of.get(op)
            nodes = self.groups[group] if group is not None else [op]
            if all(self.index.get(n, last + 1) > last for n in nodes):
                return set()  # the return, or past the horizon: no way back
            return {u for n in nodes for r in n.results for u in self.users.get(r, ())}

        starts = [u for m in members for r in m.results for u in self.users.get(r, ()) if u not in inside]
        return path_back(starts, successors, inside, CYCLE_CHECK_BUDGET) is None

    def _horizon(self, members: list[Operation]) -> int:
        """The last block position from which a path may still come back into `members`: their
        last member's, extended over every kept group that starts at or before it (a path
        entering such a group can leave it from its last member), to a fixpoint."""
        last = max(self.index[m] for m in members)
        spans = [(self.index[g[0]], self.index[g[-1]]) for g in self.groups]  # groups are sorted
        grew = True
        while grew:
            grew = False
            for first, end in spans:
                if first <= last < end:
                    last, grew = end, True
        return last


def _starts_group(op: Operation, min_row: int) -> bool:
    x = op.operands[0].type if op.operands else None
    return op.name in REDUCTIONS and x.is_static and x.rank >= 1 and x.shape[-1] >= min_row and is_row_reduction(op)


def _fits(op: Operation, row_shape: tuple) -> bool:
    """Whether `op` can join a row fusion over `row_shape`."""
    if op.regions or len(op.results) != 1 or not all(v.type.is_static for v in [*op.operands, *op.results]):
        return False
    if op.name in REDUCTIONS:
        return is_row_reduction(op) and tuple(op.operands[0].type.shape) == row_shape
    return get_op(op.name).has(ELEMENTWISE) \
        and tuple(op.result.type.shape) in (row_shape, (*row_shape[:-1], 1)) \
        and all(row_access(tuple(v.type.shape), row_shape) is not None for v in op.operands)
