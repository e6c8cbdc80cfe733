"""Write the TensorFlow-made files in tests/tf_files/data/ (run once, with TensorFlow installed):
a small MLP trained in TF, as its inference GraphDef (binary and text), its V2 checkpoint (with
the `checkpoint` state file, relative paths), its frozen GraphDef, and the outputs TF computed.
test_shipped_data.py reads them without TF (and proves it, in a process where TF cannot import).

    python tests/tf_files/make_data.py
"""
from __future__ import annotations

import os

import numpy as np
import tensorflow.compat.v1 as tf1
from google.protobuf import text_format

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")


def main() -> None:
    tf1.disable_eager_execution()
    rng = np.random.RandomState(7)
    x_val = rng.randn(3, 4).astype(np.float32)
    y_val = rng.randn(3, 2).astype(np.float32)
    with tf1.Graph().as_default() as g:
        x = tf1.placeholder(tf1.float32, [None, 4], name="x")
        y = tf1.placeholder(tf1.float32, [None, 2], name="y")
        with tf1.variable_scope("mlp", use_resource=False):
            w1 = tf1.get_variable("w1", initializer=rng.randn(4, 8).astype(np.float32))
            b1 = tf1.get_variable("b1", [8], initializer=tf1.zeros_initializer())
            w2 = tf1.get_variable("w2", initializer=rng.randn(8, 2).astype(np.float32))
        h = tf1.nn.relu(tf1.nn.bias_add(tf1.matmul(x, w1), b1))
        out = tf1.nn.softmax(tf1.matmul(h, w2), name="out")
        loss = tf1.reduce_mean(tf1.square(out - y))
        train = tf1.train.GradientDescentOptimizer(0.5).minimize(loss)
        with tf1.Session() as sess:
            sess.run(tf1.global_variables_initializer())
            for _ in range(5):
                sess.run(train, {x: x_val, y: y_val})
            saver = tf1.train.Saver([w1, b1, w2], save_relative_paths=True)
            saver.save(sess, os.path.join(HERE, "mlp.ckpt"), write_meta_graph=False)
            want = sess.run(out, {x: x_val})
            inference = tf1.graph_util.extract_sub_graph(g.as_graph_def(), ["out"])
            frozen = tf1.graph_util.convert_variables_to_constants(sess, g.as_graph_def(), ["out"])
    with open(os.path.join(HERE, "mlp.pb"), "wb") as f:
        f.write(inference.SerializeToString())
    with open(os.path.join(HERE, "mlp.pbtxt"), "w") as f:
        f.write(text_format.MessageToString(inference))
    with open(os.path.join(HERE, "mlp_frozen.pb"), "wb") as f:
        f.write(frozen.SerializeToString())
    np.savez(os.path.join(HERE, "mlp_expected.npz"), x=x_val, out=want)


if __name__ == "__main__":
    main()
