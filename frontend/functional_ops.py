"""`tf.foldl`, `tf.foldr`, `tf.scan` and `tf.map_fn` on `tf.while_loop` (cf. TF1's
functional_ops.py, which builds them on while_loop and TensorArrays).

Element i of `elems` is read with a gather, and a stacked result is a loop variable of its
final shape whose row i is written with "lf.update_row" (the loop copies a changed carried
value each iteration, so the whole stack still moves once per iteration: these suit the
common case of short sequences, a few hundred elements). `scan` and `map_fn` need to know a result's shape before the loop: they compute
the first result before it (so they need at least one element) and loop over the rest;
they also need the number of elements when the graph is built (the row mask is a range).
Nested `elems` and results (tuples, lists, dicts) are supported.
"""
from __future__ import annotations

from collections.abc import Callable

from lowerflow.frontend import nest
from lowerflow.frontend import dtypes
from lowerflow.frontend.array_ops import concat, gather, shape, zeros
from lowerflow.frontend.control_flow import while_loop
from lowerflow.frontend.core_ops import convert_to_tensor
from lowerflow.frontend.graph import Tensor, name_scope
from lowerflow.frontend.op_builder import apply


def _elements(elems) -> tuple[list[Tensor], Tensor | int]:
    """The flat element tensors and their common length (static when known)."""
    flat = [convert_to_tensor(e) for e in nest.flatten(elems)]
    if not flat:
        raise ValueError("elems must be a Tensor or a (possibly nested) sequence of Tensors, got nothing")
    n = flat[0].shape.as_tuple()[0] if flat[0].shape.ndims else None
    return flat, n if n is not None else shape(flat[0])[0]


def _row(elems, flat: list[Tensor], i) -> object:
    return nest.pack_sequence_as(elems, [gather(e, i) for e in flat])


def _fold(fn: Callable, elems, initializer, reverse: bool, back_prop: bool, name: str):
    with name_scope(name):
        flat, n = _elements(elems)
        if initializer is None:
            first = n - 1 if reverse else 0
            acc, start = _row(elems, flat, first), (n - 2 if reverse else 1)
        else:
            acc, start = initializer, (n - 1 if reverse else 0)
        step = -1 if reverse else 1

        def body(i, a):
            return i + step, fn(a, _row(elems, flat, i))

        def cond(i, a):
            return i >= 0 if reverse else i < n

        limit = n if isinstance(n, int) else None  # a static bound keeps the gradient's stacks
        return while_loop(cond, body, [start, acc], back_prop=back_prop, maximum_iterations=limit)[1]


def foldl(fn: Callable, elems, initializer=None, parallel_iterations: int = 10, back_prop: bool = True,
          swap_memory: bool = False, name: str | None = None):
    """tf.foldl: fn(...fn(fn(initializer, e0), e1)..., en-1); without an initializer, e0 is it."""
    return _fold(fn, elems, initializer, False, back_prop, name or "foldl")


def foldr(fn: Callable, elems, initializer=None, parallel_iterations: int = 10, back_prop: bool = True,
          swap_memory: bool = False, name: str | None = None):
    """tf.foldr: foldl from the last element to the first."""
    return _fold(fn, elems, initializer, True, back_prop, name or "foldr")


def _stack(value: Tensor, n: int) -> Tensor:
    """Zeros of shape [n, *value.shape]."""
    if value.shape.is_fully_defined():
        return zeros([n] + value.shape.as_list(), value.dtype)
    return zeros(concat([[n], shape(value)], 0), value.dtype)


def _write(stack: Tensor, i, value: Tensor) -> Tensor:
    """`stack` with row i replaced by `value` (one row's work: "lf.update_row")."""
    return apply("LfUpdateRow", [stack, convert_to_tensor(i, dtype=dtypes.int32), value], name="UpdateRow")


def _stacked_loop(step: Callable, first, carry, n, reverse: bool, back_prop: bool):
    """The stacks of results of scan and map_fn: `first` is the row of the first element
    visited, `step(i, carry) -> (carry, row)` gives the others, in a while_loop."""
    if not isinstance(n, int):
        raise NotImplementedError("tf.scan and tf.map_fn need the length of elems when the graph is built "
                                  "(a static first dimension); tf.foldl and tf.foldr do not")
    first_i = n - 1 if reverse else 0
    flat_first = [convert_to_tensor(r) for r in nest.flatten(first)]
    stacks = [_write(_stack(r, n), first_i, r) for r in flat_first]
    start, delta = (n - 2, -1) if reverse else (1, 1)

    def body(i, c, ss):
        c, rows = step(i, c)
        return i + delta, c, [_write(s, i, convert_to_tensor(r)) for s, r in zip(ss, nest.flatten(rows))]

    def cond(i, c, ss):
        return i >= 0 if reverse else i < n

    _, _, stacks = while_loop(cond, body, [start, carry, stacks], back_prop=back_prop, maximum_iterations=n)
    return nest.pack_sequence_as(first, stacks)


def scan(fn: Callable, elems, initializer=None, parallel_iterations: int = 10, back_prop: bool = True,
         swap_memory: bool = False, infer_shape: bool = True, reverse: bool = False, name: str | None = None):
    """tf.scan: the stack of every fold value a_i = fn(a_i-1, e_i) (a_0 = e_0 without an
    initializer, else fn(initializer, e_0)); `reverse` folds from the last element."""
    with name_scope(name or "scan"):
        flat, n = _elements(elems)
        first = _row(elems, flat, n - 1 if reverse else 0)
        a0 = first if initializer is None else fn(initializer, first)

        def step(i, a):
            a = fn(a, _row(elems, flat, i))
            return a, a
        return _stacked_loop(step, a0, a0, n, reverse, back_prop)


def map_fn(fn: Callable, elems, dtype=None, parallel_iterations=None, back_prop: bool = True,
           swap_memory: bool = False, infer_shape: bool = True, name: str | None = None):
    """tf.map_fn: the stack of fn(e_i) over the first dimension of `elems`."""
    with name_scope(name or "map"):
        flat, n = _elements(elems)
        return _stacked_loop(lambda i, c: (c, fn(_row(elems, flat, i))), fn(_row(elems, flat, 0)), 0, n, False,
                             back_prop)
