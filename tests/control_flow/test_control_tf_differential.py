"""tf.cond, tf.case and tf.while_loop against TensorFlow itself (tf.compat.v1, graph mode):
the same programs give the same values, dtypes, structures and output names, and bad
input raises the same error classes (with TF's wording where it has one). All value cases
share one graph per framework, so lowerflow compiles it once per feed signature."""
from __future__ import annotations

import collections

import numpy as np
import pytest

import lowerflow as lf

real_tf = pytest.importorskip("tensorflow")
tf1 = real_tf.compat.v1
if hasattr(tf1, "disable_eager_execution"):
    tf1.disable_eager_execution()

Pair = collections.namedtuple("Pair", "first second")
X = np.float32([0.5, -1.5, 2.0])


def _counter_body(i, total):
    return i + 1, total + i * i


def _cases(m, x, p, n):
    """Name -> fetch structure, built the same way with either module."""
    v = m.Variable(2.0, name="v")
    return {
        "cond": m.cond(p, lambda: x * 2.0, lambda: x - 1.0),
        "cond_dict": m.cond(p, lambda: {"a": x + 1.0, "b": (x, m.constant(3))},
                            lambda: {"a": x - 1.0, "b": (x * x, m.constant(4))}),
        "cond_namedtuple": m.cond(p, lambda: Pair(x, m.constant(1)), lambda: Pair(-x, m.constant(2))),
        "cond_singleton": m.cond(p, lambda: [x], lambda: [x + 1.0]),
        "cond_strict": m.cond(p, lambda: [x], lambda: [x + 1.0], strict=True),
        "cond_captures_outer": m.cond(p, lambda: m.reduce_sum(x) * m.cast(n, m.float32), lambda: m.reduce_max(x)),
        "cond_nested": m.cond(p, lambda: m.cond(n > 2, lambda: x, lambda: -x), lambda: x * 0.0),
        "cond_variable": m.cond(p, lambda: v * 3.0, lambda: v.read_value() - 1.0),
        "case": m.case([(n > 5, lambda: m.constant(1)), (n > 2, lambda: m.constant(2))],
                       default=lambda: m.constant(3)),
        "case_dict_exclusive": m.case({n > 100: lambda: x}, default=lambda: x * 10.0, exclusive=True),
        "while": m.while_loop(lambda i: i < n, lambda i: i + 1, [m.constant(0)]),
        "while_same_structure": m.while_loop(lambda i: i < n, lambda i: i + 2, [m.constant(0)],
                                             return_same_structure=True),
        "while_two_vars": m.while_loop(lambda i, t: i < n, _counter_body, [m.constant(0), m.constant(0)]),
        "while_nested_vars": m.while_loop(
            lambda i, s: i < 3, lambda i, s: (i + 1, {"sum": s["sum"] + x, "prod": s["prod"] * 2.0}),
            (m.constant(0), {"sum": m.zeros([3]), "prod": m.constant(1.0)})),
        "while_max_iterations": m.while_loop(lambda i: i < 100, lambda i: i + 1, [m.constant(0)],
                                             maximum_iterations=n),
        "while_int64_and_bool": m.while_loop(lambda i, b: i < m.cast(n, m.int64),
                                             lambda i, b: (i + 1, m.logical_not(b)),
                                             [m.constant(0, m.int64), m.constant(True)]),
        "while_cond_inside": m.while_loop(
            lambda i, a: i < 5,
            lambda i, a: (i + 1, m.cond(m.equal(i % 2, 0), lambda: a + 1.0, lambda: a * 2.0)), [0, 0.0]),
        "while_inside_cond": m.cond(p, lambda: m.while_loop(lambda k: k < 10, lambda k: k + 3, [m.constant(0)]),
                                    lambda: m.constant(-1)),
        "while_rotation": m.while_loop(lambda i, a, b, c: i < n, lambda i, a, b, c: (i + 1, b, c, a + b),
                                       [0, x, x * 2.0, x * 3.0]),
    }, v


def _run(module, feeds: dict):
    with module.Graph().as_default():
        x = module.placeholder(module.float32, [3], name="x")
        p = module.placeholder(module.bool, [], name="p")
        n = module.placeholder(module.int32, [], name="n")
        cases, v = _cases(module, x, p, n)
        names = {k: [t.name for t in _leaves(c)] for k, c in cases.items()}
        with module.Session() as sess:
            sess.run(v.initializer)
            results = [sess.run(cases, {x: X, p: fp, n: fn}) for fp, fn in feeds]
    return results, names


def _leaves(structure):
    if isinstance(structure, dict):
        return [leaf for k in sorted(structure) for leaf in _leaves(structure[k])]
    if isinstance(structure, (list, tuple)):
        return [leaf for item in structure for leaf in _leaves(item)]
    return [structure]


FEEDS = [(True, 4), (False, 0), (True, 1)]


@pytest.fixture(scope="module")
def both():
    return _run(tf1, FEEDS), _run(lf, FEEDS)


CASE_NAMES = [
    "cond", "cond_dict", "cond_namedtuple", "cond_singleton", "cond_strict",
    "cond_captures_outer", "cond_nested", "cond_variable", "case", "case_dict_exclusive", "while",
    "while_same_structure", "while_two_vars", "while_nested_vars", "while_max_iterations",
    "while_int64_and_bool", "while_cond_inside", "while_inside_cond", "while_rotation"]


@pytest.mark.parametrize("name", CASE_NAMES)
def test_values_dtypes_and_structure_match_tensorflow(both, name):
    (want_runs, _), (got_runs, _) = both
    for want, got in zip(want_runs, got_runs):
        assert type(got[name]) is type(want[name])
        for w, g in zip(_leaves(want[name]), _leaves(got[name])):
            assert np.asarray(g).dtype == np.asarray(w).dtype, name
            np.testing.assert_allclose(g, w, rtol=1e-6)


def test_output_names_match_tensorflow(both):
    (_, want), (_, got) = both
    assert sorted(got) == sorted(want) == sorted(CASE_NAMES)
    assert got == want


def _error(module, build):
    with module.Graph().as_default():
        try:
            build(module)
        except Exception as e:  # noqa: BLE001 (the class is what is compared)
            return type(e).__name__, str(e)
    return None, ""


ERRORS = {
    "python_bool_pred": (lambda m: m.cond(True, lambda: 1.0, lambda: 2.0), "pred must not be a Python bool"),
    "true_fn_not_callable": (lambda m: m.cond(m.constant(True), 1.0, lambda: 2.0), "'true_fn' must be callable"),
    "branch_dtypes": (lambda m: m.cond(m.constant(True), lambda: 1.0, lambda: 2),
                      "must have the same number, type, and overall structure"),
    "branch_sequence_types": (lambda m: m.cond(m.constant(True), lambda: (1.0, 2.0), lambda: [2.0, 1.0]),
                              "must have the same number, type, and overall structure"),
    "branch_none": (lambda m: m.cond(m.constant(True), lambda: 1.0, lambda: None),
                    "Lengths of branch outputs of cond must match"),
    "branch_dict_keys": (lambda m: m.cond(m.constant(True), lambda: {"a": 1.0}, lambda: {"b": 1.0}),
                         "don't have the same set of keys"),
    "shape_change": (lambda m: m.while_loop(lambda i: m.size(i) < 10, lambda i: m.concat([i, i], 0),
                                            [m.constant([0])]),
                     "enters the loop with shape (1,), but has shape (2,) after one iteration"),
    "dtype_change": (lambda m: m.while_loop(lambda i: i < 10, lambda i: 1.0 + m.cast(i, m.float32),
                                            [m.constant(0)]), "type should remain constant"),
    "body_structure": (lambda m: m.while_loop(lambda i: i < 10, lambda i: (i + 1, i), [m.constant(0)]),
                       "don't have the same nested structure"),
    "cond_not_callable": (lambda m: m.while_loop(1, lambda i: i + 1, [m.constant(0)]), "'cond' must be callable"),
    "body_not_callable": (lambda m: m.while_loop(lambda i: i < 3, 1, [m.constant(0)]), "'body' must be callable"),
    "tensor_loop_vars": (lambda m: m.while_loop(lambda i: i < 3, lambda i: i + 1, m.constant(0)),
                         "len is not well defined"),
    "case_python_pred": (lambda m: m.case([(True, lambda: 1.0)], default=lambda: 2.0), "pred must be a Tensor"),
    "case_fn_not_callable": (lambda m: m.case([(m.constant(True), 1.0)], default=lambda: 2.0),
                             "must be callable"),
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_errors_match_tensorflow(name):
    build, fragment = ERRORS[name]
    want, got = _error(tf1, build), _error(lf, build)
    assert got[0] == want[0], (got, want)
    assert fragment in want[1] and fragment in got[1], (got, want)


def test_a_numeric_predicate_fails_at_run_time_as_in_tensorflow():
    outcomes = []
    for m in (tf1, lf):
        with m.Graph().as_default():
            out = m.cond(m.constant(1.0), lambda: 1.0, lambda: 2.0)
            with m.Session() as sess:
                with pytest.raises(m.errors.InvalidArgumentError, match="expected bool") as e:
                    sess.run(out)
                outcomes.append(type(e.value).__name__)
    assert outcomes == ["InvalidArgumentError"] * 2


def test_shape_invariants_allow_a_growing_loop_variable():
    """With an invariant that leaves the dim unknown both accept the loop and give it that
    static shape (lowerflow then refuses to run it natively: one static shape per value)."""
    shapes = []
    for m in (tf1, lf):
        with m.Graph().as_default():
            out = m.while_loop(lambda i: m.size(i) < 10, lambda i: m.concat([i, i], 0), [m.constant([0])],
                               shape_invariants=[m.TensorShape([None])])
            shapes.append(out.shape.as_list())
    assert shapes[0] == shapes[1] == [None]


E1 = np.arange(1, 6, dtype=np.float32)
E2 = np.arange(12, dtype=np.float32).reshape(4, 3)


def _functional(m, e, rows, dyn):
    return {
        "foldl": m.foldl(lambda a, x: a * 2 + x, e),
        "foldl_initializer": m.foldl(lambda a, x: a - x, e, initializer=100.0),
        "foldl_tuple": m.foldl(lambda a, x: (a[0] + x, a[1] * x), e, initializer=(m.constant(0.0), m.constant(1.0))),
        "foldl_dynamic_length": m.foldl(lambda a, x: a + x, dyn),
        "foldr": m.foldr(lambda a, x: a * 2 + x, e),
        "foldr_dynamic_length": m.foldr(lambda a, x: a * 2 + x, dyn),
        "scan": m.scan(lambda a, x: a + x, e),
        "scan_initializer": m.scan(lambda a, x: a * x, e, initializer=1.0),
        "scan_reverse": m.scan(lambda a, x: a + x, e, reverse=True),
        "scan_rows": m.scan(lambda a, x: a + x, rows),
        "map_fn": m.map_fn(lambda x: x * x, e),
        "map_fn_rows": m.map_fn(lambda r: m.reduce_sum(r), rows),
        "map_fn_tuple": m.map_fn(lambda t: (t[0] + t[1], t[0] * 2), (e, e * 10), dtype=(m.float32, m.float32)),
    }


@pytest.fixture(scope="module")
def functional():
    results = []
    for m in (tf1, lf):
        with m.Graph().as_default():
            e, rows = m.placeholder(m.float32, [5]), m.placeholder(m.float32, [4, 3])
            dyn = m.placeholder(m.float32, [None])
            with m.Session() as sess:
                results.append(sess.run(_functional(m, e, rows, dyn), {e: E1, rows: E2, dyn: E1[:3]}))
    return results


@pytest.mark.parametrize("name", ["foldl", "foldl_initializer", "foldl_tuple", "foldl_dynamic_length", "foldr",
                                  "foldr_dynamic_length", "scan", "scan_initializer", "scan_reverse", "scan_rows",
                                  "map_fn", "map_fn_rows", "map_fn_tuple"])
def test_functional_ops_match_tensorflow(functional, name):
    want, got = (r[name] for r in functional)
    assert type(got) is type(want)
    for w, g in zip(_leaves(want), _leaves(got)):
        assert np.asarray(g).dtype == np.asarray(w).dtype
        np.testing.assert_allclose(g, w, rtol=1e-6)


def _tf_graph_def_with_control_flow():
    """A GraphDef TensorFlow made (control flow v2: StatelessIf/StatelessWhile with branch
    FunctionDefs), and TF's values and gradients of it for both predicates."""
    real_tf = pytest.importorskip("tensorflow")
    tf1 = real_tf.compat.v1
    tf1.disable_eager_execution()
    g = tf1.Graph()
    with g.as_default():
        x, p = tf1.placeholder(tf1.float32, [3], name="x"), tf1.placeholder(tf1.bool, [], name="p")
        y = tf1.identity(tf1.cond(p, lambda: tf1.tanh(x) * 2.0, lambda: x - 1.0), name="y")
        w = tf1.identity(tf1.while_loop(lambda i, s: i < 3, lambda i, s: (i + 1, tf1.sin(s) * 1.5), [0, x])[1],
                         name="w")
        graph_def = g.as_graph_def()  # before TF's gradient ops (optionals, accumulators) join it
        gx = tf1.gradients(tf1.reduce_sum(y * w), x)[0]
        with tf1.Session() as sess:
            want = {pv: sess.run([y, w, gx], {x: XV, p: pv}) for pv in (True, False)}
    return graph_def, want


XV = np.float32([0.3, -1.2, 0.8])


def test_a_graph_def_tensorflow_made_with_cond_and_while_loop_imports():
    graph_def, want = _tf_graph_def_with_control_flow()
    assert {"StatelessIf", "StatelessWhile"} <= {n.op for n in graph_def.node}
    with lf.Graph().as_default() as g:
        y, w = lf.import_graph_def(graph_def, return_elements=["y:0", "w:0"], name="imported")
        x, p = g.get_tensor_by_name("imported/x:0"), g.get_tensor_by_name("imported/p:0")
        gx = lf.gradients(lf.reduce_sum(y * w), x)[0]
        with lf.Session() as sess:
            for pv in (True, False):
                for got, expected in zip(sess.run([y, w, gx], {x: XV, p: pv}), want[pv]):
                    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
