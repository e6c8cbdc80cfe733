"""The array ops at the loop level (`ir/loop_lowering_array.py`): interp(tensor IR) ==
interp(loop IR) == native, bit for bit, for GatherV2, lf.update_row, lf.full_rows,
UnsortedSegmentSum, OneHot, Range, LinSpace and Shape/Size/Rank, with edge cases (empty
tensors, negative and out-of-range ids, int64 ids, bool and integer data, middle axes); a bad
index fails at every level (ValueError in the interpreters, the step's status natively, the
TF1 error class through a Session, which stays usable); the printed loop IR parses back
identically."""
from __future__ import annotations

import numpy as np
import pytest

import lowerflow as tf
from lowerflow.backend import NativeError, compile_function
from lowerflow.backend.errors import INDEX_RANGE, PARTLY_FILLED
from lowerflow.ir import Module, parse_module, print_module
from lowerflow.ir.interp import run_function
from lowerflow.ir.verifier import verify
from lowerflow.passes import PassManager


def _levels(text: str):
    """(tensor-level function, loop-level function, its native executable)."""
    m = parse_module(text)
    PassManager("plan-buffers,lower-to-loops").run(m)
    (func,) = m.functions
    assert {op.name for op in func.ops[:-1]} <= {"loop.kernel"}, [op.name for op in func.ops]
    again = parse_module(print_module(Module([func])))
    verify(again)
    assert print_module(again) == print_module(Module([func]))
    return parse_module(text).functions[0], func, compile_function(func)


def _same_everywhere(text: str, args: list) -> list:
    tensor_level, loop_level, native = _levels(text)
    want = run_function(tensor_level, args)
    for level, got in (("loop IR", run_function(loop_level, args)), ("native", native.run(args))):
        assert len(got) == len(want)
        for k, (a, b) in enumerate(zip(got, want)):
            assert a.dtype == b.dtype and a.shape == b.shape, (level, k, a.dtype, b.dtype, a.shape, b.shape)
            np.testing.assert_array_equal(a, b, err_msg=f"{level} result #{k}")
    return want


def _fails_everywhere(text: str, args: list, code: int) -> None:
    tensor_level, loop_level, native = _levels(text)
    for func in (tensor_level, loop_level):
        with pytest.raises(ValueError):
            run_function(func, args)
    with pytest.raises(NativeError) as info:
        native.run(args)
    assert info.value.code == code


def _func(args: list[tuple[str, str]], op: str, attrs: str, out: str) -> str:
    sig = ", ".join(f"%{n}: {t}" for n, t in args)
    types = ", ".join(t for _, t in args)
    operands = ", ".join(f"%{n}" for n, _ in args)
    return f"""func.func @f({sig}) -> {out} {{
  %0 = "{op}"({operands}) {{{attrs}}} : ({types}) -> {out}
  "func.return"(%0) : ({out}) -> ()
}}"""


def _t(a: np.ndarray) -> str:
    dtype = {np.float16: "f16", np.float32: "f32", np.float64: "f64", np.int32: "i32", np.int64: "i64",
             np.uint8: "ui8", np.bool_: "i1"}[a.dtype.type]
    return f"tensor<{'x'.join(map(str, a.shape))}{'x' if a.shape else ''}{dtype}>"


def _gather(params: np.ndarray, ids: np.ndarray, axis: int) -> str:
    axis %= params.ndim
    out = np.zeros(params.shape[:axis] + ids.shape + params.shape[axis + 1:], params.dtype)
    return _func([("p", _t(params)), ("i", _t(ids))], "lf.gather", f"axis = {axis}", _t(out))


rng = np.random.default_rng(7)
GATHERS = {
    "rows_i32": (rng.standard_normal((5, 3)).astype(np.float32), np.array([4, 0, 2, 2], np.int32), 0),
    "middle_i64": (rng.standard_normal((2, 5, 4)), np.array([[1, 4], [0, 0], [3, 2]], np.int64), 1),
    "last_axis": (rng.integers(-9, 9, (3, 4)).astype(np.int32), np.array([3, 1], np.int64), -1),
    "vector": (np.arange(6, dtype=np.int64), np.array([5, 0, 3], np.int32), 0),
    "bool": (rng.random((4, 3)) < 0.5, np.array([1, 3], np.int32), 0),
    "f16": (rng.standard_normal((3, 2)).astype(np.float16), np.array([2], np.int64), 0),
    "no_ids": (np.ones((3, 2), np.float32), np.zeros((0,), np.int32), 0),
    "empty_inner": (np.ones((3, 0), np.float32), np.array([2, 1], np.int32), 0),
    "scalar_id": (rng.standard_normal((4, 3)).astype(np.float32), np.array(3, np.int32), 0),
}


@pytest.mark.parametrize("name", sorted(GATHERS))
def test_gather_means_the_same_at_every_level(name):
    params, ids, axis = GATHERS[name]
    _same_everywhere(_gather(params, ids, axis), [params, ids])


@pytest.mark.parametrize("ids", [[0, 5], [-1], [2, 1 << 40], [-(1 << 40)]])
def test_a_gather_index_out_of_range_fails_at_every_level(ids):
    params = np.ones((5, 2), np.float32)
    for dtype in (np.int32, np.int64) if max(map(abs, ids)) < 1 << 31 else (np.int64,):
        ids_array = np.array(ids, dtype)
        _fails_everywhere(_gather(params, ids_array, 0), [params, ids_array], INDEX_RANGE)


def test_gather_from_an_empty_dim_fails():
    params, ids = np.ones((0, 2), np.float32), np.array([0], np.int32)
    _fails_everywhere(_gather(params, ids, 0), [params, ids], INDEX_RANGE)


def _segment_sum(data: np.ndarray, ids: np.ndarray, n: int) -> str:
    out = np.zeros((n,) + data.shape[ids.ndim:], data.dtype)
    return _func([("d", _t(data)), ("i", _t(ids))], "lf.unsorted_segment_sum", f"num_segments = {n}", _t(out))


SEGMENT_SUMS = {
    "f32_dropped": (rng.standard_normal((6, 3)).astype(np.float32), np.array([1, -1, 0, 1, 3, -5], np.int32), 4),
    "i64_ids": (rng.standard_normal((5, 2)), np.array([2, 2, 0, 2, 1], np.int64), 3),
    "int_data": (rng.integers(-50, 50, (4, 3)).astype(np.int32), np.array([0, 0, 1, 0], np.int32), 2),
    "ids_2d": (rng.standard_normal((2, 3, 2)).astype(np.float32), np.array([[0, 1, 0], [2, -1, 2]], np.int64), 3),
    "vector": (rng.standard_normal(5).astype(np.float32), np.array([1, 1, 0, 3, 1], np.int32), 4),
    "no_ids": (np.zeros((0, 3), np.float32), np.zeros((0,), np.int32), 2),
    "no_segments": (np.zeros((0, 3), np.float32), np.zeros((0,), np.int32), 0),
    "unused_segments": (np.ones((2, 2), np.float32), np.array([5, 5], np.int32), 7),
}


@pytest.mark.parametrize("name", sorted(SEGMENT_SUMS))
def test_unsorted_segment_sum_means_the_same_at_every_level(name):
    data, ids, n = SEGMENT_SUMS[name]
    _same_everywhere(_segment_sum(data, ids, n), [data, ids])


@pytest.mark.parametrize("dtype", [np.int32, np.int64])
def test_a_segment_id_past_num_segments_fails_at_every_level(dtype):
    data, ids = np.ones((3, 2), np.float32), np.array([0, 3, -1], dtype)
    _fails_everywhere(_segment_sum(data, ids, 3), [data, ids], INDEX_RANGE)


ONE_HOTS = {
    "last_i32": (np.array([0, 4, -1, 7, 2], np.int32), 5, -1, "f32", "1.0", "0.0"),
    "first_ui8": (np.array([[3, 0], [255, 1]], np.uint8), 4, 0, "f64", "2.5", "-1.0"),
    "middle_i64": (np.array([[1, 0, 2], [2, 2, -3]], np.int64), 3, 1, "i32", "7", "-2"),
    "bool": (np.array([1, 0, 1], np.int32), 2, -1, "i1", "true", "false"),
    "scalar": (np.array(2, np.int64), 4, -1, "f16", "1.0", "0.5"),
    "no_depth": (np.array([0, 1], np.int32), 0, -1, "f32", "1.0", "0.0"),
    "no_indices": (np.zeros((0, 2), np.int32), 3, 1, "f32", "1.0", "0.0"),
}


@pytest.mark.parametrize("name", sorted(ONE_HOTS))
def test_one_hot_means_the_same_at_every_level(name):
    indices, depth, axis, dtype, on, off = ONE_HOTS[name]
    shape = list(indices.shape)
    shape.insert(len(shape) if axis == -1 else axis, depth)
    out = f"tensor<{''.join(f'{d}x' for d in shape)}{dtype}>"
    attrs = f"depth = {depth}, on_value = {on}, off_value = {off}, axis = {axis}, dtype = {dtype}"
    _same_everywhere(_func([("i", _t(indices))], "lf.one_hot", attrs, out), [indices])


def _update_row(buffer: np.ndarray, index: np.ndarray) -> str:
    row = buffer[0]
    text = _func([("b", _t(buffer)), ("i", _t(index)), ("r", _t(row))], "lf.update_row", "", _t(buffer))
    return text.replace(" {}", "")


@pytest.mark.parametrize("index", [0, 3, np.int64(2)])
def test_update_row_means_the_same_at_every_level(index):
    buffer = rng.standard_normal((4, 2, 3)).astype(np.float32)
    index = np.array(index, np.int64 if isinstance(index, np.int64) else np.int32)
    _same_everywhere(_update_row(buffer, index), [buffer, index, rng.standard_normal((2, 3)).astype(np.float32)])


@pytest.mark.parametrize("index", [-1, 4])
def test_update_row_out_of_range_fails_at_every_level(index):
    buffer, index = np.ones((4, 2), np.float32), np.array(index, np.int32)
    _fails_everywhere(_update_row(buffer, index), [buffer, index, np.zeros(2, np.float32)], INDEX_RANGE)


def test_full_rows_means_the_same_at_every_level_and_checks_its_size():
    buffer = rng.integers(0, 9, (3, 2)).astype(np.int64)
    text = _func([("b", _t(buffer)), ("n", "tensor<i32>")], "lf.full_rows", "", _t(buffer)).replace(" {}", "")
    _same_everywhere(text, [buffer, np.array(3, np.int32)])
    _fails_everywhere(text, [buffer, np.array(2, np.int32)], PARTLY_FILLED)


GENERATED = {
    "range_i32": ('"lf.range"() {start = 1, limit = 8, delta = 2, dtype = i32}', "tensor<4xi32>"),
    "range_i64_down": ('"lf.range"() {start = 5, limit = -6, delta = -3, dtype = i64}', "tensor<4xi64>"),
    "range_f32": ('"lf.range"() {start = -3.5, limit = 4.0, delta = 0.7, dtype = f32}', "tensor<11xf32>"),
    "range_f16": ('"lf.range"() {start = 0.1, limit = 2.0, delta = 0.3, dtype = f16}', "tensor<7xf16>"),
    "range_empty": ('"lf.range"() {start = 2, limit = 2, delta = 1, dtype = i32}', "tensor<0xi32>"),
    "linspace_f32": ('"lf.linspace"() {start = -3.3, stop = 17.1, num = 1000, dtype = f32}', "tensor<1000xf32>"),
    "linspace_f64": ('"lf.linspace"() {start = 0.1, stop = 0.7, num = 50, dtype = f64}', "tensor<50xf64>"),
    "linspace_f16": ('"lf.linspace"() {start = 1.0, stop = 2.0, num = 6, dtype = f16}', "tensor<6xf16>"),
    "linspace_one": ('"lf.linspace"() {start = 2.0, stop = 3.0, num = 1, dtype = f32}', "tensor<1xf32>"),
}


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_range_and_linspace_mean_the_same_at_every_level(name):
    """Bit for bit: LinSpace's start + step * i is never contracted into an FMA natively."""
    op, out = GENERATED[name]
    _same_everywhere(f"""func.func @f() -> {out} {{
  %0 = {op} : () -> {out}
  "func.return"(%0) : ({out}) -> ()
}}""", [])


def test_shape_size_and_rank_mean_the_same_at_every_level():
    text = """func.func @f(%x: tensor<2x0x3xi1>, %y: tensor<f32>) -> (tensor<3xi64>, tensor<i32>, tensor<i32>, tensor<0xi32>, tensor<i64>) {
  %0 = "lf.shape"(%x) {out_type = i64} : (tensor<2x0x3xi1>) -> tensor<3xi64>
  %1 = "lf.size"(%x) {out_type = i32} : (tensor<2x0x3xi1>) -> tensor<i32>
  %2 = "lf.rank"(%x) : (tensor<2x0x3xi1>) -> tensor<i32>
  %3 = "lf.shape"(%y) {out_type = i32} : (tensor<f32>) -> tensor<0xi32>
  %4 = "lf.size"(%y) {out_type = i64} : (tensor<f32>) -> tensor<i64>
  "func.return"(%0, %1, %2, %3, %4) : (tensor<3xi64>, tensor<i32>, tensor<i32>, tensor<0xi32>, tensor<i64>) -> ()
}"""
    want = _same_everywhere(text, [np.zeros((2, 0, 3), bool), np.array(1.0, np.float32)])
    assert [w.tolist() for w in want] == [[2, 0, 3], 0, 3, [], 1]


def test_a_bad_segment_id_is_invalid_argument_and_the_session_stays_usable():
    with tf.Graph().as_default(), tf.Session() as sess:
        data, ids = tf.placeholder(tf.float32, [None, 2]), tf.placeholder(tf.int32, [None])
        out = tf.unsorted_segment_sum(data, ids, 3)
        with pytest.raises(tf.errors.InvalidArgumentError, match="out of range"):
            sess.run(out, {data: np.ones((2, 2), np.float32), ids: np.array([0, 3], np.int32)})
        got = sess.run(out, {data: np.ones((3, 2), np.float32), ids: np.array([2, -1, 2], np.int32)})
        np.testing.assert_array_equal(got, [[0, 0], [0, 0], [2, 2]])


@pytest.mark.parametrize("n", [0, 1, 7, 100])
def test_mask_positions_mean_the_same_at_every_level(n):
    text = f"""func.func @f(%m: tensor<{n}xi1>) -> (tensor<{n}xi64>, tensor<i64>) {{
  %0, %1 = "lf.mask_positions"(%m) : (tensor<{n}xi1>) -> (tensor<{n}xi64>, tensor<i64>)
  "func.return"(%0, %1) : (tensor<{n}xi64>, tensor<i64>) -> ()
}}"""
    rng = np.random.default_rng(n)
    for mask in (np.zeros(n, bool), np.ones(n, bool), rng.random(n) < 0.4):
        positions, count = _same_everywhere(text, [mask])
        assert count == mask.sum() and list(positions[:count]) == list(np.flatnonzero(mask))
