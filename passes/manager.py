"""The pass registry, pipeline text and the pass manager (cf. MLIR's PassManager and
PassRegistry, xDSL's `ModulePass`, Grappler's MetaOptimizer logging).

A pass is a frozen dataclass: its fields are its options, `name` is how pipeline
text spells it and its docstring is its description. `@register_pass` makes it
reachable from text such as `"prune,constant-fold{max-size=1024},dce,fuse{max-ops=32}"`,
so the same string drives the CLI, Session config and tests. The manager runs the
passes in order over a module in place, verifies the IR after each one (so a broken
invariant is blamed on the pass that broke it, not on the backend) and records, per
pass, the op count before/after, wall time and whether anything changed.
"""
from __future__ import annotations

import dataclasses
import difflib
import inspect
import re
import time
import typing
from collections.abc import Callable, Sequence
from typing import ClassVar, NamedTuple

from lowerflow.ir.core import Block, Function, Module
from lowerflow.ir.ops.control import is_control
from lowerflow.ir.verifier import VerifyError, verify

DEFAULT_PIPELINE = ("prune,constant-fold,cse,canonicalize,dce,sum-products,pretranspose,narrow-products,hoist-invariants,"
                    "cse,dce,fuse-rows,fuse,plan-buffers")


class PipelineError(ValueError):
    """Pipeline text names an unknown pass or option, or is malformed."""


class PassError(Exception):
    """A pass cannot handle its input (cf. MLIR's signalPassFailure); the message says why."""


class PassFailed(Exception):
    """A pass raised PassError or left IR that does not verify; names the pass. `module` is
    the IR as the pass left it."""

    def __init__(self, pass_: Pass, error: VerifyError | PassError, module: Module):
        what = "produced invalid IR" if isinstance(error, VerifyError) else "failed"
        super().__init__(f"pass '{pass_}' {what}: {error}")
        self.pass_, self.error, self.module = pass_, error, module


class Pass:
    """Base of every pass. Subclasses are frozen dataclasses whose fields are options."""

    name: ClassVar[str]

    def run(self, module: Module) -> bool:
        """Transform `module` in place; return whether anything changed."""
        raise NotImplementedError(f"pass '{self.name}' does not implement run")

    def __str__(self) -> str:
        """Pipeline text for this pass; options at their default are left out."""
        opts = [f"{o.name}={format_option_value(getattr(self, o.field))}"
                for o in pass_options(type(self)) if getattr(self, o.field) != o.default]
        return self.name + ("{" + " ".join(opts) + "}" if opts else "")


class FunctionPass(Pass):
    """A pass that handles each function on its own (cf. MLIR's OperationPass<func::FuncOp>),
    and then, when `regions` is true, each region of its control ops ("lf.if", "lf.while") the
    same way: a region is isolated from above, so it is a function of its block arguments
    to what it yields (`Function.view`). Regions are visited after the block that holds them
    was transformed (a folded "lf.if" is gone by then), outermost first."""

    #: Whether the pass also runs inside control-flow regions.
    regions: ClassVar[bool] = True

    def run(self, module: Module) -> bool:
        changed = [self._run_nested(f) for f in module.functions]  # all, even after a change
        return any(changed)

    def _run_nested(self, func: Function) -> bool:
        changed = self.run_on_function(func)
        if self.regions:
            for block in control_regions(func.body):
                changed |= self._run_nested(Function.view(func.name, block))
        return changed

    def run_on_function(self, func: Function) -> bool:
        raise NotImplementedError(f"pass '{self.name}' does not implement run_on_function")


def control_regions(block: Block) -> list[Block]:
    """The regions of the control ops directly in `block`."""
    return [region for op in block.ops if op.regions and is_control(op) for region in op.regions]


class PassOption(NamedTuple):
    name: str      # as spelled in pipeline text: `max-ops`
    type: type     # int, float, bool or str
    default: object
    help: str
    field: str     # the dataclass field: `max_ops`


def option(default, help: str):
    """A pass option: a dataclass field with a default and a one-line help text."""
    return dataclasses.field(default=default, metadata={"help": help})


_OPTION_TYPES = (int, float, bool, str)
_REGISTRY: dict[str, type[Pass]] = {}


def pass_options(cls: type[Pass]) -> list[PassOption]:
    hints = typing.get_type_hints(cls)
    return [PassOption(f.name.replace("_", "-"), hints[f.name], f.default, f.metadata.get("help", ""), f.name)
            for f in dataclasses.fields(cls) if f.init]


def register_pass(cls: type[Pass]) -> type[Pass]:
    """Class decorator: make a frozen-dataclass pass reachable by its `name`."""
    if not (isinstance(cls, type) and issubclass(cls, Pass)):
        raise TypeError(f"{cls!r} is not a Pass subclass")
    params = cls.__dict__.get("__dataclass_params__")  # not inherited: the class itself must be one
    if params is None or not params.frozen:
        raise TypeError(f"pass {cls.__name__} must be a frozen dataclass")
    name = getattr(cls, "name", None)
    if not isinstance(name, str) or not re.fullmatch(r"[a-z][a-z0-9-]*", name):
        raise TypeError(f"pass {cls.__name__} needs a lower-case `name`, got {name!r}")
    if name in _REGISTRY:
        raise ValueError(f"pass '{name}' registered twice")
    if not cls.__doc__ or cls.__doc__.startswith(cls.__name__ + "("):  # @dataclass invents one
        raise TypeError(f"pass '{name}' needs a docstring: it is the pass's description")
    for opt in pass_options(cls):
        if opt.type not in _OPTION_TYPES:
            raise TypeError(f"option '{opt.name}' of pass '{name}' has unsupported type {opt.type!r}")
        if opt.default is dataclasses.MISSING:
            raise TypeError(f"option '{opt.name}' of pass '{name}' needs a default")
    _REGISTRY[name] = cls
    return cls


def list_passes() -> list[tuple[str, str, list[PassOption]]]:
    """(name, description, options) of every registered pass, sorted by name."""
    return [(name, _summary(cls), pass_options(cls)) for name, cls in sorted(_REGISTRY.items())]


def _summary(cls: type) -> str:
    """The docstring's first paragraph on one line."""
    return " ".join(inspect.getdoc(cls).split("\n\n")[0].split())


# ---------------------------------------------------------------------------------------
# Pipeline text: `pass{opt=value opt=value},pass,...` (MLIR's textual pipeline syntax;
# options may also be separated by commas inside the braces).

_TOKEN = re.compile(r'\s*(?:(?P<word>[A-Za-z0-9_.+\-]+)|(?P<string>"(?:[^"\\]|\\.)*")|(?P<punct>[{}=,])|(?P<bad>\S))')


def _tokens(text: str) -> list[tuple[str, str, int]]:
    """(kind, text, column) tokens; column is 1-based. Ends with ("end", "", col)."""
    out = []
    pos = 0
    while True:
        m = _TOKEN.match(text, pos)
        if m is None:  # only trailing whitespace is left
            out.append(("end", "", len(text) + 1))
            return out
        kind = m.lastgroup
        value = m.group(kind)
        col = m.start(kind) + 1
        if kind == "bad":
            raise PipelineError(f"unexpected character {value!r} at column {col} of pipeline {text!r}")
        if kind == "string":
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        out.append((kind if kind != "punct" else value, value, col))
        pos = m.end()


class _Reader:
    def __init__(self, text: str):
        self.text = text
        self.toks = _tokens(text)
        self.i = 0

    def peek(self) -> str:
        return self.toks[self.i][0]

    def take(self, *kinds: str, what: str) -> str:
        kind, value, col = self.toks[self.i]
        if kind not in kinds:
            found = "end of pipeline" if kind == "end" else repr(value)
            raise PipelineError(f"expected {what} at column {col} of pipeline {self.text!r}, found {found}")
        self.i += 1
        return value


def parse_pipeline(text: str) -> list[Pass]:
    """Pass instances for pipeline text; PipelineError names what is wrong. "" is no passes."""
    if not isinstance(text, str):
        raise PipelineError(f"pipeline must be a string, got {type(text).__name__}")
    r = _Reader(text)
    passes: list[Pass] = []
    if r.peek() == "end":
        return passes
    while True:
        passes.append(_parse_pass(r))
        if r.take(",", "end", what="',' or end of pipeline") == "":
            return passes


def _parse_pass(r: _Reader) -> Pass:
    name = r.take("word", what="a pass name")
    cls = _REGISTRY.get(name)
    if cls is None:
        raise PipelineError(f"unknown pass '{name}'{_did_you_mean(name, _REGISTRY)}; "
                            f"known passes: {', '.join(sorted(_REGISTRY))}")
    options = {o.name: o for o in pass_options(cls)}
    values: dict[str, object] = {}
    if r.peek() == "{":
        r.take("{", what="'{'")
        while r.peek() != "}":
            if values and r.peek() != "word":  # options are separated by spaces or commas
                r.take(",", what=f"'}}' or another option of pass '{name}'")
            key = r.take("word", what=f"an option name of pass '{name}'")
            if key not in options:
                known = ", ".join(options) or "none"
                raise PipelineError(f"pass '{name}' has no option '{key}'{_did_you_mean(key, options)}; "
                                    f"its options: {known}")
            if options[key].field in values:
                raise PipelineError(f"option '{key}' of pass '{name}' given twice")
            r.take("=", what=f"'=' after option '{key}'")
            raw = r.take("word", "string", what=f"a value for option '{key}'")
            values[options[key].field] = _convert(raw, options[key], name)
        r.take("}", what="'}'")
    try:
        return cls(**values)
    except (ValueError, TypeError) as e:  # a pass's own option validation (__post_init__)
        raise PipelineError(f"pass '{name}': {e}") from None


def _did_you_mean(word: str, choices) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _convert(raw: str, opt: PassOption, pass_name: str):
    try:
        if opt.type is bool:
            return {"true": True, "false": False}[raw]
        if opt.type is int:
            return int(raw, 0)
        return opt.type(raw)
    except (KeyError, ValueError):
        expected = "true or false" if opt.type is bool else f"a{'n' if opt.type is int else ''} {opt.type.__name__}"
        raise PipelineError(f"option '{opt.name}' of pass '{pass_name}' expects {expected}, got '{raw}'") from None


def format_option_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str) and not re.fullmatch(r"[A-Za-z0-9_.+\-]+", v):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return str(v)


def pipeline_text(passes: Sequence[Pass]) -> str:
    """Pipeline text that parses back to `passes`."""
    return ",".join(str(p) for p in passes)


# ---------------------------------------------------------------------------------------
# The manager.

class PassStats(NamedTuple):
    name: str         # pipeline text of the pass
    ops_before: int   # top-level ops of every function (a fusion counts once)
    ops_after: int
    ms: float
    changed: bool


BeforeHook = Callable[[Pass, Module], None]
AfterHook = Callable[[Pass, Module, PassStats], None]


def count_ops(module: Module) -> int:
    """Top-level ops: what the backend emits one kernel or loop nest for (cf. Grappler's node count)."""
    return sum(len(f.ops) for f in module.functions)


class PassManager:
    """Runs a pipeline over a module in place, verifying after each pass.

    `before_pass` hooks get (pass, module) before a pass runs; `after_pass` hooks get
    (pass, module, stats) after it ran and verified. The CLI prints IR through them.
    """

    def __init__(self, pipeline: str | Sequence[Pass] = DEFAULT_PIPELINE, verify_each: bool = True,
                 before_pass: Sequence[BeforeHook] = (), after_pass: Sequence[AfterHook] = ()):
        self.passes: list[Pass] = parse_pipeline(pipeline) if isinstance(pipeline, str) else list(pipeline)
        self.verify_each = verify_each
        self.before_pass: list[BeforeHook] = list(before_pass)
        self.after_pass: list[AfterHook] = list(after_pass)
        self.stats: list[PassStats] = []  # of the last run

    def run(self, module: Module) -> Module:
        """Run every pass over `module` (in place) and return it.

        With verify_each, invalid input raises VerifyError and a pass that breaks the IR
        raises PassFailed naming it; so does a pass that raises PassError.
        """
        self.stats = []
        if self.verify_each:
            verify(module)
        for p in self.passes:
            for hook in self.before_pass:
                hook(p, module)
            before = count_ops(module)
            start = time.perf_counter()
            try:
                changed = bool(p.run(module))
            except PassError as e:
                raise PassFailed(p, e, module) from e
            ms = (time.perf_counter() - start) * 1e3
            if self.verify_each:
                try:
                    verify(module)
                except VerifyError as e:
                    raise PassFailed(p, e, module) from e
            stats = PassStats(str(p), before, count_ops(module), ms, changed)
            self.stats.append(stats)
            for hook in self.after_pass:
                hook(p, module, stats)
        return module

    def stats_table(self) -> str:
        """The last run's statistics as an aligned text table, with a total row."""
        header = ("pass", "ops before", "ops after", "delta", "time (ms)", "changed")
        rows = [(s.name, str(s.ops_before), str(s.ops_after), f"{s.ops_after - s.ops_before:+d}",
                 f"{s.ms:.3f}", "yes" if s.changed else "no") for s in self.stats]
        if self.stats:
            first, last = self.stats[0].ops_before, self.stats[-1].ops_after
            rows.append(("total", str(first), str(last), f"{last - first:+d}",
                         f"{sum(s.ms for s in self.stats):.3f}", "yes" if any(s.changed for s in self.stats) else "no"))
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

        def line(cells) -> str:
            return "  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                             for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

        return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])
