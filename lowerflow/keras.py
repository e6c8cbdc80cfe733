"""`tf.keras`: only `tf.keras.initializers` and `tf.keras.regularizers` so far, with Keras's
names and defaults (its random initializers draw with stddev 0.05)."""
from types import SimpleNamespace

from lowerflow.frontend import init_ops as _init
from lowerflow.frontend import regularizers as _reg

initializers = SimpleNamespace(
    Zeros=_init.Zeros, Ones=_init.Ones, Constant=_init.Constant,
    RandomNormal=_init.KerasRandomNormal, RandomUniform=_init.KerasRandomUniform,
    TruncatedNormal=_init.KerasTruncatedNormal, VarianceScaling=_init.VarianceScaling,
    GlorotUniform=_init.GlorotUniform, GlorotNormal=_init.GlorotNormal,
    zeros=_init.Zeros, ones=_init.Ones, constant=_init.Constant,
    random_normal=_init.KerasRandomNormal, random_uniform=_init.KerasRandomUniform,
    truncated_normal=_init.KerasTruncatedNormal, glorot_uniform=_init.GlorotUniform,
    glorot_normal=_init.GlorotNormal, he_normal=_init.he_normal, he_uniform=_init.he_uniform,
    lecun_normal=_init.lecun_normal, lecun_uniform=_init.lecun_uniform,
)

regularizers = SimpleNamespace(
    Regularizer=_reg.Regularizer, L1=_reg.L1, L2=_reg.L2, L1L2=_reg.L1L2,
    l1=_reg.L1, l2=_reg.L2, l1_l2=_reg.L1L2,
)
