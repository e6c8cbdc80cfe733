"""The shipped TF files (test_shipped_data.py) import, restore and run where TensorFlow cannot be
imported, and the run imports nothing beyond lowerflow's core dependencies and pytest's: what a
fresh venv with `pip install lowerflow pytest` has."""
from __future__ import annotations

import importlib.metadata as metadata
import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

from packaging.requirements import Requirement

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]

# Runs pytest on test_shipped_data.py with `import tensorflow` (and TensorBoard, Keras) failing,
# then prints the top-level modules the run imported beyond those present at start-up, with their
# files (None for built-in modules).
_CHILD = """
import json, sys
at_start = set(sys.modules)
for blocked in ("tensorflow", "tensorboard", "keras", "tf_keras"):
    sys.modules[blocked] = None  # `import tensorflow` now raises ImportError
import pytest
rc = pytest.main(["-q", "-p", "no:cacheprovider", sys.argv[1]])
tops = {m.split(".")[0] for m, mod in sys.modules.items() if mod is not None and m not in at_start}
loaded = {m: getattr(sys.modules.get(m), "__file__", None) for m in sorted(tops)}
google = sorted({m.split(".")[1] for m in sys.modules if m.startswith("google.")})
print("MODULES=" + json.dumps({"top": loaded, "google": google}))
sys.exit(rc)
"""


def _closure(roots: list[str]) -> set[str]:
    """Distribution names `roots` require, transitively, without extras, on this platform."""
    seen, todo = set(), list(roots)
    while todo:
        name = todo.pop().lower().replace("_", "-")
        if name in seen:
            continue
        seen.add(name)
        for line in metadata.requires(name) or []:
            req = Requirement(line)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(req.name)
    return seen


def _distributions(module: str) -> set[str]:
    return {d.lower().replace("_", "-") for d in metadata.packages_distributions().get(module, [])}


def _standard_or_ours(path: str | None) -> bool:
    """A built-in module, one of the standard library's files, or a file of this repository
    (an installed package lives in site-packages, even when that is below the standard library)."""
    if path is None:
        return True
    if {"site-packages", "dist-packages"} & set(Path(path).parts):
        return False
    roots = {sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib")} | {str(ROOT)}
    return any(Path(path).resolve().is_relative_to(Path(r).resolve()) for r in roots)


def test_shipped_files_run_without_tensorflow():
    env = dict(os.environ, PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")  # no hypothesis, dask, ... plugins
    # cwd is not the repository root, whose lowerflow/ folder would shadow an installed (non-editable) lowerflow
    proc = subprocess.run([sys.executable, "-c", _CHILD, str(HERE / "test_shipped_data.py")], cwd=HERE, env=env,
                          capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert " passed" in proc.stdout and "skipped" not in proc.stdout, proc.stdout
    report = json.loads(proc.stdout.rsplit("MODULES=", 1)[1])
    allowed = _closure(["lowerflow", "pytest"])
    outside = [m for m, path in report["top"].items()
               if not _standard_or_ours(path) and m not in sys.stdlib_module_names and not _distributions(m) & allowed]
    assert outside == [], f"modules outside lowerflow's core dependencies and pytest's: {outside}"
    assert set(report["google"]) <= {"protobuf", "_upb"}, report["google"]
