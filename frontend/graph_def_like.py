"""lowerflow's gradient plumbing ops (`ir/ops/like.py`) in a GraphDef as TensorFlow's own ops,
so that TensorFlow imports and runs a training graph lowerflow exported.

Each `Lf*` op exports as the TF ops that TF's gradient functions build for the same job
(cf. TF's math_grad.py and array_grad.py): `LfSumTo` as Shape + BroadcastGradientArgs + Sum +
Reshape, `LfBroadcastLike` as ExpandDims + BroadcastTo, `LfReshapeLike` as Reshape to a
Shape, `LfSplitLike` as SplitV of the likes' sizes, `LfSliceGrad` as Pad (a Slice's gradient)
or StridedSliceGrad; Conv2DBackpropInput, which takes the forward input for its shape, as
Shape + TF's Conv2DBackpropInput. The last node has the op's name, so its consumers read it unchanged;
the helper nodes are named under it. Attributes with a leading underscore, which TensorFlow
leaves alone, record what the nodes stand for: the last node carries the op type
(`_lf_op`), its inputs (`_lf_inputs`) and attributes (`_lf_attr_<name>`), the helpers
`_lf_part_of`. Import builds the `Lf*` op back from those and skips the helpers, so a
GraphDef lowerflow wrote still exports unchanged after import.
"""
from __future__ import annotations

import numpy as np

from lowerflow.frontend import dtypes, protos, tf_values
from lowerflow.frontend.graph import Operation, Tensor

OP, INPUTS, PART_OF, ATTR = "_lf_op", "_lf_inputs", "_lf_part_of", "_lf_attr_"
_INT32 = dtypes.int32


def _input(t: Tensor) -> str:
    return t.op.name if t.value_index == 0 else t.name


class _Nodes:
    """The NodeDefs of one op's export: helpers named `<op>/<what>`, then the op's own node."""

    def __init__(self, op: Operation, taken: set):
        self.op, self.taken, self.nodes = op, taken, []

    def add(self, tf_type: str, what: str | None, inputs: list[str], **attrs) -> str:
        if what is None:
            name = self.op.name
        else:
            base, name, n = f"{self.op.name}/{what}", f"{self.op.name}/{what}", 1
            while name in self.taken:
                name, n = f"{base}_{n}", n + 1
            self.taken.add(name)
        node = protos.NodeDef(name=name, op=tf_type, input=inputs)
        for key, value in attrs.items():
            if isinstance(value, protos.AttrValue):
                node.attr[key].CopyFrom(value)
            elif isinstance(value, dtypes.DType):
                node.attr[key].type = tf_values.dtype_enum(value)
            else:
                node.attr[key].CopyFrom(tf_values.generic_attr_value(value))
        if what is not None:
            node.attr[PART_OF].s = self.op.name.encode()
        self.nodes.append(node)
        return name

    def shape(self, t: Tensor, what: str) -> str:
        return self.add("Shape", what, [_input(t)], T=t.dtype, out_type=_INT32)

    def ints(self, values, what: str) -> str:
        value = tf_values.attr_value(np.array(values, np.int32), "tensor")
        return self.add("Const", what, [], dtype=_INT32, value=value)

    def finish(self) -> list:
        """The NodeDefs, the last tagged with the op it stands for (and its control inputs)."""
        last = self.nodes[-1]
        last.attr[OP].s = self.op.type.encode()
        last.attr[INPUTS].list.s.extend(_input(t).encode() for t in self.op.inputs)
        for key, value in self.op._attrs.items():
            last.attr[ATTR + key].CopyFrom(tf_values.generic_attr_value(value))
        last.input.extend("^" + c.name for c in self.op.control_inputs)
        return self.nodes


class NotExpressible(ValueError):
    """The op cannot be written in TF's ops (a negative axis of an input of unknown rank):
    the exporter then writes it under its own type, which only lowerflow imports."""


def _axis(axis: int, t: Tensor, op: Operation) -> int:
    if axis >= 0:
        return axis
    if t.shape.ndims is None:
        raise NotExpressible(f"'{op.name}' ({op.type}): axis {axis} of an input of unknown rank")
    return axis % t.shape.ndims


def _sum_to(n: _Nodes, a: Tensor, like: Tensor) -> None:
    like_shape, a_shape = n.shape(like, "like_shape"), n.shape(a, "shape")
    args = n.add("BroadcastGradientArgs", "BroadcastGradientArgs", [like_shape, a_shape], T=_INT32)
    total = n.add("Sum", "Sum", [_input(a), args], T=a.dtype, Tidx=_INT32, keep_dims=False)
    n.add("Reshape", None, [total, like_shape], T=a.dtype, Tshape=_INT32)


def _broadcast_like(n: _Nodes, a: Tensor, like: Tensor) -> None:
    x = _input(a)
    for i, axis in enumerate(sorted(_axis(ax, like, n.op) for ax in n.op._attrs.get("axes") or [])):
        x = n.add("ExpandDims", f"ExpandDims_{i}", [x, n.ints(axis, f"axis_{i}")], T=a.dtype, Tdim=_INT32)
    n.add("BroadcastTo", None, [x, n.shape(like, "like_shape")], T=a.dtype, Tidx=_INT32)


def _reshape_like(n: _Nodes, a: Tensor, like: Tensor) -> None:
    n.add("Reshape", None, [_input(a), n.shape(like, "like_shape")], T=a.dtype, Tshape=_INT32)


def _split_like(n: _Nodes, g: Tensor, *likes: Tensor) -> None:
    axis = _axis(n.op._attrs["axis"], g, n.op)
    sizes = []
    for i, like in enumerate(likes):
        shape = n.shape(like, f"like_shape_{i}")
        bounds = [n.ints([axis + k], f"bound{k}_{i}") for k in range(2)] + [n.ints([1], f"stride_{i}")]
        sizes.append(n.add("StridedSlice", f"size_{i}", [shape, *bounds], T=_INT32, Index=_INT32, begin_mask=0,
                           end_mask=0, ellipsis_mask=0, new_axis_mask=0, shrink_axis_mask=1))
    size_splits = n.add("Pack", "sizes", sizes, T=_INT32, N=len(sizes), axis=0)
    n.add("SplitV", None, [_input(g), size_splits, n.ints(axis, "axis")], T=g.dtype, Tlen=_INT32,
          num_split=len(likes))


def _slice_grad(n: _Nodes, g: Tensor, like: Tensor) -> None:
    attrs = n.op._attrs
    like_shape = n.shape(like, "like_shape")
    begin = n.ints(attrs["begin"], "begin")
    if attrs["op"] == "lf.slice":  # zeros around g: [begin, shape - begin - size(g)] per dim
        rest = n.add("Sub", "rest", [like_shape, begin], T=_INT32)
        after = n.add("Sub", "after", [rest, n.shape(g, "shape")], T=_INT32)
        paddings = n.add("Pack", "paddings", [begin, after], T=_INT32, N=2, axis=1)
        n.add("Pad", None, [_input(g), paddings], T=g.dtype, Tpaddings=_INT32)
        return
    masks = {k: int(attrs[k]) for k in ("begin_mask", "end_mask", "ellipsis_mask", "new_axis_mask",
                                        "shrink_axis_mask")}
    n.add("StridedSliceGrad", None, [like_shape, begin, n.ints(attrs["end"], "end"),
                                     n.ints(attrs["strides"], "strides"), _input(g)],
          T=g.dtype, Index=_INT32, **masks)


def _conv2d_backprop_input(n: _Nodes, x: Tensor, f: Tensor, dy: Tensor) -> None:
    """TF's Conv2DBackpropInput takes the input's shape (`input_sizes`) where ours takes the input."""
    attrs = {k: n.op._attrs[k] for k in ("strides", "dilations", "explicit_paddings")}
    n.add("Conv2DBackpropInput", None, [n.shape(x, "input_sizes"), _input(f), _input(dy)], T=dy.dtype,
          padding="EXPLICIT", data_format="NHWC", use_cudnn_on_gpu=True, **attrs)


EXPORTS = {"LfSumTo": _sum_to, "LfBroadcastLike": _broadcast_like, "LfReshapeLike": _reshape_like,
           "LfSplitLike": _split_like, "LfSliceGrad": _slice_grad, "Conv2DBackpropInput": _conv2d_backprop_input}


def export_like(op: Operation, taken: set) -> list:
    """The NodeDefs of a `LfSumTo`, ... op, in TensorFlow's ops (module docstring); raises
    NotExpressible, before taking any name, when they cannot say it."""
    nodes = _Nodes(op, set(taken))
    EXPORTS[op.type](nodes, *op.inputs)
    taken |= nodes.taken
    return nodes.finish()


def imported_like(node) -> tuple[str, list[str], dict] | None:
    """(op type, input names, attributes) of the op a tagged last node stands for, else None."""
    if OP not in node.attr:
        return None
    attrs = {k[len(ATTR):]: tf_values.generic_from_attr_value(v) for k, v in node.attr.items() if k.startswith(ATTR)}
    return node.attr[OP].s.decode(), [s.decode() for s in node.attr[INPUTS].list.s], attrs


def is_helper(node) -> bool:
    """A node that only helps a tagged last node (import skips it)."""
    return PART_OF in node.attr
