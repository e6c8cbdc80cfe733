"""Variables: TF1 op names, collections, initializers, state ops."""
import pytest

import lowerflow as tf


def test_variable_structure_and_names():
    with tf.Graph().as_default() as g:
        v = tf.Variable(42, name="foo")
        w = tf.Variable([1.0, 2.0], trainable=False)
    assert v.name == "foo:0" and v.op.name == "foo" and v.op.type == "VariableV2"
    assert v.initializer.name == "foo/Assign"
    assert v.value().op.name == "foo/read"
    assert v.initial_value.op.name == "foo/initial_value"
    assert v.dtype == tf.int32 and v.shape.as_list() == []
    assert w.op.name == "Variable" and w.shape.as_list() == [2]
    with g.as_default():
        assert tf.global_variables() == [v, w]
        assert tf.trainable_variables() == [v]


def test_variable_is_usable_as_tensor():
    with tf.Graph().as_default():
        v = tf.Variable(1.0)
        y = v * 2.0 + tf.exp(v)
        assert y.dtype == tf.float32
        a = v.assign(3.0)
        assert a.op.type == "Assign" and a.op.inputs[0] is v._as_graph_element()
        assert tf.assign_add(v, 1.0).op.type == "AssignAdd"
        assert v.assign_sub(1.0, read_value=False).type == "AssignSub"


def test_initializer_groups():
    with tf.Graph().as_default():
        a = tf.Variable(1)
        b = tf.Variable(2)
        init = tf.global_variables_initializer()
        assert set(init.control_inputs) == {a.initializer, b.initializer}
        assert tf.variables_initializer([]).type == "NoOp"


def test_variable_requires_initial_value_and_compatible_assign():
    with tf.Graph().as_default():
        with pytest.raises(ValueError):
            tf.Variable()
        v = tf.Variable([1.0, 2.0])
        with pytest.raises(ValueError):
            v.assign([1.0, 2.0, 3.0])
