"""TF1's `tf.nn` losses: softmax, sparse softmax, sigmoid and weighted cross entropy, and
`l2_loss` (cf. TF's nn_ops.py / nn_impl.py, whose checks and error wording these follow).

Each loss is composed of elementwise ops and reductions, so it runs in the same native step
as the graph around it and its gradient is the one the primitive ops' rules give (TF has
dedicated kernels with fused gradients; the values agree to float rounding). Every form
is the stable one: log-sum-exp after subtracting the row max, and the logistic loss as
max(x, 0) - x * z + log(1 + exp(-|x|)). float16 logits are computed in float32 and the
loss cast back, as TF does.
"""
from __future__ import annotations

from lowerflow.frontend import dtypes
from lowerflow.frontend.core_ops import convert_to_tensor, identity, stop_gradient
from lowerflow.frontend.graph import Tensor, name_scope
from lowerflow.frontend.math_ops import (
    abs, add, cast, exp, greater_equal, log, log1p, multiply, negative, relu, subtract, square, where,
)
from lowerflow.frontend.nn_ops import check_float, shifted_logits
from lowerflow.frontend.op_builder import apply
from lowerflow.frontend.reduction_ops import deprecated_argument_lookup, reduce_sum

def _ensure_xent_args(name: str, labels, logits) -> None:
    if labels is None or logits is None:  # TF's wording, its missing space included
        raise ValueError(f"Both `labels` and `logits` must be provided for {name}"
                         f"Received: labels={labels} and logits={logits}")


def _precise(logits: Tensor) -> Tensor:
    """float16 logits as float32: TF's kernels accumulate half precision in single."""
    return cast(logits, dtypes.float32) if logits.dtype is dtypes.float16 else logits


def _softmax_xent(labels: Tensor, logits: Tensor, axis: int, name: str) -> Tensor:
    """sum(labels * (lse - x)) along `axis`, with lse = log(sum(exp(x))), written so that its
    gradients are TF's kernel's: softmax - labels for the logits (TF assumes each row of
    labels sums to 1, and users with other labels train on that gradient) and lse - x for
    the labels. With s the shifted logits and L their log-sum-exp, the loss is
    sum(labels * (sg(L) - s)) + (L - sg(L)): the second term is 0 and carries softmax."""
    shifted = shifted_logits(logits, axis)
    log_sum = log(reduce_sum(exp(shifted), axis, keepdims=True))
    frozen = stop_gradient(log_sum)
    cross = reduce_sum(multiply(labels, subtract(frozen, shifted)), axis)
    if logits.shape.ndims is not None and logits.shape[axis] == 0:  # no classes: L is -inf, L - sg(L) NaN
        return identity(cross, name=name)
    return add(cross, reduce_sum(subtract(log_sum, frozen), axis), name=name)


def softmax_cross_entropy_with_logits_v2(labels, logits, axis=None, name=None, dim=None) -> Tensor:
    """-sum(labels * log_softmax(logits)) along `axis` (default the last); labels are cast to
    the logits' dtype and may broadcast against them, as TF's kernel allows."""
    axis = deprecated_argument_lookup(axis, "axis", dim, "dim")
    axis = -1 if axis is None else axis
    with name_scope(name, "softmax_cross_entropy_with_logits", [logits, labels]) as scope:
        logits = convert_to_tensor(logits)
        check_float(logits, "features")
        precise = _precise(logits)
        labels = cast(convert_to_tensor(labels), precise.dtype)
        cost = _softmax_xent(labels, precise, axis, None if precise is not logits else scope)
        return cast(cost, logits.dtype, name=scope) if precise is not logits else cost


def softmax_cross_entropy_with_logits(labels=None, logits=None, dim=-1, name=None, axis=None) -> Tensor:
    """The v1 loss: v2 with no gradient into `labels` (note TF's quirk: `dim` defaults to
    -1, so passing `axis` without `dim=None` is refused)."""
    dim = deprecated_argument_lookup(axis, "axis", dim, "dim")
    _ensure_xent_args("softmax_cross_entropy_with_logits", labels, logits)
    with name_scope(name, "softmax_cross_entropy_with_logits_sg", [logits, labels]) as scope:
        labels = stop_gradient(labels, name="labels_stop_gradient")
    return softmax_cross_entropy_with_logits_v2(labels, logits, dim, name=scope)  # the same scope


def _check_sparse_shapes(labels: Tensor, logits: Tensor) -> None:
    """TF's static checks of the sparse loss, in its words."""
    rank, labels_rank = logits.shape.ndims, labels.shape.ndims
    if rank == 0:
        raise ValueError(f"`logits` cannot be a scalar. Received logits={logits}`")
    if rank is not None and labels_rank is not None and labels_rank != rank - 1:
        raise ValueError("`labels.shape.rank` must equal `logits.shape.rank - 1`. Received: "
                         f"labels.shape={labels.shape} of rank {labels_rank} and "
                         f"logits.shape={logits.shape} of rank {rank}")
    outer = logits.shape[:-1] if rank is not None else None
    if (labels.shape.is_fully_defined() and outer is not None and outer.is_fully_defined()
            and labels.shape.as_list() != outer.as_list()):
        raise ValueError("`labels.shape` must equal `logits.shape` except for the last dimension. "
                         f"Received: labels.shape={labels.shape} and logits.shape={logits.shape}")
    if labels.dtype not in (dtypes.int32, dtypes.int64):
        raise TypeError(f"Value passed to parameter 'labels' has DataType {labels.dtype.name} not in "
                        "list of allowed values: int32, int64")


def sparse_softmax_cross_entropy_with_logits(labels=None, logits=None, name=None) -> Tensor:
    """log(sum(exp(logits))) - logits[label] along the last axis, labels being class indices:
    TF's dedicated op (its loss output), which rejects labels outside [0, classes) at run time."""
    _ensure_xent_args("sparse_softmax_cross_entropy_with_logits", labels, logits)
    with name_scope(name, "SparseSoftmaxCrossEntropyWithLogits", [labels, logits]):
        labels, logits = convert_to_tensor(labels), convert_to_tensor(logits)
        _check_sparse_shapes(labels, logits)
        check_float(logits, "features")
        return apply("SparseSoftmaxCrossEntropyWithLogits", [logits, labels],
                     name=name or "SparseSoftmaxCrossEntropyWithLogits")


def _logistic_operands(labels, logits) -> tuple[Tensor, Tensor]:
    logits, labels = convert_to_tensor(logits), convert_to_tensor(labels)
    if not labels.shape.is_compatible_with(logits.shape):
        raise ValueError("`logits` and `labels` must have the same shape, "
                         f"received ({logits.shape} vs {labels.shape}).")
    return labels, logits


def sigmoid_cross_entropy_with_logits(labels=None, logits=None, name=None) -> Tensor:
    """max(x, 0) - x * z + log(1 + exp(-|x|)): the logistic loss without overflow."""
    _ensure_xent_args("sigmoid_cross_entropy_with_logits", labels, logits)
    with name_scope(name, "logistic_loss", [logits, labels]) as scope:
        labels, logits = _logistic_operands(labels, logits)
        positive = greater_equal(logits, 0)
        relu_logits = where(positive, logits, 0)
        neg_abs_logits = where(positive, negative(logits), logits)
        return add(subtract(relu_logits, multiply(logits, labels)), log1p(exp(neg_abs_logits)),
                   name=scope)


def weighted_cross_entropy_with_logits_v2(labels, logits, pos_weight, name=None) -> Tensor:
    """(1 - z) * x + (1 + (q - 1) * z) * (log(1 + exp(-|x|)) + max(-x, 0)): the logistic loss
    with positive examples weighted by q = `pos_weight`, in TF's overflow-free form."""
    with name_scope(name, "logistic_loss", [logits, labels]) as scope:
        labels, logits = _logistic_operands(labels, logits)
        log_weight = 1 + (pos_weight - 1) * labels  # Python arithmetic for a Python weight, as TF
        softplus_neg = log1p(exp(negative(abs(logits)))) + relu(negative(logits))
        linear = (1 - labels) * logits
        return add(linear, log_weight * softplus_neg, name=scope)


def weighted_cross_entropy_with_logits(labels=None, logits=None, pos_weight=None, name=None,
                                       targets=None) -> Tensor:
    """The v1 spelling: `targets` is the deprecated name of `labels`."""
    labels = deprecated_argument_lookup(labels, "labels", targets, "targets")
    return weighted_cross_entropy_with_logits_v2(labels, logits, pos_weight, name)


def l2_loss(t, name=None) -> Tensor:
    """sum(t ** 2) / 2 (TF's L2Loss op, here a squared sum halved)."""
    with name_scope(name, "L2Loss", [t]) as scope:
        t = convert_to_tensor(t)
        check_float(t, "t")
        return multiply(reduce_sum(square(t)), 0.5, name=scope)
