"""Ahead-of-time compilation: a graph slice becomes `NAME.o`, `NAME.h` (and `libNAME.so`).

cf. TF's tfcompile: fetches and feeds (with static shapes) define the function,
variables are frozen into constants (`freeze`, cf. TF1's
`graph_util.convert_variables_to_constants`), and the result is a native object with
a C entry point. Here the path is the one every `Session.run` takes (graph slice ->
IR `Step` -> default pass pipeline -> backend module), plus the exported C wrappers of
`backend.aot_abi`, emitted as a PIC object for `target_cpu`. A JSON sidecar `NAME.json`
records the signature so `load` can call the library from Python through ctypes.

The three artifacts carry one content hash (of the signature and the code): `NAME.json`
as "hash", `NAME.h` as `NAME_HASH`, the code as `NAME_hash()`. `load` checks that
`NAME.json` still hashes to it and that the header and library carry it too, so a stale
library or an edited signature is a clear error, never a call with wrong buffer sizes.
"""
from __future__ import annotations

import ctypes
import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Mapping, Sequence

import numpy as np

from lowerflow import ir
from lowerflow.backend import NativeError, build_ir_module
from lowerflow.backend.compile_cache import CACHE
from lowerflow.backend.aot_abi import (
    Param, add_entry_points, c_header, check_entry_name, check_target_cpu, make_params,
)
from lowerflow.backend.jit import host_cpu
from lowerflow.frontend.graph import Operation, Tensor
from lowerflow.frontend.lowering import Step, lower
from lowerflow.frontend.op_builder import ir_type
from lowerflow.passes import DEFAULT_PIPELINE, PassManager
from lowerflow.passes.clone import clone_function, clone_op
from lowerflow.runtime.session import Session

_CONSTANT = "lf.constant"


@dataclass(frozen=True)
class Artifacts:
    """What `compile` wrote: the object, header, JSON signature and (shared=True) library."""

    object: Path
    header: Path
    signature: Path
    library: Path | None


# -- freezing ------------------------------------------------------------------------------
def freeze(func_or_step: ir.Function | Step, values: Mapping) -> ir.Function:
    """A copy of the function whose variable arguments are "lf.constant" ops of `values`.

    For a `Step`, every variable it reads is frozen and `values` is keyed by VariableV2
    Operation or name (a Session's store fits); a missing value is a ValueError. For an
    `ir.Function`, `values` is keyed by argument name and every key must name an argument.
    """
    by_name = {(k.name if isinstance(k, Operation) else k): v for k, v in values.items()}
    if isinstance(func_or_step, Step):
        func = func_or_step.func
        missing = [v.name for v in func_or_step.reads if v.name not in by_name]
        if missing:
            raise ValueError(f"no value to freeze variable(s) {', '.join(missing)} with "
                             "(uninitialized in the session?)")
        frozen = {v.name for v in func_or_step.reads}
    else:
        func = func_or_step
        unknown = sorted(set(by_name) - set(func.arg_names))
        if unknown:
            raise ValueError(f"@{func.name} has no argument named {', '.join(unknown)}")
        frozen = set(by_name)
    kept = [(a, n) for a, n in zip(func.args, func.arg_names) if n not in frozen]
    new = ir.Function(func.name, [a.type for a, _ in kept], [n for _, n in kept])
    mapping = {a: b for (a, _), b in zip(kept, new.args)}
    for arg, name in zip(func.args, func.arg_names):
        if name in frozen:
            mapping[arg] = ir.build(new.body, _CONSTANT, [], {"value": _as_constant(by_name[name], arg.type, name)},
                                    location=name).result
    for op in func.ops:
        new.body.append(clone_op(op, mapping))
    new.result_names = list(func.result_names)
    return new


def _as_constant(value, t: ir.TensorType, name: str) -> np.ndarray:
    arr = np.asarray(value, dtype=t.dtype.np_dtype)
    if arr.shape != tuple(t.shape):
        raise ValueError(f"value for '{name}' has shape {list(arr.shape)}, expected {list(t.shape)}")
    return np.ascontiguousarray(arr)


# -- graph -> frozen function --------------------------------------------------------------
def graph_function(fetches, feeds: Sequence, session: Session | None = None,
                   shapes: Mapping | None = None) -> ir.Function:
    """The frozen IR function of the slice `fetches` need, fed by `feeds` (static shapes).

    `shapes` maps feeds (tensors or names) to the concrete shapes to compile them at, for
    feeds whose static shape is partial (a batch of `None` rows): each must be compatible
    with the feed's static shape, else ValueError."""
    fetch_list = list(fetches) if isinstance(fetches, (list, tuple)) else [fetches]
    if not fetch_list:
        raise ValueError("AOT compilation needs at least one fetch")
    graph = session.graph if session is not None else _graph_of(fetch_list)
    tensors = []
    for f in fetch_list:
        element = graph.as_graph_element(f)
        if not isinstance(element, Tensor):
            raise TypeError(f"AOT fetches must be tensors, got operation '{element.name}'")
        tensors.append(_numeric(element, "fetch"))
    concrete = {graph.as_graph_element(k, allow_operation=False): v for k, v in (shapes or {}).items()}
    feed_types = {}
    for f in feeds:
        t = _numeric(graph.as_graph_element(f, allow_operation=False), "feed")
        feed_types[t] = _feed_type(t, concrete.get(t))
    step = lower(tensors, [], feed_types)
    if step.extents:  # the C API has fixed output shapes (frontend/dynamic_lowering.py)
        raise NotImplementedError("AOT-compiled functions have static result shapes, but "
                                  + ", ".join(step.fetches[i].name for i, _ in step.extents)
                                  + " has a leading dim known only at run time")
    if step.prelude is not None:  # a shape prelude and outputs allocated from it (frontend/run_dims.py)
        raise NotImplementedError("AOT-compiled functions have static shapes, but "
                                  + ", ".join(r.op.name for r in step.prelude.ops) + " is sized by fed values")
    if step.writes or step.host:
        what = [v.name for v in step.writes] + [t.name for t in step.host]
        raise ValueError(f"AOT-compiled functions are pure: the slice writes or queries session state "
                         f"({', '.join(what)})")
    values = session._store.snapshot(step.reads) if session is not None else _initial_values(graph, step.reads)
    return freeze(step, values)


def _feed_type(t: Tensor, shape) -> ir.TensorType:
    """The IR type `t` is compiled at: its static shape, or `shape` where that is given."""
    if shape is None:
        if not t.shape.is_fully_defined():
            raise ValueError(f"feed '{t.name}' needs a static shape for AOT compilation, got {t.shape}")
        return ir_type(t)
    shape = tuple(int(d) for d in shape)
    if not t.shape.is_compatible_with(list(shape)):
        raise ValueError(f"Cannot feed value of shape {shape!r} for Tensor {t.name!r}, "
                         f"which has shape {str(t.shape)!r}")
    return ir.TensorType(shape, t.dtype.ir)


def _numeric(t: Tensor, what: str) -> Tensor:
    """`t`, if its dtype has a native representation (string tensors have none)."""
    if t.dtype.ir is None:
        raise TypeError(f"AOT {what} '{t.name}' has dtype {t.dtype.name}: only numeric and bool tensors "
                        "compile ahead of time")
    return t


def _graph_of(fetches: list):
    for f in fetches:
        g = getattr(f, "graph", None)
        if g is not None:
            return g
    raise ValueError("cannot tell the fetches' graph: pass tensors or a session")


def _initial_values(graph, reads: list[Operation]) -> dict[Operation, np.ndarray]:
    """Variables' initial values, computed by a temporary Session (nothing else changes)."""
    if not reads:
        return {}
    variables = {v.op: v for key in ("variables", "local_variables") for v in graph.get_collection(key)}
    missing = [op.name for op in reads if op not in variables]
    if missing:
        raise ValueError(f"no initial value known for variable(s) {', '.join(missing)}: pass a session")
    with Session(graph=graph) as sess:
        values = sess.run([variables[op].initial_value for op in reads])
    return dict(zip(reads, values))


# -- function -> artifacts -----------------------------------------------------------------
@dataclass(frozen=True)
class CompiledObject:
    """One compile held in memory: `NAME.json`'s signature, `NAME.o`'s bytes, `NAME.h`'s text.
    `write` gives the files `compile_ir` writes, so the bytes can travel (to another
    process or machine) and be loaded there with `load`."""

    signature: dict
    object: bytes
    header: str

    @property
    def name(self) -> str:
        return self.signature["name"]

    def write(self, out_dir: str | os.PathLike, shared: bool = False) -> Artifacts:
        """Write `NAME.o`, `NAME.h`, `NAME.json` (and link `libNAME.so` with shared=True)."""
        out, name = _writable_dir(out_dir), self.name
        library = out / f"lib{name}.so"
        library.unlink(missing_ok=True)  # a library of an earlier compile would no longer match
        obj = out / f"{name}.o"
        obj.write_bytes(self.object)
        header = out / f"{name}.h"
        header.write_text(self.header)
        signature = out / f"{name}.json"
        signature.write_text(json.dumps(self.signature, indent=1) + "\n")
        return Artifacts(obj, header, signature, link_shared(obj, library) if shared else None)


def _check_static(func: ir.Function) -> None:
    for arg, arg_name in zip(func.args, func.arg_names):
        if not arg.type.is_static:
            raise ValueError(f"argument '{arg_name or arg.index}' of @{func.name} needs a static shape, "
                             f"got {arg.type}")


def compile_in_memory(func: ir.Function, *, name: str, target_cpu: str = "host") -> CompiledObject:
    """Optimise `func` (static argument shapes) and compile it for `target_cpu`, in memory."""
    check_entry_name(name)
    check_target_cpu(target_cpu)
    _check_static(func)
    module = PassManager(DEFAULT_PIPELINE).run(ir.Module([clone_function(func)]))
    func = module.functions[0]
    taken: set[str] = set()
    args = make_params(func.arg_names, [a.type for a in func.args], "arg", taken)
    results = make_params(func.result_names or [None] * len(func.results), func.result_types, "result", taken)
    llvm_module = build_ir_module(func, f"{name}_step")
    cpu = host_cpu()[0] if target_cpu == "host" else target_cpu
    described = {"name": name, "target_cpu": target_cpu, "cpu": cpu,
                 "args": [_param_json(p) for p in args], "results": [_param_json(p) for p in results],
                 "code_sha256": hashlib.sha256(str(llvm_module).encode()).hexdigest()}
    described["hash"] = content_hash(described)
    add_entry_points(llvm_module, name, llvm_module.get_global(f"{name}_step"), len(args) + len(results),
                     described["hash"])
    return CompiledObject(described, CACHE.aot_object(str(llvm_module), target_cpu),
                          c_header(name, args, results, cpu, described["hash"]))


def compile_ir(func: ir.Function, *, name: str, out_dir: str | os.PathLike, target_cpu: str = "host",
               shared: bool = False) -> Artifacts:
    """Optimise `func` (static argument shapes) and write `NAME.o`, `NAME.h`, `NAME.json`
    (and `libNAME.so` with shared=True) into `out_dir`."""
    check_entry_name(name)
    check_target_cpu(target_cpu)
    _check_static(func)
    _writable_dir(out_dir)  # before compiling: a bad folder fails fast
    return compile_in_memory(func, name=name, target_cpu=target_cpu).write(out_dir, shared)


def content_hash(described: dict) -> str:
    """The artifacts' hash: sha256 of the signature (every field but "hash", canonical JSON),
    which includes the sha256 of the LLVM module the code was emitted from."""
    fields = {k: v for k, v in described.items() if k != "hash"}
    return hashlib.sha256(json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def compile_graph(fetches, feeds: Sequence = (), *, name: str, out_dir: str | os.PathLike,
                  session: Session | None = None, target_cpu: str = "host", shared: bool = False) -> Artifacts:
    """Compile the slice `fetches` need, fed by `feeds`, with variables frozen to their values
    in `session` (or their initial values): see the module docstring."""
    check_entry_name(name)
    return compile_ir(graph_function(fetches, feeds, session), name=name, out_dir=out_dir,
                      target_cpu=target_cpu, shared=shared)


def _param_json(p: Param) -> dict:
    return {"name": p.tensor_name, "c_name": p.c_name, "dtype": p.type.dtype.name, "shape": list(p.type.shape)}


def _writable_dir(path: str | os.PathLike) -> Path:
    out = Path(path)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OSError(e.errno, f"cannot create output directory '{out}': {e.strerror}") from None
    if not os.access(out, os.W_OK | os.X_OK):
        raise OSError(f"output directory '{out}' is not writable")
    return out


def link_shared(obj: Path, library: Path) -> Path:
    """`cc -shared -o library obj -lm` (`$CC` overrides cc); RuntimeError if it fails."""
    cc = shlex.split(os.environ.get("CC", "cc"))
    if not cc or shutil.which(cc[0]) is None:
        raise RuntimeError(f"no C compiler '{' '.join(cc)}' found to link {library.name} (set $CC)")
    cmd = [*cc, "-shared", "-o", str(library), str(obj), "-lm", "-Wl,--no-undefined"]
    proc = subprocess.run(cmd, check=False, capture_output=True, text=True)
    if proc.returncode:
        raise RuntimeError(f"linking {library} failed: {' '.join(cmd)}\n{proc.stderr.strip()}")
    return library


# -- loading ------------------------------------------------------------------------------
class AotFunction:
    """`f(*arrays)` calls `NAME_run` of `libNAME.so`: returns the fetches (one array for one)."""

    def __init__(self, library: Path, signature: dict):
        self.name = signature["name"]
        # dlopen returns the already-loaded library for a path it has seen, so a library
        # recompiled under the same name would run the old code: load a private copy.
        with tempfile.TemporaryDirectory(prefix="lowerflow-aot-") as tmp:
            private = shutil.copy(library, Path(tmp) / library.name)
            try:
                self._lib = ctypes.CDLL(str(private))  # kept: the code lives as long as this object
            except OSError as e:
                raise OSError(f"cannot load {library}: {e}") from None
        _check_library_hash(self._lib, library, signature)
        self._run = getattr(self._lib, f"{self.name}_run")
        self._error = getattr(self._lib, f"{self.name}_error")
        self._error.restype, self._error.argtypes = ctypes.c_char_p, [ctypes.c_int]
        self.args = [_spec(p) for p in signature["args"]]
        self.results = [_spec(p) for p in signature["results"]]
        self._run.restype = ctypes.c_int
        self._run.argtypes = [ctypes.c_void_p] * (len(self.args) + len(self.results))

    def __call__(self, *arrays) -> np.ndarray | list[np.ndarray]:
        if len(arrays) != len(self.args):
            raise ValueError(f"{self.name} takes {len(self.args)} arguments "
                             f"({', '.join(n for n, _, _ in self.args)}), got {len(arrays)}")
        ins = [_convert(a, spec) for a, spec in zip(arrays, self.args)]
        outs = [np.empty(shape, dtype) for _, dtype, shape in self.results]
        status = self._run(*(a.ctypes.data for a in ins + outs))
        if status:
            raise NativeError(status, self._error(status).decode())
        return outs[0] if len(outs) == 1 else outs

    def __repr__(self) -> str:
        sig = ", ".join(f"{n}: {d}{list(s)}" for n, d, s in self.args)
        return f"<AotFunction {self.name}({sig})>"


def _check_library_hash(lib: ctypes.CDLL, library: Path, signature: dict) -> None:
    """The library must be the code `signature` describes (same content hash)."""
    name = signature["name"]
    try:
        hash_fn = getattr(lib, f"{name}_hash")
    except AttributeError:
        got = None  # an older library, or another function's
    else:
        hash_fn.restype, hash_fn.argtypes = ctypes.c_char_p, []
        got = hash_fn().decode(errors="replace")
    if got != signature["hash"]:
        raise ValueError(f"{library} is not the code {name}.json describes (content hash {got} != "
                         f"{signature['hash']}): a stale library from an earlier compile? Recompile "
                         f"'{name}' or delete {library.name} to relink it from {name}.o")


def _read_signature(out: Path, name: str) -> dict:
    """`NAME.json`, checked: whole, unedited (its content hash), for `name`, with well-formed
    params, and matching `NAME.h` when that exists."""
    path = out / f"{name}.json"
    try:
        described = json.loads(path.read_text())
    except OSError as e:
        raise OSError(e.errno, f"cannot read the signature of '{name}': {e.strerror} ({e.filename})") from None
    except ValueError as e:  # bad JSON or bad UTF-8
        raise ValueError(f"{path} is not a signature written by lowerflow.aot: {e}") from None
    if not isinstance(described, dict) or described.get("hash") != content_hash(described):
        raise ValueError(f"{path} does not match its content hash: it was edited or damaged "
                         f"(recompile '{name}')")
    if described.get("name") != name:
        raise ValueError(f"{path} describes '{described.get('name')}', not '{name}'")
    for p in described.get("args", []) + described.get("results", []):
        ok_shape = isinstance(p.get("shape"), list) and all(type(d) is int and d >= 0 for d in p["shape"])
        if not (isinstance(p.get("name"), str) and p.get("dtype") in ir.ELEM_TYPES and ok_shape):
            raise ValueError(f"{path} has a malformed parameter {p!r}")
    header = out / f"{name}.h"
    if header.exists():
        m = re.search(rf'#define {name}_HASH "(\w+)"', header.read_text(errors="replace"))
        if m is None or m.group(1) != described["hash"]:
            raise ValueError(f"{header} is not from the compile that wrote {path.name} ({name}_HASH differs): "
                             f"recompile '{name}'")
    return described


def _spec(p: dict) -> tuple[str, np.dtype, tuple]:
    return p["name"], ir.ELEM_TYPES[p["dtype"]].np_dtype, tuple(p["shape"])


def _convert(value, spec: tuple[str, np.dtype, tuple]) -> np.ndarray:
    name, dtype, shape = spec
    try:
        arr = np.require(np.asarray(value, dtype=dtype), requirements="C")  # keeps 0-d arrays 0-d
    except (TypeError, ValueError, OverflowError) as e:
        raise ValueError(f"cannot convert the value for '{name}' to {dtype}: {e}") from None
    if arr.shape != shape:
        raise ValueError(f"'{name}' must have shape {list(shape)}, got {list(arr.shape)}")
    return arr


def load(directory: str | os.PathLike, name: str) -> AotFunction:
    """The function compiled as `name` into `directory`; links `libNAME.so` from `NAME.o`
    first if only the object exists. The artifacts must carry one content hash (module
    docstring): anything else is a ValueError naming the file."""
    check_entry_name(name)
    out = Path(directory)
    signature = _read_signature(out, name)
    library = out / f"lib{name}.so"
    if not library.exists():
        if not (out / f"{name}.o").exists():
            raise OSError(f"neither {library} nor {out / f'{name}.o'} exists")
        link_shared(out / f"{name}.o", library)
    return AotFunction(library, signature)
