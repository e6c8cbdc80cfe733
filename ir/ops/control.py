"""Structured control flow: "lf.if" and "lf.while" (cf. MLIR's `scf.if` and `scf.while`), the
region ops `tf.cond` and `tf.while_loop` lower to instead of TF1's Switch/Merge dataflow.

    %r = "lf.if"(%pred, %a, %b) ({
    ^bb0(%x: tensor<f32>, %y: tensor<f32>):
      %s = "lf.add"(%x, %y) : (tensor<f32>, tensor<f32>) -> tensor<f32>
      "lf.yield"(%s) : (tensor<f32>) -> ()
    }, {
    ^bb0(%x: tensor<f32>, %y: tensor<f32>):
      "lf.yield"(%y) : (tensor<f32>) -> ()
    }) : (tensor<i1>, tensor<f32>, tensor<f32>) -> tensor<f32>

- "lf.if"(pred, captures...): `pred` is a `tensor<i1>` scalar; both regions take one block
  argument per capture (the outer values the branches read) and yield the op's result types.
  Only the region `pred` selects runs.
- "lf.while"(inits..., captures...): the results are the carried values, so their count
  says how many operands are initial values; the rest are captures. Both regions take
  (carried..., captures...); the first ("cond") yields one `tensor<i1>` scalar, the second
  ("body") yields the next carried values, of the carried types. cond runs first: a loop
  whose cond is false at once gives its initial values.

Types must agree up to unknown dims (`?` matches any size, as the verifier's type checks
do), so IR with partial shapes verifies before `infer-shapes` refines it; native code needs
them static. Regions are isolated from above (captures are explicit operands), so every pass that works on
one block works on a region as it is; `region_operands` says which operand each block
argument stands for.
"""
from __future__ import annotations

from lowerflow.ir.core import Block, Operation, Value
from lowerflow.ir.opdef import PURE, OpDef, get_op, register
from lowerflow.ir.ops.structure import CONTROL, REGION
from lowerflow.ir.types import BOOL, TensorType, compatible

IF, WHILE = "lf.if", "lf.while"
PREDICATE = TensorType((), BOOL)


def is_control(op: Operation) -> bool:
    """Whether `op` is control flow (trait `control`): its regions are program regions."""
    return get_op(op.name).has(CONTROL)


def region_operands(op: Operation) -> list[Value]:
    """The operands a control op's region arguments stand for (the same for every region)."""
    return op.operands[1:] if op.name == IF else list(op.operands)


def while_parts(op: Operation) -> tuple[list[Value], list[Value]]:
    """(initial values, captures) of an "lf.while"."""
    n = len(op.results)
    return op.operands[:n], op.operands[n:]


def _types(values) -> list:
    return [v.type for v in values]


def _fits(got: list, want: list) -> bool:
    return len(got) == len(want) and all(compatible(g, w) for g, w in zip(got, want))


def _check_args(block: Block, want: list, which: str) -> None:
    if not _fits(_types(block.args), want):
        raise TypeError(f"the {which} region's arguments must be ({', '.join(map(str, want))}), "
                        f"got ({', '.join(map(str, _types(block.args)))})")


def _check_yield(block: Block, want: list, which: str) -> None:
    got = _types(block.terminator.operands)
    if not _fits(got, want):
        raise TypeError(f"the {which} region must yield ({', '.join(map(str, want))}), "
                        f"yields ({', '.join(map(str, got))})")


def _if_verify(op: Operation) -> None:
    if not op.operands or op.operands[0].type != PREDICATE:
        got = op.operands[0].type if op.operands else "nothing"
        raise TypeError(f"the predicate must be a {PREDICATE} scalar, got {got}")
    captures, results = _types(op.operands[1:]), _types(op.results)
    for block, which in zip(op.regions, ("then", "else")):
        _check_args(block, captures, which)
        _check_yield(block, results, which)


def _if_interpret(op: Operation, args: list, run_region) -> list:
    pred, *captures = args
    return run_region(op.regions[0 if bool(pred) else 1], captures)


def _while_verify(op: Operation) -> None:
    inits, _ = while_parts(op)
    carried = _types(op.results)
    if not _fits(_types(inits), carried):
        raise TypeError(f"initial values ({', '.join(map(str, _types(inits)))}) must have the carried "
                        f"types ({', '.join(map(str, carried))})")
    cond, body = op.regions
    for block, which in ((cond, "cond"), (body, "body")):
        _check_args(block, _types(op.operands), which)
    _check_yield(cond, [PREDICATE], "cond")
    _check_yield(body, carried, "body")


def _while_interpret(op: Operation, args: list, run_region) -> list:
    n = len(op.results)
    values, captures = list(args[:n]), list(args[n:])
    cond, body = op.regions
    while bool(run_region(cond, values + captures)[0]):
        values = run_region(body, values + captures)
    return values


register(OpDef(IF, lambda types, attrs: [], None, ("If", "StatelessIf"), frozenset({PURE, REGION, CONTROL}),
               verify=_if_verify, interpret=_if_interpret, regions=2))
register(OpDef(WHILE, lambda types, attrs: [], None, ("While", "StatelessWhile"), frozenset({PURE, REGION, CONTROL}),
               verify=_while_verify, interpret=_while_interpret, regions=2))
