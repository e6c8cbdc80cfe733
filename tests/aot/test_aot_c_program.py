"""A graph compiled AOT, called from a C program linked with the system cc, prints what
Session.run returns (acceptance 1), and the header compiles as strict C and as C++."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

import lowerflow as tf
from lowerflow import aot

from .conftest import c_main, cc, parse_printed, run_program

RNG = np.random.default_rng(7)


def _model(dense, head, w1_shape: list, w2_shape: list):
    """x[4,3] -> relu(dense(x, w1) + b1) -> head(dense(h, w2)), weights assigned in a session
    ("trained": not their initial zeros)."""
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [4, 3], name="x")
        w1 = tf.Variable(np.zeros(w1_shape, np.float32), name="w1")
        b1 = tf.Variable(np.zeros(w1_shape[-1:], np.float32), name="b1")
        w2 = tf.Variable(np.zeros(w2_shape, np.float32), name="w2")
        h = tf.nn.relu(dense(x, w1) + b1)
        out = head(dense(h, w2))
        sess = tf.Session(graph=g)
        sess.run(tf.global_variables_initializer())
        for v in (w1, b1, w2):
            v.load(RNG.normal(size=v.shape.as_list()).astype(np.float32), sess)
    return sess, x, [out, h]


def _check(tmp_path_factory, name: str, sess, x, fetches) -> None:
    """Compile, write a C main for the header, link NAME.o with cc, run, compare."""
    xv = RNG.normal(size=(4, 3)).astype(np.float32)
    try:
        want = sess.run(fetches, {x: xv})
    except (NotImplementedError, tf.errors.UnimplementedError) as e:
        pytest.skip(f"the backend cannot run this graph yet: {e}")
    out = tmp_path_factory.mktemp(name)
    art = aot.compile(fetches, [x], name=name, out_dir=out, session=sess)
    signature = json.loads(art.signature.read_text())
    (out / "main.c").write_text(c_main(name, signature, [xv]))
    cc("-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "main.c", f"{name}.o", "-lm", "-o", "main", cwd=out)
    got = parse_printed(run_program(out / "main"))
    assert len(got) == len(want)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g.astype(np.float32), w.reshape(-1))


def test_elementwise_model_from_c(tmp_path_factory):
    """The same shape of program with elementwise ops only (per-feature weights)."""
    _check(tmp_path_factory, "ew_model", *_model(tf.multiply, tf.sigmoid, [3], [3]))


def test_mlp_from_c(tmp_path_factory):
    """matmul + bias + relu + softmax (acceptance 1)."""
    if not hasattr(tf, "matmul") or not hasattr(tf.nn, "softmax"):
        pytest.skip("tf.matmul / tf.nn.softmax are not available")
    _check(tmp_path_factory, "mlp", *_model(tf.matmul, tf.nn.softmax, [3, 5], [5, 2]))


@pytest.fixture(scope="module")
def header_dir(tmp_path_factory):
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float64, [2, 3], name="scope/x")
        s = tf.placeholder(tf.int32, [], name="s")
        flags = tf.greater(x, 0.0, name="positive")
        out = tmp_path_factory.mktemp("hdr")
        aot.compile([flags, tf.cast(s, tf.float16) * tf.constant(np.ones(2, np.float16)), x * 2.0], [x, s],
                    name="hdr", out_dir=out)
    return out


def test_header_documents_the_signature(header_dir):
    text = (header_dir / "hdr.h").read_text()
    assert "int hdr_run(const double *scope_x, const int32_t *s, uint8_t *positive, uint16_t *mul, " \
           "double *mul_1);" in text
    assert 'tensor "scope/x:0", float64, shape [2, 3]' in text
    assert "#define hdr_ARG0_RANK 2" in text and "static const int64_t hdr_ARG0_SHAPE[2] = {2, 3};" in text
    assert "#define hdr_ARG1_RANK 0" in text and "hdr_ARG1_SHAPE" not in text
    assert 'extern "C"' in text and "const char *hdr_error(int code);" in text
    assert "Alignment" in text and "thread-safe" in text
    assert "no global state" not in text and "Global state: one cached block for temporaries" in text
    assert "void hdr_release(void);" in text


def test_header_compiles_as_c_and_cpp(header_dir):
    (header_dir / "use.c").write_text('#include "hdr.h"\nint main(void) { return hdr_NUM_ARGS == 2 ? 0 : 1; }\n')
    cc("-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-c", "use.c", "-o", "use.o", cwd=header_dir)
    if shutil.which("c++"):
        (header_dir / "use.cc").write_text('#include "hdr.h"\nint main() { return hdr_ARG0_SHAPE[1] == 3 ? 0 : 1; }\n')
        cc("-x", "c++", "-Wall", "-Wextra", "-Werror", "-fsyntax-only", "use.cc", cwd=header_dir)


def test_error_function_from_c(header_dir):
    (header_dir / "err.c").write_text(
        '#include <stdio.h>\n#include "hdr.h"\n'
        'int main(void) { printf("%s|%s|%s\\n", hdr_error(0), hdr_error(1), hdr_error(999)); return 0; }\n')
    cc("-std=c99", "err.c", "hdr.o", "-lm", "-o", "err", cwd=header_dir)
    assert run_program(header_dir / "err").strip() == "OK|Integer division by zero|unknown status code"
