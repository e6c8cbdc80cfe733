"""`tf.initializers`: TF1's initializer classes under their short names, and the
variable-initializer ops (re-exported names)."""
from lowerflow.frontend.init_ops import (  # noqa: F401
    Constant as constant, GlorotNormal as glorot_normal, GlorotUniform as glorot_uniform,
    Ones as ones, RandomNormal as random_normal, RandomUniform as random_uniform,
    TruncatedNormal as truncated_normal, VarianceScaling as variance_scaling, Zeros as zeros,
    he_normal, he_uniform, lecun_normal, lecun_uniform,
)
from lowerflow.frontend.variables import (  # noqa: F401
    global_variables_initializer as global_variables, local_variables_initializer as local_variables,
    variables_initializer as variables,
)
