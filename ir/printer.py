"""Textual form of the IR: MLIR's generic op syntax inside a `func.func` shell.

    module {
      func.func @step(%arg0: tensor<2xf32> {lf.name = "x:0"}) -> (tensor<2xf32> {lf.name = "y:0"}) {
        %0 = "lf.exp"(%arg0) : (tensor<2xf32>) -> tensor<2xf32>
        "func.return"(%0) : (tensor<2xf32>) -> ()
      }
    }

Every op prints generically, so any op parses without per-op syntax (cf. MLIR's
`--mlir-print-op-generic`). Floats print in their shortest round-trip form;
non-finite floats print as MLIR's hexadecimal bit patterns.
"""
from __future__ import annotations

import re
from collections.abc import Collection

import numpy as np

from lowerflow.ir.core import Block, Function, Module, Operation, Value
from lowerflow.ir.types import F64, ElemType, TensorType, elem_type_of

_HEX_WIDTH = {16: ("<u2", 4), 32: ("<u4", 8), 64: ("<u8", 16)}
_BARE_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_$.]*")


def format_float(x, dtype: ElemType) -> str:
    """Shortest text that parses back to the same `dtype` value."""
    x = dtype.np_dtype.type(x)
    if np.isfinite(x):
        s = str(x)
        return s if any(c in s for c in ".enE") else s + ".0"
    utype, width = _HEX_WIDTH[dtype.bits]
    return "0x" + format(int(np.array(x).view(utype)), f"0{width}X")


def format_scalar(x, dtype: ElemType) -> str:
    if dtype.is_bool:
        return "true" if bool(x) else "false"
    if dtype.is_float:
        return format_float(x, dtype)
    return str(int(x))


#: Dense values with more elements than this print as MLIR's hex form, `dense<"0x...">`:
#: their bytes in memory order, exact, and ~100x faster to print and parse than decimal
#: text (a 784x256 float32 initial value took 1.6 s to print as decimals).
HEX_FROM = 64


def format_dense(arr: np.ndarray, type: TensorType, elide: bool = False) -> str:
    """`elide`: MLIR's elided form, `dense_resource<__elided__>` (for keys, not parsing)."""
    if elide:
        return f"dense_resource<__elided__> : {type}"
    flat = arr.reshape(-1)
    if flat.size and (flat.size == 1 or _all_equal(flat)):
        body = format_scalar(flat[0], type.dtype)
    elif flat.size > HEX_FROM and not type.dtype.is_bool:
        body = '"0x' + np.ascontiguousarray(arr, arr.dtype.newbyteorder("<")).tobytes().hex().upper() + '"'
    else:
        body = _nested(arr, type.dtype)
    return f"dense<{body}> : {type}"


def _all_equal(flat: np.ndarray) -> bool:
    """Bitwise for floats: `==` would merge 0.0 with -0.0 (and never match a NaN)."""
    if flat.dtype.kind == "f":
        flat = flat.view(f"u{flat.dtype.itemsize}")
    return bool(np.all(flat == flat[0]))


def _nested(arr: np.ndarray, dtype: ElemType) -> str:
    if arr.ndim == 0:
        return format_scalar(arr[()], dtype)
    return "[" + ", ".join(_nested(a, dtype) for a in arr) + "]"


def _bare_or_quoted(name: str) -> str:
    """Identifiers print bare; anything else as a string, so the text still parses."""
    return name if _BARE_ID.fullmatch(name) else format_attr(name)


def format_attr(value, elide: bool = False) -> str:
    """MLIR attribute syntax for the Python values ops carry as attributes."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return f"{int(value)} : i64"
    if isinstance(value, (float, np.floating)):
        return f"{format_float(value, F64)} : f64"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(format_attr(v, elide) for v in value) + "]"
    if isinstance(value, np.ndarray):
        return format_dense(value, TensorType(value.shape, elem_type_of(value.dtype)), elide)
    if isinstance(value, (ElemType, TensorType)):
        return str(value)
    raise TypeError(f"cannot print attribute {value!r}")


class _Namer:
    """Assigns %argN / %N names in print order, unique within a function."""

    def __init__(self):
        self.names: dict[Value, str] = {}
        self.next_arg = 0
        self.next_val = 0

    def arg(self, v: Value) -> str:
        self.names[v] = f"%arg{self.next_arg}"
        self.next_arg += 1
        return self.names[v]

    def results(self, op: Operation) -> str:
        base = f"%{self.next_val}"
        self.next_val += 1
        if len(op.results) == 1:
            self.names[op.results[0]] = base
            return base
        for i, r in enumerate(op.results):
            self.names[r] = f"{base}#{i}"
        return f"{base}:{len(op.results)}"

    def __getitem__(self, v: Value) -> str:
        try:
            return self.names[v]
        except KeyError:
            return "%<<undefined>>"


def _types(values) -> str:
    return ", ".join(str(v.type) for v in values)


def _print_op(op: Operation, namer: _Namer, indent: str, locations: bool, elided: Collection) -> list[str]:
    lines: list[str] = []
    operands = ", ".join(namer[v] for v in op.operands)
    region_text = ""
    lhs = namer.results(op) + " = " if op.results else ""
    if op.regions:
        parts = []
        for block in op.regions:
            parts.append("{\n" + "\n".join(_print_block(block, namer, indent + "  ", locations, True, elided))
                         + "\n" + indent + "}")
        region_text = " (" + ", ".join(parts) + ")"
    attrs = ""
    if op.attributes:
        attrs = " {" + ", ".join(f"{_bare_or_quoted(k)} = {format_attr(op.attributes[k], op in elided)}"
                                 for k in sorted(op.attributes)) + "}"
    res = _types(op.results)
    res = res if len(op.results) == 1 else f"({res})"
    loc = f" loc({format_attr(op.location)})" if locations and op.location else ""
    lines.append(f"{indent}{lhs}{format_attr(op.name)}({operands}){region_text}{attrs} : "
                 f"({_types(op.operands)}) -> {res}{loc}")
    return lines


def _print_block(block: Block, namer: _Namer, indent: str, locations: bool, label: bool,
                 elided: Collection = ()) -> list[str]:
    lines = []
    if label:
        args = ", ".join(f"{namer.arg(a)}: {a.type}" for a in block.args)
        lines.append(f"{indent[:-2]}^bb0({args}):")
    for op in block.ops:
        lines.extend(_print_op(op, namer, indent, locations, elided))
    return lines


def _named(text: str, name: str | None) -> str:
    return f'{text} {{lf.name = {format_attr(name)}}}' if name else text


def print_function(func: Function, indent: str = "", locations: bool = False, elided: Collection = (),
                   names: bool = True) -> str:
    """`func` as MLIR generic text. For a compile cache key, where they are not part of the
    code: the array attributes of the ops in `elided` print elided, `names=False` leaves out
    the argument and result names."""
    namer = _Namer()
    arg_names = func.arg_names if names else [None] * len(func.args)
    args = ", ".join(_named(f"{namer.arg(a)}: {a.type}", n) for a, n in zip(func.args, arg_names))
    names = (func.result_names if names else None) or [None] * len(func.results)
    results = ", ".join(_named(str(v.type), n) for v, n in zip(func.results, names))
    body = _print_block(func.body, namer, indent + "  ", locations, False, elided)
    head = f"{indent}func.func @{_bare_or_quoted(func.name)}({args}) -> ({results}) {{"
    return "\n".join([head, *body, indent + "}"])


def value_names(func: Function) -> dict[Value, str]:
    """The names `print_function` gives `func`'s values (%arg0, %3, %4#1), for tools whose
    reports point into printed IR (buffer plans, rewrite logs)."""
    namer = _Namer()
    for a in func.args:
        namer.arg(a)

    def visit(block: Block) -> None:
        for op in block.ops:
            if op.results:
                namer.results(op)
            for region in op.regions:
                for a in region.args:
                    namer.arg(a)
                visit(region)

    visit(func.body)
    return namer.names


def print_module(module: Module, locations: bool = False) -> str:
    funcs = "\n".join(print_function(f, "  ", locations) for f in module.functions)
    return f"module {{\n{funcs}\n}}\n"
