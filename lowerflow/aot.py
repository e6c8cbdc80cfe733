"""`lowerflow.aot`: graphs as C-callable objects, shared libraries and headers (cf. tfcompile).

    art = lowerflow.aot.compile([probs], [x], name="mlp", out_dir="build", session=sess)
    # build/mlp.o, build/mlp.h, build/mlp.json (+ build/libmlp.so with shared=True)
    mlp = lowerflow.aot.load("build", "mlp")      # ctypes on libmlp.so
    probs_value = mlp(x_value)

    # tfcompile's use: a frozen GraphDef (.pb / .pbtxt), feeds and fetches by tensor name
    lowerflow.aot.compile_graph_def("mlp.pb", {"x:0": (1, 784)}, ["probs:0"], name="mlp", out_dir="build")

See docs/aot.md; the implementation is `lowerflow.runtime.aot`.
"""
from lowerflow.runtime.aot import (
    AotFunction, Artifacts, CompiledObject, compile_in_memory, compile_ir, freeze, graph_function, load,
)
from lowerflow.runtime.aot import compile_graph as compile  # tfcompile's verb
from lowerflow.runtime.aot_graph_def import compile_graph_def, graph_def_function

__all__ = ["AotFunction", "Artifacts", "CompiledObject", "compile", "compile_graph_def", "compile_in_memory",
           "compile_ir", "freeze", "graph_def_function", "graph_function", "load"]
