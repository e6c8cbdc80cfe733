"""`tf.nn.static_rnn` and `tf.nn.static_bidirectional_rnn`: a cell unrolled over a Python
list of time steps (cf. TF's ops/rnn.py).

The unrolled steps are ordinary graph ops, so no control flow is needed: the compiler sees
one straight-line graph (every step's GEMM, gate fusions and their gradients). Variables are
created at the first step in scope `rnn` (or `scope`), reused at every later one. With
`sequence_length`, a batch row past its length copies its state through and outputs zeros:
the select TF applies (TF also wraps steps wholly inside or past every length in tf.cond to
skip work; the values are the same).
"""
from __future__ import annotations

from lowerflow.frontend import array_ops, dtypes, nest
from lowerflow.frontend.core_ops import convert_to_tensor
from lowerflow.frontend.linalg_ops import matmul
from lowerflow.frontend.math_ops import cast, greater_equal, less, where
from lowerflow.frontend.rnn_cell import assert_like_rnncell
from lowerflow.frontend.tensor_shape import Dimension
from lowerflow.frontend.variable_scope import variable_scope


def _check_sequence(inputs) -> None:
    if not nest.is_nested(inputs):
        raise TypeError(f"Argument `inputs` must be a sequence. Received: {inputs}")
    if not inputs:
        raise ValueError("Argument `inputs` must not be empty.")


def _batch_size(inputs):
    """The static batch dimension all steps agree on (checked), and the batch size to build
    states with: an int when static, else the first input's run-time shape[0]."""
    first = nest.flatten(inputs)[0]
    fixed = first.shape.with_rank_at_least(1)[0]
    if first.shape.ndims != 1:
        fixed = first.shape.with_rank_at_least(2)[0]
        for x in nest.flatten(inputs):
            shape = x.shape.with_rank_at_least(2)
            fixed.assert_is_compatible_with(shape[0])
            for i, size in enumerate(shape[1:].as_list()):
                if size is None:
                    raise ValueError(f"Input size (dimension {i} of input {x}) must be accessible via shape "
                                     "inference, but saw value None.")
    return fixed, (fixed.value if fixed.value else array_ops.shape(first)[0])


def _zero_output(cell, batch, fixed: Dimension, dtype):
    def zeros_of(size):
        dims = [size] if isinstance(size, int) else list(size)
        z = array_ops.zeros(array_ops.stack([batch] + dims) if not isinstance(batch, int) else [batch] + dims, dtype)
        z.set_shape([fixed.value] + dims)
        return z
    return nest.map_structure(zeros_of, cell.output_size)


def _masked_step(time: int, sequence_length, zero_output, state, output, new_state):
    """Rows with time >= their length: zero output, the state copied through."""
    nest.assert_same_structure(zero_output, output)
    nest.assert_same_structure(state, new_state)
    done = greater_equal(time, sequence_length)
    return (nest.map_structure(lambda old, new: where(done, old, new), zero_output, output),
            nest.map_structure(lambda old, new: where(done, old, new), state, new_state))


def static_rnn(cell, inputs, initial_state=None, dtype=None, sequence_length=None, scope=None):
    """(outputs, final state) of `cell` applied to each [batch, depth] tensor of `inputs`."""
    assert_like_rnncell("cell", cell)
    _check_sequence(inputs)
    inputs = [nest.map_structure(convert_to_tensor, x) for x in inputs]
    with variable_scope(scope or "rnn") as varscope:
        fixed, batch = _batch_size(inputs)
        if initial_state is not None:
            state = initial_state
        elif not dtype:
            raise ValueError("If no initial_state is provided, argument `dtype` must be specified")
        else:
            state = cell.zero_state(batch, dtype)
        if sequence_length is not None:
            sequence_length = convert_to_tensor(sequence_length, name="sequence_length")
            if sequence_length.shape.ndims not in (None, 1):
                raise ValueError(f"Argument `sequence_length` must be a vector of length {batch}. "
                                 f"Received sequence_length={sequence_length}.")
            sequence_length = cast(sequence_length, dtypes.int32)
            zero_output = _zero_output(cell, batch, fixed, dtype or nest.flatten(state)[0].dtype)
        outputs = []
        for time, x in enumerate(inputs):
            if time > 0:
                varscope.reuse_variables()
            output, new_state = cell(x, state)
            if sequence_length is not None:
                output, new_state = _masked_step(time, sequence_length, zero_output, state, output, new_state)
            state = new_state
            outputs.append(output)
        return outputs, state


def _reverse_seq(inputs: list, lengths) -> list:
    """The steps reversed; with `lengths`, each batch row reversed within its own length
    (TF's reverse_sequence), as a one-hot permutation of the stacked steps."""
    if lengths is None:
        return list(reversed(inputs))
    steps = len(inputs)
    lengths = cast(convert_to_tensor(lengths), dtypes.int32)
    t = array_ops.range_(steps)
    # index[b, t] = length_b - 1 - t inside the row's length, t beyond it
    mirrored = array_ops.expand_dims(lengths, 1) - 1 - t
    index = where(less(array_ops.expand_dims(t, 0), array_ops.expand_dims(lengths, 1)), mirrored,
                  array_ops.zeros_like(mirrored) + t)
    flat = [nest.flatten(x) for x in inputs]
    results = [[] for _ in inputs]
    for sequence in zip(*flat):
        joined = array_ops.stack(sequence, axis=1)  # [batch, time, depth]
        permute = array_ops.one_hot(index, steps, dtype=joined.dtype)  # [batch, time, time]
        for r, result in zip(array_ops.unstack(matmul(permute, joined), axis=1), results):
            r.set_shape(sequence[0].shape)
            result.append(r)
    return [nest.pack_sequence_as(x, r) for x, r in zip(inputs, results)]


def static_bidirectional_rnn(cell_fw, cell_bw, inputs, initial_state_fw=None, initial_state_bw=None, dtype=None,
                             sequence_length=None, scope=None):
    """(outputs, forward final state, backward final state): `cell_fw` over the steps in
    scope `fw`, `cell_bw` over them reversed in `bw`; each output is [forward, backward]
    concatenated along depth."""
    assert_like_rnncell("cell_fw", cell_fw)
    assert_like_rnncell("cell_bw", cell_bw)
    _check_sequence(inputs)
    with variable_scope(scope or "bidirectional_rnn"):
        with variable_scope("fw") as fw_scope:
            output_fw, state_fw = static_rnn(cell_fw, inputs, initial_state_fw, dtype, sequence_length,
                                             scope=fw_scope)
        with variable_scope("bw") as bw_scope:
            reversed_inputs = _reverse_seq(list(inputs), sequence_length)
            tmp, state_bw = static_rnn(cell_bw, reversed_inputs, initial_state_bw, dtype, sequence_length,
                                       scope=bw_scope)
    output_bw = _reverse_seq(tmp, sequence_length)
    outputs = [nest.pack_sequence_as(fw, [array_ops.concat([a, b], 1) for a, b in
                                          zip(nest.flatten(fw), nest.flatten(bw))])
               for fw, bw in zip(output_fw, output_bw)]
    return outputs, state_fw, state_bw
