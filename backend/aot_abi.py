"""The C ABI of an ahead-of-time compiled step: `NAME_run`, `NAME_error` and `NAME.h`.

cf. tfcompile, which wraps XLA's `void**` buffer table in a generated C++ class with
typed argument/result accessors. Ours is plain C: one exported function taking one
typed pointer per feed (in feed order), then one per fetch (in fetch order):

    int NAME_run(const float *x, ..., float *y, ...);   /* 0, or a status code */
    const char *NAME_error(int code);                    /* the code's meaning */
    const char *NAME_hash(void);                         /* the artifacts' content hash */
    void NAME_release(void);                             /* free the cached arena */

`NAME_run` builds the backend's `buffers` table on its own stack and calls the step
(`codegen.py`). The module's one piece of global mutable state is the step's arena cache:
one pointer to a block for temporaries (a step that needs none has none), taken by a call
with an atomic exchange and put back with a compare-exchange; a call that finds it empty
(the first, or one concurrent with another) allocates its own block and frees it or caches
it on return. So `NAME_run` is reentrant and thread-safe, concurrent calls never share
temporaries, and a warm call allocates nothing. The cached block stays allocated until
`NAME_release` frees it (safe at any time: a call in flight keeps its own block) or the
process exits. Every other definition of the module becomes `internal`, so the object
exports exactly these four symbols (its only undefined ones are libc/libm). `NAME_hash` returns the hash that `NAME.json` and `NAME.h`
(`NAME_HASH`) also carry, so a loader can tell that the three come from one compile. Buffers need no alignment beyond their C element type's: the
backend's loads and stores use natural alignment (only its own arena and constants are
64-byte aligned). Status codes are `errors.STATUS_MESSAGES` (append-only).
"""
from __future__ import annotations

import functools
import re
import subprocess
import sys
from dataclasses import dataclass
from math import prod

from llvmlite import ir

from lowerflow.backend.codegen import release_name
from lowerflow.backend.errors import STATUS_MESSAGES
from lowerflow.backend.lltypes import I8, I32, I64, PTR
from lowerflow.ir import TensorType

#: IR element type -> the C type of one element in memory (bool is a 0/1 byte, f16 its bits).
C_TYPES: dict[str, str] = {
    "f16": "uint16_t", "f32": "float", "f64": "double",
    "i8": "int8_t", "i16": "int16_t", "i32": "int32_t", "i64": "int64_t",
    "ui8": "uint8_t", "ui16": "uint16_t", "ui32": "uint32_t", "ui64": "uint64_t", "i1": "uint8_t",
}
_C_KEYWORDS = frozenset((  # C/C++ words and our types, which a tensor name may spell
    "auto", "break", "case", "char", "const", "continue", "default", "do", "double", "else", "enum",
    "extern", "float", "for", "goto", "if", "inline", "int", "long", "register", "restrict", "return",
    "short", "signed", "sizeof", "static", "struct", "switch", "typedef", "union", "unsigned", "void",
    "volatile", "while", "bool", "true", "false", "class", "delete", "new", "this", "template",
    *C_TYPES.values()))  # a parameter named int32_t would hide the type from the ones after it


@dataclass(frozen=True)
class Param:
    """One argument or result of `NAME_run`: its C name, its graph tensor name and type."""

    c_name: str
    tensor_name: str
    type: TensorType

    @property
    def c_type(self) -> str:
        return C_TYPES[self.type.dtype.name]


def make_params(names: list[str | None], types: list[TensorType], fallback: str,
                taken: set[str]) -> list[Param]:
    """C parameter names from tensor names ("dense/Relu:0" -> "dense_Relu"), unique within
    `taken` (updated); unnamed values become `{fallback}{i}`."""
    params = []
    for i, (name, t) in enumerate(zip(names, types)):
        base = re.sub(r":0$", "", name) if name else f"{fallback}{i}"
        base = re.sub(r"\W", "_", base, flags=re.ASCII).strip("_") or f"{fallback}{i}"
        if base[0].isdigit() or base in _C_KEYWORDS:
            base = "t_" + base
        c_name, n = base, 2
        while c_name in taken:
            c_name, n = f"{base}_{n}", n + 1
        taken.add(c_name)
        params.append(Param(c_name, name or c_name, t))
    return params


def check_entry_name(name: str) -> None:
    """`name` prefixes C symbols and macros (`NAME_run`): it must be an ASCII C identifier."""
    if not isinstance(name, str):
        raise TypeError(f"the AOT name must be a str (a C identifier), got {type(name).__name__} {name!r}")
    if not (name.isascii() and name.isidentifier()):
        raise ValueError(f"the AOT name must be a C identifier, got {name!r}")


#: CPU names that need no probe: the x86-64 micro-architecture levels.
PORTABLE_CPUS = ("x86-64", "x86-64-v2", "x86-64-v3", "x86-64-v4")
_PROBE = ("import sys; from lowerflow.backend.jit import emit_object; "
          "emit_object('define void @f() {\\n  ret void\\n}', sys.argv[1])")


@functools.cache
def check_target_cpu(cpu: str) -> None:
    """ValueError unless LLVM knows `cpu` ("host", a level, or a CPU name such as skylake).

    LLVM only warns about an unknown CPU name, and then may abort the whole process
    ("64-bit code requested on a subtarget that doesn't support it"), so names other
    than the known ones are tried in a child process first."""
    if cpu == "host" or cpu in PORTABLE_CPUS:
        return
    proc = subprocess.run([sys.executable, "-c", _PROBE, cpu], check=False, capture_output=True, text=True)
    if proc.returncode or "not a recognized processor" in proc.stderr:
        raise ValueError(f"unknown target CPU {cpu!r}: use 'host', {', '.join(map(repr, PORTABLE_CPUS))} "
                         "or an LLVM CPU name for this target (e.g. 'skylake')")


def add_entry_points(m: ir.Module, name: str, step: ir.Function, n_params: int, digest: str) -> None:
    """Add `NAME_run`, `NAME_error`, `NAME_hash` (returning `digest`) and `NAME_release` to
    `m` (which holds `step` and its release function, `codegen.release_name`); internalise
    the rest."""
    run = ir.Function(m, ir.FunctionType(I32, [PTR] * n_params), f"{name}_run")
    b = ir.IRBuilder(run.append_basic_block("entry"))
    table = b.alloca(PTR, size=ir.Constant(I64, n_params), name="buffers")
    for i, arg in enumerate(run.args):
        b.store(arg, b.gep(table, [ir.Constant(I64, i)], source_etype=PTR, inbounds=True))
    b.ret(b.call(step, [table]))
    _add_error_function(m, f"{name}_error")
    hash_fn = ir.Function(m, ir.FunctionType(PTR, []), f"{name}_hash")
    ir.IRBuilder(hash_fn.append_basic_block("entry")).ret(_c_string(m, digest))
    release = ir.Function(m, ir.FunctionType(ir.VoidType(), []), f"{name}_release")
    rb = ir.IRBuilder(release.append_basic_block("entry"))
    rb.call(m.get_global(release_name(step.name)), [])
    rb.ret_void()
    exported = {run.name, f"{name}_error", hash_fn.name, release.name}
    for g in m.global_values:
        defined = not (isinstance(g, ir.Function) and g.is_declaration)
        if defined and g.name not in exported and g.linkage in ("", "external"):
            g.linkage = "internal"


def _add_error_function(m: ir.Module, fn_name: str) -> None:
    """`const char *fn_name(int code)`: a switch over the status codes' messages."""
    fn = ir.Function(m, ir.FunctionType(PTR, [I32]), fn_name)
    b = ir.IRBuilder(fn.append_basic_block("entry"))
    default = fn.append_basic_block("unknown")
    switch = b.switch(fn.args[0], default)
    for code, message in {0: "OK", **STATUS_MESSAGES}.items():
        block = fn.append_basic_block(f"code{code}")
        switch.add_case(ir.Constant(I32, code), block)
        ir.IRBuilder(block).ret(_c_string(m, message))
    ir.IRBuilder(default).ret(_c_string(m, "unknown status code"))


def _c_string(m: ir.Module, text: str) -> ir.GlobalVariable:
    data = bytearray(text.encode() + b"\0")
    g = ir.GlobalVariable(m, ir.ArrayType(I8, len(data)), m.get_unique_name("msg"))
    g.initializer = ir.Constant(g.value_type, data)
    g.global_constant, g.linkage, g.unnamed_addr = True, "private", True
    return g


def c_header(name: str, args: list[Param], results: list[Param], cpu: str, digest: str) -> str:
    """The text of `NAME.h`: documented prototypes and shape constants."""
    params = [f"const {p.c_type} *{p.c_name}" for p in args] + [f"{p.c_type} *{p.c_name}" for p in results]
    proto = f"int {name}_run({', '.join(params)});"
    codes = "".join(f" *     {code}: {msg}\n" for code, msg in STATUS_MESSAGES.items())
    guard = f"LOWERFLOW_AOT_{name.upper()}_H"
    lines = [
        f"/* {name}.h: generated by lowerflow (`lowerflow.aot`, cf. tfcompile).",
        f" * {name}.o is code for CPU \"{cpu}\": it runs on CPUs with that one's instruction set",
        " * (target_cpu=\"x86-64-v3\" gives code for any x86-64 CPU with AVX2).",
        " *",
        f" * {proto}",
        " *   Arguments (read only), then results (written), each a C-contiguous (row-major)",
        " *   array of the listed C type and shape, in this order:",
        *(_describe(p, "in ") for p in args),
        *(_describe(p, "out") for p in results),
        " *   bool tensors are uint8_t 0/1 bytes; float16 tensors are uint16_t IEEE half bits.",
        " *   Alignment: none beyond the C element type's own. Pointers must be valid for",
        " *   the whole array; results must not overlap the arguments or each other (an",
        " *   argument may be passed twice). Link the object with -lm.",
        " *   Returns 0 on success, else a status code (results are then unspecified):",
        codes.rstrip("\n"),
        f" *   {name}_error(code) returns the code's message (a static string).",
        f" *   {name}_hash() returns {name}_HASH: this header, {name}.json and the code are one compile.",
        " *   Reentrant and thread-safe. Global state: one cached block for temporaries (if the",
        " *   step needs any), taken and put back atomically; a call that finds it taken",
        " *   allocates its own (aligned_alloc), so concurrent calls never share temporaries.",
        f" *   The cached block stays allocated until {name}_release() frees it (safe at any",
        " *   time, also while other threads call; a later call allocates a new one).",
        " */",
        f"#ifndef {guard}",
        f"#define {guard}",
        "",
        "#include <stdint.h>",
        "",
        "#ifdef __cplusplus",
        'extern "C" {',
        "#endif",
        "",
        f'#define {name}_HASH "{digest}"',
        f"#define {name}_NUM_ARGS {len(args)}",
        f"#define {name}_NUM_RESULTS {len(results)}",
    ]
    for kind, group in (("ARG", args), ("RESULT", results)):
        for i, p in enumerate(group):
            lines += _shape_constants(f"{name}_{kind}{i}", p)
    lines += [
        "",
        proto,
        f"const char *{name}_error(int code);",
        f"const char *{name}_hash(void);",
        f"void {name}_release(void);",
        "",
        "#ifdef __cplusplus",
        "}",
        "#endif",
        "",
        f"#endif /* {guard} */",
        "",
    ]
    return "\n".join(lines)


def _comment_safe(text: str) -> str:
    return text.replace("*/", "* /")


def _describe(p: Param, direction: str) -> str:
    dims = "".join(f"[{d}]" for d in p.type.shape)
    return (f" *     {direction} {p.c_type} {p.c_name}{dims}: tensor \"{_comment_safe(p.tensor_name)}\", "
            f"{p.type.dtype.np_name}, shape {list(p.type.shape)}")


def _shape_constants(prefix: str, p: Param) -> list[str]:
    lines = [
        "",
        f"/* {p.c_name}: tensor \"{_comment_safe(p.tensor_name)}\", {p.type.dtype.np_name} */",
        f"#define {prefix}_RANK {p.type.rank}",
        f"#define {prefix}_SIZE {prod(p.type.shape)} /* elements */",
        f"#define {prefix}_BYTES {p.type.nbytes}",
    ]
    if p.type.rank:  # C has no empty initialiser lists (before C23): scalars get no array
        dims = ", ".join(map(str, p.type.shape))
        lines.append(f"static const int64_t {prefix}_SHAPE[{p.type.rank}] = {{{dims}}};")
    return lines
