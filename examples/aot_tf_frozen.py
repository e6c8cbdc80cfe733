"""tfcompile's workflow with lowerflow: train an MLP in TensorFlow, freeze it into a GraphDef,
compile that with `lowerflow aot`, and call the object from C (examples/aot_tf_frozen.c).

    python examples/aot_tf_frozen.py [OUT_DIR]     # needs tensorflow and a C compiler (cc)

It prints the largest difference between TensorFlow's probabilities and the C program's.
See docs/aot.md ("From a frozen TensorFlow graph").
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from lowerflow.cli import main as lowerflow_main

HERE = Path(__file__).resolve().parent
BATCH, PIXELS, HIDDEN, CLASSES = 8, 784, 32, 10


def train_and_freeze(out: Path) -> tuple[np.ndarray, np.ndarray]:
    """Train on random "images" for a few steps, write the frozen graph `out/mlp.pb`; returns a
    batch of inputs and the probabilities TensorFlow computes for it."""
    import tensorflow.compat.v1 as tf

    tf.disable_eager_execution()
    rng = np.random.RandomState(0)
    images = rng.rand(64, PIXELS).astype(np.float32)
    labels = rng.randint(0, CLASSES, 64)
    with tf.Graph().as_default() as graph:
        x = tf.placeholder(tf.float32, [None, PIXELS], name="x")
        y = tf.placeholder(tf.int64, [None], name="labels")
        w1 = tf.Variable(rng.randn(PIXELS, HIDDEN).astype(np.float32) * 0.05, name="w1")
        b1 = tf.Variable(np.zeros(HIDDEN, np.float32), name="b1")
        w2 = tf.Variable(rng.randn(HIDDEN, CLASSES).astype(np.float32) * 0.1, name="w2")
        b2 = tf.Variable(np.zeros(CLASSES, np.float32), name="b2")
        hidden = tf.nn.relu(tf.matmul(x, w1) + b1, name="hidden")
        logits = tf.nn.bias_add(tf.matmul(hidden, w2), b2, name="logits")
        probs = tf.nn.softmax(logits, name="probs")
        loss = tf.losses.sparse_softmax_cross_entropy(y, logits)
        train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            for _ in range(20):
                sess.run(train, {x: images, y: labels})
            batch = images[:BATCH]
            want = sess.run(probs, {x: batch})
            frozen = tf.graph_util.convert_variables_to_constants(sess, graph.as_graph_def(), ["probs"])
    (out / "mlp.pb").write_bytes(frozen.SerializeToString())
    return batch, want


def compile_and_run(out: Path, batch: np.ndarray) -> np.ndarray:
    """`lowerflow aot mlp.pb --feed x:0=8x784 --fetch probs:0 --name mlp -o OUT`, then
    `cc main.c mlp.o -lm` and the program's probabilities for `batch`."""
    argv = ["aot", str(out / "mlp.pb"), "--feed", f"x:0={BATCH}x{PIXELS}", "--fetch", "probs:0",
            "--name", "mlp", "-o", str(out)]
    if lowerflow_main(argv) != 0:
        raise SystemExit("lowerflow aot failed")
    cc = os.environ.get("CC", "cc")
    subprocess.run([cc, "-O2", "-std=c99", "-Wall", "-Werror", "-I", str(out), str(HERE / "aot_tf_frozen.c"),
                    str(out / "mlp.o"), "-lm", "-o", str(out / "main")], check=True)
    batch.astype(np.float32).tofile(out / "x.bin")
    printed = subprocess.run([str(out / "main")], cwd=out, check=True, capture_output=True, text=True).stdout
    return np.array([[float(v) for v in line.split()] for line in printed.splitlines()], np.float32)


def run(out: Path) -> float:
    """The whole workflow in `out`; returns max |TF - C|."""
    out.mkdir(parents=True, exist_ok=True)
    batch, want = train_and_freeze(out)
    got = compile_and_run(out, batch)
    return float(np.abs(got - want).max())


if __name__ == "__main__":
    diff = run(Path(sys.argv[1] if len(sys.argv) > 1 else "build_aot_tf"))
    print(f"max |TensorFlow - C| = {diff:.3g}")
