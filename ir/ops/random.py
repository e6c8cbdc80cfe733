"""Stateful random ops: TF1's RandomUniform, RandomStandardNormal, TruncatedNormal and
RandomUniformInt, as counter-based generators (cf. TF's Philox kernels, JAX's
threefry): every value is a pure function of (seed, seed2, run counter, element
index), so the numpy reference and the native code agree bit for bit on the
random bits and numpy's own generator is never involved.

Operand 0 is the op's *run counter*, an i64 scalar (trait `RUN_COUNTER`): the
graph lowering makes it session state that starts at 0 and advances by one
each time the op runs, so repeated runs give fresh values while a fresh session
replays the same sequence (TF1 keeps that state in each kernel's generator).
Attributes: `seed`, `seed2` (TF1's op attributes, non-negative), `shape`
(static, a list) and `dtype`.

The generator is SplitMix64: the stream key is
`mix(mix(mix(seed) + seed2) + counter)` and element n's bits are
`mix(key + (n + 1) * GOLDEN)`. Uniform floats take the top mantissa-width bits
(exact in every float type, so [0, 1) holds); normals are Box-Muller in float64
from two streams per element; truncated normals reject |z| > 2 and retry with
attempt k reading streams offset by 2 * k * size (at most `TRUNCATE_ATTEMPTS` attempts). Uniform ints are
`minval + bits mod (maxval - minval)`, as TF's kernel (with its modulo bias).
"""
from __future__ import annotations

import numpy as np

from lowerflow.ir.opdef import OpDef, not_differentiable, register
from lowerflow.ir.types import I32, I64, TensorType

#: Trait: operand 0 is the op's run counter, supplied by the graph lowering.
RUN_COUNTER = "run_counter"
COUNTER_TYPE = TensorType((), I64)
GOLDEN = 0x9E3779B97F4A7C15
MIX1, MIX2 = 0xBF58476D1CE4E5B9, 0x94D049BB133111EB
MANTISSA_BITS = {16: 11, 32: 24, 64: 53}
TRUNCATE_AT = 2.0  # TruncatedNormal drops values more than two stddevs from the mean
#: TruncatedNormal's attempts per element: the last one is kept even if |z| > 2 (each
#: attempt fails with p = 0.0455, so 100 in a row never happen: p < 1e-134)
TRUNCATE_ATTEMPTS = 100
_U64 = np.uint64


def mix(z: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser on uint64 arrays (wrapping arithmetic)."""
    with np.errstate(over="ignore"):
        z = (z ^ (z >> _U64(30))) * _U64(MIX1)
        z = (z ^ (z >> _U64(27))) * _U64(MIX2)
    return z ^ (z >> _U64(31))


def stream_key(attrs: dict, counter: np.ndarray) -> np.ndarray:
    seed, seed2 = (np.array(attrs[k], dtype=_U64) for k in ("seed", "seed2"))
    with np.errstate(over="ignore"):
        return mix(mix(mix(seed) + seed2) + np.asarray(counter).astype(_U64))


def random_bits(key: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Element `n`'s 64 random bits in the stream `key`."""
    with np.errstate(over="ignore"):
        return mix(key + (n.astype(_U64) + _U64(1)) * _U64(GOLDEN))


def unit_uniform(bits: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """[0, 1) from the top bits: an integer below 2**m times 2**-m is exact in `dtype`."""
    m = MANTISSA_BITS[dtype.itemsize * 8]
    return (bits >> _U64(64 - m)).astype(dtype) * dtype.type(2.0 ** -m)


def box_muller(key: np.ndarray, n: np.ndarray) -> np.ndarray:
    """One standard normal (float64) per element from streams 2n and 2n + 1."""
    f64 = np.dtype(np.float64)
    u1 = np.float64(1.0) - unit_uniform(random_bits(key, 2 * n), f64)  # (0, 1]: log is finite
    u2 = unit_uniform(random_bits(key, 2 * n + 1), f64)
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)


def _uniform(key, n, size, dtype):
    return unit_uniform(random_bits(key, n), dtype)


def _normal(key, n, size, dtype):
    return box_muller(key, n).astype(dtype)


def _truncated(key, n, size, dtype):
    z = box_muller(key, n)
    for attempt in range(1, TRUNCATE_ATTEMPTS):
        bad = np.abs(z) > TRUNCATE_AT
        if not bad.any():
            break
        z[bad] = box_muller(key, n[bad] + attempt * size)
    return z.astype(dtype)


def _float_op(name: str, tf_name: str, sample) -> None:
    def infer(types, attrs):
        if len(types) != 1 or not attrs["dtype"].is_float:
            raise TypeError(f"{tf_name} takes only a run counter and produces floats, "
                            f"got dtype {attrs['dtype']}")
        _check_counter(types[0], name)
        return [TensorType(tuple(attrs["shape"]), attrs["dtype"])]

    def reference(args, attrs):
        shape, dtype = tuple(attrs["shape"]), attrs["dtype"].np_dtype
        size = int(np.prod(shape, dtype=np.int64))
        n = np.arange(size, dtype=_U64)
        return [sample(stream_key(attrs, args[0]), n, size, dtype).reshape(shape)]

    register(OpDef(name, infer, reference, (tf_name,), frozenset({RUN_COUNTER}),
                   ("seed", "seed2", "shape", "dtype"), grad=not_differentiable))


def _check_counter(t: TensorType, name: str) -> None:
    if t != COUNTER_TYPE:
        raise TypeError(f"{name}: operand 0 must be the run counter {COUNTER_TYPE}, got {t}")


_float_op("lf.random_uniform", "RandomUniform", _uniform)
_float_op("lf.random_normal", "RandomStandardNormal", _normal)
_float_op("lf.truncated_normal", "TruncatedNormal", _truncated)


def _int_infer(types, attrs):
    counter, lo, hi = types
    _check_counter(counter, "lf.random_uniform_int")
    dtype = attrs["dtype"]
    if dtype not in (I32, I64) or lo.dtype != dtype or hi.dtype != dtype:
        raise TypeError(f"RandomUniformInt needs int32 or int64 minval and maxval of dtype "
                        f"{dtype}, got {lo.dtype} and {hi.dtype}")
    for what, t in (("minval", lo), ("maxval", hi)):
        if t.rank != 0:
            raise ValueError(f"Shape must be rank 0 but is rank {t.rank} ({what})")
    return [TensorType(tuple(attrs["shape"]), dtype)]


def _int_reference(args, attrs):
    counter, lo, hi = args
    if not lo < hi:
        raise ValueError(f"Need minval < maxval: {lo} >= {hi}")
    shape = tuple(attrs["shape"])
    n = np.arange(int(np.prod(shape, dtype=np.int64)), dtype=_U64)
    span = np.array(int(hi) - int(lo), dtype=_U64)
    offset = random_bits(stream_key(attrs, counter), n) % span
    return [(offset + np.array(int(lo), dtype=np.int64).astype(_U64)).astype(lo.dtype).reshape(shape)]


register(OpDef("lf.random_uniform_int", _int_infer, _int_reference, ("RandomUniformInt",),
               frozenset({RUN_COUNTER}), ("seed", "seed2", "shape", "dtype"), grad=not_differentiable))
