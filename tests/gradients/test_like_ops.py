"""The shape-from-operand ops (ir/ops/like.py): their `expand` at concrete shapes means what
their numpy `reference` says (both are run by the reference interpreter)."""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from lowerflow.ir import Function, build, get_op, tensor
from lowerflow.ir.types import F64
from lowerflow.ir.interp import run_function, run_op


def expanded(name: str, shapes: list, attrs: dict) -> Function:
    """A function whose body is `name`'s expansion over arguments of `shapes`."""
    func = Function("f", [tensor(s, F64) for s in shapes])

    def emit(op_name, operands, op_attrs):
        return build(func.body, op_name, operands, op_attrs).results

    func.set_return(get_op(name).expand(emit, list(func.args), attrs), [])
    return func


def check(name: str, shapes: list, attrs: dict, seed: int) -> None:
    args = [np.random.default_rng(seed + i).standard_normal(s) for i, s in enumerate(shapes)]
    func = Function("g", [tensor(s, F64) for s in shapes])
    op = build(func.body, name, list(func.args), attrs)
    want = run_op(op, args)
    got = run_function(expanded(name, shapes, attrs), args)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)


@st.composite
def broadcast(draw):
    """(big, small): `small` broadcasts to `big` (a suffix of it with some dims set to 1)."""
    big = draw(st.lists(st.integers(1, 4), min_size=0, max_size=3))
    rank = draw(st.integers(0, len(big)))
    small = [1 if draw(st.booleans()) else d for d in big[len(big) - rank:]]
    return big, small


@settings(max_examples=40, deadline=None)
@given(shapes=broadcast(), seed=st.integers(0, 99))
def test_sum_to_and_broadcast_like(shapes, seed):
    big, small = shapes
    check("lf.sum_to", [big, small], {}, seed)
    check("lf.broadcast_like", [small, big], {}, seed)
    check("lf.reshape_like", [big, [int(np.prod(big, dtype=int))]], {}, seed)


@settings(max_examples=25, deadline=None)
@given(dims=st.lists(st.integers(1, 5), min_size=1, max_size=3), data=st.data())
def test_broadcast_like_puts_reduced_axes_back(dims, data):
    axes = data.draw(st.lists(st.integers(-len(dims), len(dims) - 1), min_size=1, max_size=len(dims), unique=True))
    if len({a % len(dims) for a in axes}) != len(axes):
        return
    reduced = [d for i, d in enumerate(dims) if i not in {a % len(dims) for a in axes}]
    check("lf.broadcast_like", [reduced, dims], {"axes": axes}, 0)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 9), start=st.integers(-9, 9), stop=st.integers(-9, 9),
       step=st.sampled_from([-3, -2, -1, 1, 2, 3]), seed=st.integers(0, 9))
def test_slice_grad_scatters_into_zeros(n, start, stop, step, seed):
    attrs = {"op": "lf.strided_slice", "begin": [start, 0], "end": [stop, 0], "strides": [step, 1],
             "end_mask": 2}
    from lowerflow.ir.ops.array import slice_window

    window = slice_window("lf.strided_slice", (n, 3), {k: v for k, v in attrs.items() if k != "op"})
    check("lf.slice_grad", [list(window.shape), [n, 3]], attrs, seed)


def test_split_like_pieces():
    check("lf.split_like", [[2, 7], [2, 3], [2, 4]], {"axis": 1}, 0)
