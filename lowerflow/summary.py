"""`tf.summary`: summary ops and the TensorBoard event-file writer."""
from lowerflow.frontend.summary_ops import histogram, image, merge, merge_all, scalar, text  # noqa: F401
from lowerflow.frontend.protos import Event, Summary  # noqa: F401
from lowerflow.runtime.summary_writer import FileWriter  # noqa: F401
