"""The Optimizer API around the updates: names, collections, global step, None gradients,
hyper-parameters as floats/tensors/placeholders/callables, errors, Saver round trips of slots."""
from __future__ import annotations

import numpy as np
import pytest

import lowerflow as tf


def _tf1():
    real_tf = pytest.importorskip("tensorflow")
    tf1 = real_tf.compat.v1
    tf1.disable_eager_execution()
    return tf1


def _structure(m) -> dict:
    """Names and kinds of what apply_gradients builds, with and without a global step."""
    with m.Graph().as_default():
        w = m.Variable(np.ones(2, np.float32), name="w")
        u = m.Variable(np.ones(3, np.float32), name="u")
        gs = m.train.get_or_create_global_step()
        adam = m.train.AdamOptimizer(0.1)
        with m.name_scope("outer"):
            op = adam.apply_gradients([(m.constant([1.0, 2.0]), w), (None, u)], global_step=gs)
        mom = m.train.MomentumOptimizer(0.1, 0.9)
        op2 = mom.apply_gradients([(m.constant([1.0, 1.0, 1.0]), u)], name="train_u")
        return {
            "ops": [(op.name, op.type), (op2.name, op2.type)],
            "train_op": [o.name for o in m.get_collection(m.GraphKeys.TRAIN_OP)],
            "global_step": (gs.name, gs.dtype.name, gs.shape.as_list(),
                            [v.name for v in m.get_collection(m.GraphKeys.GLOBAL_STEP)]),
            "slots": (adam.get_slot_names(), mom.get_slot_names(), adam.get_slot(u, "m"),
                      adam.get_slot(w, "nope"), adam.get_slot(w, "m").name),
            "variables": ([v.name for v in adam.variables()], [v.name for v in mom.variables()]),
            "trainable": [v.name for v in m.trainable_variables()],
            "global": [v.name for v in m.global_variables()],
        }


def test_structure():
    s = _structure(tf)
    assert s["ops"] == [("outer/Adam", "AssignAdd"), ("train_u", "NoOp")]
    assert s["train_op"] == ["outer/Adam", "train_u"]
    assert s["global_step"] == ("global_step:0", "int64", [], ["global_step:0"])
    assert s["slots"] == (["m", "v"], ["momentum"], None, None, "w/Adam:0")
    assert s["variables"] == (["outer/beta1_power:0", "outer/beta2_power:0", "w/Adam:0", "w/Adam_1:0"],
                              ["u/Momentum:0"])
    assert s["trainable"] == ["w:0", "u:0"]


def test_structure_matches_tensorflow():
    ours, theirs = _structure(tf), _structure(_tf1())
    assert [n for n, _ in ours.pop("ops")] == [n for n, _ in theirs.pop("ops")]  # TF2: resource ops
    assert ours == theirs


def _steps(m, make_lr, feeds_for):
    """GD and Adam with a learning rate built by make_lr(m) -> (lr, placeholder or None)."""
    with m.Graph().as_default():
        w = m.Variable(np.array([1.0, -1.0], np.float32), name="w")
        v = m.Variable(np.array([0.5, 2.0], np.float64), name="v")
        lr, ph = make_lr(m)
        gs = m.train.get_or_create_global_step()
        grad = m.constant([0.3, -0.2])
        train = m.group(
            m.train.GradientDescentOptimizer(lr).apply_gradients([(grad, w)]),
            m.train.AdamOptimizer(lr).apply_gradients([(m.cast(grad, m.float64), v)], global_step=gs))
        out = []
        with m.Session() as sess:
            sess.run(m.global_variables_initializer())
            for i in range(3):
                sess.run(train, None if ph is None else {ph: feeds_for[i]})
                out.append(sess.run([w, v, gs]))
        return out


LEARNING_RATES = {
    "float": (lambda m: (0.1, None), None),
    "tensor": (lambda m: (m.constant(0.1) * 2.0, None), None),
    "callable": (lambda m: (lambda: 0.05, None), None),
    "placeholder": (lambda m: (lambda p: (p, p))(m.placeholder(m.float32, [])), [0.1, 0.3, 0.2]),
}


@pytest.mark.parametrize("kind", sorted(LEARNING_RATES))
def test_learning_rate_kinds_match_tensorflow(kind):
    make, feeds = LEARNING_RATES[kind]
    ours, theirs = _steps(tf, make, feeds), _steps(_tf1(), make, feeds)
    for step, (got, want) in enumerate(zip(ours, theirs)):
        for g, w in zip(got, want):
            assert np.asarray(g).dtype == np.asarray(w).dtype
            np.testing.assert_allclose(g, w, rtol=1e-6, err_msg=f"{kind} step {step}")
    assert ours[-1][2] == 3


def test_global_step_runs_after_updates_and_none_gradients_are_skipped():
    with tf.Graph().as_default():
        w = tf.Variable(np.ones(2, np.float32), name="w")
        u = tf.Variable(np.ones(2, np.float32), name="u")
        gs = tf.train.get_or_create_global_step()
        assert tf.train.get_or_create_global_step() is gs and tf.train.get_global_step() is gs
        op = tf.train.GradientDescentOptimizer(0.5).apply_gradients(
            [(tf.constant([1.0, 2.0]), w), (None, u)], global_step=gs)
        assert [c.name for c in op.control_inputs] == ["GradientDescent/update"]
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            for _ in range(2):
                sess.run(op)
            np.testing.assert_allclose(sess.run(w), [0.0, -1.0])
            np.testing.assert_allclose(sess.run(u), [1.0, 1.0])
            assert sess.run(gs) == 2 and sess.run(gs).dtype == np.int64
            assert tf.train.global_step(sess, gs) == 2


def test_global_step_helpers():
    with tf.Graph().as_default():
        assert tf.train.get_global_step() is None
        with tf.name_scope("scope"):
            gs = tf.train.create_global_step()
        assert gs.name == "global_step:0" and not gs.trainable
        with pytest.raises(ValueError, match='"global_step" already exists.'):
            tf.train.create_global_step()
    with tf.Graph().as_default():
        step = tf.Variable(0, name="global_step")  # found by name, outside the collection
        assert tf.train.get_global_step() is step.op.outputs[0]
    with tf.Graph().as_default():
        tf.Variable(0.0, name="global_step")
        with pytest.raises(TypeError, match="does not have integer type"):
            tf.train.get_global_step()


def test_errors_match_tensorflow():
    def errors(m):
        with m.Graph().as_default():
            w = m.Variable([1.0], name="w")
            opt = m.train.GradientDescentOptimizer(0.1)
            found = []
            for pairs in ([], [(None, w)]):
                with pytest.raises(ValueError) as e:
                    opt.apply_gradients(pairs)
                found.append(str(e.value))
            with pytest.raises(TypeError) as e:
                opt.apply_gradients([(object(), w)])
            found.append(type(e.value).__name__)
            for bad in (lambda: m.train.AdagradOptimizer(0.1, initial_accumulator_value=0.0),
                        lambda: m.train.FtrlOptimizer(0.1, learning_rate_power=0.5),
                        lambda: m.train.FtrlOptimizer(0.1, l1_regularization_strength=-1.0)):
                with pytest.raises(ValueError) as e:
                    bad()
                found.append(str(e.value))
            return found

    ours = errors(tf)
    assert ours[0] == "No variables provided."
    assert ours[1] == ("No gradients provided for any variable: "
                       "[\"<tf.Variable 'w:0' shape=(1,) dtype=float32_ref>\"].")
    theirs = errors(_tf1())
    assert ours[0] == theirs[0] and ours[2:] == theirs[2:]  # TF2 prints a resource variable


def test_saver_round_trip_restores_slots(tmp_path):
    """A checkpoint of an Adam-trained variable holds its slots and beta powers; restoring it
    into a fresh session continues training exactly where it stopped."""
    def build():
        w = tf.Variable(np.array([1.0, 2.0, 3.0], np.float32), name="w")
        grad = tf.placeholder(tf.float32, [3])
        gs = tf.train.get_or_create_global_step()
        train = tf.train.AdamOptimizer(0.1).apply_gradients([(grad, w)], global_step=gs)
        return w, grad, train

    g1 = tf.Graph()
    with g1.as_default():
        w, grad, train = build()
        saver = tf.train.Saver()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            for i in range(3):
                sess.run(train, {grad: np.full(3, i + 1.0, np.float32)})
            path = saver.save(sess, str(tmp_path / "adam"), global_step=3)
            sess.run(train, {grad: np.ones(3, np.float32)})
            expected = sess.run(tf.global_variables())
    names = [name for name, _ in tf.train.list_variables(path)]
    assert names == ["beta1_power", "beta2_power", "global_step", "w", "w/Adam", "w/Adam_1"]
    np.testing.assert_allclose(tf.train.load_variable(path, "beta1_power"), 0.9 ** 4, rtol=1e-6)  # beta1 ** (steps + 1)
    with tf.Graph().as_default():
        w, grad, train = build()
        with tf.Session() as sess:
            tf.train.Saver().restore(sess, path)
            sess.run(train, {grad: np.ones(3, np.float32)})
            for got, want in zip(sess.run(tf.global_variables()), expected):
                np.testing.assert_array_equal(got, want)
