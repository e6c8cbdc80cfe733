"""Shape ops at the loop level: interp(tensor IR) == interp(loop IR) == native, bit for bit,
for transpose, slice, strided_slice (negative strides, shrink and new axes), broadcast_to,
fill_like, tile, concat, stack, split, unstack and pad (constant, reflect, symmetric) over
empty dims, rank 0 and 1, and float, int and bool dtypes; the printed loop level parses back
identically; views with offsets and negative strides are checked in bounds."""
from __future__ import annotations

import numpy as np
import pytest

from lowerflow.backend import compile_function
from lowerflow.ir import Function, Module, build, parse_module, print_module, tensor
from lowerflow.ir.interp import run_function
from lowerflow.ir import ELEM_TYPES, loop_lowering_shape
from lowerflow.ir.verifier import VerifyError, verify as verify_module
from lowerflow.passes import PassManager

SS = {"begin_mask": 0, "end_mask": 0, "ellipsis_mask": 0, "new_axis_mask": 0, "shrink_axis_mask": 0}

#: (id, op, operand shapes, attributes)
CASES = [
    ("transpose-2d", "lf.transpose", [(5, 7)], {"perm": [1, 0]}),
    ("transpose-3d", "lf.transpose", [(2, 3, 4)], {"perm": [2, 0, 1]}),
    ("transpose-default", "lf.transpose", [(3, 1, 4)], {}),
    ("transpose-rank0", "lf.transpose", [()], {"perm": []}),
    ("transpose-tiled", "lf.transpose", [(70, 45)], {"perm": [1, 0]}),  # tiles and both strips
    ("transpose-tiled-batch", "lf.transpose", [(3, 64, 33)], {"perm": [0, 2, 1]}),
    ("transpose-tiled-reversed", "lf.transpose", [(40, 1, 50)], {"perm": [2, 1, 0]}),
    ("transpose-4d", "lf.transpose", [(2, 40, 3, 36)], {"perm": [3, 1, 0, 2]}),
    ("transpose-empty", "lf.transpose", [(0, 3)], {"perm": [1, 0]}),
    ("slice", "lf.slice", [(5, 6)], {"begin": [1, 2], "size": [3, -1]}),
    ("slice-rank1", "lf.slice", [(9,)], {"begin": [4], "size": [5]}),
    ("slice-empty", "lf.slice", [(4, 3)], {"begin": [2, 0], "size": [0, 3]}),
    ("strided-reverse", "lf.strided_slice", [(4, 5)],
     {**SS, "begin": [0, 0], "end": [0, 0], "strides": [-1, -1], "begin_mask": 3, "end_mask": 3}),
    ("strided-step", "lf.strided_slice", [(7, 6)], {**SS, "begin": [6, 1], "end": [0, 6], "strides": [-2, 2]}),
    ("strided-shrink-newaxis", "lf.strided_slice", [(4, 5, 3)],
     {**SS, "begin": [1, 0, 0, 2], "end": [2, 0, 0, 0], "strides": [1, 1, 1, -1], "shrink_axis_mask": 1,
      "new_axis_mask": 2, "end_mask": 12}),
    ("strided-rank1-empty", "lf.strided_slice", [(6,)], {**SS, "begin": [2], "end": [2], "strides": [-1]}),
    ("broadcast-row", "lf.broadcast_to", [(1, 4)], {"shape": [3, 4]}),
    ("broadcast-scalar", "lf.broadcast_to", [()], {"shape": [2, 3]}),
    ("broadcast-middle", "lf.broadcast_to", [(3, 1, 2)], {"shape": [2, 3, 5, 2]}),
    ("broadcast-empty", "lf.broadcast_to", [(1,)], {"shape": [0, 4]}),
    ("fill", "lf.fill_like", [(3, 4)], {"value": 1}),
    ("fill-rank0", "lf.fill_like", [()], {"value": 0}),
    ("tile", "lf.tile", [(2, 3)], {"multiples": [2, 3]}),
    ("tile-rank1", "lf.tile", [(4,)], {"multiples": [3]}),
    ("tile-zero", "lf.tile", [(2, 3)], {"multiples": [0, 2]}),
    ("concat-0", "lf.concat", [(2, 3), (4, 3)], {"axis": 0}),
    ("concat-1", "lf.concat", [(2, 3), (2, 1), (2, 0), (2, 5)], {"axis": 1}),
    ("concat-last", "lf.concat", [(2, 2, 3), (2, 2, 2)], {"axis": -1}),
    ("concat-rank1", "lf.concat", [(3,), (0,), (4,)], {"axis": 0}),
    ("stack-0", "lf.stack", [(3,), (3,), (3,)], {"axis": 0}),
    ("stack-last", "lf.stack", [(2, 3), (2, 3)], {"axis": 2}),
    ("stack-scalars", "lf.stack", [(), ()], {"axis": 0}),
    ("split", "lf.split", [(6, 4)], {"axis": 0, "num_split": 3}),
    ("split-v", "lf.split", [(3, 7)], {"axis": 1, "num_split": 3, "size_splits": [2, 0, -1]}),
    ("unstack", "lf.unstack", [(3, 4)], {"axis": 0, "num": 3}),
    ("unstack-last", "lf.unstack", [(2, 3, 2)], {"axis": -1, "num": 2}),
    ("unstack-rank1", "lf.unstack", [(4,)], {"axis": 0, "num": 4}),
    ("pad-constant", "lf.pad", [(2, 3)], {"paddings": [[1, 2], [0, 3]], "mode": "CONSTANT", "constant_values": 7}),
    ("pad-reflect", "lf.pad", [(4, 5)], {"paddings": [[2, 3], [1, 4]], "mode": "REFLECT", "constant_values": 0}),
    ("pad-symmetric", "lf.pad", [(3, 2, 4)],
     {"paddings": [[3, 1], [2, 2], [0, 4]], "mode": "SYMMETRIC", "constant_values": 0}),
    ("pad-rank0", "lf.pad", [()], {"paddings": [], "mode": "CONSTANT", "constant_values": 1}),
    ("pad-empty", "lf.pad", [(0, 2)], {"paddings": [[1, 1], [0, 1]], "mode": "CONSTANT", "constant_values": 1}),
]
DTYPES = ["f32", "i32", "i1", "f16", "i64", "ui8", "f64"]


def _function(op_name: str, shapes: list, attrs: dict, dtype: str) -> Function:
    func = Function("f", [tensor(s, ELEM_TYPES[dtype]) for s in shapes])
    op = build(func.body, op_name, list(func.args), attrs)
    func.set_return(list(op.results))
    return func


def _inputs(shapes: list, dtype: str, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    np_dtype = ELEM_TYPES[dtype].np_dtype
    if dtype == "i1":
        return [np.asarray(rng.random(s) < 0.5) for s in shapes]
    if dtype.startswith("f"):
        return [np.asarray(rng.standard_normal(s) * 10).astype(np_dtype) for s in shapes]
    return [np.asarray(rng.integers(0, 100, s)).astype(np_dtype) for s in shapes]


def _loop_level(func: Function) -> Function:
    m = Module([func])
    PassManager("plan-buffers,lower-to-loops").run(m)
    verify_module(m)
    return m.functions[0]


PARAMS = [(c, d) for c in CASES for d in (["f32", "i32", "i1"] if c[0].endswith(("2d", "empty", "reverse", "rank0"))
                                           else ["f32"])] + \
    [(c, d) for c in CASES if c[0] in ("concat-1", "pad-reflect", "pad-constant", "strided-step", "tile", "unstack-last",
                                       "fill", "transpose-tiled")
     for d in DTYPES if d not in ("f32",)]


@pytest.fixture(autouse=True)
def _tile_small(request, monkeypatch):
    """The "tiled" cases tile though small (the thresholds are for speed, not meaning)."""
    if "transpose-tiled" in request.node.name:
        monkeypatch.setattr(loop_lowering_shape, "TILE_LARGE", 0)


@pytest.mark.parametrize("case, dtype", PARAMS, ids=[f"{c[0]}-{d}" for c, d in PARAMS])
def test_shape_op_means_the_same_at_every_level(case, dtype):
    _, op_name, shapes, attrs = case
    tensor_level = _function(op_name, shapes, attrs, dtype)
    loop_level = _loop_level(_function(op_name, shapes, attrs, dtype))
    assert [op.name for op in loop_level.ops[:-1]] == ["loop.kernel"]
    native = compile_function(loop_level)
    direct = compile_function(_function(op_name, shapes, attrs, dtype))  # the backend lowers it itself
    args = _inputs(shapes, dtype, 0)
    want = run_function(tensor_level, args)
    for level, got in (("loop IR", run_function(loop_level, args)), ("native", native.run(args)),
                       ("native from tensor IR", direct.run(args))):
        assert len(got) == len(want), level
        for k, (a, b) in enumerate(zip(got, want)):
            assert a.dtype == b.dtype and a.shape == b.shape, (level, k, a.shape, b.shape)
            np.testing.assert_array_equal(a, b, err_msg=f"{level} result #{k}")


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_loop_level_prints_and_parses_back(case):
    _, op_name, shapes, attrs = case
    m = Module([_loop_level(_function(op_name, shapes, attrs, "f32"))])
    text = print_module(m)
    again = parse_module(text)
    verify_module(again)
    assert print_module(again) == text


def test_only_large_or_conflicting_transposes_are_tiled():
    def tiled(shape: tuple, dtype: str = "f32") -> bool:
        func = _loop_level(_function("lf.transpose", [shape], {}, dtype))
        return "upper = 16 : i64" in print_module(Module([func]))

    assert tiled((136, 128)) and tiled((96, 1024)) and tiled((4096, 4096)) and tiled((1000, 1000))
    assert not tiled((400, 400)) and not tiled((64, 784)) and not tiled((70, 45)) and not tiled((1024, 96)) \
        and not tiled((4096, 8))


def test_negative_strides_and_offsets_read_backwards():
    """A reversed slice is one view from the last element with stride -1 (no index arithmetic)."""
    func = _loop_level(_function("lf.strided_slice", [(8,)], {**SS, "begin": [6], "end": [1], "strides": [-2]},
                                 "f32"))
    text = print_module(Module([func]))
    assert "memref<3xf32, strided<[-2], offset: 6>>" in text and "loop.index_arith" not in text
    x = np.arange(8, dtype=np.float32)
    np.testing.assert_array_equal(compile_function(func).run([x])[0], [6, 4, 2])


@pytest.mark.parametrize("view, message", [
    ("{offset = 1 : i64, shape = [3 : i64], strides = [-1 : i64]} : (memref<4xf32>) -> "
     "memref<3xf32, strided<[-1], offset: 1>>", "reads outside"),
    ("{offset = 1 : i64, shape = [2 : i64], strides = [3 : i64]} : (memref<4xf32>) -> "
     "memref<2xf32, strided<[3], offset: 1>>", "reads outside"),
])
def test_a_view_outside_its_buffer_is_refused(view, message):
    text = f"""func.func @f(%x: tensor<4xf32>) -> tensor<3xf32> {{
  %0 = "loop.kernel"(%x) ({{
  ^bb0(%out: memref<3xf32>, %in: memref<4xf32>):
    %v = "loop.view"(%in) {view}
    "lf.yield"() : () -> ()
  }}) : (tensor<4xf32>) -> tensor<3xf32>
  "func.return"(%0) : (tensor<3xf32>) -> ()
}}"""
    with pytest.raises(VerifyError, match=message):
        verify_module(parse_module(text))


def test_no_shape_op_keeps_a_direct_kernel():
    from lowerflow.backend import KERNEL_LOWERINGS
    from lowerflow.ir.loop_lowering import KERNELS
    from lowerflow.ir.loop_lowering_shape import SHAPE_OPS

    for name in SHAPE_OPS:
        assert name in KERNELS and name not in KERNEL_LOWERINGS, name


def test_a_bool_copy_moves_its_bytes():
    """A bool loaded and stored as it is moves its byte (the optimised copy is a memcpy, as
    numpy's), not an i1 compared and widened back."""
    from lowerflow.backend.executable import jit_module_text
    from lowerflow.backend.jit import optimise

    func = _loop_level(_function("lf.concat", [(6, 40), (6, 40)], {"axis": 1}, "i1"))
    text = str(optimise(jit_module_text(func)))
    assert "llvm.memcpy" in text and "icmp ne i8" not in text and "icmp ne <" not in text, text


@pytest.mark.parametrize("layout, message", [
    ("strided<[1], offset 3>", "expected ':'"),
    ("strided<[1], size: 3>", "expected 'offset'"),
    ("strided<[1], offset: x>", "expected an offset"),
])
def test_a_malformed_offset_is_a_parse_error(layout, message):
    from lowerflow.ir import ParseError

    text = f"""func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {{
  %0 = "loop.kernel"(%x) ({{
  ^bb0(%out: memref<4xf32>, %in: memref<4xf32>):
    %v = "loop.view"(%in) {{offset = 3 : i64, shape = [1 : i64], strides = [1 : i64]}} : (memref<4xf32>) -> memref<1xf32, {layout}>
    "lf.yield"() : () -> ()
  }}) : (tensor<4xf32>) -> tensor<4xf32>
  "func.return"(%0) : (tensor<4xf32>) -> ()
}}"""
    with pytest.raises(ParseError, match=message):
        parse_module(text)
