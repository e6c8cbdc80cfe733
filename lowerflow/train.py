"""`tf.train`: checkpoints, optimizers, the global step, learning-rate schedules, moving averages."""
from lowerflow.frontend.training.learning_rate_decay import (  # noqa: F401
    cosine_decay, exponential_decay, inverse_time_decay, natural_exp_decay, piecewise_constant,
    piecewise_constant_decay, polynomial_decay,
)
from lowerflow.frontend.training.moving_averages import ExponentialMovingAverage  # noqa: F401
from lowerflow.frontend.training.optimizer import Optimizer  # noqa: F401
from lowerflow.frontend.training.optimizers import (  # noqa: F401
    AdadeltaOptimizer, AdagradOptimizer, AdamOptimizer, FtrlOptimizer, GradientDescentOptimizer,
    MomentumOptimizer, RMSPropOptimizer,
)
from lowerflow.frontend.training.training_util import (  # noqa: F401
    assert_global_step, create_global_step, get_global_step, get_or_create_global_step, global_step,
)
from lowerflow.frontend.graph_util import write_graph  # noqa: F401
from lowerflow.runtime.checkpoint_reader import (  # noqa: F401
    NewCheckpointReader, checkpoint_exists, latest_checkpoint, list_variables, load_variable,
)
from lowerflow.frontend.meta_graph import export_meta_graph  # noqa: F401
from lowerflow.runtime.saver import Saver, import_meta_graph  # noqa: F401
from lowerflow.runtime.coordinator import Coordinator  # noqa: F401
