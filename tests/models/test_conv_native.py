"""The native convolution ops (`ir/ops/conv.py`, `backend/kernels_conv.py`): the IR text,
the numpy references against the definition, the kernels against the references on every
geometry they handle (strides, paddings, dilations, odd sizes, batch 1, several K panels,
two threads), gradients against finite differences and against tensorflow.compat.v1."""
from __future__ import annotations

import numpy as np
import pytest

import lowerflow as tf
from lowerflow.backend import compile_function
from lowerflow.ir import ELEM_TYPES, Function, Module, build, get_op, parse_module, print_module, tensor
from lowerflow.ir.interp import run_function
from lowerflow.ir.ops.conv import output_sizes
from lowerflow.ir.verifier import verify
from tests.models.helpers import compare

F32 = ELEM_TYPES["f32"]
R = np.random.default_rng(7)

#: x, filter, strides, dilations, explicit pads (top, bottom, left, right)
CASES = [
    ((2, 7, 8, 3), (3, 2, 3, 4), (1, 1), (1, 1), (1, 1, 0, 1)),  # SAME
    ((2, 7, 8, 3), (3, 2, 3, 4), (2, 2), (1, 1), (0, 0, 0, 0)),  # VALID, stride 2: the input's tail unread
    ((1, 9, 5, 5), (3, 3, 5, 7), (1, 1), (2, 2), (2, 2, 2, 2)),  # dilated, batch 1
    ((2, 7, 8, 3), (3, 2, 3, 4), (2, 1), (1, 1), (1, 2, 0, 1)),  # explicit, uneven
    ((3, 9, 9, 17), (3, 3, 17, 70), (2, 3), (1, 2), (1, 0, 2, 1)),  # odd sizes, two column strips
    ((1, 5, 5, 1), (5, 5, 1, 32), (1, 1), (1, 1), (2, 2, 2, 2)),  # one input channel (a CNN's first layer)
    ((2, 6, 6, 20), (3, 3, 20, 13), (1, 1), (1, 1), (4, 0, 1, 3)),  # pads wider than the kernel
    ((2, 12, 11, 40), (3, 3, 40, 24), (1, 2), (1, 1), (1, 1, 1, 1)),  # K = 360: two K panels
]
BIG = ((4, 16, 16, 32), (3, 3, 32, 64), (1, 1), (1, 1), (1, 1, 1, 1))  # worth two threads


def _attrs(strides, dilations, pads) -> dict:
    return {"strides": [1, *strides, 1], "dilations": [1, *dilations, 1],
            "explicit_paddings": [0, 0, *pads, 0, 0]}


def _case_types(case):
    xs, fs, s, d, p = case
    attrs = _attrs(s, d, p)
    ys = (xs[0], *output_sizes(xs[1:3], fs[:2], attrs), fs[3])
    return xs, fs, ys, attrs


def _function(cases) -> Function:
    """One step computing the three ops of every case (one compile for all of them)."""
    types = [_case_types(c) for c in cases]
    f = Function("step", [tensor(s, F32) for xs, fs, ys, _ in types for s in (xs, fs, ys)])
    results = []
    for i, (xs, fs, ys, attrs) in enumerate(types):
        x, w, dy = f.args[3 * i:3 * i + 3]
        results += [build(f.body, "lf.conv2d", [x, w], attrs).result,
                    build(f.body, "lf.conv2d_backprop_input", [x, w, dy], attrs).result,
                    build(f.body, "lf.conv2d_backprop_filter", [x, dy], {**attrs, "filter_sizes": list(fs)}).result]
    f.set_return(results)
    return f


def _args(cases) -> list[np.ndarray]:
    return [R.standard_normal(s).astype(np.float32) for c in cases for s in _case_types(c)[:3]]


@pytest.fixture(scope="module")
def small():
    f = _function(CASES)
    return f, _args(CASES), compile_function(f)


def _close(got, want, k):
    scale = max(1.0, float(np.abs(want).max()))
    np.testing.assert_allclose(got, want, rtol=0, atol=3e-6 * np.sqrt(k) * scale)


def test_text_round_trip_and_verify(small):
    f = small[0]
    text = print_module(Module([f]))
    assert '"lf.conv2d"' in text and "explicit_paddings = [0 : i64, 0 : i64, 1 : i64" in text
    again = parse_module(text)
    verify(again)
    assert print_module(again) == text


def test_native_matches_reference(small):
    f, args, exe = small
    for got, want, op in zip(exe.run(args), run_function(f, args), [o for o in f.body.ops if o.name != "func.return"]):
        assert got.shape == want.shape and got.dtype == np.float32
        _close(got, want, np.prod(want.shape))


def test_two_threads_match_reference():
    f, args = _function([BIG]), _args([BIG])
    for got, want in zip(compile_function(f, threads=2).run(args), run_function(f, args)):
        _close(got, want, 800)


def _direct(x, w, strides, dilations, pads):
    """y[n, oy, ox, co] by the definition (a loop over every output position and tap)."""
    xs, fs = x.shape, w.shape
    oh, ow = output_sizes(xs[1:3], fs[:2], _attrs(strides, dilations, pads))
    y = np.zeros((xs[0], oh, ow, fs[3]))
    for oy in range(oh):
        for ox in range(ow):
            for ky in range(fs[0]):
                for kx in range(fs[1]):
                    iy = oy * strides[0] + ky * dilations[0] - pads[0]
                    ix = ox * strides[1] + kx * dilations[1] - pads[2]
                    if 0 <= iy < xs[1] and 0 <= ix < xs[2]:
                        y[:, oy, ox] += x[:, iy, ix] @ w[ky, kx]
    return y


@pytest.mark.parametrize("case", CASES[:5])
def test_references_by_definition_and_adjoints(case):
    """The forward reference is the definition; the gradients are its adjoints:
    <conv(x, w), r> = <x, backprop_input(r)> = <w, backprop_filter(x, r)>."""
    xs, fs, ys, attrs = _case_types(case)
    x, w, r = (R.standard_normal(s) for s in (xs, fs, ys))
    (y,) = get_op("lf.conv2d").reference([x, w], attrs)
    np.testing.assert_allclose(y, _direct(x, w, *case[2:]), rtol=1e-12, atol=1e-12)
    (dx,) = get_op("lf.conv2d_backprop_input").reference([x, w, r], attrs)
    (dw,) = get_op("lf.conv2d_backprop_filter").reference([x, r], {**attrs, "filter_sizes": list(fs)})
    inner = np.vdot(y, r)
    np.testing.assert_allclose([np.vdot(x, dx), np.vdot(w, dw)], [inner, inner], rtol=1e-10)


def test_infer_errors():
    f = Function("step", [tensor((1, 5, 5, 3), F32), tensor((7, 7, 3, 2), F32), tensor((2, 2, 4, 2), F32),
                          tensor((1, 5, 5, 3), ELEM_TYPES["i32"]), tensor((3, 3, 3, 2), ELEM_TYPES["i32"])])
    x, big, deep, xi, fi = f.args
    with pytest.raises(ValueError, match="Computed output size would be negative"):
        build(f.body, "lf.conv2d", [x, big], _attrs((1, 1), (1, 1), (0, 0, 0, 0)))
    with pytest.raises(ValueError, match="Depth of input"):
        build(f.body, "lf.conv2d", [x, deep], _attrs((1, 1), (1, 1), (0, 0, 0, 0)))
    with pytest.raises(TypeError, match="DataType int32"):
        build(f.body, "lf.conv2d", [xi, fi], _attrs((1, 1), (1, 1), (0, 0, 0, 0)))
    with pytest.raises(ValueError, match="batch and depth"):
        build(f.body, "lf.conv2d", [x, big], {**_attrs((1, 1), (1, 1), (0, 0, 0, 0)), "strides": [2, 1, 1, 1]})
    with pytest.raises(ValueError, match="not negative"):
        build(f.body, "lf.conv2d", [x, big], _attrs((1, 1), (1, 1), (4, -1, 4, 4)))


def test_graph_ops_and_gradient_ops():
    with tf.Graph().as_default() as g:
        x = tf.placeholder(tf.float32, [None, 6, 6, 2])
        w = tf.constant(R.standard_normal((3, 3, 2, 4)).astype(np.float32))
        y = tf.nn.conv2d(x, w, [1, 1, 1, 1], "SAME")
        tf.gradients(tf.reduce_sum(y), [x, w])
        types = {op.type for op in g.get_operations()}
    assert y.op.type == "Conv2D" and y.op.name == "Conv2D" and y.shape.as_list() == [None, 6, 6, 4]
    assert y.op.get_attr("explicit_paddings") == [0, 0, 1, 1, 1, 1, 0, 0]
    assert {"Conv2DBackpropInput", "Conv2DBackpropFilter"} <= types and "ConcatV2" not in types


def _linear_loss(tf, x, w, r, strides, padding, data_format="NHWC"):
    return tf.reduce_sum(tf.nn.conv2d(x, w, strides, padding, data_format=data_format) * r)


@pytest.mark.parametrize("strides,padding", [([1, 1, 1, 1], "SAME"), ([1, 2, 2, 1], "VALID"),
                                             ([1, 2, 1, 1], [[0, 0], [2, 1], [0, 3], [0, 0]])])
def test_gradients_against_finite_differences(strides, padding):
    """The loss is linear in x and in w, so a central difference is exact up to rounding:
    float32 steps of 0.5 suffice."""
    xv, wv = R.standard_normal((1, 5, 6, 2)).astype(np.float32), R.standard_normal((3, 2, 2, 3)).astype(np.float32)
    with tf.Graph().as_default():
        x, w = tf.placeholder(tf.float32, xv.shape), tf.placeholder(tf.float32, wv.shape)
        y = tf.nn.conv2d(x, w, strides, padding)
        r = tf.constant(R.standard_normal(y.shape.as_list()).astype(np.float32))
        loss = tf.reduce_sum(y * r)
        gx, gw = tf.gradients(loss, [x, w])
        with tf.Session() as sess:
            got_x, got_w = sess.run([gx, gw], {x: xv, w: wv})
            for value, got, which in ((xv, got_x, 0), (wv, got_w, 1)):
                want = np.zeros_like(value)
                for i in np.ndindex(value.shape):
                    up, down = value.copy(), value.copy()
                    up[i] += 0.5
                    down[i] -= 0.5
                    feeds = [{x: up, w: wv}, {x: down, w: wv}] if which == 0 else [{x: xv, w: up}, {x: xv, w: down}]
                    want[i] = sess.run(loss, feeds[0]) - sess.run(loss, feeds[1])
                np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("data_format", ["NHWC", "NCHW"])
def test_filter_and_input_gradients_against_tf(data_format):
    """Gradients for both operands, every geometry of test_conv_ops.CONVS; NCHW under
    lowerflow against TF's NHWC kernels with transposes around them."""
    import lowerflow
    convs = [([1, 1, 1, 1], "SAME", [1, 1, 1, 1]), ([1, 2, 2, 1], "VALID", [1, 1, 1, 1]),
             ([1, 1, 1, 1], "SAME", [1, 2, 2, 1]), ([1, 2, 1, 1], [[0, 0], [1, 2], [0, 1], [0, 0]], [1, 1, 1, 1]),
             ([1, 3, 2, 1], "SAME", [1, 1, 1, 1])]
    wv = R.standard_normal((3, 2, 3, 4)).astype(np.float32)

    def build(tf):
        x, w = tf.placeholder(tf.float32, [None, 7, 8, 3]), tf.placeholder(tf.float32, [3, 2, 3, 4])
        nchw = data_format == "NCHW" and tf is lowerflow
        outs = []
        for s, p, d in convs:
            if nchw:
                order = [0, 3, 1, 2]
                pad = [p[i] for i in order] if isinstance(p, list) else p
                y = tf.nn.conv2d(tf.transpose(x, order), w, [s[i] for i in order], pad, data_format="NCHW",
                                 dilations=[d[i] for i in order])
                y = tf.transpose(y, [0, 2, 3, 1])
            else:
                y = tf.nn.conv2d(x, w, s, p, dilations=d)
            outs.append(y)
        loss = tf.add_n([tf.reduce_sum(o * o * 0.5 + o) for o in outs])
        return {"x": x, "w": w}, outs + tf.gradients(loss, [x, w])
    compare(build, {"x": R.standard_normal((2, 7, 8, 3)).astype(np.float32), "w": wv}, rtol=1e-4, atol=1e-4)


def test_conv2d_transpose_gradients_against_tf():
    """conv2d_transpose is Conv2DBackpropInput: its gradients are a conv2d (for the value)
    and a filter gradient (for the filter)."""
    def build(tf):
        v, w = tf.placeholder(tf.float32, [2, 4, 4, 4]), tf.placeholder(tf.float32, [3, 3, 2, 4])
        outs = [tf.nn.conv2d_transpose(v, w, [2, 8, 8, 2], [1, 2, 2, 1], "SAME"),
                tf.nn.conv2d_transpose(v, w, [2, 9, 10, 2], [1, 2, 2, 1], "VALID"),
                tf.nn.conv2d_transpose(v, w, [2, 6, 6, 2], [1, 1, 1, 1], "VALID")]
        loss = tf.add_n([tf.reduce_sum(o * o) for o in outs])
        return {"v": v, "w": w}, outs + tf.gradients(loss, [v, w])
    compare(build, {"v": R.standard_normal((2, 4, 4, 4)).astype(np.float32),
                    "w": R.standard_normal((3, 3, 2, 4)).astype(np.float32)}, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_backprop_functions_against_tf(dtype):
    """tf.nn.conv2d_backprop_input / conv2d_backprop_filter (the native ops for float32,
    composed for float64), NHWC (TF's CPU kernels lack some NCHW cases)."""
    def build(tf):
        x, dy = tf.placeholder(dtype, [2, 7, 8, 3]), tf.placeholder(dtype, [2, 4, 4, 4])
        w = tf.placeholder(dtype, [3, 2, 3, 4])
        outs = [tf.nn.conv2d_backprop_input([2, 7, 8, 3], w, dy, [1, 2, 2, 1], "SAME"),
                tf.nn.conv2d_backprop_filter(x, tf.constant([3, 2, 3, 4]), dy, [1, 2, 2, 1], "SAME"),
                tf.nn.conv2d_backprop_filter(x, [3, 2, 3, 4], dy[:, :3], [1, 2, 2, 1], "VALID")]
        return {"x": x, "w": w, "dy": dy}, outs
    compare(build, {"x": R.standard_normal((2, 7, 8, 3)).astype(dtype),
                    "w": R.standard_normal((3, 2, 3, 4)).astype(dtype),
                    "dy": R.standard_normal((2, 4, 4, 4)).astype(dtype)}, rtol=1e-4, atol=1e-4)


SECOND = [([1, 1, 1, 1], "SAME", [1, 1, 1, 1]), ([1, 2, 2, 1], "VALID", [1, 1, 1, 1]),
          ([1, 2, 1, 1], [[0, 0], [1, 2], [0, 1], [0, 0]], [1, 1, 1, 1]), ([1, 1, 1, 1], "SAME", [1, 2, 2, 1])]


def _gradient_norm(tf, x, w, strides, padding, dilations):
    """||d loss/dx||^2 + ||d loss/dw||^2 of loss = sum(conv^2)/2: out_backprop is the
    convolution itself, so the second derivatives go through both operands of both
    backprop ops."""
    y = tf.nn.conv2d(x, w, strides, padding, dilations=dilations)
    gx, gw = tf.gradients(tf.reduce_sum(y * y) * 0.5, [x, w])
    return tf.reduce_sum(gx * gx) + tf.reduce_sum(gw * gw)


def test_second_order_gradients_against_tf():
    """tf.gradients of a gradient norm: the gradients of Conv2DBackpropFilter and
    Conv2DBackpropInput (TF's _Conv2DBackpropFilterGrad / _Conv2DBackpropInputGrad)."""
    def build(tf):
        x, w = tf.placeholder(tf.float32, [2, 7, 6, 3]), tf.placeholder(tf.float32, [3, 2, 3, 4])
        norms = [_gradient_norm(tf, x, w, *case) for case in SECOND]
        return {"x": x, "w": w}, norms + tf.gradients(tf.add_n(norms), [x, w])
    compare(build, {"x": R.standard_normal((2, 7, 6, 3)).astype(np.float32) * 0.5,
                    "w": R.standard_normal((3, 2, 3, 4)).astype(np.float32) * 0.5}, rtol=2e-4, atol=2e-4)


@pytest.mark.parametrize("case", SECOND[1:3])
def test_second_order_gradients_against_finite_differences(case):
    """The directional derivative of the gradient norm along a random direction, by central
    differences in float32 (the native kernels' dtype): step 1e-2, error O(step^2)."""
    xv, wv = R.standard_normal((1, 6, 5, 2)).astype(np.float32), R.standard_normal((3, 2, 2, 3)).astype(np.float32)
    vx, vw = R.standard_normal(xv.shape).astype(np.float32), R.standard_normal(wv.shape).astype(np.float32)
    with tf.Graph().as_default():
        x, w = tf.placeholder(tf.float32, xv.shape), tf.placeholder(tf.float32, wv.shape)
        norm = _gradient_norm(tf, x, w, *case)
        gx, gw = tf.gradients(norm, [x, w])
        assert {"Conv2DBackpropFilter", "Conv2DBackpropInput"} <= {op.type for op in x.graph.get_operations()}
        with tf.Session() as sess:
            got_x, got_w = sess.run([gx, gw], {x: xv, w: wv})
            h = 1e-2
            up, down = (sess.run(norm, {x: xv + s * h * vx, w: wv + s * h * vw}) for s in (1, -1))
    want = (np.float64(up) - np.float64(down)) / (2 * h)
    got = np.sum(got_x.astype(np.float64) * vx) + np.sum(got_w.astype(np.float64) * vw)
    np.testing.assert_allclose(got, want, rtol=2e-3)


def test_float64_stays_composed():
    """Other dtypes than float32 are the composed convolution (no native kernel for them)."""
    x = R.standard_normal((1, 5, 5, 2))
    w = R.standard_normal((3, 3, 2, 2))
    with tf.Graph().as_default():
        y = tf.nn.conv2d(tf.constant(x), tf.constant(w), [1, 1, 1, 1], "VALID")
        assert y.op.type != "Conv2D"
        with tf.Session() as sess:
            got = sess.run(y)
    np.testing.assert_allclose(got, _direct(x, w, (1, 1), (1, 1), (0, 0, 0, 0)), rtol=1e-12)


def test_fused_epilogues_against_tf():
    """Bias add + relu (Grappler's _FusedConv2D), bias_add, a residual of the output's
    shape and a broadcast over rows fused into the conv's row blocks; the gradients read
    the epilogue's values."""
    bv, rv = R.standard_normal(16).astype(np.float32), R.standard_normal((1, 10, 9, 1)).astype(np.float32)

    def build(tf):
        x, w = tf.placeholder(tf.float32, [3, 10, 9, 8]), tf.placeholder(tf.float32, [3, 3, 8, 16])
        b, rows = tf.constant(bv), tf.constant(rv)
        y1 = tf.nn.relu(tf.nn.conv2d(x, w, [1, 1, 1, 1], "SAME") + b)
        y2 = tf.nn.relu(tf.nn.bias_add(tf.nn.conv2d(x, w, [1, 2, 2, 1], "VALID"), b))
        c3 = tf.nn.conv2d(x, w, [1, 1, 1, 1], "SAME", dilations=[1, 2, 2, 1])
        y3 = tf.tanh(c3 * rows + tf.nn.conv2d(x, w, [1, 1, 1, 1], "SAME"))
        outs = [y1, y2, y3]
        loss = tf.add_n([tf.reduce_sum(o * o) for o in outs])
        return {"x": x, "w": w}, outs + tf.gradients(loss, [x, w])
    compare(build, {"x": R.standard_normal((3, 10, 9, 8)).astype(np.float32),
                    "w": R.standard_normal((3, 3, 8, 16)).astype(np.float32)}, rtol=2e-4, atol=2e-4)


def _optimised_ops(fetches, feeds) -> list[str]:
    from lowerflow.frontend.lowering import lower
    from lowerflow.passes import DEFAULT_PIPELINE, PassManager
    step = lower(fetches, [], {t: tensor(t.shape.as_list(), F32) for t in feeds})
    PassManager(DEFAULT_PIPELINE).run(Module([step.func]))
    return [op.name for op in step.func.ops]


def test_fused_on_two_threads():
    """The step of a conv + bias + relu is one lf.conv2d_fusion; on two threads each
    thread applies the epilogue to the row blocks it computed."""
    xv, wv = R.standard_normal(BIG[0]).astype(np.float32), R.standard_normal(BIG[1]).astype(np.float32)
    bv = R.standard_normal(BIG[1][3]).astype(np.float32)
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, xv.shape)
        y = tf.nn.relu(tf.nn.conv2d(x, wv, [1, 1, 1, 1], "SAME") + bv)
        assert _optimised_ops([y], [x]).count("lf.conv2d_fusion") == 1
        with tf.Session(config=tf.ConfigProto(intra_op_parallelism_threads=2)) as sess:
            got = sess.run(y, {x: xv})
    (want,) = get_op("lf.conv2d").reference([xv.astype(np.float64), wv.astype(np.float64)], _attrs(*BIG[2:]))
    _close(got, np.maximum(want + bv, 0), 800)


def test_graph_def_runs_in_tf_and_imports_back():
    """A conv2d and both its gradients export as TF's Conv2D, Conv2DBackpropInput (behind a
    Shape of the input) and Conv2DBackpropFilter with EXPLICIT padding: TensorFlow imports
    and runs them, and lowerflow imports them back."""
    from tests.models.helpers import tf1
    xv, wv = R.standard_normal((2, 7, 8, 3)).astype(np.float32), R.standard_normal((3, 2, 3, 4)).astype(np.float32)
    names = ["y:0", "gx:0", "gw:0"]
    with tf.Graph().as_default() as g:
        x, w = tf.placeholder(tf.float32, [None, 7, 8, 3], name="x"), tf.constant(wv, name="w")
        y = tf.nn.conv2d(x, w, [1, 2, 1, 1], "SAME", name="y")
        gx, gw = tf.gradients(tf.reduce_sum(y * y), [x, w])
        tf.identity(gx, name="gx"), tf.identity(gw, name="gw")
        graph_def = g.as_graph_def()
        with tf.Session() as sess:
            want = sess.run(names, {x: xv})
    t1 = tf1()
    with t1.Graph().as_default():
        t1.import_graph_def(t1.GraphDef.FromString(graph_def.SerializeToString()), name="")
        with t1.Session() as sess:
            theirs = sess.run(names, {"x:0": xv})
    with tf.Graph().as_default():
        tf.import_graph_def(graph_def, name="")
        with tf.Session() as sess:
            again = sess.run(names, {"x:0": xv})
    for a, b, c in zip(want, theirs, again):
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-4)
        np.testing.assert_array_equal(c, a)


def test_avx2_register_tile(monkeypatch):
    """The 16-register tile (6x16 in ymm: what ahead-of-time objects get) on the first cases."""
    from lowerflow.backend import jit
    monkeypatch.setattr(jit, "host_vector_registers", lambda: 16)
    f, args = _function(CASES[:6]), _args(CASES[:6])
    for got, want in zip(compile_function(f).run(args), run_function(f, args)):
        _close(got, want, 600)


def test_fused_and_plain_convolutions_of_one_geometry_in_one_step():
    """A convolution with an epilogue (relu) and a plain one of the same geometry compile
    into one module: the fused kernel is named apart, so the plain one is not given it
    (it was, once ones_like folded to a constant made such pairs: a call without the
    epilogue's buffers)."""
    rng = np.random.default_rng(3)
    xv = rng.standard_normal((2, 9, 9, 3)).astype(np.float32)
    fv = rng.standard_normal((3, 3, 3, 4)).astype(np.float32)
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, xv.shape)
        f = tf.constant(fv)
        fused = tf.nn.relu(tf.nn.conv2d(x, f, [1, 1, 1, 1], "SAME") + 1.0)
        plain = tf.nn.conv2d(x * 2.0, f, [1, 1, 1, 1], "SAME")
        with tf.Session() as sess:
            got_fused, got_plain = sess.run([fused, plain], {x: xv})
    ref_plain = np.zeros((2, 9, 9, 4), np.float64)
    padded = np.pad(xv.astype(np.float64) * 2.0, ((0, 0), (1, 1), (1, 1), (0, 0)))
    for ky in range(3):
        for kx in range(3):
            ref_plain += np.einsum("nhwc,co->nhwo", padded[:, ky:ky + 9, kx:kx + 9], fv[ky, kx])
    np.testing.assert_allclose(got_plain, ref_plain, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(got_fused, np.maximum(ref_plain / 2.0 + 1.0, 0.0), rtol=1e-4, atol=1e-4)
