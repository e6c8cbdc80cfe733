"""Runs every `// RUN:` line of the *.mlir files here (cf. MLIR's lit tests).

`%s` becomes the file's path; `lowerflow-opt` and `filecheck` resolve to this
interpreter's modules, so the tests work without the console scripts on PATH.
"""
from __future__ import annotations

import pathlib
import re
import shlex
import subprocess
import sys

import pytest

HERE = pathlib.Path(__file__).parent
TOOLS = {
    "lowerflow-opt": f"{shlex.quote(sys.executable)} -c 'import sys; from lowerflow.tooling import opt_main as main; "
                     "sys.exit(main())'",
    "filecheck": f"{shlex.quote(sys.executable)} -m filecheck",
}
CASES = [(path, line) for path in sorted(HERE.glob("*.mlir"))
         for line in re.findall(r"^// RUN: (.*)$", path.read_text(), re.MULTILINE)]


def command(run_line: str, path: pathlib.Path) -> str:
    for tool, replacement in TOOLS.items():
        run_line = re.sub(rf"(^|\|\s*){re.escape(tool)}\b", rf"\g<1>{replacement}", run_line)
    return run_line.replace("%s", shlex.quote(str(path)))


@pytest.mark.parametrize("path, run_line", CASES, ids=[f"{p.name}:{i}" for i, (p, _) in enumerate(CASES)])
def test_run_line(path, run_line):
    proc = subprocess.run(["bash", "-o", "pipefail", "-c", command(run_line, path)],
                          capture_output=True, text=True, cwd=HERE, check=False)
    assert proc.returncode == 0, f"{run_line}\n{proc.stdout}\n{proc.stderr}"
