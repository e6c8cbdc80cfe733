"""The kernel of "lf.row_fusion" (`ir/ops/fusion.py`): softmax and its kin, one row at a time.

For each row r of the row shape (rows, C), the phases of `row_schedule` run in order:

    phase p:  the row-scalar ops of p, once (registers)
              for j in range(C):                       (one vectorised loop; accumulators in phis)
                  the row ops of p per element; carried values stored to scratch[j] or
                  their result row, yielded ones to their result row
                  fold element j into each reduction of p
              the reductions' results: row scalars for phases > p

Operands are read at r*rs + j*cs (`row_access`), carried values from a stack row per value
(`kc.entry` allocas, C elements each) or, when the value is also a result, from that result's
row. A row of 1024 float32 is 4 KiB, so the phases after the first read it from L1: softmax
reads its input from memory once and writes its output once, where four kernels (max,
exp, sum, divide) would make four passes. Rows split across threads like an elementwise
loop's outermost dim (`parallel.parallel_for`).
"""
from __future__ import annotations

from llvmlite import ir

from lowerflow.backend import parallel
from lowerflow.backend.kernels import KERNEL_LOWERINGS, Buffer, KernelCtx, scalar_lowering
from lowerflow.backend.kernels_reduce import fold_range, offset, reducer
from lowerflow.backend.lltypes import I64, load_elem, mem_type, store_elem
from lowerflow.ir import Operation, Value
from lowerflow.ir.ops.fusion import REDUCTIONS, ROW_FUSION, RowSchedule, row_access, row_schedule


def lower_row_fusion(kc: KernelCtx, op: Operation) -> None:
    schedule = row_schedule(op)
    body_ops = op.regions[0].ops[:-1]
    for o in body_ops:
        if o.name not in REDUCTIONS:
            scalar_lowering(o.name)
    rows, cols = schedule.rows, schedule.row_shape[-1]
    if not kc.results or rows == 0:
        return
    work = rows * cols * parallel.elementwise_ns(kc.results + kc.operands, body_ops)

    def row_range(k: KernelCtx, lo: ir.Value, hi: ir.Value) -> None:
        row = _RowEmitter(k, op, schedule)
        parallel.counted_loop(k.b, lo, hi, row.emit, name="row")

    threads = parallel.threads_for(kc, work)
    if threads == 1:
        row_range(kc, ir.Constant(I64, 0), ir.Constant(I64, rows))
    else:
        parallel.parallel_for(kc, rows, 1, threads, row_range)


class _RowEmitter:
    """Emits one row's phases into a kernel (or chunk) function `k`."""

    def __init__(self, k: KernelCtx, op: Operation, schedule: RowSchedule):
        self.k, self.schedule = k, schedule
        block = op.regions[0]
        self.cols = schedule.row_shape[-1]
        self.args = {a: (buf, row_access(tuple(a.type.shape), schedule.row_shape))
                     for a, buf in zip(block.args, k.operands)}
        self.results: dict[Value, list[Buffer]] = {}  # a value yielded twice fills two results
        for v, buf in zip(block.terminator.operands, k.results):
            self.results.setdefault(v, []).append(buf)
        self.scratch = {v: Buffer(k.entry.alloca(mem_type(v.type.dtype), size=self.cols, name="carried"), v.type)
                        for v in schedule.carried if v not in self.results}

    def emit(self, r: ir.Value) -> None:
        b, k = self.k.b, self.k
        scalars: dict[Value, ir.Value] = {}  # row scalars known so far (registers)
        for phase in self.schedule.phases:
            for o in phase.scalar_ops:
                scalars[o.result] = k.scalar(o, [self._read(v, r, None, scalars, {}) for v in o.operands])
            if not (phase.row_ops or phase.reductions):
                continue
            folds = [reducer(k, red, self.cols) for red in phase.reductions]

            def column(j: ir.Value, accs: list[ir.Value], phase=phase, folds=folds) -> list[ir.Value]:
                local: dict[Value, ir.Value] = {}
                for o in phase.row_ops:
                    local[o.result] = value = k.scalar(o, [self._read(v, r, j, scalars, local) for v in o.operands])
                    self._write(o.result, value, r, j)
                return [f.step(b, self._read(red.operands[0], r, j, scalars, local), acc)
                        for f, red, acc in zip(folds, phase.reductions, accs)]

            accs = fold_range(b, self.cols, [f.start for f in folds], column)
            for f, red, acc in zip(folds, phase.reductions, accs):
                scalars[red.result] = f.finish(b, acc)
        for v, bufs in self.results.items():
            for buf in bufs if v in scalars else ():
                store_elem(b, scalars[v], buf.ptr, r, buf.type.dtype)

    def _read(self, v: Value, r: ir.Value, j: ir.Value | None, scalars: dict, local: dict) -> ir.Value:
        """Value `v` at row r, column j (None: a row scalar's only column)."""
        if v in local:
            return local[v]
        if v in scalars:
            return scalars[v]
        b = self.k.b
        if v in self.args:
            buf, (rs, cs) = self.args[v]
            terms = [(r, rs)] + ([(j, cs)] if j is not None and cs else [])
            at = offset(b, ir.Constant(I64, 0), *[t for t in terms if t[1]])
            return load_elem(b, buf.ptr, at, buf.type.dtype)
        buf, at = self._carried_at(v, r, j)
        return load_elem(b, buf.ptr, at, buf.type.dtype)

    def _write(self, v: Value, value: ir.Value, r: ir.Value, j: ir.Value) -> None:
        if v in self.scratch:
            store_elem(self.k.b, value, self.scratch[v].ptr, j, v.type.dtype)
        for buf in self.results.get(v, ()):
            store_elem(self.k.b, value, buf.ptr, self._in_row(r, j), buf.type.dtype)

    def _carried_at(self, v: Value, r: ir.Value, j: ir.Value) -> tuple[Buffer, ir.Value]:
        """Where row value `v` lives: its scratch row, else its (first) result row."""
        if v in self.scratch:
            return self.scratch[v], j
        return self.results[v][0], self._in_row(r, j)

    def _in_row(self, r: ir.Value, j: ir.Value) -> ir.Value:
        return offset(self.k.b, ir.Constant(I64, 0), (r, self.cols), (j, 1))


KERNEL_LOWERINGS[ROW_FUSION] = lower_row_fusion
