"""`tf.train.Optimizer`: the TF1 optimizer base class (cf. TF1's training/optimizer.py).

`minimize` = `compute_gradients` (symbolic `tf.gradients` of the loss for each variable) +
`apply_gradients` (one update per variable, built from elementwise ops and assign ops under
the name scope `<name>/update_<var>`, grouped into the returned op; with `global_step`, the
step's AssignAdd runs after every update through a control dependency).

Updates read state through the variable's reference tensor rather than its `read` snapshot:
the lowering threads a variable's value through the step in graph order, so a reference read
sees every assignment that precedes it, as TF1's in-place ApplyX kernels do. One
`sess.run(train_op)` is therefore one native step whose slot and variable updates commit
together.
"""
from __future__ import annotations

from lowerflow.frontend import dtypes
from lowerflow.frontend.core_ops import convert_to_tensor, group, tuple_
from lowerflow.frontend.gradients import gradients
from lowerflow.frontend.graph import Operation, Tensor, get_default_graph
from lowerflow.frontend.math_ops import cast
from lowerflow.frontend.training import slot_creator
from lowerflow.frontend.variables import Variable, assign_add, trainable_variables

TRAIN_OP = "train_op"
TRAINABLE_RESOURCE_VARIABLES = "trainable_resource_variables"
_VALID_DTYPES = (dtypes.float16, dtypes.float32, dtypes.float64)


def _var_key(var) -> tuple:
    """Slots are keyed by (graph, op name), so a Variable and its reference tensor agree."""
    return (var.op.graph, var.op.name)


def ref(var: Variable) -> Tensor:
    """The variable's reference tensor: a read of its value at this point of the step."""
    return var._variable


class Optimizer:
    """Base class: subclasses define `_create_slots`, `_prepare` and `_apply_dense`."""

    GATE_NONE = 0
    GATE_OP = 1
    GATE_GRAPH = 2

    def __init__(self, use_locking: bool, name: str):
        if not name:
            raise ValueError("Must specify the optimizer name")
        self._use_locking = use_locking
        self._name = name
        self._slots: dict[str, dict] = {}
        self._non_slot_dict: dict[tuple, Variable] = {}

    def get_name(self) -> str:
        return self._name

    # -- the three steps --
    def minimize(self, loss, global_step=None, var_list=None, gate_gradients=GATE_OP,
                 aggregation_method=None, colocate_gradients_with_ops=False, name=None,
                 grad_loss=None) -> Operation:
        """compute_gradients + apply_gradients; ValueError when no variable gets a gradient."""
        grads_and_vars = self.compute_gradients(
            loss, var_list=var_list, gate_gradients=gate_gradients,
            aggregation_method=aggregation_method,
            colocate_gradients_with_ops=colocate_gradients_with_ops, grad_loss=grad_loss)
        if not [v for g, v in grads_and_vars if g is not None]:
            raise ValueError(
                "No gradients provided for any variable, check your graph for ops that do not "
                f"support gradients, between variables {[str(v) for _, v in grads_and_vars]} "
                f"and loss {loss}.")
        return self.apply_gradients(grads_and_vars, global_step=global_step, name=name)

    def compute_gradients(self, loss, var_list=None, gate_gradients=GATE_OP,
                          aggregation_method=None, colocate_gradients_with_ops=False,
                          grad_loss=None) -> list[tuple]:
        """(gradient, variable) pairs for `var_list` (default: the trainable variables);
        a variable the loss does not depend on gets None."""
        if callable(loss):
            raise RuntimeError("`loss` passed to Optimizer.compute_gradients should be a Tensor "
                               "in graph mode, not a callable.")
        if gate_gradients not in (Optimizer.GATE_NONE, Optimizer.GATE_OP, Optimizer.GATE_GRAPH):
            raise ValueError("gate_gradients must be one of: Optimizer.GATE_NONE, "
                             f"Optimizer.GATE_OP, Optimizer.GATE_GRAPH.  Not {gate_gradients}")
        loss = convert_to_tensor(loss)
        seeds = [] if grad_loss is None else [convert_to_tensor(grad_loss)]
        self._assert_valid_dtypes([loss] + seeds)
        if var_list is None:
            var_list = trainable_variables() + get_default_graph().get_collection(
                TRAINABLE_RESOURCE_VARIABLES)
        else:
            var_list = list(_flatten(var_list))
        if not var_list:
            raise ValueError("No variables to optimize.")
        for v in var_list:
            if not isinstance(v, Variable):
                raise NotImplementedError("Trying to optimize unsupported type ", v)
        grads = gradients(loss, [ref(v) for v in var_list], grad_ys=grad_loss,
                          gate_gradients=gate_gradients == Optimizer.GATE_OP,
                          aggregation_method=aggregation_method,
                          colocate_gradients_with_ops=colocate_gradients_with_ops)
        if gate_gradients == Optimizer.GATE_GRAPH:
            grads = _tuple_keeping_none(grads)
        pairs = list(zip(grads, var_list))
        self._assert_valid_dtypes([v for g, v in pairs if g is not None])
        return pairs

    def apply_gradients(self, grads_and_vars, global_step=None, name=None) -> Operation:
        """An op applying each non-None gradient to its variable, then bumping `global_step`."""
        converted = _convert_pairs(grads_and_vars)
        var_list = [v for g, v in converted if g is not None]
        if not var_list:
            raise ValueError(f"No gradients provided for any variable: "
                             f"{[str(v) for _, v in converted]}.")
        graph = get_default_graph()
        with graph.control_dependencies(None):  # TF1's init_scope: state outside any gate
            self._create_slots(var_list)
        update_ops = []
        with graph.name_scope(name or self._name) as scope:
            self._prepare()
            for grad, var in converted:
                if grad is None:
                    continue
                with graph.name_scope("update_" + var.op.name):
                    update_ops.append(_as_op(self._apply_dense(grad, var)))
            if global_step is None:
                apply_updates = self._finish(update_ops, scope)
            else:
                with graph.control_dependencies([self._finish(update_ops, "update")]):
                    apply_updates = assign_add(global_step, 1, name=scope).op
        train_ops = graph.get_collection_ref(TRAIN_OP)
        if apply_updates not in train_ops:
            train_ops.append(apply_updates)
        return apply_updates

    # -- slots --
    def get_slot(self, var, name: str) -> Variable | None:
        """The slot `name` made for `var`, or None."""
        return self._slots.get(name, {}).get(_var_key(var))

    def get_slot_names(self) -> list[str]:
        return sorted(self._slots)

    def variables(self) -> list[Variable]:
        """Slots and non-slot variables of this optimizer in the default graph, by name."""
        graph = get_default_graph()
        found = [v for v in self._non_slot_dict.values() if v.graph is graph]
        found += [v for slots in self._slots.values() for v in slots.values() if v.graph is graph]
        return sorted(found, key=lambda v: v.name)

    def _slot_dict(self, slot_name: str) -> dict:
        return self._slots.setdefault(slot_name, {})

    def _zeros_slot(self, var, slot_name: str, op_name: str) -> Variable:
        named = self._slot_dict(slot_name)
        if _var_key(var) not in named:
            named[_var_key(var)] = slot_creator.create_zeros_slot(var, op_name)
        return named[_var_key(var)]

    def _get_or_make_slot_with_initializer(self, var, initializer, shape, dtype, slot_name: str,
                                           op_name: str) -> Variable:
        named = self._slot_dict(slot_name)
        if _var_key(var) not in named:
            named[_var_key(var)] = slot_creator.create_slot_with_initializer(
                var, initializer, shape, dtype, op_name)
        return named[_var_key(var)]

    def _create_non_slot_variable(self, initial_value, name: str, colocate_with) -> Variable:
        """A variable of the optimizer itself (e.g. Adam's `beta1_power`), one per graph."""
        key = (name, colocate_with.graph)
        if key not in self._non_slot_dict:
            self._non_slot_dict[key] = Variable(initial_value, name=name, trainable=False)
        return self._non_slot_dict[key]

    def _get_non_slot_variable(self, name: str, graph=None) -> Variable | None:
        return self._non_slot_dict.get((name, graph or get_default_graph()))

    # -- subclass hooks --
    def _create_slots(self, var_list: list[Variable]) -> None:
        pass

    def _prepare(self) -> None:
        pass

    def _apply_dense(self, grad: Tensor, var: Variable):
        raise NotImplementedError()

    def _finish(self, update_ops: list[Operation], name_scope: str) -> Operation:
        return group(*update_ops, name=name_scope)

    # -- helpers for subclasses --
    @staticmethod
    def _call_if_callable(param):
        return param() if callable(param) else param

    @staticmethod
    def _hyper(value, name: str) -> Tensor:
        """A hyper-parameter (number, tensor, placeholder or callable) as a tensor."""
        return convert_to_tensor(value() if callable(value) else value, name=name)

    @staticmethod
    def _cast(t: Tensor, var: Variable) -> Tensor:
        return cast(t, var.dtype.base_dtype)

    def _assert_valid_dtypes(self, tensors) -> None:
        for t in tensors:
            if t.dtype.base_dtype not in _VALID_DTYPES:
                raise ValueError(f"Invalid type {t.dtype!r} for {t.name}, expected: "
                                 f"{list(_VALID_DTYPES)}.")


def _flatten(values):
    for v in values:
        if isinstance(v, (list, tuple)):
            yield from _flatten(v)
        else:
            yield v


def _as_op(x) -> Operation:
    return x.op if isinstance(x, Tensor) else x


def _tuple_keeping_none(grads: list) -> list:
    """GATE_GRAPH: every gradient waits for all of them (None entries stay None)."""
    present = [g for g in grads if g is not None]
    gated = iter(tuple_(present)) if present else iter(())
    return [None if g is None else next(gated) for g in grads]


def _convert_pairs(grads_and_vars) -> list[tuple]:
    pairs = tuple(grads_and_vars)
    if not pairs:
        raise ValueError("No variables provided.")
    converted = []
    for g, v in pairs:
        if g is not None:
            try:
                g = convert_to_tensor(g)
            except (TypeError, ValueError):
                raise TypeError(f"Gradient must be convertible to a Tensor or IndexedSlices, "
                                f"or None: {g}") from None
        if not isinstance(v, Variable):
            raise NotImplementedError("Trying to optimize unsupported type ", v)
        converted.append((g, v))
    return converted
