"""Textual IR back to a `Module`: the inverse of `printer.py` (cf. MLIR's generic op parser).

    parse_module(print_module(m)) prints exactly as m does.

A hand-written recursive-descent parser over `lexer.Lexer`. It accepts what the
printer emits (MLIR's generic op form inside `func.func`), plus the MLIR
leniencies tests like to use: any `%name`, `%a, %b = ...` result groups, no
`module {}` wrapper, `-> type` without parentheses, `// comments`.

Ops are created with their printed result types, not re-inferred, and unknown
op names parse: whether an op makes sense is the verifier's question. What the
parser does check is what text alone decides: syntax, types (an operand's type
must be the one written for it), and that every use names an earlier
definition in scope. Every failure is a `ParseError` starting `line:col: `.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

from lowerflow.ir.core import Block, Function, Module, Operation, Value
from lowerflow.ir.lexer import Lexer, ParseError, Token
from lowerflow.ir.types import ELEM_TYPES, INDEX, ElemType, MemRefType, TensorType, ValueType, memref

__all__ = ["ParseError", "parse_module"]

#: Nesting (lists, dense literals, regions) beyond this is an error, not a RecursionError.
MAX_DEPTH = 64
#: A splat `dense<0.0> : tensor<...>` is materialised; refuse sizes that would exhaust memory.
MAX_SPLAT_ELEMENTS = 1 << 28
_ARG_NAME = "lf.name"


def parse_module(text: str) -> Module:
    """Parse printed IR (one `module {...}`, or bare `func.func`s) into a Module."""
    parser = _Parser(text)
    try:
        return parser.module()
    except RecursionError:  # MAX_DEPTH should prevent it; a caller deep in its own stack may not
        raise parser.lex.error(parser.lex.pos, "input nested too deeply") from None


class _Parser:
    def __init__(self, text: str):
        self.lex = Lexer(text)
        self.scopes: list[dict[str, list[Value]]] = []  # innermost last: one per function/region
        self.depth = 0
        self.func_names: set[str] = set()

    # -- token helpers -------------------------------------------------------------------
    def error(self, tok: Token, msg: str) -> ParseError:
        return self.lex.error(tok.pos, msg)

    def expected(self, what: str) -> ParseError:
        tok = self.lex.peek()
        return self.error(tok, f"expected {what} but found {tok.describe()}")

    def accept(self, kind: str, text: str | None = None) -> Token | None:
        tok = self.lex.peek()
        if tok.kind == kind and (text is None or tok.text == text):
            return self.lex.next()
        return None

    def expect(self, kind: str, what: str | None = None, text: str | None = None) -> Token:
        tok = self.accept(kind, text)
        if tok is None:
            raise self.expected(what or repr(text or kind))
        return tok

    def comma_list(self, close: str, item) -> list:
        """`item (, item)* close`, or just `close`; the opener is already consumed."""
        items = []
        if not self.accept(close):
            items.append(item())
            while self.accept(","):
                items.append(item())
            self.expect(close)
        return items

    @contextmanager
    def nested(self, tok: Token) -> Iterator[None]:
        """One more level of nesting: deep input fails cleanly instead of overflowing the stack."""
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error(tok, f"nesting deeper than {MAX_DEPTH} levels")
        try:
            yield
        finally:
            self.depth -= 1

    # -- module and functions ------------------------------------------------------------
    def module(self) -> Module:
        funcs = []
        if self.accept("id", "module"):
            self.accept("symbol")  # `module @name {` is fine; the name is not kept
            self.expect("{")
            while not self.accept("}"):
                funcs.append(self.function())
        else:
            while self.lex.peek().kind != "eof":
                funcs.append(self.function())
        self.expect("eof", "end of input")
        return Module(funcs)

    def function(self) -> Function:
        self.expect("id", "'func.func'", "func.func")
        name_tok = self.lex.peek()
        name = self.symbol_name()
        if name in self.func_names:
            raise self.error(name_tok, f"redefinition of function @{name}")
        self.func_names.add(name)
        self.scopes = [{}]
        self.expect("(")
        args = self.comma_list(")", self.named_arg)
        results = self.func_results() if self.accept("->") else []
        func = Function(name, [t for _, t, _ in args], [n for _, _, n in args])
        for (tok, _, _), value in zip(args, func.args):
            self.define(tok, [value])
        open_tok = self.expect("{")
        self.block_ops(func.body)
        ret = func.body.ops[-1] if func.body.ops else None
        if ret is None or ret.name != "func.return":
            raise self.error(open_tok, f'body of @{name} must end in "func.return"')
        got = [v.type for v in ret.operands]
        if got != [t for t, _ in results]:
            raise self.error(open_tok, f"@{name} returns ({_types(got)}) but its signature says "
                                       f"({_types(t for t, _ in results)})")
        func.result_names = [n for _, n in results]
        return func

    def symbol_name(self) -> str:
        """`@step`, or `@"any name"` for names that are not identifiers."""
        if self.accept("@"):
            return self.expect("string", "a quoted function name").text
        return self.expect("symbol", "function name '@...'").text[1:]

    def named_arg(self) -> tuple[Token, TensorType, str | None]:
        tok = self.value_def()
        self.expect(":")
        return tok, self.tensor_type(), self.arg_name()

    def func_results(self) -> list[tuple[TensorType, str | None]]:
        if self.accept("("):
            return self.comma_list(")", lambda: (self.tensor_type(), self.arg_name()))
        return [(self.tensor_type(), None)]

    def arg_name(self) -> str | None:
        """The optional `{lf.name = "x:0"}` after an argument or result type."""
        tok = self.accept("{")
        if tok is None:
            return None
        attrs = self.attr_dict_body()
        if set(attrs) - {_ARG_NAME} or not isinstance(attrs.get(_ARG_NAME, ""), str):
            msg = f'only {{{_ARG_NAME} = "..."}} may annotate an argument or result'
            raise self.error(tok, msg)
        return attrs.get(_ARG_NAME)

    # -- values and scopes ---------------------------------------------------------------
    def value_def(self) -> Token:
        tok = self.expect("value", "value name '%...'")
        if "#" in tok.text:
            raise self.error(tok, f"cannot define {tok.text}: '#' selects a result of a use")
        return tok

    def define(self, tok: Token, values: list[Value]) -> None:
        if any(tok.text in scope for scope in self.scopes):
            raise self.error(tok, f"redefinition of value {tok.text}")
        self.scopes[-1][tok.text] = values

    def use(self) -> Value:
        tok = self.expect("value", "value use '%...'")
        name, _, index = tok.text.partition("#")
        values = next((s[name] for s in reversed(self.scopes) if name in s), None)
        if values is None:
            raise self.error(tok, f"use of undefined value {name}")
        if not index and len(values) > 1:
            raise self.error(tok, f"{name} has {len(values)} results: use {name}#N")
        if index and (len(index) > 5 or int(index) >= len(values)):
            raise self.error(tok, f"{name} has only {len(values)} result(s)")
        return values[int(index or 0)]

    # -- blocks and operations -----------------------------------------------------------
    def block_ops(self, block: Block) -> None:
        """Operations up to and including the closing '}'."""
        while not self.accept("}"):
            if self.lex.peek().kind == "block":
                raise self.expected("an operation (a region holds one block)")
            block.append(self.operation())

    def operation(self) -> Operation:
        groups = []  # (name token, result count): `%a, %b:2 = ...`
        if self.lex.peek().kind == "value":
            groups.append(self.result_group())
            while self.accept(","):
                groups.append(self.result_group())
            self.expect("=")
        start = self.lex.peek()
        if start.kind != "string":
            raise self.expected('an op name in quotes (generic form, "dialect.op")')
        name = self.lex.next().text
        self.expect("(")
        operands = self.comma_list(")", self.use)
        regions = []
        if self.accept("("):
            regions = self.comma_list(")", self.region)
        attrs = self.attr_dict_body() if self.accept("{") else {}
        self.expect(":")
        type_tok = self.expect("(")
        operand_types = self.comma_list(")", self.value_type)
        self.expect("->")
        result_types = self.result_types()
        location = self.location()
        self.check_operand_types(type_tok, operands, operand_types)
        if sum(n for _, n in groups) != len(result_types):
            raise self.error(start, f"{name} defines {sum(n for _, n in groups)} value(s) "
                                    f"but has {len(result_types)} result type(s)")
        op = Operation(name, operands, result_types, attrs, regions, location)
        results = iter(op.results)
        for tok, n in groups:
            self.define(tok, [next(results) for _ in range(n)])
        return op

    def result_group(self) -> tuple[Token, int]:
        """`%x` or `%x:N` (N results, used as %x#0 ... %x#N-1)."""
        tok = self.value_def()
        if not self.accept(":"):
            return tok, 1
        count = self.expect("int", "result count")
        if not count.text.isdigit() or len(count.text) > 5 or int(count.text) == 0:
            raise self.error(count, f"result count must be a positive integer, got {count.text}")
        return tok, int(count.text)

    def check_operand_types(self, tok: Token, operands: list[Value],
                            types: list[ValueType]) -> None:
        if len(types) != len(operands):
            raise self.error(tok, f"{len(operands)} operand(s) but {len(types)} operand type(s)")
        for i, (v, t) in enumerate(zip(operands, types)):
            if v.type != t:
                raise self.error(tok, f"operand #{i} has type {v.type} but {t} is written for it")

    def result_types(self) -> list[ValueType]:
        if self.accept("("):
            return self.comma_list(")", self.value_type)
        return [self.value_type()]

    def region(self) -> Block:
        """`{ ^bb0(%a: type, ...): ops }`; the label may be left out when there are no arguments."""
        tok = self.expect("{")
        block = Block()
        with self.nested(tok):
            self.scopes.append({})
            if self.accept("block"):
                if self.accept("("):
                    for arg_tok, t in self.comma_list(")", self.block_arg):
                        self.define(arg_tok, [block.add_arg(t)])
                self.expect(":")
            self.block_ops(block)
            self.scopes.pop()
        return block

    def block_arg(self) -> tuple[Token, ValueType]:
        tok = self.value_def()
        self.expect(":")
        return tok, self.value_type()

    def location(self) -> str | None:
        if not self.accept("id", "loc"):
            return None
        self.expect("(")
        unknown = self.accept("id", "unknown")
        loc = None if unknown else self.expect("string", "location string").text
        self.expect(")")
        return loc

    # -- types ---------------------------------------------------------------------------
    def elem_type(self) -> ElemType:
        tok = self.lex.peek()
        if tok.kind != "id" or tok.text not in ELEM_TYPES:
            raise self.expected("an element type (" + " ".join(ELEM_TYPES) + ")")
        return ELEM_TYPES[self.lex.next().text]

    def value_type(self) -> ValueType:
        """A tensor type, or one of the loop level's: `memref<...>`, `index`, a scalar `f32`."""
        tok = self.lex.peek()
        if tok.kind == "id" and tok.text == "memref":
            return self.memref_type()
        if tok.kind == "id" and tok.text == "index":
            self.lex.next()
            return INDEX
        if tok.kind == "id" and tok.text in ELEM_TYPES:
            return self.elem_type()
        return self.tensor_type()

    def memref_type(self) -> MemRefType:
        """`memref<4x8xf32>` (C-contiguous), `memref<4x8xf32, strided<[0, 1]>>`,
        `memref<4x8xf32, strided<[-8, 1], offset: 24>>`, or `memref<?xf32>` (flat, of run-time size)."""
        self.expect("id", "a memref type", "memref")
        self.expect("<")
        dims_pos = self.lex.pos
        shape = tuple(self.lex.scan_dims())
        dtype = self.elem_type()
        strides, offset = None, 0
        if self.accept(","):
            self.expect("id", "'strided'", "strided")
            self.expect("<")
            self.expect("[")
            strides_tok = self.lex.peek()
            strides = tuple(self.integer(t) for t in self.comma_list("]", lambda: self.expect("int", "a stride")))
            if len(strides) != len(shape):
                raise self.error(strides_tok, f"{len(strides)} strides for a rank-{len(shape)} memref")
            if self.accept(","):
                self.expect("id", "'offset'", "offset")
                self.expect(":")
                offset = self.integer(self.expect("int", "an offset"))
            self.expect(">")
        self.expect(">")
        try:
            return memref(shape, dtype, strides, offset)
        except ValueError as e:  # a run-time size that is not one flat contiguous dim
            raise self.lex.error(dims_pos, str(e)) from None

    def tensor_type(self) -> TensorType:
        self.expect("id", "a tensor type", "tensor")
        self.expect("<")
        shape = tuple(self.lex.scan_dims())
        dtype = self.elem_type()
        self.expect(">")
        return TensorType(shape, dtype)

    # -- attributes ----------------------------------------------------------------------
    def attr_dict_body(self) -> dict:
        """`key = value, ...}` after the '{'; keys are bare identifiers or strings."""
        attrs: dict = {}

        def entry():
            key = self.lex.peek()
            if key.kind not in ("id", "string"):
                raise self.expected("an attribute name")
            self.lex.next()
            if key.text in attrs:
                raise self.error(key, f"duplicate attribute '{key.text}'")
            self.expect("=")
            attrs[key.text] = self.attr()

        self.comma_list("}", entry)
        return attrs

    def attr(self):
        tok = self.lex.peek()
        if tok.kind in ("int", "float"):
            return self.number_attr()
        if tok.kind == "string":
            return self.lex.next().text
        if tok.kind == "[":
            self.lex.next()
            with self.nested(tok):
                return self.comma_list("]", self.attr)
        if tok.kind == "id":
            if tok.text in ("true", "false"):
                return self.lex.next().text == "true"
            if tok.text == "dense":
                return self.dense()
            if tok.text == "tensor":
                return self.tensor_type()
            if tok.text in ELEM_TYPES:
                return self.elem_type()
        raise self.expected("an attribute value")

    def number_attr(self) -> int | float:
        """`3`, `3 : i64`, `1.5`, `1.5 : f64`, `0x7FF8000000000000 : f64` (bits of a float)."""
        tok = self.lex.next()
        if not self.accept(":"):
            return float(tok.text) if tok.kind == "float" else self.integer(tok)
        type_tok = self.lex.peek()
        dtype = self.elem_type()
        if dtype.is_bool:
            raise self.error(type_tok, "a number attribute needs an integer or float type, not i1")
        if dtype.is_float:
            return float(self.scalar(tok, dtype))
        if tok.kind == "float":
            raise self.error(tok, f"expected an integer literal for {dtype} but found {tok.text}")
        return self.integer(tok)

    def integer(self, tok: Token) -> int:
        digits = tok.text.lstrip("-")
        if len(digits) > 1000:  # also keeps int() clear of Python's 4300-digit limit
            raise self.error(tok, "integer literal too long")
        return int(tok.text, 16 if digits.startswith("0x") else 10)

    def dense(self) -> np.ndarray:
        """`dense<[[1, 2], [3, 4]]> : tensor<2x2xi32>`, a splat `dense<0.0> : tensor<3xf32>`, or
        the elements' little-endian bytes in hex, `dense<"0x0000803F..."> : tensor<...>`."""
        start = self.expect("id", "'dense'", "dense")
        self.expect("<")
        if self.lex.peek().kind == "string":
            return self.dense_hex()
        body = self.dense_literal()
        self.expect(">")
        self.expect(":")
        type_tok = self.lex.peek()
        type = self.tensor_type()
        if not type.is_static:
            raise self.error(type_tok, f"a dense attribute needs a static shape, not {type}")
        shape, flat = _shape_and_flat(body)
        if shape is None:
            raise self.error(start, "dense literal is not rectangular")
        if shape == () and type.size > MAX_SPLAT_ELEMENTS:
            raise self.error(type_tok, f"splat of {type.size} elements is over the parser's "
                                       f"limit of {MAX_SPLAT_ELEMENTS}")
        # An empty array prints as `[]` (or `[[], []]`) whatever its trailing dims are.
        empty_ok = 0 in shape and type.size == 0 and shape == type.shape[:len(shape)]
        if shape not in ((), type.shape) and not empty_ok:
            raise self.error(type_tok,
                             f"dense literal of shape {list(shape)} does not match {type}")
        values = np.array([self.scalar(t, type.dtype) for t in flat], type.dtype.np_dtype)
        try:
            out = np.empty(type.shape, type.dtype.np_dtype)
        except ValueError as e:  # an empty shape whose other dims overflow numpy's size
            raise self.error(type_tok, f"cannot make a {type}: {e}") from None
        out[...] = values.reshape(() if shape == () else type.shape)  # a splat broadcasts
        return out

    def dense_hex(self) -> np.ndarray:
        tok = self.lex.next()
        self.expect(">")
        self.expect(":")
        type_tok = self.lex.peek()
        type = self.tensor_type()
        if not type.is_static or type.dtype.is_bool:
            raise self.error(type_tok, f"a hex dense attribute needs a static numeric type, not {type}")
        if not tok.text.startswith("0x"):
            raise self.error(tok, "a dense string must be hex digits after '0x'")
        try:
            data = bytes.fromhex(tok.text[2:])
        except ValueError:
            raise self.error(tok, "a dense string must be hex digits after '0x'") from None
        dtype = type.dtype.np_dtype.newbyteorder("<")
        if len(data) != type.size * dtype.itemsize:
            raise self.error(tok, f"{len(data)} bytes of hex data do not fill {type} "
                                  f"({type.size * dtype.itemsize} bytes)")
        return np.frombuffer(data, dtype).astype(type.dtype.np_dtype).reshape(type.shape)

    def dense_literal(self):
        """A scalar token, or nested lists of them."""
        tok = self.lex.next()
        if tok.kind in ("int", "float") or (tok.kind == "id" and tok.text in ("true", "false")):
            return tok
        if tok.kind != "[":
            raise self.error(tok, f"expected a dense element or '[' but found {tok.describe()}")
        with self.nested(tok):
            return self.comma_list("]", self.dense_literal)

    def scalar(self, tok: Token, dtype: ElemType) -> np.generic:
        """One element's value as `dtype`'s numpy scalar; hex for a float type means its bits."""
        if tok.kind == "id" or dtype.is_bool:
            if tok.kind != "id" or not dtype.is_bool:
                raise self.error(tok, f"{tok.text} is not a value of type {dtype}")
            return np.bool_(tok.text == "true")
        if dtype.is_float and tok.text.startswith("0x"):
            bits = self.integer(tok)
            if bits >= 1 << dtype.bits:
                raise self.error(tok, f"{tok.text} has more than {dtype.bits} bits")
            return np.array(bits, f"u{dtype.nbytes}").view(dtype.np_dtype)[()]
        if dtype.is_float:
            with np.errstate(over="ignore"):
                return dtype.np_dtype.type(float(tok.text))
        if tok.kind == "float":
            raise self.error(tok, f"expected an integer for {dtype} but found {tok.text}")
        value, info = self.integer(tok), np.iinfo(dtype.np_dtype)
        if not info.min <= value <= info.max:
            raise self.error(tok, f"{value} is out of range for {dtype}")
        return dtype.np_dtype.type(value)


def _shape_and_flat(body) -> tuple[tuple | None, list[Token]]:
    """The shape of nested lists of tokens and their elements in order; shape None if ragged."""
    if isinstance(body, Token):
        return (), [body]
    parts = [_shape_and_flat(b) for b in body]
    shapes = {s for s, _ in parts}
    if len(shapes) > 1 or None in shapes:
        return None, []
    inner = shapes.pop() if shapes else ()
    return (len(body), *inner), [t for _, flat in parts for t in flat]


def _types(types) -> str:
    return ", ".join(map(str, types))
