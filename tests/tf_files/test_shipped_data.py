"""Files TensorFlow wrote (tests/tf_files/make_data.py), read with lowerflow alone: the
GraphDef imports (binary and text), the V2 checkpoint restores, the frozen graph runs, and
the outputs equal those TensorFlow computed."""
from __future__ import annotations

import os

import numpy as np
import pytest
from google.protobuf import text_format

import lowerflow as tf

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")


@pytest.fixture(scope="module")
def expected():
    with np.load(os.path.join(DATA, "mlp_expected.npz")) as data:
        return data["x"], data["out"]


def _read(name: str) -> bytes:
    with open(os.path.join(DATA, name), "rb") as f:
        return f.read()


@pytest.mark.parametrize("text", [False, True])
def test_graph_def_and_checkpoint(expected, text):
    x, want = expected
    graph_def = (text_format.Parse(_read("mlp.pbtxt").decode(), tf.GraphDef()) if text
                 else tf.GraphDef.FromString(_read("mlp.pb")))
    with tf.Graph().as_default() as g:
        (out,) = tf.import_graph_def(graph_def, return_elements=["out:0"], name="")
        variables = {op.name: op.outputs[0] for op in g.get_operations() if op.type == "VariableV2"}
        assert sorted(variables) == [name for name, _ in tf.train.list_variables(os.path.join(DATA, "mlp.ckpt"))]
        with tf.Session() as sess:
            tf.train.Saver(variables).restore(sess, os.path.join(DATA, "mlp.ckpt"))
            np.testing.assert_allclose(sess.run(out, {"x:0": x}), want, rtol=1e-5, atol=1e-6)


def test_frozen_graph(expected):
    x, want = expected
    with tf.Graph().as_default():
        (out,) = tf.import_graph_def(_read("mlp_frozen.pb"), return_elements=["out:0"])
        with tf.Session() as sess:
            np.testing.assert_allclose(sess.run(out, {"import/x:0": x}), want, rtol=1e-5, atol=1e-6)


def test_checkpoint_state_file(expected):
    """The `checkpoint` file TF wrote (relative paths) names the checkpoint for a directory."""
    prefix = tf.train.latest_checkpoint(DATA)
    assert prefix == os.path.join(DATA, "mlp.ckpt")
    x, want = expected
    with tf.Graph().as_default() as g:
        (out,) = tf.import_graph_def(_read("mlp.pb"), return_elements=["out:0"], name="")
        variables = [op.outputs[0] for op in g.get_operations() if op.type == "VariableV2"]
        with tf.Session() as sess:
            tf.train.Saver(variables).restore(sess, prefix)
            np.testing.assert_allclose(sess.run(out, {"x:0": x}), want, rtol=1e-5, atol=1e-6)
