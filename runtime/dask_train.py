"""`train_data_parallel`: synchronous data-parallel gradient descent over Dask workers.

The feeds' dask arrays are the global batch, split in row chunks (the shards) that stay
on the workers (`persist`). Each step:
1. the trainable variables' current values go out to the workers (one key each);
2. each worker runs the shard step natively: the gradients of `loss * n_i / N` (`n_i`
   the shard's rows, `N` the batch's; TF1's `grad_loss` seeds the backward pass with
   the scale) and that scaled loss, compiled ahead of time once per shard size with the
   variables as arguments (`dask_program.Program`);
3. the shards' results are summed pairwise, a tree of depth log2(shards);
4. the sum is fed to the optimizer's `apply_gradients` op in the session: one native
   step applies the update (and advances slots such as momentum) exactly once.

For a loss that is a mean over the rows (`tf.reduce_mean`, `tf.losses.*`), the sum of
the scaled shard gradients is the gradient of the loss over the whole batch, so the
result is that of single-process training on the same batch, up to float rounding.
A sum over the rows needs scale 1: divide it by the row count first.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import dask
import numpy as np

from lowerflow.frontend.core_ops import placeholder
from lowerflow.frontend.graph import Operation, Tensor
from lowerflow.frontend.lowering import lower
from lowerflow.frontend.training.optimizer import Optimizer
from lowerflow.frontend.variables import global_variables, variables_initializer
from lowerflow.ir import TensorType
from lowerflow.runtime.aot import freeze
from lowerflow.runtime.dask_batches import BatchFeeds, split_feeds
from lowerflow.runtime.dask_program import Program, arguments, build_program, compile_errors, run_program
from lowerflow.runtime.session import Session


@dataclass(frozen=True)
class _Training:
    """The graph pieces of one data-parallel training job."""

    loss: Tensor
    scale: Tensor  # the shard's share of the batch, seeding its backward pass
    scaled_loss: Tensor
    grads: list[Tensor]
    variables: list[Operation]  # the trained variables' ops, in the order of `grads`
    grad_feeds: list[Tensor]  # placeholders of the summed gradients
    apply: Operation


def train_data_parallel(loss, optimizer: Optimizer, feeds: Mapping, steps: int, session: Session,
                        var_list=None) -> np.ndarray:
    """Run `steps` steps of `optimizer` on `loss` over the global batch `feeds` (dask arrays
    chunked along axis 0, plus plain values every shard gets whole), one shard per chunk;
    the variables change in `session`. Returns the loss over the batch before each step."""
    if isinstance(loss, Operation):
        raise TypeError(f"train_data_parallel needs the loss tensor, got the operation {loss.name!r}: a "
                        "train_op applies its own update; pass the loss it minimizes and its optimizer")
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizer must be a tf.train.Optimizer, got {type(optimizer).__name__}")
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 0:
        raise ValueError(f"steps must be a non-negative int, got {steps!r}")
    graph = session.graph
    loss = graph.as_graph_element(loss, allow_tensor=True, allow_operation=False)
    batch = split_feeds(graph, feeds)
    job = _build(loss, optimizer, session, var_list)
    programs = {rows: _shard_program(job, batch, rows, session) for rows in sorted(set(batch.rows))}
    batch = batch.persist()
    losses = []
    for _ in range(steps):
        total, *grads = dask.compute(_step_graph(job, batch, programs, session))[0]
        session.run(job.apply, feed_dict=dict(zip(job.grad_feeds, grads)))
        losses.append(total)
    return np.array(losses, dtype=loss.dtype.as_numpy_dtype)


def _build(loss: Tensor, optimizer: Optimizer, session: Session, var_list) -> _Training:
    """Gradients seeded by a scale placeholder, and the update op fed the summed gradients;
    slots the update creates are initialised in `session`."""
    graph = session.graph
    with graph.as_default():
        with graph.name_scope("data_parallel"):
            scale = placeholder(loss.dtype.base_dtype, [], name="shard_scale")
            pairs = [(g, v) for g, v in optimizer.compute_gradients(loss, var_list=var_list, grad_loss=scale)
                     if g is not None]
            if not pairs:
                raise ValueError(f"No gradients provided for any variable, between the variables and loss {loss}.")
            scaled_loss = loss * scale
            grad_feeds = [placeholder(v.dtype.base_dtype, v.shape, name="summed_gradient") for _, v in pairs]
        before = set(global_variables())
        apply = optimizer.apply_gradients(list(zip(grad_feeds, [v for _, v in pairs])))
        created = [v for v in global_variables() if v not in before]
        if created:
            session.run(variables_initializer(created))
    return _Training(loss, scale, scaled_loss, [g for g, _ in pairs], [v.op for _, v in pairs],
                     grad_feeds, apply)


def _shard_program(job: _Training, batch: BatchFeeds, rows: int, session: Session) -> Program:
    """The shard step for `rows` rows: trained variables are arguments, others frozen."""
    feed_types = {t: TensorType(s, t.dtype.ir) for t, s in batch.shapes(rows).items()}
    feed_types[job.scale] = TensorType((), job.scale.dtype.ir)
    with compile_errors():
        step = lower([job.scaled_loss, *job.grads], [], feed_types)
    if step.writes or step.host:
        what = [v.name for v in step.writes] + [t.name for t in step.host]
        raise ValueError(f"the loss of data-parallel training must be a pure function of the feeds and "
                         f"variables; it writes or queries session state ({', '.join(what)})")
    frozen = [op for op in step.reads if op not in job.variables]
    func = freeze(step.func, {op.name: v for op, v in session._store.read_all(frozen).items()})
    return build_program(func, "shard_gradients")


def _step_graph(job: _Training, batch: BatchFeeds, programs: dict[int, Program], session: Session):
    """The delayed sum over shards of (scaled loss, *gradients) at the variables' values now."""
    state = {op.name: dask.delayed(v, traverse=False, pure=True) for op, v in session._store.read_all(job.variables).items()}
    shipped = {rows: dask.delayed(p, traverse=False, pure=True) for rows, p in programs.items()}
    dtype = job.scale.dtype.as_numpy_dtype
    total_rows = sum(batch.rows)
    parts = [dask.delayed(run_program, pure=True)(
                 shipped[rows], *arguments(programs[rows], {**chunk, **state,
                                                            job.scale.name: dtype(rows / total_rows)}))
             for rows, chunk in zip(batch.rows, batch.chunk_values())]
    return _tree_sum(parts)


def _add(a: tuple, b: tuple) -> tuple:
    """Two shards' (loss, *gradients), summed."""
    return tuple(x + y for x, y in zip(a, b))


def _tree_sum(parts: list):
    """The pairwise sum of delayed tuples: depth log2(len(parts)), not a chain."""
    while len(parts) > 1:
        pairs = [dask.delayed(_add, pure=True)(a, b) for a, b in zip(parts[::2], parts[1::2])]
        parts = pairs + parts[len(pairs) * 2:]
    return parts[0]
