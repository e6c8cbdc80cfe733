"""`Operation.get_attr` gives TF1's attribute values (TF's names, `tf.DType`s, shape and
tensor protos, bytes); `ir_attr` gives lowerflow's own (IR types, numpy values)."""
import numpy as np
import pytest

import lowerflow as tf
from lowerflow.frontend.tf_values import array_of_tensor_proto
from lowerflow.ir.types import I32


def _build(module):
    """(op, attribute) pairs over a few op kinds, built with `module`'s graph API."""
    x = module.placeholder(module.float32, [None, 3], name="x")
    k = module.constant([[1, 2, 3]], name="k")
    c = module.cast(x, module.int32)
    s = module.reduce_sum(x, 1, keepdims=True)
    m = module.matmul(x, module.ones([3, 2]), transpose_b=False)
    parts = module.split(x, 3, axis=1)
    stacked = module.stack([k, k])
    printed = module.Print(x, [x], message="m", first_n=2)
    r = module.random_uniform([2], seed=3)
    return [(x.op, "dtype"), (x.op, "shape"), (k.op, "dtype"), (k.op, "value"), (c.op, "DstT"), (c.op, "SrcT"),
            (c.op, "Truncate"), (s.op, "keep_dims"), (s.op, "T"), (s.op, "Tidx"), (m.op, "transpose_a"),
            (m.op, "T"), (parts[0].op, "num_split"), (stacked.op, "N"), (stacked.op, "axis"),
            (printed.op, "message"), (printed.op, "first_n"), (r.op, "seed2"), (r.op, "dtype")]


def _plain(value, tensorflow):
    """A comparable form of a get_attr value: protos decoded, DTypes by name."""
    if isinstance(value, list):
        return [_plain(v, tensorflow) for v in value]
    kind = type(value).__name__
    if kind == "DType":
        return ("dtype", value.name)
    if kind == "TensorShapeProto":
        return ("shape", value.unknown_rank, [d.size for d in value.dim])
    if kind == "TensorProto":
        from tensorflow.core.framework import tensor_pb2

        array = tensorflow.make_ndarray(tensor_pb2.TensorProto.FromString(value.SerializeToString()))
        return ("tensor", str(array.dtype), array.tolist())
    return (kind, value)


def test_get_attr_as_tensorflow():
    tensorflow = pytest.importorskip("tensorflow")
    tf1 = tensorflow.compat.v1
    tf1.disable_eager_execution()
    with tf.Graph().as_default():
        ours = [(op.type, name, _plain(op.get_attr(name), tensorflow)) for op, name in _build(tf)]
    with tf1.Graph().as_default():
        theirs = [(op.type, name, _plain(op.get_attr(name), tensorflow)) for op, name in _build(tf1)]
    assert ours == theirs


def test_get_attr_types_are_tf_dtypes():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float16, [2])
        c = tf.cast(x, tf.int32)
        assert c.op.get_attr("DstT") is tf.int32 and c.op.get_attr("SrcT") == tf.float16
        assert isinstance(x.op.get_attr("dtype"), tf.DType)
        assert c.op.ir_attr("to") == I32  # the IR op's own attribute
        assert [d.size for d in x.op.get_attr("shape").dim] == [2] and x.op.ir_attr("shape") == (2,)


def test_get_attr_tensor_and_missing():
    with tf.Graph().as_default():
        k = tf.constant(np.arange(4, dtype=np.int64).reshape(2, 2))
        assert array_of_tensor_proto(k.op.get_attr("value")).tolist() == [[0, 1], [2, 3]]
        assert k.op.ir_attr("value").tolist() == [[0, 1], [2, 3]]
        with pytest.raises(ValueError, match="Operation 'Const' has no attr named 'nope'."):
            k.op.get_attr("nope")
        with pytest.raises(ValueError, match="has no attr named 'nope'"):
            k.op.ir_attr("nope")
