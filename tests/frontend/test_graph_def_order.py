"""A GraphDef need not be sorted: import orders its nodes inputs first (a depth-first
post-order over networkx), keeping a sorted GraphDef's order, as TensorFlow accepts them."""
import numpy as np
import pytest

import lowerflow as tf


def _graph_def(module):
    g = module.Graph()
    with g.as_default():
        x = module.placeholder(module.float32, [3], name="x")
        y = module.add(module.multiply(x, 2.0, name="twice"), module.sqrt(x, name="root"), name="y")
        module.identity(y, name="out")
    return g.as_graph_def()


def _run_imported(module, graph_def) -> np.ndarray:
    with module.Graph().as_default() as g:
        module.import_graph_def(graph_def, name="")
        with module.Session(graph=g) as sess:
            return sess.run("out:0", {"x:0": np.array([1.0, 4.0, 9.0], np.float32)}), \
                [op.name for op in g.get_operations()]


def _reversed(graph_def):
    nodes = list(graph_def.node)[::-1]
    del graph_def.node[:]
    graph_def.node.extend(nodes)
    return graph_def


def test_sorted_graph_def_keeps_its_order():
    graph_def = _graph_def(tf)
    _, names = _run_imported(tf, graph_def)
    assert names == [n.name for n in graph_def.node]


def test_reversed_graph_def_imports_inputs_first():
    value, names = _run_imported(tf, _reversed(_graph_def(tf)))
    assert value.tolist() == [3.0, 10.0, 21.0]
    assert names.index("x") < names.index("twice") < names.index("y") < names.index("out")


def test_reversed_graph_def_as_tensorflow():
    tf1 = pytest.importorskip("tensorflow").compat.v1
    tf1.disable_eager_execution()
    ours, _ = _run_imported(tf, _reversed(_graph_def(tf)))
    theirs, _ = _run_imported(tf1, _reversed(_graph_def(tf1)))
    np.testing.assert_allclose(ours, theirs)
