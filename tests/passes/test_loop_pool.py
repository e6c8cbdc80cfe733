"""Pooling at the loop level: interp(tensor IR) == interp(loop IR) == native for max/avg
pooling and their gradients (SAME/VALID/explicit, strides, odd sizes, ties, NaN and -inf,
float16/float64/int32); tf.nn.max_pool/avg_pool and their gradients against TensorFlow
(NHWC and NCHW); a finite-difference check of avg pooling's gradient; bad attributes."""
from __future__ import annotations

import numpy as np
import pytest

import lowerflow as lf
from lowerflow.backend import compile_function
from lowerflow.backend.executable import jit_module_text
from lowerflow.ir import parse_module
from lowerflow.ir.interp import run_function
from lowerflow.ir.ops.pool import windows
from lowerflow.passes import PassManager

#: (input shape, ksize, strides, padding, explicit paddings)
CASES = [
    ((2, 5, 5, 3), (2, 2), (2, 2), "SAME", None),
    ((2, 7, 6, 4), (3, 3), (2, 1), "SAME", None),
    ((1, 6, 7, 2), (3, 2), (1, 3), "VALID", None),
    ((2, 4, 5, 3), (3, 3), (1, 1), "SAME", None),
    ((1, 5, 4, 2), (2, 3), (2, 2), "EXPLICIT", [0, 0, 1, 0, 2, 1, 0, 0]),
    ((3, 1, 9, 1), (1, 4), (1, 3), "SAME", None),
    ((1, 10, 9, 2), (9, 9), (1, 1), "VALID", None),  # more than UNROLL elements: window loops
]


def _t(shape: tuple, dtype: str) -> str:
    return f"tensor<{'x'.join(map(str, shape))}x{dtype}>"


def _attrs(case) -> dict:
    _, k, s, padding, explicit = case
    attrs = {"ksize": [1, *k, 1], "strides": [1, *s, 1], "padding": padding}
    return {**attrs, "explicit_paddings": explicit} if explicit else attrs


def _function(case, dtype: str) -> str:
    """max_pool, avg_pool (floats), max_pool_grad and avg_pool_grad of %x with gradient %g."""
    shape, attrs = case[0], _attrs(case)
    h, w = windows(shape, attrs)
    out = (shape[0], h.out, w.out, shape[3])
    a = "{" + ", ".join(f'{k} = {v if k != "padding" else chr(34) + v + chr(34)}' for k, v in attrs.items()) + "}"
    x, y = _t(shape, dtype), _t(out, dtype)
    body = [f'  %0 = "lf.max_pool"(%x) {a} : ({x}) -> {y}',
            f'  %1 = "lf.max_pool_grad"(%x, %0, %g) {a} : ({x}, {y}, {y}) -> {x}']
    results = [("%0", y), ("%1", x)]
    if dtype.startswith("f"):
        body += [f'  %2 = "lf.avg_pool"(%x) {a} : ({x}) -> {y}',
                 f'  %3 = "lf.avg_pool_grad"(%x, %g) {a} : ({x}, {y}) -> {x}']
        results += [("%2", y), ("%3", x)]
    names, types = ", ".join(n for n, _ in results), ", ".join(t for _, t in results)
    return (f"func.func @f(%x: {x}, %g: {y}) -> ({types}) {{\n" + "\n".join(body) +
            f'\n  "func.return"({names}) : ({types}) -> ()\n}}'), out


LEVEL_CASES = [(c, "f32") for c in CASES] + [(CASES[1], "f64"), (CASES[0], "f16"), (CASES[3], "i32")]


@pytest.fixture(scope="module", params=LEVEL_CASES, ids=[f"{c[0]}-{c[3]}-{d}" for c, d in LEVEL_CASES])
def levels(request):
    """(dtype, output shape, the tensor-level function, its loop level, the native executable)."""
    case, dtype = request.param
    text, out = _function(case, dtype)
    m = parse_module(text)
    PassManager("plan-buffers,lower-to-loops").run(m)
    (func,) = m.functions
    assert all(op.name == "loop.kernel" for op in func.ops[:-1])
    return case, dtype, out, parse_module(text).functions[0], func, compile_function(func)


def _inputs(shape: tuple, out: tuple, dtype: str, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Few distinct values (ties everywhere, as after a ReLU); floats with NaN and -inf."""
    rng = np.random.default_rng(seed)
    np_dtype = {"f32": np.float32, "f64": np.float64, "f16": np.float16, "i32": np.int32}[dtype]
    x = np.maximum(rng.integers(-2, 3, shape), 0).astype(np_dtype)
    if dtype.startswith("f"):
        x[rng.random(shape) < 0.1] = np.nan
        x[rng.random(shape) < 0.1] = -np.inf
        x[0, 0] = np.nan  # a row of NaN
        g = rng.standard_normal(out).astype(np_dtype)
    else:
        g = rng.integers(-5, 6, out).astype(np_dtype)
    return x, g


@pytest.mark.parametrize("seed", [0, 1])
def test_pooling_means_the_same_at_every_level(levels, seed):
    case, dtype, out, tensor_level, loop_level, native = levels
    x, g = _inputs(case[0], out, dtype, seed)
    want = run_function(tensor_level, [x, g])
    tol = {"f16": 2e-3, "f32": 1e-6, "f64": 1e-12}.get(dtype, 0)
    for level, got in (("loop IR", run_function(loop_level, [x, g])), ("native", native.run([x, g]))):
        for k, (a, b) in enumerate(zip(got, want)):
            assert a.dtype == b.dtype and a.shape == b.shape, (level, k)
            np.testing.assert_allclose(a.astype(np.float64), b.astype(np.float64), rtol=tol, atol=tol,
                                       err_msg=f"{level} result #{k}")


def test_max_pool_gradient_goes_to_the_first_maximum():
    """Ties and NaN in one 2x2 window each, as TF's float32 kernel resolves them."""
    windows_ = [[1, 3, 3, 0], [np.nan, 1, np.nan, 1], [np.nan] * 4, [-np.inf, -np.inf, np.nan, -np.inf],
                [-0.0, 0.0, 0.0, -0.0], [2, 2, 2, 2]]
    x = np.array(windows_, np.float32).reshape(len(windows_), 2, 2, 1)
    case = ((len(windows_), 2, 2, 1), (2, 2), (2, 2), "VALID", None)
    text, _ = _function(case, "f32")
    native = compile_function(parse_module(text).functions[0])
    y, dx, _, _ = native.run([x, np.ones((len(windows_), 1, 1, 1), np.float32)])
    lowest = np.finfo(np.float32).min
    np.testing.assert_array_equal(y.ravel(), [3, 1, lowest, lowest, -0.0, 2])
    assert np.signbit(y.ravel()[4])
    np.testing.assert_array_equal(dx.reshape(len(windows_), 4), [[0, 1, 0, 0], [0, 1, 0, 0], [1, 0, 0, 0],
                                                                 [1, 0, 0, 0], [1, 0, 0, 0], [1, 0, 0, 0]])


TF_CASES = [c for c in CASES if c[3] != "EXPLICIT"]


def _pool_graph(api, x: np.ndarray, case, data_format: str = "NHWC"):
    """max_pool, avg_pool and the gradients of sum(pool * weights) for each, on a placeholder."""
    shape, k, s, padding, _ = case
    p = api.placeholder(api.float32, [None, *shape[1:]])
    inp = api.transpose(p, [0, 3, 1, 2]) if data_format == "NCHW" else p
    ks, ss = ([1, 1, *k], [1, 1, *s]) if data_format == "NCHW" else ([1, *k, 1], [1, *s, 1])
    fetches = []
    for pool in (api.nn.max_pool, api.nn.avg_pool):
        y = pool(inp, ks, ss, padding, data_format=data_format)
        y = api.transpose(y, [0, 2, 3, 1]) if data_format == "NCHW" else y
        weights = np.arange(np.prod(y.shape.as_list()[1:]), dtype=np.float32).reshape(y.shape.as_list()[1:]) % 7 - 3
        fetches += [y, api.gradients(api.reduce_sum(y * weights), p)[0]]
    return p, fetches


@pytest.fixture(scope="module")
def tf_results(tf1):
    """Every TF case's fetches from lowerflow (NHWC and NCHW) and from TensorFlow (NHWC)."""
    rng = np.random.default_rng(3)
    xs = [np.maximum(rng.integers(-2, 4, c[0]), 0).astype(np.float32) for c in TF_CASES]  # ties
    runs = {}
    for key, api, form in (("lf", lf, "NHWC"), ("lf_nchw", lf, "NCHW"), ("tf", tf1, "NHWC")):
        with api.Graph().as_default():
            graphs = [_pool_graph(api, x, c, form) for x, c in zip(xs, TF_CASES)]
            with api.Session() as sess:
                runs[key] = [sess.run(f, {p: x}) for x, (p, f) in zip(xs, graphs)]
    return runs


@pytest.mark.parametrize("key", ["lf", "lf_nchw"])
def test_against_tensorflow(tf_results, key):
    for case, got, want in zip(TF_CASES, tf_results[key], tf_results["tf"]):
        for name, a, b in zip(("max_pool", "max grad", "avg_pool", "avg grad"), got, want):
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-5, err_msg=f"{key} {name} {case}")


def test_avg_pool_gradient_matches_finite_differences():
    case = ((1, 5, 4, 2), (3, 2), (2, 1), "SAME", None)
    x0 = np.random.default_rng(5).standard_normal(case[0])
    with lf.Graph().as_default():
        p = lf.placeholder(lf.float64, case[0])
        y = lf.nn.avg_pool(p, [1, *case[1], 1], [1, *case[2], 1], case[3])
        weights = np.random.default_rng(6).standard_normal(y.shape.as_list())
        loss = lf.reduce_sum(lf.sin(y) * weights)
        (grad,) = lf.gradients(loss, [p])
        with lf.Session() as sess:
            g = sess.run(grad, {p: x0})
            eps, numeric = 1e-6, np.zeros_like(x0)
            for i in np.ndindex(x0.shape):
                up, down = x0.copy(), x0.copy()
                up[i] += eps
                down[i] -= eps
                numeric[i] = (sess.run(loss, {p: up}) - sess.run(loss, {p: down})) / (2 * eps)
    np.testing.assert_allclose(g, numeric, rtol=1e-6, atol=1e-8)


def test_graph_ops_are_tensorflows():
    with lf.Graph().as_default():
        x = lf.placeholder(lf.float32, [None, 4, 4, 1])
        y = lf.nn.max_pool(x, 2, 2, "VALID")
        z = lf.nn.avg_pool(x, [1, 2, 2, 1], [1, 1, 1, 1], "SAME", name="pooled")
        assert (y.op.type, y.name, y.shape.as_list()) == ("MaxPool", "MaxPool:0", [None, 2, 2, 1])
        assert (z.op.type, z.name, z.shape.as_list()) == ("AvgPool", "pooled:0", [None, 4, 4, 1])
        (gy,) = lf.gradients(y, [x])
        (gz,) = lf.gradients(z, [x])
        assert gy.op.type == "MaxPoolGrad" and gz.op.type == "AvgPoolGrad"


@pytest.mark.parametrize("call, error, message", [
    (lambda x: lf.nn.max_pool(x, [2, 2, 2, 1], 1, "VALID"), ValueError, "batch and depth"),
    (lambda x: lf.nn.max_pool(x, 5, 1, "VALID"), ValueError, "Computed output size would be negative"),
    (lambda x: lf.nn.avg_pool(lf.cast(x, lf.int32), 2, 2, "VALID"), TypeError, "AvgPool"),
    (lambda x: lf.nn.max_pool(x, 2, 2, "FULL"), ValueError, "padding"),
    (lambda x: lf.nn.max_pool(x, 2, 2, [[0, 0], [2, 2], [0, 0], [0, 0]]), ValueError, "smaller than the window"),
])
def test_bad_attributes(call, error, message):
    with lf.Graph().as_default():
        x = lf.placeholder(lf.float32, [1, 4, 4, 1])
        with pytest.raises(error, match=message):
            call(x)


def test_graph_def_round_trip_through_tensorflow(tf1):
    """MaxPool, AvgPool and MaxPoolGrad export with TF's attributes: TensorFlow and lowerflow
    import the GraphDef and compute what the original graph does."""
    x = np.random.default_rng(0).standard_normal((2, 5, 5, 3)).astype(np.float32)
    names = ["y:0", "z:0", "gy:0"]
    with lf.Graph().as_default() as g:
        p = lf.placeholder(lf.float32, [None, 5, 5, 3], name="x")
        y = lf.identity(lf.nn.max_pool(p, 2, 2, "SAME"), name="y")
        lf.identity(lf.nn.avg_pool(p, 3, 1, "VALID"), name="z")
        lf.identity(lf.gradients(lf.reduce_sum(y * y), p)[0], name="gy")
        gd = g.as_graph_def()
        with lf.Session() as s:
            want = s.run(names, {p: x})
    assert {"MaxPool", "AvgPool", "MaxPoolGrad"} <= {n.op for n in gd.node}
    for api, graph_def in ((lf, gd), (tf1, tf1.GraphDef.FromString(gd.SerializeToString()))):
        with api.Graph().as_default():
            api.import_graph_def(graph_def, name="")
            with api.Session() as s:
                for a, b in zip(s.run(names, {"x:0": x}), want):
                    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_batch_loop_splits_across_threads():
    """A large pooling's batch loop runs in chunks on two threads (its window constants are
    LLVM constants the chunks share) and means the same."""
    case = ((16, 28, 28, 32), (2, 2), (2, 2), "SAME", None)
    text, out = _function(case, "f32")
    func = parse_module(text).functions[0]
    x, g = _inputs(case[0], out, "f32", 4)
    want = run_function(func, [x, g])
    for got, expect in zip(compile_function(func, threads=2).run([x, g]), want):
        np.testing.assert_allclose(got, expect, rtol=1e-6, atol=1e-6)
    assert "GOMP_parallel" in jit_module_text(func, "step", 2)
