"""AOT artifacts cannot lie: NAME.json, NAME.h and the library carry one content hash that
`load` checks, a recompile removes a stale library, and bad names and string tensors are
clear errors."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

import lowerflow as tf
from lowerflow import aot


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """`m` compiled twice into one directory: first x[3]*2 with a library, then x[4]*3
    without one; `old` keeps a copy of the first compile's library."""
    out, old = tmp_path_factory.mktemp("integrity"), tmp_path_factory.mktemp("old")
    g = tf.Graph()
    with g.as_default():
        x3 = tf.placeholder(tf.float32, [3], name="x")
        aot.compile(x3 * 2.0, [x3], name="m", out_dir=out, shared=True)
        shutil.copy(out / "libm.so", old / "libm.so")
        x4 = tf.placeholder(tf.float32, [4], name="x4")
        arts = aot.compile(x4 * 3.0, [x4], name="m", out_dir=out, shared=False)
    return out, old, arts


def _copy(built, tmp_path):
    out, _, _ = built
    for f in out.iterdir():
        shutil.copy(f, tmp_path / f.name)
    return tmp_path


def test_recompile_without_library_removes_the_stale_one(built):
    out, _, arts = built
    assert arts.library is None and not (out / "libm.so").exists()
    fn = aot.load(out, "m")  # links a fresh library from m.o
    np.testing.assert_array_equal(fn([1, 2, 3, 4]), [3, 6, 9, 12])


def test_artifacts_share_one_hash(built):
    out, _, _ = built
    digest = json.loads((out / "m.json").read_text())["hash"]
    assert len(digest) == 64 and f'#define m_HASH "{digest}"' in (out / "m.h").read_text()
    assert aot.load(out, "m")._lib.m_hash  # the symbol exists


def test_stale_library_is_refused(built, tmp_path):
    d = _copy(built, tmp_path)
    shutil.copy(built[1] / "libm.so", d / "libm.so")
    with pytest.raises(ValueError, match=r"libm\.so is not the code m\.json describes.*stale library"):
        aot.load(d, "m")


@pytest.mark.parametrize("edit", [
    lambda sig: sig["results"][0].update(shape=[400]),  # would write past the output buffer
    lambda sig: sig["args"][0].update(dtype="f64"),
    lambda sig: sig.update(hash="0" * 64),
    lambda sig: sig.pop("hash"),
])
def test_edited_signature_is_refused(built, tmp_path, edit):
    d = _copy(built, tmp_path)
    sig = json.loads((d / "m.json").read_text())
    edit(sig)
    (d / "m.json").write_text(json.dumps(sig))
    with pytest.raises(ValueError, match=r"m\.json does not match its content hash: it was edited"):
        aot.load(d, "m")


@pytest.mark.parametrize("data", [b"{not json", b"[1, 2]", b"\xff\xfe{}", b""])
def test_damaged_signature_is_refused(built, tmp_path, data):
    d = _copy(built, tmp_path)
    (d / "m.json").write_bytes(data)
    with pytest.raises(ValueError, match=r"m\.json (is not a signature|does not match)"):
        aot.load(d, "m")


def test_header_of_another_compile_is_refused(built, tmp_path):
    d = _copy(built, tmp_path)
    header = (d / "m.h").read_text()
    digest = json.loads((d / "m.json").read_text())["hash"]
    (d / "m.h").write_text(header.replace(digest, "f" * 64))
    with pytest.raises(ValueError, match=r"m\.h is not from the compile that wrote m\.json"):
        aot.load(d, "m")


@pytest.mark.parametrize("name", [3, b"m", None])
def test_non_string_names(built, name):
    x = tf.placeholder(tf.float32, [2])
    with pytest.raises(TypeError, match="the AOT name must be a str"):
        aot.compile(x * 2.0, [x], name=name, out_dir=built[0])
    with pytest.raises(TypeError, match="the AOT name must be a str"):
        aot.load(built[0], name)


def test_string_tensors(tmp_path):
    g = tf.Graph()
    with g.as_default():
        s = tf.placeholder(tf.string, [2], name="s")
        y = tf.placeholder(tf.float32, [2], name="y")
        with pytest.raises(TypeError, match="AOT feed 's:0' has dtype string"):
            aot.compile(y * 2.0, [s, y], name="strs", out_dir=tmp_path)
        with pytest.raises(TypeError, match="AOT fetch 's:0' has dtype string"):
            aot.compile(s, [y], name="strs", out_dir=tmp_path)
    assert not list(tmp_path.iterdir())
