"""The Python-object entry point: same results as the buffer-table path (concurrent calls:
test_structure.py's thread test, which now runs through this entry)."""
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
