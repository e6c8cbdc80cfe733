""""lf.row_fusion" (softmax, log-softmax, the softmax-xent rows, layer norm) as a loop nest,
one row at a time (cf. XLA's row-reduction emitter, the fused softmax kernels of cuDNN/oneDNN).

The row shape (rows, C) of `row_schedule`; each operand is seen as [rows, C] with the
strides `row_access` gives (0 where it broadcasts), and as [rows] where a row scalar reads
it; a row result as [rows, C], a row-scalar result as [rows]. The nest:

    loop.for r in [0, rows) {parallel}
      one "loop.alloc" [C] per carried value that is no result (its row, kept between phases)
      per phase of the schedule:
        its row-scalar ops, once ("loop.scalar"s on registers)
        loop.for j in [0, C) {vector}, carrying one accumulator per reduction of the phase:
          its row ops per element: every operand loaded at [r, j] (a carried value from its
          scratch row or its result row), the result stored to its scratch row and to its
          result rows; one "loop.fold" per reduction
        the reductions finished (a mean divided, cast back): row scalars for later phases
      the row-scalar results stored at [r]

So softmax reads its input from memory once and writes its output once, the later phases
reading the row from L1 (1024 float32 are 4 KiB), where four kernels (max, exp, sum, divide)
would make four passes. The scratch rows are allocated inside the parallel loop: each
iteration, so each thread, has its own (the backend keeps one alloca per function).
"""
from __future__ import annotations

from lowerflow.ir.core import Block, Operation, Value
from lowerflow.ir.loop_build import counted, empty_kernel, scalar_of, view
from lowerflow.ir.loop_fold import Fold
from lowerflow.ir.ops.fusion import ROW_FUSION, RowPhase, RowSchedule, row_access, row_schedule
from lowerflow.ir.ops.loop import ALLOC, LOAD, STORE
from lowerflow.ir.types import memref

ROW_OPS = (ROW_FUSION,)


def row_kernel(op: Operation) -> Operation:
    """The "loop.kernel" of row fusion `op` (ValueError naming a malformed body)."""
    schedule = row_schedule(op)
    kernel, outs, ins = empty_kernel(op)
    body = kernel.regions[0]
    if outs and schedule.rows:
        _RowNest(body, op, schedule, outs, ins).build()
    body.add("lf.yield")
    return kernel


class _RowNest:
    """Builds the row loop of one row fusion into the kernel's `body`."""

    def __init__(self, body: Block, op: Operation, schedule: RowSchedule, outs: list[Value], ins: list[Value]):
        self.body, self.schedule = body, schedule
        block = op.regions[0]
        rows, self.cols = schedule.rows, schedule.row_shape[-1]
        phases = schedule.phases
        row_read = {v for p in phases for o in p.row_ops + p.reductions for v in o.operands}
        scalar_read = {v for p in phases for o in p.scalar_ops for v in o.operands}
        self.rows_of: dict[Value, Value] = {}  # operand -> its [rows, C] view
        self.scalars_of: dict[Value, Value] = {}  # operand -> its [rows] view
        for a, buf in zip(block.args, ins):
            rs, cs = row_access(tuple(a.type.shape), schedule.row_shape)
            if a in row_read:
                self.rows_of[a] = view(body, buf, [rows, self.cols], [rs, cs])
            if a in scalar_read:
                self.scalars_of[a] = view(body, buf, [rows], [rs])
        self.results: dict[Value, list[Value]] = {}  # a value yielded twice fills two results
        for v, buf in zip(block.terminator.operands, outs):
            row = tuple(v.type.shape) == schedule.row_shape
            out = view(body, buf, [rows, self.cols] if row else [rows], [self.cols, 1] if row else [1])
            self.results.setdefault(v, []).append(out)
        self.folds = {red: Fold(red, self.cols, body, True) for p in phases for red in p.reductions}
        self.scratch: dict[Value, Value] = {}  # carried value -> its row's "loop.alloc" (build)

    def build(self) -> None:
        loop = counted(self.body, 0, self.schedule.rows, parallel=True)
        block = loop.regions[0]
        r = block.args[0]
        self.scratch = {v: block.add(ALLOC, [], [memref([self.cols], v.type.dtype)],
                                     {"shape": [self.cols], "type": v.type.dtype}).result
                        for v in self.schedule.carried if v not in self.results}
        scalars: dict[Value, Value] = {}  # row scalars known so far (registers)
        for phase in self.schedule.phases:
            self._phase(block, r, phase, scalars)
        for v, outs in self.results.items():
            for out in outs if v in scalars else ():
                block.add(STORE, [scalars[v], out, r])
        block.add("lf.yield")

    def _phase(self, block: Block, r: Value, phase: RowPhase, scalars: dict) -> None:
        """One phase of row r: its row-scalar ops, then its loop over the columns (adds the
        row scalars it computes to `scalars`)."""
        for o in phase.scalar_ops:
            scalars[o.result] = scalar_of(block, o, [self._read(block, v, r, None, scalars, {}) for v in o.operands])
        if not (phase.row_ops or phase.reductions):
            return
        folds = [self.folds[red] for red in phase.reductions]
        column = counted(block, 0, self.cols, [f.start for f in folds], vector=True)
        inner = column.regions[0]
        j, accs = inner.args[0], inner.args[1:]
        local: dict[Value, Value] = {}
        for o in phase.row_ops:
            local[o.result] = value = scalar_of(inner, o, [self._read(inner, v, r, j, scalars, local)
                                                           for v in o.operands])
            self._write(inner, o.result, value, r, j)
        inner.add("lf.yield", [f.step(inner, acc, self._read(inner, red.operands[0], r, j, scalars, local))
                               for f, red, acc in zip(folds, phase.reductions, accs)])
        for f, red, acc in zip(folds, phase.reductions, column.results):
            scalars[red.result] = f.finish(block, acc)

    def _read(self, block: Block, v: Value, r: Value, j: Value | None, scalars: dict, local: dict) -> Value:
        """Value `v` at row r, column j (None: a row scalar's only column)."""
        if v in local:
            return local[v]
        if v in scalars:
            return scalars[v]
        if j is None:
            buf, at = self.scalars_of[v], [r]
        elif v in self.rows_of:
            buf, at = self.rows_of[v], [r, j]
        elif v in self.scratch:  # a row value of an earlier phase
            buf, at = self.scratch[v], [j]
        else:
            buf, at = self.results[v][0], [r, j]
        return block.add(LOAD, [buf, *at], [v.type.dtype]).result

    def _write(self, block: Block, v: Value, value: Value, r: Value, j: Value) -> None:
        if v in self.scratch:
            block.add(STORE, [value, self.scratch[v], j])
        for out in self.results.get(v, ()):
            block.add(STORE, [value, out, r, j])
