"""The implementations a workload runs on: lowerflow and its peers.

lowerflow and TensorFlow share one adapter: the point of the suite is that the very same
TF1 graph code runs on both. numpy runs the workload's hand-written expression eagerly;
JAX runs the same expression under jax.jit. A peer that is not installed reports why and
the suite goes on without it.
"""
from __future__ import annotations

import importlib
import importlib.util
import os
import pkgutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np

from bench.workloads import Workload


class NotApplicable(Exception):
    """This implementation has nothing to measure for this workload (shown as n/a)."""


@dataclass
class Runner:
    """One implementation set up for one workload.

    step: one warm iteration, returning its output (compiling happened in setup or happens
    on the first call). first_run: for mode "first_run", builds a graph no cache has seen
    (from `salt`) and returns the seconds its first run took.
    """

    step: Callable[[], Any] | None = None
    first_run: Callable[[float], float] | None = None
    close: Callable[[], None] = field(default=lambda: None)


class Peer:
    """Base: a named implementation that may be missing from this environment."""

    name = ""
    module = ""
    isolate_first_run = False  # measure first runs in a bench.worker child process

    def __init__(self, threads: int | None = None):
        self.threads = threads

    def unavailable(self) -> str | None:
        """Why this peer cannot run here (None when it can)."""
        if importlib.util.find_spec(self.module.split(".")[0]) is None:
            return "not installed"
        try:
            self.load()
        except Exception as e:  # noqa: BLE001  an installed but broken package: report it
            return f"import failed: {type(e).__name__}: {e}"
        return None

    def load(self):
        return importlib.import_module(self.module)

    def version(self) -> str:
        from importlib.metadata import PackageNotFoundError, version
        try:
            return version(self.module.split(".")[0])
        except PackageNotFoundError:
            return getattr(self.load(), "__version__", "?")

    def prepare(self, wl: Workload, params: dict) -> Runner:
        raise NotImplementedError


class TF1Peer(Peer):
    """A TF1 graph-mode API: one graph and Session per workload, feeds by placeholder."""

    def config(self, tf):
        if self.threads is None:
            return None
        return tf.ConfigProto(intra_op_parallelism_threads=self.threads, inter_op_parallelism_threads=1)

    def _graph(self, tf, wl: Workload, params: dict):
        graph = tf.Graph()
        with graph.as_default():
            build, feeds = wl.graph(tf, **params)
            fetch = build()
            init = tf.global_variables_initializer()
        tensors = [graph.get_tensor_by_name(f"{name}:0") for name in feeds]
        return graph, fetch, init, tensors, list(feeds.values())

    def prepare(self, wl: Workload, params: dict) -> Runner:
        tf = self.load()
        if wl.mode == "first_run":
            return Runner(first_run=partial(self._first_run, tf, wl, params))
        graph, fetch, init, tensors, values = self._graph(tf, wl, params)
        sess = tf.Session(graph=graph, config=self.config(tf))
        sess.run(init)
        if wl.mode == "callable":
            fn = sess.make_callable(fetch, feed_list=tensors)
            return Runner(step=lambda: fn(*values), close=sess.close)
        feed_dict = dict(zip(tensors, values))
        return Runner(step=lambda: sess.run(fetch, feed_dict), close=sess.close)

    def _first_run(self, tf, wl: Workload, params: dict, salt: float) -> float:
        """Session creation + first run; building the Python graph is not counted."""
        graph, fetch, _, tensors, values = self._graph(tf, wl, {**params, "salt": salt})
        start = time.perf_counter()
        sess = tf.Session(graph=graph, config=self.config(tf))
        sess.run(fetch, dict(zip(tensors, values)))
        elapsed = time.perf_counter() - start
        sess.close()
        return elapsed


class Lowerflow(TF1Peer):
    name, module = "lowerflow", "lowerflow"


class TensorFlow(TF1Peer):
    name, module = "tensorflow", "tensorflow.compat.v1"

    def load(self):
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # its INFO lines would garble the table
        tf = importlib.import_module(self.module)
        tf.disable_eager_execution()
        return tf


class Numpy(Peer):
    """The hand-written numpy equivalent, run eagerly (nothing to compile)."""

    name, module = "numpy", "numpy"

    def prepare(self, wl: Workload, params: dict) -> Runner:
        if wl.mode == "first_run":
            raise NotApplicable("nothing to compile")
        return Runner(step=_array_step(wl, params, np, np.asarray, lambda fn: fn, lambda out: out))


#: LLVM's post-register-allocation scheduler (its CriticalAntiDepBreaker) exhausts memory on
#: XLA's fused loop of the 1000-op chain on znver4 (std::bad_alloc in SUnit::ComputeDepth,
#: seen with jax 0.10.2 beyond 8 GiB; 999 ops compile). Turning that one machine pass off
#: lets JAX compile every workload; the instruction selection and the optimiser stay XLA's.
XLA_NO_POST_RA_SCHEDULER = "--xla_backend_extra_options=-post-RA-scheduler=false"


class Jax(Peer):
    """The same expression under jax.jit; `block_until_ready` so that timings are complete."""

    name, module = "jax", "jax"
    isolate_first_run = True  # a compile that exhausts memory kills a child, not the run (bench.worker)

    def load(self):
        os.environ.setdefault("JAX_PLATFORMS", "cpu")  # don't probe for accelerators
        flags = os.environ.get("XLA_FLAGS", "")
        if XLA_NO_POST_RA_SCHEDULER not in flags:
            os.environ["XLA_FLAGS"] = f"{flags} {XLA_NO_POST_RA_SCHEDULER}".strip()
        return importlib.import_module(self.module)

    def version(self) -> str:
        from importlib.metadata import version
        return f"{super().version()} (jaxlib {version('jaxlib')})"

    def prepare(self, wl: Workload, params: dict) -> Runner:
        jax = self.load()
        if wl.mode == "first_run":
            return Runner(first_run=partial(self._first_run, jax, wl, params))
        return Runner(step=_array_step(wl, params, jax.numpy, jax.device_put, jax.jit,
                                       jax.block_until_ready))

    @staticmethod
    def _first_run(jax, wl: Workload, params: dict, salt: float) -> float:
        """Trace + XLA compile + first call of a fresh jitted function."""
        _, feeds = wl.graph(None, **params)
        args = [jax.device_put(a) for a in feeds.values()]
        fn = jax.jit(partial(wl.expr, jax.numpy, **params, salt=salt))
        start = time.perf_counter()
        fn(*args).block_until_ready()
        return time.perf_counter() - start


def _array_step(wl: Workload, params: dict, xp, put: Callable, wrap: Callable,
                sync: Callable) -> Callable[[], Any]:
    """One iteration of `wl.expr` for an array library: numpy (eager) or jax (jit).
    put: host array -> library array; wrap: the function -> what runs (jax.jit);
    sync: waits for the result (jax dispatches asynchronously)."""
    _, feeds = wl.graph(None, **params)
    args = [put(a) for a in [*feeds.values(), *wl.variables(**params).values()]]
    fn = wrap(partial(wl.expr, xp, **params))

    if wl.carry:  # a variable update: the result is the next step's state
        n_feeds = len(feeds)

        def step():
            out = sync(fn(*args))
            args[n_feeds:] = out if isinstance(out, tuple) else (out,)
            return out
        return step
    return lambda: sync(fn(*args))


PEERS: dict[str, type[Peer]] = {"numpy": Numpy, "tensorflow": TensorFlow, "jax": Jax}


def lowerflow_disk_cache() -> str | None:
    """Where lowerflow keeps compiled code on disk, or None when it does not (or it is off).

    Found by looking, not assumed: a lowerflow module whose name says cache. When it has
    `cache_dir()` (lowerflow.backend.cache does: $LOWERFLOW_CACHE_DIR, "off" disables),
    that decides. With a cache, the suite also measures first runs in fresh processes,
    the case a disk cache is for.
    """
    for sub in ("backend", "runtime"):
        pkg = importlib.import_module(f"lowerflow.{sub}")
        for info in pkgutil.iter_modules(pkg.__path__):
            if "cache" not in info.name:
                continue
            name = f"lowerflow.{sub}.{info.name}"
            cache_dir = getattr(importlib.import_module(name), "cache_dir", None)
            if not callable(cache_dir):
                return name
            where = cache_dir()
            return f"{name}, {where}" if where is not None else None
    return None
