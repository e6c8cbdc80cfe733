"""`tf.logging`: TF1's logging helpers over Python's `logging`, on the "tensorflow" logger as
TF1 uses it (so a program's `logging` configuration and TF1's verbosity calls both apply).

As TF1's tf_logging: when the root logger has no handlers, the logger gets one to stderr
with `logging.BASIC_FORMAT` ("INFO:tensorflow:..."); the default verbosity is the logger's
(WARN through the root). `fatal` logs at FATAL (it does not exit, as in TF1).
"""
from __future__ import annotations

import logging as _logging
import sys as _sys
import threading as _threading

DEBUG, INFO, WARN, ERROR, FATAL = _logging.DEBUG, _logging.INFO, _logging.WARN, _logging.ERROR, _logging.FATAL

_lock = _threading.Lock()
_counts: dict = {}


def get_logger() -> _logging.Logger:
    """The "tensorflow" logger, given a stderr handler once if nothing else is configured."""
    logger = _logging.getLogger("tensorflow")
    with _lock:
        if not _logging.getLogger().handlers and not getattr(logger, "_lowerflow_handler", False):
            handler = _logging.StreamHandler(_sys.stderr)
            handler.setFormatter(_logging.Formatter(_logging.BASIC_FORMAT, None))
            logger.addHandler(handler)
            logger._lowerflow_handler = True
    return logger


def log(level: int, msg, *args, **kwargs) -> None:
    get_logger().log(level, msg, *args, **kwargs)


def debug(msg, *args, **kwargs) -> None:
    get_logger().debug(msg, *args, **kwargs)


def info(msg, *args, **kwargs) -> None:
    get_logger().info(msg, *args, **kwargs)


def warning(msg, *args, **kwargs) -> None:
    get_logger().warning(msg, *args, **kwargs)


warn = warning


def error(msg, *args, **kwargs) -> None:
    get_logger().error(msg, *args, **kwargs)


def fatal(msg, *args, **kwargs) -> None:
    get_logger().fatal(msg, *args, **kwargs)


def vlog(level: int, msg, *args, **kwargs) -> None:
    get_logger().log(level, msg, *args, **kwargs)


def log_if(level: int, msg, condition, *args) -> None:
    if condition:
        log(level, msg, *args)


def log_every_n(level: int, msg, n: int, *args) -> None:
    """Log the 1st, (n+1)th, (2n+1)th ... call from this call site."""
    caller = _sys._getframe(1)
    key = (caller.f_code.co_filename, caller.f_lineno)
    count = _counts.get(key, 0)
    _counts[key] = count + 1
    log_if(level, msg, count % n == 0, *args)


def log_first_n(level: int, msg, n: int, *args) -> None:
    """Log only the first n calls from this call site."""
    caller = _sys._getframe(1)
    key = (caller.f_code.co_filename, caller.f_lineno)
    count = _counts.get(key, 0)
    _counts[key] = count + 1
    log_if(level, msg, count < n, *args)


def flush() -> None:
    for handler in get_logger().handlers:
        handler.flush()


def get_verbosity() -> int:
    return get_logger().getEffectiveLevel()


def set_verbosity(v: int) -> None:
    get_logger().setLevel(v)
