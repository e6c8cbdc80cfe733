"""`tf.nn.dynamic_rnn` and `tf.nn.bidirectional_dynamic_rnn`: a cell applied in a
`tf.while_loop` over the time steps (cf. TF's ops/rnn.py `_dynamic_rnn_loop`, which this
follows: inputs read from TensorArrays, outputs written to TensorArrays, the loop bounded by
the longest sequence and `maximum_iterations` = the number of steps).

The loop compiles to one native loop whose body is the cell's step; its gradient is the
backward loop of `control_grad.py`, with the per-step states kept in stacks (the bound is
static). With `sequence_length`, rows past their length output zeros and copy their state
through (TF's `_rnn_step` with skip_conditionals), and the loop stops after the longest
sequence. The cell's variables are made outside the loop (TF1's init scope), in scope `rnn`:
`rnn/basic_lstm_cell/kernel`. The number of time steps must be known when the graph is
built (the TensorArrays have a static size); the batch may be unknown.
"""
from __future__ import annotations

from lowerflow.frontend import array_ops, dtypes, nest
from lowerflow.frontend.control_flow import while_loop
from lowerflow.frontend.core_ops import constant, convert_to_tensor, identity
from lowerflow.frontend.graph import name_scope
from lowerflow.frontend.math_ops import cast, less, maximum, minimum
from lowerflow.frontend.reduction_ops import reduce_max
from lowerflow.frontend.rnn import _masked_step, _reverse_seq, _zero_output
from lowerflow.frontend.rnn_cell import assert_like_rnncell
from lowerflow.frontend.tensor_array import TensorArray
from lowerflow.frontend.variable_scope import variable_scope


def _transpose_batch_time(x):
    """[a, b, ...] -> [b, a, ...] (TF's rnn._transpose_batch_time)."""
    if x.shape.ndims is not None and x.shape.ndims < 2:
        raise ValueError(f"Expected input tensor {x} to have rank at least 2")
    rank = x.shape.ndims
    return array_ops.transpose(x, [1, 0] + list(range(2, rank)))


def _time_and_batch(flat: list):
    """(static number of steps, static batch Dimension, batch size to build with)."""
    first = flat[0].shape.with_rank_at_least(3)
    steps, fixed = first[0], first[1]
    for x in flat:
        shape = x.shape.with_rank_at_least(3)
        steps.assert_is_compatible_with(shape[0])
        fixed.assert_is_compatible_with(shape[1])
        if shape[2:].as_list()[0] is None:
            raise ValueError("Input size (depth of inputs) must be accessible via shape inference, but "
                             "saw value None.")
    if steps.value is None:
        raise NotImplementedError("tf.nn.dynamic_rnn in lowerflow needs the number of time steps when the "
                                  "graph is built (a static time dimension of inputs)")
    return steps.value, fixed, fixed.value if fixed.value else array_ops.shape(flat[0])[1]


def _lengths(sequence_length):
    lengths = cast(convert_to_tensor(sequence_length), dtypes.int32)
    if lengths.shape.ndims not in (None, 1):
        raise ValueError(f"sequence_length must be a vector of length batch_size, but saw shape: {lengths.shape}")
    return identity(lengths, name="sequence_length")


def dynamic_rnn(cell, inputs, sequence_length=None, initial_state=None, dtype=None, parallel_iterations=None,
                swap_memory: bool = False, time_major: bool = False, scope=None):
    """(outputs [batch, time, ...] or time-major, final state) of `cell` over `inputs`."""
    assert_like_rnncell("cell", cell)
    with variable_scope(scope or "rnn"):
        flat = [convert_to_tensor(x) for x in nest.flatten(inputs)]
        if not time_major:
            flat = [_transpose_batch_time(x) for x in flat]
        steps, fixed, batch = _time_and_batch(flat)
        if sequence_length is not None:
            sequence_length = _lengths(sequence_length)
        if initial_state is not None:
            state = initial_state
        elif not dtype:
            raise ValueError("If there is no initial_state, you must give a dtype.")
        else:
            state = cell.zero_state(batch, dtype)
        dtype = dtype or nest.flatten(state)[0].dtype
        outputs, final_state = _loop(cell, nest.pack_sequence_as(inputs, flat), state, steps, fixed, batch,
                                     sequence_length, dtype, parallel_iterations or 32, swap_memory)
        if not time_major:
            outputs = nest.map_structure(_transpose_batch_time, outputs)
        return outputs, final_state


def _loop(cell, inputs, state, steps: int, fixed, batch, sequence_length, dtype, parallel_iterations: int,
          swap_memory: bool):
    """The while loop over time: (time-major outputs, final state)."""
    flat_in = nest.flatten(inputs)
    zero_output = _zero_output(cell, batch, fixed, dtype)
    with name_scope("dynamic_rnn"):
        time = constant(0, dtypes.int32, name="time")
        in_tas = [TensorArray(x.dtype, size=steps, clear_after_read=False).unstack(x) for x in flat_in]
        out_tas = [TensorArray(dtype, size=steps).unstack(array_ops.stack([z] * steps)) for z in
                   nest.flatten(zero_output)]
        bound = steps if sequence_length is None else \
            minimum(steps, maximum(1, reduce_max(sequence_length)))

        def step(t, tas, state):
            xs = []
            for ta, x in zip(in_tas, flat_in):
                x_t = ta.read(t)
                x_t.set_shape(x.shape[1:])
                xs.append(x_t)
            output, new_state = cell(nest.pack_sequence_as(inputs, xs), state)
            if sequence_length is not None:
                output, new_state = _masked_step(t, sequence_length, zero_output, state, output, new_state)
            return t + 1, [ta.write(t, o) for ta, o in zip(tas, nest.flatten(output))], new_state

        _, tas, final_state = while_loop(lambda t, *_: less(t, bound), step, (time, out_tas, state),
                                         parallel_iterations=parallel_iterations, swap_memory=swap_memory,
                                         maximum_iterations=steps)
    outputs = []
    for ta, z in zip(tas, nest.flatten(zero_output)):
        out = ta.stack()
        out.set_shape([steps] + z.shape.as_list())
        outputs.append(out)
    return nest.pack_sequence_as(zero_output, outputs), final_state


def _reverse(x, lengths, time_axis: int):
    """`x` reversed along time, each batch row within its length when `lengths` is given."""
    return array_ops.stack(_reverse_seq(array_ops.unstack(x, axis=time_axis), lengths), axis=time_axis)


def bidirectional_dynamic_rnn(cell_fw, cell_bw, inputs, sequence_length=None, initial_state_fw=None,
                              initial_state_bw=None, dtype=None, parallel_iterations=None, swap_memory: bool = False,
                              time_major: bool = False, scope=None):
    """((forward outputs, backward outputs), (forward final state, backward final state)):
    `cell_bw` runs over the inputs reversed (within each length) in scope `bw`."""
    assert_like_rnncell("cell_fw", cell_fw)
    assert_like_rnncell("cell_bw", cell_bw)
    time_axis = 0 if time_major else 1
    with variable_scope(scope or "bidirectional_rnn"):
        with variable_scope("fw") as fw_scope:
            output_fw, state_fw = dynamic_rnn(cell_fw, inputs, sequence_length, initial_state_fw, dtype,
                                              parallel_iterations, swap_memory, time_major, scope=fw_scope)
        with variable_scope("bw") as bw_scope:
            reversed_inputs = nest.map_structure(lambda x: _reverse(convert_to_tensor(x), sequence_length,
                                                                    time_axis), inputs)
            tmp, state_bw = dynamic_rnn(cell_bw, reversed_inputs, sequence_length, initial_state_bw, dtype,
                                        parallel_iterations, swap_memory, time_major, scope=bw_scope)
    output_bw = nest.map_structure(lambda x: _reverse(x, sequence_length, time_axis), tmp)
    return (output_fw, output_bw), (state_fw, state_bw)
