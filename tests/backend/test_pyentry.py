"""The Python-object entry point: same results as the buffer-table path (concurrent calls:
test_structure.py's thread test, which now runs through this entry)."""
import sys

import numpy as np

from lowerflow.backend import compile_function, pyentry
from lowerflow.ir import ELEM_TYPES, Function, build, tensor

F32 = ELEM_TYPES["f32"]


def _fn():
    f = Function("step", [tensor([1000], F32), tensor([1000], F32)])
    f.set_return([build(f.body, "lf.mul", [build(f.body, "lf.add", list(f.args)).result, f.args[0]]).result])
    return f


def test_layout_is_verified_on_this_interpreter():
    assert pyentry.LAYOUT_OK  # CPython + numpy: the path the Session relies on for speed


def test_entry_matches_the_table_path():
    exe = compile_function(_fn())
    x, y = np.arange(1000, dtype=np.float32), np.ones(1000, np.float32)
    fast = exe.run([x, y])[0]
    fn_py, exe._fn_py = exe._fn_py, None  # force the buffer-table path
    try:
        slow = exe.run([x, y])[0]
    finally:
        exe._fn_py = fn_py
    np.testing.assert_array_equal(fast, (x + y) * x)
    np.testing.assert_array_equal(slow, fast)



def test_entry_is_a_builtin_that_refuses_a_wrong_list():
    """A list of the wrong length, or no list at all, gets a status instead of a read past
    its end."""
    exe = compile_function(_fn())
    x = np.ones(1000, np.float32)
    assert type(exe._fn_py).__name__ == "builtin_function_or_method"
    for bad in ([], [x, x], (x, x, np.empty_like(x)), [x, x, x, x]):
        assert exe._fn_py(bad) == pyentry.BAD_ARGUMENTS
    out = np.empty_like(x)
    assert exe._fn_py([x, x, out]) == 0 and np.array_equal(out, (x + x) * x)


def _scalar_fn(elem: str):
    t = ELEM_TYPES[elem]
    f = Function("step", [tensor([], t), tensor([2], t)])
    f.set_return([build(f.body, "lf.add", [f.args[0], f.args[0]]).result, f.args[1]])
    return f


def test_entry_refuses_arguments_of_another_dtype_shape_layout_or_type():
    """What the Session no longer checks in Python on a warm run, the entry checks: each
    argument an exact ndarray with the step's dtype, rank, dimensions and C layout."""
    exe = compile_function(_fn())
    assert exe.checks_arguments
    x = np.ones(1000, np.float32)
    out = np.empty_like(x)
    bad = [np.ones(1000, np.float64), np.ones(999, np.float32), np.ones((1000, 1), np.float32),
           np.ones(2000, np.float32)[::2], np.float32(1.0), 1.0, [1.0] * 1000,
           np.ones(1000, np.dtype(">f4")), np.ma.ones(1000, np.float32), None]
    for b in bad:
        assert exe._fn_py([x, b, out]) == pyentry.ARGUMENT_MISMATCH, b
        assert exe._fn_py([b, x, out]) == pyentry.ARGUMENT_MISMATCH, b
    assert exe._fn_py([x, x, out]) == 0 and np.array_equal(out, (x + x) * x)


def test_entry_converts_scalars_for_0d_arguments():
    """A 0-d argument may be one of `pyentry.SCALARS`: converted as np.asarray(v, dtype)
    rounds (floats, numpy floats, one-digit Python ints for floats and integers, bools for
    bools); any other scalar is refused before the step runs."""
    for elem, np_dtype in (("f32", np.float32), ("f64", np.float64)):
        exe = compile_function(_scalar_fn(elem))
        vec = np.arange(2, dtype=np_dtype)
        for value in (0.1, 1e-46, 3.5e38, -0.0, float("inf"), np.float64(0.1), np.float32(0.1), np.float64(3.5e38),
                      7, -(2**30 - 1), 2**29 + 3, 0):
            outs = [np.empty((), np_dtype), np.empty(2, np_dtype)]
            assert exe._fn_py([value, vec] + outs) == 0, value
            with np.errstate(over="ignore"):
                assert outs[0] == np.asarray(value, np_dtype) * 2, value  # numpy's rounding
        for refused in ([0.0, 1.0], 2**30, -(2**30), True, np.int64(1), np.float16(1.0)):
            assert exe._fn_py([refused, vec] + outs) == pyentry.ARGUMENT_MISMATCH, refused
    for elem, np_dtype in (("i32", np.int32), ("i64", np.int64)):
        exe = compile_function(_scalar_fn(elem))
        vec, outs = np.arange(2, dtype=np_dtype), [np.empty((), np_dtype), np.empty(2, np_dtype)]
        for value in (1, -5, 0, 2**30 - 1, -(2**30 - 1), np_dtype(-7)):
            assert exe._fn_py([value, vec] + outs) == 0 and outs[0] == 2 * int(value), value
        other = np.int64(1) if np_dtype is np.int32 else np.int32(1)
        for refused in (1.0, 2**30, 2**40, True, other):
            assert exe._fn_py([refused, vec] + outs) == pyentry.ARGUMENT_MISMATCH, refused
    f = Function("step", [tensor([], ELEM_TYPES["i1"]), tensor([2], ELEM_TYPES["i1"])])
    f.set_return([build(f.body, "lf.not", [f.args[0]]).result, f.args[1]])
    exe = compile_function(f)
    vec, outs = np.array([True, False]), [np.empty((), np.bool_), np.empty(2, np.bool_)]
    for value in (True, False, np.bool_(True), np.bool_(False)):
        assert exe._fn_py([value, vec] + outs) == 0 and outs[0] == (not value), value
    for refused in (1, 0.0, np.int32(1)):
        assert exe._fn_py([refused, vec] + outs) == pyentry.ARGUMENT_MISMATCH, refused


def _three_results(elem: str):
    """(0-d sum, a 2-vector, the 0-d argument) of a 0-d and a 2-vector argument."""
    t = ELEM_TYPES[elem]
    f = Function("step", [tensor([], t), tensor([2], t)])
    total = build(f.body, "lf.add", [f.args[0], f.args[0]]).result
    f.set_return([total, f.args[1], f.args[0]])
    return f


def test_allocating_entry_returns_new_outputs_and_masked_scalars():
    """The entry that allocates its outputs natively: 0-d results named in the mask come back
    as numpy scalars of the step's dtype, the rest as new C-contiguous arrays."""
    assert pyentry.ALLOC_OK
    for elem in ("f32", "f64", "f16", "i32", "i64", "ui8"):
        dtype = ELEM_TYPES[elem].np_dtype
        exe = compile_function(_three_results(elem))
        a, v = np.array(3, dtype), np.arange(2).astype(dtype)
        first = exe.allocating_entry(frozenset({0}))([a, v])
        assert [type(x) for x in first] == [dtype.type, np.ndarray, np.ndarray]
        assert first[0] == 6 and first[2].shape == () and first[2].dtype == dtype
        np.testing.assert_array_equal(first[1], v)
        plain = exe.allocating_entry(frozenset())([a, v])
        assert all(type(x) is np.ndarray and x.flags.c_contiguous and x.flags.writeable for x in plain)
        assert plain[0] == 6 and plain[1] is not first[1]


def test_allocating_entry_statuses_and_references():
    """A wrong list or argument gives a status (no outputs made); the outputs and the
    descriptors are referenced exactly as many times as they should be (no leak)."""
    exe = compile_function(_three_results("f32"))
    entry = exe.allocating_entry(frozenset({0}))
    a, v = np.array(3, np.float32), np.arange(2, dtype=np.float32)
    assert entry([a]) == pyentry.BAD_ARGUMENTS and entry((a, v)) == pyentry.BAD_ARGUMENTS
    assert entry([v, a]) == pyentry.ARGUMENT_MISMATCH
    assert entry([2.5, v])[0] == np.float32(5.0)  # a Python float for the 0-d argument
    assert entry({"x": a, "y": v})[0] == 6  # a dict's values, in its order (a feed_dict)
    assert entry({"y": v, "x": a}) == pyentry.ARGUMENT_MISMATCH
    assert entry({"x": a}) == pyentry.BAD_ARGUMENTS and entry({1, 2}) == pyentry.BAD_ARGUMENTS
    descr = np.dtype(np.float32)
    before = sys.getrefcount(descr)
    for _ in range(1000):
        outs = entry([a, v])
    assert sys.getrefcount(outs) == 2
    assert [sys.getrefcount(outs[i]) for i in range(3)] == [2, 2, 2]
    del outs
    assert sys.getrefcount(descr) == before


def test_allocating_entry_reports_a_failed_step():
    t = ELEM_TYPES["i32"]
    f = Function("step", [tensor([3], t), tensor([3], t)])
    f.set_return([build(f.body, "lf.floordiv", list(f.args)).result])
    exe = compile_function(f)
    entry = exe.allocating_entry()
    x = np.arange(3, dtype=np.int32)
    np.testing.assert_array_equal(entry([x, np.ones(3, np.int32)])[0], x)
    status = entry([x, np.zeros(3, np.int32)])
    assert type(status) is int and status != 0


def test_large_outputs_have_no_allocating_entry():
    """Outputs numpy would not align or that are recycled (`executable._output_factory`) are
    allocated in Python."""
    f = Function("step", [tensor([1 << 14], F32)])
    f.set_return([build(f.body, "lf.neg", [f.args[0]]).result])
    exe = compile_function(f)
    assert exe.allocating_entry() is None
    assert not exe.returns_scalars(frozenset())
