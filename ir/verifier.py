"""The verifier: structural and per-op checks that run between passes (cf. MLIR's verify()).

Checks: every op is registered; operands are defined before use (SSA dominance
in straight-line blocks); region bodies are isolated from above; result types
agree with the op's inference rule; blocks end in their terminator; a fusion's
region op's regions fit it. Regions follow the op's definition (its `region` trait,
never its name): a region op has the number of regions it declares, any other op none,
since the backend would ignore a region the interpreter runs, and the two would disagree.
An op whose definition has a `verify` hook is checked by it too, after its regions; a
region op must have one, since only the op knows what its block arguments and
terminator mean (a fusion's are its operands and results: `isolated_region_verify`; a
loop's are its index and carried values). A region of a `scoped` op (a loop body) sees
the values defined around it.
"""
from __future__ import annotations

from lowerflow.ir.core import Block, Function, Module, Operation
from lowerflow.ir.opdef import get_op
from lowerflow.ir.ops.structure import REGION, SCOPED, TERMINATOR
from lowerflow.ir.types import compatible


class VerifyError(Exception):
    """The IR breaks an invariant; the message names the op."""


def _fail(op: Operation, msg: str):
    loc = f" at {op.location}" if op.location else ""
    raise VerifyError(f"'{op.name}'{loc}: {msg}")


def _check_types(op: Operation) -> None:
    try:
        opdef = get_op(op.name)
    except KeyError as e:
        _fail(op, str(e.args[0]))
    for name in opdef.attrs:
        if name not in op.attributes:
            _fail(op, f"missing attribute '{name}'")
    if opdef.has(REGION):
        if len(op.regions) != opdef.regions:
            want = "exactly one region" if opdef.regions == 1 else f"{opdef.regions} regions"
            _fail(op, f"a region op needs {want}, has {len(op.regions)}")
        if opdef.verify is None:
            _fail(op, "a region op needs a verify hook (what its block arguments and yield mean)")
        return  # results are the yield's, checked by the op's hook
    if op.regions:
        _fail(op, f"takes no regions, has {len(op.regions)}")
    if opdef.has(TERMINATOR):
        return
    try:
        expected = opdef.infer([v.type for v in op.operands], op.attributes)
    except (ValueError, TypeError, KeyError, IndexError) as e:
        _fail(op, f"invalid operands: {e}")
    got = [r.type for r in op.results]
    if len(expected) != len(got):
        _fail(op, f"expected {len(expected)} results, has {len(got)}")
    for e, g in zip(expected, got):
        if not compatible(e, g):
            _fail(op, f"result type {g} does not match inferred {e}")


def _run_hook(op: Operation) -> None:
    hook = get_op(op.name).verify
    if hook is not None:
        try:
            hook(op)
        except (ValueError, TypeError) as e:
            _fail(op, str(e))


def verify_block(block: Block, terminator: str, outer: frozenset = frozenset()) -> None:
    defined = set(outer) | set(block.args)
    if not block.ops or block.ops[-1].name != terminator:
        raise VerifyError(f"block must end in '{terminator}'")
    for op in block.ops:
        if op is not block.ops[-1] and op.name == terminator:
            _fail(op, "terminator in the middle of a block")
        for i, v in enumerate(op.operands):
            if v not in defined:
                _fail(op, f"operand #{i} does not dominate this use")
        _check_types(op)
        if op.regions:
            outer = frozenset(defined) if get_op(op.name).has(SCOPED) else frozenset()
            for region in op.regions:
                verify_block(region, "lf.yield", outer)
        _run_hook(op)
        defined.update(op.results)


def verify_function(func: Function) -> None:
    verify_block(func.body, "func.return")
    if len(func.arg_names) != len(func.args):
        raise VerifyError(f"@{func.name}: {len(func.args)} arguments but {len(func.arg_names)} names")


def verify(module_or_func) -> None:
    """Raise VerifyError if the module (or function) breaks an invariant."""
    funcs = module_or_func.functions if isinstance(module_or_func, Module) else [module_or_func]
    for f in funcs:
        verify_function(f)
