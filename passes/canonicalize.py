"""`canonicalize`: algebraic simplification to a canonical form (cf. MLIR's
`-canonicalize`, Grappler's ArithmeticOptimizer).

The rules are data, in `rewrite_rules.py`, each tagged exact or fast-math; fast-math
rules run only with `canonicalize{fast-math=true}`. One forward sweep over the top-level
ops (block order is topological, so operands are already in canonical form) applies
rules to each pure single-result op until none matches; a rule's new op is looked at again
(`0 + x` becomes `x + 0`, then `x`). A replacement must have the replaced result's type
exactly; ops it builds are typed by their OpDef, constants it creates are at most
`max-size` elements, like `constant-fold`'s. Replaced ops are erased; producers that
become unused are left for `dce`. Fusion bodies are left alone: the pipeline runs
`canonicalize` before `fuse`. `log` lists the rewrites of the last run.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, NamedTuple

import numpy as np

from lowerflow.ir.core import Function, Module, Operation, Value
from lowerflow.ir.opdef import PURE, get_op
from lowerflow.ir.printer import value_names
from lowerflow.passes.manager import FunctionPass, option, register_pass
from lowerflow.passes.rewrite_rules import EXACT, RULES, Fill, New, Replacement, Rule, Swap

#: More rewrites of one op than this means two rules undo each other.
MAX_REWRITES_PER_OP = 64


class Rewrite(NamedTuple):
    func: str  # the function's name
    rule: str  # the rule's name
    op: str    # "lf.add %3": the rewritten op as printed before the pass


@register_pass
@dataclass(frozen=True)
class Canonicalize(FunctionPass):
    """Simplify algebra (x*1, --x, select(c, x, x), ...) with rules tagged exact or fast-math."""

    name: ClassVar[str] = "canonicalize"
    fast_math: bool = option(False, "also apply rules that assume no NaN, Inf or signed zeros")
    max_size: int = option(1 << 16, "largest constant, in elements, a rule may create")
    #: The rewrites of the last run, in order; a list so the frozen pass can fill it.
    log: list[Rewrite] = field(default_factory=list, init=False, repr=False, compare=False)

    def __post_init__(self):
        if self.max_size < 0:
            raise ValueError(f"max-size must be >= 0, got {self.max_size}")

    def run(self, module: Module) -> bool:
        self.log.clear()
        return super().run(module)

    def run_on_function(self, func: Function) -> bool:
        names = value_names(func)
        replaced: dict[Value, Value] = {}
        ops: list[Operation] = []
        for op in func.ops:
            op.operands = [replaced.get(v, v) for v in op.operands]
            rewritable = len(op.results) == 1 and get_op(op.name).has(PURE)  # a rewrite erases the op
            value = self._simplify(op, f"{op.name} {names[op.result]}", func.name) if rewritable else None
            if value is None:
                ops.append(op)
                continue
            replaced[op.result] = value
            if value.op is not None and value.op.parent is None:  # an op a rule built
                value.op.parent = func.body
                ops.append(value.op)
        func.body.ops = ops
        return bool(replaced)

    def _simplify(self, op: Operation, label: str, func_name: str) -> Value | None:
        """The value to use instead of op's result, or None if no rule matches op."""
        current, value = op, None
        for _ in range(MAX_REWRITES_PER_OP):
            hit = self._first_match(current)
            if hit is None:
                return value
            rule, value = hit
            self.log.append(Rewrite(func_name, rule.name, label))
            if value.op is None or value.op.parent is not None:  # a value the IR already has
                return value
            current = value.op  # a new op: rules may simplify it further
        raise RuntimeError(f"canonicalize: the rules keep rewriting {label} (last: {rule.name})")

    def _first_match(self, op: Operation) -> tuple[Rule, Value] | None:
        for rule in _rules_for(op):
            if rule.tag != EXACT and not self.fast_math:
                continue
            value = self._materialize(op, rule.rewrite(*op.operands))
            if value is not None:
                return rule, value
        return None

    def _materialize(self, op: Operation, r: Replacement) -> Value | None:
        """The value a rule's answer stands for, if it has exactly op's result type."""
        want = op.result.type
        if r is None or isinstance(r, Value):
            return r if r is not None and r.type == want else None
        if isinstance(r, Swap):
            r, attrs = New(op.name, tuple(reversed(op.operands))), op.attributes
        elif isinstance(r, Fill):
            if not want.is_static or want.size > self.max_size:
                return None
            r, attrs = New("lf.constant", ()), {"value": np.full(want.shape, r.value, want.dtype.np_dtype)}
        else:
            attrs = {}
        try:
            types = get_op(r.name).infer([v.type for v in r.operands], attrs)
        except (TypeError, ValueError):
            return None
        if types != [want]:
            return None
        return Operation(r.name, r.operands, types, attrs, location=op.location).result


def _rules_for(op: Operation) -> list[Rule]:
    keys = [op.name, *(f"trait:{t}" for t in get_op(op.name).traits)]
    return [rule for key in keys for rule in _BY_ROOT.get(key, ())]


_BY_ROOT: dict[str, list[Rule]] = {}
for _rule in RULES:
    _BY_ROOT.setdefault(_rule.root, []).append(_rule)
