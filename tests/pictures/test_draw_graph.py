"""Pictures (`lowerflow.tooling.draw_graph`, `lowerflow graph`): the DOT of a fused MLP has one
cluster per fusion group, op names in its labels and colours by kernel kind; SVGs render
(when Graphviz's `dot` is installed) for the seed graphs, a TF-made GraphDef and IR text."""
from __future__ import annotations

import contextlib
import io
import re
import runpy
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("graphviz", reason="pictures need the graphviz package (the 'viz' extra)")

import lowerflow as tf  # noqa: E402
from lowerflow import ir  # noqa: E402
from lowerflow.cli import main  # noqa: E402
from lowerflow.ir.opdef import OPS  # noqa: E402
from lowerflow.tooling import KIND_COLOURS, draw_graph, kernel_kind, picture_function  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "tf_files" / "data"
needs_dot = pytest.mark.skipif(shutil.which("dot") is None,
                               reason="rendering needs Graphviz's dot on PATH (Debian: apt-get install graphviz)")
_NODE = re.compile(r'^\s*(\w+) \[label="([^"]*)" fillcolor="([^"]+)"', re.M)


def _mlp():
    """x[4,784] -> relu(x w1 + b1) -> softmax(h w2 + b2), and a training step of its loss."""
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [None, 784], name="x")
        y = tf.placeholder(tf.int64, [None], name="labels")
        w1 = tf.Variable(np.zeros((784, 32), np.float32), name="w1")
        b1 = tf.Variable(np.zeros(32, np.float32), name="b1")
        w2 = tf.Variable(np.zeros((32, 10), np.float32), name="w2")
        b2 = tf.Variable(np.zeros(10, np.float32), name="b2")
        h = tf.nn.relu(tf.matmul(x, w1) + b1, name="hidden")
        logits = tf.add(tf.matmul(h, w2), b2, name="logits")
        probs = tf.nn.softmax(logits, name="probs")
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
        train = tf.train.GradientDescentOptimizer(0.1).minimize(loss, name="train")
        tf.global_variables_initializer()
    return g, probs, train


@pytest.fixture(scope="module")
def mlp():
    return _mlp()


def _clusters(dot_source: str) -> list[str]:
    return re.findall(r"subgraph (cluster_\d+) \{\s*color=\S+ fillcolor=\"([^\"]+)\" label=\"([^\"]+)\"",
                      dot_source)


def test_fused_mlp_dot(mlp):
    g, probs, _ = mlp
    func = picture_function(g, fetches=[probs], feeds={"x:0": (4, 784)})
    fusions = [op for op in func.ops if op.regions]
    dot = draw_graph(g, fetches=[probs], feeds={"x:0": (4, 784)}).source
    clusters = _clusters(dot)
    assert len(clusters) == len(fusions) >= 2
    for (name, colour, label), op in zip(clusters, fusions):
        assert label == f"fusion {name.split('_')[1]}: {op.name.removeprefix('lf.')}"
        assert colour == KIND_COLOURS[kernel_kind(op.name)]
    assert ("cluster_1", KIND_COLOURS["matmul"], "fusion 1: matmul_fusion") in clusters
    assert ("cluster_2", KIND_COLOURS["elementwise"], "fusion 2: fusion") in clusters  # rows of 10: no row fusion
    nodes = {label.split("\n")[0]: (label, colour) for _, label, colour in _NODE.findall(dot)}
    assert nodes["matmul"][1] == KIND_COLOURS["matmul"] and nodes["relu"][1] == KIND_COLOURS["elementwise"]
    assert nodes["reduce_max"][1] == KIND_COLOURS["reduction"]
    assert "probs/Exp\n4x10 f32" in nodes["exp"][0]  # the TF op a kernel comes from, and its type
    body_ops = sum(len(op.regions[0].ops) - 1 for op in fusions)  # less each lf.yield
    op_nodes = [n for n, _, _ in _NODE.findall(dot) if n.startswith("op")]
    assert len(op_nodes) == body_ops + len(func.ops) - len(fusions) - 1  # less func.return
    assert 'arg0 [label="x:0\n4x784 f32"' in dot and 'result0 [label="probs:0\n4x10 f32"' in dot
    assert "legend" in dot and "matmul</TD>" in dot


def test_training_step_by_default(mlp):
    """Without fetches: every op nothing consumes (the train op: its updates are results),
    initialisers left out; unknown dims drawn at 1."""
    g, _, _ = mlp
    func = picture_function(g)
    assert {"x:0", "labels:0"} <= set(func.arg_names) and {"w1", "b1", "w2", "b2"} <= set(func.result_names)
    assert all(a.type.is_static for a in func.args)
    dot = draw_graph(g).source
    assert 'label="fusion 1: ' in dot and "1x784 f32" in dot


def test_kernel_kinds():
    assert [kernel_kind(n) for n in ("lf.add", "lf.reduce_sum", "lf.matmul", "lf.reshape", "lf.transpose",
                                     "lf.random_uniform", "lf.constant", "lf.row_fusion", "lf.fusion",
                                     "lf.sum_to", "lf.no_such_op")] == [
        "elementwise", "reduction", "matmul", "shape/array", "shape/array", "random", "constant", "row",
        "elementwise", "shape/array", "other"]
    unkinded = {n for n in OPS if n.startswith("lf.") and kernel_kind(n) == "other"}
    assert unkinded <= {"lf.identity", "lf.yield"}, unkinded


def test_ir_function_drawn_as_given_or_optimised():
    text = (ROOT / "tests" / "ir" / "fuse.mlir").read_text()
    func = ir.parse_module(text)["chain"]
    before = draw_graph(func, optimize=False).source
    after = draw_graph(func).source
    assert "cluster_" not in before and "subgraph cluster_1" in after
    with pytest.raises(ValueError, match="expected a function @step or exactly one function, found @chain"):
        draw_graph(ir.parse_module(text))
    with pytest.raises(ValueError, match="an IR function is drawn whole"):
        draw_graph(func, fetches=["x:0"])


def test_errors(mlp, tmp_path, monkeypatch):
    g, probs, _ = mlp
    with pytest.raises(ValueError, match=r"Cannot feed value of shape \(4, 5\) for Tensor 'x:0'"):
        draw_graph(g, fetches=[probs], feeds={"x:0": (4, 5)})
    with pytest.raises(KeyError, match="The name 'nope:0' refers to a Tensor which does not exist"):
        draw_graph(g, fetches=["nope:0"])
    with pytest.raises(TypeError, match="cannot draw int"):
        draw_graph(3)
    with pytest.raises(ValueError, match="cannot tell the picture format"):
        draw_graph(g, tmp_path / "a.xyz", fetches=[probs])
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot: a rendered format fails clearly, DOT text still works
    with pytest.raises(RuntimeError, match="needs Graphviz's 'dot' on PATH"):
        draw_graph(g, tmp_path / "a.svg", fetches=[probs])
    draw_graph(g, tmp_path / "a.dot", fetches=[probs])
    assert (tmp_path / "a.dot").read_text().startswith("digraph step {")
    monkeypatch.setitem(sys.modules, "graphviz", None)
    with pytest.raises(ImportError, match=r"pip install 'lowerflow\[viz\]'"):
        draw_graph(g, fetches=[probs])


def _svg_clusters(path: Path) -> int:
    text = path.read_text()
    assert text.lstrip().startswith("<?xml") and "<svg" in text
    return text.count('class="cluster"')


@needs_dot
def test_svg_of_fused_mlp(mlp, tmp_path):
    g, probs, _ = mlp
    draw_graph(g, tmp_path / "mlp.svg", fetches=[probs], feeds={"x:0": (4, 784)})
    assert _svg_clusters(tmp_path / "mlp.svg") == 4
    assert KIND_COLOURS["matmul"] in (tmp_path / "mlp.svg").read_text()


@needs_dot
@pytest.mark.parametrize("seed", ["seed_counter", "seed_multiply", "seed_session_api", "seed_session_basics"])
def test_svg_of_seed_graphs(seed, tmp_path):
    tf.reset_default_graph()
    with contextlib.redirect_stdout(io.StringIO()):
        names = runpy.run_path(str(ROOT / "examples" / f"{seed}.py"), run_name="__main__")
    graph = names["graph"] if isinstance(names.get("graph"), tf.Graph) else tf.get_default_graph()
    dot = draw_graph(graph, tmp_path / f"{seed}.svg")
    assert _svg_clusters(tmp_path / f"{seed}.svg") == dot.source.count("subgraph cluster_")
    assert 'result0 [label="' in dot.source and "<svg" in (tmp_path / f"{seed}.svg").read_text()


@needs_dot
def test_cli(tmp_path, capsys):
    """A GraphDef TensorFlow wrote (shipped data) and IR text, as SVG and DOT."""
    out = tmp_path / "frozen.svg"
    assert main(["graph", str(DATA / "mlp_frozen.pb"), "--feed", "x:0=3x4", "--fetch", "out:0", "-o", str(out)]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    assert _svg_clusters(out) >= 1 and "MatMul_1" in out.read_text()
    assert main(["graph", str(DATA / "mlp.pbtxt"), "-o", str(tmp_path / "p.dot")]) == 0
    assert 'arg0 [label="x:0\n1x4 f32"' in (tmp_path / "p.dot").read_text()
    fuse = str(ROOT / "tests" / "ir" / "fuse.mlir")
    assert main(["graph", fuse, "--function", "chain", "-o", str(tmp_path / "chain.svg")]) == 0
    assert _svg_clusters(tmp_path / "chain.svg") == 1
    assert main(["graph", fuse, "--function", "chain", "--no-optimize", "-o", str(tmp_path / "raw.svg")]) == 0
    assert _svg_clusters(tmp_path / "raw.svg") == 0


@pytest.mark.parametrize("args, message", [
    ([str(DATA / "mlp_frozen.pb"), "--fetch", "nope:0"], "The name 'nope:0' refers to a Tensor which does not exist"),
    ([str(DATA / "mlp_frozen.pb"), "--feed", "x:0=3x5"], "Cannot feed value of shape (3, 5) for Tensor 'x:0'"),
    ([str(DATA / "mlp_frozen.pb"), "--function", "f"], "--function names a function of an IR module"),
    ([str(ROOT / "tests" / "ir" / "fuse.mlir")], "expected a function @step or exactly one function"),
    ([str(ROOT / "tests" / "ir" / "fuse.mlir"), "--function", "nope"], "no function @nope (found @chain"),
    ([str(ROOT / "tests" / "ir" / "fuse.mlir"), "--fetch", "y:0"], "--feed and --fetch name the tensors"),
])
def test_cli_errors(tmp_path, capsys, args, message):
    assert main(["graph", *args, "-o", str(tmp_path / "g.dot")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and "Traceback" not in err, err


def test_documented_picture(tmp_path):
    """docs/images/mlp.svg is what docs/pictures.md's commands draw (same clusters and nodes)."""
    proc = subprocess.run([sys.executable, str(ROOT / "examples" / "draw_mlp.py"), str(tmp_path)], check=True,
                          capture_output=True, text=True)
    assert proc.stdout.strip() == str(tmp_path / "mlp.pbtxt")
    assert main(["graph", str(tmp_path / "mlp.pbtxt"), "--feed", "x:0=64x784", "--fetch", "probs:0",
                 "-o", str(tmp_path / "mlp.dot")]) == 0
    dot = (tmp_path / "mlp.dot").read_text()
    svg = (ROOT / "docs" / "images" / "mlp.svg").read_text()
    assert svg.count('class="cluster"') == dot.count("subgraph cluster_") == 4
    assert svg.count('class="node"') == len(re.findall(r"^\s*\w+ \[label=", dot, re.M))
    doc = (ROOT / "docs" / "pictures.md").read_text()
    assert "lowerflow graph build/mlp.pbtxt --feed x:0=64x784 --fetch probs:0 -o docs/images/mlp.svg" in doc
