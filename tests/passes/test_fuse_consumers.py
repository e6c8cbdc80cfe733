"""`fuse` with consumers: reductions fed by elementwise groups ("lf.reduce_fusion", XLA's input
fusion) and matmuls read by elementwise epilogues ("lf.matmul_fusion"), the reasons recorded
for each decision, and the two oracles: interp(before) == interp(after) on random graphs
mixing elementwise ops, reductions and matmuls, and native == interp for the new region ops.
"""
from __future__ import annotations

import numpy as np
import pytest
from lowerflow.backend import NativeError, compile_function, parallel
from lowerflow.ir import Function, Module, build, tensor
from lowerflow.ir.interp import run_function
from lowerflow.ir.types import ELEM_TYPES, F32
from lowerflow.ir.verifier import verify
from lowerflow.passes import clone_module
from lowerflow.passes.fuse import Fuse
from pass_testing import EFFECT, assert_same_results, op_names

F16, F64, I32 = (ELEM_TYPES[n] for n in ("f16", "f64", "i32"))
REDUCE = ["lf.reduce_sum", "lf.reduce_mean", "lf.reduce_max", "lf.reduce_min", "lf.reduce_prod"]
UNARY = ["lf.neg", "lf.abs", "lf.tanh", "lf.sigmoid", "lf.relu", "lf.exp", "lf.square"]
BINARY = ["lf.add", "lf.sub", "lf.mul", "lf.max", "lf.min"]
MATMUL = {"transpose_a": False, "transpose_b": False}


def fuse(m: Module, **options) -> Fuse:
    p = Fuse(**options)
    p.run(m)
    verify(m)
    return p


def reasons(p: Fuse) -> dict[str, str]:
    return {d.op: d.reason for d in p.decisions}


def rand(shape, dtype=F32, seed=0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if dtype.is_float:
        return rng.uniform(-2, 2, shape).astype(dtype.np_dtype)
    return rng.integers(-5, 6, shape).astype(dtype.np_dtype)


def assert_native_matches(func: Function, args: list[np.ndarray], rtol: float = 1e-5, atol: float = 1e-5) -> None:
    """Native results equal the interpreter's (float sums reassociate: a small tolerance)."""
    got, want = compile_function(func).run(args), run_function(func, args)
    for g, w in zip(got, want):
        assert g.dtype == w.dtype and g.shape == w.shape
        if w.dtype.kind == "f":
            np.testing.assert_allclose(g.astype(np.float64), w.astype(np.float64), rtol=rtol, atol=atol)
        else:
            np.testing.assert_array_equal(g, w)


def random_consumer_function(seed: int, steps: int = 10, native: bool = False) -> tuple[Function, list[np.ndarray]]:
    """Matrices of dims drawn from three sizes, elementwise chains (with row-vector and scalar
    broadcasts), matmuls (maybe transposed), reductions over random axes and effects that give
    values other users (`native`: returned values instead, effects have no kernel);
    deterministic per seed."""
    rng = np.random.default_rng(seed)
    d = [int(n) for n in rng.integers(1, 6, size=3)]
    shapes = [(a, b) for a in d for b in d]
    func = Function("step", [tensor(shapes[i], F32) for i in rng.choice(len(shapes), 3, replace=False)])
    pool = list(func.args)
    body = func.body
    extra = []

    def pick(shape: tuple | None = None, rank: int | None = None, dim: tuple[int, int] | None = None):
        """A value of the pool (recent ones more often) with that shape, rank or (axis, size)."""
        found = [v for v in pool if (shape is None or v.type.shape == shape) and (rank is None or v.type.rank == rank)
                 and (dim is None or v.type.shape[dim[0]] == dim[1])]
        if not found:
            return None
        return found[-1 - min(int(rng.geometric(0.5)) - 1, len(found) - 1)] if rng.random() < 0.7 \
            else found[rng.integers(len(found))]

    for _ in range(steps):
        kind = rng.choice(["unary", "binary", "matmul", "reduce", "any", "effect"], p=[.25, .25, .2, .2, .05, .05])
        x = pick()
        if kind == "unary":
            pool.append(build(body, str(rng.choice(UNARY)), [x]).result)
        elif kind == "binary":
            shape = x.type.shape
            other = rng.choice(["same", "row", "scalar"])
            y = pick(shape) if other == "same" else None
            if y is None:
                s = shape[-1:] if other == "row" else ()
                y = build(body, "lf.constant", [], {"value": rng.uniform(-1, 1, s).astype(np.float32)}).result
            pool.append(build(body, str(rng.choice(BINARY)), [x, y] if rng.random() < 0.5 else [y, x]).result)
        elif kind == "matmul":
            a = pick(rank=2)
            ta, tb = bool(rng.random() < 0.3), bool(rng.random() < 0.3)
            b = pick(rank=2, dim=(1 if tb else 0, a.type.shape[0 if ta else 1]))
            if b is not None:
                pool.append(build(body, "lf.matmul", [a, b], {"transpose_a": ta, "transpose_b": tb}).result)
        elif kind in ("reduce", "any") and x.type.rank:
            axes = [int(a) for a in rng.choice(x.type.rank, int(rng.integers(1, x.type.rank + 1)), replace=False)]
            attrs = {"axes": sorted(axes), "keepdims": bool(rng.random() < 0.3)}
            if kind == "any":
                flags = build(body, "lf.lt", [x, pick(x.type.shape)]).result
                r = build(body, str(rng.choice(["lf.reduce_any", "lf.reduce_all"])), [flags], attrs).result
                pool.append(build(body, "lf.cast", [r], {"to": F32}).result)
            else:
                pool.append(build(body, str(rng.choice(REDUCE)), [x], attrs).result)
        elif kind == "effect" and native:
            extra.append(x)
        elif kind == "effect":
            pool.append(build(body, EFFECT, [x]).result)
    made = pool[len(func.args):] or list(func.args)
    chosen = rng.choice(len(made), size=min(len(made), int(rng.integers(1, 3))), replace=False)
    func.set_return([made[i] for i in sorted(chosen)] + extra)
    return func, [rand(a.type.shape, seed=seed + i) for i, a in enumerate(func.args)]


def kinds(m: Module) -> list[str]:
    return [op.name for op in m.functions[0].ops if op.regions]


def test_random_graphs_keep_their_meaning():
    """interp(before) == interp(after) exactly; every op's decision has a reason; both new
    fusions (and refusals) occur often enough that the test means something."""
    seen: dict[str, int] = {}
    for seed in range(80):
        func, args = random_consumer_function(seed)
        m = Module([func])
        before = clone_module(m)
        p = fuse(m)
        assert_same_results(before.functions[0], m.functions[0], args)
        assert all(d.reason.startswith(("fused ", "not fused: ")) for d in p.decisions)
        for name in kinds(m):
            seen[name] = seen.get(name, 0) + 1
    assert seen.get("lf.reduce_fusion", 0) >= 10 and seen.get("lf.matmul_fusion", 0) >= 5, seen


@pytest.mark.parametrize("seed", range(0, 60, 5))
def test_random_graphs_native_matches_interp(seed):
    func, args = random_consumer_function(seed, native=True)
    m = Module([func])
    fuse(m)
    assert_native_matches(m.functions[0], args, rtol=1e-4, atol=1e-4)


def chain_into(reduction: str, shape=(3, 5), attrs=None, dtype=F32) -> Function:
    """reduction(exp(x) * v) with v a row vector: the TF idiom reduce_sum(exp(x) * w)."""
    f = Function("step", [tensor(shape, dtype), tensor(shape[-1:], dtype)])
    x, v = f.args
    e = build(f.body, "lf.abs" if dtype.is_int else "lf.exp", [x]).result
    prod = build(f.body, "lf.mul", [e, v]).result
    f.set_return([build(f.body, reduction, [prod], attrs or {"axes": [1], "keepdims": False}).result])
    return f


def test_reduction_input_fusion_and_its_reasons():
    f = chain_into("lf.reduce_sum")
    m = Module([f])
    p = fuse(m)
    assert op_names(f) == ["lf.reduce_fusion", "func.return"]
    assert [op.name for op in f.ops[0].regions[0].ops] == ["lf.exp", "lf.mul", "lf.reduce_sum", "lf.yield"]
    assert reasons(p) == {"lf.exp %0": "fused as reduction input into group 1",
                          "lf.mul %1": "fused as reduction input into group 1",
                          "lf.reduce_sum %2": "fused into group 1 (lf.reduce_fusion)"}


def test_reductions_that_stay_alone_say_why():
    f = Function("step", [tensor((3, 5), F32)])
    (x,) = f.args
    direct = build(f.body, "lf.reduce_max", [x], {"axes": [0], "keepdims": False}).result
    e = build(f.body, "lf.exp", [x]).result
    shared = build(f.body, "lf.reduce_sum", [e], {"axes": [1], "keepdims": False}).result
    t = build(f.body, "lf.tanh", [x]).result
    big = build(f.body, "lf.reduce_min", [build(f.body, "lf.neg", [t]).result], {"keepdims": False}).result
    nested = build(f.body, "lf.reduce_sum", [big], {"keepdims": False}).result
    f.set_return([direct, shared, e, nested])
    m = Module([f])
    p = fuse(m, max_ops=2)
    why = reasons(p)
    assert why["lf.reduce_max %0"] == "not fused: its operand is no elementwise op's result"
    assert why["lf.reduce_sum %2"] == "not fused: lf.exp %1's group gives values to other ops than it"
    assert why["lf.exp %1"] == ("not fused: consumer lf.reduce_sum %2: lf.exp %1's group gives values "
                                "to other ops than it")
    assert why["lf.reduce_min %5"] == "not fused: max-ops=2 reached joining its group"
    assert why["lf.reduce_sum %6"] == "not fused: its operand is no elementwise op's result"
    assert why["lf.tanh %3"] == "fused into group 1"
    assert "lf.reduce_fusion" not in op_names(f)


def dense(shape_x=(3, 5), shape_w=(5, 4), dtype=F32, epilogue=("lf.add", "lf.relu"), then: str = "",
          **attrs) -> Function:
    """epilogue(matmul(x, w), bias), e.g. the TF idiom relu(matmul(x, w) + b); `then` names a
    reduction of that over its last axis."""
    f = Function("step", [tensor(shape_x, dtype), tensor(shape_w, dtype)])
    x, w = f.args
    v = build(f.body, "lf.matmul", [x, w], {**MATMUL, **attrs}).result
    n = v.type.shape[-1]
    bias = build(f.body, "lf.constant", [], {"value": rand((n,), dtype, seed=7)}).result
    for name in epilogue:
        v = build(f.body, name, [v, bias] if name in BINARY else [v]).result
    if then:
        v = build(f.body, then, [v], {"axes": [-1], "keepdims": False}).result
    f.set_return([v])
    return f


def test_matmul_epilogue_fusion_and_its_reasons():
    f = dense()
    m = Module([f])
    p = fuse(m)
    assert op_names(f) == ["lf.constant", "lf.matmul_fusion", "func.return"]
    assert [op.name for op in f.ops[1].regions[0].ops] == ["lf.matmul", "lf.add", "lf.relu", "lf.yield"]
    assert reasons(p) == {"lf.matmul %0": "fused into group 1 (lf.matmul_fusion)",
                          "lf.constant %1": "not fused: not elementwise",
                          "lf.add %2": "fused as matmul epilogue into group 1",
                          "lf.relu %3": "fused as matmul epilogue into group 1"}


def test_epilogue_ops_before_the_matmul_in_block_order_follow_it_in_the_body():
    """An epilogue op that does not read the product may come first in block order (a masked
    RNN step's select); the matmul still leads the fused body, and the code runs."""
    f = Function("step", [tensor((2, 3), F32), tensor((3, 2), F32), tensor((2, 2), F32)])
    x, w, c = f.args
    early = build(f.body, "lf.mul", [c, c]).result
    f.set_return([build(f.body, "lf.add", [build(f.body, "lf.matmul", [x, w], MATMUL).result, early]).result])
    args = [rand((2, 3)), rand((3, 2), seed=1), rand((2, 2), seed=2)]
    before = clone_module(Module([f])).functions[0]
    fuse(Module([f]))
    assert op_names(f) == ["lf.matmul_fusion", "func.return"]
    assert [op.name for op in f.ops[0].regions[0].ops] == ["lf.matmul", "lf.mul", "lf.add", "lf.yield"]
    assert_native_matches(f, args)
    np.testing.assert_allclose(run_function(f, args)[0], run_function(before, args)[0], rtol=1e-6)


def test_matmuls_that_stay_alone_say_why():
    f = Function("step", [tensor((2, 3), F32), tensor((3, 2), F32), tensor((2, 2, 2), F32)])
    x, w, big = f.args

    def mm():
        return build(f.body, "lf.matmul", [x, w], MATMUL).result
    returned = mm()
    e = build(f.body, "lf.exp", [returned]).result
    compared = mm()
    c = build(f.body, "lf.lt", [build(f.body, "lf.neg", [compared]).result, compared]).result
    reduced = build(f.body, "lf.reduce_sum", [mm()], {"keepdims": False}).result
    wider = build(f.body, "lf.add", [mm(), big]).result
    unused = mm()
    f.set_return([returned, e, c, reduced, wider])
    del unused
    m = Module([f])
    p = fuse(m)
    why = reasons(p)
    assert why["lf.matmul %0"] == "not fused: result is also read by func.return, outside the epilogue"
    assert why["lf.matmul %2"] == ("not fused: lf.lt %4 in the epilogue gives tensor<2x2xi1>, not the "
                                   "matmul's tensor<2x2xf32>")
    assert why["lf.matmul %5"] == "not fused: consumer lf.reduce_sum %6 is not elementwise"
    assert why["lf.matmul %7"] == ("not fused: lf.add %8 in the epilogue gives tensor<2x2x2xf32>, not the "
                                   "matmul's tensor<2x2xf32>")
    assert why["lf.matmul %9"] == "not fused: result is unused"
    assert "lf.matmul_fusion" not in op_names(f)


def test_a_group_joins_the_matmul_before_the_reduction():
    """matmul -> add -> reduce: one consumer per group, the matmul (earlier in the block) wins."""
    f = dense(epilogue=("lf.add",), then="lf.reduce_sum")
    m = Module([f])
    before = clone_module(m)
    p = fuse(m)
    assert op_names(f) == ["lf.constant", "lf.matmul_fusion", "lf.reduce_sum", "func.return"]
    assert reasons(p)["lf.reduce_sum %3"] == "not fused: lf.add %2's group is already fused into an lf.matmul_fusion"
    assert_same_results(before.functions[0], f, [rand((3, 5)), rand((5, 4), seed=1)])
    assert_native_matches(f, [rand((3, 5)), rand((5, 4), seed=1)])


def test_consumer_fusions_are_idempotent_and_print_back():
    from lowerflow.ir import print_module
    from lowerflow.ir.parser import parse_module
    m = Module([dense()])
    assert Fuse().run(m) is True
    assert Fuse().run(m) is False
    text = print_module(m)
    assert print_module(parse_module(text)) == text


@pytest.mark.parametrize("name", REDUCE)
@pytest.mark.parametrize("shape,attrs", [
    ((3, 5), {"axes": [1], "keepdims": False}),
    ((4, 3, 2), {"axes": [0, 2], "keepdims": True}),
    ((2, 7), {"keepdims": False}),
    ((0, 3), {"axes": [0], "keepdims": False}),
])
def test_reduce_fusion_native(name, shape, attrs):
    f = chain_into(name, shape, attrs)
    fuse(Module([f]))
    assert op_names(f) == ["lf.reduce_fusion", "func.return"]
    assert_native_matches(f, [rand(shape, seed=1), rand(shape[-1:], seed=2)])


@pytest.mark.parametrize("dtype", [F16, F64, I32])
def test_reduce_fusion_native_dtypes(dtype):
    f = chain_into("lf.reduce_sum" if dtype.is_float else "lf.reduce_mean", (6, 9), dtype=dtype)
    fuse(Module([f]))
    assert op_names(f) == ["lf.reduce_fusion", "func.return"]
    assert_native_matches(f, [rand((6, 9), dtype, 1), rand((9,), dtype, 2)], rtol=2e-3 if dtype == F16 else 1e-6)


@pytest.mark.parametrize("name", ["lf.reduce_any", "lf.reduce_all"])
def test_reduce_fusion_native_booleans(name):
    f = Function("step", [tensor((4, 6), F32), tensor((6,), F32)])
    flags = build(f.body, "lf.not", [build(f.body, "lf.lt", list(f.args)).result]).result
    f.set_return([build(f.body, name, [flags], {"axes": [1], "keepdims": False}).result])
    fuse(Module([f]))
    assert op_names(f) == ["lf.reduce_fusion", "func.return"]
    assert_native_matches(f, [rand((4, 6), seed=3), rand((6,), seed=4) - 1.5])


def test_reduce_fusion_reports_errors_of_its_producers():
    """Integer division by zero inside the fused producers fails the step as it would unfused."""
    f = Function("step", [tensor((2, 3), I32), tensor((3,), I32)])
    q = build(f.body, "lf.div", list(f.args)).result
    f.set_return([build(f.body, "lf.reduce_sum", [q], {"axes": [1], "keepdims": False}).result])
    fuse(Module([f]))
    assert op_names(f) == ["lf.reduce_fusion", "func.return"]
    exe = compile_function(f)
    x = np.arange(6, dtype=np.int32).reshape(2, 3)
    np.testing.assert_array_equal(exe.run([x, np.array([1, 2, 3], np.int32)])[0], [0 + 0 + 0, 3 + 2 + 1])
    with pytest.raises(NativeError):
        exe.run([x, np.array([1, 0, 3], np.int32)])


@pytest.mark.parametrize("shape_x,shape_w,attrs", [
    ((3, 5), (5, 4), {}),
    ((5, 3), (4, 5), {"transpose_a": True, "transpose_b": True}),
    ((2, 3, 5), (5, 4), {}),
    ((1, 6), (6, 1), {}),
    ((48, 40), (40, 36), {}),  # the packed GEMM path (>= 32^3 multiply-adds)
    ((0, 3), (3, 4), {}),
])
def test_matmul_fusion_native(shape_x, shape_w, attrs):
    f = dense(shape_x, shape_w, epilogue=("lf.add", "lf.relu", "lf.tanh"), **attrs)
    fuse(Module([f]))
    assert [op.name for op in f.ops if op.regions] == ["lf.matmul_fusion"]
    assert_native_matches(f, [rand(shape_x, seed=1), rand(shape_w, seed=2)], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("dtype", [F64, I32])
def test_matmul_fusion_native_dtypes(dtype):
    f = dense((4, 3), (3, 5), dtype=dtype, epilogue=("lf.mul", "lf.sub", "lf.abs"))
    fuse(Module([f]))
    assert [op.name for op in f.ops if op.regions] == ["lf.matmul_fusion"]
    assert_native_matches(f, [rand((4, 3), dtype, 1), rand((3, 5), dtype, 2)], rtol=1e-12)


def test_matmul_fusion_with_several_results_on_threads():
    """Two yielded values (one written in place of the product), a large product split
    across threads; the epilogue reads the product twice (x * sigmoid(x), swish)."""
    f = Function("step", [tensor((256, 128), F32), tensor((128, 160), F32)])
    v = build(f.body, "lf.matmul", list(f.args), MATMUL).result
    s = build(f.body, "lf.sigmoid", [v]).result
    swish = build(f.body, "lf.mul", [v, s]).result
    f.set_return([s, swish])
    fuse(Module([f]))
    assert [op.name for op in f.ops] == ["lf.matmul_fusion", "func.return"]
    args = [rand((256, 128), seed=1), rand((128, 160), seed=2)]
    exe = compile_function(f, threads=2)
    assert ("GOMP_parallel" in exe.source_ir) == parallel.available()  # the product is split
    got, want = exe.run(args), run_function(f, args)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-4)


def test_a_malformed_consumer_fusion_fails_by_name():
    """The verifier checks types only; the backend refuses a body of another shape by name."""
    from lowerflow.ir.parser import parse_module
    m = parse_module("""
    func.func @step(%x: tensor<2x3xf32>) -> tensor<2xf32> {
      %0 = "lf.reduce_fusion"(%x) ({
      ^bb0(%a: tensor<2x3xf32>):
        %1 = "lf.reduce_sum"(%a) {axes = [1], keepdims = false} : (tensor<2x3xf32>) -> tensor<2xf32>
        %2 = "lf.exp"(%1) : (tensor<2xf32>) -> tensor<2xf32>
        "lf.yield"(%2) : (tensor<2xf32>) -> ()
      }) : (tensor<2x3xf32>) -> tensor<2xf32>
      "func.return"(%0) : (tensor<2xf32>) -> ()
    }""")
    verify(m)
    with pytest.raises(ValueError, match="malformed 'lf.reduce_fusion' body"):
        compile_function(m.functions[0])
