"""What this machine is, and what it can do, measured in the same run as the workloads.

The limits give the workloads' numbers a scale: a memory-bound chain can at best approach
copy bandwidth, a matmul the BLAS sgemm rate, a tiny run the cost of one foreign call.
Bandwidth counts bytes read plus bytes written, as the workloads' GB/s do (a copy of
64 MiB moves 128 MiB). The host is a shared VM: compare ratios from one run, not absolute
numbers across runs.

The sgemm rate is a reference sampled like the workloads: `_sampled_time` takes calibrated
~50 ms samples with `harness.settle()` before each, as the rows are timed, not single calls
back to back (OpenBLAS's threads stay spinning between those, a state no row sees). Rows
with a GFLOP/s figure also sample `sgemm_step` in their own rotation (`harness.run_workload`
with `reference`), so their "% of sgemm" compares medians from the same minutes: the
start-of-run figure alone drifted by ±25% against the rows' own numpy sgemm (1024^3 matmul,
89% of it in one quiet run and 119% in another while numpy÷lowerflow moved 1.15 to 1.12).
"""
from __future__ import annotations

import ctypes
import datetime
import os
import platform
import statistics
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

OPENBLAS_ENV = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def _cpuinfo() -> dict[str, str]:
    info: dict[str, str] = {}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            info.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    return info


def _memory() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 2**20:.1f} GiB"
    except OSError:
        pass
    return "?"


def _caches() -> str:
    """L1d/L2/L3 sizes of cpu0 from sysfs (what a kernel's blocking has to fit)."""
    sizes = []
    for d in sorted(Path("/sys/devices/system/cpu/cpu0/cache").glob("index*")):
        try:
            kind = (d / "type").read_text().strip()
            if kind != "Instruction":
                sizes.append(f"L{(d / 'level').read_text().strip()} {(d / 'size').read_text().strip()}")
        except OSError:
            continue
    return ", ".join(sizes) or "?"


def _llvm_cpu() -> str:
    try:
        import llvmlite.binding as llvm
        llvm.initialize_native_target()
        return llvm.get_host_cpu_name()
    except Exception:  # noqa: BLE001  only for the description
        return "?"


def _lowerflow_version() -> str:
    """Package version plus the git commit of the code actually imported (and whether it has
    uncommitted changes): numbers are only reproducible against a known tree."""
    from importlib.metadata import version

    import lowerflow
    text = version("lowerflow")
    root = Path(lowerflow.__file__).resolve().parent.parent
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
                                check=False, capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               check=False, capture_output=True, text=True, timeout=10).stdout.strip()
        if commit:
            text += f" (git {commit}{', uncommitted changes' if dirty else ''})"
    except (OSError, subprocess.SubprocessError):
        pass
    return text


def _llvmlite_version() -> str:
    try:
        import llvmlite
        import llvmlite.binding as llvm
        return f"{llvmlite.__version__} (LLVM {'.'.join(map(str, llvm.llvm_version_info))})"
    except Exception:  # noqa: BLE001  only for the description
        return "?"


def describe() -> dict[str, str]:
    """The machine and software the numbers belong to."""
    cpu = _cpuinfo()
    blas = blas_info()
    openblas_env = ", ".join(f"{k}={os.environ[k]}" for k in OPENBLAS_ENV if k in os.environ)
    return {
        "date": datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "cpu": f"{cpu.get('model name', platform.processor() or '?')} (family {cpu.get('cpu family', '?')}, "
               f"model {cpu.get('model', '?')}; LLVM host cpu {_llvm_cpu()}), {os.cpu_count()} cores, "
               f"{_caches()}",
        "memory": _memory(),
        "python": platform.python_version(),
        "numpy": f"{np.__version__}, BLAS: {blas}",
        "lowerflow": _lowerflow_version(),
        "llvmlite": _llvmlite_version(),
        "openblas env": openblas_env or "OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE unset",
    }


def blas_info() -> str:
    """numpy's BLAS library, kernel and thread count, via threadpoolctl when installed."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "? (threadpoolctl not installed)"
    pools = [p for p in threadpool_info() if p.get("user_api") == "blas"]
    return "; ".join(f"{p.get('internal_api')} {p.get('version')} {p.get('architecture', '')} kernel, "
                     f"{p.get('num_threads')} threads" for p in pools) or "?"


@dataclass
class Limits:
    copy_gbs: float       # np.copyto, bytes read + written per second / 1e9
    copy_mib: int
    sgemm_gflops: float   # np.dot on float32 n^3, the BLAS's own threading
    sgemm_1t_gflops: float | None  # the same limited to 1 thread (None without threadpoolctl)
    sgemm_n: int
    ctypes_us: float      # one bare ctypes call of a C function (labs)


def _median_time(fn, reps: int, inner: int = 1) -> float:
    fn()  # warm: page faults, BLAS thread start-up
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        for _ in range(inner):
            fn()
        times.append((time.perf_counter() - start) / inner)
    return statistics.median(times)


def sgemm_n(quick: bool) -> int:
    """The reference sgemm's size: 1024^3 (128^3 for --quick)."""
    return 128 if quick else 1024


def sgemm_step(n: int):
    """One OpenBLAS float32 n^3 product (`np.dot`, the BLAS's own threading)."""
    a = np.random.default_rng(0).random((n, n), np.float32)
    b = np.random.default_rng(1).random((n, n), np.float32)
    return lambda: np.dot(a, b)


def _sampled_time(step, reps: int, quick: bool) -> float:
    """Median seconds per `step` over `reps` samples taken as the harness takes a row's."""
    from bench import harness

    step()
    k = harness._calibrate(step, 0.002 if quick else 0.05)
    samples = []
    for _ in range(reps):
        harness.settle()
        samples.append(harness._timed(step, k))
    return statistics.median(samples)


def _copy_time(mib: int, reps: int) -> float:
    src = np.ones(mib << 18, np.float32)
    dst = np.zeros_like(src)  # written once by the warm-up, so no page faults are timed
    return _median_time(lambda: np.copyto(dst, src), reps)


def measure(reps: int, quick: bool = False) -> Limits:
    """Copy bandwidth, sgemm rate (at the default thread count and at 1 thread), bare call cost."""
    mib = 4 if quick else 64
    copy = _copy_time(mib, reps)

    n = sgemm_n(quick)
    step = sgemm_step(n)
    gemm = _sampled_time(step, reps, quick)
    gemm_1t = None
    try:
        from threadpoolctl import threadpool_limits
        with threadpool_limits(1, user_api="blas"):
            gemm_1t = _sampled_time(step, reps, quick)
    except ImportError:
        pass

    labs = ctypes.CDLL(None).labs
    labs.argtypes, labs.restype = [ctypes.c_long], ctypes.c_long
    call = _median_time(lambda: labs(-1), reps, inner=2000 if quick else 100_000)

    flops = 2 * n ** 3
    return Limits(copy_gbs=2 * (mib << 20) / copy / 1e9, copy_mib=mib, sgemm_gflops=flops / gemm / 1e9,
                  sgemm_1t_gflops=flops / gemm_1t / 1e9 if gemm_1t else None, sgemm_n=n,
                  ctypes_us=call * 1e6)


class CpuLoad:
    """How busy the machine was with other processes while the suite ran.

    This 2-core machine is shared (other sessions run tests on it), and a benchmark cannot
    stop that; it can say how much there was: machine-wide busy CPU time from /proc/stat
    minus this process's own (and its waited-for children's), per second of wall time.
    """

    def __init__(self):
        self._start = self._read()

    @staticmethod
    def _read() -> tuple[float, float, float] | None:
        try:
            fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        except (OSError, ValueError):
            return None
        idle = fields[3] + fields[4] + (fields[7] if len(fields) > 7 else 0)  # idle, iowait, steal
        busy = (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")
        t = os.times()
        return busy, t.user + t.system + t.children_user + t.children_system, time.perf_counter()

    def others(self) -> str:
        end = self._read()
        if self._start is None or end is None:
            return "?"
        (busy0, own0, t0), (busy1, own1, t1) = self._start, end
        cores = max(0.0, (busy1 - busy0) - (own1 - own0)) / (t1 - t0)
        return f"{cores:.2f} of {os.cpu_count()} cores busy with other processes on average"
