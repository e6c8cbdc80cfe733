"""Optimizer.minimize / compute_gradients through tf.gradients: every optimizer training a
small MLP against TensorFlow step by step (all in one graph, so one compiled step), the
convergence of logistic regression and an MLP, compute_gradients' contract, and a Saver round
trip of a trained model with its slots."""
from __future__ import annotations

import numpy as np
import pytest

import lowerflow as tf

RNG = np.random.default_rng(7)
X = RNG.standard_normal((32, 5)).astype(np.float32)
Y = np.eye(3, dtype=np.float32)[(X @ RNG.standard_normal((5, 3))).argmax(1)]
W0 = (RNG.standard_normal((5, 8)) * 0.4).astype(np.float32)
V0 = (RNG.standard_normal((8, 3)) * 0.4).astype(np.float32)
STEPS = 5

OPTIMIZERS = {
    "GradientDescent": lambda m: m.train.GradientDescentOptimizer(0.5),
    "Momentum": lambda m: m.train.MomentumOptimizer(0.1, 0.9, use_nesterov=True),
    "Adam": lambda m: m.train.AdamOptimizer(0.05),
    "Adagrad": lambda m: m.train.AdagradOptimizer(0.3),
    "RMSProp": lambda m: m.train.RMSPropOptimizer(0.01, momentum=0.5, centered=True),
    "Adadelta": lambda m: m.train.AdadeltaOptimizer(5.0),
    "Ftrl": lambda m: m.train.FtrlOptimizer(0.5, l1_regularization_strength=0.001,
                                            l2_regularization_strength=0.01),
}


def _mlp(m, x, y, scope: str):
    with m.variable_scope(scope):
        w = m.get_variable("w", initializer=W0)
        b = m.get_variable("b", initializer=np.zeros(8, np.float32))
        v = m.get_variable("v", initializer=V0)
    logits = m.matmul(m.nn.relu(m.matmul(x, w) + b), v)
    loss = m.reduce_mean(m.nn.softmax_cross_entropy_with_logits_v2(labels=y, logits=logits))
    return loss, [w, b, v]


def _train_all(m) -> dict:
    """Each optimizer minimizes its own copy of the MLP; one run steps all of them."""
    with m.Graph().as_default():
        x = m.placeholder(m.float32, [None, 5])
        y = m.placeholder(m.float32, [None, 3])
        losses, params, ops = {}, {}, []
        for name, make in OPTIMIZERS.items():
            losses[name], params[name] = _mlp(m, x, y, name)
            ops.append(make(m).minimize(losses[name], var_list=params[name]))
        train = m.group(*ops)
        feed = {x: X, y: Y}
        out = {name: [] for name in OPTIMIZERS}
        with m.Session() as sess:
            sess.run(m.global_variables_initializer())
            for _ in range(STEPS):
                for name, value in sess.run(losses, feed).items():
                    out[name].append(value)
                sess.run(train, feed)
            final = sess.run(params)
        return {name: (np.array(out[name]), final[name]) for name in OPTIMIZERS}


@pytest.fixture(scope="module")
def ours():
    return _train_all(tf)


@pytest.fixture(scope="module")
def theirs():
    real_tf = pytest.importorskip("tensorflow")
    tf1 = real_tf.compat.v1
    tf1.disable_eager_execution()
    return _train_all(tf1)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_minimize_matches_tensorflow(ours, theirs, name):
    (loss, params), (want_loss, want_params) = ours[name], theirs[name]
    np.testing.assert_allclose(loss, want_loss, rtol=1e-5)
    for got, want in zip(params, want_params):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    assert loss[-1] < loss[0]


def test_logistic_regression_converges():
    rng = np.random.default_rng(11)
    x_data = rng.standard_normal((200, 4)).astype(np.float32)
    y_data = (x_data @ np.array([1.5, -2.0, 0.5, 1.0]) > 0.3).astype(np.float32)[:, None]
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 4])
        y = tf.placeholder(tf.float32, [None, 1])
        w = tf.Variable(tf.zeros([4, 1]))
        b = tf.Variable(tf.zeros([1]))
        logits = tf.matmul(x, w) + b
        loss = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=y, logits=logits))
        accuracy = tf.reduce_mean(tf.cast(tf.equal(tf.cast(logits > 0, tf.float32), y), tf.float32))
        train = tf.train.GradientDescentOptimizer(1.0).minimize(loss)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            first = sess.run(loss, {x: x_data, y: y_data})
            for _ in range(300):
                sess.run(train, {x: x_data, y: y_data})
            last, acc = sess.run([loss, accuracy], {x: x_data, y: y_data})
    assert first == pytest.approx(np.log(2.0), rel=1e-6)
    assert last < 0.15 and acc > 0.97


def test_mlp_with_adam_fits_xor():
    x_data = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], np.float32)
    y_data = np.array([[0], [1], [1], [0]], np.float32)
    with tf.Graph().as_default():
        tf.set_random_seed(3)
        x = tf.placeholder(tf.float32, [None, 2])
        y = tf.placeholder(tf.float32, [None, 1])
        hidden = tf.tanh(tf.matmul(x, tf.Variable(tf.random_normal([2, 8]))) + tf.Variable(tf.zeros([8])))
        out = tf.matmul(hidden, tf.Variable(tf.random_normal([8, 1]))) + tf.Variable(tf.zeros([1]))
        loss = tf.reduce_mean(tf.square(out - y))
        gs = tf.train.get_or_create_global_step()
        train = tf.train.AdamOptimizer(0.05).minimize(loss, global_step=gs)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            for _ in range(300):
                sess.run(train, {x: x_data, y: y_data})
            assert sess.run(loss, {x: x_data, y: y_data}) < 1e-3
            assert sess.run(gs) == 300


def test_compute_gradients_contract():
    with tf.Graph().as_default():
        w = tf.Variable([1.0, 2.0], name="w")
        unused = tf.Variable([3.0], name="unused")
        frozen = tf.Variable([4.0], name="frozen", trainable=False)
        loss = tf.reduce_sum(w * w) + frozen[0]
        opt = tf.train.GradientDescentOptimizer(0.1)
        pairs = opt.compute_gradients(loss)
        assert [v for _, v in pairs] == [w, unused] and pairs[1][0] is None
        seeded = opt.compute_gradients(loss, var_list=[w], grad_loss=tf.constant(3.0))
        gated = opt.compute_gradients(loss, var_list=[[w], frozen], gate_gradients=opt.GATE_GRAPH)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            np.testing.assert_allclose(sess.run(pairs[0][0]), [2.0, 4.0])
            np.testing.assert_allclose(sess.run(seeded[0][0]), [6.0, 12.0])
            g_w, g_frozen = sess.run([g for g, _ in gated])
            np.testing.assert_allclose(g_w, [2.0, 4.0])
            np.testing.assert_allclose(g_frozen, [1.0])
            sess.run(opt.apply_gradients(pairs))
            np.testing.assert_allclose(sess.run(w), [0.8, 1.6])
            np.testing.assert_allclose(sess.run(unused), [3.0])


def test_minimize_errors_match_tensorflow():
    def errors(m):
        found = []
        with m.Graph().as_default():
            w = m.Variable([1.0], name="w")
            opt = m.train.GradientDescentOptimizer(0.1)
            for call in (lambda: opt.minimize(m.constant(1.0) * 2.0),
                         lambda: opt.compute_gradients(w * 2.0, gate_gradients=5),
                         lambda: opt.compute_gradients(m.multiply(m.constant(3), 2, name="int_loss")),
                         lambda: opt.minimize(w * 2.0, var_list=[])):
                with pytest.raises(ValueError) as e:
                    call()
                found.append(str(e.value)[:38])
        return found

    ours = errors(tf)
    assert ours == ["No gradients provided for any variable",
                    "gate_gradients must be one of: Optimiz",
                    "Invalid type tf.int32 for int_loss:0, ", "No variables to optimize."]
    real_tf = pytest.importorskip("tensorflow")
    tf1 = real_tf.compat.v1
    tf1.disable_eager_execution()
    assert ours == errors(tf1)


def test_saver_round_trip_of_a_trained_model(tmp_path):
    """Train, checkpoint (variables, slots, beta powers, global step), restore into a new
    graph: the restored model's loss and its next steps are identical."""
    def build():
        x = tf.placeholder(tf.float32, [None, 5])
        y = tf.placeholder(tf.float32, [None, 3])
        loss, _ = _mlp(tf, x, y, "model")
        gs = tf.train.get_or_create_global_step()
        train = tf.train.AdamOptimizer(0.05).minimize(loss, global_step=gs)
        return {x: X, y: Y}, loss, train

    with tf.Graph().as_default():
        feed, loss, train = build()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            for _ in range(4):
                sess.run(train, feed)
            path = tf.train.Saver().save(sess, str(tmp_path / "mlp"))
            after = []
            for _ in range(2):
                sess.run(train, feed)
                after.append(sess.run(loss, feed))
    reader = tf.train.NewCheckpointReader(path)
    assert {"model/w/Adam", "model/w/Adam_1", "beta1_power", "global_step"} <= set(reader.get_variable_to_shape_map())
    assert reader.get_tensor("global_step") == 4
    with tf.Graph().as_default():
        feed, loss, train = build()
        with tf.Session() as sess:
            tf.train.Saver().restore(sess, path)
            again = []
            for _ in range(2):
                sess.run(train, feed)
                again.append(sess.run(loss, feed))
    np.testing.assert_array_equal(again, after)
