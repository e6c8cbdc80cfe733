"""A compiled step as bytes that travel to Dask workers: `Program`, and running it there.

Workers get no Python graph and no pickled closure. A `Program` is the ahead-of-time
compile of one graph slice held in memory (`aot.CompiledObject`: the bytes of `NAME.o`,
the signature `NAME.json`, the header) plus a small manifest: the fingerprint of the
CPU the object was compiled for and the IR text it was compiled from. A worker loads it
with the AOT loader (`aot.load`) once per content hash and keeps it in the backend's compile
cache (`compile_cache.CACHE`, under its one bound: least recently used code dropped first). On a CPU with
another fingerprint (name or features: what the disk cache keys objects by, since an
object for one CPU may use instructions another lacks) the worker compiles the IR text
itself first. Failures leave the worker as the `tf.errors` class a Session raises for
them, which Dask pickles back to the client and raises there.

This module needs no Dask: its functions are plain module-level functions over
picklable data, so Dask ships them by reference.
"""
from __future__ import annotations

import contextlib
import hashlib
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from lowerflow import ir
from lowerflow.backend import NativeError
from lowerflow.backend.compile_cache import CACHE
from lowerflow.backend.jit import host_cpu
from lowerflow.frontend.lowering import RunShapeError, UnfedPlaceholderError
from lowerflow.runtime import errors
from lowerflow.runtime.aot import AotFunction, CompiledObject, compile_in_memory, load

#: Per-process counters (tests read them): programs loaded, and of those, compiled here from IR.
PROGRAM_STATS: dict[str, int] = {"loads": 0, "recompiles": 0}



def host_fingerprint() -> str:
    """The CPU name and a digest of its feature string: equal fingerprints run the same objects."""
    cpu, features = host_cpu()
    return f"{cpu}:{hashlib.sha256(features.encode()).hexdigest()[:16]}"


@dataclass(frozen=True, eq=False)
class Program:
    """One compiled graph slice and its manifest: everything a worker needs to run it."""

    compiled: CompiledObject
    fingerprint: str  # `host_fingerprint()` of the CPU `compiled.object` is code for
    ir_text: str  # the frozen IR function it was compiled from

    @property
    def key(self) -> str:
        """The content hash of the compile (`NAME.json`'s "hash")."""
        return self.compiled.signature["hash"]

    @property
    def results(self) -> list[tuple[np.dtype, tuple]]:
        """(dtype, shape) of each result, in order."""
        return [(ir.ELEM_TYPES[p["dtype"]].np_dtype, tuple(p["shape"])) for p in self.compiled.signature["results"]]

    def __dask_tokenize__(self) -> str:
        return self.key  # tasks over a program are named by its content, not its bytes

    def __repr__(self) -> str:
        return f"<Program {self.compiled.name} {self.key[:12]} for {self.fingerprint}>"


@contextlib.contextmanager
def compile_errors() -> Iterator[None]:
    """Lowering and compiling failures as the `tf.errors` classes a Session raises for them."""
    try:
        yield
    except (UnfedPlaceholderError, RunShapeError) as e:
        raise errors.InvalidArgumentError(None, None, str(e)) from None
    except NotImplementedError as e:
        raise errors.UnimplementedError(None, None, str(e)) from None


def build_program(func: ir.Function, name: str) -> Program:
    """Compile `func` (static shapes, pure) for this host, in memory."""
    with compile_errors():
        compiled = compile_in_memory(func, name=name)
    return Program(compiled, host_fingerprint(), ir.print_function(func))


def arguments(program: Program, values: dict) -> list:
    """`values` (keyed by tensor or variable name) in the order `program` takes them."""
    names = [p["name"] for p in program.compiled.signature["args"]]
    missing = [n for n in names if n not in values]
    if missing:
        raise errors.InternalError(None, None, f"no value for argument(s) {', '.join(missing)} of "
                                   f"'{program.compiled.name}'")
    return [values[n] for n in names]


def load_program(program: Program) -> AotFunction:
    """The callable code of `program` in this process: loaded once per content hash,
    compiled from its IR text first when this CPU is not the one it was compiled for."""
    return CACHE.get_or_build(("aot", program.key), lambda: _load(program))


def _load(program: Program) -> AotFunction:
    compiled = program.compiled
    with compile_errors():
        try:
            if program.fingerprint != host_fingerprint():
                compiled = _recompile(program)
            with tempfile.TemporaryDirectory(prefix="lowerflow-dask-") as tmp:
                compiled.write(tmp)  # the loader copies the library it links before dlopen
                fn = load(tmp, compiled.name)
        except (errors.OpError, NotImplementedError):
            raise
        except Exception as e:  # parse, link or load failures: the worker cannot run this code
            raise errors.InternalError(None, None, f"cannot load compiled step '{compiled.name}' on this "
                                       f"worker: {type(e).__name__}: {e}") from None
    PROGRAM_STATS["loads"] += 1
    return fn


def _recompile(program: Program) -> CompiledObject:
    """`program` compiled here from its IR text; it must keep the shipped signature."""
    PROGRAM_STATS["recompiles"] += 1
    module = ir.parse_module(program.ir_text)
    compiled = compile_in_memory(module.functions[0], name=program.compiled.name)
    if [compiled.signature[k] for k in ("args", "results")] != \
            [program.compiled.signature[k] for k in ("args", "results")]:
        raise errors.InternalError(None, None, f"the IR text of '{compiled.name}' does not compile to "
                                   "the signature shipped with it")
    return compiled


def run_program(program: Program, *arrays) -> tuple[np.ndarray, ...]:
    """Run `program` natively on `arrays` (one per argument, in order): its results, as a
    tuple. Bad arguments are `InvalidArgumentError`, a native status its `tf.errors` class."""
    fn = load_program(program)
    try:
        out = fn(*arrays)
    except NativeError as e:
        raise errors.exception_type_from_error_code(e.tf_code)(None, None, e.message) from None
    except ValueError as e:
        raise errors.InvalidArgumentError(None, None, str(e)) from None
    return tuple(out) if isinstance(out, list) else (out,)
