"""Contracting groups of ops into region ops, shared by the fusion passes (`fuse`, `fuse-rows`).

A group (a kind, its member ops in block order) becomes one region op of that kind: its
operands are the outside values the group reads (once each), its block arguments mirror
them, its body is the cloned members, and "lf.yield" returns every member result used
outside the group; those are the region op's results. The caller guarantees that
contracting every group keeps the graph acyclic; the body is then re-ordered
topologically with the region ops in place. Whether contracting a group would close a
cycle is `path_back`, the one search both passes ask before they grow a group.
"""
from __future__ import annotations

import networkx as nx

from collections.abc import Callable, Hashable, Iterable

from lowerflow.ir.core import Block, Function, Operation, Value, replace_uses, users
from lowerflow.passes.clone import clone_op

CYCLE, BUDGET = "cycle", "budget"


def path_back(starts: Iterable[Hashable], successors: Callable[[Hashable], Iterable[Hashable]],
              targets: set, budget: int) -> str | None:
    """Whether a path from `starts` (nodes outside `targets`) leads into `targets`, so that
    contracting `targets` to one node would close a cycle: None when none does, `CYCLE`
    when one does, `BUDGET` when the search saw more than `budget` nodes first (it gives up;
    callers refuse the contraction, as for a cycle). A depth-first search: the graph changes
    as groups grow, so it is asked afresh each time and bounded, not built once."""
    stack = list(starts)
    seen = set(stack)
    while stack:
        if len(seen) > budget:
            return BUDGET
        for s in successors(stack.pop()):
            if s in targets:
                return CYCLE
            if s not in seen:
                seen.add(s)
                stack.append(s)
    return None


def build_region_op(kind: str, members: list[Operation], users_of: dict[Value, list[Operation]]
                    ) -> tuple[Operation, dict[Value, Value]]:
    """The `kind` region op for `members` and the map from their outside-used results to its results."""
    inside = set(members)
    inputs = list(dict.fromkeys(v for m in members for v in m.operands if v.op not in inside))
    body = Block([v.type for v in inputs])
    mapping: dict[Value, Value] = dict(zip(inputs, body.args))
    for m in members:
        body.append(clone_op(m, mapping))
    outputs = [r for m in members for r in m.results if any(u not in inside for u in users_of.get(r, ()))]
    body.add("lf.yield", [mapping[r] for r in outputs])
    fusion = Operation(kind, inputs, [r.type for r in outputs], {}, [body])
    return fusion, dict(zip(outputs, fusion.results))


def contract(func: Function, groups: list[tuple[str, list[Operation]]]) -> None:
    """Replace each (kind, members) group of `func`'s body by its region op, then re-order
    the body topologically."""
    index = {op: i for i, op in enumerate(func.ops)}
    users_of = users(func.body)
    # The contracted graph: one node per group, keyed by its first op's position, so the
    # lexicographic topological order stays close to the original order.
    node = dict(index)
    replacement: dict[int, Operation] = {}
    results: dict[Value, Value] = {}
    for kind, members in groups:
        # A matmul fusion's matmul leads its body: its operands come from outside the group,
        # and epilogue ops that precede it in block order (a select of two other values)
        # do not read it.
        members = sorted(members, key=lambda m: (m.name != "lf.matmul", index[m]))
        node.update(dict.fromkeys(members, index[members[0]]))
        replacement[index[members[0]]], mapping = build_region_op(kind, members, users_of)
        results.update(mapping)
    graph = nx.DiGraph()
    op_at: dict[int, Operation] = {}
    for op in func.ops:
        n = node[op]
        op_at.setdefault(n, op)
        graph.add_node(n)
        graph.add_edges_from((node[v.op], n) for v in op.operands if v.op is not None and node[v.op] != n)
    ops = []
    for n in nx.lexicographical_topological_sort(graph):
        op = replacement.get(n, op_at[n])
        op.parent = func.body
        ops.append(op)
    func.body.ops = ops
    replace_uses(func.body, results)
