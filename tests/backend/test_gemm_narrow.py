"""backend/gemm_narrow.py: products with at most one vector of columns, against float64 numpy."""
from __future__ import annotations

import numpy as np
import pytest

from lowerflow.backend import build_llvm_module, compile_function, gemm_narrow, jit
from lowerflow.backend.gemm import Gemm
from lowerflow.backend.kernels import Target
from lowerflow.ir import ELEM_TYPES, Function, build, tensor

F32 = ELEM_TYPES["f32"]


def matmul_fn(sa, sb, ta=False, tb=False):
    f = Function("step", [tensor(sa, F32), tensor(sb, F32)])
    f.set_return([build(f.body, "lf.matmul", list(f.args), {"transpose_a": ta, "transpose_b": tb}).result])
    return f


def operands(m, k, n, ta, tb, seed=0):
    rng = np.random.default_rng(seed + m + k + n)
    sa, sb = ([k, m] if ta else [m, k]), ([n, k] if tb else [k, n])
    return rng.standard_normal(sa).astype(np.float32), rng.standard_normal(sb).astype(np.float32)


def want(a, b, ta, tb):
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    return (a64.T if ta else a64) @ (b64.T if tb else b64)


def check(m, k, n, ta, tb, threads=1):
    a, b = operands(m, k, n, ta, tb)
    exe = compile_function(matmul_fn(list(a.shape), list(b.shape), ta, tb), threads=threads)
    (got,) = exe.run([a, b])
    expected = want(a, b, ta, tb)
    np.testing.assert_allclose(got, expected, rtol=0, atol=4e-6 * np.sqrt(k) * max(1.0, np.abs(expected).max()))
    return exe, got


@pytest.fixture(params=[16, 32], ids=["avx2", "avx512"])
def registers(request, monkeypatch):
    """Both vector widths, whatever this host has (LLVM legalises zmm code for any x86-64)."""
    monkeypatch.setattr(jit, "host_vector_registers", lambda: request.param)
    return request.param


# (m, k, n): N = 1, 3 (K below the vector width), 7, 8, 10, 12 and N = 16, 17, K = 9 (the packed
# GEMM); K off the vector width; M off the register block (rows, or blocks of 16 or 32 rows)
SHAPES = [(64, 600, 1), (2000, 9, 3), (500, 70, 8), (70, 100, 12), (70, 100, 16), (50, 77, 17), (33, 250, 10),
          (256, 784, 10), (45, 110, 7), (600, 9, 10)]


@pytest.mark.parametrize("m,k,n", SHAPES)
@pytest.mark.parametrize("ta,tb", [(False, False), (True, False), (False, True), (True, True)],
                         ids=["nn", "tn", "nt", "tt"])
def test_values(m, k, n, ta, tb, registers):
    assert m * n * k >= 32 ** 3  # large enough for a GEMM kernel at all
    check(m, k, n, ta, tb)


@pytest.mark.parametrize("n,k,registers_,narrow", [
    (10, 300, 32, True), (12, 300, 32, True), (16, 300, 32, False), (17, 300, 32, False), (10, 63, 32, False),
    (6, 300, 16, True), (8, 300, 16, True), (10, 300, 16, True), (12, 300, 16, True), (13, 300, 16, False),
    (1, 300, 32, True), (3, 60, 16, True)])
def test_which_products_are_narrow(n, k, registers_, narrow):
    text = build_llvm_module(matmul_fn([200, k], [k, n]), target=Target(vector_registers=registers_))
    assert ("gemm_narrow" in text) == narrow
    assert gemm_narrow.handles(Gemm(200, n, k, (k, 1), (n, 1)), registers_) == narrow


@pytest.mark.parametrize("n,registers_,groups,block", [
    (10, 16, [(0, 5), (5, 5)], 2), (12, 16, [(0, 6), (6, 6)], 2), (7, 16, [(0, 4), (4, 3)], 3),
    (6, 16, [(0, 6)], 2), (3, 16, [(0, 3)], 4), (10, 32, [(0, 10)], 2), (12, 32, [(0, 12)], 2)])
def test_column_groups(n, registers_, groups, block):
    """At most one vector and half the accumulators a group, balanced; the block as tall as
    the widest group leaves room for."""
    assert gemm_narrow._groups(n, registers_) == (groups, block)


def test_a_row_is_one_masked_store():
    """A 256x784x10 product's row is one vector (the shuffle tree's lanes 0-9), stored
    masked so that the next row is untouched; no packed-GEMM tile is emitted."""
    text = build_llvm_module(matmul_fn([256, 784], [784, 10]), target=Target(vector_registers=32))
    assert "llvm.masked.store.v16f32" in text and "gemm.uk" not in text


@pytest.mark.parametrize("m,k,n,ta", [(256, 784, 10, False), (784, 256, 10, True), (1001, 300, 12, False),
                                      (1001, 300, 3, True)])
def test_threads_agree(m, k, n, ta, monkeypatch):
    """Rows (whole register blocks) split across threads; every sum keeps its order (in zmm,
    where all four products are narrow)."""
    monkeypatch.setattr(jit, "host_vector_registers", lambda: 32)
    exe, got = check(m, k, n, ta, False, threads=2)
    assert "GOMP_parallel" in exe.source_ir
    a, b = operands(m, k, n, ta, False)
    np.testing.assert_array_equal(got, compile_function(matmul_fn(list(a.shape), list(b.shape), ta)).run([a, b])[0])


def test_broadcast_batches():
    """Batch dims (one broadcast) call the narrow kernel once per matrix, at offsets."""
    sa, sb = [3, 1, 200, 100], [2, 100, 10]
    f = matmul_fn(sa, sb)
    assert "gemm_narrow" in build_llvm_module(f, target=Target(vector_registers=32))
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal(sa).astype(np.float32), rng.standard_normal(sb).astype(np.float32)
    (got,) = compile_function(f).run([a, b])
    np.testing.assert_allclose(got, np.matmul(a.astype(np.float64), b.astype(np.float64)), rtol=0, atol=1e-4)
