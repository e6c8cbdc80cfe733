"""`tf.nn`: neural-network ops (re-exported names)."""
from lowerflow.frontend.math_ops import relu, sigmoid, tanh  # noqa: F401
