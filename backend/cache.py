"""On-disk cache of compiled objects, so a second process compiles nothing.

Compiling costs ~20 ms per small kernel and seconds for large steps (O3 + codegen); loading an object into MCJIT costs ~2.5 ms. An entry is keyed by
the sha256 of everything the object depends on: the SSA IR after the passes with the
thread count and the source of the compiler itself (`COMPILER_FINGERPRINT`), the optimisation
pipeline and TargetMachine settings, the llvmlite and LLVM versions, and the host CPU
name and features (an object for this CPU may use instructions another lacks).
cf. numba's `cache=True` index files and ccache's content-addressed objects.

Location: `$LOWERFLOW_CACHE_DIR`, else `~/.cache/lowerflow`; `LOWERFLOW_CACHE_DIR=""` or
`off` disables it. One file per key, `<key>.lfo`:

    magic (8 bytes) | key (32) | sha256 of payload (32) | payload length (8, little endian)
    payload = external symbol names, '\\n'-joined | NUL | source length (8, little endian)
              | source | object bytes

The source is the LLVM IR the object was compiled from, zlib-compressed (empty for AOT
objects): an executable loaded from here prints it when asked without keeping the SSA IR
alive to build it again (`executable.py`).

Writes are atomic (temporary file + `os.replace`), so readers see a whole entry or none,
even with concurrent writers. An entry that is truncated, corrupted, for another key
(bad header or checksum) or unreadable is a miss, and the caller's fresh compile
overwrites it; cache trouble never fails a compile.

An entry is native code this process will run, so it is trusted only as far as the user:
the directory is created private (0700), and only regular files owned by the current user
are read (opened with O_NONBLOCK | O_NOFOLLOW and checked with fstat, so a FIFO, device or
symlink in an entry's place is a miss, never a hang). Temporary files that a killed writer
left behind are removed once older than `STALE_TMP_SECONDS`.

Size: a hit marks its entry used (its mtime); when the folder holds more than
`$LOWERFLOW_CACHE_MAX_MB` (default 1024) of entries, the least recently used ones are
removed until it holds three quarters of that (cf. ccache's max_size cleanup). Finding out
lists and stats every entry (and sweeps the temporaries), so a process does it at its first
store into a folder and then once per `scan_every` bytes it stored there (an eighth of the
limit, at most `SCAN_EVERY_MB`): a scan at every store made n compiles cost O(n^2) (the
soak's 10,000 signatures went from 26 to 80 s per thousand). The folder can exceed the
limit by what this process stored since its last scan, at most an eighth of it.
"""
from __future__ import annotations

import hashlib
import os
import stat
import struct
import time
import tempfile
from dataclasses import dataclass
from pathlib import Path

import llvmlite
import llvmlite.binding as llvm

import lowerflow.ir as ir_package
from lowerflow.backend import jit

MAGIC = b"LFOBJ\x00\x03\n"  # the last bytes are the format version: bump on any layout change
DEFAULT_MAX_MB = 1024
STALE_TMP_SECONDS = 600  # no write takes this long: an older temporary file is an orphan
SCAN_EVERY_MB = 32
#: bytes this process stored into each folder since it last scanned it (`store`); threads
#: race on it harmlessly: they only move the next scan a little
_unscanned: dict[Path, int] = {}


def _compiler_fingerprint() -> str:
    """sha256 of the source of lowerflow.ir and lowerflow.backend: entries are keyed by the
    SSA IR, so any change to how ops mean or lower must change the key too."""
    h = hashlib.sha256()
    for root in (Path(__file__).parent, Path(ir_package.__file__).parent):
        for path in sorted(root.rglob("*.py")):
            h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


COMPILER_FINGERPRINT = _compiler_fingerprint()
_HEADER = struct.Struct("<8s32s32sQ")


@dataclass(frozen=True)
class Entry:
    """A cached compile: the object, the symbols it needs from the process, and the
    zlib-compressed LLVM IR it was compiled from (b"" when not kept)."""

    obj: bytes
    externals: list[str]
    source: bytes = b""


def cache_dir() -> Path | None:
    """The cache directory, or None when disabled (read per call: tests switch it)."""
    where = os.environ.get("LOWERFLOW_CACHE_DIR")
    if where is None:
        return Path.home() / ".cache" / "lowerflow"
    return None if where.strip().lower() in ("", "off") else Path(where)


def cache_key(text: str) -> str:
    """Hex sha256 of `text` (what the object is compiled from) and everything else it
    depends on."""
    cpu, features = jit.host_cpu()
    context = [MAGIC.hex(), llvmlite.__version__, ".".join(map(str, llvm.llvm_version_info)),
               cpu, features, repr(sorted(jit.PIPELINE.items())), repr(sorted(jit.JIT_TM.items()))]
    h = hashlib.sha256()
    for part in context:
        h.update(part.encode() + b"\0")
    h.update(text.encode())
    return h.hexdigest()


def _path(directory: Path, key: str) -> Path:
    return directory / f"{key}.lfo"


def load(key: str) -> Entry | None:
    """The valid entry for `key`, or None (disabled, absent, or damaged in any way)."""
    directory = cache_dir()
    if directory is None:
        return None
    path = _path(directory, key)
    data = _read_own_regular_file(path)
    if data is None or len(data) < _HEADER.size:
        return None
    magic, stored_key, digest, length = _HEADER.unpack_from(data)
    payload = data[_HEADER.size:]
    if (magic != MAGIC or stored_key != bytes.fromhex(key) or length != len(payload)
            or hashlib.sha256(payload).digest() != digest):
        return None
    names, sep, rest = payload.partition(b"\0")
    n = int.from_bytes(rest[:8], "little")
    source, obj = rest[8:8 + n], rest[8 + n:]
    if not sep or len(rest) < 8 or len(source) != n or not obj:
        return None
    try:
        os.utime(path)  # used now: eviction removes the least recently used entries first
    except OSError:
        pass
    return Entry(obj, names.decode().split("\n") if names else [], source)


def _read_own_regular_file(path: Path) -> bytes | None:
    """The bytes of `path` if it is a regular file of this user (else None, without blocking)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_uid != os.getuid():
            return None
        with os.fdopen(fd, "rb", closefd=False) as f:
            return f.read()
    except OSError:
        return None
    finally:
        os.close(fd)


def store(key: str, entry: Entry) -> None:
    """Write `entry` for `key` atomically; errors (read-only disk, full disk) are ignored."""
    directory = cache_dir()
    if directory is None:
        return
    payload = b"".join(["\n".join(entry.externals).encode(), b"\0", len(entry.source).to_bytes(8, "little"),
                        entry.source, entry.obj])
    blob = _HEADER.pack(MAGIC, bytes.fromhex(key), hashlib.sha256(payload).digest(), len(payload)) + payload
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{key[:16]}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(blob)
            os.replace(tmp, _path(directory, key))
        except BaseException:
            os.unlink(tmp)
            raise
        limit, stored = max_bytes(), _unscanned.get(directory)
        if stored is None or stored + len(blob) >= scan_every(limit):
            sweep_temporaries(directory)
            evict(directory, limit)
            _unscanned[directory] = 0
        else:
            _unscanned[directory] = stored + len(blob)
    except OSError:
        pass


def scan_every(limit: float) -> float:
    """Bytes stored between two scans of a folder of size limit `limit` (module docstring)."""
    return min(SCAN_EVERY_MB * 2**20, limit / 8)


def sweep_temporaries(directory: Path, older_than: float = STALE_TMP_SECONDS) -> None:
    """Remove temporary files of writers that died before renaming them into place."""
    deadline = time.time() - older_than
    for path in directory.glob(".*.tmp"):
        try:
            if path.lstat().st_mtime < deadline:
                path.unlink()
        except OSError:
            continue  # renamed or removed meanwhile


def max_bytes() -> float:
    """The size the cache may grow to: `$LOWERFLOW_CACHE_MAX_MB` MiB (default 1024; `inf`:
    no limit; anything unreadable: the default)."""
    try:
        mb = float(os.environ.get("LOWERFLOW_CACHE_MAX_MB", DEFAULT_MAX_MB))
    except ValueError:
        mb = float("nan")
    return mb * 2**20 if mb >= 0 else DEFAULT_MAX_MB * 2**20  # NaN compares false


def evict(directory: Path, limit: float) -> None:
    """If the entries in `directory` exceed `limit` bytes, remove the least recently used
    until they fit in three quarters of it (entries another process removes first are skipped)."""
    entries = []
    for path in directory.glob("*.lfo"):
        try:
            st = path.stat()
        except OSError:
            continue
        entries.append((st.st_mtime, st.st_size, path))
    total = sum(size for _, size, _ in entries)
    if total <= limit:
        return
    limit = int(limit)
    for _, size, path in sorted(entries, key=lambda e: e[0]):
        if total <= limit * 3 // 4:
            break
        try:
            path.unlink()
        except FileNotFoundError:
            pass  # another process removed it: gone all the same
        except OSError:
            continue
        total -= size
