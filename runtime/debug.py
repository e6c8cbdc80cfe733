"""`LOWERFLOW_DEBUG=1..4`: what the runtime writes to stderr as it compiles and runs
(cf. tinygrad's DEBUG levels). Each level adds to the one below:

1. timings: per compiled step, its kernels and the time of each compile phase (lowering
   the graph slice, the pass pipeline, LLVM codegen, or where the code came from: the
   process-wide table or the disk cache); per `Session.run`, its wall time.
2. the pass log: per pass of the pipeline, ops before/after, their difference and time
   (the table `lowerflow-opt --pass-timing` prints).
3. the IR after the pipeline, as `lowerflow-opt` prints it.
4. the step's optimised LLVM IR and its assembly for this CPU
   (what `lowerflow-opt --emit=llvm|asm` prints for an IR file).

The level is read when a Session is made and when a step is compiled
(`config.debug_level`); at 0 nothing here runs on the warm path.
"""
from __future__ import annotations

import functools
import sys
import time
from typing import Callable

from lowerflow import ir
from lowerflow.backend import Executable, emit_assembly, kernel_ops
from lowerflow.passes import PassManager


def write(text: str) -> None:
    sys.stderr.write(text if text.endswith("\n") else text + "\n")


def compiled(level: int, func: ir.Function, pm: PassManager, exe: Executable, times: list[float],
             source: str) -> None:
    """Report one compiled step at `level`: `times` are perf_counter readings around
    lowering, the passes and codegen; `source` says where the code came from."""
    ms = [(b - a) * 1e3 for a, b in zip(times, times[1:])]
    args, results = (", ".join(map(str, types)) for types in ([a.type for a in func.args], func.result_types))
    write(f"lowerflow: compiled @{func.name}({args}) -> ({results}): {len(kernel_ops(func))} kernels in "
          f"{sum(ms):.2f} ms (lower {ms[0]:.2f} ms, passes {ms[1]:.2f} ms, codegen {ms[2]:.2f} ms, {source})")
    if level >= 2:
        write(pm.stats_table())
    if level >= 3:
        write(f"// -----// IR after the pipeline //----- //\n{ir.print_function(func)}")
    if level >= 4:
        write(f"; -----// LLVM IR (optimised) //----- //\n{exe.llvm_ir}")
        write(f"# -----// assembly //----- //\n{emit_assembly(exe.source_ir)}")


def timed_run(run: Callable) -> Callable:
    """`run` (a Session's) reporting each call's wall time."""
    @functools.wraps(run)
    def timed(*args, **kwargs):
        start = time.perf_counter()
        try:
            return run(*args, **kwargs)
        finally:
            write(f"lowerflow: run in {(time.perf_counter() - start) * 1e3:.3f} ms")
    return timed
