"""A differential fuzzer of lowerflow against TensorFlow's `tf.compat.v1`.

Random small TF1 graphs (`graphs.py`) over the op set (`ops.py`), with edge values, every
dtype, broadcasting and empty dimensions, are built through the same code for both
modules and run (`compare.py`): integers must agree exactly, floats within each op's ulp
bound, and both sides must raise, or not, with the same error class. Disagreements that
are defined behaviour (docs/fidelity.md) are counted apart. `python -m tests.fuzz
--minutes N` runs it and saves each disagreement as a replayable JSON file.
"""
