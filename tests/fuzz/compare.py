"""Running a spec in one module and judging two outcomes.

An outcome is ("ok", arrays), ("build", error class, message) or ("run", error class,
message). Two outcomes agree when both ran and every result matches within its op's
tolerance class (`ops.py`), or when both raised the same class at the same stage (an
error at build time in one module and at run time in the other is a different stage,
though a shape that lowerflow checks when the graph is built may be checked by TF's
kernel: both are accepted when the classes match). `judge` names what differs; a
difference that is defined behaviour (docs/fidelity.md) is "documented", one where only
TensorFlow lacks a kernel for the dtype is "tf-unsupported".
"""
from __future__ import annotations

import numpy as np

from fuzz.graphs import build, decode
from fuzz.ops import BY_NAME

MAY_FAIL = {"div", "floordiv", "floormod", "truncatediv", "truncatemod", "pow"}  # raise at run time
ULPS = {"exact": 0, "rounded": 2, "math": 16, "sum": 64}
TF_UNSUPPORTED = ("No OpKernel", "not in list of allowed values", "Could not find device", "no registered",
                  "not supported", "DataType", "is not in the list of allowed", "unsupported")


def run(m, spec: dict) -> tuple:
    """The outcome of `spec` in module m (lowerflow or tf.compat.v1)."""
    with m.Graph().as_default():
        try:
            fetches, feeds = build(m, spec)
        except Exception as e:  # noqa: BLE001 - the class is the outcome
            return ("build", type(e).__name__, str(e))
        try:
            with m.Session() as sess:
                return ("ok", [np.asarray(v) for v in sess.run(fetches, feeds)])
        except Exception as e:  # noqa: BLE001
            return ("run", type(e).__name__, getattr(e, "message", str(e)))


def judge(spec: dict, got: tuple, want: tuple) -> tuple[str, str] | None:
    """None when lowerflow's outcome `got` agrees with TF's `want`, else (kind, what)."""
    if want[0] != "ok" and any(s.lower() in want[2].lower() for s in TF_UNSUPPORTED):
        return ("tf-unsupported", f"TF: {want[1]}: {_tail(want[2])}")
    if got[0] != "ok" or want[0] != "ok":
        if got[0] != "ok" and want[0] != "ok" and got[1] == want[1]:
            return None
        if got[:2] == ("build", "ValueError") and want[:2] == ("run", "InvalidArgumentError"):
            return ("documented", f"static shape checked when built: {got[2][:200]}")
        failing = sum(e["op"] in MAY_FAIL for e in spec["ops"])
        built = got[:2] == ("build", "ValueError") and want[0] == "run"  # our static check, TF's run failure
        if (got[0] == want[0] == "run" and failing > 1) or (built and failing):
            return ("documented", f"several ops may fail, each side reports another: {got[1]} vs {want[1]}")
        return ("disagree", f"lowerflow {got[:2]} {_tail(got[2]) if len(got) > 2 else ''} vs TF {want[:2]} "
                            f"{_tail(want[2]) if len(want) > 2 else ''}")
    for i, (entry, g, w) in enumerate(zip(spec["ops"], got[1], want[1])):
        problem = _compare(spec, entry, g, w)
        if problem:
            kind = "documented" if _documented(spec, entry, g, w) else "disagree"
            return (kind, f"op {i} {entry['op']}: {problem}")
    return None


def _tail(message: str) -> str:
    """The informative line of an error message (TF's start with a traceback of the graph)."""
    lines = [s.strip() for s in message.strip().splitlines() if s.strip() and not s.strip().startswith("[[")]
    return lines[-1][:200] if lines else ""


def _compare(spec: dict, entry: dict, g: np.ndarray, w: np.ndarray) -> str | None:
    if g.dtype != w.dtype or g.shape != w.shape:
        return f"type {g.dtype}{list(g.shape)} vs TF {w.dtype}{list(w.shape)}"
    if g.dtype.kind != "f":
        return None if np.array_equal(g, w) else f"values {g.ravel()[:8]} vs TF {w.ravel()[:8]}"
    bad = ~_close(g, w, BY_NAME[entry["op"]].tolerance, _scale(spec, g.dtype))
    if bad.any():
        return f"values {g[bad][:6]} vs TF {w[bad][:6]} ({BY_NAME[entry['op']].tolerance})"
    return None


def _scale(spec: dict, dtype: np.dtype) -> float:
    """The largest finite magnitude among the graph's inputs (bounds a sum's rounding)."""
    finite = [np.abs(a[np.isfinite(a)]).max(initial=0.0)
              for a in map(decode, spec["inputs"]) if a.dtype.kind == "f" and a.size]
    return float(min(max(finite, default=1.0), np.finfo(dtype).max))


def _close(g: np.ndarray, w: np.ndarray, tolerance: str, scale: float) -> np.ndarray:
    """Elementwise agreement within the tolerance class (NaN == NaN, -0.0 == 0.0)."""
    same = (g == w) | (np.isnan(g) & np.isnan(w))
    if tolerance == "exact":
        return same
    finite = np.isfinite(g) & np.isfinite(w)
    eps = float(np.finfo(g.dtype).eps)
    with np.errstate(all="ignore"):
        diff = np.abs(g.astype(np.float64) - w.astype(np.float64))
        bound = ULPS[tolerance] * np.spacing(np.abs(w)).astype(np.float64)
        if tolerance in ("math", "sum"):
            bound = bound + ULPS[tolerance] * eps * (scale if tolerance == "sum" else 1.0)
        return same | (finite & (diff <= bound))


def _subnormal(a: np.ndarray, margin: float = 1) -> np.ndarray:
    """Denormals, or with `margin` > 1 values so close to them that a quotient may be one."""
    return (a != 0) & (np.abs(a) < margin * np.finfo(a.dtype).tiny)


def _documented(spec: dict, entry: dict, g: np.ndarray, w: np.ndarray) -> bool:
    """Defined differences (docs/fidelity.md): denormals are not flushed to zero; float ->
    int casts of values out of range saturate; sums (and products, means, matmul, softmax) in another order may round,
    overflow or cancel differently; float16 reductions accumulate in float32."""
    op = entry["op"]
    differ = ~_close(g, w, "exact", 0.0)
    if (g.dtype.kind == "f" and _subnormal(g[differ]).any()) or any(
            _subnormal(a, 8).any() for a in map(decode, spec["inputs"]) if a.dtype.kind == "f"):
        return True  # TF flushes denormals to zero (inputs, results, intermediates); we keep them
    if op == "cast" and g.dtype.kind in "iu":  # saturated (we) vs x86's "integer indefinite" (TF)
        info = np.iinfo(g.dtype)
        return bool(np.isin(g[differ], [info.min, info.max, 0]).all())
    if BY_NAME[op].tolerance == "sum" and g.dtype.kind == "f":
        return g.dtype == np.float16 or not (np.isfinite(g[differ]) & np.isfinite(w[differ])).all() \
            or bool(_close(g, w, "sum", 16 * _scale(spec, g.dtype)).all())
    return False
