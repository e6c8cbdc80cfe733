"""The complete example of docs/aot.md runs as written: model.py, main.c, cc, ./main."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np

from .conftest import cc, run_program

DOC = Path(__file__).resolve().parents[2] / "docs" / "aot.md"


def _block(lang: str, marker: str) -> str:
    blocks = [body for kind, body in re.findall(r"```(\w*)\n(.*?)```", DOC.read_text(), re.DOTALL) if kind == lang]
    (found,) = [b for b in blocks if marker in b]
    return found


def test_documented_example(tmp_path):
    (tmp_path / "build").mkdir()
    (tmp_path / "model.py").write_text(_block("python", "tf.aot.compile("))
    (tmp_path / "build" / "main.c").write_text(_block("c", "int main(void)"))
    proc = subprocess.run([sys.executable, "model.py"], check=False, cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    cc("-std=c99", "-Wall", "-Wextra", "-Werror", "main.c", "model.o", "-lm", "-o", "main", cwd=tmp_path / "build")
    printed = run_program(tmp_path / "build" / "main")
    got = np.array([[float(v) for v in re.findall(r"= (\S+)", line)] for line in printed.splitlines()])
    want = np.array([float(v) for v in re.findall(r"-?\d+\.\d*(?:e[-+]\d+)?", proc.stdout)]).reshape(2, 6)
    np.testing.assert_allclose(got, want.T, atol=1e-6)  # %f prints 6 decimals
