"""`Timeline(step_stats).generate_chrome_trace_format()`: StepStats as Chrome trace JSON
(cf. TF's tensorflow/python/client/timeline.py, whose output this follows), loadable in
Perfetto and chrome://tracing.

Each device is a process, each thread a track; each NodeExecStats is a complete event
("ph": "X") named by the op type of its `timeline_label` ("name = Type(inputs)"), with
the node name, op and inputs as its args. `show_dataflow` adds a flow arrow from the end
of each input's producer to the start of its consumer. Times are microseconds, taken from
the nanosecond fields when they are set (so sub-microsecond kernels keep their length).
Memory statistics are not recorded by lowerflow's steps, so `show_memory` adds nothing.
"""
from __future__ import annotations

import json
import re

_LABEL = re.compile(r"(.*) = (.*)\((.*)\)")  # TF's op label: "name = Type(input, input)"


def parse_label(label: str) -> tuple[str, list[str]]:
    """(op type, input names) of a timeline label; ("unknown", []) when it has another form."""
    m = _LABEL.match(label)
    if m is None:
        return "unknown", []
    return m.group(2), [i for i in m.group(3).split(", ") if i]


def _times(ns) -> tuple[float, float]:
    """(start, duration) in microseconds of one NodeExecStats."""
    if ns.all_start_nanos:
        return ns.all_start_nanos / 1000.0, ns.all_end_rel_nanos / 1000.0
    return float(ns.all_start_micros), float(ns.all_end_rel_micros)


class Timeline:
    """A timeline of one step's stats (a StepStats proto, ours or TensorFlow's)."""

    def __init__(self, step_stats, graph=None):
        self._step_stats = step_stats
        self._graph = graph

    def generate_chrome_trace_format(self, show_dataflow: bool = True, show_memory: bool = False,
                                     op_time: str = "schedule") -> str:
        """The Chrome trace JSON text of the step (see the module docstring)."""
        events, ends, flows = [], {}, []
        for pid, dev in enumerate(self._step_stats.dev_stats):
            events.append(_meta("process_name", pid, None, f"{dev.device} Compute"))
            events.append(_meta("process_sort_index", pid, None, pid, key="sort_index"))
            for tid, name in sorted(dev.thread_names.items()):
                events.append(_meta("thread_name", pid, tid, name))
            for ns in dev.node_stats:
                start, dur = _times(ns)
                op, inputs = parse_label(ns.timeline_label)
                args = {"name": ns.node_name, "op": op, **{f"input{i}": n for i, n in enumerate(inputs)}}
                events.append({"ph": "X", "cat": "Op", "name": op, "pid": pid, "tid": ns.thread_id,
                               "ts": start, "dur": dur, "args": args})
                ends[ns.node_name] = (pid, ns.thread_id, start + dur)
                flows.extend((name, (pid, ns.thread_id, start)) for name in inputs)
        if show_dataflow:
            for flow_id, (name, (pid, tid, ts)) in enumerate(f for f in flows if f[0] in ends):
                src_pid, src_tid, src_ts = ends[name]
                events.append({"ph": "s", "cat": "DataFlow", "name": name, "pid": src_pid, "tid": src_tid,
                               "ts": src_ts, "id": flow_id})
                events.append({"ph": "t", "cat": "DataFlow", "name": name, "pid": pid, "tid": tid,
                               "ts": ts, "id": flow_id})
        return json.dumps({"traceEvents": events}, indent=4)


def _meta(what: str, pid: int, tid: int | None, value, key: str = "name") -> dict:
    event = {"name": what, "ph": "M", "pid": pid, "args": {key: value}}
    if tid is not None:
        event["tid"] = tid
    return event
