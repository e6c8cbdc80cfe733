"""Every optimizer's apply_gradients, step by step: against numpy references of TF1's update
kernels, and against TensorFlow itself when installed (same initial values, same fed gradients
and learning rates). All cases share one graph, one session and three compiled steps."""
from __future__ import annotations

import numpy as np
import pytest

import lowerflow as tf
from training import optim_cases as cases


@pytest.fixture(scope="module")
def ours():
    return cases.trajectories(tf)


@pytest.fixture(scope="module")
def theirs():
    real_tf = pytest.importorskip("tensorflow")
    tf1 = real_tf.compat.v1
    tf1.disable_eager_execution()
    return cases.trajectories(tf1)


def _tolerance(name: str) -> dict:
    return {"rtol": 1e-5, "atol": 1e-6} if cases.CASES[name][1] == "float32" else {"rtol": 1e-6, "atol": 1e-7}


@pytest.mark.parametrize("name", sorted(cases.CASES))
def test_updates_match_numpy_reference(ours, name):
    for step, (got, want) in enumerate(zip(ours[name], cases.reference_trajectory(name))):
        assert len(got) == len(want)
        for g, w in zip(got, want):
            assert g.dtype == np.dtype(cases.CASES[name][1])
            np.testing.assert_allclose(g, w, **_tolerance(name), err_msg=f"{name} step {step}")


@pytest.mark.parametrize("name", sorted(cases.CASES))
def test_updates_match_tensorflow(ours, theirs, name):
    for step, (got, want) in enumerate(zip(ours[name], theirs[name])):
        for g, w in zip(got, want):
            assert g.dtype == w.dtype
            np.testing.assert_allclose(g, w, **_tolerance(name), err_msg=f"{name} step {step}")


def test_slot_and_variable_names_match_tensorflow():
    real_tf = pytest.importorskip("tensorflow")
    tf1 = real_tf.compat.v1
    tf1.disable_eager_execution()
    names = []
    for m in (tf, tf1):
        graph, _, train, _, states = cases.build(m)
        with graph.as_default():
            names.append(([v.name for v in m.global_variables()],
                          [v.name for v in m.trainable_variables()],
                          {k: [v.name for v in s] for k, s in states.items()}))
    assert names[0] == names[1]
    assert names[0][2]["Adam"] == ["Adam:0", "Adam/Adam:0", "Adam/Adam_1:0"]
    assert names[0][2]["RMSPropCentered"][1:] == [f"RMSPropCentered/RMSProp{s}:0" for s in ("_1", "_2", "")]


def test_step_is_one_native_function_committing_all_state():
    """The train op lowers to one IR function whose results are every variable and slot."""
    graph, _, train, (g32, g64, lr), states = cases.build(tf)
    with graph.as_default():
        func = tf.to_ir(train, feeds=[g32, g64, lr]).functions[0]
    written = set(func.result_names)
    expected = {v.op.name for values in states.values() for v in values}
    expected |= {"beta1_power", "beta2_power", "beta1_power_1", "beta2_power_1"}
    assert written == expected
