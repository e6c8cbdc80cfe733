"""An AOT object and library export exactly NAME_run/NAME_error/NAME_hash/NAME_release and need nothing beyond
libc/libm (acceptance 2): the step, kernels and constants are internal."""
from __future__ import annotations

import numpy as np
import pytest

import lowerflow as tf
from lowerflow import aot

from .conftest import LIBC, LIBM, exported_symbols, undefined_symbols


@pytest.fixture(scope="module", params=["host", "x86-64-v3"])
def artifacts(request, tmp_path_factory):
    """Many libm users, integer division (a status code), constants, and more ops than
    one fusion holds (so the step allocates temporaries)."""
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [16], name="x")
        d = tf.placeholder(tf.float64, [16], name="d")
        i = tf.placeholder(tf.int32, [16], name="i")
        w = tf.Variable(np.linspace(-1, 1, 16, dtype=np.float32), name="w")
        chain = x
        for k in range(40):
            chain = tf.sin(chain) * w if k % 2 else tf.tanh(chain) + 0.5
        fetches = [chain, tf.exp(x) + tf.log1p(tf.abs(x)) + tf.expm1(x) + tf.cos(x) + tf.pow(tf.abs(x), w),
                   tf.floormod(d, 3.0) + tf.log(tf.abs(d) + 1.0), tf.floordiv(i, tf.abs(i) + 1), tf.round(x)]
        out = tmp_path_factory.mktemp("symbols")
        name = "sym_" + request.param.replace("-", "_")
        return aot.compile(fetches, [x, d, i], name=name, out_dir=out, shared=True, target_cpu=request.param)


def test_object_needs_only_libc_and_libm(artifacts):
    undefined = undefined_symbols(artifacts.object)
    assert "aligned_alloc" in undefined and "cosf" in undefined  # the graph does use both (exp is a polynomial)
    assert undefined <= LIBC | LIBM, undefined - LIBC - LIBM


def test_library_needs_only_libc_and_libm(artifacts):
    undefined = undefined_symbols(artifacts.library)
    assert undefined <= LIBC | LIBM, undefined - LIBC - LIBM


def test_only_the_entry_points_are_exported(artifacts):
    name = artifacts.object.stem
    want = {f"{name}_run", f"{name}_error", f"{name}_hash", f"{name}_release"}
    assert exported_symbols(artifacts.object) == want
    assert exported_symbols(artifacts.library) - {"_init", "_fini"} == want
