"""`lowerflow aot`: to_ir text -> file -> CLI -> loader equals Session.run (acceptance 5),
and `freeze` on its own (cf. convert_variables_to_constants)."""
from __future__ import annotations

import shutil
import subprocess
import sysconfig

import numpy as np
import pytest

import lowerflow as tf
from lowerflow import aot, ir
from lowerflow.cli import main
from lowerflow.frontend.lowering import lower
from lowerflow.ir.interp import run_function

X = np.linspace(-2, 2, 6, dtype=np.float32).reshape(2, 3)
W = np.array([0.5, -1.0, 2.0], np.float32)


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    """The IR of relu(x * w + 1) with w a variable argument, and the same with w frozen."""
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [2, 3], name="x")
        w = tf.Variable(np.zeros(3, np.float32), name="w")
        y = tf.nn.relu(x * w + 1.0, name="y")
        with tf.Session(graph=g) as sess:
            sess.run(tf.global_variables_initializer())
            w.load(W, sess)
            want = sess.run(y, {x: X})
        module = tf.to_ir([y], [x], graph=g)
    out = tmp_path_factory.mktemp("cli")
    (out / "open.mlir").write_text(str(module))
    frozen = aot.freeze(module["step"], {"w": W})
    (out / "frozen.mlir").write_text(str(ir.Module([frozen])))
    return out, want


def test_cli_round_trip_with_variable_argument(case, capsys):
    out, want = case
    assert main(["aot", str(out / "open.mlir"), "--name", "open", "-o", str(out), "--shared"]) == 0
    assert str(out / "libopen.so") in capsys.readouterr().out
    assert "const float *w" in (out / "open.h").read_text()
    np.testing.assert_array_equal(aot.load(out, "open")(X, W), want)


def test_cli_round_trip_frozen(case):
    out, want = case
    assert main(["aot", str(out / "frozen.mlir"), "--name", "frozen", "-o", str(out),
                 "--target-cpu", "x86-64-v3"]) == 0
    np.testing.assert_array_equal(aot.load(out, "frozen")(X), want)


def test_console_script(case):
    """The installed `lowerflow` script (pyproject's [project.scripts]): the one pip put
    beside this interpreter, not whichever PATH finds first (another Python's may be stale)."""
    script = shutil.which("lowerflow", path=sysconfig.get_path("scripts"))
    if script is None:
        pytest.skip("the lowerflow console script is not installed (pip install -e .)")
    out, _ = case
    proc = subprocess.run([script, "aot", str(out / "frozen.mlir"), "--name", "script", "-o", str(out)],
                          check=False, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert (out / "script.o").exists()
    proc = subprocess.run([script, "aot", str(out / "nothing.mlir"), "--name", "x", "-o", str(out)],
                          check=False, capture_output=True, text=True)
    assert proc.returncode == 1 and proc.stderr.startswith("error: cannot read") and "Traceback" not in proc.stderr


def _func(name: str, dim: str = "2x", body: str = "") -> str:
    t = f"tensor<{dim}f32>"
    ret = "%r" if body else "%a"
    return (f"func.func @{name}(%a: {t}) -> {t} {{\n  {body}\n"
            f'  "func.return"({ret}) : ({t}) -> ()\n}}\n')


@pytest.mark.parametrize("text, message", [
    (_func("step", "?x"), "needs a static shape"),
    (_func("f") + _func("g"), "expected a function @step or exactly one function, found @f, @g"),
    (_func("step", body='%r = "lf.bogus"(%a) : (tensor<2xf32>) -> tensor<2xf32>'), "invalid IR"),
    ("func.func @step(", "in.mlir:1:"),
])
def test_cli_user_errors(tmp_path, capsys, text, message):
    (tmp_path / "in.mlir").write_text(text)
    assert main(["aot", str(tmp_path / "in.mlir"), "--name", "m", "-o", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and "Traceback" not in err


def test_cli_usage_errors(tmp_path, capsys):
    assert main(["aot", str(tmp_path / "missing.mlir"), "--name", "m", "-o", str(tmp_path)]) == 1
    assert "cannot read" in capsys.readouterr().err
    assert main(["aot", "x.mlir", "-o", str(tmp_path)]) == 1
    assert "--name" in capsys.readouterr().err


def test_freeze_step_and_function():
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [3], name="x")
        w = tf.Variable(np.zeros(3, np.float32), name="w")
        step = lower([x * w], [], {x: ir.TensorType((3,), ir.ELEM_TYPES["f32"])})
    frozen = aot.freeze(step, {w.op: W})  # keyed like Session._values
    assert frozen.arg_names == ["x:0"] and len(step.func.args) == 2  # the step is unchanged
    np.testing.assert_array_equal(run_function(frozen, [W])[0], W * W)
    with pytest.raises(ValueError, match="variable.*w"):
        aot.freeze(step, {})
    with pytest.raises(ValueError, match="no argument named nope"):
        aot.freeze(step.func, {"nope": W})
    with pytest.raises(ValueError, match=r"'w' has shape \[2\], expected \[3\]"):
        aot.freeze(step.func, {"w": W[:2]})
