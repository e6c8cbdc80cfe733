"""`tf.app`: `run` and `flags` (re-exported names)."""
from lowerflow import flags  # noqa: F401
from lowerflow.frontend.flags import run  # noqa: F401
