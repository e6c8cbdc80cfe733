"""`tf.TensorArray` for what RNNs need, as one stacked tensor (cf. TF1's tensor_array_ops.py).

TF1's TensorArray is a handle to per-element storage with a "flow" tensor ordering the
writes. Here a TensorArray of static `size` is a value: its buffer is a tensor of shape
[size, *element_shape], `write` makes a new buffer with row i replaced ("lf.update_row"),
`read` and `gather` are gathers, `stack` is the buffer, `unstack` makes one. As a
`tf.while_loop` loop variable the buffer is what the loop carries (`_as_loop_var`), so a
TensorArray written in a loop body lowers to a carried buffer, and gradients are those of
the row-update and gather ops, with no rules of its own. `dynamic_size=True` needs storage that
grows at run time, which static shapes per run signature do not have: refused by name.
"""
from __future__ import annotations

from lowerflow.frontend import dtypes as dtypes_mod
from lowerflow.frontend.array_ops import concat, gather, reshape, shape, zeros
from lowerflow.frontend.core_ops import constant, convert_to_tensor, identity, no_op
from lowerflow.frontend.functional_ops import _stack, _write
from lowerflow.frontend.graph import Tensor
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


class TensorArray:
    """TF1's `tf.TensorArray` of a static size (`dynamic_size=False`)."""

    def __init__(self, dtype, size=None, dynamic_size=None, clear_after_read=None, tensor_array_name=None,
                 handle=None, flow=None, infer_shape: bool = True, element_shape=None,
                 colocate_with_first_write_call: bool = True, name: str | None = None):
        if dynamic_size:
            raise NotImplementedError("tf.TensorArray(dynamic_size=True) is not supported by lowerflow: "
                                      "its storage would grow at run time; give a static size")
        if handle is not None or flow is not None:
            raise NotImplementedError("tf.TensorArray from a handle or flow is not supported by lowerflow")
        self._dtype = dtypes_mod.as_dtype(dtype)
        self._size = _static_size(size)
        self._element_shape = as_shape(element_shape) if element_shape is not None else TensorShape(None)
        self._buffer: Tensor | None = None
        self._name = name or tensor_array_name or "TensorArray"
        if self._element_shape.is_fully_defined():
            self._buffer = zeros([self._size] + self._element_shape.as_list(), self._dtype)

    dtype = property(lambda self: self._dtype)
    element_shape = property(lambda self: self._element_shape)
    dynamic_size = property(lambda self: False)

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

    def _as_loop_var(self) -> Tensor:
        return self._need_buffer("a tf.while_loop loop variable")

    def _from_loop_var(self, buffer: Tensor) -> "TensorArray":
        return self._with(buffer)

    def size(self, name: str | None = None) -> Tensor:
        return constant(self._size, dtypes_mod.int32, name=name or "TensorArraySizeV3")

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
        return self._with(_write(buffer, index, value))

    def stack(self, name: str | None = None) -> Tensor:
        return identity(self._need_buffer("stack"), name=name or "TensorArrayStack")

    def gather(self, indices, element_shape=None, name: str | None = None) -> Tensor:
        return gather(self._need_buffer("gather"), indices, name=name)

    def concat(self, name: str | None = None) -> Tensor:
        """The elements joined along their first dimension."""
        buffer = self._need_buffer("concat")
        if buffer.shape.ndims is not None and buffer.shape.ndims < 2:
            raise ValueError("Concatenating scalars in TensorArray is unsupported.")
        return reshape(buffer, concat([[-1], shape(buffer)[2:]], 0), name=name)

    def unstack(self, value, name: str | None = None) -> "TensorArray":
        value = self._check(value)
        n = value.shape.as_tuple()[0] if value.shape.ndims else None
        if n is not None and n != self._size:
            raise ValueError(f"Could not scatter {n} elements into a TensorArray of size {self._size}")
        return self._with(value)

    def close(self, name: str | None = None):
        """Nothing to release: a no-op."""
        return no_op(name=name)
