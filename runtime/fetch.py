"""The fetch mapper: nested fetch structures ⇄ a flat list of unique graph elements
(cf. TF1's session._FetchMapper).

Leaves are Tensors, Operations, Variables or names ("x:0", "x"); containers are
lists, tuples, namedtuples and dicts (OrderedDict and defaultdict included).
`build(values)` puts the flat results back into the caller's structure, with
None for operations.
"""
from __future__ import annotations

from typing import Any, Callable

from lowerflow.frontend.graph import Graph, Operation


def _element(graph: Graph, fetch) -> Any:
    if fetch is None:
        raise TypeError(f"Fetch argument {fetch!r} has invalid type {type(fetch)!r}")
    try:
        return graph.as_graph_element(fetch, allow_tensor=True, allow_operation=True)
    except TypeError as e:
        raise TypeError(f"Fetch argument {fetch!r} has invalid type {type(fetch)!r}, "
                        f"must be a string or Tensor. ({e})") from None
    except (ValueError, KeyError) as e:
        raise ValueError(f"Fetch argument {fetch!r} cannot be interpreted as a Tensor. ({e})") from None


class FetchMapper:
    """`elements`: unique graph elements to run; `build(values)`: the caller's structure."""

    def __init__(self, graph: Graph, fetches):
        self.elements: list = []
        self._index: dict[int, int] = {}
        self.build: Callable[[list], Any] = self._mapper(graph, fetches)
        self.key = tuple(map(id, self.elements))  # identifies the fetched elements in plan caches

    def _leaf(self, graph: Graph, fetch) -> Callable[[list], Any]:
        el = _element(graph, fetch)
        key = id(el)
        if key not in self._index:
            self._index[key] = len(self.elements)
            self.elements.append(el)
        i = self._index[key]
        if isinstance(el, Operation):
            return lambda values: None
        return lambda values: values[i]

    def _mapper(self, graph: Graph, fetches) -> Callable[[list], Any]:
        if isinstance(fetches, dict):
            keys = list(fetches)
            subs = [self._mapper(graph, fetches[k]) for k in keys]
            factory = getattr(fetches, "default_factory", None)
            kind = type(fetches)
            make = (lambda: kind(factory)) if factory is not None else kind

            def build_dict(values):
                out = make()
                for k, s in zip(keys, subs):
                    out[k] = s(values)
                return out

            return build_dict
        if isinstance(fetches, (list, tuple)):
            subs = [self._mapper(graph, f) for f in fetches]
            if isinstance(fetches, tuple) and hasattr(fetches, "_fields"):
                kind = type(fetches)
                return lambda values: kind(*(s(values) for s in subs))
            kind = type(fetches)
            return lambda values: kind(s(values) for s in subs)
        return self._leaf(graph, fetches)
