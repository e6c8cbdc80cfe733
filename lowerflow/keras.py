"""`tf.keras`: only `tf.keras.initializers` so far, with TF1 Keras's names and defaults
(its random initializers draw with stddev 0.05)."""
from types import SimpleNamespace

from lowerflow.frontend import init_ops as _init

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
