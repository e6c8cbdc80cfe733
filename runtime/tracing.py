"""What a traced `Session.run` reports: TF's StepStats, one NodeExecStats per native kernel.

A run with `RunOptions(trace_level=...)` and a `RunMetadata` calls the traced twin of its
step (`backend/codegen.py`): the same kernels, plus a wall-clock time (ns) before the first
and after each kernel. Each kernel becomes one `NodeExecStats`: `node_name` is the last TF op
it computes (a fused kernel covers several), `all_start_*` / `*_rel_*` come from those
times, and `timeline_label` is TF's `"name = Type(inputs)"` form, where Type joins the TF op
types the kernel covers ("MatMul+Add+Relu"), the inputs are the kernels that produced its
operands, and `ops=[...]` lists every TF op name it covers (cf. TF's executor
`NodeExecStatsWrapper`, which fills the same fields per op kernel).
"""
from __future__ import annotations

import threading
from typing import NamedTuple

import numpy as np

from lowerflow import ir
from lowerflow.backend import kernel_ops
from lowerflow.frontend.graph import Graph

DEVICE = "/job:localhost/replica:0/task:0/device:CPU:0"


class KernelRecord(NamedTuple):
    node_name: str
    label: str     # timeline_label
    ops: tuple     # the TF op names the kernel covers, in IR order


def kernel_records(func: ir.Function, graph: Graph) -> list[KernelRecord]:
    """One record per kernel of the optimised `func`, in call order."""
    records, producer, used = [], {}, set()
    for index, op in enumerate(kernel_ops(func)):
        names = tuple(dict.fromkeys(o.location for o in op.walk() if o.location))
        name = names[-1] if names else f"{op.name}_{index}"
        if name in used:
            name = f"{name}_k{index}"
        used.add(name)
        types = "+".join(dict.fromkeys(_op_type(graph, n) for n in names)) or op.name
        inputs = dict.fromkeys(producer[v] for v in op.operands if v in producer)
        producer.update(dict.fromkeys(op.results, name))
        records.append(KernelRecord(name, f"{name} = {types}({', '.join(inputs)}) ops=[{', '.join(names)}]",
                                    names))
    return records


def _op_type(graph: Graph, name: str) -> str:
    try:
        return graph.get_operation_by_name(name).type
    except (KeyError, ValueError):  # a location that names no graph op (e.g. made by a pass)
        return "?"


def fill_step_stats(step_stats, records: list[KernelRecord], stamps: np.ndarray) -> None:
    """Append one device's stats (`records` timed by `stamps`, ns) to a StepStats proto."""
    dev = step_stats.dev_stats.add(device=DEVICE)
    tid = threading.get_native_id()  # the step runs on the calling thread
    dev.thread_names[tid] = "lowerflow step"
    for record, start, end in zip(records, stamps[:-1].tolist(), stamps[1:].tolist()):
        ns = max(end - start, 0)
        dev.node_stats.add(node_name=record.node_name, timeline_label=record.label, thread_id=tid,
                           all_start_micros=start // 1000, scheduled_micros=start // 1000,
                           op_start_rel_micros=0, op_end_rel_micros=ns // 1000, all_end_rel_micros=ns // 1000,
                           all_start_nanos=start, scheduled_nanos=start, op_start_rel_nanos=0,
                           op_end_rel_nanos=ns, all_end_rel_nanos=ns)
