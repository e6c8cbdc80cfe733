"""Graph building: names, scopes, control dependencies, lookup, finalize, defaults."""
import threading

import pytest

import lowerflow as tf


@pytest.fixture
def g():
    return tf.Graph()


def test_unique_names_and_scopes(g):
    with g.as_default():
        a = tf.constant(1.0, name="foo")
        b = tf.constant(2.0, name="foo")
        c = tf.constant(3.0, name="foo")
        with tf.name_scope("s"):
            d = tf.add(a, b)
            with tf.name_scope("inner"):
                e = tf.multiply(d, c, name="m")
        with tf.name_scope("s"):
            f = tf.add(a, b)
        with tf.name_scope("s/"):
            h = tf.identity(a, name="again")
    assert [a.op.name, b.op.name, c.op.name] == ["foo", "foo_1", "foo_2"]
    assert a.name == "foo:0"
    assert d.op.name == "s/Add" and e.op.name == "s/inner/m"
    assert f.op.name == "s_1/Add" and h.op.name == "s/again"


def test_lookup_by_name(g):
    with g.as_default():
        x = tf.placeholder(tf.float32, [2], name="x")
        y = tf.exp(x, name="y")
    assert g.get_tensor_by_name("y:0") is y
    assert g.get_operation_by_name("x") is x.op
    assert y.op.inputs == (x,)
    assert y.op.type == "Exp"
    with pytest.raises(KeyError, match="does not exist"):
        g.get_tensor_by_name("nope:0")
    with pytest.raises(KeyError):
        g.get_tensor_by_name("y:1")
    with pytest.raises(ValueError):
        g.get_operation_by_name("y:0")


def test_control_dependencies(g):
    with g.as_default():
        a = tf.constant(1)
        b = tf.constant(2)
        with tf.control_dependencies([a, b.op]):
            c = tf.identity(a)
            with tf.control_dependencies(None):
                d = tf.identity(a)
        e = tf.identity(a)
    assert c.op.control_inputs == [a.op, b.op]
    assert d.op.control_inputs == [] and e.op.control_inputs == []


def test_finalize(g):
    with g.as_default():
        tf.constant(1)
    g.finalize()
    with pytest.raises(RuntimeError, match="finalized"):
        with g.as_default():
            tf.constant(2)


def test_default_graph_stack_is_thread_local():
    g1 = tf.Graph()
    seen = []
    with g1.as_default():
        assert tf.get_default_graph() is g1
        t = threading.Thread(target=lambda: seen.append(tf.get_default_graph()))
        t.start()
        t.join()
    assert seen[0] is not g1


def test_reset_default_graph():
    before = tf.get_default_graph()
    tf.reset_default_graph()
    assert tf.get_default_graph() is not before


def test_tensor_from_other_graph_rejected(g):
    with g.as_default():
        a = tf.constant(1.0)
    with tf.Graph().as_default():
        with pytest.raises(ValueError):
            tf.add(a, tf.constant(1.0))


def test_tensor_is_not_bool_or_iterable(g):
    with g.as_default():
        a = tf.constant([1, 2])
    with pytest.raises(TypeError):
        bool(a)
    with pytest.raises(TypeError):
        iter(a)
