"""The MLP of docs/pictures.md: writes its GraphDef to OUT_DIR/mlp.pbtxt, for

    python examples/draw_mlp.py build
    lowerflow graph build/mlp.pbtxt --feed x:0=64x784 --fetch probs:0 -o docs/images/mlp.svg
"""
import sys

import numpy as np

import lowerflow as tf

x = tf.placeholder(tf.float32, [None, 784], name="x")
w1 = tf.Variable(np.zeros((784, 32), np.float32), name="w1")
b1 = tf.Variable(np.zeros(32, np.float32), name="b1")
w2 = tf.Variable(np.zeros((32, 10), np.float32), name="w2")
b2 = tf.Variable(np.zeros(10, np.float32), name="b2")
hidden = tf.nn.relu(tf.matmul(x, w1) + b1, name="hidden")
probs = tf.nn.softmax(tf.matmul(hidden, w2) + b2, name="probs")

if __name__ == "__main__":
    print(tf.train.write_graph(tf.get_default_graph(), sys.argv[1] if len(sys.argv) > 1 else "build", "mlp.pbtxt"))
