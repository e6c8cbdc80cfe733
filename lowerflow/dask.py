"""`lowerflow.dask`: compiled graphs on Dask workers (`pip install 'lowerflow[dask]'`).

    y = lowerflow.dask.map_batches(probs, {x: images}, session=sess)   # images: a dask array
    losses = lowerflow.dask.train_data_parallel(loss, tf.train.GradientDescentOptimizer(0.1),
                                                {x: images, labels: targets}, steps=10, session=sess)

Workers run native code compiled ahead of time on the client and shipped as bytes.
See docs/dask.md; the implementation is `lowerflow.runtime.dask_*`.
"""
try:
    import dask.array  # noqa: F401
    import distributed  # noqa: F401
except ImportError as e:  # pragma: no cover - exercised with the extra uninstalled
    raise ImportError(f"lowerflow.dask needs Dask ({e.name} is not installed): "
                      "pip install 'lowerflow[dask]'") from e

from lowerflow.runtime.dask_batches import map_batches  # noqa: E402
from lowerflow.runtime.dask_program import Program  # noqa: E402
from lowerflow.runtime.dask_train import train_data_parallel  # noqa: E402

__all__ = ["Program", "map_batches", "train_data_parallel"]
