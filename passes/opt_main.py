"""`lowerflow-opt`: IR text in, pipeline, IR text out (cf. `mlir-opt`, xDSL's `xdsl-opt`).

    lowerflow-opt FILE|- -p "prune,constant-fold,dce,fuse{max-ops=32}"

The IR is parsed, verified, run through the pipeline (verified after each pass
unless --no-verify-each) and printed to stdout. IR dumps (--print-ir-*) and the
--pass-timing table go to stderr, as in mlir-opt, so stdout stays one module per
input; so do --print-buffer-plan (each function's buffer plan after the pipeline)
and --print-rewrites (each rewrite of a pass that logs them: `canonicalize`).
--split-input-file treats each `// -----` separated chunk as its own input, like
the lit tests that use it. --emit=llvm|asm prints each function after the pipeline
as its optimised LLVM IR or assembly for this CPU instead (cf. `mlir-translate
--mlir-to-llvmir`, `llc`): the translations are the facade's (`lowerflow.tooling.opt_main`
passes them in), since this layer may not import the backend. A user error (unreadable file, bad IR, bad
pipeline) prints one `error: ...` line and exits 1; only compiler bugs give a
traceback.
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import TextIO

from lowerflow.ir.buffers import StalePlanError, buffer_plan, plan_table, static_shapes
from lowerflow.ir.core import Function, Module
from lowerflow.ir.parser import ParseError, parse_module
from lowerflow.ir.printer import print_module
from lowerflow.ir.verifier import VerifyError
from lowerflow.passes.manager import (
    Pass,
    PassFailed,
    PassManager,
    PassStats,
    PipelineError,
    format_option_value,
    list_passes,
    parse_pipeline,
)

SPLIT_MARKER = "// -----"
#: --emit targets besides "mlir": name -> function text (cf. mlir-translate's registry)
Translations = Mapping[str, Callable[[Function], str]]


class UsageError(Exception):
    """A bad command line, input or pipeline: reported as one `error:` line."""


class _ArgumentParser(argparse.ArgumentParser):
    def error(self, message: str):
        raise UsageError(message)


def _arg_parser(translations: Translations) -> argparse.ArgumentParser:
    ap = _ArgumentParser(prog="lowerflow-opt", description="Run a pass pipeline over lowerflow IR.")
    ap.add_argument("file", nargs="?", help="input IR file, or - for stdin")
    ap.add_argument("-p", "--pipeline", default="", help='pass pipeline, e.g. "prune,dce,fuse{max-ops=32}"')
    ap.add_argument("--print-ir-after-all", action="store_true", help="print the IR after every pass")
    ap.add_argument("--print-ir-after-change", action="store_true",
                    help="print the IR after every pass that changed it")
    ap.add_argument("--print-ir-before", action="append", default=[], metavar="PASS",
                    help="print the IR before each run of PASS (repeatable)")
    ap.add_argument("--verify-each", action=argparse.BooleanOptionalAction, default=True,
                    help="verify the IR after each pass (default: on)")
    ap.add_argument("--pass-timing", action="store_true", help="print per-pass statistics to stderr")
    ap.add_argument("--print-buffer-plan", action="store_true",
                    help="print each function's buffer plan after the pipeline (the one plan-buffers recorded, "
                         "else a fresh one)")
    ap.add_argument("--print-rewrites", action="store_true", help="print each rewrite canonicalize made")
    ap.add_argument("--split-input-file", action="store_true",
                    help=f"process each '{SPLIT_MARKER}' separated chunk on its own")
    ap.add_argument("--emit", default="mlir", choices=["mlir", *sorted(translations)],
                    help="what to print after the pipeline: the IR (default), or each function's "
                         "optimised LLVM IR or assembly")
    ap.add_argument("--list-passes", action="store_true", help="list the registered passes and exit")
    return ap


def main(argv: Sequence[str] | None = None, translations: Translations | None = None) -> int:
    """The command line; `translations` are the --emit targets besides the IR itself."""
    translations = translations or {}
    try:
        args = _arg_parser(translations).parse_args(argv)
    except SystemExit as e:  # --help
        return int(e.code or 0)
    except UsageError as e:
        return _error(str(e))
    if args.list_passes:
        print(_passes_listing())
        return 0
    try:
        passes = parse_pipeline(args.pipeline)
        known = {name for name, _, _ in list_passes()}
        for name in args.print_ir_before:
            if name not in known:
                raise UsageError(f"--print-ir-before: unknown pass '{name}'")
        if args.file is None:
            raise UsageError("no input file (use - for stdin)")
        text = _read(args.file)
    except (PipelineError, UsageError) as e:
        return _error(str(e))
    name = "<stdin>" if args.file == "-" else args.file
    chunks = _split(text) if args.split_input_file else [(0, text)]
    outputs, status = [], 0
    for first_line, chunk in chunks:
        pm = PassManager(passes, args.verify_each)
        _add_ir_printing(pm, args, sys.stderr)
        try:
            module = pm.run(parse_module(chunk))
            plans = "".join(_buffer_plan(f) + "\n" for f in module.functions) if args.print_buffer_plan else ""
            outputs.append(_emit(module, args.emit, translations))
            sys.stderr.write(plans)
        except ParseError as e:
            status = _error(f"{name}:{e.line + first_line}:{e.col}: {e.msg}")
        except VerifyError as e:
            status = _error(f"{name}:{first_line + 1}: invalid IR: {e}")
        except (PassFailed, StalePlanError, UsageError) as e:
            status = _error(f"{name}:{first_line + 1}: {e}")
        if args.pass_timing and pm.stats:
            print(pm.stats_table(), file=sys.stderr)
    sys.stdout.write((SPLIT_MARKER + "\n").join(outputs))
    return status


def _emit(module: Module, what: str, translations: Translations) -> str:
    """`module` as `what` (--emit); a translation that refuses the IR (a dynamic shape, an
    op with no native lowering) is a UsageError."""
    if what == "mlir":
        return print_module(module)
    try:
        return "".join(translations[what](f) for f in module.functions)
    except (ValueError, NotImplementedError) as e:
        raise UsageError(f"cannot emit {what}: {e}") from None


def _error(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 1


def _read(path: str) -> str:
    if path == "-":
        return sys.stdin.read()
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except (OSError, UnicodeDecodeError) as e:
        raise UsageError(f"cannot read '{path}': {getattr(e, 'strerror', None) or e}") from None


def _split(text: str) -> list[tuple[int, str]]:
    """(index of the chunk's first line, chunk text) for each marker-separated chunk."""
    chunks, start, lines = [], 0, text.splitlines(keepends=True)
    for i, line in enumerate(lines):
        if line.strip() == SPLIT_MARKER:
            chunks.append((start, "".join(lines[start:i])))
            start = i + 1
    chunks.append((start, "".join(lines[start:])))
    return chunks


def _add_ir_printing(pm: PassManager, args: argparse.Namespace, out: TextIO) -> None:
    def dump(when: str, p: Pass, module: Module) -> None:
        out.write(f"// -----// IR Dump {when} {p} //----- //\n{print_module(module)}")

    if args.print_ir_before:
        pm.before_pass.append(lambda p, m: dump("Before", p, m) if p.name in args.print_ir_before else None)
    if args.print_rewrites:  # passes that log their rewrites have a `log` (canonicalize)
        pm.after_pass.append(lambda p, m, stats: out.write("".join(
            f"// rewrite {r.rule}: {r.op} in @{r.func}\n" for r in getattr(p, "log", ()))))
    if args.print_ir_after_all or args.print_ir_after_change:
        def after(p: Pass, m: Module, stats: PassStats) -> None:
            if args.print_ir_after_all or stats.changed:
                dump("After", p, m)
        pm.after_pass.append(after)


def _buffer_plan(func: Function) -> str:
    if not static_shapes(func):
        return f"@{func.name}: no buffer plan: not every shape is static"
    return plan_table(func, buffer_plan(func))


def _passes_listing() -> str:
    lines = []
    for name, description, options in list_passes():
        lines.append(f"{name}: {description}")
        lines.extend(f"    {o.name}={format_option_value(o.default)} ({o.type.__name__}): {o.help}"
                     for o in options)
    return "\n".join(lines)
