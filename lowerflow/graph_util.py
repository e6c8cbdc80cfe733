"""`tf.graph_util`: freezing and pruning GraphDefs (`frontend/graph_util.py`)."""
from lowerflow.frontend.graph_util import (  # noqa: F401
    convert_variables_to_constants, extract_sub_graph, remove_training_nodes,
)
