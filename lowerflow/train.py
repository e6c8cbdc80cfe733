"""`tf.train`: checkpoints (Saver, latest_checkpoint)."""
from lowerflow.runtime.saver import Saver, latest_checkpoint  # noqa: F401
