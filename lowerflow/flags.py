"""`tf.flags` / `tf.app.flags`: command-line flags without absl (re-exported names)."""
from lowerflow.frontend.flags import (  # noqa: F401
    DEFINE_bool, DEFINE_boolean, DEFINE_float, DEFINE_integer, DEFINE_string, FLAGS, FlagValues,
    UnrecognizedFlagError,
)
