"""`lowerflow`: the command line (cf. tfcompile's `--graph --config --cpp_class`).

    lowerflow aot FILE.mlir --name NAME -o DIR [--target-cpu CPU] [--shared]
    lowerflow aot MODEL.pb --feed x:0=1x784 --fetch y:0 --name NAME -o DIR [...]
    lowerflow graph FILE -o graph.svg [--feed TENSOR=DIMx...] [--fetch NAME] [--no-optimize]

`aot` compiles a textual IR module (as `lowerflow.to_ir` prints it) or a frozen GraphDef
(`.pb` binary, `.pbtxt` text) to `DIR/NAME.o`, `NAME.h` and `NAME.json` (and
`libNAME.so` with --shared). From IR the function is `@step`, or the module's only
function, and its arguments need static shapes: variables are expected frozen already
(`lowerflow.aot.freeze`). From a GraphDef the feeds (`--feed TENSOR[=DIMxDIM...]`, in
argument order; without `=` the placeholder's static shape, `TENSOR=` a scalar) and
fetches (`--fetch TENSOR`, in result order) are tensor names, dtypes the graph's own. A
user error (unreadable file, bad IR, unknown tensor, bad shape, unsupported op, no C
compiler) prints one `error: ...` line and exits 1.

`graph` draws a GraphDef (`.pb`, `.pbtxt`) or IR module after the pass pipeline, fusion
groups as clusters, kernels coloured by kind (`lowerflow.tooling.draw_graph`): `.svg`,
`.png`, `.pdf` are rendered by Graphviz's `dot`, `.dot` / `.gv` are its DOT text.
"""
from __future__ import annotations

import argparse
from collections.abc import Sequence

from lowerflow.ir import Function, ParseError, parse_module
from lowerflow.ir.verifier import VerifyError
from lowerflow.passes.opt_main import UsageError, _ArgumentParser, _error, _read  # one CLI convention
from lowerflow.runtime.aot import compile_ir
from lowerflow.runtime.aot_graph_def import compile_graph_def
from lowerflow.runtime.pictures import GRAPH_DEF_SUFFIXES, draw_graph


def _arg_parser() -> argparse.ArgumentParser:
    ap = _ArgumentParser(prog="lowerflow", description="lowerflow compiler tools.")
    sub = ap.add_subparsers(dest="command", required=True, parser_class=_ArgumentParser)
    aot = sub.add_parser("aot", help="compile an IR module to an object file and C header")
    aot.add_argument("file", help="textual IR module (lowerflow.to_ir output, - for stdin), "
                                  "or a frozen GraphDef (.pb binary, .pbtxt text)")
    aot.add_argument("--name", required=True, help="C prefix: NAME_run, NAME_error, NAME.h")
    aot.add_argument("-o", "--out-dir", required=True, metavar="DIR", help="output directory")
    aot.add_argument("--target-cpu", default="host",
                     help="'host' (this CPU and its features) or an LLVM CPU name, e.g. x86-64-v3")
    aot.add_argument("--shared", action="store_true", help="also link libNAME.so with cc")
    aot.add_argument("--feed", action="append", default=[], metavar="TENSOR[=DIMxDIM...]",
                     help="GraphDef only: an input tensor, e.g. x:0=1x784 (repeat, in argument order)")
    aot.add_argument("--fetch", action="append", default=[], metavar="TENSOR",
                     help="GraphDef only: an output tensor, e.g. y:0 (repeat, in result order)")
    graph = sub.add_parser("graph", help="draw a GraphDef or IR module with its fusion groups (Graphviz)")
    graph.add_argument("file", help="a GraphDef (.pb binary, .pbtxt text) or a textual IR module (- for stdin)")
    graph.add_argument("-o", "--output", required=True, metavar="FILE",
                       help="the picture: .svg, .png, .pdf (rendered by dot) or .dot/.gv (DOT text)")
    graph.add_argument("--feed", action="append", default=[], metavar="TENSOR[=DIMxDIM...]",
                       help="GraphDef only: a placeholder's shape (unknown dims are drawn at 1 otherwise)")
    graph.add_argument("--fetch", action="append", default=[], metavar="NAME",
                       help="GraphDef only: a tensor or op to draw the slice of (default: every op nothing "
                            "consumes, initializers aside)")
    graph.add_argument("--function", metavar="NAME", help="IR only: the function to draw (default: @step, or the only one)")
    graph.add_argument("--no-optimize", action="store_true", help="draw the IR before the pass pipeline")
    return ap


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = _arg_parser().parse_args(argv)
        written = _compile(args) if args.command == "aot" else [_draw(args)]
    except SystemExit as e:  # --help
        return int(e.code or 0)
    except ParseError as e:
        return _error(f"{args.file}:{e}")
    except VerifyError as e:
        return _error(f"{args.file}: invalid IR: {e}")
    except KeyError as e:  # an unknown tensor name: TF's message, without KeyError's quotes
        return _error(str(e.args[0]))
    except (UsageError, ValueError, TypeError, NotImplementedError, OSError, RuntimeError, ImportError) as e:
        return _error(str(e))
    for path in written:
        print(path)
    return 0


def _compile(args: argparse.Namespace) -> list:
    """`lowerflow aot`: the paths written."""
    options = dict(name=args.name, out_dir=args.out_dir, target_cpu=args.target_cpu, shared=args.shared)
    if _is_graph_def(args):
        if not args.fetch:
            raise UsageError(f"{args.file}: a GraphDef needs at least one --fetch TENSOR (e.g. --fetch y:0)")
        art = compile_graph_def(args.file, _feeds(args.feed), args.fetch, **options)
    else:
        art = compile_ir(_read_function(args.file), **options)
    return [p for p in (art.object, art.header, art.signature, art.library) if p is not None]


def _draw(args: argparse.Namespace) -> str:
    """`lowerflow graph`: the picture's path."""
    if _is_graph_def(args):
        draw_graph(args.file, args.output, fetches=args.fetch or None, feeds=_feeds(args.feed),
                   optimize=not args.no_optimize)
    else:
        draw_graph(_read_function(args.file, args.function), args.output, optimize=not args.no_optimize)
    return args.output


def _is_graph_def(args: argparse.Namespace) -> bool:
    """A GraphDef file (where --function is an error); else IR (where --feed and --fetch are)."""
    if args.file.endswith(GRAPH_DEF_SUFFIXES):
        if getattr(args, "function", None) is not None:
            raise UsageError("--function names a function of an IR module; a GraphDef has none")
        return True
    if args.feed or args.fetch:
        raise UsageError("--feed and --fetch name the tensors of a GraphDef (.pb, .pbtxt); "
                         f"'{args.file}' is read as IR, whose function's arguments and results are fixed")
    return False


def _feeds(specs: list[str]) -> dict[str, tuple[int, ...] | None]:
    """`--feed` values in order: `TENSOR` (its static shape), `TENSOR=` (a scalar),
    `TENSOR=DIMxDIM...`."""
    feeds: dict[str, tuple[int, ...] | None] = {}
    for spec in specs:
        name, has_shape, dims = spec.partition("=")
        if name in feeds:
            raise UsageError(f"--feed {name} given more than once")
        parts = dims.split("x") if dims else []
        if not name or not all(p.isdigit() for p in parts):
            raise UsageError(f"--feed '{spec}': expected TENSOR[=DIMxDIM...] with dims non-negative integers, "
                             "e.g. x:0=1x784")
        feeds[name] = tuple(int(p) for p in parts) if has_shape else None
    return feeds


def _read_function(path: str, name: str | None = None) -> Function:
    module = parse_module(_read(path))
    try:
        return module.step_function() if name is None else module[name]
    except KeyError:
        found = ", ".join("@" + f.name for f in module.functions) or "none"
        raise UsageError(f"{path}: no function @{name} (found {found})") from None
    except ValueError as e:
        raise UsageError(f"{path}: {e}") from None
