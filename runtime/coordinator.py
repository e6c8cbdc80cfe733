"""tf.train.Coordinator: TF1's stop flag shared by a program's threads (cf. TF1's
coordinator.py). With no queue runners in lowerflow, TF1 tutorials use it as a helper
around their loop: `while not coord.should_stop()`, `request_stop()`, `join(threads)`.

`request_stop(ex)` records the first exception (not one of `clean_stop_exception_types`,
default OutOfRangeError); `join` waits for the threads and re-raises it.
"""
from __future__ import annotations

import contextlib
import sys
import threading
import time

from lowerflow.runtime import errors


class Coordinator:
    """A stop request shared by threads, and the first exception that caused one."""

    def __init__(self, clean_stop_exception_types=None):
        if clean_stop_exception_types is None:
            clean_stop_exception_types = (errors.OutOfRangeError,)
        self._clean_stop_exception_types = tuple(clean_stop_exception_types)
        self._lock = threading.Lock()
        self._stop_event = threading.Event()
        self._exc_info = None
        self._registered_threads: set = set()
        self._joined = False

    def request_stop(self, ex=None) -> None:
        """Ask every thread to stop; `ex` (an exception or exc_info triple) is re-raised by join."""
        with self._lock:
            if ex is not None and self._exc_info is None and not self._is_clean(ex):
                self._exc_info = ex if isinstance(ex, tuple) else (type(ex), ex, ex.__traceback__)
            self._stop_event.set()

    def _is_clean(self, ex) -> bool:
        value = ex[1] if isinstance(ex, tuple) else ex
        return isinstance(value, self._clean_stop_exception_types)

    def clear_stop(self) -> None:
        with self._lock:
            self._joined, self._exc_info = False, None
            self._stop_event.clear()

    def should_stop(self) -> bool:
        return self._stop_event.is_set()

    @contextlib.contextmanager
    def stop_on_exception(self):
        """Within it, an exception requests a stop (and is kept for join) instead of propagating."""
        try:
            yield
        except:  # noqa: E722  (TF1 catches everything here)
            self.request_stop(ex=sys.exc_info())

    def wait_for_stop(self, timeout: float | None = None) -> bool:
        return self._stop_event.wait(timeout)

    def register_thread(self, thread: threading.Thread) -> None:
        with self._lock:
            self._registered_threads.add(thread)

    def join(self, threads=None, stop_grace_period_secs: float = 120, ignore_live_threads: bool = False) -> None:
        """Wait for `threads` (and registered ones) after a stop, then re-raise a recorded exception."""
        threads = set(threads or ()) | self._registered_threads
        while any(t.is_alive() for t in threads) and not self.wait_for_stop(1.0):
            pass
        deadline = time.monotonic() + stop_grace_period_secs
        for t in threads:
            t.join(max(0.0, deadline - time.monotonic()))
        alive = [t.name for t in threads if t.is_alive()]
        with self._lock:
            self._joined = True
            self._registered_threads = set()
            if self._exc_info:
                _, value, tb = self._exc_info
                raise value.with_traceback(tb)
        if alive and not ignore_live_threads:
            raise RuntimeError(f"Coordinator stopped with threads still running: {' '.join(alive)}")

    @property
    def joined(self) -> bool:
        return self._joined

    def raise_requested_exception(self) -> None:
        with self._lock:
            if self._exc_info:
                _, value, tb = self._exc_info
                raise value.with_traceback(tb)
