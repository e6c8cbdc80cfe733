"""TF1's `tf.train` building blocks: optimizers, slots, global step, learning-rate schedules,
moving averages (cf. TF1's python/training/). Everything here builds ordinary graph ops, so a
training step lowers, fuses and compiles like any other fetch."""
