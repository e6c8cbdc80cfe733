"""`tf.summary.FileWriter`: TensorBoard event files (cf. TF's summary/writer/writer.py).

An event file `events.out.tfevents.<seconds>.<host>` is a TFRecord file of `Event` protos:
each record is its length (uint64), the masked crc32c of those 8 bytes, the data, and the
masked crc32c of the data. The first event names the file version ("brain.Event:2");
summaries, graphs and meta graphs follow as events with a wall time and a step.
"""
from __future__ import annotations

import os
import socket
import struct
import threading
import time

from lowerflow.frontend import protos
from lowerflow.runtime.checkpoint_v2 import masked_crc32c


def tf_record(data: bytes) -> bytes:
    """One TFRecord: length, its crc, the data, its crc."""
    length = struct.pack("<Q", len(data))
    return length + struct.pack("<I", masked_crc32c(length)) + data + struct.pack("<I", masked_crc32c(data))


class FileWriter:
    """Writes events to a new event file in `logdir` (created if missing); buffered events are
    written by `flush`, by `close`, and when `max_queue` of them are waiting."""

    def __init__(self, logdir: str, graph=None, max_queue: int = 10, flush_secs: int = 120, graph_def=None,
                 filename_suffix: str | None = None, session=None):
        self._logdir = str(logdir)
        os.makedirs(self._logdir, exist_ok=True)
        name = f"events.out.tfevents.{int(time.time()):010d}.{socket.gethostname()}{filename_suffix or ''}"
        self._path = os.path.join(self._logdir, name)
        self._file = open(self._path, "wb")
        self._queue: list[bytes] = []
        self._max_queue = max_queue
        self._lock = threading.Lock()
        self._closed = False
        self.add_event(protos.Event(wall_time=time.time(), file_version="brain.Event:2"))
        if graph is not None or graph_def is not None:
            self.add_graph(graph, graph_def=graph_def)

    def get_logdir(self) -> str:
        return self._logdir

    def add_event(self, event) -> None:
        """Queue one Event proto (ours or TensorFlow's)."""
        data = event.SerializeToString()
        with self._lock:
            if self._closed:
                raise RuntimeError("FileWriter is closed")
            self._queue.append(tf_record(data))
            if len(self._queue) >= self._max_queue:
                self._write_queue()

    def add_summary(self, summary, global_step=None) -> None:
        """A Summary (serialised bytes, as `sess.run` returns it, or a proto) at `global_step`."""
        if isinstance(summary, (bytes, bytearray)):
            summary = protos.Summary.FromString(bytes(summary))
        elif not isinstance(summary, protos.Summary):
            summary = protos.Summary.FromString(summary.SerializeToString())
        self.add_event(protos.Event(wall_time=time.time(), step=int(global_step or 0), summary=summary))

    def add_graph(self, graph, global_step=None, graph_def=None) -> None:
        """The graph (shown in TensorBoard's graph view) as a serialised GraphDef event."""
        if graph is not None and graph_def is not None:
            raise ValueError("Please pass only graph, or graph_def (deprecated), but not both.")
        graph_def = graph.as_graph_def() if graph is not None else graph_def
        self.add_event(protos.Event(wall_time=time.time(), step=int(global_step or 0),
                                    graph_def=graph_def.SerializeToString()))

    def add_meta_graph(self, meta_graph_def, global_step=None) -> None:
        self.add_event(protos.Event(wall_time=time.time(), step=int(global_step or 0),
                                    meta_graph_def=meta_graph_def.SerializeToString()))

    def _write_queue(self) -> None:
        self._file.write(b"".join(self._queue))
        self._queue.clear()
        self._file.flush()

    def flush(self) -> None:
        with self._lock:
            if not self._closed:
                self._write_queue()

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._write_queue()
                self._file.close()
                self._closed = True

    def reopen(self) -> None:
        with self._lock:
            if self._closed:
                self._file = open(self._path, "ab")
                self._closed = False

    def __enter__(self) -> "FileWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
