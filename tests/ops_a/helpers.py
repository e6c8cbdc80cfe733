"""Running graph slices through the reference interpreter (the IR's meaning), no native code."""
from __future__ import annotations

import numpy as np

from lowerflow import ir
from lowerflow.frontend.lowering import lower
from lowerflow.ir.interp import run_function
from lowerflow.ir.verifier import verify


def reference_run(fetches: list, feed_dict: dict | None = None, counter: int = 0) -> list[np.ndarray]:
    """Lower `fetches` with the feeds' run shapes and interpret the step; random ops see
    run counter `counter`. Returns the fetched values."""
    feed_dict = {t: np.asarray(v, t.dtype.as_numpy_dtype) for t, v in (feed_dict or {}).items()}
    step = lower(list(fetches), [], {t: ir.TensorType(v.shape, t.dtype.ir) for t, v in feed_dict.items()})
    verify(step.func)
    args = list(feed_dict.values()) + [np.int64(counter) for _ in step.reads]
    return run_function(step.func, args)[:len(fetches)]
