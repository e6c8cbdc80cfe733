"""`tf.layers`: TF1's functional layers (re-exported names)."""
from lowerflow.frontend.layers import (  # noqa: F401
    average_pooling2d, batch_normalization, conv2d, conv2d_transpose, dense, dropout, flatten, max_pooling2d,
)
