"""The optimizer cases shared by the training tests: how to build each optimizer (with either
`lowerflow` or `tensorflow.compat.v1` as `m`), and numpy references of TF1's update kernels."""
from __future__ import annotations

import numpy as np

SHAPE = (3, 4)
STEPS = 4
W0 = np.random.default_rng(0).standard_normal(SHAPE)
GRADS = np.random.default_rng(1).standard_normal((STEPS,) + SHAPE)
RATES = np.array([0.1, 0.05, 0.2, 0.1])

# name -> (optimizer factory taking the module and a learning-rate tensor, variable dtype name)
CASES = {
    "GradientDescent": (lambda m, lr: m.train.GradientDescentOptimizer(lr), "float32"),
    "Momentum": (lambda m, lr: m.train.MomentumOptimizer(lr, 0.9), "float32"),
    "Nesterov": (lambda m, lr: m.train.MomentumOptimizer(lr, 0.8, use_nesterov=True), "float32"),
    "Adam": (lambda m, lr: m.train.AdamOptimizer(lr), "float32"),
    "Adam64": (lambda m, lr: m.train.AdamOptimizer(lr, beta1=0.8, epsilon=1e-3), "float64"),
    "Adagrad": (lambda m, lr: m.train.AdagradOptimizer(lr, initial_accumulator_value=0.5), "float32"),
    "RMSProp": (lambda m, lr: m.train.RMSPropOptimizer(lr), "float32"),
    "RMSPropMomentum": (lambda m, lr: m.train.RMSPropOptimizer(lr, decay=0.8, momentum=0.5,
                                                               epsilon=1e-6), "float32"),
    "RMSPropCentered": (lambda m, lr: m.train.RMSPropOptimizer(lr, momentum=0.3, centered=True),
                        "float64"),
    "Adadelta": (lambda m, lr: m.train.AdadeltaOptimizer(lr * 10, rho=0.9, epsilon=1e-6), "float32"),
    "Ftrl": (lambda m, lr: m.train.FtrlOptimizer(lr, l1_regularization_strength=0.05,
                                                 l2_regularization_strength=0.1), "float32"),
    "FtrlPower": (lambda m, lr: m.train.FtrlOptimizer(lr, learning_rate_power=-0.7,
                                                      initial_accumulator_value=0.3,
                                                      l1_regularization_strength=0.2), "float64"),
    "FtrlShrinkage": (lambda m, lr: m.train.FtrlOptimizer(
        lr, l1_regularization_strength=0.01, l2_shrinkage_regularization_strength=0.2), "float32"),
}


def build(m, cases=CASES):
    """One graph: each case's optimizer applies the fed gradient to its own variable `<case>`.
    Returns (graph, init, train op, feeds (grad32, grad64, lr), states: case -> [var, slots...])."""
    graph = m.Graph()
    with graph.as_default():
        grads = {"float32": m.placeholder(m.float32, SHAPE, name="grad"),
                 "float64": m.placeholder(m.float64, SHAPE, name="grad64")}
        lr = m.placeholder(m.float32, [], name="lr")
        ops, states = [], {}
        for name, (make, dtype) in cases.items():
            w = m.Variable(W0.astype(dtype), name=name)
            opt = make(m, lr)
            ops.append(opt.apply_gradients([(grads[dtype], w)]))
            states[name] = [w] + [opt.get_slot(w, s) for s in opt.get_slot_names()]
        train = m.group(*ops)
        init = m.global_variables_initializer()
    return graph, init, train, (grads["float32"], grads["float64"], lr), states


def trajectories(m, cases=CASES) -> dict:
    """case -> per step, the values of [var, slots...] after that step."""
    graph, init, train, (g32, g64, lr), states = build(m, cases)
    out = {name: [] for name in cases}
    with m.Session(graph=graph) as sess:
        sess.run(init)
        for step in range(STEPS):
            sess.run(train, {g32: GRADS[step].astype(np.float32), g64: GRADS[step], lr: RATES[step]})
            for name, values in sess.run(states).items():
                out[name].append(values)
    return out


# -- numpy references of TF1's kernels (state: var + slots, in get_slot_names order) --
def _f32(x):
    return float(np.float32(x))


def _momentum(mu, nesterov):
    def step(s, g, lr):
        w, a = s
        a = a * mu + g
        return [w - (g * lr + a * mu * lr if nesterov else a * lr), a]
    return step, lambda w: [np.zeros_like(w)]


def _adam(b1, b2, eps):
    def step(s, g, lr, t):
        w, m, v = s
        b1p, b2p = (float(np.prod(np.full(t + 1, b, np.float32))) for b in (b1, b2))  # float32 state
        alpha = lr * np.sqrt(1 - b2p) / (1 - b1p)
        m = m + (g - m) * (1 - b1)
        v = v + (g * g - v) * (1 - b2)
        return [w - m * alpha / (np.sqrt(v) + eps), m, v]
    return step, lambda w: [np.zeros_like(w), np.zeros_like(w)]


def _rmsprop(rho, mu, eps, centered):
    def step(s, g, lr):
        if centered:
            w, mg, mom, ms = s
        else:
            w, mom, ms = s
        ms = ms + (g * g - ms) * (1 - rho)
        denom = ms + eps
        if centered:
            mg = mg + (g - mg) * (1 - rho)
            denom = ms - mg * mg + eps
        mom = mom * mu + g * lr / np.sqrt(denom)
        return [w - mom, mg, mom, ms] if centered else [w - mom, mom, ms]
    zeros = 2 if centered else 1
    return step, lambda w: [np.zeros_like(w)] * zeros + [np.ones_like(w)]


def _adagrad(init):
    def step(s, g, lr):
        w, acc = s
        acc = acc + g * g
        return [w - g * lr / np.sqrt(acc), acc]
    return step, lambda w: [np.full_like(w, init)]


def _adadelta(rho, eps, scale):
    def step(s, g, lr):
        w, acc, au = s
        acc = acc * rho + g * g * (1 - rho)
        update = np.sqrt(au + eps) / np.sqrt(acc + eps) * g
        return [w - update * lr * scale, acc, au * rho + update * update * (1 - rho)]
    return step, lambda w: [np.zeros_like(w), np.zeros_like(w)]


def _ftrl(power, init, l1, l2, shrink):
    def step(s, g, lr):
        w, acc, lin = s
        new = acc + g * g
        lin = lin + g + 2 * shrink * w - (new ** -power - acc ** -power) / lr * w
        w = np.where(np.abs(lin) > l1, (l1 * np.sign(lin) - lin) / (new ** -power / lr + 2 * l2), 0)
        return [w, new, lin]
    return step, lambda w: [np.full_like(w, init), np.zeros_like(w)]


REFERENCES = {  # case -> (step(state, grad, lr[, t]) -> state, initial slots(var))
    "GradientDescent": (lambda s, g, lr: [s[0] - g * lr], lambda w: []),
    "Momentum": _momentum(0.9, False),
    "Nesterov": _momentum(0.8, True),
    "Adam": _adam(0.9, 0.999, 1e-8),
    "Adam64": _adam(_f32(0.8), _f32(0.999), _f32(1e-3)),
    "Adagrad": _adagrad(0.5),
    "RMSProp": _rmsprop(0.9, 0.0, 1e-10, False),
    "RMSPropMomentum": _rmsprop(0.8, 0.5, 1e-6, False),
    "RMSPropCentered": _rmsprop(_f32(0.9), _f32(0.3), _f32(1e-10), True),
    "Adadelta": _adadelta(0.9, 1e-6, 10),
    "Ftrl": _ftrl(-0.5, 0.1, 0.05, 0.1, 0.0),
    "FtrlPower": _ftrl(_f32(-0.7), 0.3, _f32(0.2), 0.0, 0.0),
    "FtrlShrinkage": _ftrl(-0.5, 0.1, 0.01, 0.0, 0.2),
}


def reference_trajectory(name: str) -> list:
    step, slots = REFERENCES[name]
    state = [W0.copy()] + slots(W0)
    out = []
    for t in range(STEPS):
        lr = _f32(RATES[t])
        args = (state, GRADS[t], lr, t) if "Adam" in name else (state, GRADS[t], lr)
        state = step(*args)
        out.append(state)
    return out
