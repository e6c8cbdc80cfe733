"""Property: for random graphs built with `ir.build`, print∘parse∘print is the identity on text,
and the parsed function means the same to the reference interpreter."""
from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lowerflow.ir import (
    ELEM_TYPES, OPS, Block, Function, Module, Operation, build, parse_module, print_module,
)
from lowerflow.ir.interp import run_function
from lowerflow.ir.types import F32, tensor
from lowerflow.ir.verifier import verify

DTYPES = sorted(ELEM_TYPES.values(), key=lambda t: t.name)
SPECIAL_FLOATS = [0.0, -0.0, 1.5, -2.25, 1e-8, 6e4, np.nan, np.inf, -np.inf]


def _arity(name: str) -> int:
    """OpDefs do not declare arity, so take the fewest operands the numpy reference accepts."""
    for n in (1, 2, 3):
        try:
            OPS[name].reference([np.ones(2)] * n, {"to": F32})
            return n
        except Exception:  # noqa: BLE001, S112  (too few operands fail in many ways)
            continue
    raise AssertionError(f"cannot find the arity of {name}")


EW_OPS = {name: _arity(name) for name, d in sorted(OPS.items())
          if d.has("elementwise") and set(d.attrs) <= {"to"}}  # broadcast_to's shape: not random


@st.composite
def shapes(draw, base: tuple, static: bool) -> tuple:
    """A shape that broadcasts against `base`: a suffix of it with some dims 1 (or None)."""
    rank = draw(st.integers(0, len(base)))
    dims = base[len(base) - rank:]
    choices = [None, 1] if static else [None, 1, "?"]
    edits = draw(st.lists(st.sampled_from(choices), min_size=rank, max_size=rank))
    return tuple({None: d, 1: 1, "?": None}[e] for d, e in zip(dims, edits))


@st.composite
def constants(draw, shape: tuple, dtype) -> np.ndarray:
    size = int(np.prod(shape))
    if dtype.is_float:
        elems = st.sampled_from(SPECIAL_FLOATS)
    elif dtype.is_bool:
        elems = st.booleans()
    else:
        info = np.iinfo(dtype.np_dtype)
        elems = st.integers(int(info.min), int(info.max))
    if draw(st.booleans()):  # splats print differently from nested lists
        return np.full(shape, draw(elems), dtype.np_dtype)
    values = draw(st.lists(elems, min_size=size, max_size=size))
    return np.array(values, dtype.np_dtype).reshape(shape)


def add_random_ops(draw, block: Block, pool: list, count: int) -> None:
    """Append up to `count` random elementwise ops over `pool`; ill-typed picks are skipped."""
    for _ in range(count):
        name = draw(st.sampled_from(sorted(EW_OPS)))
        operands = [draw(st.sampled_from(pool)) for _ in range(EW_OPS[name])]
        attrs = {"to": draw(st.sampled_from(DTYPES))} if name == "lf.cast" else {}
        location = draw(st.sampled_from([None, "loc/a", 'q"uote\\d']))
        try:
            op = build(block, name, operands, attrs, location)
        except (TypeError, ValueError):
            continue
        pool.extend(op.results)


@st.composite
def graphs(draw) -> tuple[Module, bool]:
    static = draw(st.booleans())
    base = tuple(draw(st.lists(st.integers(1, 4), max_size=3)))
    dtypes = draw(st.lists(st.sampled_from(DTYPES), min_size=1, max_size=2))
    arg_types = [tensor(draw(shapes(base, static)), draw(st.sampled_from(dtypes)))
                 for _ in range(draw(st.integers(1, 3)))]
    names = st.sampled_from([None, "x:0", 'odd "name"\n'])
    func = Function("step", arg_types, [draw(names) for _ in arg_types])
    pool = list(func.args)
    for _ in range(draw(st.integers(0, 2))):
        dtype = draw(st.sampled_from(dtypes))
        value = draw(constants(tuple(d or 1 for d in draw(shapes(base, True))), dtype))
        pool.extend(build(func.body, "lf.constant", [], {"value": value}).results)
    add_random_ops(draw, func.body, pool, draw(st.integers(0, 6)))
    if draw(st.booleans()):  # a fusion whose body is more random elementwise ops
        operands = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=3))
        body = Block([v.type for v in operands])
        inner = list(body.args)
        add_random_ops(draw, body, inner, draw(st.integers(1, 4)))
        yields = draw(st.lists(st.sampled_from(inner), min_size=1, max_size=2))
        body.add("lf.yield", yields)
        pool.extend(func.body.append(Operation("lf.fusion", operands, [v.type for v in yields],
                                               regions=[body])).results)
    results = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=3))
    func.set_return(results, [draw(names) for _ in results])
    return Module([func]), static


def random_inputs(func: Function, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    out = []
    for a in func.args:
        dt = a.type.dtype
        if dt.is_float:
            x = rng.standard_normal(a.type.shape) * 3
        else:
            low = 0 if dt.is_bool or dt.kind == "uint" else -5
            x = rng.integers(low, 2 if dt.is_bool else 6, a.type.shape)
        out.append(np.asarray(x).astype(dt.np_dtype))
    return out


def interpret(func: Function, args: list[np.ndarray]):
    """The interpreter's results, or the type of exception it raised (both runs must agree)."""
    try:
        with np.errstate(all="ignore"):
            return run_function(func, args)
    except Exception as e:  # noqa: BLE001  (numpy refusing integers to negative powers, ...)
        return type(e)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graphs(), st.integers(0, 2**32 - 1))
def test_print_parse_print_is_identity(graph, seed):
    module, static = graph
    verify(module)
    for locations in (False, True):
        text = print_module(module, locations=locations)
        parsed = parse_module(text)
        assert print_module(parsed, locations=locations) == text
    verify(parsed)
    f, g = module["step"], parsed["step"]
    assert g.arg_names == f.arg_names and g.result_names == f.result_names
    if static:
        args = random_inputs(f, seed)
        want, got = interpret(f, args), interpret(g, args)
        if isinstance(want, type):
            assert got is want
            return
        for w, o in zip(want, got, strict=True):
            assert w.dtype == o.dtype
            np.testing.assert_array_equal(o, w)
