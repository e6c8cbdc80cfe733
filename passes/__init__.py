"""lowerflow.passes: the pass manager, the passes and `lowerflow-opt`. Imports only lowerflow.ir.

Importing the package registers every pass (one module per pass).
"""
from lowerflow.passes import canonicalize, constant_fold, cse, dce  # noqa: F401  (registers the passes)
from lowerflow.passes import fuse, fuse_rows, infer_shapes, lower_to_loops, plan_buffers, prune  # noqa: F401
from lowerflow.passes import hoist_invariants, narrow_products, pretranspose, sum_products  # noqa: F401
from lowerflow.passes.clone import clone_function, clone_module
from lowerflow.passes.manager import (
    DEFAULT_PIPELINE,
    FunctionPass,
    Pass,
    PassError,
    PassFailed,
    PassManager,
    PassOption,
    PassStats,
    PipelineError,
    list_passes,
    option,
    parse_pipeline,
    pipeline_text,
    register_pass,
)

__all__ = [
    "DEFAULT_PIPELINE",
    "FunctionPass",
    "Pass",
    "PassError",
    "PassFailed",
    "PassManager",
    "PassOption",
    "PassStats",
    "PipelineError",
    "clone_function",
    "clone_module",
    "list_passes",
    "option",
    "parse_pipeline",
    "pipeline_text",
    "register_pass",
]
