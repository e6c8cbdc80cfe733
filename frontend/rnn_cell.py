"""TF1's RNN cells, `tf.nn.rnn_cell` (cf. TF's legacy_rnn/rnn_cell_impl.py, whose variable
names, shapes, gate order and scoping rules these follow).

A cell is a callable `(output, new_state) = cell(inputs, state)` over one time step, built
from ordinary graph ops, so an unrolled sequence (`tf.nn.static_rnn`) is one graph that the
compiler fuses and differentiates like any other. Scoping is TF1's Layer rule: the first
call fixes the cell's variable scope (`scope`, else the cell's name made unique in the
current scope: `rnn/basic_lstm_cell`); every later call reuses that scope's variables, so
one cell applied at every step shares one kernel. Kernels default to the scope's
initializer (glorot_uniform through get_variable), biases to zeros (GRU's gates to ones).
"""
from __future__ import annotations

import collections
import hashlib
import numbers
import re

from lowerflow.frontend import array_ops, dtypes, nest
from lowerflow.frontend.core_ops import constant, convert_to_tensor
from lowerflow.frontend.graph import get_default_graph, name_scope
from lowerflow.frontend.init_ops import Constant, Zeros
from lowerflow.frontend.linalg_ops import matmul
from lowerflow.frontend.math_ops import add, clip_by_value, multiply, sigmoid, subtract, tanh
from lowerflow.frontend.nn_impl import dropout
from lowerflow.frontend.nn_ops import bias_add
from lowerflow.frontend.tensor_shape import TensorShape
from lowerflow.frontend.variable_scope import get_variable, variable_scope
from lowerflow.frontend.variables import Variable


def _snake(name: str) -> str:
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)).lower()


def _check_supported_dtypes(dtype) -> None:
    if dtype is not None and not dtypes.as_dtype(dtype).is_floating:
        raise ValueError(f"RNN cell only supports floating point inputs, but saw dtype: "
                         f"<dtype: '{dtypes.as_dtype(dtype).name}'>")


def assert_like_rnncell(cell_name: str, cell) -> None:
    """TypeError naming what `cell` lacks to be used as an RNN cell."""
    checks = ((hasattr(cell, "output_size"), "'output_size' property is missing"),
              (hasattr(cell, "state_size"), "'state_size' property is missing"),
              (hasattr(cell, "zero_state") or hasattr(cell, "get_initial_state"),
               "either 'zero_state' or 'get_initial_state' method is required"),
              (callable(cell), "is not callable"))
    missing = [why for ok, why in checks if not ok]
    if missing:
        raise TypeError(f"The argument {cell_name!r} ({cell}) is not an RNNCell: {', '.join(missing)}.")


class LSTMStateTuple(collections.namedtuple("LSTMStateTuple", ("c", "h"))):
    """An LSTM's state: the cell memory `c` and the hidden output `h`."""

    __slots__ = ()

    @property
    def dtype(self):
        c, h = self
        if c.dtype != h.dtype:
            raise TypeError(f"Inconsistent internal state: {c.dtype} vs {h.dtype}")
        return c.dtype


def _zero_state_tensors(state_size, batch_size, dtype):
    static_batch = batch_size if isinstance(batch_size, numbers.Integral) else None

    def zeros_of(size):
        dims = TensorShape(size).as_list() if isinstance(size, TensorShape) else [size]
        if static_batch is None:
            z = array_ops.zeros(array_ops.stack([batch_size] + dims), dtype)
        else:
            z = array_ops.zeros([static_batch] + dims, dtype)
        z.set_shape([static_batch] + dims)
        return z
    return nest.map_structure(zeros_of, state_size)


def _pair(state, what: str):
    """The two parts of a tuple state; TF's TypeError when the state is one tensor."""
    if not nest.is_nested(state) or len(state) != 2:
        raise TypeError(f"{what} expects a (c, h) state tuple, got {state}; iterating over a "
                        "symbolic `tf.Tensor` is not allowed.")
    return state


class RNNCell:
    """The abstract cell: `state_size`, `output_size`, `zero_state`, and a call whose first
    use creates the variables in the cell's scope."""

    _input_ndim: int | None = None  # 2 for the layer cells (TF's InputSpec(ndim=2))

    def __init__(self, trainable: bool = True, name: str | None = None, dtype=None, _reuse=None):
        self.trainable = trainable
        self._base_name = name or _snake(type(self).__name__)
        self._dtype = None if dtype is None else dtypes.as_dtype(dtype)
        _check_supported_dtypes(self._dtype)
        self._reuse = _reuse
        self._scope = None
        self.built = False
        self._weights: list[Variable] = []

    name = property(lambda self: self._base_name)
    dtype = property(lambda self: self._dtype)

    @property
    def state_size(self):
        raise NotImplementedError("Abstract method")

    @property
    def output_size(self):
        raise NotImplementedError("Abstract method")

    @property
    def variables(self) -> list[Variable]:
        return list(self._weights)

    weights = variables
    trainable_variables = trainable_weights = property(lambda self: [v for v in self.variables if v.trainable])

    def build(self, inputs_shape: TensorShape) -> None:
        """Create the variables (inputs_shape's last dim is known)."""

    def call(self, inputs, state):
        raise NotImplementedError("Abstract method")

    def zero_state(self, batch_size, dtype):
        """Zeros shaped [batch_size, s] for each s in `state_size`, nested like it."""
        with name_scope(type(self).__name__ + "ZeroState"):
            return _zero_state_tensors(self.state_size, batch_size, dtype)

    def get_initial_state(self, inputs=None, batch_size=None, dtype=None):
        if inputs is not None:
            inputs = convert_to_tensor(inputs)
            batch_size = inputs.shape[0].value or array_ops.shape(inputs)[0]
            dtype = inputs.dtype
        if batch_size is None or dtype is None:
            raise ValueError("batch_size and dtype cannot be None while constructing initial state: "
                             f"batch_size={batch_size}, dtype={dtype}")
        return self.zero_state(batch_size, dtype)

    def add_variable(self, name: str, shape, initializer=None) -> Variable:
        """get_variable in the cell's scope, remembered as one of the cell's weights."""
        var = get_variable(name, shape, self._dtype, initializer, trainable=self.trainable)
        if all(var is not w for w in self._weights):
            self._weights.append(var)
        return var

    def __call__(self, inputs, state, scope=None):
        """One step: (output, new_state), in the scope fixed by the first call."""
        if self._scope is None:
            opening = (scope if scope is not None else self._base_name) if self._reuse else scope
            with variable_scope(opening, default_name=self._base_name) as captured:
                self._scope = captured
        reuse = True if self.built else self._reuse
        with variable_scope(self._scope, reuse=reuse, auxiliary_name_scope=False), \
                get_default_graph().name_scope(self._scope.original_name_scope or None):
            inputs = convert_to_tensor(inputs)
            self._check_inputs(inputs)
            if not self.built:
                self._dtype = self._dtype or inputs.dtype
                _check_supported_dtypes(self._dtype)
                self.build(inputs.shape)
                self.built = True
            return self.call(inputs, state)

    def _check_inputs(self, inputs) -> None:
        rank = inputs.shape.ndims
        if self._input_ndim is not None and rank is not None and rank != self._input_ndim:
            raise ValueError(f"Input 0 of layer {self.name} is incompatible with the layer: expected "
                             f"ndim={self._input_ndim}, found ndim={rank}. Full shape received: "
                             f"{tuple(inputs.shape.as_list())}")

    def _check_call_dtypes(self, inputs, state) -> None:
        for t in nest.flatten([inputs, state]):
            _check_supported_dtypes(convert_to_tensor(t).dtype)

    def _input_depth(self, inputs_shape: TensorShape) -> int:
        depth = inputs_shape[-1].value
        if depth is None:
            raise ValueError(f"Expected inputs.shape[-1] to be known, saw shape: {tuple(inputs_shape.as_list())}")
        return depth


def _activation(activation):
    return activation if activation else tanh


class BasicRNNCell(RNNCell):
    """output = new_state = activation([inputs, state] @ kernel + bias)."""

    _input_ndim = 2

    def __init__(self, num_units: int, activation=None, reuse=None, name=None, dtype=None, **kwargs):
        super().__init__(name=name, dtype=dtype, _reuse=reuse, **kwargs)
        self._num_units = num_units
        self._activation = _activation(activation)

    state_size = output_size = property(lambda self: self._num_units)

    def build(self, inputs_shape):
        rows = self._input_depth(inputs_shape) + self._num_units
        self._kernel = self.add_variable("kernel", [rows, self._num_units])
        self._bias = self.add_variable("bias", [self._num_units], Zeros())

    def call(self, inputs, state):
        self._check_call_dtypes(inputs, state)
        output = self._activation(bias_add(matmul(array_ops.concat([inputs, state], 1), self._kernel), self._bias))
        return output, output


class GRUCell(RNNCell):
    """Cho et al.'s GRU: reset and update gates r, u from `gates/kernel`, the candidate from
    [inputs, r * state] and `candidate/kernel`; new_h = u * state + (1 - u) * candidate."""

    _input_ndim = 2

    def __init__(self, num_units: int, activation=None, reuse=None, kernel_initializer=None,
                 bias_initializer=None, name=None, dtype=None, **kwargs):
        super().__init__(name=name, dtype=dtype, _reuse=reuse, **kwargs)
        self._num_units = num_units
        self._activation = _activation(activation)
        self._kernel_initializer = kernel_initializer
        self._bias_initializer = bias_initializer

    state_size = output_size = property(lambda self: self._num_units)

    def build(self, inputs_shape):
        rows, n = self._input_depth(inputs_shape) + self._num_units, self._num_units
        self._gate_kernel = self.add_variable("gates/kernel", [rows, 2 * n], self._kernel_initializer)
        self._gate_bias = self.add_variable("gates/bias", [2 * n], self._bias_initializer or Constant(1.0))
        self._candidate_kernel = self.add_variable("candidate/kernel", [rows, n], self._kernel_initializer)
        self._candidate_bias = self.add_variable("candidate/bias", [n], self._bias_initializer or Zeros())

    def call(self, inputs, state):
        self._check_call_dtypes(inputs, state)
        gates = sigmoid(bias_add(matmul(array_ops.concat([inputs, state], 1), self._gate_kernel), self._gate_bias))
        r, u = array_ops.split(gates, 2, axis=1)
        candidate = matmul(array_ops.concat([inputs, multiply(r, state)], 1), self._candidate_kernel)
        c = self._activation(bias_add(candidate, self._candidate_bias))
        new_h = add(multiply(u, state), multiply(subtract(1.0, u), c))
        return new_h, new_h


class BasicLSTMCell(RNNCell):
    """Hochreiter-Schmidhuber LSTM without peepholes or projection: gates i, j, f, o (in that
    order along the kernel's columns), forget_bias added to f."""

    _input_ndim = 2

    def __init__(self, num_units: int, forget_bias: float = 1.0, state_is_tuple: bool = True, activation=None,
                 reuse=None, name=None, dtype=None, **kwargs):
        super().__init__(name=name, dtype=dtype, _reuse=reuse, **kwargs)
        self._num_units = num_units
        self._forget_bias = forget_bias
        self._state_is_tuple = state_is_tuple
        self._activation = _activation(activation)

    @property
    def state_size(self):
        n = self._num_units
        return LSTMStateTuple(n, n) if self._state_is_tuple else 2 * n

    output_size = property(lambda self: self._num_units)

    def build(self, inputs_shape):
        rows = self._input_depth(inputs_shape) + self._num_units
        self._kernel = self.add_variable("kernel", [rows, 4 * self._num_units])
        self._bias = self.add_variable("bias", [4 * self._num_units], Zeros())

    def call(self, inputs, state):
        self._check_call_dtypes(inputs, state)
        c, h = _pair(state, type(self).__name__) if self._state_is_tuple else array_ops.split(state, 2, axis=1)
        gates = bias_add(matmul(array_ops.concat([inputs, h], 1), self._kernel), self._bias)
        i, j, f, o = array_ops.split(gates, 4, axis=1)
        forget_bias = constant(self._forget_bias, dtype=f.dtype)
        new_c = add(multiply(c, sigmoid(add(f, forget_bias))), multiply(sigmoid(i), self._activation(j)))
        new_h = multiply(self._activation(new_c), sigmoid(o))
        new_state = LSTMStateTuple(new_c, new_h) if self._state_is_tuple else array_ops.concat([new_c, new_h], 1)
        return new_h, new_state


class LSTMCell(RNNCell):
    """The LSTM with optional peepholes (w_f_diag, w_i_diag, w_o_diag), cell clipping and a
    projection of the output to num_proj (`projection/kernel`, optionally clipped)."""

    _input_ndim = 2

    def __init__(self, num_units: int, use_peepholes: bool = False, cell_clip=None, initializer=None, num_proj=None,
                 proj_clip=None, num_unit_shards=None, num_proj_shards=None, forget_bias: float = 1.0,
                 state_is_tuple: bool = True, activation=None, reuse=None, name=None, dtype=None, **kwargs):
        super().__init__(name=name, dtype=dtype, _reuse=reuse, **kwargs)
        if num_unit_shards is not None or num_proj_shards is not None:
            raise NotImplementedError("LSTMCell: num_unit_shards and num_proj_shards (partitioned variables) "
                                      "are not supported")
        self._num_units, self._num_proj = num_units, num_proj
        self._use_peepholes, self._cell_clip, self._proj_clip = use_peepholes, cell_clip, proj_clip
        self._initializer, self._forget_bias = initializer, forget_bias
        self._state_is_tuple = state_is_tuple
        self._activation = _activation(activation)
        out = num_proj if num_proj else num_units
        self._state_size = LSTMStateTuple(num_units, out) if state_is_tuple else num_units + out
        self._output_size = out

    state_size = property(lambda self: self._state_size)
    output_size = property(lambda self: self._output_size)

    def build(self, inputs_shape):
        h_depth = self._num_units if self._num_proj is None else self._num_proj
        rows = self._input_depth(inputs_shape) + h_depth
        self._kernel = self.add_variable("kernel", [rows, 4 * self._num_units], self._initializer)
        self._bias = self.add_variable("bias", [4 * self._num_units], Zeros())
        if self._use_peepholes:
            self._w_f_diag, self._w_i_diag, self._w_o_diag = (
                self.add_variable(name, [self._num_units], self._initializer)
                for name in ("w_f_diag", "w_i_diag", "w_o_diag"))
        if self._num_proj is not None:
            self._proj_kernel = self.add_variable("projection/kernel", [self._num_units, self._num_proj],
                                                  self._initializer)

    def call(self, inputs, state):
        self._check_call_dtypes(inputs, state)
        if self._state_is_tuple:
            c_prev, m_prev = _pair(state, type(self).__name__)
        else:
            c_prev = array_ops.slice_(state, [0, 0], [-1, self._num_units])
            m_prev = array_ops.slice_(state, [0, self._num_units], [-1, self._output_size])
        gates = bias_add(matmul(array_ops.concat([inputs, m_prev], 1), self._kernel), self._bias)
        i, j, f, o = array_ops.split(gates, 4, axis=1)
        f = add(f, self._forget_bias)
        if self._use_peepholes:  # TF's order of additions, so values agree to the last bit
            f, i = add(f, multiply(self._w_f_diag, c_prev)), add(i, multiply(self._w_i_diag, c_prev))
        c = add(multiply(sigmoid(f), c_prev), multiply(sigmoid(i), self._activation(j)))
        if self._cell_clip is not None:
            c = clip_by_value(c, -self._cell_clip, self._cell_clip)
        if self._use_peepholes:
            o = add(o, multiply(self._w_o_diag, c))
        m = multiply(sigmoid(o), self._activation(c))
        if self._num_proj is not None:
            m = matmul(m, self._proj_kernel)
            if self._proj_clip is not None:
                m = clip_by_value(m, -self._proj_clip, self._proj_clip)
        new_state = LSTMStateTuple(c, m) if self._state_is_tuple else array_ops.concat([c, m], 1)
        return m, new_state


class MultiRNNCell(RNNCell):
    """Cells stacked in depth: cell i runs in scope `cell_i` on the previous cell's output."""

    def __init__(self, cells, state_is_tuple: bool = True):
        super().__init__()
        if not cells:
            raise ValueError("Must specify at least one cell for MultiRNNCell.")
        if not nest.is_nested(cells):
            raise TypeError(f"cells must be a list or tuple, but saw: {cells}.")
        if not state_is_tuple and any(nest.is_nested(c.state_size) for c in cells):
            raise ValueError("Some cells return tuples of states, but the flag state_is_tuple is not set.  "
                             f"State sizes are: {[c.state_size for c in cells]}")
        self._cells, self._state_is_tuple = list(cells), state_is_tuple

    @property
    def state_size(self):
        sizes = [cell.state_size for cell in self._cells]
        return tuple(sizes) if self._state_is_tuple else sum(sizes)

    output_size = property(lambda self: self._cells[-1].output_size)

    @property
    def variables(self) -> list[Variable]:
        return [v for cell in self._cells for v in cell.variables]

    weights = variables

    def zero_state(self, batch_size, dtype):
        if not self._state_is_tuple:
            return super().zero_state(batch_size, dtype)
        with name_scope(type(self).__name__ + "ZeroState"):
            return tuple(cell.zero_state(batch_size, dtype) for cell in self._cells)

    def call(self, inputs, state):
        position, new_states = 0, []
        for i, cell in enumerate(self._cells):
            with variable_scope(f"cell_{i}"):
                if self._state_is_tuple:
                    if not nest.is_nested(state):
                        raise ValueError(f"Expected state to be a tuple of length {len(self.state_size)}, "
                                         f"but received: {state}")
                    cell_state = state[i]
                else:
                    cell_state = array_ops.slice_(state, [0, position], [-1, cell.state_size])
                    position += cell.state_size
                inputs, new_state = cell(inputs, cell_state)
                new_states.append(new_state)
        return inputs, tuple(new_states) if self._state_is_tuple else array_ops.concat(new_states, 1)


def _default_dropout_state_filter_visitor(substate):
    """Never drop an LSTM's memory c; drop everything else."""
    return LSTMStateTuple(c=False, h=True) if isinstance(substate, LSTMStateTuple) else True


def _dropout_flags(visitor, structure) -> list[bool]:
    """Per leaf of `structure`: whether the visitor lets dropout reach it."""
    verdict = visitor(structure)
    if isinstance(verdict, bool):
        if not verdict:
            return [False] * len(nest.flatten(structure))
        if not nest.is_nested(structure):
            return [True]
        verdict = [True] * len(structure)
    return [flag for child, keep in zip(structure, verdict)
            for flag in (_dropout_flags(visitor, child) if keep else [False] * len(nest.flatten(child)))]


class DropoutWrapper(RNNCell):
    """Dropout on a cell's inputs, outputs and (filtered) new state, a fresh mask per step;
    a keep probability that is the float 1.0 adds no op."""

    def __init__(self, cell, input_keep_prob=1.0, output_keep_prob=1.0, state_keep_prob=1.0,
                 variational_recurrent: bool = False, input_size=None, dtype=None, seed=None,
                 dropout_state_filter_visitor=None, **kwargs):
        super().__init__(**kwargs)
        assert_like_rnncell("cell", cell)
        if variational_recurrent:
            raise NotImplementedError("DropoutWrapper: variational_recurrent is not supported")
        if dropout_state_filter_visitor is not None and not callable(dropout_state_filter_visitor):
            raise TypeError("dropout_state_filter_visitor must be callable")
        for prob, attr in ((input_keep_prob, "input_keep_prob"), (state_keep_prob, "state_keep_prob"),
                           (output_keep_prob, "output_keep_prob")):
            if isinstance(prob, numbers.Real) and not 0 <= prob <= 1:
                raise ValueError(f"Parameter {attr} must be between 0 and 1: {int(prob)}")
        self.cell = cell
        self._input_keep_prob, self._output_keep_prob = input_keep_prob, output_keep_prob
        self._state_keep_prob, self._seed = state_keep_prob, seed
        self._state_filter = dropout_state_filter_visitor or _default_dropout_state_filter_visitor

    wrapped_cell = property(lambda self: self.cell)
    state_size = property(lambda self: self.cell.state_size)
    output_size = property(lambda self: self.cell.output_size)
    variables = property(lambda self: self.cell.variables)
    weights = variables

    def zero_state(self, batch_size, dtype):
        with name_scope(type(self).__name__ + "ZeroState"):
            return self.cell.zero_state(batch_size, dtype)

    def _gen_seed(self, salt_prefix: str, index: int):
        if self._seed is None:
            return None
        digest = hashlib.md5((str(self._seed) + salt_prefix + f"_{index}").encode("utf-8")).hexdigest()
        return int(digest[:8], 16) & 0x7FFFFFFF

    def _dropout(self, values, salt_prefix: str, keep_prob, flags: list[bool] | None = None):
        leaves = nest.flatten(values)
        flags = flags or [True] * len(leaves)
        dropped = [dropout(v, rate=subtract(1.0, keep_prob) if not isinstance(keep_prob, numbers.Real)
                           else 1.0 - keep_prob, seed=self._gen_seed(salt_prefix, i)) if keep else v
                   for i, (v, keep) in enumerate(zip(leaves, flags))]
        return nest.pack_sequence_as(values, dropped)

    def __call__(self, inputs, state, scope=None):
        def should_drop(p) -> bool:
            return not isinstance(p, float) or p < 1
        if should_drop(self._input_keep_prob):
            inputs = self._dropout(inputs, "input", self._input_keep_prob)
        output, new_state = self.cell(inputs, state, scope=scope)
        if should_drop(self._state_keep_prob):
            flags = _dropout_flags(self._state_filter, new_state)
            new_state = self._dropout(new_state, "state", self._state_keep_prob, flags)
        if should_drop(self._output_keep_prob):
            output = self._dropout(output, "output", self._output_keep_prob)
        return output, new_state
