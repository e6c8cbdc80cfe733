"""Nested structures of tensors, as TF's `tf.nest` sees them: lists, tuples, namedtuples and
dicts (their values in sorted key order) are structure; anything else is a leaf. `tf.cond`
and `tf.while_loop` flatten what their functions return and pack their results back; RNN
cells map over their (nested) states.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any


def _is_namedtuple(x) -> bool:
    return isinstance(x, tuple) and hasattr(type(x), "_fields")


def is_nested(x) -> bool:
    return isinstance(x, (list, tuple, dict))


def _children(x) -> list:
    if isinstance(x, dict):
        return [x[k] for k in sorted(x)]
    return list(x)


def flatten(structure) -> list:
    """The leaves of `structure` in TF's order (None is a leaf, as in tf.nest)."""
    if not is_nested(structure):
        return [structure]
    return [leaf for child in _children(structure) for leaf in flatten(child)]


def pack_sequence_as(structure, leaves: list) -> Any:
    """`structure` with its leaves replaced, in order, by `leaves`."""
    it = iter(leaves)
    packed = _pack(structure, it)
    if next(it, _END) is not _END:
        raise ValueError(f"Structure had {len(flatten(structure))} elements, but flat_sequence had more.")
    return packed


_END = object()


def _pack(structure, it):
    if not is_nested(structure):
        return next(it)
    values = [_pack(child, it) for child in _children(structure)]
    if isinstance(structure, dict):
        return type(structure)(zip(sorted(structure), values))
    if _is_namedtuple(structure):
        return type(structure)(*values)
    return type(structure)(values)


def structure_difference(a, b, check_types: bool = True) -> str | None:
    """Why `a` and `b` do not have the same nested structure (TF's wording), or None."""
    if is_nested(a) != is_nested(b):
        return (f"The two structures don't have the same nested structure.\n\nFirst structure: "
                f"type={type(a).__name__} str={a}\n\nSecond structure: type={type(b).__name__} str={b}")
    if not is_nested(a):
        return None
    if check_types and type(a) is not type(b):
        return (f"The two structures don't have the same sequence type. Input structure has type "
                f"{type(a)}, while shallow structure has type {type(b)}.")
    if isinstance(a, dict) and sorted(a) != sorted(b):
        return (f"The two structures don't have the same nested structure.\n\nFirst structure: type=dict "
                f"str={a}\n\nSecond structure: type=dict str={b}\n\nMore specifically: The two dictionaries "
                f"don't have the same set of keys. First structure has keys type=list str={sorted(a)}, "
                f"while second structure has keys type=list str={sorted(b)}")
    if len(a) != len(b):
        return (f"The two structures don't have the same nested structure.\n\nFirst structure: "
                f"type={type(a).__name__} str={a}\n\nSecond structure: type={type(b).__name__} str={b}\n\n"
                f"More specifically: The two structures don't have the same number of elements.")
    for x, y in zip(_children(a), _children(b)):
        why = structure_difference(x, y, check_types)
        if why is not None:
            return why
    return None


def assert_same_structure(a, b, check_types: bool = True) -> None:
    why = structure_difference(a, b, check_types)
    if why is not None:
        raise ValueError(why)


def map_structure(fn: Callable, *structures, check_types: bool = True):
    """`fn` applied leaf by leaf to structures of the same shape, packed like the first."""
    for other in structures[1:]:
        assert_same_structure(structures[0], other, check_types)
    flats = [flatten(s) for s in structures]
    return pack_sequence_as(structures[0], [fn(*leaves) for leaves in zip(*flats)])
