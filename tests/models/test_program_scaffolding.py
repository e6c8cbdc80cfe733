"""tf.Print, tf.gfile, tf.logging and tf.train.Coordinator against tensorflow.compat.v1 and
by themselves: printed lines, file operations and their error classes, log records, stops."""
from __future__ import annotations

import logging
import os
import threading

import numpy as np
import pytest

import lowerflow as tf
from tests.models.helpers import tf1


def _print_graph(lib):
    """Print ops over constants, a fed placeholder and a variable that changes every run."""
    x = lib.placeholder(lib.float32, [2, 3], name="x")
    v = lib.Variable(np.float32(1.0), name="v")
    c = lib.constant([0.1, 1 / 3, 1e-7, 2.0, -3.5, 123456789.0], lib.float32)
    y = lib.Print(x, [x, lib.constant([[1, 2], [3, 4]], lib.int64), lib.constant([True, False]), v,
                      lib.constant([0.1, 1 / 3], lib.float64)], message="x: ")
    z = lib.Print(v, [c], summarize=-1, first_n=2)
    w = lib.Print(lib.reduce_sum(y), [lib.zeros([0]), c * v], "w", summarize=10)
    step = lib.assign_add(v, 1.0)
    return x, [y, z, w], step, lib.gradients(lib.reduce_sum(y * y), x)[0]


def _print_lines(lib, capfd) -> tuple[list[str], list]:
    """The Print lines of three runs, and their values. One inter-op thread: TensorFlow runs
    independent Print ops at once, and their writes to stderr may interleave within a line."""
    with lib.Graph().as_default():
        x, fetches, step, grad = _print_graph(lib)
        with lib.Session(config=lib.ConfigProto(inter_op_parallelism_threads=1)) as sess:
            sess.run(lib.global_variables_initializer())
            capfd.readouterr()
            feed = np.arange(6, dtype=np.float32).reshape(2, 3) / 4
            values = []
            for _ in range(3):
                values.append(sess.run(fetches + [grad], {x: feed}))
                sess.run(step)
    lines = [ln for ln in capfd.readouterr().err.splitlines()
             if ln.startswith(("x: ", "w", "[")) and "port.cc" not in ln]
    return lines, values


def test_print_lines_and_values(capfd):
    lines, values = _print_lines(tf, capfd)
    assert lines[:3] == ["x: [[0 0.25 0.5]...][[1 2][3...]...][1 0][1][0.1 0.33333333333333331]",
                         "[0.1 0.333333343 1e-07 2 -3.5 123456792]",
                         "w[][0.1 0.333333343 1e-07 2 -3.5 123456792]"]
    assert len([ln for ln in lines if ln.startswith("[")]) == 2  # first_n=2
    assert lines[-1] == "w[][0.3 1 3e-07 6 -10.5 370370368]"  # v == 3 on the third run
    assert [ln.startswith("x: ") for ln in lines].count(True) == 3  # once per run, its gradient in the same step
    np.testing.assert_allclose(values[0][0], np.arange(6).reshape(2, 3) / 4)
    np.testing.assert_allclose(values[2][1], 3.0)
    np.testing.assert_allclose(values[0][3], np.arange(6).reshape(2, 3) / 2)  # Print passes the gradient


def test_print_against_tf(capfd):
    ours, our_values = _print_lines(tf, capfd)
    theirs, their_values = _print_lines(tf1(), capfd)
    assert sorted(ours) == sorted(theirs)
    for a, b in zip(our_values, their_values):
        for p, q in zip(a, b):
            np.testing.assert_allclose(p, q, rtol=1e-6)


def test_print_op():
    with tf.Graph().as_default():
        x = tf.constant([1.0, 2.0])
        y = tf.Print(x, [x], name="p")
        assert y.name == "p:0" and y.shape.as_list() == [2] and y.op.type == "Print"
        assert [y.op.get_attr(k) for k in ("message", "first_n", "summarize")] == [b"", -1, 3]


def _imported_print_line(graph_def, capfd) -> tuple[str, np.ndarray]:
    with tf.Graph().as_default():
        tf.import_graph_def(graph_def, name="")
        with tf.Session() as sess:
            capfd.readouterr()
            value = sess.run("Print:0", {"x:0": [1.0, 2.0]})
    return capfd.readouterr().err.strip().splitlines()[-1], value


def test_print_through_graph_defs(capfd):
    """A GraphDef's Print node (ours re-imported, and one TensorFlow wrote) still prints."""
    with tf.Graph().as_default() as g:
        tf.Print(tf.placeholder(tf.float32, [2], name="x"), [tf.constant(3)], "ours ", first_n=1)
    line, value = _imported_print_line(g.as_graph_def(), capfd)
    assert line == "ours [3]" and value.tolist() == [1.0, 2.0]
    t = tf1()
    with t.Graph().as_default() as g:
        t.Print(t.placeholder(t.float32, [2], name="x"), [t.constant([4, 5])], "theirs ")
    line, value = _imported_print_line(g.as_graph_def().SerializeToString(), capfd)
    assert line == "theirs [4 5]" and value.tolist() == [1.0, 2.0]


# -- tf.gfile --

def _gfile_script(lib, root: str) -> list:
    """The same file operations, returning what each observed."""
    g, join = lib.gfile, os.path.join
    seen = []
    g.MakeDirs(join(root, "a", "b"))
    g.MakeDirs(join(root, "a", "b"))  # exists: fine
    seen.append(g.IsDirectory(join(root, "a")))
    with g.GFile(join(root, "a", "f.txt"), "w") as f:
        f.write("one\ntwo\n")
        f.write("three")
    with g.Open(join(root, "a", "f.txt")) as f:
        seen.append(f.readline())
        seen.append(list(f))
    with g.GFile(join(root, "a", "f.txt"), "rb") as f:
        seen.append(f.read())
    with g.GFile(join(root, "a", "f.txt"), "a") as f:
        f.write("!")
    seen.append(g.GFile(join(root, "a", "f.txt")).read())
    g.Copy(join(root, "a", "f.txt"), join(root, "a", "g.txt"))
    g.Rename(join(root, "a", "g.txt"), join(root, "a", "h.txt"))
    seen.append(sorted(g.ListDirectory(join(root, "a"))))
    seen.append(sorted(os.path.basename(p) for p in g.Glob(join(root, "a", "*.txt"))))
    g.MkDir(join(root, "c"))
    g.MkDir(join(root, "c"))  # exists: fine
    g.Copy(join(root, "a", "f.txt"), join(root, "a", "f.txt"), overwrite=True)
    seen.append(g.Exists(join(root, "c")))
    g.Remove(join(root, "a", "h.txt"))
    seen.append(g.Exists(join(root, "a", "h.txt")))
    for bad in (lambda: g.GFile(join(root, "nope")).read(), lambda: g.Remove(join(root, "nope")),
                lambda: g.ListDirectory(join(root, "nope")), lambda: g.MakeDirs(join(root, "a", "f.txt")),
                lambda: g.Copy(join(root, "a", "f.txt"), join(root, "a", "f.txt")),
                lambda: g.Rename(join(root, "nope"), join(root, "x")),
                lambda: g.DeleteRecursively(join(root, "nope"))):
        with pytest.raises(lib.errors.OpError) as e:
            bad()
        seen.append((type(e.value).__name__, str(e.value).replace(root, "ROOT")))
    g.DeleteRecursively(join(root, "a"))
    seen.append(sorted(g.ListDirectory(root)))
    return seen


def test_gfile(tmp_path):
    seen = _gfile_script(tf, str(tmp_path))
    assert seen[:3] == [True, "one\n", ["two\n", "three"]]
    assert seen[3] == b"one\ntwo\nthree" and seen[4] == "one\ntwo\nthree!"
    assert seen[5] == ["b", "f.txt", "h.txt"] and seen[6] == ["f.txt", "h.txt"]
    assert seen[-1] == ["c"]


def test_gfile_against_tf(tmp_path):
    (tmp_path / "ours").mkdir()
    (tmp_path / "theirs").mkdir()
    assert _gfile_script(tf, str(tmp_path / "ours")) == _gfile_script(tf1(), str(tmp_path / "theirs"))


# -- tf.logging --

def test_logging(caplog):
    before = tf.logging.get_verbosity()
    try:
        tf.logging.set_verbosity(tf.logging.INFO)
        assert tf.logging.get_verbosity() == logging.INFO
        with caplog.at_level(logging.DEBUG, logger="tensorflow"):
            tf.logging.set_verbosity(tf.logging.INFO)
            tf.logging.info("step %d", 3)
            tf.logging.debug("hidden")
            tf.logging.warn("careful")
            tf.logging.warning("careful %s", "again")
            tf.logging.error("bad")
            for _ in range(3):
                tf.logging.log_first_n(tf.logging.INFO, "once", 1)
        records = [(r.name, r.levelno, r.getMessage()) for r in caplog.records]
        assert records == [("tensorflow", 20, "step 3"), ("tensorflow", 30, "careful"),
                           ("tensorflow", 30, "careful again"), ("tensorflow", 40, "bad"), ("tensorflow", 20, "once")]
    finally:
        tf.logging.set_verbosity(before)


def test_logging_constants_match_tf():
    t = tf1()
    names = ("DEBUG", "INFO", "WARN", "ERROR", "FATAL")
    assert [getattr(tf.logging, n) for n in names] == [getattr(t.logging, n) for n in names]
    assert tf.logging.get_verbosity() == t.logging.get_verbosity()


# -- tf.train.Coordinator --

def _coordinated(lib) -> tuple[list, str]:
    coord = lib.train.Coordinator()
    counts = [0, 0]

    def work(i):
        with coord.stop_on_exception():
            while not coord.should_stop():
                counts[i] += 1
                if counts[i] == 5 and i == 1:
                    raise ValueError("worker 1 failed")

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    with pytest.raises(ValueError, match="worker 1 failed") as e:
        coord.join(threads)
    assert coord.should_stop() and coord.joined and not any(t.is_alive() for t in threads)
    coord.clear_stop()
    assert not coord.should_stop()
    coord.request_stop(lib.errors.OutOfRangeError(None, None, "end of data"))  # a clean stop
    coord.join([])
    return counts, str(e.value)


def test_coordinator():
    counts, message = _coordinated(tf)
    assert counts[1] == 5 and message == "worker 1 failed"


def test_coordinator_against_tf():
    assert _coordinated(tf1())[1] == _coordinated(tf)[1]
