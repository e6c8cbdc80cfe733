"""Status codes returned by the native step, and the exception that carries them.

The step function returns 0 on success and one of these codes otherwise (cf. XLA's
`Status`, TF1's `tf.errors`): native code cannot raise, so it reports and stops. The
runtime maps the code to a `tf.errors` class; `Executable.run` raises `NativeError`.
Codes are part of the ABI of objects written for ahead-of-time use: only append.
"""
from __future__ import annotations

OK = 0
INT_DIV_BY_ZERO = 1
OUT_OF_MEMORY = 2

STATUS_MESSAGES: dict[int, str] = {
    INT_DIV_BY_ZERO: "Integer division by zero",
    OUT_OF_MEMORY: "Out of memory allocating temporary buffers",
}


class NativeError(RuntimeError):
    """A non-zero status from a native step; `code` is the status, `message` its meaning."""

    def __init__(self, code: int, message: str | None = None):
        self.code = int(code)
        self.message = message or STATUS_MESSAGES.get(self.code, f"native step failed with status {code}")
        super().__init__(f"{self.message} (status {self.code})")
