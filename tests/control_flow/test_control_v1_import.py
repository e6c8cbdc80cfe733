"""GraphDefs TensorFlow makes with control flow v1 (`disable_control_flow_v2`: Switch/Merge
conds, Enter/Merge/Switch/LoopCond/NextIteration/Exit frames) import as our cond and
while_loop and run natively with TensorFlow's values. One TF graph holds every case, so
lowerflow compiles its import once per feed signature."""
from __future__ import annotations

import numpy as np
import pytest

import lowerflow as lf
from lowerflow.frontend.graph_def import read_graph_def

real_tf = pytest.importorskip("tensorflow")
tf1 = real_tf.compat.v1
tf1.disable_eager_execution()

X = np.float32([0.5, -1.5, 2.0])
SEQ = np.random.RandomState(0).randn(6, 2, 3).astype(np.float32)  # [time, batch, inputs]
FEEDS = [(True, 4), (False, 0), (True, 1)]


def _rnn(m, seq):
    """A frozen RNN over time: its weights constants, the cell in the loop body."""
    rs = np.random.RandomState(1)
    w, u, b = (m.constant(rs.randn(*s).astype(np.float32) * 0.5) for s in ((3, 4), (4, 4), (4,)))

    def step(t, h):
        return t + 1, m.tanh(m.matmul(m.gather(seq, t), w) + m.matmul(h, u) + b)
    return m.while_loop(lambda t, h: t < 6, step, [m.constant(0), m.zeros([2, 4])])[1]


def _cases(m, x, p, n, seq):
    return {
        "cond": m.cond(p, lambda: x * 2.0, lambda: x + 1.0),
        "cond_two_outputs": m.cond(p, lambda: (x * 2.0, m.constant(1)), lambda: (x - 3.0, n)),
        "cond_constant_branches": m.cond(p, lambda: m.constant(1.5), lambda: m.constant(-2.5)),
        "cond_nested": m.cond(p, lambda: m.cond(n > 2, lambda: x, lambda: -x), lambda: x * 0.0),
        "case": m.case([(n > 3, lambda: m.constant(1)), (n > 0, lambda: m.constant(2))], default=lambda: m.constant(3)),
        "while": m.while_loop(lambda i, s: i < n, lambda i, s: (i + 1, s * 1.5 + x), [m.constant(0), m.zeros([3])]),
        "while_cond_inside": m.while_loop(
            lambda i, a: i < 5,
            lambda i, a: (i + 1, m.cond(m.equal(i % 2, 0), lambda: a + 1.0, lambda: a * 2.0)), [0, 0.0]),
        "while_inside_cond": m.cond(p, lambda: m.while_loop(lambda k: k < 10, lambda k: k + 3, [m.constant(0)]),
                                    lambda: m.constant(-1)),
        "while_maximum_iterations": m.while_loop(lambda i: i < 100, lambda i: i + 1, [m.constant(0)],
                                                 maximum_iterations=n),
        "while_nested": m.while_loop(lambda i, t: i < 3, lambda i, t: (
            i + 1, t + m.while_loop(lambda j: j < i, lambda j: j + 1, [0])), [0, 0]),
        "rnn": _rnn(m, seq),
    }


def _flat(cases: dict) -> dict:
    return {k: list(v) if isinstance(v, (list, tuple)) else [v] for k, v in cases.items()}


@pytest.fixture(scope="module")
def v1():
    """TF's GraphDef (v1 control flow), the names of each case's tensors and TF's values."""
    tf1.disable_control_flow_v2()
    try:
        with tf1.Graph().as_default() as g:
            x, p = tf1.placeholder(tf1.float32, [3], name="x"), tf1.placeholder(tf1.bool, [], name="p")
            n, seq = tf1.placeholder(tf1.int32, [], name="n"), tf1.placeholder(tf1.float32, [6, 2, 3], name="seq")
            cases = _flat(_cases(tf1, x, p, n, seq))
            with tf1.Session() as sess:
                want = [sess.run(cases, {x: X, p: a, n: b, seq: SEQ}) for a, b in FEEDS]
            graph_def = g.as_graph_def()
    finally:
        tf1.enable_control_flow_v2()
    return graph_def, {k: [t.name for t in v] for k, v in cases.items()}, want


@pytest.fixture(scope="module")
def imported(v1):
    graph_def, names, _ = v1
    with lf.Graph().as_default() as g:
        lf.import_graph_def(graph_def, name="import")
        get = lambda name: g.get_tensor_by_name(f"import/{name}")  # noqa: E731
        fetches = {k: [get(t) for t in ts] for k, ts in names.items()}
        with lf.Session() as sess:
            return [sess.run(fetches, {get("x:0"): X, get("p:0"): a, get("n:0"): b, get("seq:0"): SEQ})
                    for a, b in FEEDS], g


def test_the_graph_def_has_v1_control_flow(v1):
    ops = {node.op for node in v1[0].node}
    assert {"Switch", "Merge", "Enter", "Exit", "NextIteration", "LoopCond"} <= ops
    assert not ops & {"If", "StatelessIf", "While", "StatelessWhile"}


CASES = ["cond", "cond_two_outputs", "cond_constant_branches", "cond_nested", "case", "while", "while_cond_inside",
         "while_inside_cond", "while_maximum_iterations", "while_nested", "rnn"]


@pytest.mark.parametrize("name", CASES)
def test_imported_v1_control_flow_gives_tensorflows_values(v1, imported, name):
    for want, got in zip(v1[2], imported[0]):
        for w, g in zip(want[name], got[name]):
            assert np.asarray(g).dtype == np.asarray(w).dtype
            np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)


def test_merges_and_exits_are_fetchable_by_name(imported):
    g = imported[1]
    with g.as_default(), lf.Session() as sess:
        merge, exit_ = g.get_tensor_by_name("import/cond/Merge:0"), g.get_tensor_by_name("import/while/Exit_1:0")
        got = sess.run([merge, exit_], {g.get_tensor_by_name("import/x:0"): X,
                                        g.get_tensor_by_name("import/p:0"): False,
                                        g.get_tensor_by_name("import/n:0"): 2})
    np.testing.assert_allclose(got[0], X + 1.0)
    np.testing.assert_allclose(got[1], (X * 1.5 + X), rtol=1e-6)
    assert {op.type for op in g.get_operations()} >= {"StatelessIf", "StatelessWhile"}


def _edited(graph_def, edit):
    out = type(graph_def)()
    out.CopyFrom(graph_def)
    edit({n.name: n for n in out.node})
    return out


def test_unrecognised_v1_control_flow_is_refused_naming_the_node(v1):
    def drop_merge(nodes):  # a branch's value read past its Merge: the Switch is left alone
        nodes["cond/Merge"].op = "Identity"
        del nodes["cond/Merge"].input[0]

    def one_side(nodes):  # both Merge inputs from the true side
        nodes["cond/Merge"].input[0] = "cond/mul"

    for edit, node in ((drop_merge, r"Switch' \(node 'cond/"), (one_side, r"Merge' \(node 'cond/Merge'")):
        with lf.Graph().as_default(), pytest.raises(NotImplementedError, match=f"{node}.*v1 control flow"):
            lf.import_graph_def(_edited(v1[0], edit))


# ---- lowerflow's own export (v1 control flow) imports back, into lowerflow and into TF ----

def _feed(get):
    return [{get("x:0"): X, get("p:0"): a, get("n:0"): b, get("seq:0"): SEQ} for a, b in FEEDS]


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """lowerflow's values of the cases, its export written with tf.train.write_graph and
    read back, and the names of each case's tensors."""
    with lf.Graph().as_default() as g:
        x, p = lf.placeholder(lf.float32, [3], name="x"), lf.placeholder(lf.bool, [], name="p")
        n, seq = lf.placeholder(lf.int32, [], name="n"), lf.placeholder(lf.float32, [6, 2, 3], name="seq")
        cases = _flat(_cases(lf, x, p, n, seq))
        with lf.Session() as sess:
            want = [sess.run(cases, feed) for feed in _feed(g.get_tensor_by_name)]
        path = lf.train.write_graph(g, str(tmp_path_factory.mktemp("export")), "loops.pbtxt", as_text=True)
    return read_graph_def(path), {k: [t.name for t in v] for k, v in cases.items()}, want


def _run_import(module, graph_def, names):
    with module.Graph().as_default() as g:
        module.import_graph_def(graph_def, name="")
        fetches = {k: [g.get_tensor_by_name(t) for t in ts] for k, ts in names.items()}
        with module.Session() as sess:
            return [sess.run(fetches, feed) for feed in _feed(g.get_tensor_by_name)]


@pytest.fixture(scope="module")
def reimported(exported):
    graph_def, names, _ = exported
    tf_graph_def = tf1.GraphDef.FromString(graph_def.SerializeToString())
    return {"lowerflow": _run_import(lf, graph_def, names), "tensorflow": _run_import(tf1, tf_graph_def, names)}


def test_lowerflows_export_writes_v1_control_flow(exported):
    ops = {node.op for node in exported[0].node}
    assert {"Switch", "Merge", "Enter", "Exit", "NextIteration", "LoopCond"} <= ops
    assert not ops & {"If", "StatelessIf", "While", "StatelessWhile", "_LoopVar"}


@pytest.mark.parametrize("into", ["lowerflow", "tensorflow"])
@pytest.mark.parametrize("name", CASES)
def test_lowerflows_export_imports_back_with_the_same_values(exported, reimported, into, name):
    for want, got in zip(exported[2], reimported[into]):
        for w, g in zip(want[name], got[name]):
            assert np.asarray(g).dtype == np.asarray(w).dtype
            np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)


# ---- a frozen dynamic_rnn TF made with v1 control flow (TensorArrayV3 flows through the frame) ----

SEQS = np.random.RandomState(2).randn(2, 5, 3).astype(np.float32)  # [batch, time, inputs]


def _cells():
    try:
        tf1.nn.rnn_cell.BasicLSTMCell  # noqa: B018  (lazy: raises without Keras 2)
        return tf1.nn.rnn_cell
    except (AttributeError, ImportError):
        from tensorflow.python.keras.layers.legacy_rnn import rnn_cell_impl as cells
        return cells


@pytest.fixture(scope="module")
def frozen_rnns():
    """The frozen GraphDef of three dynamic_rnns (a time-major LSTM among them; sequence_length
    adds an Assert, which lowerflow has no op for),
    the names of their outputs and final states, and TF's values of them."""
    cells = _cells()
    tf1.disable_control_flow_v2()
    try:
        with tf1.Graph().as_default() as g:
            x = tf1.placeholder(tf1.float32, [2, 5, 3], name="x")
            fetches = []
            for scope, cell, kwargs in (("rnn", cells.BasicRNNCell(4), {}),
                                        ("lstm", cells.BasicLSTMCell(4), {"time_major": True}),
                                        ("gru", cells.GRUCell(3), {})):
                out, state = tf1.nn.dynamic_rnn(cell, x, dtype=tf1.float32, scope=scope, **kwargs)
                fetches += [out, *(state if isinstance(state, tuple) else [state])]
            names = [t.name for t in fetches]
            with tf1.Session() as sess:
                sess.run(tf1.global_variables_initializer())
                want = sess.run(fetches, {x: SEQS})
                frozen = tf1.graph_util.convert_variables_to_constants(
                    sess, g.as_graph_def(), list(dict.fromkeys(t.op.name for t in fetches)))
    finally:
        tf1.enable_control_flow_v2()
    return frozen, names, want


def test_a_frozen_dynamic_rnn_with_v1_control_flow_imports_with_tensorflows_values(frozen_rnns):
    frozen, names, want = frozen_rnns
    assert {"TensorArrayV3", "TensorArrayWriteV3", "Enter", "Exit"} <= {n.op for n in frozen.node}
    with lf.Graph().as_default() as g:
        fetches = lf.import_graph_def(frozen, return_elements=names, name="import")
        with lf.Session() as sess:
            got = sess.run(fetches, {g.get_tensor_by_name("import/x:0"): SEQS})
    for w, v in zip(want, got):
        np.testing.assert_allclose(v, w, rtol=1e-5, atol=1e-6)
