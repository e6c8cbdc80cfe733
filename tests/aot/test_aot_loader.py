"""Round trips through `lowerflow.aot.load` (ctypes on libNAME.so) equal Session.run
(acceptance 3), for graphs covering the elementwise ops of every dtype family, scalars
and broadcasting, variables frozen from a session or from their initial values, and
reductions/matmul when the backend has them."""
from __future__ import annotations

import threading

import numpy as np
import pytest

import lowerflow as tf
from lowerflow import aot
from lowerflow.backend import NativeError

from .conftest import undefined_symbols

RNG = np.random.default_rng(3)


def _float_graph(dtype):
    x = tf.placeholder(dtype, [3, 4], name="x")
    y = tf.placeholder(dtype, [4], name="y")
    pos = tf.abs(x) + 0.5
    fetches = [tf.negative(x), tf.abs(x), tf.square(x), tf.sqrt(pos), tf.exp(x), tf.log(pos), tf.tanh(x),
               tf.sigmoid(x), tf.floor(x), tf.ceil(x), tf.round(x), tf.sign(x), tf.reciprocal(pos),
               tf.rsqrt(pos), tf.sin(x), tf.cos(x), tf.log1p(pos), tf.expm1(x), tf.nn.relu(x),
               x + y, x - y, x * y, x / (tf.abs(y) + 1.0), tf.maximum(x, y), tf.minimum(x, y),
               tf.squared_difference(x, y), tf.pow(pos, y), tf.floormod(x, tf.abs(y) + 1.0),
               tf.less(x, y), tf.greater_equal(x, y), tf.equal(x, x), tf.where(x > y, x, y),
               tf.cast(x * 10.0, tf.int32), x * 2.0 + 1.0]
    return [x, y], fetches


def _int_graph(dtype):
    x = tf.placeholder(dtype, [2, 5], name="a")
    y = tf.placeholder(dtype, [5], name="b")
    nonzero = tf.abs(y) + 1
    fetches = [x + y, x - y, x * y, tf.floordiv(x, nonzero), tf.floormod(x, nonzero), tf.maximum(x, y),
               tf.minimum(x, y), tf.abs(x), tf.negative(x), tf.square(x), tf.not_equal(x, y),
               tf.less_equal(x, y), tf.cast(x, tf.float32), tf.where(tf.greater(x, 0), x, y)]
    return [x, y], fetches


def _bool_graph():
    p = tf.placeholder(tf.bool, [6], name="p")
    q = tf.placeholder(tf.bool, [6], name="q")
    return [p, q], [tf.logical_and(p, q), tf.logical_or(p, q), tf.logical_xor(p, q), tf.logical_not(p),
                    tf.cast(p, tf.int32)]


def _scalar_graph():
    s = tf.placeholder(tf.float32, [], name="s")
    v = tf.placeholder(tf.float32, [1, 3], name="v")
    return [s, v], [s * v, s + 1.0, tf.identity(s)]


GRAPHS = {
    "f32": lambda: _float_graph(tf.float32),
    "f64": lambda: _float_graph(tf.float64),
    "f16": lambda: ([x := tf.placeholder(tf.float16, [7], name="h")],
                    [x * x + 1.0, tf.exp(x), tf.maximum(x, 0.0), tf.cast(x, tf.float32)]),
    "i32": lambda: _int_graph(tf.int32),
    "i64": lambda: _int_graph(tf.int64),
    "u8": lambda: ([x := tf.placeholder(tf.uint8, [4], name="u")], [x + 3, x * x, tf.maximum(x, 100)]),
    "bool": _bool_graph,
    "scalar": _scalar_graph,
}


def _value(t: tf.Tensor) -> np.ndarray:
    dtype = t.dtype.as_numpy_dtype
    shape = t.shape.as_list()
    if np.dtype(dtype).kind == "b":
        return RNG.random(shape) < 0.5
    if np.dtype(dtype).kind in "iu":
        info = np.iinfo(dtype)
        return RNG.integers(max(info.min, -50), min(info.max, 50), size=shape, endpoint=True).astype(dtype)
    return RNG.normal(scale=2.0, size=shape).astype(dtype)


def _roundtrip(tmp_path_factory, key: str, build, **compile_args):
    g = tf.Graph()
    with g.as_default():
        feeds, fetches = build()
        values = [_value(t) for t in feeds]
        with tf.Session(graph=g) as sess:
            try:
                want = sess.run(fetches, dict(zip(feeds, values)))
            except (NotImplementedError, tf.errors.UnimplementedError) as e:
                pytest.skip(f"the backend cannot run this graph yet: {e}")
            out = tmp_path_factory.mktemp(key)
            aot.compile(fetches, feeds, name=key, out_dir=out, shared=True, **compile_args)
    fn = aot.load(out, key)
    got = fn(*values)
    return (got if isinstance(got, list) else [got]), want


@pytest.mark.parametrize("key", sorted(GRAPHS))
def test_loader_equals_session(tmp_path_factory, key):
    got, want = _roundtrip(tmp_path_factory, key, GRAPHS[key])
    assert len(got) == len(want)
    for i, (g, w) in enumerate(zip(got, want)):
        assert g.dtype == w.dtype and g.shape == w.shape, f"result {i}"
        np.testing.assert_array_equal(g, w, err_msg=f"{key} result {i}")


def test_portable_target_cpu(tmp_path_factory):
    """x86-64-v3 code (no host features) computes what the host JIT computes."""
    got, want = _roundtrip(tmp_path_factory, "portable", GRAPHS["f32"], target_cpu="x86-64-v3")
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-6)


def test_reductions_and_matmul(tmp_path_factory):
    if not hasattr(tf, "reduce_sum") or not hasattr(tf, "matmul"):
        pytest.skip("reductions / matmul are not available")

    def build():
        x = tf.placeholder(tf.float32, [3, 4], name="x")
        w = tf.placeholder(tf.float32, [4, 2], name="w")
        return [x, w], [tf.reduce_sum(x, axis=1), tf.reduce_max(x, axis=0), tf.reduce_mean(x),
                        tf.matmul(x, w), tf.nn.softmax(x)]
    got, want = _roundtrip(tmp_path_factory, "reduce", build)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-6)


def _deep_chain(x: tf.Tensor, n: int = 40) -> tf.Tensor:
    """More ops than one fusion holds (fuse max-ops=32): fusions pass temporaries in the arena."""
    for i in range(n):
        x = tf.tanh(x) * 1.5 if i % 2 else x + 0.25
    return x


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    """model: y = x * w + b with w assigned in a session, int q = a // d; initial: y with the
    variables' initial values; deep: a chain of 40 ops, so the step has temporaries."""
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [2, 3], name="x")
        a = tf.placeholder(tf.int32, [3], name="a")
        d = tf.placeholder(tf.int32, [3], name="d")
        w = tf.Variable(np.ones(3, np.float32), name="w")
        b = tf.Variable(np.full(3, 0.5, np.float32), name="b")
        y = x * w + b
        out = tmp_path_factory.mktemp("model")
        with tf.Session(graph=g) as sess:
            sess.run(tf.global_variables_initializer())
            w.load(np.array([2.0, -1.0, 3.0], np.float32), sess)
            aot.compile([y, tf.floordiv(a, d)], [x, a, d], name="model", out_dir=out, session=sess)
            aot.compile(y, [x], name="initial", out_dir=out)  # no session: initial values
        aot.compile(_deep_chain(x), [x], name="deep", out_dir=out)
    return out


def test_frozen_session_and_initial_values(model):
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    y, q = aot.load(model, "model")(x, [7, -7, 9], [2, 2, 3])
    np.testing.assert_array_equal(y, x * [2.0, -1.0, 3.0] + 0.5)
    np.testing.assert_array_equal(q, [3, -4, 3])
    np.testing.assert_array_equal(aot.load(model, "initial")(x), x + 0.5)  # one fetch: one array


def test_loader_links_the_library_on_demand(model):
    (model / "libmodel.so").unlink(missing_ok=True)  # compiled without shared=True
    fn = aot.load(model, "model")
    assert (model / "libmodel.so").exists()
    assert "model(" in repr(fn)


def test_native_error_status(model):
    with pytest.raises(NativeError, match="Integer division by zero") as info:
        aot.load(model, "model")(np.zeros((2, 3)), [1, 2, 3], [1, 0, 1])
    assert info.value.code == 1


def test_loader_converts_and_checks(model):
    fn = aot.load(model, "model")
    y, _ = fn([[1, 2, 3], [4, 5, 6]], np.array([1, 2, 3], np.int64), [1, 1, 1])  # lists, int64 -> i32
    assert y.dtype == np.float32
    with pytest.raises(ValueError, match=r"'x:0' must have shape \[2, 3\], got \[3, 2\]"):
        fn(np.zeros((3, 2)), [1, 2, 3], [1, 1, 1])
    with pytest.raises(ValueError, match="takes 3 arguments"):
        fn(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="cannot convert the value for 'a:0'"):
        fn(np.zeros((2, 3)), ["x", "y", "z"], [1, 1, 1])


def test_reentrant_from_threads(model):
    """ctypes releases the GIL: concurrent calls must not share temporaries or buffers."""
    assert "aligned_alloc" in undefined_symbols(model / "deep.o")  # the step has an arena
    fn = aot.load(model, "deep")
    inputs = [RNG.normal(size=(2, 3)).astype(np.float32) for _ in range(8)]
    expected = [fn(x) for x in inputs]
    mismatches: list[int] = []

    def work(i: int) -> None:
        for _ in range(200):
            if not np.array_equal(fn(inputs[i]), expected[i]):
                mismatches.append(i)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(inputs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not mismatches


def test_release_frees_the_cached_arena_while_others_run(model):
    """`NAME_release` (the header's one global: the cached arena) is safe beside running calls:
    a call in flight keeps its own arena; calls after it allocate or cache a new one."""
    fn = aot.load(model, "deep")
    release = fn._lib.deep_release
    release.restype, release.argtypes = None, []
    inputs = [RNG.normal(size=(2, 3)).astype(np.float32) for _ in range(4)]
    expected = [fn(x) for x in inputs]
    release()
    release()  # twice: nothing cached the second time
    np.testing.assert_array_equal(fn(inputs[0]), expected[0])
    mismatches: list[int] = []

    def work(i: int) -> None:
        for _ in range(200):
            if not np.array_equal(fn(inputs[i]), expected[i]):
                mismatches.append(i)

    def releaser() -> None:
        for _ in range(400):
            release()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(inputs))]
    threads.append(threading.Thread(target=releaser))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not mismatches


def test_recompiled_library_is_reloaded(tmp_path):
    """dlopen caches by path: a second load after recompiling must run the new code."""
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [2], name="x")
        aot.compile(x * 2.0, [x], name="again", out_dir=tmp_path, shared=True)
        first = aot.load(tmp_path, "again")
        aot.compile(x * 3.0, [x], name="again", out_dir=tmp_path, shared=True)
        second = aot.load(tmp_path, "again")
    np.testing.assert_array_equal(first([1, 2]), [2, 4])
    np.testing.assert_array_equal(second([1, 2]), [3, 6])


def test_compile_in_memory_writes_what_load_reads(tmp_path):
    """`compile_in_memory` holds one compile as bytes; written anywhere, `load` runs it."""
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [None, 2], name="x")
        y = tf.nn.relu(x - 1.0)
    func = tf.aot.graph_function([y], [x], shapes={x: (3, 2)})
    assert [a.type.shape for a in func.args] == [(3, 2)]
    compiled = aot.compile_in_memory(func, name="mem")
    assert compiled.name == "mem" and compiled.object[:4] == b"\x7fELF"
    assert f'#define mem_HASH "{compiled.signature["hash"]}"' in compiled.header
    compiled.write(tmp_path)
    got = tf.aot.load(tmp_path, "mem")(np.arange(6, dtype=np.float32).reshape(3, 2))
    np.testing.assert_array_equal(got, [[0, 0], [1, 2], [3, 4]])
    with pytest.raises(ValueError, match=r"Cannot feed value of shape \(3, 5\) for Tensor 'x:0'"):
        tf.aot.graph_function([y], [x], shapes={x: (3, 5)})
