"""`tf.TensorArray` for what RNNs need, as one stacked tensor (cf. TF1's tensor_array_ops.py).

TF1's TensorArray is a handle to per-element storage with a "flow" tensor ordering the
writes. Here a TensorArray of static `size` is a value: its buffer is a tensor of shape
[size, *element_shape], `write` makes a new buffer with row i replaced ("lf.update_row"),
`read` and `gather` are gathers, `stack` is the buffer, `unstack` makes one. As a
`tf.while_loop` loop variable the buffer is what the loop carries (`_as_loop_var`), so a
TensorArray written in a loop body lowers to a carried buffer, and gradients are those of
the row-update and gather ops, with no rules of its own.

`dynamic_size=True`: the buffer still has a static number of rows, its capacity, and the
array's size is a value beside it (a Python int while it is known when the graph is built).
A write at a constant index past the capacity grows the buffer when the graph is built; a
`tf.while_loop` grows it by its static `maximum_iterations` when the array enters the loop
(one write per iteration fits; a loop without that bound is refused by name) and carries
the size as a second loop variable, each write taking max(size, index + 1). `size()` is
then TF's run-time size; `stack()` and `concat()` of an array whose size is known only at
run time check that it fills the capacity (the loop ran to its bound; else the run fails
with UnimplementedError: the result's shape must be static); reads of elements at or
past the size give zeros where TF fails.
"""
from __future__ import annotations

from lowerflow.frontend import dtypes as dtypes_mod
from lowerflow.frontend.array_ops import concat, gather, reshape, shape, zeros
from lowerflow.frontend.core_ops import constant, convert_to_tensor, identity, no_op
from lowerflow.frontend.functional_ops import _stack, _write
from lowerflow.frontend.graph import Tensor
from lowerflow.frontend.math_ops import add, maximum
from lowerflow.frontend.op_builder import apply
from lowerflow.frontend.tensor_shape import TensorShape, as_shape


def _static_size(size) -> int:
    if isinstance(size, Tensor):
        if size.op.type != "Const":
            raise NotImplementedError("tf.TensorArray needs a size known when the graph is built "
                                      f"(a Python int or a constant), got {size.name}")
        size = size.op.ir_attr("value")
    if size is None or int(size) < 0:
        raise ValueError(f"TensorArray size must be a non-negative integer, got {size}")
    return int(size)


def _constant_index(index) -> int | None:
    if isinstance(index, Tensor):
        return int(index.op.ir_attr("value")) if index.op.type == "Const" and index.shape.ndims == 0 else None
    return int(index)


class TensorArray:
    """TF1's `tf.TensorArray`: a static size, or `dynamic_size=True` bounded when the graph
    is built (module docstring)."""

    def __init__(self, dtype, size=None, dynamic_size=None, clear_after_read=None, tensor_array_name=None,
                 handle=None, flow=None, infer_shape: bool = True, element_shape=None,
                 colocate_with_first_write_call: bool = True, name: str | None = None):
        if handle is not None or flow is not None:
            raise NotImplementedError("tf.TensorArray from a handle or flow is not supported by lowerflow")
        self._dtype = dtypes_mod.as_dtype(dtype)
        self._size = _static_size(size)
        self._dynamic = bool(dynamic_size)
        self._length: int | Tensor = self._size  # the size; a tensor once a loop changed it
        self._element_shape = as_shape(element_shape) if element_shape is not None else TensorShape(None)
        self._buffer: Tensor | None = None
        self._name = name or tensor_array_name or "TensorArray"
        if self._element_shape.is_fully_defined():
            self._buffer = zeros([self._size] + self._element_shape.as_list(), self._dtype)

    dtype = property(lambda self: self._dtype)
    element_shape = property(lambda self: self._element_shape)
    dynamic_size = property(lambda self: self._dynamic)

    @property
    def flow(self) -> Tensor:
        """The buffer (what orders this array's writes, as TF1's flow does)."""
        return self._need_buffer("flow")

    handle = flow

    def _with(self, buffer: Tensor) -> "TensorArray":
        new = object.__new__(TensorArray)
        new.__dict__.update(self.__dict__)
        new._buffer = buffer
        new._element_shape = self._element_shape.merge_with(buffer.shape[1:]) \
            if buffer.shape.ndims is not None else self._element_shape
        return new

    def _need_buffer(self, what: str) -> Tensor:
        if self._buffer is None:
            raise ValueError(f"TensorArray {self._name}: {what} needs its element shape: give element_shape "
                             "(fully defined) or write or unstack a value first")
        return self._buffer

    def _check(self, value) -> Tensor:
        value = convert_to_tensor(value, dtype=self._dtype)
        if value.dtype is not self._dtype:
            raise TypeError(f"TensorArray dtype is {self._dtype.name} but Op is trying to write dtype "
                            f"{value.dtype.name}.")
        return value

    @property
    def _loop_var_count(self) -> int:
        return 2 if self._dynamic else 1

    def _as_loop_var(self, entering=False):
        """What a loop carries: the buffer, and a dynamic array's size; entering a loop with
        the static bound `entering`, a dynamic array grows by that many rows first."""
        buffer = self._need_buffer("a tf.while_loop loop variable")
        if not self._dynamic:
            return buffer
        if entering is None:
            raise NotImplementedError(f"TensorArray {self._name}: a tf.TensorArray(dynamic_size=True) in a "
                                      "tf.while_loop needs the loop's maximum_iterations as a static number "
                                      "(it bounds the array's size in lowerflow's static shapes)")
        if entering is not False:
            buffer = self._grown(buffer, buffer.shape.as_tuple()[0] + entering)
        return buffer, convert_to_tensor(self._length, dtype=dtypes_mod.int32)

    def _from_loop_var(self, buffer: Tensor, length: Tensor | None = None) -> "TensorArray":
        new = self._with(buffer)
        if length is not None:
            new._length = length
        return new

    def _grown(self, buffer: Tensor, rows: int) -> Tensor:
        """`buffer` with zero rows appended up to `rows`."""
        have = buffer.shape.as_tuple()[0]
        if rows <= have:
            return buffer
        return concat([buffer, zeros([rows - have] + self._element_shape.as_list(), self._dtype)], 0)

    def size(self, name: str | None = None) -> Tensor:
        if isinstance(self._length, Tensor):
            return identity(self._length, name=name or "TensorArraySizeV3")
        return constant(self._length, dtypes_mod.int32, name=name or "TensorArraySizeV3")

    def _full(self, what: str) -> Tensor:
        """The buffer of every element: checked at run time when the size is only known then."""
        buffer = self._need_buffer(what)
        if isinstance(self._length, Tensor):
            return apply("LfFullRows", [buffer, self._length], name="FullRows")
        return buffer

    def identity(self) -> "TensorArray":
        return self._with(identity(self._need_buffer("identity")))

    def read(self, index, name: str | None = None) -> Tensor:
        """Element `index` (`clear_after_read` has no effect: reads never consume)."""
        return gather(self._need_buffer("read"), index, name=name)

    def write(self, index, value, name: str | None = None) -> "TensorArray":
        value = self._check(value)
        if not self._element_shape.is_compatible_with(value.shape):
            raise ValueError(f"Could not write to TensorArray index {index} because the value shape is "
                             f"{value.shape} which is incompatible with the TensorArray's inferred element "
                             f"shape: {self._element_shape} (consider setting infer_shape=False).")
        buffer = self._buffer if self._buffer is not None else _stack(value, self._size)
        if not self._dynamic:
            return self._with(_write(buffer, index, value))
        at = _constant_index(index)
        if at is not None and not isinstance(self._length, Tensor):
            if self._buffer is None:
                self._element_shape = self._element_shape.merge_with(value.shape)
            buffer = self._grown(buffer, at + 1)
            new = self._with(_write(buffer, at, value))
            new._length = max(self._length, at + 1)
            return new
        if at is None and not isinstance(self._length, Tensor):
            raise NotImplementedError(f"TensorArray {self._name}: a tf.TensorArray(dynamic_size=True) written at "
                                      "an index known only at run time needs to be in a tf.while_loop with a "
                                      "static maximum_iterations (lowerflow's shapes are static)")
        new = self._with(_write(buffer, index, value))
        index = convert_to_tensor(index, dtype=dtypes_mod.int32)
        new._length = maximum(convert_to_tensor(self._length, dtype=dtypes_mod.int32), add(index, 1))
        return new

    def stack(self, name: str | None = None) -> Tensor:
        return identity(self._full("stack"), name=name or "TensorArrayStack")

    def gather(self, indices, element_shape=None, name: str | None = None) -> Tensor:
        return gather(self._need_buffer("gather"), indices, name=name)

    def concat(self, name: str | None = None) -> Tensor:
        """The elements joined along their first dimension."""
        buffer = self._full("concat")
        if buffer.shape.ndims is not None and buffer.shape.ndims < 2:
            raise ValueError("Concatenating scalars in TensorArray is unsupported.")
        return reshape(buffer, concat([[-1], shape(buffer)[2:]], 0), name=name)

    def unstack(self, value, name: str | None = None) -> "TensorArray":
        value = self._check(value)
        n = value.shape.as_tuple()[0] if value.shape.ndims else None
        if self._dynamic and n is not None:
            new = self._with(value)
            new._length = n
            return new
        if n is not None and n != self._size:
            raise ValueError(f"Could not scatter {n} elements into a TensorArray of size {self._size}")
        return self._with(value)

    def close(self, name: str | None = None):
        """Nothing to release: a no-op."""
        return no_op(name=name)
