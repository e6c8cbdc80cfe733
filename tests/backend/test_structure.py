"""Broadcasting, size-0 tensors, fusions, returns, constants, errors and the Executable API."""
from __future__ import annotations

import re
import shutil
import subprocess
import threading

import numpy as np
import pytest

from lowerflow.backend import NATIVE_STATS, NativeError, build_llvm_module, compile_function, emit_object
from lowerflow.ir import ELEM_TYPES, Block, Function, build, tensor
from lowerflow.ir.interp import run_function

F32, F64, I32, I64, BOOL = (ELEM_TYPES[n] for n in ("f32", "f64", "i32", "i64", "i1"))


def rand(shape, dtype=F32, seed=0):
    rng = np.random.default_rng(seed)
    if dtype.is_float:
        return rng.standard_normal(shape).astype(dtype.np_dtype)
    if dtype.is_bool:
        return rng.integers(0, 2, shape).astype(bool)
    return rng.integers(-20, 21, shape).astype(dtype.np_dtype)


def binary_fn(name, sa, sb, dtype=F32):
    f = Function("step", [tensor(sa, dtype), tensor(sb, dtype)])
    f.set_return([build(f.body, name, list(f.args)).result])
    return f


@pytest.mark.parametrize("sa,sb", [
    ([3, 1], [4]), ([], [2, 3]), ([2, 3], []), ([2, 1, 3], [4, 1]), ([1, 4], [3, 1]),
    ([5, 1, 1], [1, 6, 7]), ([2, 3, 4], [2, 3, 4]), ([1], [1]), ([], []), ([7, 1], [7, 1]),
    ([2, 1, 4, 1], [3, 1, 5]),
])
@pytest.mark.parametrize("name,dtype", [("lf.sub", F32), ("lf.mul", I64), ("lf.lt", F64)])
def test_broadcasting(sa, sb, name, dtype, check):
    f = binary_fn(name, sa, sb, dtype)
    check(f, [rand(sa, dtype, 1), rand(sb, dtype, 2)])


@pytest.mark.parametrize("sa,sb", [([0, 3], [3]), ([2, 0], []), ([0], [0]), ([4, 0, 2], [1, 2]), ([1, 3], [0, 1])])
def test_size_zero(sa, sb, check):
    got = check(binary_fn("lf.add", sa, sb), [rand(sa), rand(sb)])
    assert got[0].size == 0


def test_size_zero_division_reports_nothing(native):
    f = binary_fn("lf.div", [0, 3], [3], I32)
    (out,) = native(f).run([np.zeros((0, 3), np.int32), np.zeros(3, np.int32)])
    assert out.shape == (0, 3)


def fusion_fn():
    """fusion(x:[3,1], y:[4], s:[]) -> (tanh(x*y + s), (x*y > s) as bool); the body holds a
    value smaller than the loop (exp(y): [4]) and yields a block argument's broadcast use."""
    f = Function("step", [tensor([3, 1], F32), tensor([4], F32), tensor([], F32)])
    block = Block([a.type for a in f.args])
    x, y, s = block.args
    ey = build(block, "lf.exp", [y]).result
    xy = build(block, "lf.mul", [x, ey]).result
    t = build(block, "lf.tanh", [build(block, "lf.add", [xy, s]).result]).result
    gt = build(block, "lf.gt", [xy, s]).result
    block.add("lf.yield", [t, gt])
    fusion = f.body.add("lf.fusion", list(f.args), [t.type, gt.type], regions=[block])
    f.set_return(list(fusion.results))
    return f


def test_fusion_two_outputs(check):
    check(fusion_fn(), [rand([3, 1]), rand([4], seed=1), np.array(0.3, np.float32)], rtol=1e-6, atol=1e-7)


def test_fusion_is_one_loop_nest(native):
    """No intermediate buffer: the step allocates no arena, and there is one kernel."""
    text = build_llvm_module(fusion_fn())
    assert "aligned_alloc" not in text
    assert len(re.findall(r"define internal", text)) == 1


def test_fusion_feeding_ops_and_int_division(check, native):
    """A fusion's result used by a later op (a temporary), with integer floor division inside."""
    f = Function("step", [tensor([2, 5], I32), tensor([5], I32)])
    block = Block([a.type for a in f.args])
    q = build(block, "lf.floordiv", list(block.args)).result
    m = build(block, "lf.mod", list(block.args)).result
    block.add("lf.yield", [q, m])
    fusion = f.body.add("lf.fusion", list(f.args), [q.type, m.type], regions=[block])
    total = build(f.body, "lf.add", list(fusion.results)).result
    f.set_return([total, fusion.results[1]])
    x = np.array([[7, -7, 0, 9, -9], [1, 2, -3, 100, -100]], np.int32)
    check(f, [x, np.array([2, 2, -3, -4, 7], np.int32)])
    with pytest.raises(NativeError) as err:
        native(f).run([x, np.array([2, 0, -3, -4, 7], np.int32)])
    assert err.value.code == 1 and "division by zero" in err.value.message


@pytest.mark.parametrize("name", ["lf.div", "lf.floordiv", "lf.mod"])
@pytest.mark.parametrize("dtype", ["i32", "ui8", "i64"])
def test_integer_division_by_zero(name, dtype, native):
    f = binary_fn(name, [4], [4], ELEM_TYPES[dtype])
    np_dtype = ELEM_TYPES[dtype].np_dtype
    exe = native(f)
    x = np.array([5, 6, 7, 8], np_dtype)
    with pytest.raises(NativeError) as err:
        exe.run([x, np.array([1, 2, 0, 3], np_dtype)])
    assert err.value.code == 1
    assert str(err.value).startswith("Integer division by zero")
    exe.run([x, np.array([1, 2, 3, 3], np_dtype)])  # still usable


def test_int_min_divided_by_minus_one_wraps(native):
    f = binary_fn("lf.div", [3], [3], I32)
    lo = np.iinfo(np.int32).min
    (out,) = native(f).run([np.array([lo, lo, 7], np.int32), np.array([-1, 1, -1], np.int32)])
    np.testing.assert_array_equal(out, [lo, lo, -7])


def test_int_pow_negative_exponent_fails_the_step(native):
    """TF's Pow kernel raises for any negative integer exponent, 1 ** -3 included."""
    f = binary_fn("lf.pow", [6], [6], I32)
    exe = native(f)
    with pytest.raises(NativeError, match="Integers to negative integer powers are not allowed"):
        exe.run([np.array([1, -1, -1, 2, 3, 0], np.int32), np.array([-3, 0, 0, 0, 0, 0], np.int32)])
    (out,) = exe.run([np.array([1, -1, -1, 2, 3, 0], np.int32), np.array([3, 3, 2, 1, 0, 0], np.int32)])
    np.testing.assert_array_equal(out, [1, -1, 1, 2, 1, 1])


def test_returns_args_constants_and_duplicates(check):
    f = Function("step", [tensor([2, 3], F32), tensor([], I32)])
    x, n = f.args
    c = build(f.body, "lf.constant", [], {"value": np.arange(6, dtype=np.int64).reshape(2, 3)}).result
    cb = build(f.body, "lf.constant", [], {"value": np.array([True, False])}).result
    y = build(f.body, "lf.neg", [x]).result
    z = build(f.body, "lf.mul", [y, x]).result  # y is returned *and* used later
    f.set_return([x, c, y, y, n, z, cb, x])
    check(f, [rand([2, 3]), np.array(7, np.int32)])


def test_constant_operands_fold(check, native):
    f = Function("step", [tensor([64], F32)])
    two = build(f.body, "lf.constant", [], {"value": np.array(2.0, np.float32)}).result
    bias = build(f.body, "lf.constant", [], {"value": np.linspace(0, 1, 64, dtype=np.float32)}).result
    f.set_return([build(f.body, "lf.add", [build(f.body, "lf.mul", [f.args[0], two]).result, bias]).result])
    check(f, [rand([64])], rtol=1e-6)
    assert re.search(r"<\d+ x float>", native(f).llvm_ir), "the loop should be vectorised"


def test_only_constants():
    f = Function("step", [])
    f.set_return([build(f.body, "lf.constant", [], {"value": np.array([1.5, 2.5])}).result])
    (out,) = compile_function(f).run([])
    np.testing.assert_array_equal(out, [1.5, 2.5])


def test_chain_of_temporaries_reuses_the_arena(check):
    f = Function("step", [tensor([256], F64)])
    v = f.args[0]
    for name in ["lf.neg", "lf.exp", "lf.sqrt", "lf.log", "lf.abs", "lf.square"]:
        v = build(f.body, name, [v]).result
    f.set_return([v])
    check(f, [np.abs(rand([256], F64))], rtol=1e-12)
    # two 2 KiB temporaries, reused (llvmlite may quote the symbol name)
    assert re.search(r'aligned_alloc"?\(i64 64, i64 4096\)', build_llvm_module(f))


def test_stats_and_calls(native):
    f = binary_fn("lf.add", [3], [3])
    exe = native(f)
    before = NATIVE_STATS["calls"]
    exe.run([rand([3]), rand([3])])
    exe.run([rand([3]), rand([3])])
    assert NATIVE_STATS["calls"] == before + 2
    built = NATIVE_STATS["compiles"] + NATIVE_STATS["cache_hits"]
    compile_function(f)  # compiled before: now loaded from the disk cache
    assert NATIVE_STATS["compiles"] + NATIVE_STATS["cache_hits"] == built + 1


def test_executable_attributes(native):
    f = binary_fn("lf.add", [2, 3], [3], I32)
    exe = native(f)
    assert exe.arg_types == [tensor([2, 3], I32), tensor([3], I32)]
    assert exe.result_types == [tensor([2, 3], I32)]
    assert isinstance(exe.entry_address, int) and exe.entry_address
    assert "define" in exe.llvm_ir and "@step" in exe.llvm_ir


def test_outputs_are_aligned_and_outs_are_used(native):
    f = fusion_fn()
    exe = native(f)
    args = [rand([3, 1]), rand([4], seed=1), np.array(0.3, np.float32)]
    outs = exe.run(args)
    big = native(binary_fn("lf.add", [64, 128], [128])).run([rand([64, 128]), rand([128])])
    assert big[0].ctypes.data % 64 == 0  # large outputs are 64-byte aligned
    given = [np.empty((3, 4), np.float32), np.empty((3, 4), bool)]
    res = exe.run(args, outs=given)
    assert res[0] is given[0] and res[1] is given[1]
    np.testing.assert_array_equal(given[0], outs[0])


def test_run_rejects_bad_arguments(native):
    exe = native(binary_fn("lf.add", [2, 3], [3]))
    good = [rand([2, 3]), rand([3])]
    for bad in ([good[0]], [good[0].astype(np.float64), good[1]], [rand([3, 2]), good[1]],
                [rand([3, 2]).T, good[1]], [good[0].tolist(), good[1]]):
        with pytest.raises(ValueError):
            exe.run(bad)
    with pytest.raises(ValueError):
        exe.run(good, outs=[good[0]])  # overlaps an argument
    with pytest.raises(ValueError):
        exe.run(good, outs=[np.empty((2, 3), np.float64)])


def test_missing_lowering_fails_at_compile_time():
    f = Function("step", [tensor([2], F32)])
    op = f.body.add("lf.xyz", [f.args[0]], [tensor([2], F32)])
    f.set_return([op.result])
    with pytest.raises(NotImplementedError, match="no native lowering for op 'lf.xyz'"):
        compile_function(f)
    g = Function("step", [tensor([0], F32)])  # inside an (empty) fusion too
    block = Block([tensor([0], F32)])
    inner = block.add("lf.xyz", [block.args[0]], [tensor([0], F32)])
    block.add("lf.yield", [inner.result])
    fusion = g.body.add("lf.fusion", list(g.args), [tensor([0], F32)], regions=[block])
    g.set_return(list(fusion.results))
    with pytest.raises(NotImplementedError, match="lf.xyz"):
        compile_function(g)


def test_dynamic_shapes_are_rejected():
    with pytest.raises(ValueError, match="static"):
        compile_function(binary_fn("lf.add", [None, 3], [3]))


def test_threads_share_an_executable(native):
    f = binary_fn("lf.mul", [1000], [1000], F64)
    exe = native(f)
    errors = []

    def work(seed):
        a, b = rand([1000], F64, seed), rand([1000], F64, seed + 1)
        for _ in range(200):
            if not np.array_equal(exe.run([a, b])[0], a * b):
                errors.append(seed)
    threads = [threading.Thread(target=work, args=(s,)) for s in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


@pytest.mark.parametrize("cpu", ["host", "x86-64-v3"])
def test_emit_object(cpu):
    obj = emit_object(build_llvm_module(fusion_fn(), "lf_step"), cpu=cpu)
    assert obj[:4] == b"\x7fELF"


@pytest.mark.skipif(shutil.which("cc") is None, reason="no C compiler")
def test_object_links_into_a_shared_library(tmp_path):
    import ctypes

    f = fusion_fn()
    (tmp_path / "step.o").write_bytes(emit_object(build_llvm_module(f, "lf_step"), cpu="x86-64-v3"))
    lib = tmp_path / "libstep.so"
    subprocess.run(["cc", "-shared", "-o", str(lib), str(tmp_path / "step.o"), "-lm", "-Wl,--no-undefined"],
                   check=True)
    step = ctypes.CDLL(str(lib)).lf_step
    step.argtypes, step.restype = [ctypes.c_void_p], ctypes.c_int32
    args = [rand([3, 1]), rand([4], seed=1), np.array(0.3, np.float32)]
    outs = [np.empty((3, 4), np.float32), np.empty((3, 4), bool)]
    table = (ctypes.c_void_p * 5)(*[a.ctypes.data for a in args + outs])
    assert step(table) == 0
    for got, want in zip(outs, run_function(f, args)):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)


def test_large_outputs_are_recycled_only_when_nobody_holds_them(native):
    """A step with >= 1 MiB of outputs hands a previous output set out again once only its
    pool references it; a result still bound, or a view of one, is never overwritten."""
    exe = native(binary_fn("lf.add", [512, 1024], [1024]))
    x, b = rand([512, 1024]), rand([1024], seed=1)
    first = exe.run([x, b])[0]
    first_at, kept = first.ctypes.data, first.copy()
    second = exe.run([x * 2, b])[0]  # `first` is still bound: fresh arrays
    assert not np.shares_memory(first, second)
    np.testing.assert_array_equal(first, kept)
    view = second[:3]
    del first, second
    third = exe.run([x * 3, b])[0]  # the first set is free again; the second is viewed
    assert third.ctypes.data == first_at and not np.shares_memory(third, view)
    np.testing.assert_array_equal(view, (x * 2 + b)[:3])
    np.testing.assert_array_equal(third, x * 3 + b)


def test_recycled_outputs_are_never_reachable_from_the_caller(native):
    """Views of any depth (whose base numpy collapses to the buffer), a result fed back as an
    argument, and changes to a returned array object: none leaks into a later call."""
    exe = native(binary_fn("lf.add", [512, 1024], [1024]))
    x, b = rand([512, 1024]), rand([1024], seed=1)
    view = exe.run([x, b])[0][:, :].T  # only the view survives
    kept = view.copy()
    for k in range(3):
        exe.run([x * k, b])
    np.testing.assert_array_equal(view, kept)
    fed = exe.run([x, b])[0][:]  # an argument that is a view of an earlier output
    out = exe.run([fed, b])[0]
    assert not np.shares_memory(out, fed)
    np.testing.assert_array_equal(out, x + b + b)
    frozen = exe.run([x, b])[0]
    frozen.shape, frozen.flags.writeable = (-1,), False
    del frozen, out
    fresh = exe.run([x, b])[0]
    assert fresh.shape == (512, 1024) and fresh.flags.writeable
