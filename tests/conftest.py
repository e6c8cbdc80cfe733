"""Suite-wide setup: a fresh native-code cache per test session (backend/cache.py), so no
run reads a stale user cache and subprocesses started by tests inherit the same one; and the
`tf1` fixture, TensorFlow's `compat.v1` in graph mode (the test skips without TensorFlow).

TensorFlow, the oracle, runs with oneDNN on every CPU: it enables oneDNN by default only on
some Intel CPUs, and its other kernels answer differently (a softmax row holding NaN is all
NaN, not NaN in that lane alone) or refuse what oneDNN's take (dilated Conv2D gradients,
average pooling in NCHW), so without this the same tests would expect other answers on AMD."""
from __future__ import annotations

import os
import shutil
import tempfile

import pytest

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")


def pytest_configure(config) -> None:
    config.lowerflow_cache_dir = tempfile.mkdtemp(prefix="lowerflow-cache-")
    os.environ["LOWERFLOW_CACHE_DIR"] = config.lowerflow_cache_dir


def pytest_unconfigure(config) -> None:
    shutil.rmtree(config.lowerflow_cache_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def tf1():
    tf1 = pytest.importorskip("tensorflow.compat.v1")
    tf1.disable_eager_execution()
    return tf1


@pytest.fixture(scope="module")
def tf1_reference_variables(tf1):
    """`tf1` with TF1's reference variables (not resource variables), for one module."""
    tf1.disable_resource_variables()
    yield tf1
    tf1.enable_resource_variables()
