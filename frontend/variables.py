"""TF1 reference Variables and the state ops (assign, assign_add, assign_sub).

A Variable is a "VariableV2" op (its output is the variable's reference), an
"Assign" initializer and a "read" Identity snapshot, named exactly as TF1 names
them (`foo`, `foo/Assign`, `foo/read`, `foo/initial_value`). Values live in a
Session's variable store, never in the graph.
"""
from __future__ import annotations

from lowerflow.frontend import dtypes
from lowerflow.frontend.core_ops import convert_to_tensor, group, identity, no_op
from lowerflow.frontend.graph import Operation, Tensor, _session_for, get_default_graph

GLOBAL_VARIABLES = "variables"
TRAINABLE_VARIABLES = "trainable_variables"
LOCAL_VARIABLES = "local_variables"
VARIABLES_OP = "VariableV2"
STATE_OPS = ("Assign", "AssignAdd", "AssignSub")


class Variable:
    """tf.Variable (TF1 RefVariable semantics)."""

    def __init__(self, initial_value=None, trainable=True, collections=None, validate_shape=True,
                 caching_device=None, name=None, variable_def=None, dtype=None, expected_shape=None,
                 import_scope=None, constraint=None, use_resource=None, synchronization=None,
                 aggregation=None, shape=None):
        if initial_value is None:
            raise ValueError("initial_value must be specified.")
        graph = get_default_graph()
        with graph.control_dependencies(None), graph.name_scope(name or "Variable") as scope:
            if callable(initial_value):
                with graph.name_scope("Initializer"):
                    initial_value = initial_value()
            init = convert_to_tensor(initial_value, dtype=dtype, name="initial_value")
            if validate_shape and not init.shape.is_fully_defined():
                raise ValueError(f"initial_value must have a shape specified: {init}")
            var_shape = init.shape if shape is None else shape
            self._variable = graph.create_op(
                VARIABLES_OP, [], [(init.dtype, var_shape)],
                {"shape": init.shape.as_tuple(), "dtype": init.dtype.ir}, name=scope).outputs[0]
            self._initial_value = init
            self._initializer_op = assign(self._variable, init, validate_shape=validate_shape,
                                          name="Assign").op
            self._snapshot = identity(self._variable, name="read")
        self._trainable = trainable
        if collections is None:
            collections = [GLOBAL_VARIABLES]
        if trainable and TRAINABLE_VARIABLES not in collections:
            collections = list(collections) + [TRAINABLE_VARIABLES]
        graph.add_to_collections(collections, self)

    @classmethod
    def _from_ops(cls, variable: Tensor, initializer: Operation, snapshot: Tensor, initial_value: Tensor,
                  trainable: bool) -> "Variable":
        """A Variable over ops already in a graph (an imported meta graph's VariableDef)."""
        self = cls.__new__(cls)
        self._variable, self._initializer_op, self._snapshot = variable, initializer, snapshot
        self._initial_value, self._trainable = initial_value, trainable
        return self

    # -- identity --
    name = property(lambda self: self._variable.name)
    op = property(lambda self: self._variable.op)
    graph = property(lambda self: self._variable.graph)
    dtype = property(lambda self: self._variable.dtype)
    shape = property(lambda self: self._variable.shape)
    device = property(lambda self: "")
    initializer = property(lambda self: self._initializer_op)
    initial_value = property(lambda self: self._initial_value)
    trainable = property(lambda self: self._trainable)

    def get_shape(self):
        return self.shape

    def _as_graph_element(self) -> Tensor:
        return self._variable

    def _as_tensor(self) -> Tensor:
        return self._snapshot

    def value(self) -> Tensor:
        return self._snapshot

    def read_value(self) -> Tensor:
        """A fresh read, ordered after the current control dependencies."""
        return identity(self._variable, name="read")

    def initialized_value(self) -> Tensor:
        return self._initial_value

    # -- state changes --
    def assign(self, value, use_locking=False, name=None, read_value=True):
        t = assign(self._variable, value, name=name)
        return t if read_value else t.op

    def assign_add(self, delta, use_locking=False, name=None, read_value=True):
        t = assign_add(self._variable, delta, name=name)
        return t if read_value else t.op

    def assign_sub(self, delta, use_locking=False, name=None, read_value=True):
        t = assign_sub(self._variable, delta, name=name)
        return t if read_value else t.op

    def eval(self, session=None):
        return _session_for(self.graph, session).run(self._variable)

    def load(self, value, session=None):
        _session_for(self.graph, session).run(self._initializer_op, {self._initial_value: value})

    def __repr__(self):
        return f"<tf.Variable '{self.name}' shape={self.shape} dtype={self.dtype.name}_ref>"

def _install_tensor_operators() -> None:
    """Variables are usable wherever a tensor is: forward operators to the read value."""
    names = ["add", "sub", "mul", "truediv", "div", "floordiv", "mod", "pow", "and", "or", "xor",
             "matmul"]
    for n in names:
        for dunder in (f"__{n}__", f"__r{n}__"):
            setattr(Variable, dunder, (lambda d: lambda self, other: getattr(self.value(), d)(other))(dunder))
    for dunder in ("__lt__", "__le__", "__gt__", "__ge__", "__neg__", "__abs__", "__invert__",
                   "__getitem__"):
        setattr(Variable, dunder, (lambda d: lambda self, *a: getattr(self.value(), d)(*a))(dunder))


_install_tensor_operators()


def _ref(ref) -> Tensor:
    if isinstance(ref, Variable):
        return ref._variable
    if isinstance(ref, Tensor) and ref.op.type == VARIABLES_OP:
        return ref
    raise TypeError(f"'ref' needs to be a Variable (or its reference tensor), got {ref!r}")


def _state_op(op_type: str, ref, value, name, validate_shape=True) -> Tensor:
    ref = _ref(ref)
    value = convert_to_tensor(value, dtype=ref.dtype)
    if validate_shape and not ref.shape.is_compatible_with(value.shape):
        raise ValueError(f"Shapes {ref.shape} and {value.shape} are incompatible "
                         f"for '{op_type}' on variable '{ref.op.name}'")
    op = ref.graph.create_op(op_type, [ref, value], [(ref.dtype, ref.shape)],
                             {"validate_shape": validate_shape}, name=name or op_type)
    return op.outputs[0]


def assign(ref, value, validate_shape=None, use_locking=None, name=None) -> Tensor:
    """tf.assign: the variable takes `value`; the output is the new value."""
    return _state_op("Assign", ref, value, name, validate_shape is not False)


def assign_add(ref, value, use_locking=None, name=None) -> Tensor:
    return _state_op("AssignAdd", ref, value, name)


def assign_sub(ref, value, use_locking=None, name=None) -> Tensor:
    return _state_op("AssignSub", ref, value, name)


def global_variables(scope=None) -> list:
    return get_default_graph().get_collection(GLOBAL_VARIABLES, scope)


all_variables = global_variables


def trainable_variables(scope=None) -> list:
    return get_default_graph().get_collection(TRAINABLE_VARIABLES, scope)


def local_variables(scope=None) -> list:
    return get_default_graph().get_collection(LOCAL_VARIABLES, scope)


def variables_initializer(var_list, name: str = "init") -> Operation:
    if not var_list:
        return no_op(name=name)
    return group(*[v.initializer for v in var_list], name=name)


def global_variables_initializer() -> Operation:
    return variables_initializer(global_variables())


def local_variables_initializer() -> Operation:
    return variables_initializer(local_variables(), name="init")


def initialize_all_variables() -> Operation:
    return global_variables_initializer()


def is_variable_initialized(variable) -> Tensor:
    """A bool scalar: whether `variable` holds a value in the running session."""
    ref = _ref(variable)
    return ref.graph.create_op("IsVariableInitialized", [ref], [(dtypes.bool_, ())],
                               name="IsVariableInitialized").outputs[0]


def report_uninitialized_variables(var_list=None, name: str = "report_uninitialized_variables") -> Tensor:
    """A 1-D tensor of the names of uninitialized variables (as numpy bytes objects, like TF1)."""
    var_list = global_variables() if var_list is None else var_list
    graph = get_default_graph()
    refs = [_ref(v) for v in var_list]
    return graph.create_op("ReportUninitializedVariables", refs, [(dtypes.string, (None,))],
                           name=name).outputs[0]
