"""Running a step whose results are sized by fed values (`frontend/run_dims.py`): the
shape prelude natively, TF's checks, the outputs allocated from its dims, then the main step.

The prelude's dims are the main step's last arguments, so its kernels' loop bounds are the
sizes the outputs were allocated with. A size over `max_bytes()` is refused as TF's
allocator refuses it (ResourceExhaustedError), before anything is allocated or run.
"""
from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np

from lowerflow import ir
from lowerflow.backend import Executable
from lowerflow.frontend import run_dims
from lowerflow.runtime import errors


def max_bytes() -> int:
    """The most bytes one run-time-sized output may take: half the host's physical memory
    (numpy's allocation would succeed far beyond it, memory being overcommitted, and the
    kernel's writes would then exhaust the host instead of failing the run)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2
    except (ValueError, OSError, AttributeError):  # pragma: no cover - hosts without sysconf
        return 1 << 40


def caller(prelude: run_dims.Prelude, dims_call: Callable[[list], list], exe: Executable, func: ir.Function,
           n_feeds: int) -> Callable[[list], list]:
    """The plan's native call: `dims_call` (the prelude's compiled step) on the feeds, then
    `exe` (compiled from `func`) on the arguments plus the dims, into outputs of those dims."""
    first_dims = len(func.args) - len(prelude.ops)
    # result i -> the op whose dims size it (its lf.run_* op reads them), None when static
    owners = [None if t.is_static else v.op.operands[-1].index - first_dims
              for v, t in zip(func.results, func.result_types)]
    specs = [(tuple(t.shape), t.dtype.np_dtype, _type_name(t)) for t in func.result_types]
    starts = np.cumsum([0] + [2 + n for n in prelude.quoted]).tolist()
    limit = max_bytes()
    hidden = prelude.hidden

    def run(args: list) -> list:
        outs = dims_call(args[:n_feeds])
        dims = []
        for j, r in enumerate(prelude.ops):
            s = starts[j]
            code = int(outs[s + 1])
            if code:
                said = outs[s + 2:s + 2 + prelude.quoted[j]]
                words = run_dims.message(r, code, said, outs[s])
                node = "" if "[[node" in words else f" [[node {r.op.name}]]"  # a consumer's check names its node
                raise errors.InvalidArgumentError(None, None, words + node)
            dims.append(np.ascontiguousarray(outs[s], np.int64))
        arrays = []
        for (shape, dtype, name), owner in zip(specs, owners):
            if owner is not None:
                given = iter(dims[owner].tolist())
                shape = tuple(next(given) if d is None else d for d in shape)
                if float(np.prod(shape, dtype=np.float64)) * dtype.itemsize > limit:
                    raise errors.ResourceExhaustedError(
                        None, None, f"OOM when allocating tensor with shape[{','.join(map(str, shape))}] and type "
                        f"{name} on /job:localhost/replica:0/task:0/device:CPU:0 by allocator cpu")
            arrays.append(np.empty(shape, dtype))
        outs = exe.run_into(list(args) + dims, arrays)
        if hidden:
            del outs[-hidden:]
        return outs
    return run


def _type_name(t) -> str:
    """TF's name of a dtype in its OOM message (float, double, int32, ...)."""
    return {"float32": "float", "float64": "double", "float16": "half"}.get(t.dtype.np_name, t.dtype.np_name)
