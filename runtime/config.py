"""TF1's session protocol buffers: ConfigProto and RunOptions as plain attribute bags,
RunMetadata as TF's message (`frontend/protos.py`), which traced runs fill (`tracing.py`).

Fields lowerflow understands: `ConfigProto.intra_op_parallelism_threads`, the
lowerflow extension `ConfigProto(pipeline="prune,constant-fold,...")`, which
chooses the pass pipeline (same text as `lowerflow-opt -p`), and
`RunOptions.trace_level` (any level but NO_TRACE records kernel times). Everything
else is accepted and kept, so TF1 code that sets options runs unchanged.
"""
from __future__ import annotations

import os

from lowerflow.frontend import protos


class _Message:
    """A protobuf-like message: unknown fields default to nested empty messages or 0."""

    _defaults: dict = {}

    def __init__(self, **fields):
        for k, v in self._defaults.items():
            setattr(self, k, v() if callable(v) else v)
        for k, v in fields.items():
            setattr(self, k, v)

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        value = _Message()
        setattr(self, name, value)
        return value

    def CopyFrom(self, other) -> None:
        self.__dict__.update(other.__dict__)

    def __repr__(self):
        fields = ", ".join(f"{k}={v!r}" for k, v in self.__dict__.items())
        return f"{type(self).__name__}({fields})"


class GPUOptions(_Message):
    _defaults = {"allow_growth": False, "per_process_gpu_memory_fraction": 0.0}


class OptimizerOptions(_Message):
    L1, L0, ON_1, OFF = 0, -1, 0, -1
    _defaults = {"opt_level": 0, "do_constant_folding": True}


class GraphOptions(_Message):
    _defaults = {"optimizer_options": OptimizerOptions}


class ConfigProto(_Message):
    _defaults = {"allow_soft_placement": False, "log_device_placement": False,
                 "intra_op_parallelism_threads": 0, "inter_op_parallelism_threads": 0,
                 "gpu_options": GPUOptions, "graph_options": GraphOptions, "device_count": dict,
                 "pipeline": None}


class RunOptions(_Message):
    NO_TRACE, SOFTWARE_TRACE, HARDWARE_TRACE, FULL_TRACE = 0, 1, 2, 3
    _defaults = {"trace_level": 0, "timeout_in_ms": 0}


RunMetadata = protos.RunMetadata


DEBUG_LEVELS = 4


def debug_level() -> int:
    """`LOWERFLOW_DEBUG`, the one debugging knob (0 = off; the levels are `runtime/debug.py`'s)."""
    raw = os.environ.get("LOWERFLOW_DEBUG", "").strip() or "0"
    try:
        level = int(raw)
    except ValueError:
        level = -1
    if not 0 <= level <= DEBUG_LEVELS:
        raise ValueError(f"LOWERFLOW_DEBUG must be an integer from 0 to {DEBUG_LEVELS}, got {raw!r}")
    return level
