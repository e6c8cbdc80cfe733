"""Seed 002's comment thread: the counter, and saving/restoring with tf.train.Saver."""
import os
import tempfile

import lowerflow as tf

state=tf.Variable(0,name='counter')
one=tf.constant(1)
new_value=tf.add(state,one)
update=tf.assign(state,new_value)
init=tf.global_variables_initializer()
with tf.Session() as sess:
    sess.run(init)
    for _ in range(3):
        sess.run(update)
    print(sess.run(state))
# 3

# The file path to save the data
save_file = os.path.join(tempfile.mkdtemp(), 'model.ckpt')

#Class used to do the saving
saver = tf.train.Saver()

with tf.Session() as sess:
    sess.run(init)
    sess.run(update)
    saver.save(sess, save_file)

with tf.Session() as sess:
    saver.restore(sess, save_file)
    print(sess.run(state))
# 1
