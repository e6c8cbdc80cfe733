"""`tf.linalg`: linear algebra (re-exported names)."""
from lowerflow.frontend.linalg_ops import matmul, tensordot  # noqa: F401
