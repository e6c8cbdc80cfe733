"""One O3 pipeline run that gives back everything llvmlite allocates for it.

A compile builds a PipelineTuningOptions, a PassBuilder and a ModulePassManager, runs the
manager once and drops them. llvmlite 0.50 leaves two of those allocations alive:
- the ModulePassManager: its `_dispose` resolves to ObjectRef's no-op (~70 KB a run);
  `close_pass_manager` calls the real one;
- the PassInstrumentationCallbacks each PassBuilder is made with (`new` in
  `LLVMPY_CreatePassBuilder`; the PassBuilder does not own it, and nothing deletes it):
  ~1.5 KB a compile, and as each one pins the page it lies on among freed ones, ~4.5 KB of
  RSS a compile once the heap is trimmed. `InstrumentationFreer` frees it.

llvmlite gives no access to that object, so it is found in the PassBuilder's memory and
recognised before it is freed: the PassBuilder's constructor registers a callback on it
capturing `[this, PIC]`, so the object holds the pair (PassBuilder address, its own address)
at a fixed position. The first PassBuilder is searched for the field whose pointee holds that
pair inside a heap chunk of its own (glibc's chunk header read in front of it); later ones
are freed only when the same field, pair position and chunk size (give or take malloc's
rounding) are found again. Memory is
read through /proc/self/mem, so a stray address reads as an error, never a crash; anything
unrecognised (another allocator, no /proc) is left alive as before, and so is everything on an
llvmlite not known to leak it (`LEAKING_VERSIONS`). Reusing
one PassBuilder is no way out: every run registers callbacks on it that point into that
run's stack.
"""
from __future__ import annotations

import ctypes
import os
import struct
import threading

import llvmlite
import llvmlite.binding as llvm
from llvmlite.binding import ffi
from llvmlite.binding.newpassmanagers import NewPassManager

#: llvmlite versions whose PassBuilders leak their callbacks object: on any other (one that
#: may delete it itself) nothing is freed here, since freeing it twice would corrupt the heap.
LEAKING_VERSIONS = ("0.50",)
_WORD = struct.Struct("<Q")
_SEARCHED = 256  # bytes of the PassBuilder searched for the field
_CHUNK_MAX = 16384  # the callbacks object is ~1.5 KB; a larger chunk is not it
_MIN_CHUNK = 32  # glibc's smallest chunk on 64-bit hosts
_IS_MMAPPED = 2  # glibc chunk header flag: such a chunk is not a plain heap block
_libc_free = ctypes.CDLL(None).free
_libc_free.argtypes, _libc_free.restype = [ctypes.c_void_p], None


def close_pass_manager(mpm: llvm.ModulePassManager) -> None:
    """Free `mpm`'s native pipeline. In llvmlite 0.50 `ModulePassManager._dispose` resolves
    to `ObjectRef`'s no-op (ObjectRef precedes NewPassManager in its bases), so closing or
    collecting it frees nothing: every O3 pipeline leaked ~70 KB, 10,000 compiles ~0.7 GB.
    Call the real disposal where that no-op is what `close()` would run."""
    if type(mpm)._dispose is ffi.ObjectRef._dispose:
        NewPassManager._dispose(mpm)
        mpm.detach()
    else:  # pragma: no cover - an llvmlite that fixed its bases
        mpm.close()


def leaks_callbacks() -> bool:
    """Whether this llvmlite is one known to leak each PassBuilder's callbacks object."""
    return ".".join(llvmlite.__version__.split(".")[:2]) in LEAKING_VERSIONS


class InstrumentationFreer:
    """Finds and frees the PassInstrumentationCallbacks a PassBuilder was made with (see
    the module docstring). `layout` is (field offset in the PassBuilder, position of the
    pair in the object, chunk size), learnt from the first PassBuilder; `freed` counts."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._mem = -1  # fd of /proc/self/mem (opened by `_pid`), -1 where it cannot be read
        self._pid: int | None = None
        self.layout: tuple[int, int, int] | None = None
        self.learnt = not leaks_callbacks()  # nothing to learn where nothing is freed
        self.freed = 0

    def _read(self, address: int, size: int) -> bytes | None:
        if self._pid != os.getpid():  # a forked child must not read its parent's memory
            self._pid = os.getpid()
            if self._mem >= 0:
                os.close(self._mem)
            try:
                self._mem = os.open("/proc/self/mem", os.O_RDONLY | os.O_CLOEXEC)
            except OSError:
                self._mem = -1
        if self._mem < 0 or not 4096 <= address < 1 << 47:
            return None
        try:
            data = os.pread(self._mem, size, address)
        except OSError:  # not mapped
            return None
        return data if len(data) == size else None

    def _chunk_size(self, address: int) -> int | None:
        """The size of the glibc heap chunk starting at `address`, None if it does not
        look like one."""
        header = self._read(address - 8, 8)
        if header is None:
            return None
        size = _WORD.unpack(header)[0]
        if size & _IS_MMAPPED or not _MIN_CHUNK <= size & ~7 <= _CHUNK_MAX:
            return None
        return size & ~7

    def _match(self, pb_address: int, field: int, own: int = 0) -> tuple[int, int, int] | None:
        """(callbacks address, pair position, chunk size) if the word at `field` of the
        PassBuilder points at a heap chunk holding the pair, outside the PassBuilder's
        first `own` bytes."""
        word = self._read(pb_address + field, 8)
        if word is None:
            return None
        target = _WORD.unpack(word)[0]
        size = self._chunk_size(target) if not 0 <= target - pb_address < own else None
        body = self._read(target, size - 8) if size else None
        at = body.find(_WORD.pack(pb_address) + _WORD.pack(target)) if body else -1
        return (target, at, size) if at >= 0 and at % 8 == 0 else None

    def _learn(self, pb_address: int) -> None:
        own = self._chunk_size(pb_address) or _SEARCHED  # its fields point into itself too
        found = [(field, *m[1:]) for field in range(0, _SEARCHED, 8)
                 if (m := self._match(pb_address, field, own)) is not None]
        self.layout = found[0] if len(found) == 1 else None  # ambiguous: free nothing
        self.learnt = True

    def callbacks_of(self, pb: llvm.PassBuilder) -> int | None:
        """The address of `pb`'s callbacks object, if recognised (call before closing `pb`)."""
        pb_address = ctypes.cast(pb._ptr, ctypes.c_void_p).value
        with self._lock:
            if not self.learnt:
                self._learn(pb_address)
            if self.layout is None:
                return None
            field, at, size = self.layout
            match = self._match(pb_address, field)
        # malloc hands out a whole free chunk when splitting it would leave less than its
        # minimum chunk (32 bytes): the same object may lie in a slightly larger chunk
        ok = match is not None and match[1] == at and size <= match[2] < size + _MIN_CHUNK
        return match[0] if ok else None

    def free(self, address: int | None) -> None:
        """Free a callbacks object `callbacks_of` found, once its PassBuilder is closed."""
        if address is not None:
            _libc_free(address)
            with self._lock:
                self.freed += 1


#: The process's freer (tests read `freed` and `layout`).
FREER = InstrumentationFreer()


def run_pipeline(mod: llvm.ModuleRef, tm: llvm.TargetMachine, options: dict) -> None:
    """Run the default per-module pipeline (`options`: PipelineTuningOptions attributes,
    `speed_level` among them) on `mod`, then free the pass manager, the PassBuilder and
    its instrumentation callbacks."""
    pto = llvm.create_pipeline_tuning_options(speed_level=options["speed_level"])
    for option, value in options.items():
        setattr(pto, option, value)
    pb = llvm.create_pass_builder(tm, pto)
    mpm = pb.getModulePassManager()  # a new MPM every time: reusing one aborts
    try:
        mpm.run(mod, pb)
    finally:
        close_pass_manager(mpm)
        callbacks = FREER.callbacks_of(pb)
        pb.close()
        FREER.free(callbacks)
