"""TF1's `tf.losses`: weighted losses reduced by `Reduction`, and the loss collections (cf. TF's
ops/losses/losses_impl.py and util.py, whose op sequence, names and checks these follow).

Every loss computes per-element losses in float32, multiplies them by `weights` (a scalar or
a tensor broadcastable under TF's restricted rule: the losses' rank, each dim 1 or equal)
and reduces them as `reduction` says; the result is cast back to the input dtype and added
to `loss_collection`. Averages divide "no NaN" (0 where the divisor is 0), so all-zero
weights give a zero loss. The per-element losses are composed of primitive ops, so their
gradients come from those ops' rules. Weight shapes are checked when they are static; TF
checks the rest at run time with an Assert op, which lowerflow does not have (the product's
own broadcasting still rejects sizes that do not fit).
"""
from __future__ import annotations

import numpy as np

from lowerflow.frontend import dtypes
from lowerflow.frontend.array_ops import ones_like, shape, size, squeeze, zeros_like
from lowerflow.frontend.core_ops import constant, convert_to_tensor, stop_gradient
from lowerflow.frontend.graph import Tensor, get_default_graph, name_scope
from lowerflow.frontend.math_ops import (
    abs, add, add_n, cast, equal, log, minimum, multiply, negative, realdiv, relu, squared_difference,
    subtract, truediv, where,
)
from lowerflow.frontend.nn_losses import (
    sigmoid_cross_entropy_with_logits, softmax_cross_entropy_with_logits_v2,
    sparse_softmax_cross_entropy_with_logits,
)
from lowerflow.frontend.reduction_ops import deprecated_argument_lookup, reduce_sum
from lowerflow.frontend.tensor_shape import as_shape
from lowerflow.frontend.variable_scope import REGULARIZATION_LOSSES

LOSSES = "losses"


class Reduction:
    """How a weighted loss is reduced; the values are TF's strings."""

    NONE = "none"
    SUM = "weighted_sum"
    SUM_OVER_BATCH_SIZE = "weighted_sum_over_batch_size"
    MEAN = "weighted_mean"
    SUM_BY_NONZERO_WEIGHTS = "weighted_sum_by_nonzero_weights"
    SUM_OVER_NONZERO_WEIGHTS = SUM_BY_NONZERO_WEIGHTS

    @classmethod
    def all(cls) -> tuple:
        return (cls.NONE, cls.SUM, cls.MEAN, cls.SUM_OVER_BATCH_SIZE, cls.SUM_OVER_NONZERO_WEIGHTS,
                cls.SUM_BY_NONZERO_WEIGHTS)

    @classmethod
    def validate(cls, key) -> None:
        if key not in cls.all():
            raise ValueError(f"Invalid Reduction Key {key}. Key should be one of {cls.all()}.")


def _cast(x, dtype) -> Tensor:
    """math_ops.cast as TF names it: a Python value becomes the constant `Cast/x`."""
    if isinstance(x, Tensor) or hasattr(x, "_as_tensor"):
        return cast(x, dtype)
    with name_scope(None, "Cast") as scope:
        return cast(convert_to_tensor(x, name="x"), dtype, name=scope)


def _div_no_nan(x: Tensor, y: Tensor, name: str) -> Tensor:
    """x / y, or 0 where y == 0 (TF's DivNoNan); the divisor is made safe before dividing so
    the gradient of the unused quotient is 0, not NaN."""
    is_zero = equal(y, 0)
    quotient = realdiv(x, where(is_zero, 1, y))
    return where(is_zero, 0, quotient, name=name)


def _assert_broadcastable(weights, values: Tensor) -> None:
    """TF's static check: scalar weights, or the values' rank with each dim 1 or equal."""
    prefix = "weights can not be broadcast to values."
    w_shape = weights.shape if isinstance(weights, Tensor) else as_shape(np.shape(weights))
    w_rank, v_rank = w_shape.ndims, values.shape.ndims
    if w_rank is None or v_rank is None or w_rank == 0:
        return
    received = f"Received weights={weights}, values={values}"
    if w_rank != v_rank:
        raise ValueError(f"{prefix} values.rank={v_rank}. weights.rank={w_rank}. values.shape={values.shape}. "
                         f"weights.shape={w_shape}. {received}")
    if w_shape.is_fully_defined() and values.shape.is_fully_defined():
        w_dims, v_dims = w_shape.as_list(), values.shape.as_list()
        for i, (w, v) in enumerate(zip(w_dims, v_dims)):
            if w not in (1, v):
                raise ValueError(f"{prefix} Mismatch at dim {i}. values.shape={_np_list(v_dims)}, "
                                 f"weights.shape={_np_list(w_dims)}. {received}")


def _np_list(dims: list[int]) -> str:
    return "[" + " ".join(map(str, dims)) + "]"  # as numpy prints the constant shape


def _broadcast_weights(weights: Tensor, values: Tensor) -> Tensor:
    """`weights` times ones shaped like `values`, unless they already have that shape."""
    with name_scope(None, "broadcast_weights", (weights, values)) as scope:
        weights = convert_to_tensor(weights, dtype=values.dtype)
        if (weights.shape.is_fully_defined() and values.shape.is_fully_defined()
                and weights.shape.is_compatible_with(values.shape)):
            return weights
        _assert_broadcastable(weights, values)
        return multiply(weights, ones_like(values), name=scope)


def _num_present(losses: Tensor, weights: Tensor) -> Tensor:
    """How many losses have a non-zero weight, as float32."""
    with name_scope(None, "num_present", (losses, weights)) as scope:
        weights = _cast(weights, dtypes.float32)
        present = where(equal(weights, 0.0), zeros_like(weights), ones_like(weights))
        return reduce_sum(_broadcast_weights(present, losses), name=scope)


def _num_elements(losses: Tensor) -> Tensor:
    with name_scope(None, "num_elements", [losses]) as scope:
        return cast(size(losses, name=scope), losses.dtype)


def _safe_mean(losses: Tensor, num_present: Tensor) -> Tensor:
    return _div_no_nan(reduce_sum(losses), num_present, name="value")


def _reduce(weighted: Tensor, losses: Tensor, weights: Tensor, reduction: str) -> Tensor:
    if reduction == Reduction.NONE:
        return weighted
    loss = reduce_sum(weighted)
    if reduction == Reduction.MEAN:
        return _safe_mean(loss, reduce_sum(multiply(ones_like(losses), weights, name="mul")))
    if reduction == Reduction.SUM_BY_NONZERO_WEIGHTS:
        return _safe_mean(loss, _num_present(losses, weights))
    if reduction == Reduction.SUM_OVER_BATCH_SIZE:
        return _safe_mean(loss, _num_elements(losses))
    return loss


def compute_weighted_loss(losses, weights=1.0, scope=None, loss_collection=LOSSES,
                          reduction=Reduction.SUM_BY_NONZERO_WEIGHTS) -> Tensor:
    """`losses * weights` reduced by `reduction` (computed in float32, returned in the
    losses' dtype) and added to `loss_collection`."""
    Reduction.validate(reduction)
    with name_scope(scope, "weighted_loss", (losses, weights)):
        losses = convert_to_tensor(losses)
        _assert_broadcastable(weights, losses)
        input_dtype = losses.dtype
        losses = cast(losses, dtypes.float32)
        weights = _cast(weights, dtypes.float32)
        loss = _reduce(multiply(losses, weights), losses, weights, reduction)
        loss = cast(loss, input_dtype)
        add_loss(loss, loss_collection)
        return loss


def _require(**args) -> None:
    for name, value in args.items():
        if value is None:
            raise ValueError(f"Argument `{name}` must not be None.")


def _float_pair(labels, predictions) -> tuple[Tensor, Tensor]:
    """Both operands as float32, of compatible shapes."""
    predictions = _cast(predictions, dtypes.float32)
    labels = _cast(labels, dtypes.float32)
    predictions.shape.assert_is_compatible_with(labels.shape)
    return labels, predictions


def absolute_difference(labels, predictions, weights=1.0, scope=None, loss_collection=LOSSES,
                        reduction=Reduction.SUM_BY_NONZERO_WEIGHTS) -> Tensor:
    """|predictions - labels|, weighted and reduced."""
    _require(labels=labels, predictions=predictions)
    with name_scope(scope, "absolute_difference", (predictions, labels, weights)) as scope:
        labels, predictions = _float_pair(labels, predictions)
        losses = abs(subtract(predictions, labels))
        return compute_weighted_loss(losses, weights, scope, loss_collection, reduction=reduction)


def mean_squared_error(labels, predictions, weights=1.0, scope=None, loss_collection=LOSSES,
                       reduction=Reduction.SUM_BY_NONZERO_WEIGHTS) -> Tensor:
    """(predictions - labels) ** 2, weighted and reduced."""
    _require(labels=labels, predictions=predictions)
    with name_scope(scope, "mean_squared_error", (predictions, labels, weights)) as scope:
        labels, predictions = _float_pair(labels, predictions)
        losses = squared_difference(predictions, labels)
        return compute_weighted_loss(losses, weights, scope, loss_collection, reduction=reduction)


def huber_loss(labels, predictions, weights=1.0, delta=1.0, scope=None, loss_collection=LOSSES,
               reduction=Reduction.SUM_BY_NONZERO_WEIGHTS) -> Tensor:
    """0.5 * e**2 for |e| <= delta, else 0.5 * delta**2 + delta * (|e| - delta), as TF
    computes it: quadratic part min(|e|, delta), the rest linear."""
    _require(labels=labels, predictions=predictions)
    with name_scope(scope, "huber_loss", (predictions, labels, weights)) as scope:
        labels, predictions = _float_pair(labels, predictions)
        abs_error = abs(subtract(predictions, labels))
        quadratic = minimum(abs_error, delta)
        linear = subtract(abs_error, quadratic)
        half = convert_to_tensor(0.5, dtype=quadratic.dtype)
        losses = add(multiply(half, multiply(quadratic, quadratic)), multiply(delta, linear))
        return compute_weighted_loss(losses, weights, scope, loss_collection, reduction=reduction)


def log_loss(labels, predictions, weights=1.0, epsilon=1e-7, scope=None, loss_collection=LOSSES,
             reduction=Reduction.SUM_BY_NONZERO_WEIGHTS) -> Tensor:
    """-z * log(p + eps) - (1 - z) * log(1 - p + eps), weighted and reduced."""
    _require(labels=labels, predictions=predictions)
    with name_scope(scope, "log_loss", (predictions, labels, weights)) as scope:
        labels, predictions = _float_pair(labels, predictions)
        positive = negative(multiply(labels, log(add(predictions, epsilon, name="add"))))
        one_minus = subtract(1, labels, name="sub")
        negative_part = multiply(one_minus, log(add(subtract(1, predictions, name="sub"), epsilon, name="add")))
        losses = subtract(positive, negative_part, name="sub")
        return compute_weighted_loss(losses, weights, scope, loss_collection, reduction=reduction)


def hinge_loss(labels, logits, weights=1.0, scope=None, loss_collection=LOSSES,
               reduction=Reduction.SUM_BY_NONZERO_WEIGHTS) -> Tensor:
    """max(0, 1 - (2z - 1) * x) for labels z in {0, 1}, weighted and reduced."""
    _require(labels=labels, logits=logits)
    with name_scope(scope, "hinge_loss", (logits, labels, weights)) as scope:
        labels, logits = _float_pair(labels, logits)
        all_ones = ones_like(labels)
        signs = subtract(multiply(2, labels, name="mul"), all_ones)
        losses = relu(subtract(all_ones, multiply(signs, logits)))
        return compute_weighted_loss(losses, weights, scope, loss_collection, reduction=reduction)


def cosine_distance(labels, predictions, axis=None, weights=1.0, scope=None, loss_collection=LOSSES,
                    reduction=Reduction.SUM_BY_NONZERO_WEIGHTS, dim=None) -> Tensor:
    """1 - sum(labels * predictions) along `axis` (both assumed unit-normalised), kept as
    a size-1 dim, weighted and reduced."""
    axis = deprecated_argument_lookup(axis, "axis", dim, "dim")
    if axis is None:
        raise ValueError("You must specify argument `axis`.")
    _require(labels=labels, predictions=predictions)
    with name_scope(scope, "cosine_distance_loss", (predictions, labels, weights)) as scope:
        labels, predictions = _float_pair(labels, predictions)
        radial = multiply(predictions, labels)
        losses = subtract(1, reduce_sum(radial, axis=(axis,), keepdims=True), name="sub")
        return compute_weighted_loss(losses, weights, scope, loss_collection, reduction=reduction)


def _logits_and_labels(labels, logits) -> tuple[Tensor, Tensor]:
    """Labels cast to the logits' dtype (which the cross entropies keep), shapes compatible."""
    logits = convert_to_tensor(logits)
    labels = cast(labels, logits.dtype)
    logits.shape.assert_is_compatible_with(labels.shape)
    return labels, logits


def softmax_cross_entropy(onehot_labels, logits, weights=1.0, label_smoothing=0, scope=None,
                          loss_collection=LOSSES, reduction=Reduction.SUM_BY_NONZERO_WEIGHTS) -> Tensor:
    """Softmax cross entropy of one-hot labels (smoothed towards 1/classes by
    `label_smoothing`, never differentiated), weighted and reduced."""
    _require(onehot_labels=onehot_labels, logits=logits)
    with name_scope(scope, "softmax_cross_entropy_loss", (logits, onehot_labels, weights)) as scope:
        onehot_labels, logits = _logits_and_labels(onehot_labels, logits)
        if label_smoothing > 0:
            num_classes = cast(shape(onehot_labels)[-1], logits.dtype)
            smooth_negatives = truediv(label_smoothing, num_classes, name="truediv")
            onehot_labels = add(multiply(onehot_labels, 1.0 - label_smoothing, name="mul"), smooth_negatives,
                                name="add")
        onehot_labels = stop_gradient(onehot_labels, name="labels_stop_gradient")
        losses = softmax_cross_entropy_with_logits_v2(labels=onehot_labels, logits=logits, name="xentropy")
        return compute_weighted_loss(losses, weights, scope, loss_collection, reduction=reduction)


def sigmoid_cross_entropy(multi_class_labels, logits, weights=1.0, label_smoothing=0, scope=None,
                          loss_collection=LOSSES, reduction=Reduction.SUM_BY_NONZERO_WEIGHTS) -> Tensor:
    """Sigmoid cross entropy of labels in [0, 1] (smoothed towards 1/2 by `label_smoothing`),
    weighted and reduced."""
    _require(multi_class_labels=multi_class_labels, logits=logits)
    with name_scope(scope, "sigmoid_cross_entropy_loss", (logits, multi_class_labels, weights)) as scope:
        labels, logits = _logits_and_labels(multi_class_labels, logits)
        if label_smoothing > 0:
            labels = add(multiply(labels, 1 - label_smoothing, name="mul"), 0.5 * label_smoothing, name="add")
        losses = sigmoid_cross_entropy_with_logits(labels=labels, logits=logits, name="xentropy")
        return compute_weighted_loss(losses, weights, scope, loss_collection, reduction=reduction)


def _squeeze_last(t: Tensor) -> Tensor:
    return squeeze(t, [-1])


def _remove_squeezable_dimensions(labels, logits, weights) -> tuple[Tensor, Tensor, Tensor]:
    """Labels `[N, 1]` beside logits `[N, C]` lose their last dim, and weights one dim more
    than the labels lose theirs (TF's rule; here for static ranks only)."""
    with name_scope(None, "remove_squeezable_dimensions", [labels, logits]):
        labels, logits = convert_to_tensor(labels), convert_to_tensor(logits)
        rank, labels_rank = logits.shape.ndims, labels.shape.ndims
        if rank is not None and labels_rank is not None:
            if rank - labels_rank == 2 and logits.shape[-1].is_compatible_with(1):
                logits = _squeeze_last(logits)
            elif rank == labels_rank and labels.shape[-1].is_compatible_with(1):
                labels = _squeeze_last(labels)
    weights = convert_to_tensor(weights)
    labels_rank, weights_rank = labels.shape.ndims, weights.shape.ndims
    if labels_rank is not None and weights_rank is not None and weights_rank - labels_rank == 1:
        weights = _squeeze_last(weights)
    return labels, logits, weights


def sparse_softmax_cross_entropy(labels, logits, weights=1.0, scope=None, loss_collection=LOSSES,
                                 reduction=Reduction.SUM_BY_NONZERO_WEIGHTS) -> Tensor:
    """Softmax cross entropy of class indices, weighted and reduced."""
    _require(labels=labels, logits=logits)
    with name_scope(scope, "sparse_softmax_cross_entropy_loss", (logits, labels, weights)) as scope:
        labels, logits, weights = _remove_squeezable_dimensions(labels, logits, weights)
        losses = sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits, name="xentropy")
        return compute_weighted_loss(losses, weights, scope, loss_collection, reduction=reduction)


def add_loss(loss, loss_collection=LOSSES) -> None:
    """Add an externally defined loss to `loss_collection` (none: nothing is added)."""
    if loss_collection:
        get_default_graph().add_to_collection(loss_collection, loss)


def get_losses(scope=None, loss_collection=LOSSES) -> list:
    return get_default_graph().get_collection(loss_collection, scope)


def get_regularization_losses(scope=None) -> list:
    return get_default_graph().get_collection(REGULARIZATION_LOSSES, scope)


def get_regularization_loss(scope=None, name="total_regularization_loss") -> Tensor:
    """The sum of the regularization losses (a constant 0.0 when there are none)."""
    losses = get_regularization_losses(scope)
    if losses:
        return add_n(losses, name=name)
    return constant(0.0)


def get_total_loss(add_regularization_losses=True, name="total_loss", scope=None) -> Tensor:
    """The sum of the collected losses, and by default of the regularization losses."""
    losses = get_losses(scope=scope)
    if add_regularization_losses:
        losses += get_regularization_losses(scope=scope)
    return add_n(losses, name=name)
