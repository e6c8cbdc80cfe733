"""tf.train.Saver in TensorFlow's V2 checkpoint format (documented in docs/checkpoints.md).

A checkpoint `PREFIX` is `PREFIX.index` + `PREFIX.data-00000-of-00001`, TF's tensor
bundle (`checkpoint_v2.py`): one tensor per saved variable, keyed by its checkpoint name
(the variable's op name unless a name map says otherwise), so TensorFlow restores what
lowerflow saves and the reverse. lowerflow's older `PREFIX.lfckpt` archives still restore.
Beside them, a text file `checkpoint` records the latest prefix the way TF1 does
(`model_checkpoint_path: "..."`), so `tf.train.latest_checkpoint(dir)` finds it. Values
are read from and written to the session's variable store directly (`variable_store.py`:
a save is one consistent snapshot, a restore one atomic update): saving computes nothing.
"""
from __future__ import annotations

import os

import numpy as np

from lowerflow.frontend.meta_graph import export_meta_graph, import_scoped_meta_graph
from lowerflow.frontend.variables import Variable, global_variables
from lowerflow.runtime import checkpoint_v2, errors
from lowerflow.runtime.checkpoint_reader import LEGACY_SUFFIX, STATE_FILE, CheckpointReader

_FILES = (checkpoint_v2.INDEX_SUFFIX, checkpoint_v2.DATA_SUFFIX, LEGACY_SUFFIX, ".meta")


def _name_map(var_list) -> dict[str, Variable]:
    if var_list is None:
        var_list = global_variables()
    if isinstance(var_list, dict):
        return {name: v for name, v in var_list.items()}
    names = {}
    for v in var_list:
        if v.op.name in names:
            raise ValueError(f"At least two variables have the same name: {v.op.name}")
        names[v.op.name] = v
    return names


class Saver:
    """Saves and restores variables of a session (a subset or a name map via `var_list`)."""

    def __init__(self, var_list=None, reshape=False, sharded=False, max_to_keep=5,
                 keep_checkpoint_every_n_hours=10000.0, name=None, restore_sequentially=False,
                 saver_def=None, builder=None, defer_build=False, allow_empty=False,
                 write_version=2, pad_step_number=False, save_relative_paths=False, filename=None):
        self._vars = _name_map(var_list)
        if not self._vars and not allow_empty:
            raise ValueError("No variables to save")
        self._max_to_keep = max_to_keep
        self._last: list[str] = []

    @property
    def last_checkpoints(self) -> list[str]:
        return list(self._last)

    def save(self, sess, save_path: str, global_step=None, latest_filename=None,
             meta_graph_suffix="meta", write_meta_graph=True, write_state=True, strip_default_attrs=False,
             save_debug_info=False) -> str:
        """Write every variable's current value; returns the checkpoint prefix."""
        if global_step is not None:
            step = int(global_step if not hasattr(global_step, "eval") else sess.run(global_step))
            save_path = f"{save_path}-{step}"
        snapshot = sess._store.read_all([v.op for v in self._vars.values()])  # no step half-applied
        values = {name: snapshot[v.op] for name, v in self._vars.items()}
        directory = os.path.dirname(os.path.abspath(save_path))
        if not os.path.isdir(directory):
            raise ValueError(f"Parent directory of {save_path} doesn't exist, can't save.")
        checkpoint_v2.write_bundle(save_path, {name: np.asarray(v) for name, v in values.items()})
        if write_meta_graph:
            export_meta_graph(f"{save_path}.{meta_graph_suffix}", graph=sess.graph)
        if write_state:
            self._record(save_path, directory, latest_filename or STATE_FILE)
        return save_path

    def _record(self, save_path: str, directory: str, state_file: str) -> None:
        if save_path in self._last:
            self._last.remove(save_path)
        self._last.append(save_path)
        while self._max_to_keep and len(self._last) > self._max_to_keep:
            old = self._last.pop(0)
            for suffix in _FILES:
                if os.path.exists(old + suffix):
                    os.remove(old + suffix)
        lines = [f'model_checkpoint_path: "{save_path}"']
        lines += [f'all_model_checkpoint_paths: "{p}"' for p in self._last]
        with open(os.path.join(directory, state_file), "w") as f:
            f.write("\n".join(lines) + "\n")

    def restore(self, sess, save_path: str) -> None:
        """Load saved values into `sess`; shapes and dtypes must match the variables."""
        if save_path is None:
            raise ValueError("Can't load save_path when it is None.")
        reader = CheckpointReader(save_path)
        loaded = {}
        for name, var in self._vars.items():
            value = reader.get_tensor(name)
            want = tuple(var.shape.as_list())
            if value.shape != want or value.dtype != var.dtype.as_numpy_dtype:
                raise errors.InvalidArgumentError(
                    None, None, f"Assign requires shapes of both tensors to match. lhs shape= "
                                f"{list(want)} rhs shape= {list(value.shape)} (variable {name})")
            loaded[var.op] = np.require(value, requirements="C")
        sess._store.restore(loaded)  # all or nothing: only after every value checked

    def as_saver_def(self):
        return self


def import_meta_graph(meta_graph_or_file, clear_devices=False, import_scope=None, **kwargs) -> Saver | None:
    """`tf.train.import_meta_graph`: the meta graph's nodes and collections added to the
    default graph; a Saver over its variables, or None when it has none (as TF1)."""
    import_scoped_meta_graph(meta_graph_or_file, clear_devices, import_scope=import_scope,
                             input_map=kwargs.get("input_map"))
    return Saver() if global_variables() else None
