"""`tf.random`: TF1's random tensors under their short names (re-exported names)."""
from lowerflow.frontend.random_ops import (  # noqa: F401
    random_normal as normal, random_uniform as uniform, set_random_seed, truncated_normal,
)
