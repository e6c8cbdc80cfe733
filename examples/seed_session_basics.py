"""Seeds 000/001/002 (danijar.com, "What is a TensorFlow Session?"), verbatim after the import."""
import lowerflow as tf

graph = tf.Graph()
with graph.as_default():
    variable = tf.Variable(42, name='foo')
    initialize = tf.initialize_all_variables()
    assign = variable.assign(13)

with tf.Session(graph=graph) as sess:
  sess.run(initialize)
  sess.run(assign)
  print(sess.run(variable))
# Output: 13

try:
    with tf.Session(graph=graph) as sess:
      print(sess.run(variable))
except tf.errors.FailedPreconditionError as e:
    print("Error:", e.message.splitlines()[0])
# Error: Attempting to use uninitialized value foo

with tf.Session(graph=graph) as sess:
  sess.run(initialize)
  print(sess.run(variable))
# Output: 42

graph = tf.Graph()
with graph.as_default():
  variable = tf.Variable(42, name='foo')
  initialize = tf.global_variables_initializer()
  assign = variable.assign(13)

with tf.Session(graph=graph) as sess:
  sess.run(initialize)
  sess.run(assign)
  print(sess.run(variable))
# Output: 13
