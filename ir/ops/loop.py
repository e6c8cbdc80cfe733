"""The loop level: buffers, counted loops, loads/stores and scalar ops (cf. MLIR's `memref`,
`scf` and `affine` dialects in the Toy tutorial's Ch5 lowering, tinygrad's ranges, loads and
stores). `lower-to-loops` produces it from tensor ops; the backend emits LLVM from it.

    %2 = "loop.kernel"(%a, %b) ({
    ^bb0(%out: memref<4x8xf32>, %x: memref<4x8xf32>, %y: memref<8xf32>):
      %v = "loop.view"(%y) {shape = [4, 8], strides = [0, 1]} : (memref<8xf32>) -> memref<4x8xf32, strided<[0, 1]>>
      "loop.for"() ({
      ^bb0(%i: index):
        "loop.for"() ({
        ^bb0(%j: index):
          %p = "loop.load"(%x, %i, %j) : (memref<4x8xf32>, index, index) -> f32
          ...
          "loop.store"(%s, %out, %i, %j) : (f32, memref<4x8xf32>, index, index) -> ()
          "lf.yield"() : () -> ()
        }) {lower = 0, step = 1, upper = 8, vector = true} : () -> ()
        "lf.yield"() : () -> ()
      }) {lower = 0, parallel = true, step = 1, upper = 4} : () -> ()
      "lf.yield"() : () -> ()
    }) : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>

- "loop.kernel" is where tensors become buffers: a top-level op with tensor operands and
  results (so the buffer plan, the step's ABI and unlowered tensor ops around it stay as
  they are), whose block arguments are C-contiguous buffers of its results, then of its
  operands. A tensor of run-time dims (`tensor<3x?xf32>`, an `lf.run_*` op's) is a flat
  buffer `memref<?xf32>`: its `?` dims, and those of every result, are in order the entries
  of the kernel's last operand (a static i64 vector, the step's run-time dims), which the
  kernel loads to bound its loops. Its body writes the results and only reads the operands (the backend's
  `noalias` parameters); it is one internal LLVM function.
- "loop.for" counts from `lower` to `upper` by `step` (static) with one index block argument;
  `parallel` says iterations are independent (the backend may split the loop across
  threads), `vector` that it is the unit-stride innermost loop meant to vectorise, `unroll`
  that the backend emits its body once per iteration (a pooling window). Its body
  sees the values around it (trait `scoped`). Its operands are loop-carried values (cf.
  MLIR's `scf.for` iter_args): the body takes them after the index, its "lf.yield" gives
  the next ones, and the results are the last yielded (the operands for no iteration):

      %s = "loop.for"(%zero) ({
      ^bb0(%j: index, %acc: f32):
        %v = "loop.load"(%x, %j) : (memref<8xf32>, index) -> f32
        %n = "loop.fold"(%acc, %v) {op = "lf.add"} : (f32, f32) -> f32
        "lf.yield"(%n) : (f32) -> ()
      }) {lower = 0, step = 1, upper = 8} : (f32) -> f32

  A loop with no `upper` attribute takes its upper bound as its first operand, an index
  known when the step runs (cf. `scf.for`'s `%ub`); carried values follow it. Such a loop is
  neither split across threads nor unrolled:

      "loop.for"(%n) ({
      ^bb0(%i: index):
        ...
      }) {lower = 0, step = 1} : (index) -> ()
- "loop.view" {shape, strides, offset?} sees a contiguous buffer with another shape and
  element strides from an element offset (stride 0 on a broadcast dim, negative on a dim
  read backwards: a reversing slice, a mirrored pad), checked to stay inside the buffer.
- "loop.alloc" {shape, type} is a C-contiguous scratch buffer of the enclosing loop body
  (cf. MLIR's `memref.alloca`): a new one, its contents undefined, each time the op runs, so
  a buffer allocated inside a `parallel` loop is private to its iteration. The backend
  keeps it on the stack of the function it is emitted into (a row fusion's carried row).
- "loop.load"/"loop.store" take one index per dim; an index that is a loop's induction
  variable is checked against the dim's size.
- "loop.scalar" {op = "lf.add", ...the op's attributes} is any elementwise tensor op applied
  to scalars: its typing, meaning and native lowering are that op's, so a new elementwise
  op needs nothing here. `contract = false` forbids the backend to fuse its float result
  into an FMA (LinSpace's start + step * i rounds twice, as numpy and TF's kernel).
- "loop.fold" {op = "lf.add" | "lf.mul" | "lf.max" | "lf.min" | "lf.or" | "lf.and"} is one
  step of a reduction, acc op element, with a reduction's liberties: a float sum may
  reassociate (the backend's vectorised fold), a float max/min propagates NaN but may
  return either zero when -0.0 and +0.0 tie. "loop.constant" {value, type} is a scalar.
- "loop.const_index" and "loop.index_arith" {op = "add" | "sub" | "mul" | "floordiv" |
  "mod" | "min" | "max"} are index arithmetic; "loop.index_select" (i1, index, index) picks
  an index (a scalar is picked by "loop.scalar" {op = "lf.select"}); "loop.index_cast"
  {type = i32 | i64 | ...} is an index as an integer scalar (ArgMax's result), "loop.to_index"
  an integer scalar as an index (a label picking its logit: the caller keeps it in bounds).
- "loop.check" {error = "label_range" | ...} (i1) fails the step with that error when its
  operand is true (the backend's status code of that name; the interpreter raises
  ValueError): bad input found inside a loop, e.g. a label outside [0, classes).
- "loop.mix" (ui64) -> ui64 is SplitMix64's finaliser (`ops/random.py`): the one step of
  the counter-based random ops' streams that the elementwise ops do not spell (shifts and
  xors); the rest of a generator is "loop.scalar"s on ui64 (wrapping) and floats.
- "loop.retry" {limit} runs its body for attempts 0, 1, ... (its one index block argument)
  until the body yields true first, or `limit` attempts ran; its results are the other
  values that last attempt yielded (a rejection sampler's bounded retry: TruncatedNormal
  redraws until |z| <= 2). Its body sees the values around it.

      %z = "loop.retry"() ({
      ^bb0(%t: index):
        ...
        "lf.yield"(%accepted, %draw) : (i1, f64) -> ()
      }) {limit = 100} : () -> f64
- "loop.call_kernel" {name = "gemm", ...its attributes} runs a named micro-kernel
  (`loop_micro.MICRO_KERNELS`) on buffers: the pieces written by hand once per target, such
  as the GEMM (threaded by its own tickets) or its register tile.
- "loop.call_fused" {name = "conv2d", inputs = 2, ...} runs a micro-kernel that takes an
  epilogue (cf. oneDNN's post-ops, Grappler's _FusedConv2D): its operands are the result
  buffers (the first holds the kernel's product), the kernel's `inputs`, then the buffers
  the epilogue reads (broadcast to the product's shape); its region maps one element of
  the product and one of each epilogue buffer to one element per result buffer, with
  "loop.scalar"s (isolated: it sees only its arguments). The backend applies it to each
  block of the product while the block is in cache.

      "loop.call_fused"(%y, %x, %f, %bias) ({
      ^bb0(%p: f32, %b: f32):
        %s = "loop.scalar"(%p, %b) {op = "lf.add"} : (f32, f32) -> f32
        %r = "loop.scalar"(%s) {op = "lf.relu"} : (f32) -> f32
        "lf.yield"(%r) : (f32) -> ()
      }) {name = "conv2d", inputs = 2, ...} : (memref<...>, ...) -> ()
Loop bodies end in "lf.yield", with no operands except a "loop.for"'s carried values and
a "loop.retry"'s flag and values.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
from lowerflow.ir.core import Block, Operation, Value
from lowerflow.ir.opdef import ELEMENTWISE, PURE, OpDef, get_op, register
from lowerflow.ir.ops import random
from lowerflow.ir.ops.loop_micro import MICRO_KERNELS, micro_kernel  # noqa: F401  (the table, here too)
from lowerflow.ir.ops.structure import REGION, SCOPED
from lowerflow.ir.types import I64, INDEX, U64, ElemType, MemRefType, TensorType, memref

KERNEL, FOR, VIEW_OP, LOAD, STORE = "loop.kernel", "loop.for", "loop.view", "loop.load", "loop.store"
SCALAR, CONST_INDEX, INDEX_ARITH = "loop.scalar", "loop.const_index", "loop.index_arith"
CALL_KERNEL, FOLD, CONSTANT = "loop.call_kernel", "loop.fold", "loop.constant"
CALL_FUSED = "loop.call_fused"
INDEX_SELECT, INDEX_CAST, ALLOC = "loop.index_select", "loop.index_cast", "loop.alloc"
TO_INDEX, CHECK, MIX, RETRY = "loop.to_index", "loop.check", "loop.mix", "loop.retry"
#: what a "loop.check" may report (the backend gives each its status code and message)
CHECK_ERRORS = ("label_range", "empty_range", "index_range", "partly_filled")
#: the elementwise ops a "loop.fold" may combine with
FOLD_OPS = ("lf.add", "lf.mul", "lf.max", "lf.min", "lf.or", "lf.and")

INDEX_OPS: dict[str, Callable[[int, int], int]] = {
    "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
    "floordiv": lambda a, b: a // b, "mod": lambda a, b: a % b, "min": min, "max": max,
}


def _memref(t, what: str) -> MemRefType:
    if not isinstance(t, MemRefType):
        raise TypeError(f"{what} must be a memref, got {t}")
    return t


def _indices(types: list, rank: int) -> None:
    if len(types) != rank or any(t != INDEX for t in types):
        raise TypeError(f"needs {rank} index operand(s), got ({', '.join(map(str, types))})")


def _body(op: Operation, yields: tuple = ()) -> Block:
    (block,) = op.regions
    got = [v.type for v in block.terminator.operands]
    if got != list(yields):
        raise ValueError("a loop-level region yields nothing" if not yields else
                         f"the body must yield ({', '.join(map(str, yields))}), got ({', '.join(map(str, got))})")
    return block


def _buffer_of(v: Value) -> Value:
    """The buffer a memref value is a view of (itself if none)."""
    while v.op is not None and v.op.name == VIEW_OP:
        v = v.op.operands[0]
    return v


# ---- loop.kernel ---------------------------------------------------------------------

def _kernel_verify(op: Operation) -> None:
    block = _body(op)
    if not all(isinstance(v.type, TensorType) for v in [*op.results, *op.operands]):
        raise TypeError("operands and results must be tensors")
    want = [kernel_buffer(v.type) for v in [*op.results, *op.operands]]
    run_time = sum(d is None for r in op.results for d in r.type.shape)
    if run_time:
        dims = op.operands[-1].type if op.operands else None
        if dims is None or dims.dtype != I64 or dims.shape != (run_time,):
            raise TypeError(f"results of {run_time} run-time dim(s) need them as the last operand, "
                            f"a tensor<{run_time}xi64>")
    if [a.type for a in block.args] != want:
        raise TypeError(f"block arguments must be ({', '.join(map(str, want))}): the results' "
                        "buffers, then the operands'")
    read_only = set(block.args[len(op.results):])
    for inner in block.walk():
        if inner.name == STORE and _buffer_of(inner.operands[1]) in read_only:
            raise ValueError("stores into an operand's buffer (operands are read only)")
        written = inner.operands[:1] if inner.name == CALL_KERNEL else \
            fused_parts(inner)[0] if inner.name == CALL_FUSED else []
        if any(_buffer_of(v) in read_only for v in written):
            raise ValueError(f"'{inner.name}' writes an operand's buffer (operands are read only)")


def kernel_buffer(t: TensorType) -> MemRefType:
    """The buffer a "loop.kernel" sees a tensor of type `t` as (flat if it has run-time dims)."""
    return memref(t.shape, t.dtype) if t.is_static else memref((None,), t.dtype)


def _kernel_interpret(op: Operation, args: list, run_region) -> list:
    """The results allocated (run-time dims from the last operand), the body run on them
    and on read-only copies of the operands (flat where the kernel sees them flat)."""
    dims = (int(d) for d in np.ravel(args[-1])) if any(not r.type.is_static for r in op.results) else iter(())
    results = [np.empty([next(dims) if d is None else d for d in r.type.shape], r.type.dtype.np_dtype)
               for r in op.results]
    operands = [np.array(a, order="C") for a in args]  # copies: marking them read-only is ours
    for a in operands:
        a.flags.writeable = False
    flat = [a if v.type.is_static else a.reshape(-1) for a, v in zip(results + operands, [*op.results, *op.operands])]
    run_region(op.regions[0], flat)
    return results


register(OpDef(KERNEL, lambda types, attrs: [], None, (), frozenset({PURE, REGION}),
               verify=_kernel_verify, interpret=_kernel_interpret))


# ---- loop.for ------------------------------------------------------------------------

def run_time_bound(op: Operation) -> bool:
    """Whether a "loop.for" takes its upper bound as its first operand (no `upper` attribute)."""
    return "upper" not in op.attributes


def carried_values(op: Operation) -> list[Value]:
    """A "loop.for"'s carried values (its operands after a run-time bound)."""
    return op.operands[1:] if run_time_bound(op) else op.operands


def _for_verify(op: Operation) -> None:
    bounded = run_time_bound(op)
    if bounded and (not op.operands or op.operands[0].type != INDEX):
        raise TypeError("with no 'upper' attribute, the first operand must be the upper bound (an index)")
    carried = [v.type for v in carried_values(op)]
    if not all(isinstance(t, ElemType) or t == INDEX for t in carried):
        raise TypeError(f"carries scalars or indices only, got ({', '.join(map(str, carried))})")
    if [r.type for r in op.results] != carried:
        raise TypeError("needs one result per carried value, of its type")
    block = _body(op, tuple(carried))
    if [a.type for a in block.args] != [INDEX, *carried]:
        raise TypeError(f"the body takes ({', '.join(map(str, [INDEX, *carried]))}): the index, "
                        "then the carried values")
    lower, upper, step = (op.attributes.get(k) for k in ("lower", "upper", "step"))
    if not all(isinstance(x, int) and not isinstance(x, bool) for x in (lower, 0 if bounded else upper, step)):
        raise TypeError("needs integer attributes lower, upper (or a bound operand) and step")
    if step <= 0:
        raise ValueError(f"step must be positive, got {step}")
    for hint in ("parallel", "vector", "unroll"):
        if not isinstance(op.attributes.get(hint, False), bool):
            raise TypeError(f"'{hint}' must be a bool")
    if carried and op.attributes.get("parallel", False):
        raise ValueError("a loop carrying values is not parallel")
    if bounded and op.attributes.get("unroll", False):
        raise ValueError("a loop of run-time bound is not unrolled")


def loop_range(op: Operation) -> range:
    """The induction variable's values of a "loop.for" of static bounds."""
    a = op.attributes
    return range(a["lower"], a["upper"], a["step"])


def _for_interpret(op: Operation, args: list, run_region) -> list:
    a = op.attributes
    bounded = run_time_bound(op)
    carried = list(args[1:] if bounded else args)
    for i in range(a["lower"], int(args[0]), a["step"]) if bounded else loop_range(op):
        carried = run_region(op.regions[0], [i, *carried])
    return carried


def _for_infer(types, attrs) -> list:
    return list(types if "upper" in attrs else types[1:])


register(OpDef(FOR, _for_infer, None, (), frozenset({REGION, SCOPED}),
               ("lower", "step"), verify=_for_verify, interpret=_for_interpret))


# ---- loop.retry ------------------------------------------------------------------------

def _retry_verify(op: Operation) -> None:
    values = [r.type for r in op.results]
    if op.operands:
        raise TypeError("takes no operands (the body sees the values around it)")
    if not all(isinstance(t, ElemType) or t == INDEX for t in values):
        raise TypeError(f"gives scalars or indices only, got ({', '.join(map(str, values))})")
    (block,) = op.regions
    if [a.type for a in block.args] != [INDEX]:
        raise TypeError("the body takes one index (the attempt)")
    got = [v.type for v in block.terminator.operands]
    if not got or not (isinstance(got[0], ElemType) and got[0].is_bool) or got[1:] != values:
        raise TypeError(f"the body must yield (i1, {', '.join(map(str, values))}): whether the attempt is "
                        f"accepted, then the results, got ({', '.join(map(str, got))})")
    limit = op.attributes.get("limit")
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
        raise ValueError(f"'limit' must be a positive integer, got {limit!r}")


def _retry_interpret(op: Operation, args: list, run_region) -> list:
    for t in range(op.attributes["limit"]):
        accepted, *values = run_region(op.regions[0], [t])
        if accepted:
            break
    return values


register(OpDef(RETRY, lambda types, attrs: [], None, (), frozenset({REGION, SCOPED}), ("limit",),
               verify=_retry_verify, interpret=_retry_interpret))


# ---- buffers ---------------------------------------------------------------------------

def _view_infer(types, attrs):
    (t,) = types
    _memref(t, "the viewed operand")
    return [memref(attrs["shape"], t.dtype, attrs["strides"], attrs.get("offset", 0))]


def view_span(t: MemRefType) -> tuple[int, int]:
    """The lowest and highest element a view of type `t` reaches (its offset when empty)."""
    if 0 in t.shape:
        return t.offset, t.offset
    steps = [(d - 1) * s for d, s in zip(t.shape, t.strides)]
    return t.offset + sum(x for x in steps if x < 0), t.offset + sum(x for x in steps if x > 0)


def _view_verify(op: Operation) -> None:
    src, view = op.operands[0].type, op.result.type
    if not src.is_static:
        raise ValueError(f"views a buffer of static size only, not {src}")
    if not src.is_contiguous:
        raise ValueError(f"views a contiguous buffer only, not {src}")
    if len(view.strides) != view.rank:
        raise ValueError(f"needs one stride per dim, got {list(view.strides)}")
    low, high = view_span(view)
    if 0 not in view.shape and (low < 0 or high >= int(np.prod(src.shape))):
        raise ValueError(f"{view} reads outside {src}")


def _view_reference(args, attrs):
    """A numpy view of the buffer (negative strides step back from the offset), so a store
    through it writes the buffer."""
    (buf,) = args
    shape, strides, offset = tuple(attrs["shape"]), attrs["strides"], attrs.get("offset", 0)
    flat = buf.reshape(-1)
    start = flat[offset:] if 0 not in shape else flat[:0]
    return [np.lib.stride_tricks.as_strided(start, shape, tuple(s * buf.itemsize for s in strides))]


register(OpDef(VIEW_OP, _view_infer, _view_reference, (), frozenset({PURE}), ("shape", "strides"),
               verify=_view_verify))


def _alloc_infer(types, attrs):
    shape, t = attrs["shape"], attrs["type"]
    if types or not isinstance(t, ElemType):
        raise TypeError("takes no operands and needs a scalar 'type'")
    if not isinstance(shape, list) or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0
                                              for d in shape):
        raise TypeError(f"'shape' must be a list of non-negative ints, got {shape!r}")
    return [memref(shape, t)]


def _alloc_interpret(op: Operation, args: list, run_region) -> list:
    """A new buffer; floats start as NaN, so a read before any store shows in the results."""
    t = op.result.type
    return [np.full(t.shape, np.nan if t.dtype.is_float else 0, t.dtype.np_dtype)]


register(OpDef(ALLOC, _alloc_infer, None, (), frozenset(), ("shape", "type"), interpret=_alloc_interpret))


def _check_bounds(buf: Value, indices: list[Value]) -> None:
    """An index that is a loop's induction variable stays inside its dim."""
    for d, (n, i) in enumerate(zip(buf.type.shape, indices)):
        owner = i.owner
        loop = owner.parent if isinstance(owner, Block) and owner.args[0] is i else None
        if isinstance(loop, Operation) and loop.name == FOR and n is not None and not run_time_bound(loop):
            r = loop_range(loop)
            if len(r) and (r[0] < 0 or r[-1] >= n):
                raise ValueError(f"index #{d} runs over [{r[0]}, {r[-1]}] outside dim {d} of size {n}")


def _load_infer(types, attrs):
    buf = _memref(types[0], "operand #0")
    _indices(types[1:], buf.rank)
    return [buf.dtype]


def _load_verify(op: Operation) -> None:
    _check_bounds(op.operands[0], op.operands[1:])


register(OpDef(LOAD, _load_infer, lambda args, attrs: [args[0][tuple(args[1:])]], (), frozenset(),
               verify=_load_verify))


def _store_infer(types, attrs):
    value, buf = types[0], _memref(types[1], "operand #1")
    if value != buf.dtype:
        raise TypeError(f"stores a {value} into {buf}")
    _indices(types[2:], buf.rank)
    return []


def _store_interpret(op: Operation, args: list, run_region) -> list:
    value, buf, *indices = args
    buf[tuple(indices)] = value
    return []


register(OpDef(STORE, _store_infer, None, (), frozenset(),
               verify=lambda op: _check_bounds(op.operands[1], op.operands[2:]), interpret=_store_interpret))


# ---- scalars and indices -----------------------------------------------------------------

def scalar_op(op: Operation) -> tuple[str, dict]:
    """(the elementwise op a "loop.scalar" applies, that op's attributes)."""
    attrs = dict(op.attributes)
    attrs.pop("contract", None)
    return attrs.pop("op"), attrs


def _scalar_def(attrs: dict) -> tuple[OpDef, dict]:
    inner = dict(attrs)
    opdef = get_op(inner.pop("op"))
    if not isinstance(inner.pop("contract", True), bool):
        raise TypeError("'contract' must be a bool")
    if not opdef.has(ELEMENTWISE) or opdef.has(REGION):
        raise TypeError(f"'{opdef.name}' is not an elementwise op")
    return opdef, inner


def _scalar_infer(types, attrs):
    if not all(isinstance(t, ElemType) for t in types):
        raise TypeError(f"operands must be scalars, got ({', '.join(map(str, types))})")
    opdef, inner = _scalar_def(attrs)
    return [t.dtype for t in opdef.infer([TensorType((), t) for t in types], inner)]


def _scalar_reference(args, attrs):
    opdef, inner = _scalar_def(attrs)
    return [np.asarray(o)[()] for o in opdef.reference([np.asarray(a) for a in args], inner)]


register(OpDef(SCALAR, _scalar_infer, _scalar_reference, (), frozenset({PURE}), ("op",)))


def _index_infer(types, attrs):
    if attrs["op"] not in INDEX_OPS:
        raise ValueError(f"unknown index op '{attrs['op']}' (one of {', '.join(INDEX_OPS)})")
    if types != [INDEX, INDEX]:
        raise TypeError(f"operands must be two indices, got ({', '.join(map(str, types))})")
    return [INDEX]


def _fold_infer(types, attrs):
    if attrs["op"] not in FOLD_OPS:
        raise ValueError(f"unknown fold op {attrs['op']!r} (one of {', '.join(FOLD_OPS)})")
    if len(types) != 2 or types[0] != types[1] or not isinstance(types[0], ElemType):
        raise TypeError(f"folds a scalar into an accumulator of its type, got ({', '.join(map(str, types))})")
    return [types[0]]


def _fold_reference(args, attrs):
    return [np.asarray(get_op(attrs["op"]).reference([np.asarray(a) for a in args], {})[0])[()]]


register(OpDef(FOLD, _fold_infer, _fold_reference, (), frozenset({PURE}), ("op",)))


def _constant_infer(types, attrs):
    t, value = attrs["type"], attrs["value"]
    if types or not isinstance(t, ElemType):
        raise TypeError("takes no operands and needs a scalar 'type'")
    kind = bool if t.is_bool else float if t.is_float else int
    if type(value) is not kind:  # bool is an int, an int no float here
        raise TypeError(f"value {value!r} is no {t} (needs a {kind.__name__})")
    return [t]


register(OpDef(CONSTANT, _constant_infer, lambda args, attrs: [attrs["type"].np_dtype.type(attrs["value"])], (),
               frozenset({PURE}), ("value", "type")))
register(OpDef(CONST_INDEX, lambda types, attrs: [INDEX], lambda args, attrs: [int(attrs["value"])], (),
               frozenset({PURE}), ("value",)))
register(OpDef(INDEX_ARITH, _index_infer, lambda args, attrs: [INDEX_OPS[attrs["op"]](*args)], (),
               frozenset({PURE}), ("op",)))


def _index_select_infer(types, attrs):
    if len(types) != 3 or not (isinstance(types[0], ElemType) and types[0].is_bool) or types[1:] != [INDEX, INDEX]:
        raise TypeError(f"takes (i1, index, index), got ({', '.join(map(str, types))})")
    return [INDEX]


def _index_cast_infer(types, attrs):
    t = attrs["type"]
    if types != [INDEX] or not isinstance(t, ElemType) or t.is_float or t.is_bool:
        raise TypeError(f"casts one index to an integer type, got ({', '.join(map(str, types))}) -> {t}")
    return [t]


def _to_index_infer(types, attrs):
    if len(types) != 1 or not isinstance(types[0], ElemType) or types[0].is_float or types[0].is_bool:
        raise TypeError(f"takes one integer scalar, got ({', '.join(map(str, types))})")
    return [INDEX]


def _check_infer(types, attrs):
    if attrs["error"] not in CHECK_ERRORS:
        raise ValueError(f"unknown error {attrs['error']!r} (one of {', '.join(CHECK_ERRORS)})")
    if len(types) != 1 or not (isinstance(types[0], ElemType) and types[0].is_bool):
        raise TypeError(f"takes one i1 condition, got ({', '.join(map(str, types))})")
    return []


def _check_interpret(op: Operation, args: list, run_region) -> list:
    if args[0]:
        raise ValueError(f"the step fails with '{op.attributes['error']}' (a loop.check's condition holds)")
    return []


def _mix_infer(types, attrs):
    if types != [U64]:
        raise TypeError(f"mixes one ui64, got ({', '.join(map(str, types))})")
    return [U64]


register(OpDef(MIX, _mix_infer, lambda args, attrs: [random.mix(np.uint64(args[0]))], (), frozenset({PURE})))
register(OpDef(TO_INDEX, _to_index_infer, lambda args, attrs: [int(args[0])], (), frozenset({PURE})))
register(OpDef(CHECK, _check_infer, None, (), frozenset(), ("error",), interpret=_check_interpret))
register(OpDef(INDEX_SELECT, _index_select_infer, lambda args, attrs: [args[1] if args[0] else args[2]], (),
               frozenset({PURE})))
register(OpDef(INDEX_CAST, _index_cast_infer, lambda args, attrs: [attrs["type"].np_dtype.type(args[0])], (),
               frozenset({PURE}), ("type",)))


# ---- micro-kernels -------------------------------------------------------------------------

def call_attrs(attrs: dict) -> dict:
    """A call's attributes for its micro-kernel (all but the name, and a fused call's count)."""
    return {k: v for k, v in attrs.items() if k not in ("name", "inputs")}


def _call_infer(types, attrs):
    micro_kernel(attrs["name"]).check(types, call_attrs(attrs))
    return []


def _call_interpret(op: Operation, args: list, run_region) -> list:
    micro_kernel(op.attributes["name"]).reference(args, call_attrs(op.attributes))
    return []


register(OpDef(CALL_KERNEL, _call_infer, None, (), frozenset(), ("name",), interpret=_call_interpret))


def fused_parts(op: Operation) -> tuple[list[Value], list[Value], list[Value]]:
    """(result buffers, the micro-kernel's inputs, the epilogue's buffers) of a "loop.call_fused"."""
    n, k = len(op.regions[0].terminator.operands), op.attributes["inputs"]
    return op.operands[:n], op.operands[n:n + k], op.operands[n + k:]


def _fused_verify(op: Operation) -> None:
    block, attrs = op.regions[0], op.attributes
    if not isinstance(attrs["inputs"], int) or isinstance(attrs["inputs"], bool) or attrs["inputs"] < 1:
        raise TypeError("'inputs' must be a positive int")
    if not micro_kernel(attrs["name"]).epilogue:
        raise TypeError(f"micro-kernel {attrs['name']!r} takes no epilogue")
    outs, ins, extra = fused_parts(op)
    if not outs or not all(isinstance(v.type, MemRefType) for v in op.operands):
        raise TypeError("takes memrefs: the results' (at least one), the kernel's inputs, the epilogue's")
    micro_kernel(op.attributes["name"]).check([outs[0].type, *(v.type for v in ins)], call_attrs(op.attributes))
    shape = outs[0].type.shape
    for v in [*outs, *extra]:
        if not v.type.is_contiguous or (v in outs and v.type.shape != shape) or \
                np.broadcast_shapes(v.type.shape, shape) != tuple(shape):
            raise TypeError(f"{v.type} is not a C-contiguous buffer of (or broadcast to) the product's "
                            f"shape {list(shape)}")
    want = [outs[0].type.dtype, *(v.type.dtype for v in extra)]
    if [a.type for a in block.args] != want:
        raise TypeError(f"the epilogue takes ({', '.join(map(str, want))}): the product's element, "
                        "then one of each epilogue buffer")
    got = [v.type for v in block.terminator.operands]
    if got != [v.type.dtype for v in outs]:
        raise TypeError(f"the epilogue yields ({', '.join(map(str, got))}), not one element per result buffer")
    for inner in block.ops[:-1]:
        if inner.name not in (SCALAR, CONSTANT):
            raise ValueError(f"an epilogue holds scalar ops only, not '{inner.name}'")


def _fused_interpret(op: Operation, args: list, run_region) -> list:
    """The micro-kernel into the first result buffer, then the epilogue on whole arrays
    (numpy broadcasts the epilogue's buffers as the backend's strides do)."""
    n, k = len(op.regions[0].terminator.operands), op.attributes["inputs"]
    outs, ins, extra = args[:n], args[n:n + k], args[n + k:]
    micro_kernel(op.attributes["name"]).reference([outs[0], *ins], call_attrs(op.attributes))
    values = run_region(op.regions[0], [outs[0].copy(), *extra])
    for buf, v in zip(outs, values):
        buf[...] = v
    return []


register(OpDef(CALL_FUSED, lambda types, attrs: [], None, (), frozenset({REGION}), ("name", "inputs"),
               verify=_fused_verify, interpret=_fused_interpret))
