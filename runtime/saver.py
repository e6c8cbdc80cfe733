"""tf.train.Saver in lowerflow's own checkpoint format (documented in docs/checkpoints.md).

A checkpoint `PREFIX` is one file `PREFIX.lfckpt`: a numpy `.npz` archive with
one array per saved variable, keyed by its checkpoint name (the variable's op
name unless a name map says otherwise). Beside it, a text file `checkpoint`
records the latest prefix the way TF1 does (`model_checkpoint_path: "..."`),
so `tf.train.latest_checkpoint(dir)` finds it. Values are read from and written
to the session's variable store directly (`variable_store.py`: a save is one consistent
snapshot, a restore one atomic update): saving computes nothing.
"""
from __future__ import annotations

import os
import re

import numpy as np

from lowerflow.frontend.variables import Variable, global_variables
from lowerflow.runtime import errors

SUFFIX = ".lfckpt"
_STATE_FILE = "checkpoint"


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
        snapshot = sess._store.snapshot([v.op for v in self._vars.values()])  # no step half-applied
        values = {name: snapshot.get(v.op) if v.op in snapshot else sess._variable_value(v.op)
                  for name, v in self._vars.items()}
        directory = os.path.dirname(os.path.abspath(save_path))
        if not os.path.isdir(directory):
            raise ValueError(f"Parent directory of {save_path} doesn't exist, can't save.")
        tmp = save_path + SUFFIX + ".tmp"
        with open(tmp, "wb") as f:
            np.savez(f, **values)
        os.replace(tmp, save_path + SUFFIX)
        if write_state:
            self._record(save_path, directory, latest_filename or _STATE_FILE)
        return save_path

    def _record(self, save_path: str, directory: str, state_file: str) -> None:
        if save_path in self._last:
            self._last.remove(save_path)
        self._last.append(save_path)
        while self._max_to_keep and len(self._last) > self._max_to_keep:
            old = self._last.pop(0)
            if os.path.exists(old + SUFFIX):
                os.remove(old + SUFFIX)
        lines = [f'model_checkpoint_path: "{save_path}"']
        lines += [f'all_model_checkpoint_paths: "{p}"' for p in self._last]
        with open(os.path.join(directory, state_file), "w") as f:
            f.write("\n".join(lines) + "\n")

    def restore(self, sess, save_path: str) -> None:
        """Load saved values into `sess`; shapes and dtypes must match the variables."""
        if save_path is None:
            raise ValueError("Can't load save_path when it is None.")
        path = save_path + SUFFIX
        if not os.path.exists(path):
            raise errors.NotFoundError(None, None, f"Unsuccessful TensorSliceReader constructor: "
                                                   f"Failed to find any matching files for {save_path}")
        with np.load(path) as data:
            loaded = {}
            for name, var in self._vars.items():
                if name not in data.files:
                    raise errors.NotFoundError(None, None, f"Key {name} not found in checkpoint")
                value = data[name]
                want = tuple(var.shape.as_list())
                if value.shape != want or value.dtype != var.dtype.as_numpy_dtype:
                    raise errors.InvalidArgumentError(
                        None, None, f"Assign requires shapes of both tensors to match. lhs shape= "
                                    f"{list(want)} rhs shape= {list(value.shape)} (variable {name})")
                loaded[var.op] = np.require(value, requirements="C")
        sess._store.restore(loaded)  # all or nothing: only after every value checked

    def as_saver_def(self):
        return self


def latest_checkpoint(checkpoint_dir: str, latest_filename=None) -> str | None:
    """The prefix recorded in `checkpoint_dir/checkpoint`, or None."""
    state = os.path.join(checkpoint_dir, latest_filename or _STATE_FILE)
    if not os.path.exists(state):
        return None
    with open(state) as f:
        m = re.search(r'^model_checkpoint_path: "(.*)"$', f.read(), re.M)
    if not m:
        return None
    path = m.group(1)
    if not os.path.isabs(path):
        path = os.path.join(checkpoint_dir, path)
    return path if os.path.exists(path + SUFFIX) else None


def checkpoint_exists(prefix: str) -> bool:
    return os.path.exists(prefix + SUFFIX)
