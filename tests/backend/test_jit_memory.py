"""The LLVM pipeline frees what it allocates: a long-running process compiles thousands of
modules, so each optimisation must give back its pass manager and its context."""
from __future__ import annotations

import ctypes
import gc
import resource

import llvmlite.binding as llvm
import pytest
from llvmlite.binding.newpassmanagers import NewPassManager

from lowerflow.backend import jit, pass_builder

KERNEL = """
define void @k(ptr noalias %x, ptr noalias %y, i64 %n) {
entry:
  br label %loop
loop:
  %i = phi i64 [0, %entry], [%i1, %loop]
  %px = getelementptr float, ptr %x, i64 %i
  %v = load float, ptr %px
  %w = fmul contract float %v, SCALE
  %py = getelementptr float, ptr %y, i64 %i
  store float %w, ptr %py
  %i1 = add nuw nsw i64 %i, 1
  %c = icmp slt i64 %i1, %n
  br i1 %c, label %loop, label %exit
exit:
  ret void
}
"""


def kernel(i: int) -> str:
    """A module with a constant of its own (constants are uniqued per LLVM context)."""
    return KERNEL.replace("SCALE", f"{i}.5")


def rss_kib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 1024


def test_optimise_frees_its_pass_manager(monkeypatch):
    freed, made = [], []
    real_dispose, real_build = NewPassManager._dispose, llvm.PassBuilder.getModulePassManager

    def build(pb):
        made.append(real_build(pb))
        return made[-1]

    monkeypatch.setattr(NewPassManager, "_dispose", lambda self: (freed.append(self), real_dispose(self)))
    monkeypatch.setattr(llvm.PassBuilder, "getModulePassManager", build)
    for i in range(3):
        jit.optimise(kernel(i))
    assert len(made) == 3 and [id(m) for m in freed] == [id(m) for m in made]
    assert all(m.closed for m in made)  # detached: nothing can free it twice


def test_each_optimisation_has_its_own_context():
    a, b = jit.optimise(kernel(1)), jit.optimise(kernel(2))
    assert a._context != llvm.get_global_context()  # constants die with the module
    assert a._context != b._context and b._context != llvm.get_global_context()
    assert "fmul contract <8 x float>" in str(a) or "fmul contract float" in str(a)


def test_optimised_code_is_unchanged_by_the_context(monkeypatch):
    """A private context changes what is freed, not what is generated."""
    text = kernel(7)
    private = str(jit.optimise(text))
    monkeypatch.setattr(llvm, "create_context", llvm.get_global_context)
    assert str(jit.optimise(text)) == private


def growth_over_optimisations(measure, n: int) -> float:
    """What `measure()` grows by over `n` O3 runs of new kernels, after 20 that warm
    allocator pools and LLVM's lazily built tables."""
    for i in range(20):
        jit.optimise(kernel(i))
    gc.collect()
    start = measure()
    for i in range(20, 20 + n):
        jit.optimise(kernel(i))
    gc.collect()
    return measure() - start


def test_many_optimisations_keep_memory_flat():
    """llvmlite 0.50 alone leaks ~70 KB per O3 pipeline (its MPM is never freed) and the
    global context keeps every module's constants: 100 runs grew ~7 MB. Now ~0.2 MB."""
    assert growth_over_optimisations(rss_kib, 100) < 3 * 1024


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in
                "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost".split()]


def malloc_in_use() -> int | None:
    """Bytes malloc has handed out and not got back (glibc >= 2.33), None elsewhere: unlike
    RSS, no pinned pages nor the rest of the process's heap in it."""
    info = getattr(ctypes.CDLL(None), "mallinfo2", None)
    if info is None:
        return None
    info.restype = _MallInfo2
    return info().uordblks


def test_each_pass_builder_frees_its_instrumentation_callbacks():
    """llvmlite 0.50 allocates a PassInstrumentationCallbacks (~1.5 KB) for every
    PassBuilder and never deletes it; `pass_builder.FREER` recognises and frees each one."""
    if not pass_builder.leaks_callbacks():
        pytest.skip("this llvmlite is not one known to leak them")
    before = pass_builder.FREER.freed
    for i in range(5):
        jit.optimise(kernel(i))
    assert pass_builder.FREER.layout is not None  # recognised on this host
    assert pass_builder.FREER.freed - before == 5  # one per optimisation, none missed


def test_optimisations_give_back_every_byte_they_allocate():
    """Counted in malloc's own books: 150 O3 runs kept ~230 KB before the callbacks were
    freed (1.5 KB each), now a few KB."""
    if malloc_in_use() is None:
        pytest.skip("needs glibc's mallinfo2")
    assert growth_over_optimisations(malloc_in_use, 150) < 40 * 1024
