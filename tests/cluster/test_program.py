"""`dask_program` in this process, without a cluster: what a worker does with a Program."""
from __future__ import annotations

import importlib
import pickle
import sys

import numpy as np
import pytest

import lowerflow as tf
from lowerflow import ir
from lowerflow.backend.compile_cache import CACHE
from lowerflow.runtime import dask_program


@pytest.fixture(scope="module")
def program():
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [None, 3], name="x")
        k = tf.placeholder(tf.int32, [3], name="k")
        w = tf.Variable(np.array([1.0, 2.0, -1.0], np.float32), name="w")
        y = x * w
        q = tf.floordiv(k, tf.constant([1, 2, 3]) - k)
    func = tf.aot.graph_function([y, q], [x, k], shapes={"x:0": (2, 3)})
    return dask_program.build_program(func, "unit")


def test_a_program_travels_as_bytes_and_runs(program):
    again = pickle.loads(pickle.dumps(program))
    assert again.key == program.key and again.fingerprint == dask_program.host_fingerprint()
    y, q = dask_program.run_program(again, np.ones((2, 3), np.float32), np.zeros(3, np.int32))
    np.testing.assert_array_equal(y, [[1, 2, -1], [1, 2, -1]])
    np.testing.assert_array_equal(q, [0, 0, 0])
    assert program.results == [(np.float32, (2, 3)), (np.int32, (3,))]
    assert program.__dask_tokenize__() == program.key


def test_run_errors_are_tf_errors(program):
    with pytest.raises(tf.errors.InvalidArgumentError, match="Integer division by zero"):
        dask_program.run_program(program, np.ones((2, 3), np.float32), np.array([1, 2, 3], np.int32))
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"'x:0' must have shape \[2, 3\]"):
        dask_program.run_program(program, np.ones((4, 3), np.float32), np.zeros(3, np.int32))


def test_another_cpu_compiles_the_ir_text(program, monkeypatch):
    CACHE.clear()  # loaded programs live in the compile cache
    before = dict(dask_program.PROGRAM_STATS)
    foreign = dask_program.Program(program.compiled, "another-cpu:0", program.ir_text)
    y, _ = dask_program.run_program(foreign, np.full((2, 3), 2, np.float32), np.zeros(3, np.int32))
    np.testing.assert_array_equal(y, [[2, 4, -2], [2, 4, -2]])
    assert dask_program.PROGRAM_STATS["recompiles"] == before["recompiles"] + 1
    assert dask_program.PROGRAM_STATS["loads"] == before["loads"] + 1


def test_ir_text_of_another_signature_is_refused(program, monkeypatch):
    CACHE.clear()  # loaded programs live in the compile cache
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [5], name="x")
        other = tf.aot.graph_function([x * 2.0], [x])
    foreign = dask_program.Program(program.compiled, "another-cpu:0", ir.print_function(other))
    with pytest.raises(tf.errors.InternalError, match="does not compile to the signature shipped with it"):
        dask_program.load_program(foreign)


def test_missing_arguments_are_an_internal_error(program):
    with pytest.raises(tf.errors.InternalError, match="no value for argument"):
        dask_program.arguments(program, {"x:0": 1})


def test_the_facade_names_the_extra_when_dask_is_missing(monkeypatch):
    monkeypatch.setitem(sys.modules, "dask.array", None)
    monkeypatch.delitem(sys.modules, "lowerflow.dask", raising=False)
    with pytest.raises(ImportError, match=r"pip install 'lowerflow\[dask\]'"):
        importlib.import_module("lowerflow.dask")
