"""tf.Session: variable storage, feeds, fetches, and one native executable per run signature.

A run signature is (the unique fetched elements, the fed tensors with their
dtypes and shapes). The first run of a signature lowers the graph slice to IR,
runs the pass pipeline and compiles it; later runs only convert feeds, call
the native `step` once and rebuild the fetch structure. Variable values are
arguments and results of `step`, so a failed run commits nothing.
"""
from __future__ import annotations

import contextlib
import gc
import threading
import time
import weakref
from typing import Any, Callable

import numpy as np

from lowerflow import ir
from lowerflow.backend import NATIVE_STATS, Executable, NativeError, parallel
from lowerflow.backend.compile_cache import CACHE, SingleFlight, max_entries
from lowerflow.backend.errors import ARGUMENT_MISMATCH
from lowerflow.frontend import graph as graph_mod
from lowerflow.frontend.graph import Graph, Operation, Tensor
from lowerflow.frontend.lowering import RunShapeError, Step, UnfedPlaceholderError, lower
from lowerflow.frontend.dynamic_lowering import trimmer
from lowerflow.ir.verifier import verify
from lowerflow.passes import DEFAULT_PIPELINE, PassManager
from lowerflow.runtime import debug, errors, print_host, run_dims, summary_host, tracing
from lowerflow.runtime.config import ConfigProto, debug_level
from lowerflow.runtime.fetch import FetchMapper
from lowerflow.runtime.variable_store import SessionState
from lowerflow.runtime.warm_run import (MISS, ArgumentMismatchError, WarmRun, WarmStatic, cacheable, fetch_key,
                                        queued, timed_call)



def optimise_step(func: ir.Function, pipeline: str) -> tuple[ir.Function, PassManager]:
    """`func` after the pass pipeline, verified, and the manager that ran it (its stats)."""
    module = ir.Module([func])
    # Verify once, after the pipeline: per-pass verification is for developing passes
    # (lowerflow-opt and the pass tests keep it on) and would double a first run's cost.
    pm = PassManager(pipeline, verify_each=False)
    pm.run(module)
    verify(module)
    return module.functions[0], pm


class _Plan:
    """One run signature's compiled step; `call` is the whole warm path of a run."""

    def __init__(self, step: Step, exe: Executable, elements: list, state: SessionState):
        self.exe = exe  # not the step: its lowered IR is not needed once compiled (memory)
        self.reads, self.writes = step.reads, step.writes
        self.store = state.variables
        state.start(step.reads)
        # Where each state op's value lives, resolved once: the owners' live dicts.
        self.sources = [(state.home(op), op) for op in step.reads]
        self.write_homes = [state.home(op) for op in step.writes]
        # State in one owner (no random op, or only random ops): one dict, no pairs to unpack.
        self.read_from = _one_home([home for home, _ in self.sources])
        self.write_into = _one_home(self.write_homes)
        self.locks = state.locks.hold(step.writes)  # held from reading to committing the writes
        self.n_fetches = len(step.fetches)
        self.prints, self.printed_at = step.prints, self.n_fetches + len(step.writes)
        native = {id(t): i for i, t in enumerate(step.fetches)}
        scalar = {i for i, t in enumerate(step.func.result_types[:self.n_fetches]) if not t.shape}
        # A 0-d result is fetched as a numpy scalar (np.float32(30.0)), as TF1 returns it; the
        # native entry makes those of fetched elements itself where it can (`shown`).
        shown = frozenset(native[id(e)] for e in elements if native.get(id(e)) in scalar) \
            if all(isinstance(e, Operation) or id(e) in native for e in elements) else frozenset()
        # When element i is result i for every element, the outputs are the values as they are.
        self.direct = (not shown or exe.returns_scalars(shown)) and (scalar <= shown) \
            and all(native.get(id(e)) == i for i, e in enumerate(elements))
        self.getters: list[Callable[[list, "Session"], Any]] = []
        for e in elements:
            if isinstance(e, Operation):
                self.getters.append(lambda outs, s: None)
            elif id(e) in native:
                i = native[id(e)]
                self.getters.append((lambda i: (lambda outs, s: outs[i][()]) if i in scalar
                                     else (lambda outs, s: outs[i]))(i))
            else:
                self.getters.append((lambda t: lambda outs, s: s._host_value(
                    t, lambda x: outs[native[id(x)]])[()])(e))
        self.finish = self._finisher(elements, native, scalar)
        self.native = exe.unchecked_caller(shown)  # run_unchecked, specialised (executable.py)
        self.shown = shown
        if step.extents:  # fetches cut to their run-time lengths (frontend/dynamic_lowering.py)
            self.native = trimmer(self.native, step.extents, self.printed_at + sum(
                len(op.inputs) - 1 for op in step.prints))
        # The native outputs need no host work besides `finish` (no prints, no run-time lengths
        # to cut, no bound constants): a warm run may call the allocating entry (`warm_run.py`).
        self.bare = not (step.prints or step.extents or exe.n_bound or step.prelude)
        # One state op read and written (a counter, a training step on one variable): no loops.
        self.read_one = step.reads[0] if len(step.reads) == 1 else None
        self.write_one = step.writes[0] if len(step.writes) == 1 else None
        self.fetches_op = len(elements) == 1 and isinstance(elements[0], Operation)  # run(train_op)
        self.short = False  # whether its runs queue on `warm_run.SHORT_RUNS` (`timed_call`)

    def _finisher(self, elements: list, native: dict, scalar: set) -> Callable[[list, "Session"], list]:
        """The fetched values from the outputs; for one element (the usual `run(x)`,
        `run(train_op)`), without a loop."""
        getters = self.getters
        if len(elements) != 1:
            return lambda outs, s: [get(outs, s) for get in getters]
        if isinstance(elements[0], Operation):
            return lambda outs, s: [None]
        i = native.get(id(elements[0]))
        if i is None:
            return lambda outs, s: [getters[0](outs, s)]
        return (lambda outs, s: [outs[i][()]]) if i in scalar else (lambda outs, s: [outs[i]])

    def call(self, sess: "Session", feeds: list[np.ndarray]) -> list:
        """Run natively on `feeds` (in step order); commit variable updates only on success.
        A step that writes state holds its variables' locks from reading to committing, so
        concurrent updates of a variable are never lost (`variable_store.py`)."""
        if self.locks is None:
            outs = self._run(sess, feeds)
        else:
            with self.locks:
                outs = self._run(sess, feeds)
                if self.write_one is not None:
                    self.write_into[self.write_one] = outs[self.n_fetches]
                elif self.write_into is not None:
                    self.write_into.update(zip(self.writes, outs[self.n_fetches:]))
                else:
                    for home, op, value in zip(self.write_homes, self.writes, outs[self.n_fetches:]):
                        home[op] = value
        if self.prints:
            print_host.emit(self.prints, outs[self.printed_at:], sess._print_counts)
        return outs if self.direct else self.finish(outs, sess)

    def _run(self, sess: "Session", feeds: list[np.ndarray]) -> list:
        if self.reads:
            try:
                if self.read_one is not None:
                    feeds = feeds + [self.read_from[self.read_one]]
                elif self.read_from is not None:
                    feeds = feeds + [self.read_from[v] for v in self.reads]
                else:
                    feeds = feeds + [home[v] for home, v in self.sources]
            except KeyError:  # counters always have a value: an uninitialised variable
                feeds = feeds + [self.store.read(v) if home is self.store.values else home[v]
                                 for home, v in self.sources]
        try:
            return self.native(feeds)
        except NativeError as e:
            raise self.error(e.code) from None
        except (MemoryError, ValueError):  # numpy could not allocate the outputs ("array is too big")
            shapes = ", ".join(str(t) for t in self.exe.result_types)
            raise errors.ResourceExhaustedError(None, None, f"OOM when allocating the outputs {shapes}") from None


    @staticmethod
    def error(status: int) -> Exception:
        """The TF1 error of a native step's non-zero `status` (`ArgumentMismatchError`: a warm
        call passed values unchecked, `warm_run.py`)."""
        e = NativeError(status)
        if status == ARGUMENT_MISMATCH:
            return ArgumentMismatchError(None, None, e.message)
        return errors.exception_type_from_error_code(e.tf_code)(None, None, e.message)


def _one_home(homes: list[dict]) -> dict | None:
    """The one dict that all `homes` are; None when they are two."""
    distinct = {id(home): home for home in homes}
    return next(iter(distinct.values())) if len(distinct) == 1 else None


class _TracedPlan(_Plan):
    """A plan whose step also records when each kernel ends (`tracing.py`); a call leaves
    the times in `local.stamps`, per thread."""

    def __init__(self, step: Step, exe: Executable, elements: list, state: SessionState,
                 records: list[tracing.KernelRecord]):
        super().__init__(step, exe, elements, state)
        self.records = records
        self.local = threading.local()

    def _run(self, sess: "Session", feeds: list[np.ndarray]) -> list:
        outs = super()._run(sess, feeds)
        self.local.stamps = outs.pop()
        return outs


class Session:
    """A TF1 session over one graph: runs fetches natively, owns variable values."""

    def __init__(self, target: str = "", graph: Graph | None = None, config: ConfigProto | None = None):
        if graph is not None and not isinstance(graph, Graph):
            raise TypeError(f'Argument `graph` must be a tf.Graph, but got "{type(graph).__name__}"')
        self._graph = graph if graph is not None else graph_mod.get_default_graph()
        self._target = target
        self._config = config if config is not None else ConfigProto()
        pipeline = getattr(self._config, "pipeline", None)
        self._pipeline = DEFAULT_PIPELINE if pipeline is None else pipeline  # "" runs no pass
        self._threads = int(self._config.intra_op_parallelism_threads or 0) or parallel.usable_cores()
        self._state = SessionState()  # variables, run counters and their locks (variable_store.py)
        self._store = self._state.variables  # what Saver and AOT freezing read and restore
        self._plans: dict[tuple, _Plan] = {}
        self._mappers: dict = {}
        self._feed_infos: dict = {}  # feed_dict key -> (tensor, numpy dtype, static dims)
        self._warm: dict = {}  # (fetch key, feed keys) -> WarmRun / WarmStatic (warm_run.py)
        self._planning = SingleFlight()  # a compile blocks only runs of its own signature
        self._closed = False
        self._context_managers: list = []
        self._print_counts: dict = {}  # tf.Print's first_n, per op (runtime/print_host.py)
        # A user of the compile cache until closed (or collected): the last one to go empties it.
        self._cache_user = CACHE.user()
        weakref.finalize(self, self._cache_user).atexit = False  # exiting frees everything anyway
        if debug_level() >= 1:  # LOWERFLOW_DEBUG: time every run (runtime/debug.py)
            self.run = debug.timed_run(self.run)

    graph = property(lambda self: self._graph)
    graph_def = property(lambda self: self._graph)
    sess_str = property(lambda self: self._target)

    # -- lifetime and defaults --
    def close(self) -> None:
        """Free what the session holds: variable values, plans and their code (`compile_cache.py`:
        closing the last open session also empties the process's in-memory code table)."""
        self._closed = True
        self._state.clear()
        self._plans.clear()
        self._mappers.clear()
        self._feed_infos.clear()
        self._warm.clear()
        self._cache_user()

    def as_default(self):
        return graph_mod.default_session(self)

    def __enter__(self):
        if self._context_managers:
            raise RuntimeError("Session context managers are not re-entrant. Use `Session.as_default()` "
                               "if you want to enter a session multiple times.")
        stack = contextlib.ExitStack()
        stack.enter_context(self._graph.as_default())
        stack.enter_context(self.as_default())
        self._context_managers.append(stack)
        return self

    def __exit__(self, exc_type, exc, tb):
        self._context_managers.pop().close()
        self.close()

    # -- running --
    def run(self, fetches, feed_dict=None, options=None, run_metadata=None):
        """Run the graph slice `fetches` need, with `feed_dict` overriding tensor values.
        A structure and feed keys run before take the warm path (`warm_run.py`)."""
        try:
            warm = self._warm[fetches if type(fetches) is not list else tuple(fetches),
                              tuple(feed_dict) if type(feed_dict) is dict else feed_dict]
        except (KeyError, TypeError):
            warm = None
        if warm is not None and type(fetches) is warm.kind and run_metadata is None and not self._closed:
            # the dict itself: its values are the feeds, in key order
            out = queued(warm, self, feed_dict) if warm.short else warm(self, feed_dict)
            if out is not MISS:
                return out
        return self._run_cold(fetches, feed_dict, options, run_metadata)

    def _run_cold(self, fetches, feed_dict, options, run_metadata):
        """`run` resolving, converting and checking everything; remembers the warm path."""
        if self._closed:
            raise RuntimeError("Attempted to use a closed Session.")
        if run_metadata is not None and getattr(options, "trace_level", 0):
            return self._run_traced(fetches, feed_dict, run_metadata)
        mapper = self._mapper(fetches)
        fed = self._sorted_feeds(feed_dict) if feed_dict else []
        plan = self._plan_for(mapper, tuple(fed))
        outs = timed_call(plan, self, [a for _, a in fed])
        self._remember_warm(fetches, feed_dict, mapper, fed, plan)
        return mapper.build(outs)

    def _remember_warm(self, fetches, feed_dict, mapper: FetchMapper, fed: list, plan: _Plan) -> None:
        """Make (or extend) the warm run of these fetches and feed keys, where its key can
        only ever mean this structure and these tensors."""
        if not cacheable(fetches) or (feed_dict is not None and type(feed_dict) is not dict):
            return
        keys = tuple(feed_dict) if feed_dict is not None else None
        if keys and (len(fed) != len(keys) or any(type(k) is tuple for k in keys)):
            return  # tuple keys, or two keys naming one tensor
        try:
            key = (fetch_key(fetches), keys)
            warm = self._warm.get(key)
        except TypeError:
            return
        if warm is None:
            if len(self._warm) >= max_entries():  # the bound of code held (compile_cache.py)
                self._warm.clear()
            # One fetched tensor or op: its value is the first of the plan's (no rebuilding).
            build = None if isinstance(fetches, (Tensor, Operation)) else mapper.build
            if not keys:
                self._warm[key] = WarmStatic(type(fetches), build, plan)
                return
            tensors = [self._feed_key(k) for k in keys]
            step_order = sorted(range(len(keys)), key=lambda i: (tensors[i].op._id, tensors[i].value_index))
            warm = self._warm[key] = WarmRun(type(fetches), build, tensors, step_order, max_entries())
        if keys:
            by_tensor = {id(t): a for t, a in fed}
            warm.add([by_tensor[id(t)] for t in warm.tensors], plan)

    def _run_traced(self, fetches, feed_dict, run_metadata):
        """`run` through the traced twin of the step; its kernel times replace `run_metadata`
        (as TF1 overwrites it), as one NodeExecStats per kernel."""
        mapper = self._mapper(fetches)
        fed = tuple(self._sorted_feeds(feed_dict)) if feed_dict else ()
        plan = self._plan_for(mapper, fed, trace=True)
        values = plan.call(self, [a for _, a in fed])
        run_metadata.Clear()
        tracing.fill_step_stats(run_metadata.step_stats, plan.records, plan.local.stamps)
        return mapper.build(values)

    def _sorted_feeds(self, feed_dict) -> list[tuple[Tensor, np.ndarray]]:
        """(tensor, array) feeds in the order the step takes them."""
        fed = self._feeds(feed_dict)
        if len(fed) > 1:
            fed.sort(key=lambda kv: (kv[0].op._id, kv[0].value_index))
        return fed

    def make_callable(self, fetches, feed_list=None, accept_options: bool = False):
        """A function of the feed values (in `feed_list` order) that runs `fetches`.

        Feed conversion is the only per-call work: the warm run of these fetches
        (`warm_run.py`) keeps the plan of each combination of feed shapes and the order its
        step wants the feeds in.
        """
        self._check_open()
        mapper = FetchMapper(self._graph, fetches)
        feed_tensors = [self._feed_key(k) for k in (feed_list or [])]
        order = sorted(range(len(feed_tensors)), key=lambda i: (feed_tensors[i].op._id, feed_tensors[i].value_index))
        build = None if isinstance(fetches, (Tensor, Operation)) else mapper.build  # as in `_remember_warm`
        warm = WarmRun(type(fetches), build, feed_tensors, order, max_entries())
        static: list[WarmStatic] = []  # no feeds: the one plan
        n_feeds = len(feed_tensors)

        def run_callable(*values, options=None, run_metadata=None):
            if self._closed:
                raise errors.CancelledError(None, None, "Session has been closed.")
            if len(values) != n_feeds:
                raise TypeError(f"Expected {n_feeds} feed values, got {len(values)}")
            if run_metadata is not None and getattr(options, "trace_level", 0):
                return self._run_traced(fetches, dict(zip(feed_tensors, values)), run_metadata)
            if not values:
                if not static:
                    plan = self._plan_for(mapper, ())
                    outs = timed_call(plan, self, [])
                    static.append(WarmStatic(type(fetches), build, plan))
                    return mapper.build(outs)
                return queued(static[0], self, None)
            out = queued(warm, self, list(values))
            if out is MISS:  # feed shapes not seen yet: check them, find or compile the plan
                arrays = [self._feed_value(t, v) for t, v in zip(feed_tensors, values)]
                warm.add(arrays, self._plan_for(mapper, tuple(sorted(
                    zip(feed_tensors, arrays), key=lambda ta: (ta[0].op._id, ta[0].value_index)))))
                out = warm(self, arrays)
            return out

        return run_callable

    def _mapper(self, fetches) -> FetchMapper:
        """Fetch mappers are remembered per fetch structure whose key can mean only it
        (`warm_run.cacheable`: a namedtuple equals the plain tuple of its fields): names and
        graph elements never change meaning, so the same fetches always map the same way."""
        self._check_open()
        if not cacheable(fetches):
            return FetchMapper(self._graph, fetches)
        try:
            key = (type(fetches), fetch_key(fetches))
            return self._mappers[key]
        except TypeError:  # unhashable leaves
            return FetchMapper(self._graph, fetches)
        except KeyError:
            if len(self._mappers) > 4096:
                self._mappers.clear()
            mapper = self._mappers[key] = FetchMapper(self._graph, fetches)
            return mapper

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("Attempted to use a closed Session.")
        if self._graph.version == 0:
            raise RuntimeError("The Session graph is empty.  Add operations to the graph before calling run().")

    def _plan_for(self, mapper: FetchMapper, fed: tuple, trace: bool = False) -> _Plan:
        """The compiled plan of this run signature: fetched elements + fed dtypes and shapes
        (`trace`: the plan of its traced twin)."""
        key = (mapper.key, tuple((id(t), a.dtype.char, a.shape) for t, a in fed))
        if trace:
            key += ("trace",)
        plan = self._plans.get(key)
        if plan is None:
            plan = self._planning.run(key, lambda: self._plans.get(key),
                                      lambda: self._add_plan(key, mapper, fed, trace))
        return plan

    def _add_plan(self, key: tuple, mapper: FetchMapper, fed: tuple, trace: bool) -> _Plan:
        """Make and remember a plan; a session keeps at most `max_entries()` of them (the
        oldest go first: each holds native code, and every new feed shape is a new plan).
        The garbage of making it (IR graphs, llvmlite modules: reference cycles, ~0.4 MB for
        a tiny graph) is collected while it is young (~0.7 ms after a compile, 0.05 ms after a
        cached one): left to age into the oldest generation, the garbage of many plans piles
        up, and the allocator arenas it grew stay pinned by a few live objects once it is freed
        (`bench/soak.py`: +4 MB of RSS after every session closed)."""
        plan = self._plans[key] = self._plan(mapper.elements, fed, trace)
        while len(self._plans) > max_entries():
            self._plans.pop(next(iter(self._plans)), None)
            self._warm.clear()  # warm runs hold plans too: let the evicted one's code go
        gc.collect(1)
        return plan

    def _plan(self, elements: list, fed: tuple, trace: bool = False) -> _Plan:
        tensors = summary_host.leaves([e for e in elements if isinstance(e, Tensor)])
        targets = [e for e in elements if isinstance(e, Operation)]
        feeds = {t: ir.TensorType(a.shape, t.dtype.ir) for t, a in fed}
        times = [time.perf_counter()]
        try:
            step = lower(tensors, targets, feeds)
        except (UnfedPlaceholderError, RunShapeError) as e:
            raise errors.InvalidArgumentError(None, None, str(e)) from None
        except NotImplementedError as e:
            raise errors.UnimplementedError(None, None, str(e)) from None
        times.append(time.perf_counter())
        func, pm = optimise_step(step.func, self._pipeline)
        times.append(time.perf_counter())
        before = dict(NATIVE_STATS)
        exe = CACHE.executable(func, threads=self._threads, trace=trace)
        times.append(time.perf_counter())
        level = debug_level()
        if level:
            source = "compiled" if NATIVE_STATS["compiles"] > before["compiles"] else \
                "disk cache" if NATIVE_STATS["cache_hits"] > before["cache_hits"] else "shared executable"
            debug.compiled(level, func, pm, exe, times, source)
        if step.prelude is not None:  # results sized by fed values: the shape prelude first
            if trace:
                raise errors.UnimplementedError(None, None, "tracing a step with results sized by fed values")
            prelude = CACHE.executable(optimise_step(step.prelude.func, self._pipeline)[0], threads=1)
            plan = _Plan(step, exe, elements, self._state)
            plan.native = run_dims.caller(step.prelude, prelude.unchecked_caller(), exe, func, len(step.feeds))
            return plan
        if trace:
            return _TracedPlan(step, exe, elements, self._state, tracing.kernel_records(func, self._graph))
        return _Plan(step, exe, elements, self._state)

    # -- session state --
    def _host_value(self, t: Tensor, native_value: Callable[[Tensor], np.ndarray]) -> np.ndarray:
        """Session-state queries the runtime answers itself (no computation involved), and
        summaries serialised from the values the step computed (`summary_host.py`)."""
        if summary_host.is_host_computed(t):
            return summary_host.host_value(t, native_value)
        refs = [i.op for i in t.op.inputs]
        if t.op.type == "IsVariableInitialized":
            return np.array(self._store.initialized(refs[0]))
        return np.array([r.name.encode() for r in refs if not self._store.initialized(r)], dtype=object)

    # -- feeds --
    def _feeds(self, feed_dict) -> list[tuple[Tensor, np.ndarray]]:
        """(tensor, array) per fed tensor; a key that is a tuple of tensors takes a tuple of
        values, as in TF1."""
        try:
            items = feed_dict.items()
        except AttributeError:
            raise TypeError(f"feed_dict must be a dictionary or collections.Mapping type object, "
                            f"instead of {type(feed_dict).__name__!r}.") from None
        try:
            return [self._feed(k, v) for k, v in items]
        except TypeError:
            if not any(type(k) is tuple for k in feed_dict):
                raise
        return [self._feed(k, v) for k, v in _flat_feeds(feed_dict)]

    def _feed(self, key, value) -> tuple[Tensor, np.ndarray]:
        """(tensor, array) for one feed_dict entry. An ndarray that already has the tensor's
        dtype and layout only needs its shape checked against the (cached) static dims."""
        try:
            t, np_dtype, dims = self._feed_infos[key]
        except (KeyError, TypeError):
            t = self._feed_key(key)
            dims = t.shape.as_tuple()
            t, np_dtype, dims = info = (t, np.dtype(t.dtype.as_numpy_dtype), dims)
            if len(self._feed_infos) < 4096:
                self._feed_infos[key] = info
        if type(value) is float or type(value) is np.ndarray and value.dtype != np_dtype:
            value = np.asarray(value, np_dtype)  # conversions that need none of the checks below
        if type(value) is np.ndarray and value.dtype == np_dtype and value.flags.c_contiguous \
                and (dims is None or len(dims) == value.ndim
                     and all(d is None or d == n for d, n in zip(dims, value.shape))):
            return t, value
        return t, self._feed_value(t, value)

    def _feed_key(self, key) -> Tensor:
        try:
            return self._graph.as_graph_element(key, allow_tensor=True, allow_operation=False)
        except (TypeError, ValueError, KeyError) as e:
            raise TypeError(f"Cannot interpret feed_dict key as Tensor: {e}") from None

    def _feed_value(self, t: Tensor, value) -> np.ndarray:
        if isinstance(value, (Tensor, Operation)):
            raise TypeError("The value of a feed cannot be a tf.Tensor object. Acceptable feed values "
                            "include Python scalars, strings, lists, numpy ndarrays, or TensorHandles.")
        np_dtype = t.dtype.as_numpy_dtype
        if isinstance(value, int) and not isinstance(value, bool):
            if np.asarray(value).astype(np_dtype) != value:
                raise TypeError(f"Type of feed value {value} with type {type(value)} is not compatible "
                                f"with Tensor type {t.dtype!r}. Try explicitly setting the type of the "
                                f"feed tensor to a larger type (e.g. int64).")
        try:
            arr = np.asarray(value, dtype=np_dtype)
        except (TypeError, ValueError, OverflowError) as e:  # TF1 raises numpy's class
            raise type(e)(f"Cannot feed value {value!r} for Tensor {t.name!r} of dtype "
                          f"{t.dtype.name}: {e}") from None
        if not t.shape.is_compatible_with(arr.shape):
            raise ValueError(f"Cannot feed value of shape {arr.shape!r} for Tensor {t.name!r}, "
                             f"which has shape {str(t.shape)!r}")
        return np.require(arr, requirements="C")



def _flat_feeds(feed_dict) -> list[tuple]:
    """feed_dict items with tuple keys of tensors matched up with their tuple values."""
    out = []
    for key, value in feed_dict.items():
        if type(key) is not tuple:
            out.append((key, value))
            continue
        if not isinstance(value, (tuple, list)) or len(value) != len(key):
            raise ValueError(f"The feed for the tuple key {key!r} must be a sequence of {len(key)} values, "
                             f"got {value!r}")
        out.extend(zip(key, value))
    return out


class InteractiveSession(Session):
    """A Session that installs itself (and its graph) as the default on construction."""

    def __init__(self, target: str = "", graph: Graph | None = None, config: ConfigProto | None = None):
        super().__init__(target, graph, config)
        self.__enter__()
        self._interactive = True

    def close(self) -> None:
        if getattr(self, "_interactive", False) and self._context_managers:
            self._context_managers.pop().close()
        super().close()

    def __exit__(self, exc_type, exc, tb):
        self.close()
