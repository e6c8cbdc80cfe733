"""tf.cond / tf.case / tf.while_loop through Session.run: what only lowerflow can show (the
IR they become, where branch ops live, state inside branches and loops, the speed of a
native loop) and the limits it states. One graph and one session serve most tests."""
from __future__ import annotations

import time

import numpy as np
import pytest

import lowerflow as tf


@pytest.fixture(scope="module")
def g():
    graph = tf.Graph()
    with graph.as_default():
        p = tf.placeholder(tf.bool, [], name="p")
        n = tf.placeholder(tf.int32, [], name="n")
        x = tf.placeholder(tf.float32, [4], name="x")
        v = tf.Variable(1.0, name="v")
        w = tf.Variable(0.0, name="w")
        ops = {
            "assign": tf.cond(p, lambda: tf.assign(v, 5.0), lambda: tf.assign_add(v, 1.0)),
            "count": tf.while_loop(lambda i: i < n, lambda i: i + 1, [tf.constant(0)]),
            "vector": tf.while_loop(lambda i, a: i < n, lambda i, a: (i + 1, a * 0.5 + x), [0, x])[1],
            "random": tf.while_loop(lambda i, s: i < 4, lambda i, s: (i + 1, tf.concat([s[1:], tf.random_uniform([1])], 0)),
                                    [0, tf.zeros([4])])[1],
        }

        def accumulate(i):
            with tf.control_dependencies([tf.assign_add(w, 1.5)]):
                return i + 1
        ops["accumulate"] = tf.while_loop(lambda i: i < n, accumulate, [0])
        sess = tf.Session(graph=graph)
        sess.run(tf.global_variables_initializer())
        yield dict(graph=graph, sess=sess, p=p, n=n, x=x, v=v, w=w, **ops)
        sess.close()


def test_ops_made_in_a_branch_are_named_under_its_scope(g):
    names = [op.name for op in g["graph"].get_operations()]
    assert "cond" in names and "cond/Assign" in names and "cond/AssignAdd" in names
    types = {op.name: op.type for op in g["graph"].get_operations()}
    assert types["cond"] == "If" and types["while"] == "StatelessWhile" and types["while_3"] == "While"


def test_an_assign_in_the_branch_not_taken_does_not_run(g):
    sess, p, v = g["sess"], g["p"], g["v"]
    sess.run(v.initializer)
    assert sess.run(g["assign"], {p: False}) == 2.0 and sess.run(v) == 2.0
    assert sess.run(g["assign"], {p: True}) == 5.0 and sess.run(v) == 5.0
    assert sess.run(g["assign"], {p: False}) == 6.0


def test_a_loop_that_assigns_carries_the_variable(g):
    sess, w = g["sess"], g["w"]
    sess.run(w.initializer)
    assert sess.run(g["accumulate"], {g["n"]: 4}) == 4
    assert sess.run(w) == 6.0
    assert sess.run(g["accumulate"], {g["n"]: 0}) == 0 and sess.run(w) == 6.0


def test_a_random_op_in_a_loop_draws_anew_each_iteration(g):
    values = g["sess"].run(g["random"])
    assert len(set(values.tolist())) == 4 and np.all((values >= 0) & (values < 1))


def test_vector_loop_values(g):
    x = np.float32([1, 2, 3, 4])
    want = x.copy()
    for _ in range(6):
        want = want * 0.5 + x
    np.testing.assert_allclose(g["sess"].run(g["vector"], {g["x"]: x, g["n"]: 6}), want, rtol=1e-6)


def test_a_million_iterations_take_well_under_a_tenth_of_a_second(g):
    sess, count, n = g["sess"], g["count"], g["n"]
    assert sess.run(count, {n: 10}) == 10
    start = time.perf_counter()
    assert sess.run(count, {n: 10**6}) == 10**6
    assert time.perf_counter() - start < 0.1


def test_the_step_holds_region_ops():
    with tf.Graph().as_default():
        p = tf.placeholder(tf.bool, [])
        x = tf.placeholder(tf.float32, [3])
        y = tf.cond(p, lambda: tf.exp(x), lambda: x)
        z = tf.while_loop(lambda i, a: i < 3, lambda i, a: (i + 1, a + y), [0, y])[1]
        text = str(tf.to_ir([z], [p, x]))
    assert '"lf.if"(' in text and '"lf.while"(' in text and "lf.exp" in text


def test_a_branch_tensor_cannot_be_fetched_alone():
    with tf.Graph().as_default():
        p = tf.placeholder(tf.bool, [])
        inner = []
        tf.cond(p, lambda: inner.append(tf.constant(1.0) * 2.0) or inner[0], lambda: tf.constant(0.0))
        with tf.Session() as sess, pytest.raises(ValueError, match="inside a tf.cond branch"):
            sess.run(inner[0], {p: True})


def test_a_loop_variable_whose_shape_changes_is_refused_natively():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None])
        grow = tf.while_loop(lambda i: tf.size(i) < 8, lambda i: tf.concat([i, i], 0), [x],
                             shape_invariants=[tf.TensorShape([None])])
        with tf.Session() as sess, pytest.raises(tf.errors.UnimplementedError, match="one static shape"):
            sess.run(grow, {x: np.ones(2, np.float32)})


def test_maximum_iterations_as_a_tensor_and_case_order():
    with tf.Graph().as_default():
        n = tf.placeholder(tf.int32, [])
        capped = tf.while_loop(lambda i: i < 100, lambda i: i + 1, [0], maximum_iterations=n)
        first = tf.case([(n > 1, lambda: tf.constant(1)), (n > 0, lambda: tf.constant(2))],
                        default=lambda: tf.constant(3))
        with tf.Session() as sess:
            assert sess.run([capped, first], {n: 5}) == [5, 1]
            assert sess.run([capped, first], {n: 1}) == [1, 2]
            assert sess.run([capped, first], {n: 0}) == [0, 3]


def test_scan_and_map_fn_need_a_static_length():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None])
        with pytest.raises(NotImplementedError, match="length of elems"):
            tf.scan(lambda a, v: a + v, x)
        with pytest.raises(NotImplementedError, match="length of elems"):
            tf.map_fn(lambda v: v * 2.0, x)


def test_graphs_with_control_flow_save_and_export(tmp_path):
    """Checkpoints and graph exports work; control flow exports as TF's v1 and imports back."""
    with tf.Graph().as_default() as graph:
        w = tf.Variable(3.0, name="w")
        p = tf.placeholder(tf.bool, [], name="p")
        tf.cond(p, lambda: w * 2.0, lambda: w, name="c")
        tf.while_loop(lambda i: i < 3, lambda i: i + 1, [0], name="loop")
        with tf.Session() as sess:
            sess.run(w.initializer)
            tf.train.Saver().save(sess, str(tmp_path / "model"))
        graph_def = graph.as_graph_def()
    assert {"Switch", "Merge", "Enter", "Exit", "NextIteration", "LoopCond"} <= {node.op for node in graph_def.node}
    with tf.Graph().as_default():
        tf.import_graph_def(graph_def, name="")
        with tf.Session() as sess:
            sess.run("w/Assign")
            assert sess.run(["c/Identity:0", "loop/Identity_2:0"], {"p:0": True}) == [6.0, 3]


def test_a_graph_with_a_loops_gradient_exports_its_ops_by_name():
    """A gradient branch reads its forward branch in place, which no v1 dataflow says: such a
    graph keeps its If/While ops (branches as their ops' names), and importing it is refused."""
    with tf.Graph().as_default() as graph:
        x = tf.placeholder(tf.float32, [])
        y = tf.while_loop(lambda i, s: i < 3, lambda i, s: (i + 1, s * x), [0, 1.0])[1]
        tf.gradients(y, x)
        graph_def = graph.as_graph_def()
    assert "StatelessWhile" in {node.op for node in graph_def.node}
    with tf.Graph().as_default(), pytest.raises(NotImplementedError, match="control flow"):
        tf.import_graph_def(graph_def)


