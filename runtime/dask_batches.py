"""`map_batches`: a graph slice over dask arrays, each chunk of rows run natively on a worker.

The client cuts the slice the fetches need, freezes the variables by value (from the
session, or their initial values) and compiles it ahead of time once per distinct chunk
size (`dask_program.Program`: object code and a manifest). The Dask graph then holds,
per chunk, one task `run_program(program, *blocks)`; the program is one key of its own,
so each worker receives its bytes once and keeps the loaded code by content hash.
Feeds are dask arrays chunked along axis 0 (rechunked to one chunk along the other
axes, and to the first array's row chunks) or plain values given to every chunk whole.
Every fetch must have the chunk's rows as its first axis: the results are the chunks'
results concatenated, as dask arrays, in the caller's fetch structure.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import dask
import dask.array as da
import numpy as np

from lowerflow.frontend.graph import Graph, Operation, Tensor, get_default_graph
from lowerflow.runtime.aot import graph_function
from lowerflow.runtime.dask_program import Program, arguments, build_program, compile_errors, run_program
from lowerflow.runtime.fetch import FetchMapper
from lowerflow.runtime.session import Session


@dataclass(frozen=True)
class BatchFeeds:
    """A job's feeds: dask arrays with equal row chunks, and values every chunk gets whole."""

    batched: dict[Tensor, da.Array]
    whole: dict[Tensor, np.ndarray]

    @property
    def rows(self) -> tuple[int, ...]:
        """The rows of each chunk."""
        return next(iter(self.batched.values())).chunks[0]

    @property
    def feeds(self) -> list[Tensor]:
        return [*self.batched, *self.whole]

    def shapes(self, rows: int) -> dict[Tensor, tuple]:
        """The concrete feed shapes of a chunk of `rows` rows."""
        return {**{t: (rows, *a.shape[1:]) for t, a in self.batched.items()},
                **{t: v.shape for t, v in self.whole.items()}}

    def chunk_values(self) -> list[dict[str, object]]:
        """Per chunk, its feeds by tensor name: a delayed block each, and the whole values
        (one delayed key each, shipped once)."""
        blocks = {t.name: a.to_delayed().ravel() for t, a in self.batched.items()}
        whole = {t.name: dask.delayed(v, traverse=False, pure=True) for t, v in self.whole.items()}
        return [{**{name: b[i] for name, b in blocks.items()}, **whole} for i in range(len(self.rows))]

    def persist(self) -> BatchFeeds:
        """The same feeds with the dask arrays computed and kept where they are (on workers)."""
        kept = dask.persist(*self.batched.values())
        return BatchFeeds(dict(zip(self.batched, kept)), self.whole)


def split_feeds(graph: Graph, feeds: Mapping) -> BatchFeeds:
    """`feeds` as `BatchFeeds`: ValueError without a dask array, for unknown chunk sizes or
    for dask arrays of different row counts."""
    batched, whole = {}, {}
    for key, value in feeds.items():
        try:
            t = graph.as_graph_element(key, allow_tensor=True, allow_operation=False)
        except (TypeError, ValueError, KeyError) as e:
            raise TypeError(f"Cannot interpret feed_dict key as Tensor: {e}") from None
        if isinstance(value, da.Array):
            batched[t] = value
        else:
            whole[t] = np.require(np.asarray(value, dtype=t.dtype.as_numpy_dtype), requirements="C")
    if not batched:
        raise ValueError("map_batches needs at least one feed that is a dask array (chunked along axis 0)")
    return BatchFeeds(_aligned(batched), whole)


def _aligned(batched: dict[Tensor, da.Array]) -> dict[Tensor, da.Array]:
    """The arrays rechunked to the first one's row chunks and to one chunk along other axes."""
    first_t, first = next(iter(batched.items()))
    if first.ndim == 0 or any(math.isnan(c) for c in first.chunks[0]):
        raise ValueError(f"the dask array fed to {first_t.name!r} needs a first axis of known chunk sizes "
                         "(see dask's compute_chunk_sizes)")
    out = {}
    for t, a in batched.items():
        if a.ndim == 0 or a.shape[0] != first.shape[0]:
            raise ValueError(f"the dask arrays fed to {first_t.name!r} and {t.name!r} have different row "
                             f"counts: {first.shape[0]} and {a.shape[:1] or 'none (a scalar)'}")
        out[t] = a.rechunk({0: first.chunks[0], **{axis: -1 for axis in range(1, a.ndim)}})
    return out


def feed_graph(feeds: Mapping, session: Session | None, graph: Graph | None) -> Graph:
    """The graph of a job: the session's, else `graph`, else the feed tensors', else the default."""
    if session is not None:
        if graph is not None and graph is not session.graph:
            raise ValueError("the graph given is not the session's graph")
        return session.graph
    if graph is not None:
        return graph
    return next((k.graph for k in feeds if isinstance(k, Tensor)), None) or get_default_graph()


def map_batches(fetches, feeds: Mapping, session: Session | None = None, graph: Graph | None = None):
    """`fetches` (a tensor or a nested structure of them) computed chunk by chunk over the
    rows of the dask arrays in `feeds`: dask arrays, in the structure of `fetches`.
    Variables have their values in `session` (default: their initial values)."""
    graph = feed_graph(feeds, session, graph)
    mapper = FetchMapper(graph, fetches)
    tensors = _tensors(mapper.elements)
    batch = split_feeds(graph, feeds)
    programs = {rows: _program(tensors, batch, rows, session) for rows in sorted(set(batch.rows))}
    shipped = {rows: dask.delayed(p, traverse=False, pure=True) for rows, p in programs.items()}
    parts = [dask.delayed(run_program, pure=True, nout=len(tensors))(shipped[rows], *arguments(programs[rows], values))
             for rows, values in zip(batch.rows, batch.chunk_values())]
    results = next(iter(programs.values())).results
    outputs = [da.concatenate([da.from_delayed(part[j], (rows, *shape[1:]), dtype)
                               for part, rows in zip(parts, batch.rows)])
               for j, (dtype, shape) in enumerate(results)]
    return mapper.build(outputs)


def _tensors(elements: list) -> list[Tensor]:
    ops = [e.name for e in elements if isinstance(e, Operation)]
    if ops:
        raise TypeError(f"map_batches fetches tensors, not operations: {', '.join(ops)}")
    return elements


def _program(tensors: list[Tensor], batch: BatchFeeds, rows: int, session: Session | None) -> Program:
    """The slice compiled for a chunk of `rows` rows; every fetch must keep the rows."""
    with compile_errors():
        func = graph_function(tensors, batch.feeds, session, shapes=batch.shapes(rows))
    for t, typ in zip(tensors, func.result_types):
        if not typ.shape or typ.shape[0] != rows:
            raise ValueError(f"fetch {t.name!r} has shape {list(typ.shape)} for a chunk of {rows} rows: "
                             "map_batches fetches need the chunk's rows as their first axis")
    return build_program(func, "map_batches")
