"""Shape and array ops at build time: TF1 signatures, op types and names, static shapes
(also with unknown dims and unknown rank), build-time values of shape-like arguments,
and TF1's build-time errors."""
from __future__ import annotations

import numpy as np
import pytest

import lowerflow as tf


@pytest.fixture(autouse=True)
def graph():
    with tf.Graph().as_default() as g:
        yield g


def test_op_types_and_default_names():
    x = tf.placeholder(tf.float32, [2, 3])
    made = [tf.reshape(x, [-1]), tf.transpose(x), tf.expand_dims(x, 0), tf.squeeze(x), tf.concat([x, x], 0),
            tf.stack([x, x]), tf.unstack(x)[0], tf.split(x, 3, 1)[0], tf.split(x, [1, 2], 1)[0], tf.tile(x, [1, 2]),
            tf.pad(x, [[1, 1], [0, 0]]), tf.pad(x, [[1, 1], [0, 0]], constant_values=2.0),
            tf.pad(x, [[1, 1], [0, 0]], "reflect"), tf.slice(x, [0, 0], [1, 1]), x[0], tf.gather(x, [0]),
            tf.one_hot([1], 2), tf.fill([2], 1.0), tf.range(3), tf.linspace(0.0, 1.0, 3), tf.broadcast_to(x, [2, 2, 3]),
            tf.strided_slice(x, [0], [1])]
    types = ["Reshape", "Transpose", "ExpandDims", "Squeeze", "ConcatV2", "Pack", "Unpack", "Split", "SplitV", "Tile",
             "Pad", "PadV2", "MirrorPad", "Slice", "StridedSlice", "GatherV2", "OneHot", "Fill", "Range", "LinSpace",
             "BroadcastTo", "StridedSlice"]
    names = ["Reshape", "transpose", "ExpandDims", "Squeeze", "concat", "stack", "unstack", "split", "split_1", "Tile",
             "Pad", "PadV2", "MirrorPad", "Slice", "strided_slice", "GatherV2", "one_hot", "Fill", "range", "LinSpace",
             "BroadcastTo", "StridedSlice"]
    assert [t.op.type for t in made] == types
    assert [t.op.name for t in made] == names
    assert tf.reshape(x, [6], name="flat").name == "flat:0"
    assert tf.concat([x], 0).op.type == "Identity"  # TF1: one value is returned as identity


def test_static_shapes():
    x = tf.placeholder(tf.float32, [None, 3, 4])
    cases = {
        tf.reshape(x, [-1, 6]): [None, 6], tf.reshape(x, [3, -1]): [3, None], tf.transpose(x): [4, 3, None],
        tf.transpose(x, [1, 0, 2]): [3, None, 4], tf.expand_dims(x, -1): [None, 3, 4, 1],
        tf.expand_dims(x, 1): [None, 1, 3, 4], tf.squeeze(x[:, :1], [1]): [None, 4], tf.concat([x, x], 1): [None, 6, 4],
        tf.concat([x, x], 0): [None, 3, 4], tf.stack([x, x], 1): [None, 2, 3, 4], tf.stack([x, x], -1): [None, 3, 4, 2],
        tf.unstack(x, axis=1)[0]: [None, 4], tf.split(x, 2, -1)[1]: [None, 3, 2], tf.split(x, [1, -1], 1)[1]: [None, 2, 4],
        tf.tile(x, [2, 0, 3]): [None, 0, 12], tf.pad(x, [[1, 2], [0, 1], [3, 3]]): [None, 4, 10],
        tf.slice(x, [0, 1, 0], [-1, -1, 2]): [None, 2, 2], tf.slice(x, [1, 0, 0], [2, 1, 1]): [2, 1, 1],
        tf.gather(x, [[0, 1]]): [1, 2, 3, 4], tf.gather(x, [2, 0], axis=-1): [None, 3, 2],
        tf.one_hot(tf.placeholder(tf.int32, [None, 5]), 7, axis=1): [None, 7, 5], tf.shape(x): [3],
        tf.size(x): [], tf.rank(x): [], tf.broadcast_to(tf.placeholder(tf.float32, [None, 1]), [5, 2, 3]): [5, 2, 3],
        tf.zeros_like(x): [None, 3, 4], tf.ones([2, 3], tf.int64): [2, 3], tf.range(1, 10, 4): [3],
        tf.range(5.0, 0.0, -1.5): [4], tf.linspace(1.0, 2.0, 6): [6], tf.fill([4, 1], 2): [4, 1],
    }
    for t, want in cases.items():
        assert t.shape.as_list() == want, t.name


def test_dtypes():
    x = tf.placeholder(tf.int64, [2])
    assert tf.one_hot(x, 3).dtype == tf.float32 and tf.one_hot(x, 3, on_value=1, off_value=0).dtype == tf.int32
    assert tf.one_hot(x, 3, dtype=tf.float64).dtype == tf.float64
    assert tf.range(3).dtype == tf.int32 and tf.range(3.0).dtype == tf.float32 and tf.range(1, 2.5).dtype == tf.float32
    assert tf.range(np.int64(3)).dtype == tf.int64 and tf.range(3, dtype=tf.float64).dtype == tf.float64
    assert tf.shape(x, out_type=tf.int64).dtype == tf.int64 and tf.size(x).dtype == tf.int32
    assert tf.zeros([2], tf.bool).dtype == tf.bool and tf.ones_like(x, dtype=tf.float32).dtype == tf.float32
    assert tf.pad(tf.placeholder(tf.bool, [2]), [[1, 1]]).dtype == tf.bool
    assert tf.linspace(np.float64(0), 1.0, 3).dtype == tf.float64
    assert tf.convert_to_tensor([x[0], 7]).dtype == tf.int64


def test_unknown_rank_inputs():
    x = tf.placeholder(tf.float32)
    assert tf.reshape(x, [2, -1]).shape.as_list() == [2, None]
    assert tf.transpose(x, [1, 0]).shape.as_list() == [None, None]
    assert tf.transpose(x).shape.ndims is None and tf.expand_dims(x, 2).shape.ndims is None
    assert tf.tile(x, [1, 0]).shape.as_list() == [None, 0] and tf.pad(x, [[1, 1]]).shape.as_list() == [None]
    assert tf.slice(x, [0, 0], [1, -1]).shape.as_list() == [1, None]
    assert tf.concat([x, tf.placeholder(tf.float32, [2, 3])], 0).shape.as_list() == [None, 3]
    assert tf.shape(x).shape.as_list() == [None] and tf.size(x).shape.as_list() == []
    assert x[0].shape.ndims is None and tf.squeeze(x).shape.ndims is None
    assert tf.squeeze(tf.placeholder(tf.float32, [None, 1])).shape.ndims is None  # the None may be 1


def test_shape_like_arguments_known_at_build_time():
    x = tf.placeholder(tf.float32, [2, 3])
    y = tf.placeholder(tf.float32, [None, 3])
    shape = tf.shape(x)
    assert shape.op.type == "Const" and tf.size(x).op.type == "Const" and tf.rank(y).op.type == "Const"
    assert tf.reshape(y, shape).shape.as_list() == [2, 3]
    assert tf.reshape(y, tf.shape(x)[::-1]).shape.as_list() == [3, 2]  # computed from constants
    assert tf.reshape(y, [tf.size(x), tf.constant(1)]).shape.as_list() == [6, 1]
    assert tf.reshape(y, tf.TensorShape([3, 2])).shape.as_list() == [3, 2]
    assert tf.reshape(y, [x.shape[1], -1]).shape.as_list() == [3, None]
    assert tf.transpose(x, tf.range(1, -1, -1)).shape.as_list() == [3, 2]
    assert tf.tile(x, tf.constant([2, 1]) * 2).shape.as_list() == [8, 6]
    assert y[tf.constant(1)].shape.as_list() == [3]
    # known per run signature (tests/models/test_shape_values.py): the best static shape now
    assert tf.reshape(x, tf.shape(y)).shape.as_list() == [None, 3]
    assert tf.tile(x, tf.placeholder(tf.int32, [2])).shape.as_list() == [None, None]


TF1_ERRORS = {
    "reshape": (lambda x: tf.reshape(x, [4]), ValueError,
                ("Cannot reshape a tensor with 6 elements to shape [4] (4 elements) for 'Reshape' (op: 'Reshape') "
                "with input shapes: [2,3], [1].")),
    "reshape_divisible": (lambda x: tf.reshape(x, [-1, 4]), ValueError,
                          ("Dimension size must be evenly divisible by 4 but is 6 for 'Reshape' (op: 'Reshape') "
                          "with input shapes: [2,3], [2].")),
    "reshape_two_unknown": (lambda x: tf.reshape(x, [-1, -1]), ValueError, "Cannot infer multiple unknown dimensions"),
    "transpose": (lambda x: tf.transpose(x, [0, 1, 2]), ValueError,
                  "Dimension must be 2 but is 3 for 'transpose' (op: 'Transpose') with input shapes: [2,3], [3]."),
    "transpose_dup": (lambda x: tf.transpose(x, [1, 1]), ValueError, "1 is duplicated in perm"),
    "expand_dims": (lambda x: tf.expand_dims(x, 3), ValueError, "Tried to expand dim index 3 for tensor with 2 dimensions."),
    "squeeze": (lambda x: tf.squeeze(x, [1]), ValueError, "Can not squeeze dim[1], expected a dimension of 1, got 3"),
    "concat_dims": (lambda x: tf.concat([x, tf.zeros([3, 3])], 1), ValueError,
                    ("Dimension 0 in both shapes must be equal, but are 2 and 3. Shapes are [2,3] and [3,3]. "
                    "for 'concat' (op: 'ConcatV2') with input shapes: [2,3], [3,3], [].")),
    "concat_rank": (lambda x: tf.concat([x, tf.zeros([3])], 0), ValueError, "Shape must be rank 2 but is rank 1"),
    "concat_axis": (lambda x: tf.concat([x, x], 2), ValueError,
                    "Expected concatenating dimensions in the range [-2, 2), but got 2"),
    "concat_dtype": (lambda x: tf.concat([x, tf.zeros([2, 3], tf.int32)], 0), TypeError, ""),
    "stack": (lambda x: tf.stack([x, tf.zeros([2, 4])]), ValueError, "Dimension 1 in both shapes must be equal"),
    "stack_axis": (lambda x: tf.stack([x, x], 3), ValueError, "axis = 3 not in [-3, 3)"),
    "unstack_num": (lambda x: tf.unstack(tf.placeholder(tf.float32, [None])), ValueError, "Cannot infer num from shape"),
    "split": (lambda x: tf.split(x, 2, 1), ValueError, "Dimension size must be evenly divisible by 2 but is 3"),
    "split_sizes": (lambda x: tf.split(x, [1, 1], 1), ValueError, "Determined shape must either match"),
    "tile": (lambda x: tf.tile(x, [2]), ValueError, "Dimension must be 2 but is 1"),
    "pad_mode": (lambda x: tf.pad(x, [[1, 1], [1, 1]], "WRAP"), ValueError, "Unknown padding mode: WRAP"),
    "pad_reflect": (lambda x: tf.pad(x, [[2, 2], [0, 0]], "REFLECT"), ValueError,
                    "paddings must be less than the dimension size: 2, 2 not less than 2"),
    "pad_rank": (lambda x: tf.pad(x, [[1, 1]]), ValueError, "paddings must be the rank of inputs"),
    "pad_value": (lambda x: tf.pad(tf.zeros([2], tf.int32), [[1, 1]], constant_values=1.5), TypeError, ""),
    "slice_rank": (lambda x: tf.slice(x, [1], [2]), ValueError, "Expected begin and size arguments to be 1-D"),
    "strided_slice": (lambda x: x[2], ValueError, "slice index 2 of dimension 0 out of bounds."),
    "too_many_indices": (lambda x: x[0, 0, 0], ValueError, "Index out of range"),
    "zero_step": (lambda x: x[::0], ValueError, "strides[0] must be non-zero"),
    "bad_index": (lambda x: x[[0, 1], [0]], TypeError, "Only integers, slices"),
    "float_index": (lambda x: x[1.0], TypeError, "Only integers, slices"),
    "bool_mask": (lambda x: x[True], ValueError, "mask cannot be scalar."),
    "gather_indices": (lambda x: tf.gather(x, [0.5]), TypeError, "indices"),
    "gather_axis": (lambda x: tf.gather(x, [0], axis=2), ValueError, "axis = 2 not in [-2, 2)"),
    "one_hot_dtype": (lambda x: tf.one_hot([0], 2, on_value=1.0, dtype=tf.int32), TypeError, "on_value"),
    "range_delta": (lambda x: tf.range(0, 5, 0), ValueError, "Requires delta != 0: 0"),
    "range_order": (lambda x: tf.range(5, 1), ValueError, "Requires start <= limit when delta > 0: 5/1"),
    "linspace_num": (lambda x: tf.linspace(0.0, 1.0, 0), ValueError, "Requires num > 0: 0"),
    "linspace_int": (lambda x: tf.linspace(0, 1, 3), TypeError, ""),
    "fill_value": (lambda x: tf.fill([2], [1.0, 2.0]), ValueError, "Shape must be rank 0 but is rank 1"),
    "broadcast_to": (lambda x: tf.broadcast_to(x, [4, 4]), ValueError, "Incompatible shapes: [2,3] vs. [4,4]"),
    "shape_none": (lambda x: tf.reshape(x, [None, 3]), ValueError, "None values not supported"),
    "shape_float": (lambda x: tf.reshape(x, [2.0, 3.0]), TypeError, "must be integers"),
}


@pytest.mark.parametrize("name", sorted(TF1_ERRORS))
def test_build_errors(name):
    build, kind, text = TF1_ERRORS[name]
    x = tf.placeholder(tf.float32, [2, 3])
    with pytest.raises(kind) as e:
        build(x)
    assert text in str(e.value)


def test_ir_of_shape_ops_prints_and_parses():
    from lowerflow.ir.parser import parse_module
    from lowerflow.ir.printer import print_module
    from lowerflow.ir.verifier import verify

    x = tf.placeholder(tf.float32, [4, 3])
    outs = [tf.pad(x, [[1, 1], [2, 0]], constant_values=7.5), tf.pad(x, [[1, 1], [0, 0]], "SYMMETRIC"),
            x[1:, ::-1, tf.newaxis], tf.one_hot([0, 1], 3, on_value=2.5), tf.range(0.5, 3.0), tf.linspace(0.0, 1.0, 3),
            tf.split(x, 3, 1)[0], tf.transpose(x), tf.reshape(x, [-1]), tf.gather(x, [1]), tf.shape(x[:, :, None])]
    text = print_module(tf.to_ir(outs, [x]))
    module = parse_module(text)
    verify(module)
    assert print_module(module) == text


@pytest.mark.parametrize("shape, target", [([0], [0, -1]), ([2, 0, 3], [-1, 0]), ([2, 0, 3], [0, -1]),
                                           ([2, 0, 3], [5, -1, 0]), ([0], [4, -1])])
def test_reshape_empty_infers_minus_one_as_tensorflow(shape, target):
    """Beside a 0, TF infers a -1 from the data's nonzero dims (its kernel leaves 0s out)."""
    from fidelity.tf1 import tf1
    want = []
    for m in (tf1(), tf):
        with m.Graph().as_default(), m.Session() as sess:
            want.append(sess.run(m.reshape(m.zeros(shape), target)))
    assert want[0].shape == want[1].shape and want[0].dtype == want[1].dtype


def test_reshape_nonempty_to_zero_elements_fails_as_tensorflow():
    with pytest.raises(ValueError, match=r"Cannot reshape a tensor with 6 elements to shape \[0,\?\] \(0 elements\)"):
        tf.reshape(tf.zeros([6]), [0, -1])
