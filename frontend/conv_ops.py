"""TF1's convolutions (`tf.nn.conv2d`, `conv2d_transpose`, `conv1d`, depthwise and separable
convolutions); pooling is `pool_ops.py`, which shares the window helpers here.

conv2d is the op "lf.conv2d" (`ir/ops/conv.py`, a native implicit GEMM) for float32, with
SAME/VALID resolved here into explicit paddings; its gradients are the native
Conv2DBackpropInput/Conv2DBackpropFilter ops, and conv2d_transpose is the input-gradient op
itself. Other dtypes, and depthwise convolutions, are composed from ops that
already lower natively (cf. the im2col formulation of Caffe): a window op reads, per kernel
offset (i, j), one strided slice of the padded input, the elements that offset meets in
every output position; a composed conv2d concatenates those patches along the channels and
multiplies them with the filter reshaped to [kh*kw*cin, cout] (one GEMM). Spatial dims and the filter's shape
must be known when the graph is built (the batch may be unknown); NCHW is computed as NHWC
between two transposes. Padding follows TF: SAME pads (total // 2) before and the rest after.
"""
from __future__ import annotations

import math


from lowerflow.frontend import array_ops, dtypes
from lowerflow.frontend.core_ops import convert_to_tensor
from lowerflow.frontend.graph import Tensor, name_scope
from lowerflow.frontend.linalg_ops import matmul
from lowerflow.frontend.math_ops import add, multiply
from lowerflow.frontend.op_builder import apply
from lowerflow.ir.ops.conv import output_sizes

_NHWC_FROM_NCHW, _NCHW_FROM_NHWC = [0, 2, 3, 1], [0, 3, 1, 2]


def _spatial(value, what: str, data_format: str, default: int = 1) -> list[int]:
    """An int or 1-, 2- or 4-element list (strides, ksize, dilations) as [h, w]."""
    values = [default] if value is None else [value] if isinstance(value, int) else list(value)
    if len(values) == 1:
        return values * 2
    if len(values) == 2:
        return values
    if len(values) != 4:
        raise ValueError(f"{what} should be of length 1, 2 or 4 but was {len(values)}")
    h, w = (values[2], values[3]) if data_format.startswith("NC") else (values[1], values[2])
    rest = (values[0], values[1]) if data_format.startswith("NC") else (values[0], values[3])
    if rest != (1, 1):
        raise ValueError(f"{what} in the batch and depth dimensions must be 1")
    return [h, w]


def _check_format(data_format: str) -> str:
    if data_format not in ("NHWC", "NCHW"):
        raise ValueError(f"Unknown data format: {data_format}")
    return data_format


def _padding(padding, sizes: list[int], kernel: list[int], strides: list[int], data_format: str) -> list[tuple]:
    """(before, after) per spatial dim for SAME, VALID or explicit [[b, a]] * 4 paddings."""
    if isinstance(padding, str):
        padding = padding.upper()
        if padding == "VALID":
            return [(0, 0), (0, 0)]
        if padding != "SAME":
            raise ValueError(f"padding must be SAME, VALID or explicit, got {padding!r}")
        out = [math.ceil(n / s) for n, s in zip(sizes, strides)]
        total = [max((o - 1) * s + k - n, 0) for o, s, k, n in zip(out, strides, kernel, sizes)]
        return [(t // 2, t - t // 2) for t in total]
    pairs = [tuple(int(v) for v in p) for p in padding]
    if len(pairs) != 4:
        raise ValueError(f"explicit padding must be [[before, after]] for each of 4 dims, got {padding!r}")
    outer = (pairs[0], pairs[1]) if data_format == "NCHW" else (pairs[0], pairs[3])
    if outer != ((0, 0), (0, 0)):
        raise ValueError("Nonzero explicit padding in the batch or depth dimensions is not supported")
    return list(pairs[2:]) if data_format == "NCHW" else list(pairs[1:3])


def _windows(x: Tensor, kernel: list[int], strides: list[int], dilations: list[int], pads: list[tuple],
             pad_value=0) -> tuple[list[Tensor], list[int]]:
    """(one strided slice of the padded NHWC `x` per kernel offset, the output's [oh, ow])."""
    h, w = x.shape.as_list()[1:3]
    if h is None or w is None:
        raise ValueError(f"lowerflow needs the spatial dims of {x.name} when the graph is built, got {x.shape}")
    if any(pads[0] + pads[1]):
        x = array_ops.pad(x, [[0, 0], list(pads[0]), list(pads[1]), [0, 0]], constant_values=pad_value)
    sizes = [h + sum(pads[0]), w + sum(pads[1])]
    span = [(k - 1) * d + 1 for k, d in zip(kernel, dilations)]
    out = [(n - e) // s + 1 for n, e, s in zip(sizes, span, strides)]
    if min(out) <= 0:
        raise ValueError(f"Computed output size would be negative: {min(out)} [input: {sizes}, "
                         f"effective filter: {span}, stride: {strides}]")
    patches = []
    for i in range(kernel[0]):
        for j in range(kernel[1]):
            begin = [0, i * dilations[0], j * dilations[1], 0]
            end = [0, begin[1] + (out[0] - 1) * strides[0] + 1, begin[2] + (out[1] - 1) * strides[1] + 1, 0]
            patches.append(array_ops.strided_slice(x, begin, end, [1, *strides, 1], begin_mask=9, end_mask=9))
    return patches, out


def _nhwc(x: Tensor, data_format: str) -> Tensor:
    return array_ops.transpose(x, _NHWC_FROM_NCHW) if data_format == "NCHW" else x


def _back(y: Tensor, data_format: str, name: str) -> Tensor:
    if data_format == "NCHW":
        return array_ops.transpose(y, _NCHW_FROM_NHWC, name=name)
    return array_ops.identity(y, name=name)


def _check_rank4(x: Tensor, what: str) -> None:
    if x.shape.ndims != 4:
        raise ValueError(f"{what} must be 4-dimensional (shape {x.shape})")


def _operands(input, filter, data_format: str) -> tuple[Tensor, Tensor, list[int]]:
    """(the input as NHWC, the filter, the filter's four dims), both of rank 4, the filter's
    shape known when the graph is built."""
    x, f = _nhwc(convert_to_tensor(input), data_format), convert_to_tensor(filter)
    _check_rank4(x, "input")
    _check_rank4(f, "filter")
    dims = f.shape.as_list()
    if None in dims:
        raise ValueError(f"lowerflow needs the filter's shape when the graph is built, got {f.shape}")
    return x, f, dims


def _native(x: Tensor) -> bool:
    """Whether the native convolution ops take `x` (float32; other dtypes are composed)."""
    return x.dtype == dtypes.float32


def _geometry(strides: list[int], dilations: list[int], pads: list[tuple]) -> dict:
    """The attributes of the native ops (`ir/ops/conv.py`): TF's, in NHWC order."""
    return {"strides": [1, *strides, 1], "dilations": [1, *dilations, 1],
            "explicit_paddings": [0, 0, *pads[0], *pads[1], 0, 0]}


def _conv_setup(x: Tensor, kernel: list[int], strides, padding, data_format: str, dilations) -> tuple:
    """(strides, dilations, pads) of a convolution of the NHWC `x` by a `kernel` [kh, kw]."""
    strides, dilations = _spatial(strides, "strides", data_format), _spatial(dilations, "dilations", data_format)
    sizes = x.shape.as_list()[1:3]
    if None in sizes:
        raise ValueError(f"lowerflow needs the spatial dims of {x.name} when the graph is built, got {x.shape}")
    span = [(k - 1) * d + 1 for k, d in zip(kernel, dilations)]
    return strides, dilations, _padding(padding, sizes, span, strides, data_format)


def conv2d(input, filter=None, strides=None, padding=None, use_cudnn_on_gpu=True, data_format="NHWC",
           dilations=(1, 1, 1, 1), name=None, filters=None) -> Tensor:
    """tf.nn.conv2d: `filter` [kh, kw, cin, cout] over `input` (NHWC or NCHW)."""
    filter = filters if filter is None else filter
    if filter is None or strides is None or padding is None:
        raise TypeError("conv2d() needs input, filter, strides and padding")
    data_format = _check_format(data_format)
    with name_scope(name, "Conv2D", [input, filter]) as scope:
        x, f, (kh, kw, cin, cout) = _operands(input, filter, data_format)
        if x.shape[3].value not in (None, cin):
            raise ValueError(f"Depth of input ({x.shape[3].value}) is not a multiple of input depth of filter ({cin})")
        strides, dilations, pads = _conv_setup(x, [kh, kw], strides, padding, data_format, dilations)
        if _native(x):
            y = apply("Conv2D", [x, f], _geometry(strides, dilations, pads),
                      name=scope if data_format == "NHWC" else None)
            return y if data_format == "NHWC" else _back(y, data_format, scope)
        patches, (oh, ow) = _windows(x, [kh, kw], strides, dilations, pads)
        cols = array_ops.concat(patches, 3) if len(patches) > 1 else patches[0]
        rows = matmul(array_ops.reshape(cols, [-1, kh * kw * cin]), array_ops.reshape(f, [kh * kw * cin, cout]))
        return _back(array_ops.reshape(rows, [-1, oh, ow, cout]), data_format, scope)


def conv2d_transpose(value, filter=None, output_shape=None, strides=None, padding="SAME", data_format="NHWC",
                     name=None, input=None, filters=None, dilations=None) -> Tensor:
    """tf.nn.conv2d_transpose: the gradient of conv2d with respect to its input, taken at
    an input of `output_shape` (`filter` is [kh, kw, out_channels, in_channels]): the
    Conv2DBackpropInput op for float32, else the gradient of a composed conv2d."""
    from lowerflow.frontend.gradients import gradients
    value = input if value is None else value
    filter = filters if filter is None else filter
    dilations = dilations or (1, 1, 1, 1)
    with name_scope(name, "conv2d_transpose", [value, filter, output_shape]) as scope:
        value = convert_to_tensor(value)
        like = array_ops.zeros(output_shape, value.dtype)
        if not _native(value):
            forward = conv2d(like, filter, strides, padding, data_format=data_format, dilations=dilations)
            _check_transpose(value, like, forward.shape)
            (result,) = gradients(forward, like, grad_ys=value)
            return array_ops.identity(result, name=scope)
        data_format = _check_format(data_format)
        x, f, (kh, kw, _, cout) = _operands(like, filter, data_format)
        dy = _nhwc(value, data_format)
        strides, dilations, pads = _conv_setup(x, [kh, kw], strides, padding, data_format, dilations)
        attrs = _geometry(strides, dilations, pads)
        out = output_sizes(x.shape.as_list()[1:3], [kh, kw], attrs)
        _check_transpose(dy, x, [x.shape[0].value, *out, cout])
        y = apply("Conv2DBackpropInput", [x, f, dy], attrs, name=scope if data_format == "NHWC" else None)
        return y if data_format == "NHWC" else _back(y, data_format, scope)


def conv2d_backprop_input(input_sizes, filter=None, out_backprop=None, strides=None, padding=None,
                          use_cudnn_on_gpu=True, data_format="NHWC", dilations=(1, 1, 1, 1), name=None,
                          filters=None) -> Tensor:
    """tf.nn.conv2d_backprop_input: conv2d's gradient with respect to an input of `input_sizes`."""
    return conv2d_transpose(out_backprop, filters if filter is None else filter, input_sizes, strides, padding,
                            data_format, name or "Conv2DBackpropInput", dilations=dilations)


def conv2d_backprop_filter(input, filter_sizes, out_backprop, strides, padding, use_cudnn_on_gpu=True,
                           data_format="NHWC", dilations=(1, 1, 1, 1), name=None) -> Tensor:
    """tf.nn.conv2d_backprop_filter: conv2d's gradient with respect to a filter of
    `filter_sizes`: the Conv2DBackpropFilter op for float32, else the gradient of a composed conv2d."""
    from lowerflow.frontend.gradients import gradients
    sizes = [int(v) for v in array_ops.constant_value(filter_sizes, "filter_sizes").reshape(-1)]
    with name_scope(name, "Conv2DBackpropFilter", [input, out_backprop]) as scope:
        x, dy = convert_to_tensor(input), convert_to_tensor(out_backprop)
        if not _native(x):
            like = array_ops.zeros(sizes, x.dtype)
            forward = conv2d(x, like, strides, padding, data_format=data_format, dilations=dilations)
            _check_transpose(dy, like, forward.shape)
            (result,) = gradients(forward, like, grad_ys=dy)
            return array_ops.identity(result, name=scope)
        data_format = _check_format(data_format)
        x, dy = _nhwc(x, data_format), _nhwc(dy, data_format)
        _check_rank4(x, "input")
        strides, dilations, pads = _conv_setup(x, sizes[:2], strides, padding, data_format, dilations)
        attrs = {**_geometry(strides, dilations, pads), "filter_sizes": sizes}
        return apply("Conv2DBackpropFilter", [x, dy], attrs, name=scope)


def _check_transpose(value: Tensor, like: Tensor, forward_shape) -> None:
    """conv2d_transpose's `value` must have the shape of the convolution of `output_shape`."""
    from lowerflow.frontend.tensor_shape import TensorShape
    forward_shape = TensorShape(forward_shape)
    if forward_shape.is_compatible_with(value.shape) is False:
        raise ValueError(f"conv2d_transpose: value shape {value.shape} does not match the convolution "
                         f"of output_shape {like.shape} ({forward_shape})")


def conv1d(value=None, filters=None, stride=None, padding=None, use_cudnn_on_gpu=None, data_format=None,
           name=None, input=None, dilations=None) -> Tensor:
    """tf.nn.conv1d: `filters` [kw, cin, cout] over `value` [batch, width, cin] (NWC) or
    [batch, cin, width] (NCW), as TF1 computes it: a conv2d over a height of 1."""
    value = input if value is None else value
    data_format = data_format or "NWC"
    if data_format not in ("NWC", "NCW"):
        raise ValueError(f"data_format must be \"NWC\" or \"NCW\", got {data_format!r}")
    first = data_format == "NCW"
    with name_scope(name, "conv1d", [value, filters]) as scope:
        x = array_ops.expand_dims(convert_to_tensor(value), 2 if first else 1)
        f = array_ops.expand_dims(convert_to_tensor(filters), 0)
        stride, dilation = _width(stride, "stride", first), _width(dilations or 1, "dilations", first)
        y = conv2d(x, f, [1, stride], padding, data_format="NCHW" if first else "NHWC", dilations=[1, dilation])
        return array_ops.squeeze(y, [2 if first else 1], name=scope)


def _width(value, what: str, first: bool) -> int:
    """conv1d's stride or dilation: an int, or a list of 1 or 3 (the width's entry)."""
    values = [value] if isinstance(value, int) else list(value)
    if len(values) not in (1, 3):
        raise ValueError(f"{what} should be of length 1 or 3 but was {len(values)}")
    return int(values[0] if len(values) == 1 else values[2 if first else 1])


def depthwise_conv2d_native(input, filter, strides, padding, data_format="NHWC", dilations=(1, 1, 1, 1),
                            name=None) -> Tensor:
    """tf.nn.depthwise_conv2d_native: `filter` [kh, kw, cin, multiplier] convolves each input
    channel c alone into the output channels c * multiplier + m: per kernel offset, the
    window's patch times the filter's [cin, multiplier] slice, summed over the offsets."""
    data_format = _check_format(data_format)
    with name_scope(name, "DepthwiseConv2dNative", [input, filter]) as scope:
        x, f, (kh, kw, cin, mult) = _operands(input, filter, data_format)
        if x.shape[3].value not in (None, cin):
            raise ValueError(f"Dimensions must be equal, but are {x.shape[3].value} and {cin} for "
                             f"'{scope.rstrip('/')}' (op: 'DepthwiseConv2dNative') with input shapes: "
                             f"{x.shape}, {f.shape}.")
        strides, dilations = _spatial(strides, "strides", data_format), _spatial(dilations, "dilations", data_format)
        pads = _padding(padding, x.shape.as_list()[1:3], [(kh - 1) * dilations[0] + 1, (kw - 1) * dilations[1] + 1],
                        strides, data_format)
        patches, (oh, ow) = _windows(x, [kh, kw], strides, dilations, pads)
        y = None
        for k, patch in enumerate(patches):
            term = multiply(array_ops.expand_dims(patch, 4), f[k // kw, k % kw])
            y = term if y is None else add(y, term)
        return _back(array_ops.reshape(y, [-1, oh, ow, cin * mult]), data_format, scope)


def _rate(rate, dilations, strides, data_format) -> list[int]:
    """nn_impl's `rate` (an alias of `dilations`) as [h, w]; TF1 refuses strides with a rate > 1."""
    if rate is not None and dilations is not None:
        raise ValueError("rate and dilations cannot both be specified")
    rate = _spatial(rate if dilations is None else dilations, "rate", data_format or "NHWC")
    if max(rate) > 1 and max(_spatial(strides, "strides", data_format or "NHWC")) > 1:
        raise ValueError("strides > 1 not supported in conjunction with rate > 1")
    return rate


def depthwise_conv2d(input, filter, strides, padding, rate=None, name=None, data_format=None,
                     dilations=None) -> Tensor:
    """tf.nn.depthwise_conv2d: depthwise_conv2d_native with an atrous `rate`."""
    rate = _rate(rate, dilations, strides, data_format)
    with name_scope(name, "depthwise", [input, filter]) as scope:
        return depthwise_conv2d_native(input, filter, strides, padding, data_format or "NHWC", rate, name=scope)


def separable_conv2d(input, depthwise_filter, pointwise_filter, strides, padding, rate=None, name=None,
                     data_format=None, dilations=None) -> Tensor:
    """tf.nn.separable_conv2d: a depthwise convolution, then a 1x1 `pointwise_filter`
    [1, 1, cin * multiplier, cout] mixing the channels."""
    rate = _rate(rate, dilations, strides, data_format)
    with name_scope(name, "separable_conv2d", [input, depthwise_filter, pointwise_filter]) as scope:
        pointwise = convert_to_tensor(pointwise_filter)
        if pointwise.shape.ndims == 4 and pointwise.shape.as_list()[:2] not in ([1, 1], [None, None]):
            raise ValueError(f"Shapes {pointwise.shape[:2]} and (1, 1) are incompatible: the pointwise "
                             f"filter must be [1, 1, in_channels * channel_multiplier, out_channels]")
        depthwise = depthwise_conv2d_native(input, depthwise_filter, strides, padding, data_format or "NHWC",
                                            rate, name="depthwise")
        return conv2d(depthwise, pointwise, [1, 1, 1, 1], "VALID", data_format=data_format or "NHWC", name=scope)
