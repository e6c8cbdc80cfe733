"""Seed 003 (tutorialexample.com): one graph, two independent sessions.

The seed elides the session bodies; they initialise the variables and fetch `[w]`,
which prints the result the seed shows.
"""
import numpy as np

import lowerflow as tf

graph = tf.Graph()
with graph.as_default():
    w1 = tf.Variable(np.array([1,2], dtype = np.float32))
    w2 = tf.Variable(np.array([2,2], dtype = np.float32))
    w = tf.multiply(w1, w2)
    initialize = tf.global_variables_initializer()

with tf.Session(graph=graph) as sess:
    sess.run(initialize)
    print(sess.run([w]))
# [array([2., 4.], dtype=float32)]

with tf.Session(graph=graph) as sess_1:
    with tf.Session(graph=graph) as sess_2:
        sess_1.run(initialize)
        sess_2.run(initialize)
        print(sess_1.run([w]))
        print(sess_2.run([w]))
# [array([2., 4.], dtype=float32)]
# [array([2., 4.], dtype=float32)]
