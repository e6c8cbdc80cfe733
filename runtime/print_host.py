"""The host half of `tf.Print`: formatting the values the native step returned, as TF1's
PrintOp does (`frontend/logging_ops.py`).

A line is the message, then each data tensor as "[...]" of at most `summarize` elements
(negative: all) in TF1's Tensor::SummarizeValue form: nested brackets per dimension, "..."
where elements were left out, floats in the shortest of %.6g/%.9g (doubles %.15g/%.17g)
that reads back to the same value, booleans as 1/0.
"""
from __future__ import annotations

import sys

import numpy as np

from lowerflow.frontend.graph import Operation


def _element(v) -> str:
    if isinstance(v, (np.floating, float)):
        short, long = ("%.6g", "%.9g") if np.asarray(v).dtype.itemsize <= 4 else ("%.15g", "%.17g")
        text = short % v
        if np.asarray(v).dtype.type(float(text)) != v and not np.isnan(v):
            text = long % v
        return {"nan": "nan", "inf": "inf", "-inf": "-inf"}.get(text, text)
    if isinstance(v, (np.bool_, bool)):
        return "1" if v else "0"
    if isinstance(v, bytes):
        return v.decode(errors="backslashreplace")
    return str(v)


def _dims(shape: tuple, dim: int, flat, limit: int, at: list[int], out: list[str]) -> None:
    """TF1's PrintOneDim: elements in row-major order, brackets around each inner row."""
    if at[0] >= limit:
        return
    if dim == len(shape) - 1:
        for i in range(shape[dim]):
            if at[0] >= limit:
                if dim:
                    out.append("...")
                return
            out.append((" " if i else "") + _element(flat[at[0]]))
            at[0] += 1
        return
    for _ in range(shape[dim]):
        opened = at[0] < limit
        if opened:
            out.append("[")
        _dims(shape, dim + 1, flat, limit, at, out)
        if opened or at[0] < limit:
            out.append("]")


def summarize(value: np.ndarray, max_entries: int) -> str:
    """TF1's Tensor::SummarizeValue(max_entries) (the non-v2 form tf.Print uses)."""
    value = np.asarray(value)
    flat = value.reshape(-1)
    limit = flat.size if max_entries < 0 else min(max_entries, flat.size)
    if value.ndim == 0:
        text = " ".join(_element(v) for v in flat[:limit])
    else:
        out: list[str] = []
        _dims(value.shape, 0, flat, limit, [0], out)
        text = "".join(out)
    return text + ("..." if flat.size > limit else "")


def print_line(op: Operation, values: list[np.ndarray]) -> str:
    return op.ir_attr("message") + "".join(f"[{summarize(v, op.ir_attr('summarize'))}]" for v in values)


def emit(prints: list[Operation], values: list[np.ndarray], counts: dict) -> None:
    """Write each Print op's line to stderr, unless it has printed `first_n` times already
    (`counts`: the session's tally per op)."""
    at = 0
    for op in prints:
        n = len(op.inputs) - 1
        first_n = op.ir_attr("first_n")
        if first_n < 0 or counts.get(op, 0) < first_n:
            counts[op] = counts.get(op, 0) + 1
            sys.stderr.write(print_line(op, values[at:at + n]) + "\n")
        at += n
    sys.stderr.flush()
