"""PNG encoding of uint8 images for image summaries, with zlib and struct only.

One IHDR (8-bit greyscale, RGB or RGBA: colour types 0, 2, 6), one IDAT (the rows, each
with filter type 0, deflated) and IEND; each chunk is length, type, data and the CRC-32 of
type and data (the PNG specification, ISO/IEC 15948). TensorBoard and every PNG reader
decode it; the bytes differ from TF's libpng output, the pixels do not.
"""
from __future__ import annotations

import struct
import zlib

import numpy as np

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_COLOUR_TYPE = {1: 0, 3: 2, 4: 6}  # channels -> PNG colour type


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def encode(image: np.ndarray) -> bytes:
    """The PNG bytes of a uint8 [height, width, channels] image (channels 1, 3 or 4)."""
    height, width, channels = image.shape
    header = struct.pack(">IIBBBBB", width, height, 8, _COLOUR_TYPE[channels], 0, 0, 0)
    rows = np.zeros((height, 1 + width * channels), np.uint8)  # column 0: filter type 0 (none)
    rows[:, 1:] = np.ascontiguousarray(image, np.uint8).reshape(height, width * channels)
    return _SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(rows.tobytes())) + _chunk(b"IEND", b"")


def decode(data: bytes) -> np.ndarray:
    """The pixels of a PNG written by `encode` (filter type 0 rows only): for tests and tools."""
    if data[:8] != _SIGNATURE:
        raise ValueError("not a PNG file")
    pos, chunks = 8, {}
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        chunks[kind] = chunks.get(kind, b"") + data[pos + 8:pos + 8 + length]
        pos += 12 + length
    width, height, depth, colour, _, _, _ = struct.unpack(">IIBBBBB", chunks[b"IHDR"])
    channels = {v: k for k, v in _COLOUR_TYPE.items()}[colour]
    rows = np.frombuffer(zlib.decompress(chunks[b"IDAT"]), np.uint8).reshape(height, 1 + width * channels)
    if depth != 8 or rows[:, 0].any():
        raise ValueError("only 8-bit PNGs with unfiltered rows are decoded here")
    return rows[:, 1:].reshape(height, width, channels)
