"""Helpers for AOT tests: the system C compiler, `nm`, and C literals.

Compiling and linking cost ~0.1 s each and CI has 2 cores, so tests share artifacts
through module-scoped fixtures (`tmp_path_factory`) and compile many fetches at once.
"""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

if shutil.which("cc") is None or shutil.which("nm") is None:
    pytest.skip("AOT tests need the system C compiler (cc) and nm", allow_module_level=True)

#: libc and compiler-runtime symbols an AOT object or library may leave undefined.
LIBC = {"malloc", "free", "memcpy", "memmove", "memset", "posix_memalign", "aligned_alloc", "abort",
        "__stack_chk_fail",
        # weak references from the C runtime's crt files in every shared library
        "__cxa_finalize", "__gmon_start__", "_ITM_deregisterTMCloneTable", "_ITM_registerTMCloneTable",
        # libgcc helpers LLVM calls for f16 without F16C, powi and i128 division
        "__extendhfsf2", "__truncsfhf2", "__truncdfhf2", "__powisf2", "__powidf2",
        "__divti3", "__udivti3", "__modti3", "__umodti3"}
_LIBM_BASES = (
    "exp", "exp2", "exp10", "expm1", "log", "log2", "log10", "log1p", "pow", "sqrt", "cbrt", "hypot",
    "sin", "cos", "tan", "sincos", "asin", "acos", "atan", "atan2", "sinh", "cosh", "tanh", "asinh",
    "acosh", "atanh", "erf", "erfc", "lgamma", "tgamma", "fmod", "remainder", "floor", "ceil", "trunc",
    "round", "roundeven", "rint", "lrint", "llrint", "nearbyint", "fabs", "fmin", "fmax", "fma", "ldexp",
    "frexp", "modf", "copysign")
LIBM = {n + suffix for n in _LIBM_BASES for suffix in ("", "f", "l")}


def cc(*args: str, cwd: Path) -> None:
    """Run the system C compiler; fail the test with its diagnostics."""
    proc = subprocess.run(["cc", *args], check=False, cwd=cwd, capture_output=True, text=True)
    assert proc.returncode == 0, f"cc {' '.join(args)} failed:\n{proc.stderr}"


def run_program(path: Path) -> str:
    proc = subprocess.run([str(path)], check=False, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, f"{path} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def undefined_symbols(path: Path) -> set[str]:
    """`nm -u` names, without symbol versions (`expf@GLIBC_2.27` -> `expf`)."""
    out = subprocess.run(["nm", "-u", str(path)], capture_output=True, text=True, check=True).stdout
    return {line.split()[-1].split("@")[0] for line in out.splitlines() if line.strip()}


def exported_symbols(path: Path) -> set[str]:
    """Defined global symbols (dynamic ones for a shared library)."""
    dynamic = ["-D"] if path.suffix == ".so" else []
    out = subprocess.run(["nm", *dynamic, "-g", "--defined-only", str(path)],
                         capture_output=True, text=True, check=True).stdout
    return {line.split()[-1] for line in out.splitlines() if line.strip()}


def c_initializer(a: np.ndarray) -> str:
    """`{...}` with every element of `a`, flat, exact for its dtype (%.17g round-trips)."""
    flat = a.reshape(-1)
    if a.dtype.kind == "f":
        items = [repr(float(v)) + ("f" if a.dtype == np.float32 else "") for v in flat]
    else:
        items = [str(int(v)) for v in flat]
    return "{" + ", ".join(items or ["0"]) + "}"


def parse_printed(text: str) -> list[np.ndarray]:
    """The values a C main printed with `%.9g`/`%.17g`, one `name: v v v` line per result."""
    return [np.array([float(v) for v in re.split(r"\s+", line.split(":", 1)[1].strip()) if v])
            for line in text.splitlines() if ":" in line]


_PRINTF = {"float": ("%.9g", "(double)"), "double": ("%.17g", "")}


def c_main(name: str, signature: dict, inputs: list[np.ndarray]) -> str:
    """A C program that calls NAME_run on `inputs` and prints each result as `c_name: v v ...`;
    it uses only the header's declarations and macros."""
    from lowerflow.backend.aot_abi import C_TYPES

    lines = ["#include <stdio.h>", f'#include "{name}.h"', "", "int main(void) {"]
    for i, (p, a) in enumerate(zip(signature["args"], inputs)):
        lines.append(f"    static const {C_TYPES[p['dtype']]} in{i}[{name}_ARG{i}_SIZE + 1] = {c_initializer(a)};")
    for j, p in enumerate(signature["results"]):
        lines.append(f"    static {C_TYPES[p['dtype']]} out{j}[{name}_RESULT{j}_SIZE + 1];")
    call_args = [f"in{i}" for i in range(len(inputs))] + [f"out{j}" for j in range(len(signature["results"]))]
    lines += [f"    int rc = {name}_run({', '.join(call_args)});",
              f'    if (rc != 0) {{ fprintf(stderr, "%d: %s\\n", rc, {name}_error(rc)); return 2; }}']
    for j, p in enumerate(signature["results"]):
        fmt, cast = _PRINTF.get(C_TYPES[p["dtype"]], ("%lld", "(long long)"))
        lines += [f'    printf("{p["c_name"]}:");',
                  f"    for (long i = 0; i < {name}_RESULT{j}_SIZE; ++i) printf(\" {fmt}\", {cast}out{j}[i]);",
                  '    printf("\\n");']
    lines += ["    return 0;", "}", ""]
    return "\n".join(lines)
