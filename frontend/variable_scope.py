"""TF1 variable sharing: `tf.variable_scope`, `tf.get_variable`, `tf.get_variable_scope`,
`tf.AUTO_REUSE` (cf. TF1's ops/variable_scope.py, whose rules this follows).

Each graph holds a variable store (full name -> Variable, filled only by
`get_variable`) and a per-thread current VariableScope. A scope names variables
(`outer/inner/w`) independently of name scopes; entering a scope by name also
opens a name scope for the ops inside (`outer_1/...` on re-entry), entering a
VariableScope object reopens its variable names. `reuse` is inherited by inner
scopes and can only be turned on (False means "inherit"): with reuse a variable
must exist, without it it must not, and AUTO_REUSE creates or reuses.
"""
from __future__ import annotations

import contextlib
import enum
import threading

from lowerflow.frontend import dtypes
from lowerflow.frontend.core_ops import convert_to_tensor
from lowerflow.frontend.graph import Graph, get_default_graph
from lowerflow.frontend.init_ops import GlorotUniform, Zeros
from lowerflow.frontend.tensor_shape import as_shape
from lowerflow.frontend.variables import Variable

REGULARIZATION_LOSSES = "regularization_losses"
_STORE_KEY, _SCOPE_KEY = "__variable_store", "__varscope"


class _ReuseMode(enum.Enum):
    AUTO_REUSE = 1


AUTO_REUSE = _ReuseMode.AUTO_REUSE


class VariableScope:
    """The scope `get_variable` names and looks up variables in, with its defaults."""

    def __init__(self, reuse, name: str = "", initializer=None, regularizer=None,
                 name_scope: str = "", dtype=dtypes.float32):
        self._reuse = reuse
        self._name = name
        self._initializer = initializer
        self._regularizer = regularizer
        self._name_scope = name_scope
        self._dtype = dtypes.as_dtype(dtype)

    name = property(lambda self: self._name)
    original_name_scope = property(lambda self: self._name_scope)
    reuse = property(lambda self: self._reuse)
    initializer = property(lambda self: self._initializer)
    regularizer = property(lambda self: self._regularizer)
    dtype = property(lambda self: self._dtype)

    def reuse_variables(self) -> None:
        """Reuse variables from here on (TF1 has no way back)."""
        self._reuse = True

    def set_initializer(self, initializer) -> None:
        self._initializer = initializer

    def set_regularizer(self, regularizer) -> None:
        self._regularizer = regularizer

    def set_dtype(self, dtype) -> None:
        self._dtype = dtypes.as_dtype(dtype)

    def get_variable(self, var_store: _VariableStore, name: str, shape=None, dtype=None,
                     initializer=None, regularizer=None, reuse=None, trainable=None, collections=None,
                     validate_shape: bool = True) -> Variable:
        """The variable `<scope>/<name>`, created or reused under this scope's rules."""
        full_name = f"{self._name}/{name}" if self._name else name
        if dtype is not None and initializer is not None and not callable(initializer):
            init_dtype = convert_to_tensor(initializer).dtype
            if init_dtype is not dtypes.as_dtype(dtype):
                raise ValueError(f"Initializer type '{init_dtype!r}' and explicit dtype "
                                 f"'{dtypes.as_dtype(dtype)!r}' don't match.")
        with get_default_graph().name_scope(None):  # variable names ignore name scopes
            return var_store.get_variable(
                full_name, shape, _default(dtype, self._dtype), _default(initializer, self._initializer),
                _default(regularizer, self._regularizer), _default(reuse, self._reuse),
                _default(trainable, True), collections, validate_shape)

    def __repr__(self) -> str:
        return f"<tf.VariableScope '{self._name}' reuse={self._reuse}>"


def _default(value, default):
    return default if value is None else value


class _VariableStore:
    """The variables `get_variable` made in one graph, by full name."""

    def __init__(self):
        self.vars: dict[str, Variable] = {}

    def get_variable(self, name: str, shape, dtype, initializer, regularizer, reuse, trainable,
                     collections, validate_shape: bool) -> Variable:
        from_value = initializer is not None and not callable(initializer)
        if shape is not None and from_value:
            raise ValueError("If initializer is a constant, do not specify shape.")
        dtype, shape = dtypes.as_dtype(dtype), as_shape(shape)
        found = self.vars.get(name)
        if found is not None:
            if reuse is False:
                raise ValueError(f"Variable {name} already exists, disallowed. Did you mean to set "
                                 "reuse=True or reuse=tf.AUTO_REUSE in VarScope?")
            if not shape.is_compatible_with(found.shape):
                raise ValueError(f"Trying to share variable {name}, but specified shape {shape} "
                                 f"and found shape {found.shape}.")
            if found.dtype is not dtype:
                raise ValueError(f"Trying to share variable {name}, but specified dtype "
                                 f"{dtype.name} and found dtype {found.dtype.name}.")
            return found
        if reuse is True:
            raise ValueError(f"Variable {name} does not exist, or was not created with "
                             "tf.get_variable(). Did you mean to set reuse=tf.AUTO_REUSE in VarScope?")
        if from_value:
            init_val, init_dtype = initializer, None
        else:
            if not shape.is_fully_defined():
                raise ValueError(f"Shape of a new variable ({name}) must be fully defined, but "
                                 f"instead was {shape}.")
            if initializer is None:
                initializer = _default_initializer(name, dtype)
            if isinstance(initializer, type):
                initializer = initializer()
            init_val, init_dtype = (lambda: initializer(shape.as_list(), dtype=dtype)), dtype
        var = Variable(init_val, trainable=trainable, collections=collections, name=name,
                       dtype=init_dtype, validate_shape=validate_shape)
        self.vars[name] = var
        if regularizer:
            with get_default_graph().name_scope(name + "/Regularizer/"):
                loss = regularizer(var)
            if loss is not None:
                get_default_graph().add_to_collection(REGULARIZATION_LOSSES, loss)
        return var


def _default_initializer(name: str, dtype: dtypes.DType):
    """Glorot-uniform for floats, zeros for integers and bools (TF1's defaults)."""
    if dtype.is_floating:
        return GlorotUniform()
    if dtype.ir is not None:
        return Zeros()
    raise ValueError(f"An initializer for variable {name} of {dtype!r} is required")


class _ScopeStore(threading.local):
    """One graph's current variable scope (per thread) and how often each name was opened."""

    def __init__(self):
        self.current = VariableScope(False)
        self.counts: dict[str, int] = {}

    def open(self, name: str) -> None:
        self.counts[name] = self.counts.get(name, 0) + 1

    def close_subscopes(self, name: str) -> None:
        for k in self.counts:
            if k.startswith(name + "/"):
                self.counts[k] = 0


def _singleton(graph: Graph, key: str, make):
    items = graph.get_collection_ref(key)
    if not items:
        items.append(make())
    return items[0]


def _var_store(graph: Graph) -> _VariableStore:
    return _singleton(graph, _STORE_KEY, _VariableStore)


def _scope_store(graph: Graph) -> _ScopeStore:
    return _singleton(graph, _SCOPE_KEY, _ScopeStore)


def get_variable_scope() -> VariableScope:
    """The current VariableScope of the default graph."""
    return _scope_store(get_default_graph()).current


def get_variable(name: str, shape=None, dtype=None, initializer=None, regularizer=None,
                 trainable=None, collections=None, caching_device=None, partitioner=None,
                 validate_shape: bool = True, use_resource=None, custom_getter=None, constraint=None,
                 synchronization=None, aggregation=None) -> Variable:
    """tf.get_variable: `<current scope>/name`, created with `initializer` or reused."""
    if partitioner is not None or custom_getter is not None:
        raise NotImplementedError("get_variable: partitioners and custom getters are not supported")
    graph = get_default_graph()
    return get_variable_scope().get_variable(
        _var_store(graph), name, shape, dtype, initializer, regularizer, None, trainable,
        collections, validate_shape)


def _unique_scope_name(store: _ScopeStore, prefix: str) -> str:
    """`prefix`, or `prefix_N` with the first N not opened yet in the current scope."""
    base = f"{store.current.name}/{prefix}" if store.current.name else prefix
    if not store.counts.get(base):
        return prefix
    idx = 1
    while store.counts.get(f"{base}_{idx}"):
        idx += 1
    return f"{prefix}_{idx}"


@contextlib.contextmanager
def variable_scope(name_or_scope, default_name: str | None = None, values=None, initializer=None,
                   regularizer=None, caching_device=None, partitioner=None, custom_getter=None,
                   reuse=None, dtype=None, use_resource=None, constraint=None,
                   auxiliary_name_scope: bool = True):
    """Open a variable scope (and, by default, a name scope of the same name)."""
    if default_name is None and name_or_scope is None:
        raise TypeError("If default_name is None then name_or_scope is required")
    if not (reuse is True or reuse is False or reuse is None or reuse is AUTO_REUSE):
        raise ValueError("The reuse parameter must be True or False or None.")
    if partitioner is not None or custom_getter is not None:
        raise NotImplementedError("variable_scope: partitioners and custom getters are not supported")
    if name_or_scope is not None and not isinstance(name_or_scope, (str, VariableScope)):
        raise TypeError("VariableScope: name_or_scope must be a string or VariableScope.")
    if name_or_scope is None and reuse:
        raise ValueError("reuse=True cannot be used without a name_or_scope")
    graph = get_default_graph()
    store = _scope_store(graph)
    reuse = reuse or None  # False means inherit: no scope can turn reuse off
    if isinstance(name_or_scope, VariableScope):
        ns_name = name_or_scope.name.split("/")[-1]
    else:
        ns_name = name_or_scope if name_or_scope is not None else default_name
    with contextlib.ExitStack() as stack:
        if not auxiliary_name_scope:
            current = graph.get_name_scope()
            ns = stack.enter_context(graph.name_scope(current + "/" if current else None))
        elif ns_name:
            ns = stack.enter_context(graph.name_scope(ns_name))
        else:
            ns = ""
        old = store.current
        if isinstance(name_or_scope, VariableScope):
            src = name_or_scope
            name, name_scope = src.name, src.original_name_scope
            scope = VariableScope(reuse or src.reuse, name, src.initializer, src.regularizer,
                                  name_scope, src.dtype)
        else:
            local = name_or_scope if name_or_scope is not None else _unique_scope_name(store, default_name)
            name = f"{old.name}/{local}" if old.name else local
            scope = VariableScope(reuse or old.reuse, name, old.initializer, old.regularizer, ns,
                                  old.dtype)
        for setter, value in ((scope.set_initializer, initializer), (scope.set_regularizer, regularizer),
                              (scope.set_dtype, dtype)):
            if value is not None:
                setter(value)
        store.open(name)
        counts = dict(store.counts)
        store.current = scope
        try:
            yield scope
        finally:
            store.current = old
            if isinstance(name_or_scope, VariableScope):
                store.counts = counts
            else:
                store.close_subscopes(name)
