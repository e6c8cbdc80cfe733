"""The SSA IR's data structures: values, operations, blocks, functions, modules.

Shaped after MLIR (and xDSL): an `Operation` has a name such as "lf.add",
operands (values defined earlier), typed results, attributes (plain Python
data, numpy arrays for dense constants, `ElemType` for types) and regions
(lists of blocks, used by "lf.fusion" to hold a fused kernel's body). A
`Function` owns one block whose last op is "func.return". Nothing here knows
what an op means: that lives in the op registry (`lowerflow.ir.opdef`).
"""
from __future__ import annotations

from typing import Iterator

from lowerflow.ir.types import TensorType


class Value:
    """An SSA value: a block argument or one result of an operation."""

    __slots__ = ("type", "owner", "index")

    def __init__(self, type: TensorType, owner, index: int):
        self.type = type
        self.owner = owner  # an Operation (result) or a Block (argument)
        self.index = index

    @property
    def op(self) -> "Operation | None":
        """The defining operation, or None for a block argument."""
        return self.owner if isinstance(self.owner, Operation) else None

    def __repr__(self) -> str:
        return f"<Value {self.type} of {getattr(self.owner, 'name', 'block')}#{self.index}>"


class Operation:
    """One op instance. Results are created from `result_types`."""

    __slots__ = ("name", "operands", "results", "attributes", "regions", "parent", "location")

    def __init__(self, name: str, operands=(), result_types=(), attributes=None,
                 regions=(), location: str | None = None):
        self.name = name
        self.operands: list[Value] = list(operands)
        self.results: list[Value] = [Value(t, self, i) for i, t in enumerate(result_types)]
        self.attributes: dict = dict(attributes or {})
        self.regions: list[Block] = list(regions)
        for block in self.regions:
            block.parent = self
        self.parent: Block | None = None
        self.location = location

    @property
    def result(self) -> Value:
        """The single result (most ops have exactly one)."""
        (r,) = self.results
        return r

    def walk(self) -> Iterator["Operation"]:
        """This op and every op nested in its regions, pre-order."""
        yield self
        for block in self.regions:
            yield from block.walk()

    def __repr__(self) -> str:
        return f"<Operation {self.name}>"


class Block:
    """A list of operations with typed arguments."""

    __slots__ = ("args", "ops", "parent")

    def __init__(self, arg_types=()):
        self.args: list[Value] = [Value(t, self, i) for i, t in enumerate(arg_types)]
        self.ops: list[Operation] = []
        self.parent = None

    def append(self, op: Operation) -> Operation:
        op.parent = self
        self.ops.append(op)
        return op

    def add(self, name: str, operands=(), result_types=(), attributes=None, regions=()) -> Operation:
        """Create an op at the end of the block and return it."""
        return self.append(Operation(name, operands, result_types, attributes, regions))

    def add_arg(self, type: TensorType) -> Value:
        v = Value(type, self, len(self.args))
        self.args.append(v)
        return v

    def walk(self) -> Iterator[Operation]:
        for op in self.ops:
            yield from op.walk()

    @property
    def terminator(self) -> Operation:
        return self.ops[-1]


class Function:
    """`func.func @name(args) -> (results)`: a block ending in "func.return"."""

    def __init__(self, name: str, arg_types=(), arg_names=None):
        self.name = name
        self.body = Block(arg_types)
        self.body.parent = self
        # Optional human names for arguments/results (feeds, fetches, variables).
        self.arg_names: list[str | None] = list(arg_names or [None] * len(arg_types))
        self.result_names: list[str | None] = []

    @classmethod
    def view(cls, name: str, block: Block) -> "Function":
        """`block` (a region isolated from above) seen as a function of its arguments to what
        its terminator gives, for passes that work on functions; the block stays where it is."""
        func = cls.__new__(cls)
        func.name, func.body = name, block
        func.arg_names, func.result_names = [None] * len(block.args), [None] * len(block.terminator.operands)
        return func

    @property
    def args(self) -> list[Value]:
        return self.body.args

    @property
    def ops(self) -> list[Operation]:
        return self.body.ops

    @property
    def return_op(self) -> Operation:
        return self.body.terminator

    @property
    def results(self) -> list[Value]:
        return self.return_op.operands

    @property
    def result_types(self) -> list[TensorType]:
        return [v.type for v in self.results]

    def set_return(self, values, names=None) -> None:
        """Append (or replace) the terminating "func.return"."""
        if self.body.ops and self.body.ops[-1].name == "func.return":
            self.body.ops.pop()
        self.body.add("func.return", list(values))
        self.result_names = list(names or [None] * len(values))


class Module:
    """A list of functions; lowering produces one, `step`."""

    def __init__(self, functions=()):
        self.functions: list[Function] = list(functions)

    def __getitem__(self, name: str) -> Function:
        for f in self.functions:
            if f.name == name:
                return f
        raise KeyError(name)

    def step_function(self) -> Function:
        """The function tools work on (`lowerflow aot`, `lowerflow graph`): `@step`, or the
        module's only function; ValueError otherwise."""
        named = [f for f in self.functions if f.name == "step"]
        if named or len(self.functions) == 1:
            return (named or self.functions)[0]
        found = ", ".join("@" + f.name for f in self.functions) or "none"
        raise ValueError(f"expected a function @step or exactly one function, found {found}")

    def __str__(self) -> str:
        from lowerflow.ir.printer import print_module

        return print_module(self)


def users(block: Block) -> dict[Value, list[Operation]]:
    """Map every value used in `block` (and nested regions) to the ops that use it."""
    out: dict[Value, list[Operation]] = {}
    for op in block.walk():
        for v in op.operands:
            out.setdefault(v, []).append(op)
    return out


def replace_uses(block: Block, mapping: dict[Value, Value]) -> None:
    """Rewrite operands of every op in `block` through `mapping`."""
    if not mapping:
        return
    for op in block.walk():
        op.operands = [mapping.get(v, v) for v in op.operands]
