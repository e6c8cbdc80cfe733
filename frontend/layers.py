"""TF1's functional `tf.layers` (`dense`, `conv2d`, `conv2d_transpose`, `max_pooling2d`,
`average_pooling2d`, `flatten`, `dropout`, `batch_normalization`) over tf.nn and `tf.get_variable`
(cf. TF1's tf.compat.v1.layers).

Each call opens the variable scope TF1's Layer does (`name`, else the layer's base name made
unique: dense, dense_1, ...), so variables are `dense/kernel`, `dense/bias`,
`batch_normalization/moving_mean` and `reuse` (or a reusing enclosing scope) shares them.
Kernels default to glorot_uniform (get_variable's default), biases to zeros. A `training`
flag may be a Python bool or a bool tensor: a tensor selects between the two results, so
both are computed. batch_normalization's moving-average updates go to UPDATE_OPS; like
TF1's fused kernel, 4-D inputs update the moving variance with the unbiased batch variance.
"""
from __future__ import annotations

import numpy as np

from lowerflow.frontend import array_ops, conv_ops, dtypes, pool_ops
from lowerflow.frontend.core_ops import convert_to_tensor, identity
from lowerflow.frontend.graph import Tensor, get_default_graph
from lowerflow.frontend.init_ops import Ones, Zeros
from lowerflow.frontend.linalg_ops import matmul, tensordot
from lowerflow.frontend.math_ops import cast, maximum, multiply, subtract, truediv, where_v2
from lowerflow.frontend.nn_impl import batch_normalization as _nn_batch_normalization
from lowerflow.frontend.nn_impl import dropout as _nn_dropout
from lowerflow.frontend.nn_ops import bias_add, moments
from lowerflow.frontend.variable_scope import get_variable, variable_scope
from lowerflow.frontend.variables import assign_sub

UPDATE_OPS = "update_ops"


def _pair(value, what: str) -> list[int]:
    values = [value] * 2 if isinstance(value, int) else list(value)
    if len(values) != 2:
        raise ValueError(f"The `{what}` argument must be a tuple of 2 integers. Received: {value!r}")
    return [int(v) for v in values]


def _format(data_format: str) -> str:
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(f"The `data_format` argument must be one of \"channels_first\", \"channels_last\". "
                         f"Received: {data_format}")
    return "NHWC" if data_format == "channels_last" else "NCHW"


def _activate(y: Tensor, activation) -> Tensor:
    return y if activation is None else activation(y)


def dense(inputs, units, activation=None, use_bias=True, kernel_initializer=None, bias_initializer=Zeros(),
          kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
          bias_constraint=None, trainable=True, name=None, reuse=None) -> Tensor:
    """tf.layers.dense: activation(inputs @ kernel + bias) over the last dim."""
    x = convert_to_tensor(inputs)
    depth = x.shape[-1].value if x.shape.ndims else None
    if depth is None:
        raise ValueError("The last dimension of the inputs to `Dense` should be defined. Found `None`.")
    with variable_scope(name, default_name="dense", reuse=reuse):
        kernel = get_variable("kernel", [depth, units], x.dtype, kernel_initializer, kernel_regularizer,
                              trainable=trainable)
        y = matmul(x, kernel, name="MatMul") if x.shape.ndims == 2 else tensordot(x, kernel, [[x.shape.ndims - 1], [0]])
        if use_bias:
            bias = get_variable("bias", [units], x.dtype, bias_initializer, bias_regularizer, trainable=trainable)
            y = bias_add(y, bias)
        return _activate(y, activation)


def conv2d(inputs, filters, kernel_size, strides=(1, 1), padding="valid", data_format="channels_last",
           dilation_rate=(1, 1), activation=None, use_bias=True, kernel_initializer=None,
           bias_initializer=Zeros(), kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
           kernel_constraint=None, bias_constraint=None, trainable=True, name=None, reuse=None) -> Tensor:
    """tf.layers.conv2d: a [kh, kw, in, filters] kernel convolved over `inputs`, plus bias."""
    x, form = convert_to_tensor(inputs), _format(data_format)
    kh, kw = _pair(kernel_size, "kernel_size")
    channels = x.shape[1 if form == "NCHW" else -1].value if x.shape.ndims == 4 else None
    if channels is None:
        raise ValueError("The channel dimension of the inputs should be defined. Found `None`.")
    with variable_scope(name, default_name="conv2d", reuse=reuse):
        kernel = get_variable("kernel", [kh, kw, channels, filters], x.dtype, kernel_initializer,
                              kernel_regularizer, trainable=trainable)
        y = conv_ops.conv2d(x, kernel, _pair(strides, "strides"), padding.upper(), data_format=form,
                            dilations=_pair(dilation_rate, "dilation_rate"))
        if use_bias:
            bias = get_variable("bias", [filters], x.dtype, bias_initializer, bias_regularizer, trainable=trainable)
            y = bias_add(y, bias, data_format=form)
        return _activate(y, activation)


def conv2d_transpose(inputs, filters, kernel_size, strides=(1, 1), padding="valid", data_format="channels_last",
                     activation=None, use_bias=True, kernel_initializer=None, bias_initializer=Zeros(),
                     kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                     kernel_constraint=None, bias_constraint=None, trainable=True, name=None,
                     reuse=None) -> Tensor:
    """tf.layers.conv2d_transpose: tf.nn.conv2d_transpose with a [kh, kw, filters, in] kernel,
    plus bias. Each spatial output is in * stride, plus max(kernel - stride, 0) for "valid"
    (Keras's deconvolution length); an unknown batch is taken from the input at run time."""
    x, form = convert_to_tensor(inputs), _format(data_format)
    if x.shape.ndims != 4:
        raise ValueError(f"Input 0 of layer conv2d_transpose is incompatible with the layer: expected ndim=4, "
                         f"found ndim={x.shape.ndims}. Full shape received: {x.shape}")
    (kh, kw), (sh, sw) = _pair(kernel_size, "kernel_size"), _pair(strides, "strides")
    spatial = [2, 3] if form == "NCHW" else [1, 2]
    channels = x.shape[1 if form == "NCHW" else 3].value
    if channels is None:
        raise ValueError("The channel dimension of the inputs should be defined. Found `None`.")
    with variable_scope(name, default_name="conv2d_transpose", reuse=reuse):
        kernel = get_variable("kernel", [kh, kw, filters, channels], x.dtype, kernel_initializer,
                              kernel_regularizer, trainable=trainable)
        batch, *sizes = [_deconv_length(x, a, k, st, padding) for a, k, st in zip([0] + spatial, (1, kh, kw),
                                                                                   (1, sh, sw))]
        out = [batch, filters, *sizes] if form == "NCHW" else [batch, *sizes, filters]
        out_shape = array_ops.stack(out) if any(isinstance(d, Tensor) for d in out) else out
        y = conv_ops.conv2d_transpose(x, kernel, out_shape, [1, 1, sh, sw] if form == "NCHW" else [1, sh, sw, 1],
                                      padding.upper(), data_format=form)
        if use_bias:
            bias = get_variable("bias", [filters], x.dtype, bias_initializer, bias_regularizer, trainable=trainable)
            y = bias_add(y, bias, data_format=form)
        return _activate(y, activation)


def _deconv_length(x: Tensor, axis: int, kernel: int, stride: int, padding: str):
    """Dim `axis` of the transposed convolution's output: an int where `x`'s is known, else a
    tensor of its run-time value (the batch: kernel = stride = 1)."""
    if padding.lower() not in ("valid", "same"):
        raise ValueError(f"The `padding` argument must be a list/tuple or one of \"valid\", \"same\" "
                         f"(or \"causal\", only for `Conv1D`). Received: {padding}")
    extra = max(kernel - stride, 0) if padding.lower() == "valid" else 0
    length = x.shape[axis].value
    if length is None:
        return array_ops.shape(x)[axis] * stride + extra
    return length * stride + extra


def _pooling(pool, default_name: str):
    def layer(inputs, pool_size, strides, padding="valid", data_format="channels_last", name=None) -> Tensor:
        with variable_scope(name, default_name=default_name):
            return pool(inputs, _pair(pool_size, "pool_size"), _pair(strides, "strides"), padding.upper(),
                        data_format=_format(data_format))

    layer.__doc__ = f"tf.layers.{default_name}: {pool.__name__} over pool_size windows."
    return layer


max_pooling2d = _pooling(pool_ops.max_pool, "max_pooling2d")
average_pooling2d = _pooling(pool_ops.avg_pool, "average_pooling2d")


def flatten(inputs, name=None, data_format="channels_last") -> Tensor:
    """tf.layers.flatten: [batch, everything else] (channels_first is made channels_last first)."""
    x = convert_to_tensor(inputs)
    with variable_scope(name, default_name="flatten"):
        if _format(data_format) == "NCHW" and x.shape.ndims and x.shape.ndims > 2:
            x = array_ops.transpose(x, [0] + list(range(2, x.shape.ndims)) + [1])
        rest = x.shape.as_list()[1:] if x.shape.ndims is not None else [None]
        if None in rest:
            return array_ops.reshape(x, [array_ops.shape(x)[0], -1])
        return array_ops.reshape(x, [-1, int(np.prod(rest, dtype=np.int64))])


def _training_select(training, train_fn, infer_fn) -> Tensor:
    """train_fn() if `training`; for a tensor flag, both, selected at run time."""
    if isinstance(training, (bool, np.bool_)) or training is None:
        return train_fn() if training else infer_fn()
    return where_v2(convert_to_tensor(training, dtypes.bool_), train_fn(), infer_fn())


def dropout(inputs, rate=0.5, noise_shape=None, seed=None, training=False, name=None) -> Tensor:
    """tf.layers.dropout: tf.nn.dropout when `training`, else the inputs."""
    with variable_scope(name, default_name="dropout"):
        x = convert_to_tensor(inputs)
        return _training_select(training, lambda: _nn_dropout(x, rate=rate, noise_shape=noise_shape, seed=seed),
                                lambda: identity(x))


def batch_normalization(inputs, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                        beta_initializer=Zeros(), gamma_initializer=Ones(), moving_mean_initializer=Zeros(),
                        moving_variance_initializer=Ones(), beta_regularizer=None, gamma_regularizer=None,
                        beta_constraint=None, gamma_constraint=None, training=False, trainable=True, name=None,
                        reuse=None, renorm=False, renorm_clipping=None, renorm_momentum=0.99, fused=None,
                        virtual_batch_size=None, adjustment=None) -> Tensor:
    """tf.layers.batch_normalization over `axis`: batch statistics when `training` (and their
    moving averages updated through UPDATE_OPS), else the moving statistics."""
    if renorm or virtual_batch_size is not None or adjustment is not None:
        raise NotImplementedError("batch_normalization: renorm, virtual batches and adjustment are not supported")
    x = convert_to_tensor(inputs)
    rank = x.shape.ndims
    if rank is None:
        raise ValueError("Input has undefined rank.")
    axis = axis % rank
    depth = x.shape[axis].value
    if depth is None:
        raise ValueError(f"Input has undefined `axis` dimension. Received input with shape {x.shape}")
    reduce_axes = [a for a in range(rank) if a != axis]
    keep = [depth if a == axis else 1 for a in range(rank)]
    with variable_scope(name, default_name="batch_normalization", reuse=reuse):
        param_dtype = dtypes.float32 if x.dtype is dtypes.float16 else x.dtype
        gamma = get_variable("gamma", [depth], param_dtype, gamma_initializer, gamma_regularizer,
                             trainable=trainable) if scale else None
        beta = get_variable("beta", [depth], param_dtype, beta_initializer, beta_regularizer,
                            trainable=trainable) if center else None
        moving_mean = get_variable("moving_mean", [depth], param_dtype, moving_mean_initializer, trainable=False)
        moving_var = get_variable("moving_variance", [depth], param_dtype, moving_variance_initializer,
                                  trainable=False)
        if training is False or training is None:
            return _normalize(x, moving_mean, moving_var, beta, gamma, epsilon, keep)
        mean, var = moments(x, reduce_axes)
        chosen_mean = _training_select(training, lambda: mean, lambda: moving_mean.value())
        chosen_var = _training_select(training, lambda: var, lambda: moving_var.value())
        y = _normalize(x, chosen_mean, chosen_var, beta, gamma, epsilon, keep)
        update_var = chosen_var
        if rank == 4 and (fused is None or fused):  # TF1's fused kernel: the unbiased variance
            n = truediv(cast(array_ops.size(x), param_dtype), float(depth))
            unbiased = multiply(var, truediv(n, maximum(subtract(n, 1.0), 1.0)))
            update_var = _training_select(training, lambda: unbiased, lambda: moving_var.value())
        for variable, value in ((moving_mean, chosen_mean), (moving_var, update_var)):
            delta = multiply(subtract(variable.value(), value), 1 - momentum)
            get_default_graph().add_to_collection(UPDATE_OPS, assign_sub(variable, delta).op)
        return y


def _normalize(x, mean, var, beta, gamma, epsilon, keep: list[int]) -> Tensor:
    def shaped(t):
        return None if t is None else array_ops.reshape(t, keep) if len(keep) > 1 else t
    return _nn_batch_normalization(x, shaped(mean), shaped(var), shaped(beta), shaped(gamma), epsilon)
