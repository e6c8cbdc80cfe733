"""`lowerflow.timeline`: TF's `tensorflow.python.client.timeline` (Chrome traces of step stats)."""
from lowerflow.runtime.timeline import Timeline  # noqa: F401
