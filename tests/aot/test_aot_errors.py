"""Bad inputs give clear errors naming what is wrong (acceptance 4)."""
from __future__ import annotations

import numpy as np
import pytest

import lowerflow as tf
from lowerflow import aot
from lowerflow.backend import SCALAR_LOWERINGS


@pytest.fixture
def graph():
    g = tf.Graph()
    with g.as_default():
        yield g


def test_feed_without_static_shape(graph, tmp_path):
    x = tf.placeholder(tf.float32, [None, 3], name="images")
    with pytest.raises(ValueError, match=r"feed 'images:0' needs a static shape"):
        aot.compile(x * 2.0, [x], name="m", out_dir=tmp_path)


def test_unfed_placeholder(graph, tmp_path):
    x = tf.placeholder(tf.float32, [3], name="x")
    with pytest.raises(ValueError, match="placeholder tensor 'x'"):
        aot.compile(x * 2.0, [], name="m", out_dir=tmp_path)


def test_op_without_ir_lowering(graph, tmp_path):
    x = tf.placeholder(tf.float32, [3], name="x")
    op = graph.create_op("FancyOp", [x], [(tf.float32, tf.TensorShape([3]))], {}, name="fancy")
    with pytest.raises(NotImplementedError, match="'FancyOp'"):
        aot.compile(op.outputs[0], [x], name="m", out_dir=tmp_path)


def test_op_without_native_lowering(graph, tmp_path, monkeypatch):
    monkeypatch.delitem(SCALAR_LOWERINGS, "lf.exp")
    x = tf.placeholder(tf.float32, [3], name="x")
    with pytest.raises(NotImplementedError, match="'lf.exp'"):
        aot.compile(tf.exp(x), [x], name="m", out_dir=tmp_path)


def test_unwritable_directory(graph, tmp_path):
    x = tf.placeholder(tf.float32, [3], name="x")
    (tmp_path / "file").write_text("")
    with pytest.raises(OSError, match=str(tmp_path / "file" / "out")):
        aot.compile(x * 2.0, [x], name="m", out_dir=tmp_path / "file" / "out")


def test_missing_c_compiler(graph, tmp_path, monkeypatch):
    x = tf.placeholder(tf.float32, [3], name="x")
    monkeypatch.setenv("CC", "/nonexistent/cc")
    with pytest.raises(RuntimeError, match="no C compiler '/nonexistent/cc'"):
        aot.compile(x * 2.0, [x], name="m", out_dir=tmp_path, shared=True)
    assert (tmp_path / "m.o").exists() and (tmp_path / "m.h").exists()
    with pytest.raises(RuntimeError, match="no C compiler"):  # load links libm.so on demand
        aot.load(tmp_path, "m")


def test_bad_names(graph, tmp_path):
    x = tf.placeholder(tf.float32, [3], name="x")
    with pytest.raises(ValueError, match="C identifier, got 'my-model'"):
        aot.compile(x * 2.0, [x], name="my-model", out_dir=tmp_path)
    with pytest.raises(OSError, match="signature of 'absent'"):
        aot.load(tmp_path, "absent")


def test_uninitialized_variable_in_session(graph, tmp_path):
    x = tf.placeholder(tf.float32, [3], name="x")
    w = tf.Variable(np.ones(3, np.float32), name="weights")
    with tf.Session(graph=graph) as sess, pytest.raises(ValueError, match="weights"):
        aot.compile(x * w, [x], name="m", out_dir=tmp_path, session=sess)


def test_stateful_fetch(graph, tmp_path):
    w = tf.Variable(np.ones(3, np.float32), name="w")
    with pytest.raises(ValueError, match="pure.*w"):
        aot.compile(tf.assign_add(w, np.ones(3, np.float32)), [], name="m", out_dir=tmp_path)


def test_operation_fetch(graph, tmp_path):
    with pytest.raises(TypeError, match="must be tensors"):
        aot.compile(tf.no_op(name="nothing"), [], name="m", out_dir=tmp_path)


def test_unknown_target_cpu(graph, tmp_path):
    """LLVM would only warn, then may abort the process: the name is checked first."""
    x = tf.placeholder(tf.float32, [3], name="x")
    with pytest.raises(ValueError, match="unknown target CPU 'pentium9000'"):
        aot.compile(x * 2.0, [x], name="m", out_dir=tmp_path, target_cpu="pentium9000")
