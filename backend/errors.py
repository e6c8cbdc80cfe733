"""Status codes returned by the native step: the one table of them, and the exception that
carries them.

The step function returns 0 on success and one of these codes otherwise (cf. XLA's
`Status`, TF1's `tf.errors`): native code cannot raise, so it reports and stops. Each code
has TF1's message and TF1's canonical error code (`tf.errors.INVALID_ARGUMENT` = 3, ...),
so the runtime raises the class TF1 raises; `Executable.run` raises `NativeError`.
Codes are part of the ABI of objects written for ahead-of-time use: only append.
"""
from __future__ import annotations

from typing import NamedTuple

# TF1's canonical error codes (runtime/errors.py names them; the backend cannot import it)
INVALID_ARGUMENT, RESOURCE_EXHAUSTED, UNIMPLEMENTED, INTERNAL = 3, 8, 12, 13


class Status(NamedTuple):
    message: str
    tf_code: int  # the canonical code of the `tf.errors` class TF1 raises


OK = 0
INT_DIV_BY_ZERO = 1
OUT_OF_MEMORY = 2
NEGATIVE_POWER = 3
TRUNCATE_BY_ZERO = 4
EMPTY_RANGE = 16
LABEL_RANGE = 17
INDEX_RANGE = 18
BAD_ARGUMENTS = 19
ARGUMENT_MISMATCH = 20
PARTLY_FILLED = 21

STATUS: dict[int, Status] = {
    INT_DIV_BY_ZERO: Status("Integer division by zero", INVALID_ARGUMENT),
    OUT_OF_MEMORY: Status("Out of memory allocating temporary buffers", RESOURCE_EXHAUSTED),
    NEGATIVE_POWER: Status("Integers to negative integer powers are not allowed", INVALID_ARGUMENT),
    # TF's TruncateDiv/TruncateMod kernels report a zero divisor as an internal error
    TRUNCATE_BY_ZERO: Status("Unexpected error in binary operator (only integer div and mod "
                             "should have errors)", INTERNAL),
    EMPTY_RANGE: Status("Need minval < maxval", INVALID_ARGUMENT),
    LABEL_RANGE: Status("Received a label value outside the valid range of [0, classes)", INVALID_ARGUMENT),
    INDEX_RANGE: Status("indices[...] is not in [0, params.shape[axis]): a gather index is out of range",
                        INVALID_ARGUMENT),
    BAD_ARGUMENTS: Status("the native entry needs a list of exactly its argument and output arrays",
                          INVALID_ARGUMENT),
    ARGUMENT_MISMATCH: Status("an argument is not an array of the step's dtype and shape, C-contiguous",
                              INVALID_ARGUMENT),
    PARTLY_FILLED: Status("a TensorArray(dynamic_size=True) was stacked with fewer elements than its loop's "
                          "maximum_iterations allow: lowerflow's native code needs its static size (stop the "
                          "loop at maximum_iterations, or give the TensorArray a static size)", UNIMPLEMENTED),
}
STATUS_MESSAGES: dict[int, str] = {code: s.message for code, s in STATUS.items()}
#: the status each error a "loop.check" names fails the step with (`ir/ops/loop.py` CHECK_ERRORS)
CHECK_STATUS: dict[str, int] = {"label_range": LABEL_RANGE, "empty_range": EMPTY_RANGE, "index_range": INDEX_RANGE,
                                "partly_filled": PARTLY_FILLED}


class NativeError(RuntimeError):
    """A non-zero status from a native step; `code` is the status, `message` its meaning,
    `tf_code` the canonical code of the `tf.errors` class it stands for."""

    def __init__(self, code: int, message: str | None = None):
        self.code = int(code)
        status = STATUS.get(self.code)
        self.tf_code = status.tf_code if status else INTERNAL
        self.message = message or (status.message if status else f"native step failed with status {code}")
        super().__init__(f"{self.message} (status {self.code})")
