"""`fuse`: group elementwise ops into "lf.fusion" loop kernels (cf. XLA's
InstructionFusion/loop fusion, Grappler's remapper, TVM's FuseOps), then join groups
to the reduction they feed or the matmul they consume (XLA's input and output fusions).

Ops whose OpDef is "elementwise" and whose result shapes are identical and static
run in one loop nest, so their intermediates never reach memory. Groups grow
greedily in block (topological) order: an op joins the groups of its producers
when the shapes agree, the group stays within `max-ops`, and contracting the group
keeps the graph acyclic (no path leaves the group and comes back, which would
leave no place to put the fusion). The search for such a path visits at most
`CYCLE_CHECK_BUDGET` groups and otherwise counts as a cycle: the op stays unfused,
and the pass stays linear on graphs of 10,000 ops with long-range edges (a bounded
stand-in for XLA's HloReachabilityMap). A group of one op stays as it is.

Consumer fusion, after grouping, in block order (`ir/ops/fusion.py` has the region ops):
- a reduction (Sum ... All) whose operand is the only value its producer group (or lone
  elementwise op) gives anyone, and given only to it, joins that group: "lf.reduce_fusion"
  computes the producers per element inside the reduction's loop, so the reduced tensor
  is never stored;
- an "lf.matmul" whose result only one group reads, when every op of that group has the
  matmul's result type (so the shape is the product's and the epilogue can run in place
  in it), joins that group as "lf.matmul_fusion": bias add, relu ... are applied to the
  product in its output buffer; an "lf.conv2d" likewise, as "lf.conv2d_fusion" (Grappler's
  _FusedConv2D).
A group joins at most one consumer (a matmul comes first in block order, so it wins).
Neither join can close a cycle: everything else the joining op touches (the reduction's
result, the matmul's operands) connects to the group only through the joining op itself,
so a new cycle would already have been one before. Both count towards `max-ops`.

Each group becomes one region op ("lf.fusion" unless a consumer joined; `contract.py`
builds it and re-orders the body). Every op's outcome, with the reason, is kept in
`decisions`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, NamedTuple

from lowerflow.ir.core import Function, Module, Operation, Value, users
from lowerflow.ir.opdef import ELEMENTWISE, get_op
from lowerflow.ir.ops.fusion import CONV_FUSION, MATMUL_FUSION, OUTPUT_FUSIONS, REDUCE_FUSION, REDUCTIONS
from lowerflow.passes.contract import BUDGET, CYCLE, contract, path_back
from lowerflow.passes.manager import FunctionPass, option, register_pass


#: Most groups one cycle check may visit before it gives up (and refuses the merge).
CYCLE_CHECK_BUDGET = 64
LOOP_FUSION = "lf.fusion"
#: The decision for each member of a group, by the region op it becomes ({k}: its number).
FUSED = {LOOP_FUSION: "fused into group {k}", REDUCE_FUSION: "fused as reduction input into group {k}",
         MATMUL_FUSION: "fused as matmul epilogue into group {k}",
         CONV_FUSION: "fused as conv2d epilogue into group {k}"}
CONSUMERS = REDUCTIONS | set(OUTPUT_FUSIONS)  # ops a group may join (as the core of its region op)


class Decision(NamedTuple):
    func: str    # the function's name
    op: str      # "lf.mul %3": name and printed result as before the pass
    reason: str  # "fused into group 1" or "not fused: ..."


@register_pass
@dataclass(frozen=True)
class Fuse(FunctionPass):
    """Fuse connected elementwise ops with identical static shapes into lf.fusion ops, and
    such groups into the reduction they feed or the matmul they consume."""

    name: ClassVar[str] = "fuse"
    max_ops: int = option(32, "most ops in one fusion")
    #: What the last run decided for every op; a list so the frozen pass can fill it.
    decisions: list[Decision] = field(default_factory=list, init=False, repr=False, compare=False)

    def __post_init__(self):
        if self.max_ops < 1:
            raise ValueError(f"max-ops must be >= 1, got {self.max_ops}")

    def run(self, module: Module) -> bool:
        self.decisions.clear()
        return super().run(module)

    def run_on_function(self, func: Function) -> bool:
        plan = _Planner(func, self.max_ops)
        groups = plan.groups()
        self.decisions.extend(Decision(func.name, label, reason) for label, reason in plan.report(groups))
        if not groups:
            return False
        contract(func, [(unit.kind, unit.members) for unit in groups])
        return True


class _Unit:
    """One node of the contracted graph: a group of ops (or one op) fused together."""

    __slots__ = ("kind", "members", "type")

    def __init__(self, op: Operation, fusible: bool):
        self.members = [op]
        self.type = op.results[0].type if fusible else None  # None: never joins a group
        self.kind = LOOP_FUSION  # the region op the group becomes (a consumer may change it)


class _Planner:
    """Greedy grouping over the contracted op graph of one function body."""

    def __init__(self, func: Function, max_ops: int):
        self.ops = func.ops
        self.index = {op: i for i, op in enumerate(self.ops)}
        self.users = users(func.body)
        self.labels = _labels(func)
        self.unit_of: dict[Operation, _Unit] = {}
        self.notes: dict[Operation, list[str]] = {op: [] for op in self.ops}
        for op in self.ops:
            self._visit(op, max_ops)
        for op in self.ops:
            if op.name in OUTPUT_FUSIONS:
                self._join(op, OUTPUT_FUSIONS[op.name], *self._epilogue(op), max_ops)
            elif op.name in REDUCTIONS:
                self._join(op, REDUCE_FUSION, *self._reduction_input(op), max_ops)

    def _visit(self, op: Operation, max_ops: int) -> None:
        why_not = _why_not_fusible(op)
        unit = self.unit_of[op] = _Unit(op, why_not is None)
        if why_not:
            if op.name not in CONSUMERS:  # they get their own reasons
                self.notes[op].append(why_not)
            return
        for v in op.operands:
            other = self.unit_of.get(v.op)  # None for function arguments
            if other is None or other is unit or other.type is None:
                continue
            p = self.labels[v.op]
            if other.type.shape != unit.type.shape:
                self._note(op, v.op, f"shape {unit.type} differs from {p}'s group's {other.type}")
            elif len(unit.members) + len(other.members) > max_ops:
                self._note(op, v.op, f"max-ops={max_ops} reached joining {p}'s group")
            elif why := self._cycle_check(unit, other):
                self._note(op, v.op, f"joining {p}'s group {why}")
            else:
                unit = self._merge(unit, other)

    def _note(self, op: Operation, producer: Operation, why: str) -> None:
        self.notes[op].append(why)
        self.notes[producer].append(f"consumer {self.labels[op]}: {why}")

    def _outside_users(self, unit: _Unit, value: Value) -> list[Operation]:
        return [u for u in self.users.get(value, ()) if self.unit_of[u] is not unit]

    def _reduction_input(self, op: Operation) -> tuple[_Unit | None, str | None]:
        """(the group reduction `op` may join, why not)."""
        x = op.operands[0]
        group = self.unit_of.get(x.op)
        if group is None or group.type is None or x.op.name in CONSUMERS:
            return None, "its operand is no elementwise op's result"
        p = self.labels[x.op]
        if group.kind != LOOP_FUSION:
            return group, f"{p}'s group is already fused into an {group.kind}"
        escaping = [r for m in group.members for r in m.results if self._outside_users(group, r)]
        if escaping != [x] or self.users[x] != [op]:
            return group, f"{p}'s group gives values to other ops than it"
        return group, None

    def _epilogue(self, op: Operation) -> tuple[_Unit | None, str | None]:
        """(the group the matmul or conv2d `op` may join, why not)."""
        result = op.results[0]
        readers = self.users.get(result, [])
        if not readers:
            return None, "result is unused"
        group = self.unit_of[readers[0]]
        if group.type is None or readers[0].name in CONSUMERS:
            return None, f"consumer {self.labels[readers[0]]} is not elementwise"
        if group.kind != LOOP_FUSION:  # e.g. a second matmul read by the same epilogue
            return group, f"{self.labels[readers[0]]}'s group is already fused into an {group.kind}"
        outside = [u for u in readers if self.unit_of[u] is not group]
        if outside:
            return None, f"result is also read by {self.labels[outside[0]]}, outside the epilogue"
        for m in group.members:
            if m.results[0].type != result.type:
                return group, (f"{self.labels[m]} in the epilogue gives {m.results[0].type}, not the "
                               f"{op.name.removeprefix('lf.')}'s {result.type}")
        return group, None

    def _join(self, op: Operation, kind: str, group: _Unit | None, why: str | None, max_ops: int) -> None:
        """Add consumer `op` to `group`, which becomes a `kind` region op, or note why not."""
        if group is not None and why is None and len(group.members) + 1 > max_ops:
            why = f"max-ops={max_ops} reached joining its group"
        if why:
            self.notes[op].append(why)
            for m in group.members if group else ():
                self.notes[m].append(f"consumer {self.labels[op]}: {why}")
            return
        if group is not None:
            group.members.append(op)
            group.kind = kind
            self.unit_of[op] = group

    def _merge(self, a: _Unit, b: _Unit) -> _Unit:
        """Move the smaller unit's ops into the larger (members are sorted in `groups`)."""
        if len(a.members) < len(b.members):
            a, b = b, a
        a.members.extend(b.members)
        for m in b.members:
            self.unit_of[m] = a
        return a

    def _successors(self, unit: _Unit) -> set[_Unit]:
        # Ops not yet visited are skipped: they follow every visited op in block
        # order, so no path through them leads back to a visited one.
        return {self.unit_of[u] for m in unit.members for r in m.results
                for u in self.users.get(r, ()) if u in self.unit_of} - {unit}

    def _cycle_check(self, a: _Unit, b: _Unit) -> str | None:
        """None when no path leaves {a, b} and re-enters it, else why the merge is refused."""
        targets = {a, b}
        found = path_back((self._successors(a) | self._successors(b)) - targets, self._successors,
                          targets, CYCLE_CHECK_BUDGET)
        if found == BUDGET:
            return f"exceeds the cycle-search budget of {CYCLE_CHECK_BUDGET} groups"
        return "would create a cycle" if found == CYCLE else None

    def groups(self) -> list[_Unit]:
        """Units of two ops or more, in block order of their first op."""
        units = {u for u in self.unit_of.values() if len(u.members) > 1}
        for u in units:
            u.members.sort(key=self.index.__getitem__)
        return sorted(units, key=lambda u: self.index[u.members[0]])

    def report(self, groups: list[_Unit]) -> list[tuple[str, str]]:
        number = {u: k for k, u in enumerate(groups, 1)}
        out = []
        for op in self.ops[:-1]:  # the return is no candidate worth reporting
            unit = self.unit_of[op]
            k = number.get(unit)
            fused = f"fused into group {k} ({unit.kind})" if op.name in CONSUMERS else FUSED[unit.kind]
            why = fused.format(k=k) if k else \
                "not fused: " + (self.notes[op][0] if self.notes[op] else "no fusible producer or consumer")
            out.append((self.labels[op], why))
        return out


def _why_not_fusible(op: Operation) -> str | None:
    if op.regions or not get_op(op.name).has(ELEMENTWISE):
        return "not elementwise"
    if len({r.type.shape for r in op.results}) != 1:
        return "needs exactly one result shape"
    dynamic = [v.type for v in [*op.operands, *op.results] if not v.type.is_static]
    if dynamic:
        return f"shape {dynamic[0]} is not static"
    return None


def _labels(func: Function) -> dict[Operation, str]:
    """"lf.mul %3" for each top-level op, numbered as the printer numbers results."""
    out, n = {}, 0
    for op in func.body.walk():
        if op.parent is func.body:
            out[op] = f"{op.name} %{n}" if op.results else op.name
        n += bool(op.results)
    return out
