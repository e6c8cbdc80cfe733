"""`fuse-rows` ("lf.row_fusion": softmax and its kin): what it groups and refuses, the phases
of `row_schedule`, and the oracles: interp(before) == interp(after) on random row graphs,
native == interp for the fused kernels (serial and split across threads).
"""
from __future__ import annotations

import numpy as np
import pytest
from lowerflow.backend import compile_function, parallel
from lowerflow.ir import Function, Module, build, parse_module, tensor
from lowerflow.ir.ops.fusion import ROW_FUSION, row_access, row_schedule
from lowerflow.ir.types import ELEM_TYPES, F32
from lowerflow.ir.verifier import verify
from lowerflow.passes import clone_module
from lowerflow.passes.fuse_rows import FuseRows
from pass_testing import assert_same_results
from test_fuse_consumers import assert_native_matches, rand

F64, I32 = ELEM_TYPES["f64"], ELEM_TYPES["i32"]
LAST = {"axes": [-1], "keepdims": True}


def softmax(shape: tuple, dtype=F32, extra_results: bool = False) -> Function:
    """exp(x - max) * reciprocal(sum), as tf.nn.softmax builds it; optionally also returning
    the max (a row scalar) and exp (a carried row value) so they become results."""
    x = tensor(shape, dtype)
    func = Function("softmax", [x])
    b, arg = func.body, func.args[0]
    m = build(b, "lf.reduce_max", [arg], LAST).result
    e = build(b, "lf.exp", [build(b, "lf.sub", [arg, m]).result]).result
    s = build(b, "lf.reduce_sum", [e], LAST).result
    y = build(b, "lf.mul", [e, build(b, "lf.reciprocal", [s]).result]).result
    func.set_return([y, m, e] if extra_results else [y])
    return func


def layer_norm(shape: tuple) -> Function:
    """(x - mean) * rsqrt(var + eps) * gamma + beta, gamma and beta of shape (C,)."""
    func = Function("layer_norm", [tensor(shape, F32), tensor(shape[-1:], F32), tensor(shape[-1:], F32)])
    b, (x, gamma, beta) = func.body, func.args
    eps = build(b, "lf.constant", [], {"value": np.array(1e-5, np.float32)}).result
    mean = build(b, "lf.reduce_mean", [x], LAST).result
    d = build(b, "lf.sub", [x, mean]).result
    var = build(b, "lf.reduce_mean", [build(b, "lf.square", [d]).result], LAST).result
    inv = build(b, "lf.rsqrt", [build(b, "lf.add", [var, eps]).result]).result
    y = build(b, "lf.add", [build(b, "lf.mul", [build(b, "lf.mul", [d, inv]).result, gamma]).result, beta]).result
    func.set_return([y])
    return func


def fuse_rows(func: Function, **options) -> Module:
    """`func` through fuse-rows; the small rows here fuse too unless `min_row` says not."""
    m = Module([func])
    FuseRows(**{"min_row": 2, **options}).run(m)
    verify(m)
    return m


def region_ops(m: Module) -> list[str]:
    return [op.name for op in m.functions[0].ops if op.regions]


@pytest.mark.parametrize("shape", [(4, 7), (2, 3, 5), (1, 9), (3, 1, 2)])
def test_softmax_is_one_row_fusion_with_three_phases(shape):
    func = softmax(shape)
    args = [rand(shape)]
    before = clone_module(Module([func]))
    m = fuse_rows(func)
    assert [op.name for op in m.functions[0].ops] == [ROW_FUSION, "func.return"]
    schedule = row_schedule(m.functions[0].ops[0])
    assert schedule.row_shape == shape and schedule.rows == int(np.prod(shape[:-1]))
    assert [([o.name for o in p.scalar_ops], [o.name for o in p.row_ops], [o.name for o in p.reductions])
            for p in schedule.phases] == [
        ([], [], ["lf.reduce_max"]),
        ([], ["lf.sub", "lf.exp"], ["lf.reduce_sum"]),
        (["lf.reciprocal"], ["lf.mul"], []),
    ]
    assert [v.op.name for v in schedule.carried] == ["lf.exp"]
    assert_same_results(before.functions[0], m.functions[0], args)
    assert_native_matches(m.functions[0], args)


def test_intermediate_results_are_written_and_match():
    """A row scalar (the max) and a carried row value (exp) fetched too: exp lives in its
    result row instead of scratch, and all three results are right."""
    func = softmax((5, 6), extra_results=True)
    m = fuse_rows(func)
    fusion = m.functions[0].ops[0]
    assert fusion.name == ROW_FUSION and len(fusion.results) == 3
    assert_native_matches(m.functions[0], [rand((5, 6))])


def test_layer_norm_with_broadcast_parameters():
    func = layer_norm((6, 16))
    args = [rand((6, 16), seed=1), rand((16,), seed=2), rand((16,), seed=3)]
    m = fuse_rows(func)
    assert region_ops(m) == [ROW_FUSION]
    assert_native_matches(m.functions[0], args, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("dtype", [F64, I32])
def test_other_dtypes(dtype):
    """float64 rows; an int32 row graph (max, subtract, sum, then a row op reading both)."""
    if dtype == F64:
        func = softmax((3, 8), F64)
    else:
        func = Function("ints", [tensor((3, 8), I32)])
        b, x = func.body, func.args[0]
        d = build(b, "lf.sub", [x, build(b, "lf.reduce_max", [x], LAST).result]).result
        func.set_return([build(b, "lf.mul", [d, build(b, "lf.reduce_sum", [d], LAST).result]).result])
    m = fuse_rows(func)
    assert region_ops(m) == [ROW_FUSION]
    assert_native_matches(m.functions[0], [rand((3, 8), dtype, seed=4)], rtol=1e-12, atol=1e-12)


def test_nan_and_infinity_propagate_like_the_reference():
    func = softmax((4, 5))
    x = rand((4, 5))
    x[1, 2], x[2, 0], x[3, :] = np.nan, np.inf, -np.inf
    m = fuse_rows(func)
    got = compile_function(m.functions[0]).run([x])[0]
    want = softmax_numpy(x)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    assert np.isnan(got[1]).all() and np.isnan(got[3]).all()


def softmax_numpy(x: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", over="ignore"):
        e = np.exp(x - x.max(-1, keepdims=True))
        return e * (1 / e.sum(-1, keepdims=True))


@pytest.mark.skipif(not parallel.available(), reason="libgomp missing: kernels stay serial")
def test_rows_split_across_threads_match():
    """Large enough to be split: each thread runs its own rows with its own scratch."""
    func = softmax((2048, 1024))
    m = fuse_rows(func)
    x = rand((2048, 1024), seed=5) * 4
    exe = compile_function(m.functions[0], threads=2)
    assert "GOMP_parallel" in exe.llvm_ir
    np.testing.assert_allclose(exe.run([x])[0], softmax_numpy(x), rtol=2e-6, atol=1e-9)


REFUSED = """
func.func @plain_sum(%x: tensor<4x8xf32>) -> tensor<4x1xf32> {
  %e = "lf.exp"(%x) : (tensor<4x8xf32>) -> tensor<4x8xf32>
  %s = "lf.reduce_sum"(%e) {axes = [-1 : i64], keepdims = true} : (tensor<4x8xf32>) -> tensor<4x1xf32>
  "func.return"(%s) : (tensor<4x1xf32>) -> ()
}
func.func @first_axis(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %m = "lf.reduce_max"(%x) {axes = [0 : i64], keepdims = true} : (tensor<4x8xf32>) -> tensor<1x8xf32>
  %d = "lf.sub"(%x, %m) : (tensor<4x8xf32>, tensor<1x8xf32>) -> tensor<4x8xf32>
  "func.return"(%d) : (tensor<4x8xf32>) -> ()
}
func.func @not_kept(%x: tensor<4x8xf32>) -> tensor<4xf32> {
  %m = "lf.reduce_max"(%x) {axes = [-1 : i64], keepdims = false} : (tensor<4x8xf32>) -> tensor<4xf32>
  "func.return"(%m) : (tensor<4xf32>) -> ()
}
func.func @through_a_transpose(%x: tensor<4x4xf32>) -> tensor<4x4xf32> {
  %m = "lf.reduce_max"(%x) {axes = [-1 : i64], keepdims = true} : (tensor<4x4xf32>) -> tensor<4x1xf32>
  %d = "lf.sub"(%x, %m) : (tensor<4x4xf32>, tensor<4x1xf32>) -> tensor<4x4xf32>
  %t = "lf.transpose"(%d) {perm = [1 : i64, 0 : i64]} : (tensor<4x4xf32>) -> tensor<4x4xf32>
  %y = "lf.add"(%d, %t) : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  "func.return"(%y) : (tensor<4x4xf32>) -> ()
}
"""


def test_refusals():
    """No broadcast back (fuse's reduce fusion serves); a reduction over another axis; a
    reduction without keepdims; and a group whose contraction would close a cycle through
    an outside op (the transpose reads d and feeds y, both in the group): refused whole."""
    m = parse_module(REFUSED)
    FuseRows(min_row=2).run(m)
    verify(m)
    by_name = {f.name: [op.name for op in f.ops] for f in m.functions}
    assert all(ROW_FUSION not in ops for ops in by_name.values()), by_name


def test_narrow_rows_stay_apart_by_default():
    """Rows under `min-row` (64) columns are left to `fuse`: a softmax over 10 classes is
    four kernels running across rows, one over 64 columns a row fusion."""
    assert region_ops(fuse_rows(softmax((256, 10)), min_row=64)) == []
    assert region_ops(fuse_rows(softmax((256, 64)), min_row=64)) == [ROW_FUSION]
    assert FuseRows().min_row == 64
    with pytest.raises(ValueError, match="min-row must be >= 2"):
        FuseRows(min_row=1)


def test_scratch_limit_and_max_ops():
    """exp is carried in scratch (C * 4 bytes): a smaller max-scratch refuses the group;
    max-ops caps its growth (softmax then takes two row fusions: max, sub, exp, and the
    sum, its reciprocal and the product)."""
    assert region_ops(fuse_rows(softmax((2, 64)), max_scratch=255)) == []
    assert region_ops(fuse_rows(softmax((2, 64)), max_scratch=256)) == [ROW_FUSION]
    m = fuse_rows(softmax((2, 64)), max_ops=3)
    first, second, _ = m.functions[0].ops
    assert [op.name for op in first.regions[0].ops] == ["lf.reduce_max", "lf.sub", "lf.exp", "lf.yield"]
    assert [op.name for op in second.regions[0].ops] == ["lf.reduce_sum", "lf.reciprocal", "lf.mul", "lf.yield"]
    with pytest.raises(ValueError, match="max-ops"):
        FuseRows(max_ops=1)


@pytest.mark.parametrize("shape, row_shape, access", [
    ((4, 7), (4, 7), (7, 1)), ((4, 1), (4, 7), (1, 0)), ((7,), (4, 7), (0, 1)), ((), (4, 7), (0, 0)),
    ((2, 1, 7), (2, 3, 7), None), ((1, 3, 7), (2, 3, 7), None), ((3, 7), (1, 3, 7), (7, 1)),
    ((5,), (4, 7), None),
])
def test_row_access(shape, row_shape, access):
    assert row_access(shape, row_shape) == access


UNARY = ["lf.neg", "lf.exp", "lf.tanh", "lf.square", "lf.abs", "lf.sigmoid"]
BINARY = ["lf.add", "lf.sub", "lf.mul", "lf.max"]
REDUCE = ["lf.reduce_sum", "lf.reduce_mean", "lf.reduce_max", "lf.reduce_min"]


def random_row_function(seed: int, steps: int = 12) -> tuple[Function, list[np.ndarray]]:
    """Row values, row scalars, (C,) and () operands mixed by elementwise ops and last-axis
    reductions, a few values returned; deterministic per seed."""
    rng = np.random.default_rng(seed)
    lead = tuple(int(d) for d in rng.integers(1, 4, size=rng.integers(1, 3)))
    cols = int(rng.integers(2, 9))
    row, scalar = (*lead, cols), (*lead, 1)
    func = Function("rows", [tensor(s, F32) for s in (row, scalar, (cols,), ())])
    pool = list(func.args)
    b = func.body
    for _ in range(steps):
        kind = rng.choice(["unary", "binary", "reduce"], p=[.3, .4, .3])
        x = pool[max(0, len(pool) - int(rng.geometric(0.4)))]
        if kind == "unary":
            pool.append(build(b, str(rng.choice(UNARY)), [x]).result)
        elif kind == "binary":
            y = pool[rng.integers(len(pool))]
            pool.append(build(b, str(rng.choice(BINARY)), [x, y]).result)
        else:
            rows = [v for v in pool if v.type.shape == row]
            pool.append(build(b, str(rng.choice(REDUCE)), [rows[-1 - rng.integers(min(3, len(rows)))]], LAST).result)
    made = pool[4:]
    chosen = sorted(rng.choice(len(made), size=min(len(made), int(rng.integers(1, 4))), replace=False))
    func.set_return([made[i] for i in chosen])
    return func, [rand(a.type.shape, seed=seed + i) for i, a in enumerate(func.args)]


def test_random_row_graphs_keep_their_meaning_and_compile_right():
    fused = 0
    for seed in range(60):
        func, args = random_row_function(seed)
        before = clone_module(Module([func]))
        m = fuse_rows(func)
        fused += ROW_FUSION in region_ops(m)
        assert_same_results(before.functions[0], m.functions[0], args)
        if seed % 4 == 0:
            assert_native_matches(m.functions[0], args, rtol=1e-4, atol=1e-4)
    assert fused >= 20, fused


CYCLE_THROUGH_A_KEPT_GROUP = """
func.func @two_groups(%x: tensor<4x16xf32>, %y: tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<4x16xf32>) {
  %s2 = "lf.reduce_sum"(%y) {axes = [-1 : i64], keepdims = true} : (tensor<4x8xf32>) -> tensor<4x1xf32>
  %t = "lf.mul"(%y, %s2) : (tensor<4x8xf32>, tensor<4x1xf32>) -> tensor<4x8xf32>
  %s = "lf.reduce_max"(%x) {axes = [-1 : i64], keepdims = true} : (tensor<4x16xf32>) -> tensor<4x1xf32>
  %d = "lf.sub"(%x, %s) : (tensor<4x16xf32>, tensor<4x1xf32>) -> tensor<4x16xf32>
  %r = "lf.exp"(%d) : (tensor<4x16xf32>) -> tensor<4x16xf32>
  %q = "lf.mul"(%r, %s2) : (tensor<4x16xf32>, tensor<4x1xf32>) -> tensor<4x16xf32>
  %u = "lf.reduce_sum"(%s) {axes = [0 : i64], keepdims = true} : (tensor<4x1xf32>) -> tensor<1x1xf32>
  %w = "lf.add"(%t, %u) : (tensor<4x8xf32>, tensor<1x1xf32>) -> tensor<4x8xf32>
  "func.return"(%w, %q) : (tensor<4x8xf32>, tensor<4x16xf32>) -> ()
}
"""


def test_no_cycle_through_a_group_kept_earlier():
    """The group over y (s2, t, w) is kept first. The group over x (s, d, r, q) reaches u,
    which comes after its last member but feeds w, whose group gives s2 to q: contracting
    both would close a cycle. The x group is refused and the function still compiles right."""
    m = parse_module(CYCLE_THROUGH_A_KEPT_GROUP)
    before = clone_module(m)
    FuseRows(min_row=2).run(m)
    verify(m)
    assert [op.name for op in m.functions[0].ops].count(ROW_FUSION) == 1
    args = [rand((4, 16), seed=1), rand((4, 8), seed=2)]
    assert_same_results(before.functions[0], m.functions[0], args)
    assert_native_matches(m.functions[0], args)
