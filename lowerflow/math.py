"""`tf.math`: elementwise math (re-exported names)."""
from lowerflow.frontend.math_ops import (  # noqa: F401
    abs, add, add_n, ceil, cos, divide, equal, exp, expm1, floor, floordiv, floormod, greater,
    greater_equal, less, less_equal, log, log1p, logical_and, logical_not, logical_or, logical_xor,
    maximum, minimum, mod, multiply, negative, not_equal, pow, reciprocal, round, rsqrt, sigmoid,
    sign, sin, sqrt, square, squared_difference, subtract, tanh, truediv, truncatediv, truncatemod,
)
from lowerflow.frontend.nn_ops import l2_normalize, log_softmax, softmax, softplus  # noqa: F401
from lowerflow.frontend.reduction_ops import (  # noqa: F401
    argmax, argmin, reduce_all, reduce_any, reduce_max, reduce_mean, reduce_min, reduce_prod, reduce_sum,
)
from lowerflow.frontend.array_ops import unsorted_segment_sum  # noqa: F401
