"""TensorFlow's V2 checkpoint format (a tensor bundle), read and written without TensorFlow.

A checkpoint `PREFIX` is two files (cf. TF's util/tensor_bundle/tensor_bundle.cc):
- `PREFIX.data-00000-of-00001`: the tensors' bytes, little-endian, one after another;
- `PREFIX.index`: a sorted string table (LevelDB's format, cf. TF's lib/io/table*.cc) whose
  key "" holds a `BundleHeaderProto` and each tensor's name a `BundleEntryProto` (dtype,
  shape, offset and size in the data file, masked crc32c of its bytes).
A table is data blocks of prefix-compressed entries with restart points, an empty
metaindex block, an index block (the last key of each data block and its handle), then a
48-byte footer with both handles and the magic number; every block ends in a compression
byte (0: none) and the masked crc32c of the block and that byte.
"""
from __future__ import annotations

import os
import struct

import google_crc32c
import numpy as np

from lowerflow.frontend import protos, tf_values
from lowerflow.runtime import errors

MAGIC = 0xDB4775248B80FB57
DATA_SUFFIX = ".data-00000-of-00001"
INDEX_SUFFIX = ".index"
_RESTART_INTERVAL = 16


class CorruptCheckpointError(ValueError):
    """The files are not a readable V2 checkpoint (the caller reports TF's DataLossError)."""


def masked_crc32c(data: bytes) -> int:
    """LevelDB's masked crc32c, so a crc stored in data checks as data itself."""
    crc = google_crc32c.value(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def _unmask(masked: int) -> int:
    rot = (masked - 0xA282EAD8) & 0xFFFFFFFF
    return ((rot >> 17) | (rot << 15)) & 0xFFFFFFFF


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _read_varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(buf):
            raise CorruptCheckpointError("truncated varint in checkpoint index")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


# ---- the sorted string table ------------------------------------------------------------------

def _block(entries: list[tuple[bytes, bytes]]) -> bytes:
    """One block: entries sharing key prefixes with the previous one, restarts every 16."""
    out, restarts, last = bytearray(), [], b""
    for i, (key, value) in enumerate(entries):
        shared = 0
        if i % _RESTART_INTERVAL == 0:
            restarts.append(len(out))
        else:
            while shared < min(len(key), len(last)) and key[shared] == last[shared]:
                shared += 1
        out += _varint(shared) + _varint(len(key) - shared) + _varint(len(value)) + key[shared:] + value
        last = key
    restarts = restarts or [0]
    out += b"".join(struct.pack("<I", r) for r in restarts) + struct.pack("<I", len(restarts))
    return bytes(out)


def _with_trailer(block: bytes) -> bytes:
    return block + b"\x00" + struct.pack("<I", masked_crc32c(block + b"\x00"))


def write_table(entries: list[tuple[bytes, bytes]]) -> bytes:
    """A table holding `entries` (sorted by key) in one data block."""
    data = _block(entries)
    meta_offset = len(data) + 5
    meta = _block([])
    index_offset = meta_offset + len(meta) + 5
    last_key = entries[-1][0] if entries else b""
    index = _block([(last_key, _varint(0) + _varint(len(data)))])
    handles = _varint(meta_offset) + _varint(len(meta)) + _varint(index_offset) + _varint(len(index))
    footer = handles.ljust(40, b"\x00") + struct.pack("<Q", MAGIC)
    return _with_trailer(data) + _with_trailer(meta) + _with_trailer(index) + footer


def _entries(block: bytes) -> list[tuple[bytes, bytes]]:
    if len(block) < 4:
        raise CorruptCheckpointError("checkpoint index block too short")
    (count,) = struct.unpack_from("<I", block, len(block) - 4)
    end, pos, key, out = len(block) - 4 - 4 * count, 0, b"", []
    while pos < end:
        shared, pos = _read_varint(block, pos)
        unshared, pos = _read_varint(block, pos)
        size, pos = _read_varint(block, pos)
        key = key[:shared] + block[pos:pos + unshared]
        pos += unshared
        out.append((key, block[pos:pos + size]))
        pos += size
    return out


def _handle(buf: bytes, pos: int) -> tuple[int, int, int]:
    """A BlockHandle (offset, size) at `pos`, and the position after it."""
    offset, pos = _read_varint(buf, pos)
    size, pos = _read_varint(buf, pos)
    return offset, size, pos


def _checked_block(buf: bytes, offset: int, size: int) -> bytes:
    end = offset + size
    if end + 5 > len(buf):
        raise CorruptCheckpointError("checkpoint index block out of range")
    (crc,) = struct.unpack_from("<I", buf, end + 1)
    if masked_crc32c(buf[offset:end + 1]) != crc:
        raise CorruptCheckpointError("checksum mismatch in checkpoint index")
    if buf[end] != 0:
        raise CorruptCheckpointError(f"compressed checkpoint index blocks (type {buf[end]}) are not supported")
    return buf[offset:end]


def read_table(buf: bytes) -> list[tuple[bytes, bytes]]:
    """Every (key, value) of a table, in key order."""
    if len(buf) < 48 or struct.unpack_from("<Q", buf, len(buf) - 8)[0] != MAGIC:
        raise CorruptCheckpointError("not a checkpoint index (bad magic number)")
    footer = buf[len(buf) - 48:]
    _, _, pos = _handle(footer, 0)  # the metaindex block: empty in checkpoints
    offset, size, _ = _handle(footer, pos)
    out = []
    for _, handle in _entries(_checked_block(buf, offset, size)):
        offset, size, _ = _handle(handle, 0)
        out += _entries(_checked_block(buf, offset, size))
    return out


# ---- the bundle -------------------------------------------------------------------------------

def write_bundle(prefix: str, tensors: dict[str, np.ndarray]) -> None:
    """Write `tensors` (name -> array) as checkpoint `prefix`; each file replaced atomically."""
    header = protos.BundleHeaderProto(num_shards=1, endianness=0)
    header.version.producer = 1
    entries, chunks, offset = [(b"", header.SerializeToString())], [], 0
    for name in sorted(tensors):
        arr = np.asarray(tensors[name])
        data = np.ascontiguousarray(arr, arr.dtype.newbyteorder("<")).tobytes()
        entry = protos.BundleEntryProto(dtype=tf_values.dtype_enum(arr.dtype), shard_id=0, offset=offset,
                                        size=len(data), crc32c=masked_crc32c(data))
        entry.shape.CopyFrom(tf_values.shape_proto(arr.shape))
        entries.append((name.encode(), entry.SerializeToString()))
        chunks.append(data)
        offset += len(data)
    _write(prefix + DATA_SUFFIX, b"".join(chunks))
    _write(prefix + INDEX_SUFFIX, write_table(entries))


def _write(path: str, data: bytes) -> None:
    tmp = path + ".tempstate"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def read_index(prefix: str) -> dict[str, "protos.BundleEntryProto"]:
    """The entries of checkpoint `prefix`'s index, by tensor name (the header checked)."""
    with open(prefix + INDEX_SUFFIX, "rb") as f:
        table = read_table(f.read())
    if not table or table[0][0] != b"":
        raise CorruptCheckpointError(f"checkpoint {prefix} has no bundle header")
    header = protos.BundleHeaderProto.FromString(table[0][1])
    if header.num_shards != 1:
        raise CorruptCheckpointError(f"checkpoint {prefix} has {header.num_shards} shards; lowerflow reads one")
    if header.endianness != 0:
        raise CorruptCheckpointError(f"checkpoint {prefix} is big-endian")
    return {key.decode(): protos.BundleEntryProto.FromString(value) for key, value in table[1:]}


def read_tensor(prefix: str, entry) -> np.ndarray:
    """One tensor's value, its checksum verified."""
    if entry.slices:
        raise CorruptCheckpointError("partitioned (sliced) checkpoint tensors are not supported")
    dtype = tf_values.dtype_of_enum(entry.dtype)
    if dtype.ir is None:
        raise errors.UnimplementedError(None, None, "lowerflow does not read string tensors from checkpoints")
    with open(prefix + DATA_SUFFIX, "rb") as f:
        f.seek(entry.offset)
        data = f.read(entry.size)
    if len(data) != entry.size or masked_crc32c(data) != entry.crc32c:
        raise CorruptCheckpointError(f"Checksum does not match: stored {_unmask(entry.crc32c)} for a tensor "
                                     f"of {entry.size} bytes at offset {entry.offset}")
    shape = tf_values.shape_of_proto(entry.shape) or ()
    np_dtype = np.dtype(dtype.as_numpy_dtype)
    return np.frombuffer(data, np_dtype.newbyteorder("<")).astype(np_dtype).reshape(shape)
