"""Tokens of the textual IR, with source positions (cf. MLIR's `Lexer.cpp`).

The lexer is lazy: the parser asks for one token at a time, so it can switch
to `scan_dims` right after `tensor<`, where `2x?x3xf32` must split into dims
and an element type rather than lex as the number 2 and the identifier
`x3xf32` (MLIR's lexer has the same special case). `//` comments and
whitespace are skipped. Every error is a `ParseError` whose message starts
with the 1-based `line:col` of the offending character.
"""
from __future__ import annotations

import bisect
import re
from typing import NamedTuple


class ParseError(ValueError):
    """Malformed IR text; the message starts with `line:col: ` (both 1-based)."""

    def __init__(self, line: int, col: int, msg: str):
        super().__init__(f"{line}:{col}: {msg}")
        self.line, self.col, self.msg = line, col, msg


class Token(NamedTuple):
    # "id", "value", "symbol", "block", "int", "float", "string", "eof", or the punctuation itself
    kind: str
    text: str  # the source text (for "string": the unescaped contents)
    pos: int   # offset into the source

    def describe(self) -> str:
        if self.kind == "eof":
            return "end of input"
        return repr(self.text) if self.kind != "string" else '"' + self.text[:40] + '"'


# Order matters: `->` before a negative number, floats before ints, hex before both.
_TOKEN = re.compile(r"""
    (?P<skip>(?:\s|//[^\n]*)+)
  | (?P<value>%[A-Za-z0-9_$.\-]+(?:\#[0-9]+)?)
  | (?P<symbol>@[A-Za-z_][A-Za-z0-9_$.\-]*)
  | (?P<block>\^[A-Za-z0-9_$.\-]+)
  | (?P<arrow>->)
  | (?P<hex>0x[0-9A-Fa-f]+)
  | (?P<float>-?[0-9]+(?:\.[0-9]*(?:[eE][+-]?[0-9]+)?|[eE][+-]?[0-9]+))
  | (?P<int>-?[0-9]+)
  | (?P<id>[A-Za-z_][A-Za-z0-9_$.]*)
  | (?P<punct>[(){}\[\]<>,=:?@])
""", re.VERBOSE)
_DIMS = re.compile(r"(?:(?:[0-9]+|\?)x)*")
_ESCAPES = {"\\": "\\", '"': '"', "n": "\n", "t": "\t"}


class Lexer:
    """Hands out tokens on demand; `peek` looks one token ahead."""

    def __init__(self, text: str):
        self.text = text
        self.pos = 0
        self._peeked: Token | None = None
        self._line_starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def where(self, pos: int) -> tuple[int, int]:
        line = bisect.bisect_right(self._line_starts, pos)
        return line, pos - self._line_starts[line - 1] + 1

    def error(self, pos: int, msg: str) -> ParseError:
        return ParseError(*self.where(pos), msg)

    def peek(self) -> Token:
        if self._peeked is None:
            self._peeked = self._lex()
        return self._peeked

    def next(self) -> Token:
        tok = self.peek()
        self._peeked = None
        return tok

    def scan_dims(self) -> list[int | None]:
        """The `2x?x` prefix of a shaped type, read from the raw text (no token is peeked)."""
        assert self._peeked is None, "scan_dims needs the raw text after '<'"
        m = _DIMS.match(self.text, self.pos)
        dims = m.group().split("x")[:-1]
        for d in dims:
            if len(d) > 18:  # also keeps int() clear of Python's 4300-digit limit
                raise self.error(self.pos, f"dimension {d[:20]}... is too large")
        self.pos = m.end()
        return [None if d == "?" else int(d) for d in dims]

    def _lex(self) -> Token:
        m = _TOKEN.match(self.text, self.pos)
        if m and m.lastgroup == "skip":
            self.pos = m.end()
            m = _TOKEN.match(self.text, self.pos)
        start = self.pos
        if start >= len(self.text):
            return Token("eof", "", start)
        if self.text[start] == '"':
            return self._string(start)
        if m is None:
            raise self.error(start, f"unexpected character {self.text[start]!r}")
        self.pos = m.end()
        kind = m.lastgroup
        if kind in ("punct", "arrow"):
            kind = m.group()
        elif kind == "hex":
            kind = "int"
        return Token(kind, m.group(), start)

    def _string(self, start: int) -> Token:
        """A double-quoted string with MLIR's escapes: \\\\ \\" \\n \\t and two hex digits."""
        out, i, text = [], start + 1, self.text
        while True:
            if i >= len(text) or text[i] == "\n":
                raise self.error(start, "unterminated string")
            c = text[i]
            if c == '"':
                break
            if c == "\\":
                esc = text[i + 1:i + 3]
                if esc[:1] in _ESCAPES:
                    out.append(_ESCAPES[esc[0]])
                    i += 2
                    continue
                if re.fullmatch("[0-9A-Fa-f]{2}", esc):
                    out.append(chr(int(esc, 16)))
                    i += 3
                    continue
                raise self.error(i, f"unknown escape '\\{esc[:1]}' in string")
            out.append(c)
            i += 1
        self.pos = i + 1
        return Token("string", "".join(out), start)
