"""Control flow v1 in an imported GraphDef (what `tf.compat.v1` builds with control flow v2
disabled, and every TF 1.x graph): the Switch/Merge dataflow of a cond and the
Enter/Merge/Switch/LoopCond/NextIteration/Exit frame of a while loop become our `tf.cond`
and `tf.while_loop` (cf. TF's `CondContext`/`WhileContext`, which build them, and MLIR's
functional control flow "raising" of tf_executor islands).

Recognition, before anything is imported (`V1Structure`):
- a while frame is the nodes reached forward from the Enters of one `frame_name` up to the
  frame's Exits; each loop variable is Enter -> Merge(Enter, NextIteration) -> Switch(Merge,
  LoopCond) -> Exit (and Switch:1 into the body); an Enter with `is_constant` is a capture;
- a cond is the Merges of one name scope (`cond/Merge`, `cond/Merge_1`); each Merge input's
  branch is found backwards up to the Switches it reads (TF switches every tensor a branch
  reads from outside, and gives a branch's constants a control input from its pivot, the
  `switch_t`/`switch_f` Identity of a Switch): output 1 of a Switch is the true branch, 0 the
  false one, and every Switch of one cond has the same predicate (through Identities).
Constructs nest (a cond in a loop body, a loop in a branch): each is a unit of its parent's
level, depending on what its members read from outside. A level is imported unit by unit in
dependency order; a construct's branch functions import the units of its own level their
outputs need, in a child importer where the construct's Switch/Merge outputs stand for the
branch's arguments. A Merge or Exit imports as an Identity of that name, so `while/Exit:0`
and `cond/Merge:0` are fetchable. Anything else is refused naming the node.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import networkx as nx

from lowerflow.frontend.control_flow import cond, while_loop

SWITCHES, MERGES = ("Switch", "RefSwitch"), ("Merge", "RefMerge")
ENTERS, EXITS, NEXTS = ("Enter", "RefEnter"), ("Exit", "RefExit"), ("NextIteration", "RefNextIteration")
V1_CONTROL_FLOW = (*SWITCHES, *MERGES, *ENTERS, *EXITS, *NEXTS, "LoopCond")
_SOURCES = ("Placeholder", "PlaceholderWithDefault", "VariableV2", "VarHandleOp")  # never inside a branch


def _source(name: str) -> tuple[str, int]:
    """(node, output index) of a NodeDef input; a control input has index -1."""
    if name.startswith("^"):
        return name[1:], -1
    op, _, index = name.partition(":")
    return op, int(index) if index else 0


def _scope(name: str) -> str:
    return name.rpartition("/")[0]


def unrecognised(node, why: str) -> NotImplementedError:
    return NotImplementedError(f"lowerflow cannot import op type '{node.op}' (node '{node.name}'): v1 control "
                               f"flow of a form it does not recognise: {why}")


@dataclass(eq=False)
class Loop:
    """One loop variable's nodes."""
    enter: str
    merge: str
    switch: str
    next: str
    exit: str | None


@dataclass(eq=False)
class Construct:
    """A cond (`kind` "cond", named by its scope) or a while frame (named by its Enters' scope)."""
    kind: str
    name: str
    members: set = field(default_factory=set)
    externals: list = field(default_factory=list)  # members' inputs from outside
    parent: Construct | None = None
    merges: list = field(default_factory=list)  # cond: its Merges, the side of each input
    sides: dict = field(default_factory=dict)
    switches: set = field(default_factory=set)
    pred: str = ""
    loops: list = field(default_factory=list)  # while: loop variables, captured Enters
    constants: list = field(default_factory=list)
    loop_cond: str = ""

    def mapped(self) -> set:
        """The construct's nodes that stand for a branch's arguments."""
        if self.kind == "cond":
            return set(self.switches)
        return {n for l in self.loops for n in (l.merge, l.switch)} | set(self.constants)


class V1Structure:
    """The conds and while frames of a GraphDef's nodes, nested, and which owns each node."""

    def __init__(self, nodes):
        self.nodes = {n.name: n for n in nodes}
        self.order = [n.name for n in nodes]
        self.consumers = defaultdict(list)
        for n in nodes:
            for i in n.input:
                self.consumers[_source(i)[0]].append(n.name)
        self.exits: dict[str, Construct] = {}
        frames = [self._frame(f, es) for f, es in self._enters().items()]
        conds = self._conds()
        self.owner: dict[str, Construct] = {}
        for c in sorted(frames + conds, key=lambda c: -len(c.members)):  # outer ones first
            c.parent = next((self.owner[m] for m in c.members if m in self.owner), None)
            self.owner.update(dict.fromkeys(c.members, c))
        self._adopt_dead_ends()

    def _adopt_dead_ends(self) -> None:
        """Gives a node left out of every construct but reading one's inside (a cond's unused
        `pred_id`) to that construct, whose branches never need it."""
        changed = True
        while changed:
            changed = False
            for name in self.order:
                if name in self.owner:
                    continue
                for op in (_source(i)[0] for i in self.nodes[name].input):
                    c = self.owner.get(op)
                    c = c.parent if c is not None and (op in c.merges or self.exits.get(op) is c) else c
                    if c is not None:
                        self.owner[name], changed = c, True
                        break

    def _enters(self) -> dict:
        frames = defaultdict(list)
        for name in self.order:
            node = self.nodes[name]
            if node.op in ENTERS:
                frames[node.attr["frame_name"].s.decode()].append(name)
        return frames

    def _exit_frame(self, node) -> str | None:
        """The frame an Exit leaves: its Switch's Merge's Enter's."""
        try:
            merge = self.nodes[_source(self.nodes[_source(node.input[0])[0]].input[0])[0]]
            enter = next(self.nodes[_source(i)[0]] for i in merge.input if self.nodes[_source(i)[0]].op in ENTERS)
        except (KeyError, IndexError, StopIteration):
            return None
        return enter.attr["frame_name"].s.decode()

    def _frame(self, frame: str, enters: list) -> Construct:
        c = Construct("while", _scope(enters[0]))
        todo = list(enters)
        while todo:
            name = todo.pop()
            if name in c.members or name not in self.nodes:
                continue
            c.members.add(name)
            node = self.nodes[name]
            if node.op in EXITS and self._exit_frame(node) == frame:
                self.exits[name] = c
                continue
            todo.extend(self.consumers[name])
        for e in enters:
            if self.nodes[e].attr["is_constant"].b:
                c.constants.append(e)
            else:
                c.loops.append(self._loop(e))
        conds = {self.nodes[l.switch].input[1] for l in c.loops}
        if len(conds) != 1:
            raise unrecognised(self.nodes[enters[0]], "the loop's Switches do not share one LoopCond")
        c.loop_cond = _source(conds.pop())[0]
        c.externals = self._externals(c)
        return c

    def _only(self, names: list, ops: tuple, node, what: str) -> str:
        found = [n for n in names if self.nodes[n].op in ops]
        if len(found) != 1:
            raise unrecognised(node, f"expected one {what}, found {len(found)}")
        return found[0]

    def _loop(self, enter: str) -> Loop:
        node = self.nodes[enter]
        merge = self._only(self.consumers[enter], MERGES, node, "Merge after the loop variable's Enter")
        inputs = [_source(i)[0] for i in self.nodes[merge].input]
        nxt = self._only(inputs, NEXTS, self.nodes[merge], "NextIteration input of the loop's Merge")
        if len(inputs) != 2:
            raise unrecognised(self.nodes[merge], "a loop's Merge takes its Enter and its NextIteration")
        switches = [s for s in self.consumers[merge] if self.nodes[s].op in SWITCHES and self._loop_switch(s)]
        switch = self._only(switches, SWITCHES, self.nodes[merge], "Switch on a LoopCond after the loop's Merge")
        exits = [x for x in self.consumers[switch] if self.nodes[x].op in EXITS]
        if len(exits) > 1:
            raise unrecognised(self.nodes[switch], "a loop variable with more than one Exit")
        return Loop(enter, merge, switch, nxt, exits[0] if exits else None)

    def _loop_switch(self, name: str) -> bool:
        pred = self.nodes.get(_source(self.nodes[name].input[1])[0]) if len(self.nodes[name].input) > 1 else None
        return pred is not None and pred.op == "LoopCond"

    def _loop_merge(self, node) -> bool:
        return any(self.nodes.get(_source(i)[0]) is not None and self.nodes[_source(i)[0]].op in ENTERS + NEXTS
                   for i in node.input)

    def _conds(self) -> list[Construct]:
        scopes = defaultdict(list)
        for name in self.order:
            node = self.nodes[name]
            if node.op in MERGES and not self._loop_merge(node):
                scopes[_scope(name)].append(name)
        built: dict[str, Construct | None] = {}

        def get(scope: str) -> Construct:
            if scope not in built:
                built[scope] = None  # in progress: a cycle is refused below
                built[scope] = self._cond(scope, scopes[scope], get)
            if built[scope] is None:
                raise unrecognised(self.nodes[scopes[scope][0]], "conds that read each other's branches")
            return built[scope]
        return [get(s) for s in scopes]

    def _cond(self, scope: str, merges: list, get) -> Construct:
        c = Construct("cond", scope, members=set(merges), merges=merges)
        for m in merges:
            node = self.nodes[m]
            if len(node.input) != 2 or any(i.startswith("^") for i in node.input):
                raise unrecognised(node, "a cond's Merge takes one value from each branch")
            c.sides[m] = [self._branch(c, i, get, node) for i in node.input]
            if sorted(c.sides[m]) != [0, 1]:
                raise unrecognised(node, "its inputs do not come from the two sides of the cond's Switches")
        preds = {self._origin(self.nodes[s].input[1]) for s in c.switches}
        if len(preds) != 1:
            raise unrecognised(self.nodes[merges[0]], "its branches' Switches have different predicates")
        self._pivots(c, preds.pop())
        c.pred = self.nodes[min(c.switches)].input[1]
        c.externals = self._externals(c)
        return c

    def _branch(self, c: Construct, start: str, get, merge) -> int:
        """Adds the nodes computing Merge input `start` to `c`; the side (Switch output) they read."""
        sides, seen, todo = set(), set(), [start]
        while todo:
            op, index = _source(todo.pop())
            node = self.nodes.get(op)
            if node is None:
                continue
            if node.op in SWITCHES and not self._loop_switch(op):
                c.switches.add(op)
                c.members.add(op)
                sides.update([index] if index >= 0 else [])
                continue
            if op in seen or op in c.merges:
                continue
            seen.add(op)
            inner = get(_scope(op)) if node.op in MERGES and not self._loop_merge(node) else self.exits.get(op)
            if inner is not None:  # a cond or a loop inside the branch: its inputs lead on
                c.members |= inner.members
                todo.extend(inner.externals)
            elif node.op not in V1_CONTROL_FLOW + _SOURCES:  # else outside the cond (an enclosing loop's)
                c.members.add(op)
                todo.extend(node.input)
        if len(sides) != 1:
            raise unrecognised(merge, f"input '{start}' reads {'both sides' if sides else 'no side'} of its Switches")
        return sides.pop()

    def _pivots(self, c: Construct, pred: str) -> None:
        """Adds the cond's own Switches that no branch reads (its pivot `cond/Switch` when no
        branch constant hangs on `switch_t`/`switch_f`), with those Identities."""
        for name in self.order:
            node = self.nodes[name]
            if _scope(name) == c.name and node.op in SWITCHES and not self._loop_switch(name) \
                    and self._origin(node.input[1]) == pred:
                c.switches.add(name)
                c.members.add(name)
                c.members.update(u for u in self.consumers[name] if self.nodes[u].op == "Identity"
                                 and all(v in c.members for v in self.consumers[u]))

    def _origin(self, name: str) -> str:
        op = _source(name)[0]
        while op in self.nodes and self.nodes[op].op == "Identity":
            op = _source(self.nodes[op].input[0])[0]
        return op

    def _externals(self, c: Construct) -> list[str]:
        return list(dict.fromkeys(i for m in sorted(c.members) for i in self.nodes[m].input
                                  if _source(i)[0] not in c.members))

    # ---- import order ---------------------------------------------------------------------

    def unit(self, name: str, level: Construct | None):
        """What node `name` is at `level`: itself, the construct directly in `level` holding
        it, or None when it is outside `level`."""
        c = self.owner.get(name)
        if c is level:
            return name
        while c is not None and c.parent is not level:
            c = c.parent
        return c

    def units(self, level: Construct | None, sources: list[str], mapped: set) -> list:
        """The nodes and constructs of `level` that `sources` need, inputs first (GraphDef order
        among independent ones)."""
        graph, seen = nx.DiGraph(), set()
        todo = [u for u in (self._unit_of(s, level, mapped) for s in sources) if u is not None]
        graph.add_nodes_from(todo)
        todo.reverse()
        while todo:
            u = todo.pop()
            if u in seen:
                continue
            seen.add(u)
            for i in (self.nodes[u].input if isinstance(u, str) else u.externals):
                dep = self._unit_of(i, level, mapped)
                if dep is not None and dep is not u:
                    graph.add_edge(u, dep)
                    todo.append(dep)
        return list(nx.dfs_postorder_nodes(graph))

    def _unit_of(self, name: str, level, mapped: set):
        op = _source(name)[0]
        return None if op in mapped or op not in self.nodes else self.unit(op, level)


def import_units(importer, units: list) -> None:
    for u in units:
        if isinstance(u, Construct):
            (_build_cond if u.kind == "cond" else _build_while)(importer, u)
        else:
            importer.add(importer.v1.nodes[u])


def _full(importer, name: str) -> str:
    return f"{importer.prefix}/{name}" if importer.prefix else name


def _outputs(importer, names: list, tensors: list) -> None:
    """The construct's Merges or Exits as Identities of those names."""
    for name, t in zip(names, tensors):
        if name is not None:
            importer.ops[name] = importer.graph.create_op("Identity", [t], [(t.dtype, t.shape)], {},
                                                          name=_full(importer, name) + "/")


def _branch(importer, c: Construct, mapping: dict, sources: list[str]) -> list:
    """`sources` imported in a child importer of `importer` where `mapping` binds names."""
    inner = importer.child(mapping, c.mapped())
    import_units(inner, importer.v1.units(c, sources, c.mapped()))
    return [inner.tensor(s) for s in sources]


def _build_cond(importer, c: Construct) -> None:
    nodes = importer.v1.nodes
    pred = importer.tensor(c.pred)

    def side(k: int):
        sources = [nodes[m].input[c.sides[m].index(k)] for m in c.merges]
        return lambda: _branch(importer, c, {f"{s}:{k}": importer.tensor(nodes[s].input[0]) for s in c.switches},
                               sources)
    outs = cond(pred, side(1), side(0), name=_full(importer, c.name))
    _outputs(importer, c.merges, outs)


def _build_while(importer, c: Construct) -> None:
    nodes = importer.v1.nodes
    captured = {f"{e}:0": importer.tensor(nodes[e].input[0]) for e in c.constants}

    def bound(vs) -> dict:
        names = {f"{n}:{k}": v for l, v in zip(c.loops, vs) for n, k in ((l.merge, 0), (l.switch, 1))}
        return {**captured, **names}

    def test(*vs):
        return _branch(importer, c, bound(vs), [nodes[c.loop_cond].input[0]])[0]

    def body(*vs):
        return _branch(importer, c, bound(vs), [nodes[l.next].input[0] for l in c.loops])

    entering = [importer.tensor(nodes[l.enter].input[0]) for l in c.loops]
    outs = while_loop(test, body, entering, name=_full(importer, c.name), return_same_structure=True)
    _outputs(importer, [l.exit for l in c.loops], outs)
