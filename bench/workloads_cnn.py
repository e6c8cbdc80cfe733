"""The MNIST-shaped CNN workloads: a training step, its inference, and each conv layer alone.

The network of the TF1 "Deep MNIST" tutorial: conv 5x5x32 SAME + ReLU, max_pool 2x2,
conv 5x5x64 SAME + ReLU, max_pool 2x2, dense 1024 ReLU, dense 10, softmax cross-entropy,
Adam, batch 64, the 28x28x1 images fed. The TF1 graph is written once (lowerflow and
TensorFlow); JAX runs `jax.lax.conv_general_dilated` under `jit` (`jax.grad` for the step);
numpy convolves by im2col (`sliding_window_view` and one tensordot) for the output check
and has no hand-written CNN gradients, so its training cell is n/a.
"""
from __future__ import annotations

import functools

import numpy as np

from bench.workloads import ADAM, Workload, _one_hot, _softmax, _xent, adam_step, uniform, with_adam_slots

FULL = {"batch": 64, "image": 28, "channels": (1, 32, 64), "hidden": 1024, "kernel": 5}
QUICK = {"batch": 2, "image": 8, "channels": (1, 4, 8), "hidden": 16, "kernel": 3}
CLASSES = 10


@functools.lru_cache(maxsize=4)
def _cnn_init(image: int, channels: tuple, hidden: int, kernel: int, **_) -> dict[str, np.ndarray]:
    """Glorot-uniform filters and weights, biases 0.1, seeded (the TF1 graph holds them as
    Variables, in this order)."""
    out = {}
    for i, (cin, cout) in enumerate(zip(channels, channels[1:])):
        limit = float(np.sqrt(6.0 / (kernel * kernel * (cin + cout))))
        out[f"conv{i}/w"] = uniform((kernel, kernel, cin, cout), 30 + i, -limit, limit)
        out[f"conv{i}/b"] = np.full(cout, 0.1, np.float32)
    flat = (image // 4) ** 2 * channels[-1]
    for i, (m, n) in enumerate([(flat, hidden), (hidden, CLASSES)]):
        limit = float(np.sqrt(6.0 / (m + n)))
        out[f"dense{i}/w"] = uniform((m, n), 40 + i, -limit, limit)
        out[f"dense{i}/b"] = np.full(n, 0.1, np.float32)
    return out


def cnn_init(**params) -> dict[str, np.ndarray]:
    return dict(_cnn_init(**{k: params[k] for k in ("image", "channels", "hidden", "kernel")}))


def _cnn_feeds(batch: int, image: int, **_) -> dict[str, np.ndarray]:
    return {"x": uniform((batch, image, image, 1), 7, 0.0, 1.0), "y": _one_hot(batch, CLASSES, 8)}


def _tf_logits(tf, x, params):
    """The TF1 network over `params` (Variables, in `_cnn_init`'s order)."""
    h = x
    for w, b in (params[0:2], params[2:4]):
        h = tf.nn.relu(tf.nn.conv2d(h, w, [1, 1, 1, 1], "SAME") + b)
        h = tf.nn.max_pool(h, [1, 2, 2, 1], [1, 2, 2, 1], "SAME")
    h = tf.reshape(h, [-1, int(np.prod(h.shape.as_list()[1:]))])
    h = tf.nn.relu(tf.matmul(h, params[4]) + params[5])
    return tf.matmul(h, params[6]) + params[7]


def _graph(tf, train: bool, batch: int, image: int, **params):
    def build():
        x = tf.placeholder(tf.float32, [batch, image, image, 1], name="x")
        y = tf.placeholder(tf.float32, [batch, CLASSES], name="y")
        variables = [tf.Variable(v, name=k.replace("/", "_"))
                     for k, v in cnn_init(image=image, **params).items()]
        logits = _tf_logits(tf, x, variables)
        if not train:
            return tf.nn.softmax(logits)
        loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=y, logits=logits))
        return tf.train.AdamOptimizer(params["lr"], **ADAM).minimize(loss)
    feeds = _cnn_feeds(batch, image)
    return build, feeds if train else {"x": feeds["x"]}


def train_graph(tf, **params):
    return _graph(tf, True, **params)


def infer_graph(tf, **params):
    return _graph(tf, False, **params)


def _conv_same(xp, x, w):
    """A stride-1 SAME convolution, NHWC x HWIO: lax for JAX, im2col for numpy."""
    if xp is not np:
        import jax
        return jax.lax.conv_general_dilated(x, w, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC"))
    k = w.shape[0]
    padded = np.pad(x, [(0, 0), ((k - 1) // 2, k // 2), ((k - 1) // 2, k // 2), (0, 0)])
    windows = np.lib.stride_tricks.sliding_window_view(padded, (k, k), axis=(1, 2))  # n,h,w,c,kh,kw
    return np.tensordot(windows, w, axes=([4, 5, 3], [0, 1, 2]))


def _pool2(xp, h):
    n, hh, ww, c = h.shape
    return h.reshape(n, hh // 2, 2, ww // 2, 2, c).max(axis=(2, 4))


def _logits(xp, params, x):
    h = x
    for w, b in (params[0:2], params[2:4]):
        h = _pool2(xp, xp.maximum(_conv_same(xp, h, w) + b, 0.0))
    h = h.reshape(h.shape[0], -1)
    h = xp.maximum(h @ params[4] + params[5], 0.0)
    return h @ params[6] + params[7]


def infer_expr(xp, x, *params, **_):
    return _softmax(xp, _logits(xp, params, x))


def train_expr(xp, x, y, *state, lr: float, **_):
    """One Adam step; numpy has no hand-written CNN gradients (n/a)."""
    if xp is np:
        from bench.peers import NotApplicable
        raise NotApplicable("no hand-written CNN gradients")
    import jax
    n = len(state) // 3
    grads = jax.grad(lambda p: _xent(xp, _logits(xp, p, x), y))(list(state[:n]))
    return adam_step(xp, state, grads, lr)


def train_state(**params) -> dict[str, np.ndarray]:
    """The CNN's Adam state (`with_adam_slots`)."""
    return with_adam_slots(cnn_init(**params))


def conv_graph(tf, batch: int, size: int, cin: int, cout: int, kernel: int, **_):
    def build():
        x = tf.placeholder(tf.float32, [batch, size, size, cin], name="x")
        w = tf.placeholder(tf.float32, [kernel, kernel, cin, cout], name="w")
        return tf.nn.conv2d(x, w, [1, 1, 1, 1], "SAME")
    return build, {"x": uniform((batch, size, size, cin), 9), "w": uniform((kernel, kernel, cin, cout), 10)}


def conv_expr(xp, x, w, **_):
    return _conv_same(xp, x, w)


def _conv_flops(batch: int, size: int, cin: int, cout: int, kernel: int, **_) -> int:
    return 2 * batch * size * size * cin * cout * kernel * kernel


def _cnn_flops(batch: int, image: int, channels: tuple, hidden: int, kernel: int, **_) -> int:
    """Forward multiply-adds of the convs and dense layers (pooling and the rest not counted)."""
    convs = sum(_conv_flops(batch, image >> i, cin, cout, kernel)
                for i, (cin, cout) in enumerate(zip(channels, channels[1:])))
    return convs + 2 * batch * ((image // 4) ** 2 * channels[-1] * hidden + hidden * CLASSES)


def _train_flops(**params) -> int:
    """Forward, weight gradients, and input gradients of all layers but the first: about 3x."""
    return 3 * _cnn_flops(**params)


def _cnn_size(batch: int, image: int, channels: tuple, hidden: int, kernel: int, **_) -> str:
    return f"b{batch} {image}x{image} c{'-'.join(map(str, channels[1:]))} k{kernel} d{hidden}"


def _conv_size(batch: int, size: int, cin: int, cout: int, kernel: int, **_) -> str:
    return f"b{batch} {size}x{size}x{cin} {kernel}x{kernel}->{cout}"


def _conv_layer(i: int, p: dict) -> dict:
    return {"batch": p["batch"], "size": p["image"] >> i, "cin": p["channels"][i],
            "cout": p["channels"][i + 1], "kernel": p["kernel"]}


CNN_WORKLOADS: list[Workload] = [
    Workload("train_cnn_adam", "training step: MNIST CNN (2 conv+pool, dense 1024), Adam", train_graph,
             train_expr, {**FULL, "lr": 1e-4}, {**QUICK, "lr": 1e-4}, _cnn_size, variables=train_state,
             carry=True, flops=_train_flops),
    Workload("cnn_inference", "MNIST CNN inference, softmax out", infer_graph, infer_expr, FULL, QUICK,
             _cnn_size, variables=cnn_init, flops=_cnn_flops),
    *(Workload(f"conv2d_{i + 1}", f"tf.nn.conv2d forward, SAME: the CNN's conv layer {i + 1}", conv_graph,
               conv_expr, _conv_layer(i, FULL), _conv_layer(i, QUICK), _conv_size, flops=_conv_flops)
      for i in range(2)),
]
