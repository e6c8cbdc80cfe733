"""backend/parallel.py: large kernels split across libgomp threads give the serial results."""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from test_structure import binary_fn, rand

import lowerflow as tf
from lowerflow.backend import NativeError, build_llvm_module, compile_cache, compile_function, parallel
from lowerflow.ir import ELEM_TYPES, Block, Function, build, tensor

F32, I32 = ELEM_TYPES["f32"], ELEM_TYPES["i32"]
pytestmark = pytest.mark.skipif(not parallel.available(), reason="libgomp.so.1 is not installed")


def chain_fn(shape_x, shape_y):
    """fusion(x, y) -> (tanh(x*y) + exp(y), x > y): transcendental, broadcasting, two outputs."""
    f = Function("step", [tensor(shape_x, F32), tensor(shape_y, F32)])
    block = Block([a.type for a in f.args])
    x, y = block.args
    t = build(block, "lf.tanh", [build(block, "lf.mul", [x, y]).result]).result
    s = build(block, "lf.add", [t, build(block, "lf.exp", [y]).result]).result
    gt = build(block, "lf.gt", [x, y]).result
    block.add("lf.yield", [s, gt])
    fusion = f.body.add("lf.fusion", list(f.args), [s.type, gt.type], regions=[block])
    f.set_return(list(fusion.results))
    return f


def same_as_serial(f, args):
    serial = compile_function(f, threads=1)
    threaded = compile_function(f, threads=2)
    assert "GOMP_parallel" not in serial.source_ir
    for a, b in zip(serial.run(args), threaded.run(args)):
        np.testing.assert_array_equal(a, b)
    return threaded


@pytest.mark.parametrize("n", [200_000, 240_000, 250_000, 262_144, 300_001, 1_000_003])
def test_flat_sizes_around_the_threshold(n):
    f = binary_fn("lf.add", [n], [n])
    exe = same_as_serial(f, [rand([n]), rand([n], seed=1)])
    estimate = n * (12 * parallel.NS_PER_BYTE + parallel.NS_PER_OP)  # 3 float32 buffers, 1 op
    assert ("GOMP_parallel" in exe.source_ir) == (estimate >= parallel.THRESHOLD_NS)


@pytest.mark.parametrize("sx,sy", [([1000, 301], [301]), ([7, 50_001], [7, 1]), ([3, 5, 40_000], [5, 1])])
def test_broadcasting_nests_split_on_the_outer_dim(sx, sy):
    exe = same_as_serial(chain_fn(sx, sy), [rand(sx), rand(sy, seed=1)])
    assert "GOMP_parallel" in exe.source_ir


def test_more_threads_than_chunks():
    """8 threads over 3 outer rows: most threads get an empty chunk."""
    f = chain_fn([3, 200_000], [200_000])
    args = [rand([3, 200_000]), rand([200_000], seed=1)]
    want = compile_function(f).run(args)
    for a, b in zip(want, compile_function(f, threads=8).run(args)):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("n", [250_007, 1_000_003])
@pytest.mark.parametrize("threads", [2, 3, 8])
def test_dynamic_chunks_cover_odd_sizes(n, threads):
    """Tickets of `chunk_size` elements, the last ragged, each run once whichever thread
    takes it: the same bits as the serial loop, for more threads than cores too."""
    f = chain_fn([n], [n])
    args = [rand([n]), rand([n], seed=1)]
    want = compile_function(f).run(args)
    for a, b in zip(want, compile_function(f, threads=threads).run(args)):
        np.testing.assert_array_equal(a, b)
    per = parallel.chunk_size(n, 64, threads)
    assert per % 64 == 0 and -(-n // per) <= threads * parallel.CHUNKS_PER_THREAD


def test_error_in_a_chunk_fails_the_step():
    n = 600_000
    f = binary_fn("lf.div", [n], [n], I32)
    exe = compile_function(f, threads=2)
    assert "GOMP_parallel" in exe.source_ir
    x, y = np.ones(n, np.int32), np.ones(n, np.int32)
    np.testing.assert_array_equal(exe.run([x, y])[0], x)
    y[n - 5] = 0  # in the last thread's chunk only
    with pytest.raises(NativeError, match="division by zero"):
        exe.run([x, y])


def test_small_kernels_and_aot_modules_stay_serial():
    assert "GOMP" not in compile_function(binary_fn("lf.add", [1000], [1000]), threads=2).source_ir
    assert "GOMP" not in build_llvm_module(binary_fn("lf.add", [1 << 22], [1 << 22]))  # threads=1: AOT


def test_session_compiles_with_intra_op_threads(monkeypatch):
    """ConfigProto.intra_op_parallelism_threads reaches compile_function (0: every core this
    process may run on)."""
    seen = []
    real = compile_cache.compile_function

    def spy(func, **kw):
        seen.append(kw.get("threads"))
        return real(func, **kw)
    monkeypatch.setattr(compile_cache, "compile_function", spy)
    for k, cfg in enumerate([tf.ConfigProto(intra_op_parallelism_threads=1), tf.ConfigProto(),
                             tf.ConfigProto(intra_op_parallelism_threads=2)]):
        with tf.Graph().as_default():
            x = tf.placeholder(tf.float32, [3])
            y = tf.exp(x) * (0.123 + k)  # a graph of its own: no executable to reuse
            with tf.Session(config=cfg) as sess:
                np.testing.assert_allclose(sess.run(y, {x: [0, 1, 2]}), np.exp([0, 1, 2]) * (0.123 + k), rtol=1e-6)
    assert seen == [1, parallel.usable_cores(), 2]


def test_default_threads_follow_the_affinity_mask():
    """A process pinned to one core (taskset, a cpuset) gets one thread by default."""
    if not hasattr(os, "sched_getaffinity"):
        pytest.skip("no sched_getaffinity")
    code = ("import os; from lowerflow.backend import parallel; os.sched_setaffinity(0, [min(os.sched_getaffinity(0))]);"
            "print(parallel.usable_cores())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "1"


def test_congested_machine_runs_forks_alone(monkeypatch):
    """While `lowerflow_serial_until` lies ahead, a fork runs its serial code on the calling
    thread and is not judged: same bits, the flag left as it was."""
    f = chain_fn([7, 50_001], [7, 1])
    args = [rand([7, 50_001]), rand([7, 1], seed=1)]
    want = compile_function(f).run(args)
    exe = compile_function(f, threads=2)
    monkeypatch.setattr(parallel._SERIAL_UNTIL, "value", 1 << 62)
    for a, b in zip(want, exe.run(args)):
        np.testing.assert_array_equal(a, b)
    m, k, n = 97, 777, 2061  # the GEMM's serial panel loops: several K and N panels
    mm = Function("step", [tensor([m, k], F32), tensor([k, n], F32)])
    mm.set_return([build(mm.body, "lf.matmul", list(mm.args), {"transpose_a": False, "transpose_b": False}).result])
    ab = [rand([m, k]), rand([k, n], seed=1)]
    np.testing.assert_array_equal(compile_function(mm, threads=2).run(ab)[0], compile_function(mm).run(ab)[0])
    div = compile_function(binary_fn("lf.div", [600_000], [600_000], I32), threads=2)
    x, y = np.ones(600_000, np.int32), np.ones(600_000, np.int32)
    y[7] = 0
    with pytest.raises(NativeError, match="division by zero"):  # the serial chunk's status
        div.run([x, y])
    assert parallel._SERIAL_UNTIL.value == 1 << 62


def test_paying_regions_halve_the_backoff_once_per_calm_span(monkeypatch):
    """Regions that pay halve the backoff, but no more often than once per CALM_SPAN_NS
    (beside a busy process a team sometimes pays for a whole scheduler slice): the backoff
    seen after each run of a 2-thread kernel for 0.2 s never halves twice within a span.
    Skipped where no region paid (a busy machine)."""
    import time
    exe = compile_function(chain_fn([8, 100_000], [8, 1]), threads=2)
    args = [rand([8, 100_000]), rand([8, 1], seed=1)]
    for name, value in (("_SERIAL_UNTIL", 0), ("_STRUCK", 0), ("_CALM_SINCE", 0),
                        ("_BACKOFF", parallel.MAX_BACKOFF_NS)):
        monkeypatch.setattr(getattr(parallel, name), "value", value)
    halved, deadline = [], time.monotonic_ns() + 200_000_000
    while time.monotonic_ns() < deadline and parallel._SERIAL_UNTIL.value == 0:
        before = parallel._BACKOFF.value
        exe.run(args)
        if parallel._BACKOFF.value < before:
            assert parallel._BACKOFF.value == before // 2
            halved.append(time.monotonic_ns())
    if not halved:
        pytest.skip("no region paid here")
    slack = 2_000_000  # the clock is read after the run, not at its end
    assert all(b - a >= parallel.CALM_SPAN_NS - slack for a, b in zip(halved, halved[1:])), halved
    assert halved[0] - (deadline - 200_000_000) >= parallel.CALM_SPAN_NS - slack, halved


SPIN_SCRIPT = """
import ctypes, os
from lowerflow.backend import parallel
parallel.available()
print(os.environ.get("GOMP_SPINCOUNT"), flush=True)
ctypes.CDLL("libgomp.so.1").omp_display_env(1)  # to stderr
"""


@pytest.mark.parametrize("user", [None, "123"])
def test_spin_count_is_set_only_around_loading_libgomp(user):
    """libgomp takes SPIN_TURNS as it loads (a user's GOMP_SPINCOUNT wins); the variable is
    gone again after, so children do not inherit it."""
    env = {k: v for k, v in os.environ.items() if k not in ("GOMP_SPINCOUNT", "OMP_WAIT_POLICY")}
    if user:
        env["GOMP_SPINCOUNT"] = user
    out = subprocess.run([sys.executable, "-c", SPIN_SCRIPT], env=env, capture_output=True, text=True,
                         timeout=60, check=True)
    assert out.stdout.strip() == str(user)
    assert f"GOMP_SPINCOUNT = '{user or parallel.SPIN_TURNS}'" in out.stderr


FORK_SCRIPT = """
import os, numpy as np
from lowerflow.backend import NATIVE_STATS, compile_function
from lowerflow.ir import ELEM_TYPES, Function, build, tensor
n = 1 << 20
f = Function("step", [tensor([n], ELEM_TYPES["f32"])])
f.set_return([build(f.body, "lf.exp", list(f.args)).result])
exe = compile_function(f, threads=2)
assert "GOMP_parallel" in exe.source_ir
x = np.linspace(-5, 5, n, dtype=np.float32)
want = exe.run([x])[0]  # the parent's libgomp team now exists
pid = os.fork()
if pid == 0:  # libgomp would hang here: the kernel runs on this thread instead
    os._exit(0 if np.array_equal(exe.run([x])[0], want) else 3)
print(os.waitpid(pid, 0)[1], NATIVE_STATS["cache_hits"])
"""


def test_forked_child_runs_parallel_kernels(tmp_path):
    """Twice: the second process loads the object from the disk cache."""
    env = {**os.environ, "LOWERFLOW_CACHE_DIR": str(tmp_path)}
    for hits in ("0", "1"):
        proc = subprocess.run([sys.executable, "-c", FORK_SCRIPT], env=env, capture_output=True, text=True,
                              timeout=120, check=True)
        assert proc.stdout.split() == ["0", hits], proc.stdout + proc.stderr


#: Script lines before the scripts' products: the narrow GEMM takes N = 10 in zmm, on any x86-64.
ZMM = """from lowerflow.backend import compile_function, jit, parallel
jit.host_vector_registers = lambda: 32
"""


IDLE_SCRIPT = """
import os, sys, time, numpy as np
os.sched_setaffinity(0, [min(os.sched_getaffinity(0))])  # one core for a team of two
{ZMM}from lowerflow.ir import ELEM_TYPES, Function, build, tensor
F32 = ELEM_TYPES["f32"]
m, k, n, narrow = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "1"
f = Function("step", [tensor([m, k], F32), tensor([k, n], F32)])
f.set_return([build(f.body, "lf.matmul", list(f.args), {"transpose_a": False, "transpose_b": False}).result])
exe = compile_function(f, threads=2)
assert "GOMP_parallel" in exe.llvm_ir and ("gemm_narrow" in exe.llvm_ir) == narrow
a, b = np.ones((m, k), np.float32), np.ones((k, n), np.float32)
assert parallel._SERIAL_UNTIL.value == 0
for _ in range(10):  # until the forks turn serial: (strike before, serial after, strike after) per run
    struck = parallel._STRUCK.value
    assert (exe.run([a, b])[0] == k).all()
    serial = parallel._SERIAL_UNTIL.value > time.monotonic_ns()
    print(struck, int(serial), parallel._STRUCK.value)
    if serial:
        break
""".replace("{ZMM}", ZMM)


def _runs_until_serial(m: int, k: int, n: int, narrow: int) -> list[tuple[int, int, int]]:
    """IDLE_SCRIPT's runs of an (m, k) x (k, n) GEMM on one core, checked as a sequence:
    none serial but the last, which clears the strike, each starting with the strike its
    predecessor left."""
    if not hasattr(os, "sched_setaffinity") or not parallel.available():
        pytest.skip("no affinity control or no libgomp")
    out = subprocess.run([sys.executable, "-c", IDLE_SCRIPT, str(m), str(k), str(n), str(narrow)],
                         capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode == 0, out.stderr
    runs = [tuple(map(int, line.split())) for line in out.stdout.splitlines()]
    assert runs[0][0] == 0 and runs[-1][1:] == (1, 0), runs
    assert not any(serial for _, serial, _ in runs[:-1]), runs
    assert all(run[0] == previous[2] for previous, run in zip(runs, runs[1:])), runs
    return runs


@pytest.mark.parametrize("m,k,n,narrow", [(4096, 1024, 10, 1), (512, 512, 512, 0)], ids=["narrow", "packed"])
def test_a_gemm_that_waits_for_a_thread_without_a_core_turns_forks_serial(m, k, n, narrow):
    """On one core, a 2-thread GEMM does not pay: the narrow GEMM's caller waits for the other
    thread's whole share (`parallel._judge_idle`), the packed GEMM's caller takes most row
    tickets at the CPU cost of running alone (`parallel._judge_cpu`). A first such region
    only strikes (a late wake-up looks the same); the second in a row makes the next forks
    run serially for a backoff and clears the strike, unless the caller waited LOST_CORE_NS
    for its team (`parallel._collapsed`), which makes them serial at once. (A region may
    still pay when the one core happens to run the other thread's share while the caller
    waits for a core too: the runs are read as a sequence, not counted.)"""
    _runs_until_serial(m, k, n, narrow)


def test_a_region_whose_caller_waits_a_millisecond_turns_forks_serial_at_once():
    """A narrow GEMM whose fixed shares take milliseconds, on one core: the caller waits
    for the other thread's share, LOST_CORE_NS or more, and its region makes the forks
    serial without a first strike: a late wake-up does not last that long, and beside a
    busy process the paying regions that follow such a collapse cleared every strike."""
    assert _runs_until_serial(16384, 1024, 10, 1)[-1] == (0, 1, 0)


SHORT_SCRIPT = """
import os, sys, time, numpy as np
os.sched_setaffinity(0, [min(os.sched_getaffinity(0))])  # one core for a team of two
{ZMM}from lowerflow.ir import ELEM_TYPES, Function, build, tensor
F32 = ELEM_TYPES["f32"]
f = Function("step", [tensor([256, 784], F32), tensor([784, 10], F32)])
f.set_return([build(f.body, "lf.matmul", list(f.args), {"transpose_a": False, "transpose_b": False}).result])
exe = compile_function(f, threads=2)
assert "GOMP_parallel" in exe.llvm_ir and "gemm_narrow" in exe.llvm_ir
a, b = np.ones((256, 784), np.float32), np.ones((784, 10), np.float32)
run, deadline = 0, time.monotonic_ns() + 2_000_000_000  # runs by time: their speed is the host's
while time.monotonic_ns() < deadline:
    assert (exe.run([a, b])[0] == 784).all()
    run += 1
    if parallel._SERIAL_UNTIL.value > time.monotonic_ns():
        print(run, parallel._SLOW_SINCE.value, parallel._STRUCK.value)
        break
""".replace("{ZMM}", ZMM)


def test_a_short_gemm_whose_team_shares_one_core_turns_forks_serial():
    """The logistic-regression step's product (~20 µs) on one core: the caller never waits
    IDLE_NS for the other thread, but its fixed share times two is under PAYS times the
    region, so such regions for SLOW_SPAN_NS strike and for twice that turn forks serial,
    the run's start and the strike cleared (as they are when a region that waited IDLE_NS,
    the scheduler running the other thread late, turns them serial sooner)."""
    if not hasattr(os, "sched_setaffinity"):
        pytest.skip("no affinity control")
    out = subprocess.run([sys.executable, "-c", SHORT_SCRIPT], capture_output=True, text=True, timeout=120,
                         check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split(), "the forks never turned serial"
    _, slow, struck = map(int, out.stdout.split())
    assert (slow, struck) == (0, 0), out.stdout


#: A script's start: the 2-thread narrow GEMM of the logistic-regression step, `exe`, on
#: operands of ones, `a` and `b`.
NARROW_PRODUCT = """
import os, threading, numpy as np
{ZMM}from lowerflow.ir import ELEM_TYPES, Function, build, tensor
F32 = ELEM_TYPES["f32"]
f = Function("step", [tensor([256, 784], F32), tensor([784, 10], F32)])
f.set_return([build(f.body, "lf.matmul", list(f.args), {"transpose_a": False, "transpose_b": False}).result])
exe = compile_function(f, threads=2)
a, b = np.ones((256, 784), np.float32), np.ones((784, 10), np.float32)
""".replace("{ZMM}", ZMM)
MOVE_SCRIPT = NARROW_PRODUCT + """
assert (exe.run([a, b])[0] == 784).all()  # the team exists
cpus = sorted(os.sched_getaffinity(0))
others = [int(t) for t in os.listdir("/proc/self/task") if int(t) != threading.get_native_id()]
for t in [0] + others:  # the caller and the team (and any other thread) on one CPU
    os.sched_setaffinity(t, cpus[:1])
assert (exe.run([a, b])[0] == 784).all()
print(sum(sorted(os.sched_getaffinity(t)) == cpus for t in others), parallel._STAY_UNTIL.value)
"""


def test_a_team_thread_on_the_callers_cpu_moves_off_for_the_region():
    """Pinned beside the caller, the team thread finds itself on the caller's CPU at the
    region's start, moves to the other CPUs for its share and may run anywhere again after
    it (`parallel._leave_callers_cpu`, `_rejoin_cpus`): its affinity is the whole mask."""
    if not hasattr(os, "sched_setaffinity") or len(os.sched_getaffinity(0)) < 2:
        pytest.skip("needs affinity control and two CPUs")
    out = subprocess.run([sys.executable, "-c", MOVE_SCRIPT], capture_output=True, text=True, timeout=120,
                         check=False)
    assert out.returncode == 0, out.stderr
    rejoined, _ = map(int, out.stdout.split())
    assert rejoined == 1, out.stdout


EXIT_SCRIPT = NARROW_PRODUCT + """
for _ in range(20):
    assert (exe.run([a, b])[0] == 784).all()
print("ok")
"""


def test_exit_while_the_team_spins():
    """With OMP_WAIT_POLICY=active the team still spins when the process exits: libgomp
    must stay mapped after LLVM closes its own library handles (`jit.load_library`), or
    the exit crashed with SIGSEGV."""
    env = {**os.environ, "OMP_WAIT_POLICY": "active"}
    for _ in range(3):
        out = subprocess.run([sys.executable, "-c", EXIT_SCRIPT], capture_output=True, text=True, timeout=120,
                             check=False, env=env)
        assert (out.returncode, out.stdout.strip()) == (0, "ok"), out.stderr


def test_bound_team_threads_stay_where_libgomp_put_them(monkeypatch):
    """With the user binding libgomp's threads (OMP_PROC_BIND and the like) no thread is
    moved: the mask to move to is empty."""
    monkeypatch.setenv("OMP_PROC_BIND", "true")
    assert parallel._movable_cpus() == set()
    monkeypatch.delenv("OMP_PROC_BIND")
    if hasattr(os, "sched_getaffinity"):
        assert parallel._movable_cpus() == set(os.sched_getaffinity(0))
