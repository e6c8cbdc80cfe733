"""backend/cache.py: compiled objects on disk, shared between processes, robust to damage."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from test_structure import binary_fn, rand

from lowerflow.backend import NATIVE_STATS, build_llvm_module, cache, compile_function
from lowerflow.backend.executable import cache_text
from lowerflow.ir import Function

SCRIPT = """
import json, numpy as np, lowerflow as tf
from lowerflow.backend import NATIVE_STATS
x = tf.placeholder(tf.float32, [5])
y = tf.tanh(x) * 2.0 + tf.exp(x)
with tf.Session() as sess:
    out = sess.run(y, {x: np.arange(5, dtype=np.float32)})
print(json.dumps({"out": out.tolist(), **NATIVE_STATS}))
"""


def run_child(cache_dir: str) -> dict:
    env = {**os.environ, "LOWERFLOW_CACHE_DIR": cache_dir}
    proc = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_second_process_compiles_nothing(tmp_path):
    first, second = run_child(str(tmp_path)), run_child(str(tmp_path))
    assert first["compiles"] >= 1 and first["cache_hits"] == 0
    assert second["compiles"] == 0 and second["cache_hits"] == first["compiles"]
    assert second["out"] == first["out"]
    assert len(list(tmp_path.glob("*.lfo"))) == first["compiles"]
    assert not list(tmp_path.glob("*.tmp")), "temporary files are renamed into place"


@pytest.mark.parametrize("off", ["", "off", "OFF"])
def test_disabled(tmp_path, monkeypatch, off):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LOWERFLOW_CACHE_DIR", off)
    assert cache.cache_dir() is None
    f = binary_fn("lf.sub", [4], [4])
    before = NATIVE_STATS["compiles"]
    compile_function(f)
    compile_function(f)
    assert NATIVE_STATS["compiles"] == before + 2
    assert not list(tmp_path.iterdir())


def test_default_location(monkeypatch):
    monkeypatch.delenv("LOWERFLOW_CACHE_DIR")
    assert cache.cache_dir() == Path.home() / ".cache" / "lowerflow"


def _damage(path: Path, how: str, other: Path) -> None:
    data = path.read_bytes()
    if how == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif how == "empty":
        path.write_bytes(b"")
    elif how == "flipped":  # one bit of the object: the checksum no longer matches
        path.write_bytes(data[:-100] + bytes([data[-100] ^ 1]) + data[-99:])
    elif how == "bad_magic":
        path.write_bytes(b"XXXXXXXX" + data[8:])
    elif how == "other_key":  # a valid entry of another key, renamed
        path.write_bytes(other.read_bytes())
    elif how == "directory":
        path.unlink()
        path.mkdir()


@pytest.mark.parametrize("how", ["truncated", "empty", "flipped", "bad_magic", "other_key", "directory"])
def test_damaged_entries_are_recompiled_and_rewritten(tmp_path, monkeypatch, how):
    monkeypatch.setenv("LOWERFLOW_CACHE_DIR", str(tmp_path))
    f, g = binary_fn("lf.mul", [3, 4], [4]), binary_fn("lf.add", [2], [2])
    args = [rand([3, 4]), rand([4], seed=1)]
    want = compile_function(f).run(args)[0]
    compile_function(g)
    key = cache.cache_key(cache_text(f))
    path = tmp_path / f"{key}.lfo"
    _damage(path, how, tmp_path / f"{cache.cache_key(cache_text(g))}.lfo")
    assert cache.load(key) is None
    before = dict(NATIVE_STATS)
    got = compile_function(f).run(args)[0]
    np.testing.assert_array_equal(got, want)
    assert NATIVE_STATS["compiles"] == before["compiles"] + 1
    assert NATIVE_STATS["cache_hits"] == before["cache_hits"]
    if how != "directory":  # a directory in the way cannot be replaced: just no caching
        assert cache.load(key) is not None
        assert NATIVE_STATS["cache_hits"] == before["cache_hits"]


def test_hit_has_the_same_code_and_ir(tmp_path, monkeypatch):
    monkeypatch.setenv("LOWERFLOW_CACHE_DIR", str(tmp_path))
    f = binary_fn("lf.div", [64], [64])
    fresh = compile_function(f)
    hits = NATIVE_STATS["cache_hits"]
    loaded = compile_function(f)
    assert NATIVE_STATS["cache_hits"] == hits + 1
    args = [rand([64]), rand([64], seed=1)]
    np.testing.assert_array_equal(fresh.run(args)[0], loaded.run(args)[0])
    # the source comes from the entry (compressed), so the hit keeps no IR alive to build it
    cells = [c.cell_contents for c in loaded._source_ir.__closure__ or ()]
    assert not any(isinstance(c, Function) for c in cells)
    assert loaded.source_ir == fresh.source_ir
    assert loaded.llvm_ir == fresh.llvm_ir  # re-derived on demand


def test_unwritable_directory(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("LOWERFLOW_CACHE_DIR", str(blocker / "cache"))
    (out,) = compile_function(binary_fn("lf.add", [2], [2])).run([np.ones(2, np.float32)] * 2)
    assert out.tolist() == [2, 2]


def test_key_covers_ir_and_cpu(monkeypatch):
    text = build_llvm_module(binary_fn("lf.add", [2], [2]))
    key = cache.cache_key(text)
    assert key == cache.cache_key(text) and len(key) == 64
    assert key != cache.cache_key(text + "\n")
    monkeypatch.setattr(cache.jit, "host_cpu", lambda: ("x86-64-v3", ""))
    assert key != cache.cache_key(text)


def test_least_recently_used_entries_are_evicted_over_the_limit(tmp_path, monkeypatch):
    """Five 1 KiB entries with a 4 KiB limit: the store that crosses it removes the oldest
    until three quarters remain; an entry read (a hit) counts as recently used."""
    monkeypatch.setenv("LOWERFLOW_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("LOWERFLOW_CACHE_MAX_MB", str(4 / 1024 + 0.0005))
    keys = [f"{i:064x}" for i in range(5)]
    for i, key in enumerate(keys[:4]):
        cache.store(key, cache.Entry(bytes(1000), []))
        os.utime(tmp_path / f"{key}.lfo", (1000 + i, 1000 + i))
    assert cache.load(keys[0]) is not None  # now the most recently used
    cache.store(keys[4], cache.Entry(bytes(1000), []))
    left = sorted(p.stem for p in tmp_path.glob("*.lfo"))
    assert left == sorted([keys[0], keys[3], keys[4]])
    assert cache.load(keys[1]) is None and cache.load(keys[3]) is not None


def test_a_process_scans_the_folder_at_its_first_store_then_per_eighth_of_the_limit(tmp_path, monkeypatch):
    """Listing every entry at every store made n compiles O(n^2): 20 stores of ~1 KiB under a
    64 KiB limit (scans every 8 KiB) scan at the first and then every eighth store; an old
    temporary file is swept at the first."""
    monkeypatch.setenv("LOWERFLOW_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("LOWERFLOW_CACHE_MAX_MB", str(64 / 1024))
    scans = []
    monkeypatch.setattr(cache, "evict", lambda directory, limit: scans.append(len(list(directory.glob("*.lfo")))))
    old = tmp_path / ".0123456789abcdef.dead.tmp"
    old.write_bytes(b"partial")
    past = os.stat(old).st_mtime - cache.STALE_TMP_SECONDS - 60
    os.utime(old, (past, past))
    for i in range(20):
        cache.store(f"{i:064x}", cache.Entry(bytes(1000), []))
        if i == 0:
            assert not old.exists()
    assert scans == [1, 9, 17]  # entries in the folder at each scan: the first store, then every ~8 KiB
    assert len(list(tmp_path.glob("*.lfo"))) == 20


@pytest.mark.parametrize("value, expected", [("inf", float("inf")), ("nan", 1024 * 2**20), ("-3", 1024 * 2**20),
                                             ("junk", 1024 * 2**20), ("0.5", 2**19)])
def test_cache_limit_setting_never_fails(monkeypatch, value, expected):
    monkeypatch.setenv("LOWERFLOW_CACHE_MAX_MB", value)
    assert cache.max_bytes() == expected


def _entry_path(directory: Path, func) -> Path:
    return directory / f"{cache.cache_key(cache_text(func))}.lfo"


def test_a_fifo_or_symlink_in_place_of_an_entry_is_a_miss(tmp_path, monkeypatch):
    """Opening a FIFO for reading blocks until a writer comes: entries are opened
    non-blocking and read only when they are regular files (never through a symlink)."""
    monkeypatch.setenv("LOWERFLOW_CACHE_DIR", str(tmp_path))
    f, g = binary_fn("lf.sub", [3], [3]), binary_fn("lf.mul", [5], [5])
    compile_function(g)
    fifo, link = _entry_path(tmp_path, f), _entry_path(tmp_path, g)
    os.mkfifo(fifo)
    assert cache.load(fifo.stem) is None
    args = [rand([3]), rand([3], seed=2)]
    np.testing.assert_allclose(compile_function(f).run(args)[0], args[0] - args[1])
    assert fifo.is_file() and cache.load(fifo.stem) is not None  # the compile replaced it
    real = tmp_path / "elsewhere.bin"
    os.replace(link, real)
    link.symlink_to(real)
    assert cache.load(link.stem) is None


def test_directory_is_private_and_foreign_entries_are_ignored(tmp_path, monkeypatch):
    where = tmp_path / "new" / "cache"
    monkeypatch.setenv("LOWERFLOW_CACHE_DIR", str(where))
    f = binary_fn("lf.max", [4], [4])
    compile_function(f)
    assert where.stat().st_mode & 0o777 == 0o700
    key = _entry_path(where, f).stem
    assert cache.load(key) is not None
    real_uid = os.getuid()
    monkeypatch.setattr(os, "getuid", lambda: real_uid + 1)  # the entry now belongs to someone else
    assert cache.load(key) is None


def test_orphaned_temporary_files_are_swept(tmp_path, monkeypatch):
    monkeypatch.setenv("LOWERFLOW_CACHE_DIR", str(tmp_path))
    old, fresh = tmp_path / ".0123456789abcdef.dead.tmp", tmp_path / ".0123456789abcdef.live.tmp"
    old.write_bytes(b"partial")
    fresh.write_bytes(b"being written")
    past = os.stat(old).st_mtime - cache.STALE_TMP_SECONDS - 60
    os.utime(old, (past, past))
    compile_function(binary_fn("lf.min", [6], [6]))
    assert not old.exists() and fresh.exists()


def test_two_processes_filling_one_entry_concurrently(tmp_path):
    env = {**os.environ, "LOWERFLOW_CACHE_DIR": str(tmp_path)}
    procs = [subprocess.Popen([sys.executable, "-c", SCRIPT], env=env, stdout=subprocess.PIPE, text=True)
             for _ in range(2)]
    outs = [json.loads(p.communicate(timeout=300)[0].strip().splitlines()[-1]) for p in procs]
    assert all(p.returncode == 0 for p in procs)
    want = (np.tanh(np.arange(5)) * 2 + np.exp(np.arange(5))).tolist()
    for out in outs:
        np.testing.assert_allclose(out["out"], want, rtol=1e-6)
    assert not list(tmp_path.glob("*.tmp"))
    third = run_child(str(tmp_path))
    assert third["compiles"] == 0 and third["cache_hits"] >= 1 and third["out"] == outs[0]["out"]
