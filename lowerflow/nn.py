"""`tf.nn`: neural-network ops (re-exported names)."""
from lowerflow.frontend.math_ops import relu, sigmoid, tanh  # noqa: F401
from lowerflow.frontend.nn_losses import (  # noqa: F401
    l2_loss, sigmoid_cross_entropy_with_logits, softmax_cross_entropy_with_logits,
    softmax_cross_entropy_with_logits_v2, sparse_softmax_cross_entropy_with_logits,
    weighted_cross_entropy_with_logits,
)
from lowerflow.frontend.nn_ops import (  # noqa: F401
    bias_add, elu, l2_normalize, leaky_relu, log_softmax, moments, relu6, selu, softmax, softplus,
)
from lowerflow.frontend.conv_ops import (  # noqa: F401
    conv1d, conv2d, conv2d_backprop_filter, conv2d_backprop_input, conv2d_transpose, depthwise_conv2d, depthwise_conv2d_native, separable_conv2d,
)
from lowerflow.frontend.pool_ops import avg_pool, avg_pool2d, max_pool, max_pool2d  # noqa: F401
from lowerflow.frontend.nn_impl import (  # noqa: F401
    batch_normalization, dropout, embedding_lookup, in_top_k, softsign, top_k,
)
from types import SimpleNamespace as _Namespace

from lowerflow.frontend import rnn_cell as _cells
from lowerflow.frontend.rnn import static_bidirectional_rnn, static_rnn  # noqa: F401
from lowerflow.frontend.rnn_dynamic import bidirectional_dynamic_rnn, dynamic_rnn  # noqa: F401

rnn_cell = _Namespace(**{name: getattr(_cells, name) for name in (
    "RNNCell", "BasicRNNCell", "BasicLSTMCell", "LSTMCell", "GRUCell", "MultiRNNCell", "DropoutWrapper",
    "LSTMStateTuple")})
from lowerflow.frontend.normalization_ops import (  # noqa: F401
    fused_batch_norm, local_response_normalization, lrn,
)
from lowerflow.frontend.sampled_losses import (  # noqa: F401
    log_uniform_candidate_sampler, nce_loss, sampled_softmax_loss,
)
