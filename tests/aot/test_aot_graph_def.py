"""tfcompile's use: a frozen GraphDef (.pb / .pbtxt) through `lowerflow aot --feed --fetch` (and
`lowerflow.aot.compile_graph_def`) into a C program whose outputs equal TensorFlow's; the
command's errors for unknown tensors and bad shapes are TF's messages."""
from __future__ import annotations

import json
import runpy
from pathlib import Path

import numpy as np
import pytest

import lowerflow as tf
from lowerflow import aot
from lowerflow.cli import main

from .conftest import c_main, cc, parse_printed, run_program

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "tf_files" / "data"
FROZEN = DATA / "mlp_frozen.pb"  # trained and frozen by TensorFlow (tests/tf_files/make_data.py)


@pytest.fixture(scope="module")
def expected():
    with np.load(DATA / "mlp_expected.npz") as data:
        return data["x"], data["out"]


def _session_values(fetches: list[str], feeds: dict):
    """What Session.run gives for the frozen graph imported here (the oracle for `Relu:0`)."""
    with tf.Graph().as_default():
        tf.import_graph_def(FROZEN.read_bytes(), name="")
        with tf.Session() as sess:
            return sess.run(fetches, feeds)


def test_frozen_tf_graph_through_cli_into_c(tmp_path, capsys, expected):
    """Two fetches; the C program (only the header's macros) prints TF's probabilities."""
    x, want = expected
    argv = ["aot", str(FROZEN), "--feed", "x:0=3x4", "--fetch", "out:0", "--fetch", "Relu:0", "--name", "mlp",
            "-o", str(tmp_path)]
    assert main(argv) == 0
    assert str(tmp_path / "mlp.o") in capsys.readouterr().out
    signature = json.loads((tmp_path / "mlp.json").read_text())
    assert [(p["name"], p["dtype"], p["shape"]) for p in signature["args"]] == [("x:0", "f32", [3, 4])]
    assert [p["name"] for p in signature["results"]] == ["out:0", "Relu:0"]
    (tmp_path / "main.c").write_text(c_main("mlp", signature, [x]))
    cc("-std=c99", "-Wall", "-Werror", "main.c", "mlp.o", "-lm", "-o", "main", cwd=tmp_path)
    probs, hidden = parse_printed(run_program(tmp_path / "main"))
    np.testing.assert_allclose(probs.reshape(want.shape), want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(hidden.reshape(3, 8), _session_values(["Relu:0"], {"x:0": x})[0], rtol=1e-5,
                               atol=1e-6)


def test_feeding_a_weight_and_static_shapes(tmp_path, expected):
    """Any tensor can be fed (here a frozen weight, at its static shape, as a second argument)."""
    x, _ = expected
    w2 = np.random.default_rng(1).normal(size=(8, 2)).astype(np.float32)
    art = aot.compile_graph_def(str(FROZEN), {"x:0": (3, 4), "mlp/w2/read:0": None}, ["out:0"], name="fed",
                                out_dir=tmp_path, shared=True)
    assert "int fed_run(const float *x, const float *mlp_w2_read, float *out);" in art.header.read_text()
    want = _session_values(["out:0"], {"x:0": x, "mlp/w2/read:0": w2})[0]
    np.testing.assert_allclose(aot.load(tmp_path, "fed")(x, w2), want, rtol=1e-5, atol=1e-6)


@pytest.fixture(scope="module")
def typed_graph_def():
    """A GraphDef written by lowerflow with an int32 and a float64 placeholder, two outputs."""
    with tf.Graph().as_default() as g:
        n = tf.placeholder(tf.int32, [2, 3], name="n")
        v = tf.placeholder(tf.float64, [3], name="v")
        scaled = tf.multiply(tf.cast(n, tf.float64), v, name="scaled")
        total = tf.reduce_sum(n * n, axis=1, name="total")
    return g.as_graph_def()


@pytest.mark.parametrize("form", ["pbtxt", "pb", "proto", "bytes"])
def test_dtypes_come_from_the_placeholders(tmp_path, typed_graph_def, form):
    if form in ("pb", "pbtxt"):
        source = tf.train.write_graph(typed_graph_def, str(tmp_path), f"typed.{form}", as_text=form == "pbtxt")
    else:
        source = typed_graph_def if form == "proto" else typed_graph_def.SerializeToString()
    art = aot.compile_graph_def(source, ["v:0", "n:0"], ["total:0", "scaled:0"], name="typed", out_dir=tmp_path,
                                shared=True)
    signature = json.loads(art.signature.read_text())
    assert [(p["name"], p["dtype"]) for p in signature["args"]] == [("v:0", "f64"), ("n:0", "i32")]
    assert [(p["name"], p["dtype"]) for p in signature["results"]] == [("total:0", "i32"), ("scaled:0", "f64")]
    n, v = np.arange(6, dtype=np.int32).reshape(2, 3) - 2, np.array([0.5, -1.0, 3.0])
    total, scaled = aot.load(tmp_path, "typed")(v, n)
    np.testing.assert_array_equal(total, (n * n).sum(axis=1))
    np.testing.assert_array_equal(scaled, n * v)


@pytest.mark.parametrize("args, message", [
    (["--feed", "nope:0=3x4", "--fetch", "out:0"],
     "The name 'nope:0' refers to a Tensor which does not exist. The operation, 'nope', does not exist in the graph."),
    (["--feed", "x:0=3x4", "--fetch", "out:1"],
     "The name 'out:1' refers to a Tensor which does not exist. The operation, 'out', exists but only has 1 outputs."),
    (["--feed", "x:0=3x4", "--fetch", "out:x"], "The name 'out:x' looks a like a Tensor name, but is not a valid one."),
    (["--feed", "x:0=3x5", "--fetch", "out:0"], "Cannot feed value of shape (3, 5) for Tensor 'x:0', which has shape"),
    (["--feed", "x:0=3x4x1", "--fetch", "out:0"], "Cannot feed value of shape (3, 4, 1) for Tensor 'x:0'"),
    (["--feed", "x:0", "--fetch", "out:0"], "feed 'x:0' has shape (?, 4) in the graph: give the shape"),
    (["--feed", "x:0=3xa", "--fetch", "out:0"], "--feed 'x:0=3xa': expected TENSOR[=DIMxDIM...]"),
    (["--feed", "x:0=3x4", "--feed", "x:0=3x4", "--fetch", "out:0"], "--feed x:0 given more than once"),
    (["--feed", "x:0=3x4"], "a GraphDef needs at least one --fetch"),
])
def test_cli_feed_and_fetch_errors(tmp_path, capsys, args, message):
    assert main(["aot", str(FROZEN), *args, "--name", "m", "-o", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and "Traceback" not in err, err
    assert not (tmp_path / "m.o").exists()


def test_cli_graph_def_file_errors(tmp_path, capsys):
    (tmp_path / "bad.pb").write_bytes(b"\xff\xff\xff")
    (tmp_path / "bad.pbtxt").write_text("node { name: ")
    (tmp_path / "f.mlir").write_text("")
    cases = [(DATA / "mlp.pbtxt", "the graph reads variable(s) mlp/b1, mlp/w1, mlp/w2, which have no values in "
                                  "a GraphDef: freeze it first"),
             (tmp_path / "bad.pb", "as a binary GraphDef"), (tmp_path / "bad.pbtxt", "as a text GraphDef"),
             (tmp_path / "missing.pb", "cannot read"), (tmp_path / "f.mlir", "--feed and --fetch name the tensors")]
    for path, message in cases:
        assert main(["aot", str(path), "--feed", "x:0=3x4", "--fetch", "out:0", "--name", "m",
                     "-o", str(tmp_path)]) == 1
        err = capsys.readouterr().err
        assert err.startswith("error: ") and message in err and "Traceback" not in err, err


def test_python_api_errors(typed_graph_def, tmp_path):
    with pytest.raises(TypeError, match="got a string"):
        aot.compile_graph_def(typed_graph_def, "n:0", ["total:0"], name="m", out_dir=tmp_path)
    with pytest.raises(ValueError, match="more than once: n:0"):
        aot.compile_graph_def(typed_graph_def, ["n:0", "n:0"], ["total:0"], name="m", out_dir=tmp_path)
    with pytest.raises(KeyError, match="refers to a Tensor which does not exist"):
        aot.graph_def_function(typed_graph_def, ["n:0"], ["totals:0"])


def test_documented_tf_example(tmp_path):
    """examples/aot_tf_frozen.py: trained in TF, frozen, `lowerflow aot`, cc, equal to TF."""
    pytest.importorskip("tensorflow")
    example = runpy.run_path(str(ROOT / "examples" / "aot_tf_frozen.py"))
    assert example["run"](tmp_path) < 1e-5
    assert (tmp_path / "main").exists() and (tmp_path / "mlp.pb").exists()
