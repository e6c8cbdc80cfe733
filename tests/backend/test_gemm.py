"""backend/gemm.py: the packed float32 matmul against float64 numpy, on every edge it has."""
from __future__ import annotations

import os
import re
import subprocess
import sys

import numpy as np
import pytest

from lowerflow.backend import build_llvm_module, compile_function, gemm, jit, kernels_matmul
from lowerflow.backend.kernels import Target
from lowerflow.ir import ELEM_TYPES, Function, Module, build, tensor
from lowerflow.passes import PassManager

F32 = ELEM_TYPES["f32"]


def matmul_fn(sa, sb, ta=False, tb=False):
    f = Function("step", [tensor(sa, F32), tensor(sb, F32)])
    f.set_return([build(f.body, "lf.matmul", list(f.args), {"transpose_a": ta, "transpose_b": tb}).result])
    return f


def check(f, sa, sb, ta=False, tb=False, threads=1):
    rng = np.random.default_rng(len(sa) + sa[-1] + sb[-1])
    a, b = rng.standard_normal(sa).astype(np.float32), rng.standard_normal(sb).astype(np.float32)
    exe = compile_function(f, threads=threads)
    (got,) = exe.run([a, b])
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    want = np.matmul(np.swapaxes(a64, -1, -2) if ta else a64, np.swapaxes(b64, -1, -2) if tb else b64)
    k = sa[-2] if ta else sa[-1]
    np.testing.assert_allclose(got, want, rtol=0, atol=4e-6 * np.sqrt(k) * max(1.0, np.abs(want).max()))
    return exe


@pytest.fixture(params=[16, 32], ids=["avx2-tile", "avx512-tile"])
def registers(request, monkeypatch):
    """Both register tiles, whatever this host has (the 6x64 one needs AVX-512 to run fast,
    not to run correctly: LLVM legalises it for any x86-64)."""
    monkeypatch.setattr(jit, "host_vector_registers", lambda: request.param)
    return request.param


@pytest.mark.parametrize("m,k,n", [
    (32, 32, 32), (4, 40, 5000), (6, 64, 100), (7, 33, 150), (97, 257, 35), (100, 600, 70),
    (200, 64, 2100), (13, 1, 3000), (25, 300, 10), (61, 80, 20),
])
def test_shapes(m, k, n, registers):
    """Partial tiles in both directions, several k-panels (K > 256), two column panels
    (N > 2048), K = 1; narrow products (one column strip) read A in place, the last row
    strip partial."""
    assert m * n * k >= kernels_matmul.PACKED_FROM
    check(matmul_fn([m, k], [k, n]), [m, k], [k, n])


@pytest.mark.parametrize("ta,tb", [(True, False), (False, True), (True, True)])
def test_transposes(ta, tb, registers):
    m, k, n = 45, 70, 50
    sa, sb = ([k, m] if ta else [m, k]), ([n, k] if tb else [k, n])
    check(matmul_fn(sa, sb, ta, tb), sa, sb, ta, tb)


def test_broadcast_batches():
    check(matmul_fn([3, 1, 40, 30], [2, 30, 50]), [3, 1, 40, 30], [2, 30, 50])


@pytest.mark.parametrize("threads", [2, 8])
@pytest.mark.parametrize("m,k,n", [(300, 200, 190), (301, 64, 333), (1000, 300, 35), (6, 600, 2100),
                                   (2003, 400, 12), (97, 777, 2061)])
def test_threads_agree(m, k, n, threads):
    """Row blocks and B strips taken by tickets, K panels alternating between the two Bp
    buffers and two N panels, with threads that get no rows (6 rows; 8 threads on this
    2-core machine: no deadlock at the barriers) but meet every barrier."""
    f = matmul_fn([m, k], [k, n])
    rng = np.random.default_rng(0)
    args = [rng.standard_normal([m, k]).astype(np.float32), rng.standard_normal([k, n]).astype(np.float32)]
    exe = check(f, [m, k], [k, n], threads=threads)
    assert "GOMP_parallel" in exe.source_ir
    np.testing.assert_array_equal(exe.run(args)[0], compile_function(f).run(args)[0])  # same sums, same order


def test_small_and_thin_products_keep_the_loop_nest():
    for sa, sb in (([16, 16], [16, 16]), ([1, 1024], [1024, 64]), ([64, 64], [64, 3])):
        assert "gemm" not in build_llvm_module(matmul_fn(sa, sb))
    assert "gemm" in build_llvm_module(matmul_fn([32, 32], [32, 32]))


def test_aot_module_uses_the_portable_tile():
    text = build_llvm_module(matmul_fn([64, 64], [64, 64]))
    wide = build_llvm_module(matmul_fn([64, 64], [64, 64]), target=Target(vector_registers=32))
    # FMAs per k: 6x16 in ymm (AVX2, the portable default) and 6x64 in zmm (AVX-512)
    assert text.count('call <8 x float> @"llvm.fma.v8f32"') == 12
    assert wide.count('call <16 x float> @"llvm.fma.v16f32"') == 24 and "v8f32" not in wide
    assert gemm.tile_for(16).nr == 16 and gemm.tile_for(32).nr == 64
    assert gemm.tile_for(32, 10) == gemm.Tile(12, 1, 16) and gemm.tile_for(32, 40).nr == 48


def test_same_shapes_share_one_gemm():
    f = Function("step", [tensor([40, 40], F32)] * 2)
    x, y = f.args
    p = build(f.body, "lf.matmul", [x, y], {"transpose_a": False, "transpose_b": False}).result
    q = build(f.body, "lf.matmul", [p, x], {"transpose_a": False, "transpose_b": False}).result
    r = build(f.body, "lf.matmul", [q, y], {"transpose_a": False, "transpose_b": True}).result
    f.set_return([r])
    text = build_llvm_module(f)
    assert len(set(re.findall(r'define internal i32 @"?(gemm\.[\w.]+)', text))) == 2  # y.T differs
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal([40, 40]).astype(np.float32) for _ in range(2))
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    np.testing.assert_allclose(compile_function(f).run([a, b])[0], a64 @ b64 @ a64 @ b64.T, rtol=1e-4, atol=1e-3)


FORK_GEMM = """
import os, numpy as np
from lowerflow.backend import compile_function
from lowerflow.ir import ELEM_TYPES, Function, Module, build, tensor
from lowerflow.passes import PassManager
f32 = ELEM_TYPES["f32"]
f = Function("step", [tensor([300, 400], f32), tensor([400, 500], f32)])
f.set_return([build(f.body, "lf.matmul", list(f.args), {"transpose_a": False, "transpose_b": False}).result])
exe = compile_function(f, threads=2)
rng = np.random.default_rng(0)
args = [rng.standard_normal([300, 400]).astype(np.float32), rng.standard_normal([400, 500]).astype(np.float32)]
want = exe.run(args)[0]
pid = os.fork()
if pid == 0:  # one thread, no team: it packs every B strip and its barriers return at once
    os._exit(0 if np.array_equal(exe.run(args)[0], want) else 3)
print(os.waitpid(pid, 0)[1])
"""


def test_forked_child_runs_the_parallel_gemm_alone(tmp_path):
    env = {**os.environ, "LOWERFLOW_CACHE_DIR": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-c", FORK_GEMM], env=env, capture_output=True, text=True,
                          timeout=120, check=True)
    assert proc.stdout.split() == ["0"], proc.stdout + proc.stderr


def _dense_relu(m, k, n):
    """relu(x @ w + b) as one matmul fusion (its epilogue applied by the GEMM to its rows)."""
    f = Function("step", [tensor([m, k], F32), tensor([k, n], F32), tensor([n], F32)])
    x, w, bias = f.args
    product = build(f.body, "lf.matmul", [x, w], {"transpose_a": False, "transpose_b": False}).result
    f.set_return([build(f.body, "lf.relu", [build(f.body, "lf.add", [product, bias]).result]).result])
    PassManager("fuse").run(Module([f]))
    return f


@pytest.mark.parametrize("m,k,n", [(200, 300, 64), (97, 777, 2061), (5, 40, 16), (3, 5, 16)])
def test_fused_epilogue_on_every_row_block(m, k, n):
    """The epilogue runs on each row ticket's rows once their sums are whole: the packed
    GEMM on 1 and 2 threads (tickets over several K and N panels), and the loop nest of
    a small product, agree bitwise with each other and with numpy to rounding."""
    f = _dense_relu(m, k, n)
    assert any(o.name == "lf.matmul_fusion" for o in f.body.ops)
    rng = np.random.default_rng(m + n)
    args = [rng.standard_normal(shape).astype(np.float32) for shape in ([m, k], [k, n], [n])]
    one = compile_function(f, threads=1).run(args)[0]
    two = compile_function(f, threads=2).run(args)[0]
    np.testing.assert_array_equal(one, two)
    np.testing.assert_allclose(one, np.maximum(args[0] @ args[1] + args[2], 0), rtol=2e-4, atol=2e-4)
