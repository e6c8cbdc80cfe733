"""TF1's `tf.Print`: the identity of `input_` that prints `data` each time the run computes it.

The printed values come from the native step: lowering makes the Print op's output its
input's value and appends the `data` tensors to the step's results (`Step.prints`); after
the native call the session formats them as TF1's PrintOp does and writes the line to
stderr (`runtime/print_host.py`). `first_n` is counted per session and op, as TF1 counts
per kernel instance: the values are still computed on later runs, only not printed.
"""
from __future__ import annotations

from lowerflow.frontend.core_ops import convert_to_tensor
from lowerflow.frontend.gradients import RegisterGradient
from lowerflow.frontend.graph import Tensor, get_default_graph

PRINT_OP = "Print"


def Print(input_, data, message=None, first_n=None, summarize=None, name=None) -> Tensor:  # noqa: N802  (TF1 name)
    """tf.Print: `input_`, and when computed, `message` then each of `data` as "[v0 v1 ...]"
    (at most `summarize` elements, default 3; the first `first_n` runs only, default all)."""
    x = convert_to_tensor(input_)
    data = [convert_to_tensor(d) for d in (data if isinstance(data, (list, tuple)) else [data])]
    attrs = {"message": "" if message is None else str(message), "first_n": -1 if first_n is None else int(first_n),
             "summarize": 3 if summarize is None else int(summarize)}
    graph = get_default_graph()
    op = graph.create_op(PRINT_OP, [x, *data], [(x.dtype, x.shape)], attrs, name=name or PRINT_OP)
    return op.outputs[0]


@RegisterGradient(PRINT_OP)
def _print_grad(op, grad):
    """The identity's gradient to `input_`; the printed data get none (as TF1)."""
    return [grad] + [None] * (len(op.inputs) - 1)
