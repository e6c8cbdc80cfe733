"""Static shape and dtype inference, build-time errors, TensorShape and DType."""
import numpy as np
import pytest

import lowerflow as tf


def test_broadcast_shape_inference():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 3])
        y = tf.placeholder(tf.float32, [4, 1])
        z = x + y
        assert z.shape.as_list() == [4, 3]
        w = x * 2.0
        assert w.shape.as_list() == [None, 3] and w.dtype == tf.float32
        u = tf.placeholder(tf.float32)
        assert (u + x).shape.ndims is None
        assert (x < y).dtype == tf.bool


def test_incompatible_shapes_raise_value_error_at_build_time():
    with tf.Graph().as_default():
        a = tf.constant([1.0, 2.0])
        b = tf.constant([1.0, 2.0, 3.0])
        with pytest.raises(ValueError, match="Dimensions must be equal, but are 2 and 3"):
            tf.add(a, b)


def test_mixed_dtypes_raise_type_error():
    with tf.Graph().as_default():
        a = tf.constant([1.0, 2.0])
        b = tf.constant([1, 2])
        with pytest.raises(TypeError):
            tf.add(a, b)
        with pytest.raises(TypeError):
            tf.constant([1, 2]) + 0.5


def test_constant_dtypes():
    with tf.Graph().as_default():
        assert tf.constant(1).dtype == tf.int32
        assert tf.constant(1.5).dtype == tf.float32
        assert tf.constant(True).dtype == tf.bool
        assert tf.constant(np.array([1.0])).dtype == tf.float64
        assert tf.constant(2 ** 40).dtype == tf.int64
        assert tf.constant(3, dtype=tf.float64).dtype == tf.float64
        assert tf.constant(0.0, shape=[2, 3]).shape.as_list() == [2, 3]
        with pytest.raises(TypeError):
            tf.constant(1.5, dtype=tf.int32)


def test_python_scalars_take_tensor_dtype():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float64, [2])
        assert (1 + x).dtype == tf.float64
        assert (x ** 2).dtype == tf.float64
        i = tf.placeholder(tf.int32, [2])
        assert (i / 2).dtype == tf.float64  # TF1 truediv casts int32 to float64
        assert (i // 2).dtype == tf.int32


def test_tensor_shape_api():
    s = tf.TensorShape([None, 3])
    assert s.ndims == 2 and not s.is_fully_defined()
    assert s.is_compatible_with([5, 3]) and not s.is_compatible_with([5, 4])
    assert s.merge_with([2, None]).as_list() == [2, 3]
    assert tf.TensorShape(None).ndims is None
    assert str(tf.TensorShape([2])) == "(2,)"
    assert tf.TensorShape([1, 2]) == tf.TensorShape([1, 2])


def test_dtype_api():
    assert tf.as_dtype("float32") is tf.float32
    assert tf.as_dtype(np.int64) is tf.int64
    assert tf.float32.as_numpy_dtype is np.float32
    assert tf.float32.is_floating and tf.int32.is_integer
    with pytest.raises(TypeError):
        tf.as_dtype("complex999")


def test_nested_lists_of_tensors_and_empty_constants():
    with tf.Graph().as_default():
        t = tf.constant(3.0)
        packed = tf.convert_to_tensor([[t, 1.0], [2.0, t]])
        assert packed.shape.as_list() == [2, 2] and packed.dtype == tf.float32
        empty = tf.constant([], tf.int32)
        assert empty.dtype == tf.int32 and empty.shape.as_list() == [0]
        with tf.Session() as sess:
            np.testing.assert_array_equal(sess.run(packed), [[3, 1], [2, 3]])
