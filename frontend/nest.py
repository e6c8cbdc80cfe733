"""Nested structures of tensors: tuples, lists and namedtuples of leaves (cf. TF's
tf.nest, the subset RNN states need).

A structure is a leaf unless it is a list or a tuple (namedtuples keep their type when
packed again); dicts are leaves here, as no cell state uses them.
"""
from __future__ import annotations

from collections.abc import Callable


def is_nested(structure) -> bool:
    """Whether `structure` is a tuple or a list (not a leaf)."""
    return isinstance(structure, (list, tuple))


def flatten(structure) -> list:
    """The leaves of `structure`, depth first."""
    if not is_nested(structure):
        return [structure]
    return [leaf for item in structure for leaf in flatten(item)]


def _rebuild(like, items: list):
    if isinstance(like, tuple) and hasattr(like, "_fields"):
        return type(like)(*items)
    return type(like)(items)


def pack_sequence_as(structure, flat_sequence: list):
    """`flat_sequence`'s leaves in the shape of `structure`."""
    flat = list(flat_sequence)
    if len(flat) != len(flatten(structure)):
        raise ValueError(f"Could not pack sequence. Structure had {len(flatten(structure))} atoms, but "
                         f"flat_sequence had {len(flat)} items.")
    leaves = iter(flat)

    def pack(like):
        return _rebuild(like, [pack(item) for item in like]) if is_nested(like) else next(leaves)
    return pack(structure)


def assert_same_structure(first, second) -> None:
    """ValueError (TF's class) unless `first` and `second` nest the same way."""
    def same(a, b) -> bool:
        if is_nested(a) != is_nested(b):
            return False
        return not is_nested(a) or (len(a) == len(b) and all(same(x, y) for x, y in zip(a, b)))
    if not same(first, second):
        raise ValueError("The two structures don't have the same nested structure.\n\n"
                         f"First structure: {first}\n\nSecond structure: {second}")


def map_structure(fn: Callable, *structures):
    """fn applied leaf by leaf to structures of the same shape, packed like the first."""
    for other in structures[1:]:
        assert_same_structure(structures[0], other)
    flats = [flatten(s) for s in structures]
    return pack_sequence_as(structures[0], [fn(*leaves) for leaves in zip(*flats)])
