"""`lowerflow`: the command line (cf. tfcompile's `--graph --config --cpp_class`).

    lowerflow aot FILE.mlir --name NAME -o DIR [--target-cpu CPU] [--shared]

`aot` compiles a textual IR module (as `lowerflow.to_ir` prints it) to `DIR/NAME.o`,
`NAME.h` and `NAME.json` (and `libNAME.so` with --shared); the function is `@step`, or
the module's only function, and its arguments need static shapes: variables are
expected frozen already (`lowerflow.aot.freeze`). A user error (unreadable file, bad
IR, unsupported op, no C compiler) prints one `error: ...` line and exits 1.
"""
from __future__ import annotations

import argparse
from collections.abc import Sequence

from lowerflow.ir import Function, ParseError, parse_module
from lowerflow.ir.verifier import VerifyError
from lowerflow.passes.opt_main import UsageError, _ArgumentParser, _error, _read  # one CLI convention
from lowerflow.runtime.aot import compile_ir


def _arg_parser() -> argparse.ArgumentParser:
    ap = _ArgumentParser(prog="lowerflow", description="lowerflow compiler tools.")
    sub = ap.add_subparsers(dest="command", required=True, parser_class=_ArgumentParser)
    aot = sub.add_parser("aot", help="compile an IR module to an object file and C header")
    aot.add_argument("file", help="textual IR module (lowerflow.to_ir output), or - for stdin")
    aot.add_argument("--name", required=True, help="C prefix: NAME_run, NAME_error, NAME.h")
    aot.add_argument("-o", "--out-dir", required=True, metavar="DIR", help="output directory")
    aot.add_argument("--target-cpu", default="host",
                     help="'host' (this CPU and its features) or an LLVM CPU name, e.g. x86-64-v3")
    aot.add_argument("--shared", action="store_true", help="also link libNAME.so with cc")
    return ap


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = _arg_parser().parse_args(argv)
        art = compile_ir(_read_function(args.file), name=args.name, out_dir=args.out_dir,
                         target_cpu=args.target_cpu, shared=args.shared)
    except SystemExit as e:  # --help
        return int(e.code or 0)
    except ParseError as e:
        return _error(f"{args.file}:{e}")
    except VerifyError as e:
        return _error(f"{args.file}: invalid IR: {e}")
    except (UsageError, ValueError, NotImplementedError, OSError, RuntimeError) as e:
        return _error(str(e))
    for path in (art.object, art.header, art.signature, art.library):
        if path is not None:
            print(path)
    return 0


def _read_function(path: str) -> Function:
    functions = parse_module(_read(path)).functions
    named = [f for f in functions if f.name == "step"]
    if named or len(functions) == 1:
        return (named or functions)[0]
    raise UsageError(f"{path}: expected a function @step or exactly one function, "
                     f"found {', '.join('@' + f.name for f in functions) or 'none'}")
