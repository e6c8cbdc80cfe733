"""Graph, Operation and Tensor: TF1's dataflow graph as plain data (cf. TF's framework/ops.py).

A Graph holds Operations in creation order; each Operation has a TF1 type
("AddV2", "Placeholder", ...), input Tensors, control inputs, attributes and
output Tensors with static shapes. Nothing here computes values: a Session
lowers the slice it needs to IR. The thread-local default-graph and
default-session stacks live here, as in TF1.
"""
from __future__ import annotations

import contextlib
import re
import threading

from lowerflow.frontend import dtypes
from lowerflow.frontend.tensor_shape import TensorShape, as_shape

_VALID_NAME = re.compile(r"^[A-Za-z0-9.][A-Za-z0-9_.\-/>]*$")


class Tensor:
    """A symbolic output of an Operation: `name` is "op_name:index"."""

    __array_priority__ = 100  # so numpy defers `ndarray + tensor` to Tensor.__radd__

    def __init__(self, op: "Operation", value_index: int, dtype: dtypes.DType, shape: TensorShape):
        self._op = op
        self._value_index = value_index
        self._dtype = dtype
        self._shape = shape

    op = property(lambda self: self._op)
    value_index = property(lambda self: self._value_index)
    dtype = property(lambda self: self._dtype)
    graph = property(lambda self: self._op.graph)
    name = property(lambda self: f"{self._op.name}:{self._value_index}")
    shape = property(lambda self: self._shape)
    device = property(lambda self: "")

    def get_shape(self) -> TensorShape:
        return self._shape

    def set_shape(self, shape) -> None:
        self._shape = self._shape.merge_with(as_shape(shape))

    def consumers(self) -> list:
        return [op for op in self.graph.get_operations() if self in op.inputs]

    def eval(self, feed_dict=None, session=None):
        """The tensor's value in `session` (default: the default session)."""
        return _session_for(self.graph, session).run(self, feed_dict)

    def __repr__(self):
        return f"<tf.Tensor '{self.name}' shape={self._shape} dtype={self._dtype.name}>"

    # Hashing and == stay object identity, at C speed (no __eq__ or __hash__ here): a run
    # looks tensors up in dicts several times, and TF1's Tensor compares by identity too.

    def __bool__(self):
        raise TypeError("Using a `tf.Tensor` as a Python `bool` is not allowed. "
                        "Use `if t is not None:` instead of `if t:` to test if a tensor is defined.")

    def __iter__(self):
        raise TypeError("'Tensor' object is not iterable.")

    def __len__(self):
        raise TypeError("len is not well defined for symbolic Tensors.")


class Operation:
    """A node of the graph. `type` is the TF1 op type; `attrs` hold IR-level attribute values.
    `_branch`: the tf.cond branch or loop function that created it (`control_flow.Branch`)."""

    _branch = None

    def __init__(self, graph: "Graph", op_type: str, name: str, inputs, outputs, attrs, control_inputs):
        self._graph = graph
        self._type = op_type
        self._name = name
        self._inputs = list(inputs)
        self._control_inputs = list(control_inputs)
        self._attrs = dict(attrs)
        self._id = graph._next_id()
        self._gradient_type = graph._ctx.gradient_overrides.get(op_type)  # tf.gradients' rule key
        self._outputs = [Tensor(self, i, dt, sh) for i, (dt, sh) in enumerate(outputs)]

    graph = property(lambda self: self._graph)
    type = property(lambda self: self._type)
    name = property(lambda self: self._name)
    inputs = property(lambda self: tuple(self._inputs))
    outputs = property(lambda self: list(self._outputs))
    control_inputs = property(lambda self: list(self._control_inputs))
    device = property(lambda self: "")

    @property
    def node_def(self):
        return self

    def get_attr(self, name: str):
        """The attribute `name` as TF1's `Operation.get_attr` gives it: read from the op's
        NodeDef as exported (TF's attribute names, e.g. Cast's "DstT"), a type as a
        `tf.DType`, a shape as a `TensorShapeProto`, a tensor as a `TensorProto`, a string
        as bytes. lowerflow's own code reads `ir_attr` instead."""
        from lowerflow.frontend.graph_def import node_attr  # it builds on this module

        return node_attr(self, name)

    def ir_attr(self, name: str):
        """The attribute `name` as lowerflow keeps it: the IR op's attribute (IR element
        types, numpy constants, shape tuples) or a control-flow op's `Branch`."""
        try:
            return self._attrs[name]
        except KeyError:
            raise ValueError(f"Operation '{self._name}' has no attr named '{name}'.") from None

    def _add_control_input(self, op: "Operation") -> None:
        if op not in self._control_inputs:
            self._control_inputs.append(op)

    def run(self, feed_dict=None, session=None) -> None:
        """Run this op in `session` (default: the default session)."""
        _session_for(self.graph, session).run(self, feed_dict)

    def __repr__(self):
        return f"<tf.Operation '{self._name}' type={self._type}>"


class Graph:
    """A TF1 graph: operations, name scopes, control-dependency contexts, collections."""

    def __init__(self):
        self._ops: list[Operation] = []
        self._by_name: dict[str, Operation] = {}
        self._names_in_use: dict[str, int] = {}
        self._collections: dict[str, list] = {}
        self._finalized = False
        self._lock = threading.RLock()
        self._id_counter = 0
        self._local = threading.local()
        self.seed = None

    # -- per-thread construction context (scopes and control dependencies) --
    @property
    def _ctx(self):
        loc = self._local
        if not hasattr(loc, "scope"):
            loc.scope, loc.control, loc.gradient_overrides, loc.cf = "", [], {}, None
        return loc

    def _next_id(self) -> int:
        self._id_counter += 1
        return self._id_counter

    @property
    def version(self) -> int:
        return self._id_counter

    @property
    def finalized(self) -> bool:
        return self._finalized

    def finalize(self) -> None:
        self._finalized = True

    def _unsafe_unfinalize(self) -> None:
        self._finalized = False

    def as_default(self):
        return _default_graph_stack.get_controller(self)

    def as_graph_def(self, from_version=None, add_shapes: bool = False):
        """This graph as TensorFlow's GraphDef proto (`frontend/graph_def.py`)."""
        from lowerflow.frontend.graph_def import as_graph_def  # the exporter builds on the op modules

        return as_graph_def(self, from_version, add_shapes)

    graph_def_versions = property(lambda self: self.as_graph_def().versions)

    def unique_name(self, name: str, mark_as_used: bool = True) -> str:
        """TF1 naming: scope prefix, then `name`, `name_1`, `name_2`, ... on collision."""
        scope = self._ctx.scope
        name = f"{scope}/{name}" if scope else name
        key = name.lower()
        count = self._names_in_use.get(key, 0)
        if mark_as_used:
            self._names_in_use[key] = count + 1
        if count > 0:
            base = name
            while True:
                name = f"{base}_{count}"
                if name.lower() not in self._names_in_use:
                    break
                count += 1
            if mark_as_used:
                self._names_in_use[name.lower()] = 1
        return name

    def get_name_scope(self) -> str:
        return self._ctx.scope

    @contextlib.contextmanager
    def name_scope(self, name):
        """Enter a name scope; a name ending in "/" re-enters an existing scope exactly."""
        ctx = self._ctx
        old = ctx.scope
        if name is None or name == "":
            new = ""
        elif name.endswith("/"):
            new = name[:-1]
        else:
            if not _VALID_NAME.match(name):
                raise ValueError(f"'{name}' is not a valid scope name")
            new = self.unique_name(name)
        ctx.scope = new
        try:
            yield (new + "/") if new else ""
        finally:
            ctx.scope = old

    @contextlib.contextmanager
    def control_dependencies(self, control_inputs):
        """Ops created inside run after `control_inputs`; None clears the context, and, as in
        TF1, the control-flow context too (so a variable made in a loop body is made outside it)."""
        ctx = self._ctx
        old, old_cf = ctx.control, ctx.cf
        if control_inputs is None:
            ctx.control, ctx.cf = [], None
        else:
            ops = []
            for c in control_inputs:
                c = _as_op(c)
                if c is not None:
                    ops.append(c)
            ctx.control = old + ops
        try:
            yield
        finally:
            ctx.control, ctx.cf = old, old_cf

    @contextlib.contextmanager
    def gradient_override_map(self, op_type_map: dict):
        """Ops of the mapped types created inside take their gradient from the rule registered
        (`tf.RegisterGradient`) under the mapped name."""
        if not isinstance(op_type_map, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in op_type_map.items()):
            raise TypeError("op_type_map must be a dictionary mapping strings to strings")
        ctx = self._ctx
        old = ctx.gradient_overrides
        ctx.gradient_overrides = {**old, **op_type_map}
        try:
            yield
        finally:
            ctx.gradient_overrides = old

    @contextlib.contextmanager
    def device(self, name):
        yield

    @contextlib.contextmanager
    def colocate_with(self, op, ignore_existing=False):
        yield

    def create_op(self, op_type: str, inputs, outputs, attrs=None, name=None) -> Operation:
        """Add an operation. `outputs` is a list of (DType, TensorShape)."""
        with self._lock:
            if self._finalized:
                raise RuntimeError("Graph is finalized and cannot be modified.")
            for t in inputs:
                if t.graph is not self:
                    raise ValueError(f"Tensor {t} must be from the same graph as the op being created.")
            if name and name.endswith("/"):  # a scope name: used exactly, as in TF1
                name = name[:-1]
                self._names_in_use.setdefault(name.lower(), 1)
            else:
                name = self.unique_name(name or op_type)
            control = [c for c in self._ctx.control if c.graph is self]
            op = Operation(self, op_type, name, inputs, outputs, attrs or {}, control)
            op._branch = self._ctx.cf
            if op._branch is not None:
                op._branch.ops.append(op)
            self._ops.append(op)
            self._by_name[name] = op
            return op

    def get_operations(self) -> list[Operation]:
        return list(self._ops)

    def get_operation_by_name(self, name: str) -> Operation:
        if not isinstance(name, str):
            raise TypeError(f"Operation names are strings (or similar), not {type(name).__name__}.")
        return self.as_graph_element(name, allow_tensor=False, allow_operation=True)

    def get_tensor_by_name(self, name: str) -> Tensor:
        if not isinstance(name, str):
            raise TypeError(f"Tensor names are strings (or similar), not {type(name).__name__}.")
        return self.as_graph_element(name, allow_tensor=True, allow_operation=False)

    def as_graph_element(self, obj, allow_tensor: bool = True, allow_operation: bool = True):
        """Resolve a Tensor, Operation, Variable-like or name to an element of this graph."""
        if hasattr(obj, "_as_graph_element"):
            obj = obj._as_graph_element()
        if isinstance(obj, bytes):  # TF1 takes names as bytes too (compat.as_str)
            obj = obj.decode()
        if isinstance(obj, str):
            return self._element_by_name(obj, allow_tensor, allow_operation)
        if isinstance(obj, Tensor) and allow_tensor:
            if obj.graph is not self:
                raise ValueError(f"Tensor {obj} is not an element of this graph.")
            return obj
        if isinstance(obj, Operation) and allow_operation:
            if obj.graph is not self:
                raise ValueError(f"Operation {obj} is not an element of this graph.")
            return obj
        kinds = " or ".join(k for k, ok in (("Tensor", allow_tensor), ("Operation", allow_operation)) if ok)
        raise TypeError(f"Can not convert a {type(obj).__name__} into a {kinds}.")

    def _element_by_name(self, name: str, allow_tensor: bool, allow_operation: bool):
        if ":" in name and allow_tensor:
            op_name, _, index = name.partition(":")
            try:
                index = int(index)
            except ValueError:
                raise ValueError(f"The name {name!r} looks a like a Tensor name, but is not a valid one.") from None
            op = self._by_name.get(op_name)
            if op is None:
                raise KeyError(f"The name {name!r} refers to a Tensor which does not exist. "
                               f"The operation, {op_name!r}, does not exist in the graph.")
            if index >= len(op.outputs):
                raise KeyError(f"The name {name!r} refers to a Tensor which does not exist. The operation, "
                               f"{op_name!r}, exists but only has {len(op.outputs)} outputs.")
            return op.outputs[index]
        if ":" not in name and allow_operation:
            if name not in self._by_name:
                raise KeyError(f"The name {name!r} refers to an Operation not in the graph.")
            return self._by_name[name]
        if ":" in name:
            raise ValueError(f"Name {name!r} appears to refer to a Tensor, not a Operation.")
        raise ValueError(f"The name {name!r} looks like an (invalid) Operation name, not a Tensor. "
                         "Tensor names must be of the form \"<op_name>:<output_index>\".")

    # -- collections --
    def add_to_collection(self, name: str, value) -> None:
        self._collections.setdefault(name, []).append(value)

    def add_to_collections(self, names, value) -> None:
        for n in ([names] if isinstance(names, str) else names):
            self.add_to_collection(n, value)

    def get_collection(self, name: str, scope=None) -> list:
        items = list(self._collections.get(name, []))
        if scope is None:
            return items
        pattern = re.compile(scope)
        return [i for i in items if hasattr(i, "name") and pattern.match(i.name)]

    def get_collection_ref(self, name: str) -> list:
        return self._collections.setdefault(name, [])

    def get_all_collection_keys(self) -> list:
        return list(self._collections)

    def clear_collection(self, name: str) -> None:
        self._collections.pop(name, None)

    def is_feedable(self, tensor) -> bool:
        return True

    def is_fetchable(self, tensor_or_op) -> bool:
        return True


def _as_op(x):
    """Control-dependency inputs may be ops, tensors or variables; None entries are dropped."""
    if x is None:
        return None
    if hasattr(x, "_as_graph_element"):
        x = x._as_graph_element()
    if isinstance(x, Tensor):
        return x.op
    if isinstance(x, Operation):
        return x
    raise TypeError(f"Can not convert a {type(x).__name__} into an Operation.")


class _DefaultStack(threading.local):
    """A thread-local stack of defaults (graphs or sessions)."""

    def __init__(self):
        self.stack = []

    def get_default(self):
        return self.stack[-1] if self.stack else None

    @contextlib.contextmanager
    def get_controller(self, obj):
        self.stack.append(obj)
        try:
            yield obj
        finally:
            if self.stack and self.stack[-1] is obj:
                self.stack.pop()
            elif obj in self.stack:
                self.stack.remove(obj)


class _GraphStack(_DefaultStack):
    def __init__(self):
        super().__init__()
        self.global_graph = None

    def get_default(self):
        if self.stack:
            return self.stack[-1]
        if self.global_graph is None:
            self.global_graph = Graph()
        return self.global_graph

    def reset(self):
        if self.stack:
            raise AssertionError("Do not use tf.reset_default_graph() to clear nested graphs. "
                                 "If you need a cleared graph, exit the nesting and create a new graph.")
        self.global_graph = None


_default_graph_stack = _GraphStack()
_default_session_stack = _DefaultStack()


def get_default_graph() -> Graph:
    return _default_graph_stack.get_default()


def reset_default_graph() -> None:
    _default_graph_stack.reset()


def get_default_session():
    """The innermost session entered with `with sess:` or `sess.as_default()` in this thread."""
    return _default_session_stack.get_default()


def default_session(session):
    return _default_session_stack.get_controller(session)


def _session_for(graph: Graph, session):
    session = session or get_default_session()
    if session is None:
        raise ValueError("Cannot evaluate tensor using `eval()`: No default session is registered. "
                         "Use `with sess.as_default()` or pass an explicit session to `eval(session=sess)`")
    if session.graph is not graph:
        raise ValueError("Cannot use the given session to evaluate tensor: the tensor's graph is "
                         "different from the session's graph.")
    return session


def name_scope(name, default_name=None, values=None):
    """`tf.name_scope` on the default graph (or the graph of `values`)."""
    graph = get_default_graph()
    for v in values or ():
        if isinstance(v, (Tensor, Operation)):
            graph = v.graph
            break
    return graph.name_scope(name if name is not None else default_name)


def control_dependencies(control_inputs):
    return get_default_graph().control_dependencies(control_inputs)


def device(name):
    return get_default_graph().device(name)
