"""Random graph specs and how to build one with either module.

A spec is plain JSON data: the inputs (dtype, shape, values as exact hex floats, fed
through a placeholder of static or unknown dims, or baked in as a constant, which takes
the constant-folding path), then ops (an `ops.py` name, argument indices into inputs +
earlier results, attributes); every op result is fetched. The same spec replays
anywhere: `build(m, spec)` makes the graph in module m's default graph.
"""
from __future__ import annotations

import numpy as np

from fuzz.ops import ALL, BY_NAME, FLOATS, OPS

SHAPE_FAMILIES = [(3,), (2, 3), (0,), (2, 0), (), (3, 3), (1, 3), (4, 1, 2)]


def edge_values(dtype: str) -> list:
    """±0, ±inf, NaN, denormals, the extremes, and small values of `dtype`."""
    if dtype == "bool":
        return [True, False]
    if dtype in FLOATS:
        fi = np.finfo(dtype)
        return [0.0, -0.0, np.inf, -np.inf, np.nan, float(fi.tiny), -float(fi.tiny),
                float(fi.smallest_subnormal), -3 * float(fi.smallest_subnormal), float(fi.max),
                -float(fi.max), 1.0, -1.0, 0.5, -2.5, 3.0, 100.0]
    ii = np.iinfo(dtype)
    small = [0, 1, 2, 7, ii.max, ii.max - 1]
    return small + ([-1, -2, -7, ii.min, ii.min + 1] if ii.min < 0 else [])


def random_array(rng: np.random.Generator, dtype: str, shape: tuple) -> np.ndarray:
    """Values of `dtype`: a third edge values, the rest small random numbers."""
    n = int(np.prod(shape, dtype=np.int64))
    pool = edge_values(dtype)
    if dtype == "bool":
        return rng.integers(0, 2, shape).astype(bool)
    if dtype in FLOATS:
        plain = rng.standard_normal(n) * 3
    else:
        ii = np.iinfo(dtype)
        plain = rng.integers(max(ii.min, -10), 11, n)
    picks = rng.integers(0, len(pool), n)
    edge = rng.random(n) < 0.35
    values = [pool[p] if e else v for p, e, v in zip(picks, edge, plain)]
    return np.array(values, dtype=np.float64 if dtype in FLOATS else object).astype(dtype).reshape(shape)


def encode(a: np.ndarray) -> list:
    """Values exactly, as JSON: floats as hex strings (NaN, inf included), ints as ints."""
    if a.dtype.kind == "f":
        return [float(v).hex() for v in a.ravel()]
    return [bool(v) if a.dtype == np.bool_ else int(v) for v in a.ravel()]


def decode(item: dict) -> np.ndarray:
    values = item["values"]
    if item["dtype"] in FLOATS:
        values = [float.fromhex(v) for v in values]
    return np.array(values, dtype=np.float64 if item["dtype"] in FLOATS else object).astype(
        item["dtype"]).reshape(item["shape"])


def _variant(rng: np.random.Generator, shape: tuple) -> tuple:
    """`shape`, or a shape that broadcasts against it (dims set to 1, leading dims dropped)."""
    r = rng.random()
    if r < 0.5 or not shape:
        return shape
    if r < 0.75:
        return tuple(1 if rng.random() < 0.5 else d for d in shape)
    return shape[int(rng.integers(1, len(shape) + 1)):]


def random_spec(rng: np.random.Generator, lf) -> dict:
    """A spec of 2-3 inputs and up to 5 ops that lowerflow builds (an op it refuses may end
    the graph: the refusal is compared too)."""
    base = SHAPE_FAMILIES[int(rng.integers(len(SHAPE_FAMILIES)))]
    dtypes = [str(rng.choice(ALL))] * 2 + [str(rng.choice(ALL))]
    inputs = []
    for i in range(int(rng.integers(2, 4))):
        shape = _variant(rng, base)
        if rng.random() < 0.15:  # a transposed pair for matmul
            shape = shape[::-1]
        a = random_array(rng, dtypes[i], shape)
        inputs.append({"dtype": dtypes[i], "shape": list(shape), "values": encode(a),
                       "fed": bool(rng.random() < 0.7), "static": bool(rng.random() < 0.7)})
    spec = {"inputs": inputs, "ops": []}
    with lf.Graph().as_default():
        values, feeds = _inputs(lf, spec, force_static=True)
        usable = list(range(len(values)))  # exact values may feed further ops
        for _ in range(int(rng.integers(1, 6))):
            entry = _random_op(rng, values, usable)
            if entry is None:
                continue
            op = BY_NAME[entry["op"]]
            try:
                out = op.build(lf, [values[i] for i in entry["args"]], entry["attrs"])
            except Exception:  # noqa: BLE001 - refused: compare the refusal now and then
                if rng.random() < 0.15:
                    spec["ops"].append(entry)
                    break
                continue
            spec["ops"].append(entry)
            values.append(out)
            if out.dtype.name in op.exact_on:
                usable.append(len(values) - 1)
    return spec


def _random_op(rng: np.random.Generator, values: list, usable: list) -> dict | None:
    op = OPS[int(rng.integers(len(OPS)))]
    candidates = [i for i in usable if values[i].dtype.name in op.dtypes or op.name == "where"]
    if not candidates:
        return None
    first = int(rng.choice(candidates))
    args = [first]
    for _ in range(op.arity - 1):
        same = [i for i in candidates if values[i].dtype is values[first].dtype]
        if op.name == "where":
            same = [i for i in usable if values[i].dtype is values[args[-1]].dtype] if len(args) > 1 else usable
        if op.same_shape:
            same = [i for i in same if values[i].shape == values[first].shape] or same
        pool = same if same and rng.random() < 0.95 else usable
        args.append(int(rng.choice(pool)))
    shapes = [values[i].shape.as_list() for i in args]
    return {"op": op.name, "args": args, "attrs": op.attrs(rng, shapes) if op.attrs else {}}


def _inputs(m, spec: dict, force_static: bool = False) -> tuple[list, dict]:
    values, feeds = [], {}
    for item in spec["inputs"]:
        a = decode(item)
        if item["fed"]:
            dims = item["shape"] if item["static"] or force_static else [None] * len(item["shape"])
            ph = m.placeholder(getattr(m, "bool" if item["dtype"] == "bool" else item["dtype"]), dims)
            feeds[ph] = a
            values.append(ph)
        else:
            values.append(m.constant(a))
    return values, feeds


def build(m, spec: dict) -> tuple[list, dict]:
    """(every op's result, the feed dict) of `spec` in module m's default graph."""
    values, feeds = _inputs(m, spec)
    for entry in spec["ops"]:
        values.append(BY_NAME[entry["op"]].build(m, [values[i] for i in entry["args"]], entry["attrs"]))
    return values[len(spec["inputs"]):], feeds
