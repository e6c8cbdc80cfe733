"""The benchmark workloads, each written once against the TF1 API.

A workload's `graph(tf, **params)` returns `(build, feeds)`: `build()` adds the graph to the
current default graph and returns the fetch; `feeds` maps placeholder names to arrays.
`tf` is touched only inside `build`, so the same function serves `lowerflow` and
`tensorflow.compat.v1`, and the array-library peers call `graph(None, ...)` just for the
feeds. `expr(xp, *feeds, *variables, **params)` is the hand-written equivalent, written
once for `xp` = numpy or jax.numpy: the same expression is what numpy runs eagerly and what
jax.jit compiles. Inputs are seeded, so every implementation sees the same numbers.
"""
from __future__ import annotations

import functools
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

GraphFn = Callable[..., "tuple[Callable[[], Any], dict[str, np.ndarray]]"]


@dataclass(frozen=True)
class Workload:
    """One benchmark: the TF1 graph, its array-library equivalent and how it is run.

    mode: "run" (warm `sess.run`), "callable" (warm `sess.make_callable`), or "first_run"
    (a fresh Session's first run on a never-seen graph: what compiling costs).
    carry: a variable update step: the expr's result (a tuple when there are several) replaces
    the variables' arguments, which come after the feeds, for the next step.
    """

    name: str
    what: str
    graph: GraphFn
    expr: Callable[..., Any]
    full: dict
    quick: dict
    size: Callable[..., str]
    mode: str = "run"
    variables: Callable[..., dict[str, np.ndarray]] = field(default=lambda **_: {})
    carry: bool = False
    bytes: Callable[..., int] | None = None  # bytes read + written per run, for GB/s
    flops: Callable[..., int] | None = None  # for GFLOP/s
    not_for: dict = field(default_factory=dict)  # peer name -> why it cannot run this (shown as n/a)

    def params(self, quick: bool) -> dict:
        return dict(self.quick if quick else self.full)


@functools.lru_cache(maxsize=16)
def uniform(shape: tuple, seed: int = 0, low: float = -1.0, high: float = 1.0) -> np.ndarray:
    """Seeded float32 input, shared read-only by every implementation (built once: 2^24
    random numbers take a while)."""
    a = np.random.default_rng(seed).uniform(low, high, shape).astype(np.float32)
    a.flags.writeable = False
    return a


def _softmax(xp, z):
    e = xp.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


# -- tiny graphs: what one run costs when there is almost nothing to compute --

def scalar_add(tf, **_):
    def build():
        x = tf.placeholder(tf.float32, [], name="x")
        return x + 1.0
    return build, {"x": np.array(2.0, np.float32)}


def _counter_init(n: int, **_) -> dict[str, np.ndarray]:
    return {"v": np.zeros(n, np.float32)}


def counter_step(tf, n: int, **_):
    def build():
        v = tf.Variable(_counter_init(n)["v"], name="v")
        return tf.assign_add(v, tf.constant(np.ones(n, np.float32))).op
    return build, {}


# -- elementwise chains over 2^24 float32 (64 MiB per array) --

def heavy_chain(tf, n: int, **_):
    def build():
        x = tf.placeholder(tf.float32, [n], name="x")
        return tf.tanh(x * 2.0 + 1.0) * tf.sigmoid(x) - x * x + 0.5
    return build, {"x": uniform((n,))}


def heavy_expr(xp, x, **_):
    return xp.tanh(x * 2.0 + 1.0) * (1.0 / (1.0 + xp.exp(-x))) - x * x + 0.5


def light_chain(tf, n: int, **_):
    def build():
        x = tf.placeholder(tf.float32, [n], name="x")
        return x * 2.0 + 1.0
    return build, {"x": uniform((n,))}


# -- dense layers --

def softmax_rows(tf, rows: int, cols: int, **_):
    def build():
        x = tf.placeholder(tf.float32, [rows, cols], name="x")
        return tf.nn.softmax(x)
    return build, {"x": uniform((rows, cols), 1, -4.0, 4.0)}


def matmul_square(tf, n: int, **_):
    def build():
        a = tf.placeholder(tf.float32, [n, n], name="a")
        b = tf.placeholder(tf.float32, [n, n], name="b")
        return tf.matmul(a, b)
    return build, {"a": uniform((n, n), 2), "b": uniform((n, n), 3)}


@functools.lru_cache(maxsize=4)
def _mlp_init(layers: tuple, **_) -> dict[str, np.ndarray]:
    """Glorot-uniform weights and small biases, seeded (the TF1 graph holds them as Variables)."""
    out = {}
    for i, (m, n) in enumerate(itertools.pairwise(layers)):
        limit = float(np.sqrt(6.0 / (m + n)))
        out[f"w{i}"] = uniform((m, n), 10 + i, -limit, limit)
        out[f"b{i}"] = uniform((n,), 20 + i, -0.1, 0.1)
    return out


def mlp_init(layers: tuple, **_) -> dict[str, np.ndarray]:
    return dict(_mlp_init(layers))


def mlp(tf, batch: int, layers: tuple, **_):
    def build():
        h = tf.placeholder(tf.float32, [batch, layers[0]], name="x")
        weights = mlp_init(layers)
        for i in range(len(layers) - 1):
            w = tf.Variable(weights[f"w{i}"], name=f"w{i}")
            b = tf.Variable(weights[f"b{i}"], name=f"b{i}")
            h = tf.matmul(h, w) + b
            h = tf.nn.relu(h) if i < len(layers) - 2 else tf.nn.softmax(h)
        return h
    return build, {"x": uniform((batch, layers[0]), 4)}


def mlp_expr(xp, x, *weights, **_):
    h = x
    pairs = list(zip(weights[::2], weights[1::2]))
    for i, (w, b) in enumerate(pairs):
        h = h @ w + b
        h = xp.maximum(h, 0.0) if i < len(pairs) - 1 else _softmax(xp, h)
    return h


def mlp_flops(batch: int, layers: tuple, **_) -> int:
    return 2 * batch * sum(m * n for m, n in itertools.pairwise(layers))


# -- training steps: forward, backward and the optimizer's update of every variable --

def _log_softmax(xp, z):
    shifted = z - z.max(axis=-1, keepdims=True)
    return shifted - xp.log(xp.exp(shifted).sum(axis=-1, keepdims=True))


def _xent(xp, logits, y):
    """Mean softmax cross-entropy against one-hot `y`, as tf.nn.softmax_cross_entropy_with_logits_v2."""
    return -(y * _log_softmax(xp, logits)).sum(axis=-1).mean()


def _dense_logits(xp, params, x):
    """ReLU layers, linear out: params is (w0, b0, w1, b1, ...)."""
    h, pairs = x, list(zip(params[::2], params[1::2]))
    for i, (w, b) in enumerate(pairs):
        h = h @ w + b
        h = xp.maximum(h, 0.0) if i < len(pairs) - 1 else h
    return h


def _dense_grads_by_hand(params, x, y):
    """Reverse mode of `_xent(_dense_logits(...))` written out in numpy."""
    pairs, acts = list(zip(params[::2], params[1::2])), [x]
    for i, (w, b) in enumerate(pairs):
        z = acts[-1] @ w + b
        acts.append(np.maximum(z, 0.0) if i < len(pairs) - 1 else z)
    dz = (_softmax(np, acts[-1]) - y) / np.float32(len(x))
    grads = []
    for i in range(len(pairs) - 1, -1, -1):
        grads[:0] = [acts[i].T @ dz, dz.sum(axis=0)]
        if i:
            dz = (dz @ pairs[i][0].T) * (acts[i] > 0)
    return grads


def _grads(xp, params, x, y):
    """Gradients of the mean cross-entropy: hand-written for numpy, `jax.grad` for JAX (the
    same loss expression, differentiated and then compiled whole by the peer's jax.jit)."""
    if xp is np:
        return _dense_grads_by_hand(params, x, y)
    import jax
    return jax.grad(lambda p: _xent(xp, _dense_logits(xp, p, x), y))(list(params))


def _one_hot(batch: int, classes: int, seed: int) -> np.ndarray:
    labels = np.random.default_rng(seed).integers(0, classes, batch)
    out = np.eye(classes, dtype=np.float32)[labels]
    out.flags.writeable = False
    return out


def _train_feeds(batch: int, layers: tuple) -> dict[str, np.ndarray]:
    return {"x": uniform((batch, layers[0]), 5, 0.0, 1.0), "y": _one_hot(batch, layers[-1], 6)}


def _train_graph(tf, batch: int, layers: tuple, optimizer: Callable):
    def build():
        x = tf.placeholder(tf.float32, [batch, layers[0]], name="x")
        y = tf.placeholder(tf.float32, [batch, layers[-1]], name="y")
        params = [tf.Variable(v, name=k) for k, v in mlp_init(layers).items()]
        h = x
        for i in range(0, len(params), 2):
            h = tf.matmul(h, params[i]) + params[i + 1]
            h = tf.nn.relu(h) if i < len(params) - 2 else h
        loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=y, logits=h))
        return optimizer(tf).minimize(loss)
    return build, _train_feeds(batch, layers)


def logreg_graph(tf, batch: int, layers: tuple, lr: float, **_):
    return _train_graph(tf, batch, layers, lambda tf: tf.train.GradientDescentOptimizer(lr))


def sgd_expr(xp, x, y, *params, lr: float, **_):
    return tuple(p - lr * g for p, g in zip(params, _grads(xp, params, x, y)))


ADAM = {"beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8}


def adam_graph(tf, batch: int, layers: tuple, lr: float, **_):
    return _train_graph(tf, batch, layers, lambda tf: tf.train.AdamOptimizer(lr, **ADAM))


def adam_state(layers: tuple, **_) -> dict[str, np.ndarray]:
    """The MLP's Adam state (`with_adam_slots`)."""
    return with_adam_slots(mlp_init(layers))


def with_adam_slots(params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The parameters, then Adam's slots m and v per parameter, then beta1^t and beta2^t
    (TF1's `beta1_power`, `beta2_power`, which start at beta1 and beta2)."""
    state = dict(params)
    for slot in ("m", "v"):
        state.update({f"{k}/{slot}": np.zeros_like(v) for k, v in params.items()})
    state["beta1_power"] = np.float32(ADAM["beta1"])
    state["beta2_power"] = np.float32(ADAM["beta2"])
    return state


def adam_expr(xp, x, y, *state, lr: float, **_):
    """One step of TF1's Adam on the dense network."""
    n = (len(state) - 2) // 3
    return adam_step(xp, state, _grads(xp, state[:n], x, y), lr)


def adam_step(xp, state: tuple, grads: list, lr: float) -> tuple:
    """TF1's Adam update of `state` (params, m, v, beta1^t, beta2^t) given the gradients:
    lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t)."""
    n = (len(state) - 2) // 3
    params, m, v, (p1, p2) = state[:n], state[n:2 * n], state[2 * n:3 * n], state[3 * n:]
    b1, b2, eps = ADAM["beta1"], ADAM["beta2"], ADAM["epsilon"]
    lr_t = lr * xp.sqrt(1 - p2) / (1 - p1)
    m = [b1 * mi + (1 - b1) * g for mi, g in zip(m, grads)]
    v = [b2 * vi + (1 - b2) * g * g for vi, g in zip(v, grads)]
    params = [p - lr_t * mi / (xp.sqrt(vi) + eps) for p, mi, vi in zip(params, m, v)]
    return (*params, *m, *v, p1 * b1, p2 * b2)


def train_flops(batch: int, layers: tuple, **_) -> int:
    """Forward, every weight gradient, and the activation gradients of all layers but the
    first (the input is fed, so nothing needs its gradient)."""
    sizes = [m * n for m, n in itertools.pairwise(layers)]
    return 2 * batch * (2 * sum(sizes) + sum(sizes[1:]))


def _train_size(batch: int, layers: tuple, **_) -> str:
    return f"b{batch} " + "-".join(map(str, layers))


# -- compile time: an elementwise chain of `ops` ops that no cache has seen --

def _chain(x, ops: int, salt: float):
    """`salt` is added first so that every sample's graph (and so its IR text, the key of
    lowerflow's in-process executable cache) is new; the rest alternates * and +."""
    y = x + salt
    for i in range(1, ops):
        y = y * (1.0 + 1e-4 * i) if i % 2 else y - 1e-4 * i
    return y


def chain_graph(tf, n: int, ops: int, salt: float = 0.0, **_):
    def build():
        return _chain(tf.placeholder(tf.float32, [n], name="x"), ops, salt)
    return build, {"x": uniform((n,))}


def chain_expr(xp, x, ops: int, salt: float = 0.0, **_):
    return _chain(x, ops, salt)


def _first_run(ops: int) -> Workload:
    return Workload(f"first_run_{ops}", f"fresh Session, first run of a {ops}-op elementwise chain",
                    chain_graph, chain_expr, {"n": 1024, "ops": ops}, {"n": 16, "ops": ops},
                    lambda n, ops, **_: f"{ops} ops, {n} f32", mode="first_run")


def _steady_chain(ops: int) -> Workload:
    return Workload(f"chain_{ops}", f"warm sess.run of a {ops}-op elementwise chain", chain_graph, chain_expr,
                    {"n": 1 << 16, "ops": ops}, {"n": 16, "ops": ops},
                    lambda n, ops, **_: f"{ops} ops, " + _elems(n), bytes=lambda n, **_: 8 * n)


def big_constant_graph(tf, n: int, salt: float = 0.0, **_):
    """x + c with c an n-element constant: what a large constant costs a first run (it is
    hashed and bound, never printed into the IR text)."""
    def build():
        return tf.placeholder(tf.float32, [n], name="x") + tf.constant(uniform((n,), seed=1)) + salt
    return build, {"x": uniform((n,))}


def big_constant_expr(xp, x, n: int, salt: float = 0.0, **_):
    return x + uniform((n,), seed=1) + salt


def _elems(n: int, **_) -> str:
    return f"2^{n.bit_length() - 1} f32" if n & (n - 1) == 0 else f"{n} f32"


WORKLOADS: list[Workload] = [
    Workload("tiny_run", "warm sess.run of a scalar add (x + 1)", scalar_add, lambda xp, x, **_: x + 1.0,
             {}, {}, lambda **_: "scalar"),
    Workload("tiny_callable", "the same through sess.make_callable", scalar_add,
             lambda xp, x, **_: x + 1.0, {}, {}, lambda **_: "scalar", mode="callable"),
    Workload("var_update", "sess.run(assign_add(v, 1).op)", counter_step, lambda xp, v, **_: v + 1.0,
             {"n": 1024}, {"n": 16}, _elems, variables=_counter_init, carry=True),
    Workload("elementwise_heavy", "tanh(x*2+1)*sigmoid(x) - x*x + 0.5", heavy_chain, heavy_expr,
             {"n": 1 << 24}, {"n": 1 << 12}, _elems, bytes=lambda n, **_: 8 * n),
    Workload("elementwise_light", "x*2+1 (memory-bound)", light_chain, lambda xp, x, **_: x * 2.0 + 1.0,
             {"n": 1 << 24}, {"n": 1 << 12}, _elems, bytes=lambda n, **_: 8 * n),
    Workload("softmax", "tf.nn.softmax over rows", softmax_rows, lambda xp, x, **_: _softmax(xp, x),
             {"rows": 4096, "cols": 1024}, {"rows": 64, "cols": 32},
             lambda rows, cols, **_: f"{rows}x{cols} f32", bytes=lambda rows, cols, **_: 8 * rows * cols),
    Workload("mlp", "MLP inference: relu layers, softmax out", mlp, mlp_expr,
             {"batch": 256, "layers": (784, 512, 512, 10)}, {"batch": 8, "layers": (32, 16, 16, 10)},
             lambda batch, layers, **_: f"b{batch} " + "-".join(map(str, layers)),
             variables=mlp_init, flops=mlp_flops),
    Workload("train_logreg", "training step: softmax regression, GradientDescent", logreg_graph, sgd_expr,
             {"batch": 256, "layers": (784, 10), "lr": 0.1}, {"batch": 8, "layers": (32, 10), "lr": 0.1},
             _train_size, variables=mlp_init, carry=True, flops=train_flops),
    Workload("train_mlp_adam", "training step: ReLU MLP, Adam", adam_graph, adam_expr,
             {"batch": 128, "layers": (784, 256, 10), "lr": 1e-3}, {"batch": 8, "layers": (32, 16, 10), "lr": 1e-3},
             _train_size, variables=adam_state, carry=True, flops=train_flops),
    Workload("matmul", "tf.matmul(a, b), square", matmul_square, lambda xp, a, b, **_: a @ b,
             {"n": 1024}, {"n": 32}, lambda n, **_: f"{n}^3 f32", flops=lambda n, **_: 2 * n ** 3),
    _steady_chain(100),
    _steady_chain(1000),
    _first_run(10),
    _first_run(100),
    _first_run(1000),
    Workload("first_run_const", "fresh Session, first run of x + a large constant", big_constant_graph,
             big_constant_expr, {"n": 10_000_000}, {"n": 1 << 12}, _elems, mode="first_run"),
]

from bench.workloads_cnn import CNN_WORKLOADS  # noqa: E402  (built on the definitions above)
from bench.workloads_rnn import RNN_WORKLOADS  # noqa: E402

WORKLOADS += RNN_WORKLOADS + CNN_WORKLOADS
BY_NAME: dict[str, Workload] = {w.name: w for w in WORKLOADS}
