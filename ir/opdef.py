"""The op registry: every op's facts in one declaration (cf. xDSL's `irdl_op_definition`,
JAX's per-primitive rule tables).

An `OpDef` carries the IR name, the TF1 op types it stands for, its traits, its
shape/dtype inference and its numpy reference semantics. The frontend infers
static shapes with `infer`, constant folding and the reference interpreter
run `reference`, and the backend keys its lowering table by `name`. Asking for
an op nobody declared raises `KeyError` naming it.

Two optional rules sit beside those (cf. autodidax's `transpose_rules`, TF's
`RegisterGradient`): `grad` is the op's reverse-mode rule, written in other ops through
an `Emitter` (so `tf.gradients` builds graph ops with it and the backward graph goes
through the same passes as the forward one); `expand` defines an op by other ops once
shapes are concrete (the graph-to-IR lowering builds those instead), for ops whose
meaning depends on a shape only known per run signature.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, NamedTuple, Protocol

import numpy as np

from lowerflow.ir.types import ElemType, TensorType

InferFn = Callable[[list[TensorType], dict], list[TensorType]]
ReferenceFn = Callable[[list[np.ndarray], dict], list[np.ndarray]]


class Emitter(Protocol):
    """What a gradient rule builds with: `e("lf.mul", a, b, **attrs)` is the op's result
    (a tuple for several); `e.const(v, like)` a scalar of `like`'s dtype. `like` values
    have `.dtype` (an ElemType) and may be graph tensors or IR values."""

    def __call__(self, name: str, *operands: Any, **attrs: Any) -> Any: ...

    def const(self, value: float, like: Any) -> Any: ...

    def dtype(self, value: Any) -> ElemType: ...


class GradOp(NamedTuple):
    """The forward op as a gradient rule sees it."""

    inputs: list
    outputs: list
    attrs: dict


#: grad(e, op, output_grads) -> one gradient (or None) per input. Output grads of a
#: multi-output op that received none are zeros.
GradFn = Callable[[Emitter, GradOp, list], list]
#: expand(build, operands, attrs) -> result values; build(name, operands, attrs) -> results.
ExpandFn = Callable[[Callable[..., list], list, dict], list]
#: verify(op): the op's own checks beyond `infer` (a region op's block arguments and
#: terminator, index bounds); raises ValueError or TypeError saying what is wrong.
VerifyFn = Callable[[Any], None]
#: interpret(op, operand values, run_region): what the reference interpreter does for an op
#: with regions or side effects (loops, stores); run_region(block, args) runs a nested block
#: that sees the enclosing values, and returns its terminator's operand values.
InterpretFn = Callable[[Any, list, Callable[[Any, list], list]], list]


def not_differentiable(e: Emitter, op: GradOp, grads: list) -> list:
    """The rule of ops whose inputs get no gradient (TF's `NotDifferentiable`)."""
    return [None] * len(op.inputs)

#: Trait names. "elementwise": result[i] depends on operand[i] only (after
#: broadcasting), so the op can join a fused loop. "pure": no side effects, so
#: CSE/DCE/folding may touch it. "commutative": swapped operands give the same bits
#: (NaN payloads aside; max/min are not: the sign of a zero result depends on order). "view":
#: the results are memory that already exists (a constant's data, a reshape's
#: operand), so no kernel writes them and buffer planning gives them no buffer.
ELEMENTWISE, PURE, COMMUTATIVE, VIEW = "elementwise", "pure", "commutative", "view"
#: "type_only": the results depend on the operands' types alone (shape queries), so an
#: operand whose type is static is as good as a constant to constant folding.
TYPE_ONLY = "type_only"


@dataclass(frozen=True)
class OpDef:
    name: str
    infer: InferFn
    reference: ReferenceFn | None
    tf_names: tuple = ()
    traits: frozenset = field(default_factory=frozenset)
    attrs: tuple = ()  # attribute names the op requires
    grad: GradFn | None = None  # None: no rule (tf.gradients raises LookupError)
    expand: ExpandFn | None = None
    verify: VerifyFn | None = None
    interpret: InterpretFn | None = None
    regions: int = 1  # how many regions an op with the "region" trait has

    def has(self, trait: str) -> bool:
        return trait in self.traits


OPS: dict[str, OpDef] = {}
TF_TO_IR: dict[str, str] = {}


def register(opdef: OpDef) -> OpDef:
    if opdef.name in OPS:
        raise ValueError(f"op {opdef.name} declared twice")
    OPS[opdef.name] = opdef
    for tf_name in opdef.tf_names:
        TF_TO_IR[tf_name] = opdef.name
    return opdef


def get_op(name: str) -> OpDef:
    try:
        return OPS[name]
    except KeyError:
        raise KeyError(f"unknown op '{name}': no OpDef is registered for it") from None


def broadcast_shapes(*shapes: tuple) -> tuple:
    """numpy broadcasting over static shapes with None for unknown dims.

    Raises ValueError with TF1's wording when two known dims differ and neither is 1.
    """
    rank = max((len(s) for s in shapes), default=0)
    out = []
    for i in range(rank):
        dims = [s[len(s) - rank + i] for s in shapes if len(s) - rank + i >= 0]
        known = {d for d in dims if d is not None and d != 1}
        if len(known) > 1:
            a, b = sorted(known)[:2]
            raise ValueError(f"Dimensions must be equal, but are {a} and {b}")
        if known:
            out.append(known.pop())
        elif any(d is None for d in dims):
            out.append(None)
        else:
            out.append(1)
    return tuple(out)


def same_dtype(types: list[TensorType], what: str = "operands") -> None:
    """TF1 never promotes: mixed dtypes are a TypeError at build time."""
    first = types[0].dtype
    for t in types[1:]:
        if t.dtype != first:
            raise TypeError(f"{what} must have the same dtype, got {first} and {t.dtype}")
