"""Reading checkpoints: `tf.train.NewCheckpointReader`, `list_variables`, `load_variable`.

A prefix names a TF V2 checkpoint (`PREFIX.index` + data, `checkpoint_v2.py`) or one of
lowerflow's older `PREFIX.lfckpt` numpy archives; the reader hides which. A directory
stands for its latest checkpoint, as in TF's checkpoint_utils.
cf. TF's py_checkpoint_reader.py and training/checkpoint_utils.py.
"""
from __future__ import annotations

import os
import re

import numpy as np

from lowerflow.frontend import dtypes, tf_values
from lowerflow.runtime import checkpoint_v2, errors

LEGACY_SUFFIX = ".lfckpt"
STATE_FILE = "checkpoint"


def checkpoint_exists(prefix: str) -> bool:
    return os.path.exists(prefix + checkpoint_v2.INDEX_SUFFIX) or os.path.exists(prefix + LEGACY_SUFFIX)


def _not_found(prefix: str) -> errors.NotFoundError:
    return errors.NotFoundError(None, None, f"Unsuccessful TensorSliceReader constructor: Failed to find "
                                            f"any matching files for {prefix}")


class CheckpointReader:
    """The tensors of one checkpoint, read lazily (V2) or from its archive (.lfckpt)."""

    def __init__(self, prefix: str):
        self._prefix = prefix
        if os.path.exists(prefix + checkpoint_v2.INDEX_SUFFIX):
            try:
                self._entries = checkpoint_v2.read_index(prefix)
            except checkpoint_v2.CorruptCheckpointError as e:
                raise errors.DataLossError(None, None, f"Unable to open table file {prefix}.index: {e}") from None
            self._legacy = None
        elif os.path.exists(prefix + LEGACY_SUFFIX):
            with np.load(prefix + LEGACY_SUFFIX) as data:
                self._legacy = {k: data[k] for k in data.files}
            self._entries = None
        else:
            raise _not_found(prefix)

    def _names(self) -> list[str]:
        return sorted(self._legacy if self._legacy is not None else self._entries)

    def has_tensor(self, name: str) -> bool:
        return name in self._names()

    def get_tensor(self, name: str) -> np.ndarray:
        if not self.has_tensor(name):
            raise errors.NotFoundError(None, None, f"Key {name} not found in checkpoint")
        if self._legacy is not None:
            return self._legacy[name]
        try:
            return checkpoint_v2.read_tensor(self._prefix, self._entries[name])
        except checkpoint_v2.CorruptCheckpointError as e:
            raise errors.DataLossError(None, None, f"{e} (tensor {name} in {self._prefix})") from None

    def get_variable_to_shape_map(self) -> dict[str, list[int]]:
        if self._legacy is not None:
            return {k: list(v.shape) for k, v in self._legacy.items()}
        return {k: list(tf_values.shape_of_proto(e.shape) or ()) for k, e in self._entries.items()}

    def get_variable_to_dtype_map(self) -> dict[str, dtypes.DType]:
        if self._legacy is not None:
            return {k: dtypes.as_dtype(v.dtype) for k, v in self._legacy.items()}
        return {k: tf_values.dtype_of_enum(e.dtype) for k, e in self._entries.items()}

    def debug_string(self) -> bytes:
        shapes, types = self.get_variable_to_shape_map(), self.get_variable_to_dtype_map()
        return "".join(f"{n} ({types[n].name}) {shapes[n]}\n" for n in self._names()).encode()


def NewCheckpointReader(filepattern: str) -> CheckpointReader:  # noqa: N802  (TF1 name)
    """`tf.train.NewCheckpointReader(prefix)`."""
    return CheckpointReader(str(filepattern))


def latest_checkpoint(checkpoint_dir: str, latest_filename=None) -> str | None:
    """The prefix recorded in `checkpoint_dir/checkpoint` if its files exist, else None."""
    state = os.path.join(checkpoint_dir, latest_filename or STATE_FILE)
    if not os.path.exists(state):
        return None
    with open(state) as f:
        m = re.search(r'^model_checkpoint_path: "(.*)"$', f.read(), re.M)
    if not m:
        return None
    path = m.group(1)
    if not os.path.isabs(path):
        path = os.path.join(checkpoint_dir, path)
    return path if checkpoint_exists(path) else None


def _reader(ckpt_dir_or_file: str) -> CheckpointReader:
    path = str(ckpt_dir_or_file)
    if os.path.isdir(path):
        latest = latest_checkpoint(path)
        if latest is None:
            raise ValueError(f"Couldn't find 'checkpoint' file or checkpoints in given directory {path}")
        path = latest
    return CheckpointReader(path)


def list_variables(ckpt_dir_or_file: str) -> list[tuple[str, list[int]]]:
    """(name, shape) of every tensor in the checkpoint, sorted by name."""
    shapes = _reader(ckpt_dir_or_file).get_variable_to_shape_map()
    return [(name, shapes[name]) for name in sorted(shapes)]


def load_variable(ckpt_dir_or_file: str, name: str) -> np.ndarray:
    """One tensor's value (a trailing ":0" in `name` is ignored, as in TF)."""
    if name.endswith(":0"):
        name = name[:-2]
    return _reader(ckpt_dir_or_file).get_tensor(name)
