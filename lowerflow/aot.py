"""`lowerflow.aot`: graphs as C-callable objects, shared libraries and headers (cf. tfcompile).

    art = lowerflow.aot.compile([probs], [x], name="mlp", out_dir="build", session=sess)
    # build/mlp.o, build/mlp.h, build/mlp.json (+ build/libmlp.so with shared=True)
    mlp = lowerflow.aot.load("build", "mlp")      # ctypes on libmlp.so
    probs_value = mlp(x_value)

See docs/aot.md; the implementation is `lowerflow.runtime.aot`.
"""
from lowerflow.runtime.aot import (
    AotFunction, Artifacts, CompiledObject, compile_in_memory, compile_ir, freeze, graph_function, load,
)
from lowerflow.runtime.aot import compile_graph as compile  # the (and tfcompile's) verb

__all__ = ["AotFunction", "Artifacts", "CompiledObject", "compile", "compile_in_memory", "compile_ir", "freeze",
           "graph_function", "load"]
