"""Suite-wide setup: a fresh native-code cache per test session (backend/cache.py), so no
run reads a stale user cache and subprocesses started by tests inherit the same one."""
from __future__ import annotations

import os
import shutil
import tempfile


def pytest_configure(config) -> None:
    config.lowerflow_cache_dir = tempfile.mkdtemp(prefix="lowerflow-cache-")
    os.environ["LOWERFLOW_CACHE_DIR"] = config.lowerflow_cache_dir


def pytest_unconfigure(config) -> None:
    shutil.rmtree(config.lowerflow_cache_dir, ignore_errors=True)
