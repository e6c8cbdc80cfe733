"""Smoke test of the benchmark suite: `python -m bench --quick` on tiny sizes, numpy only.

It checks the suite runs and its table holds numbers, not what the numbers are: timings
belong in docs/performance.md, not in assertions. TensorFlow and JAX are not needed (they are
not project dependencies): `--peers numpy` leaves them out, and a peer that is missing or a
workload lowerflow cannot run must come out as "n/a (reason)", never as a crash.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # bench/ is run from the repository root, not installed
    sys.path.insert(0, str(ROOT))

from bench import harness, peers
from bench.__main__ import main
from bench.workloads import Workload, light_chain

TIME = re.compile(r"^\d+(\.\d+)? (s|ms|µs)$")
NUMBER = re.compile(r"^\d+\.\d+$")


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    """lowerflow's disk cache goes to a temporary folder, not the user's."""
    monkeypatch.setenv("LOWERFLOW_CACHE_DIR", str(tmp_path / "lfcache"))


def _rows(markdown: str) -> dict[str, dict[str, str]]:
    lines = [ln for ln in markdown.splitlines() if ln.startswith("| ")]
    head = [c.strip() for c in lines[0].strip("|").split(" | ")]
    return {cells[0]: dict(zip(head, cells)) for cells in
            ([c.strip() for c in ln.strip("|").split(" | ")] for ln in lines[1:])}


def test_quick_run_gives_numbers(tmp_path, capsys):
    out = tmp_path / "bench.md"
    assert main(["--quick", "--only", "tiny_run,elementwise_light", "--peers", "numpy",
                 "--markdown", str(out)]) == 0
    rows = _rows(out.read_text())
    assert set(rows) == {"tiny_run", "elementwise_light"}
    for row in rows.values():
        assert TIME.match(row["lowerflow"]), row
        assert TIME.match(row["numpy"]), row
        assert NUMBER.match(row["numpy÷lf"]), row
    assert re.match(r"^\d+(\.\d+)? GB/s \(\d+% of copy\)$", rows["elementwise_light"]["lowerflow rate"])
    text = capsys.readouterr().out
    assert "copy bandwidth" in text and "sgemm" in text and "ctypes" in text
    assert "tiny_run" in text and "tensorflow" not in text.split("copy bandwidth")[1]


class _Missing(peers.Numpy):
    name, module = "missing", "no_such_module_for_bench"


def test_failures_are_reported_not_raised():
    """An op the graph API lacks fails lowerflow's setup; a peer that isn't installed is skipped."""
    def broken(tf, n, **_):
        build, feeds = light_chain(tf, n)
        return (lambda: tf.no_such_op(build())), feeds

    wl = Workload("broken", "needs an op that does not exist", broken, lambda xp, x, **_: x,
                  {"n": 8}, {"n": 8}, lambda **_: "8")
    row = harness.run_workload(wl, {"n": 8}, [peers.Lowerflow(), peers.Numpy(), _Missing()],
                               reps=2, target_s=0.001, salts=harness.Salts())
    assert row.cells["lowerflow"].seconds is None
    assert "no_such_op" in row.cells["lowerflow"].na
    assert row.cells["missing"].na == "not installed"
    assert row.cells["numpy"].seconds > 0 and len(row.cells["numpy"].samples) == 2


def test_wrong_results_are_flagged():
    assert harness._mismatch(np.ones(3), np.ones(3)) is None
    assert "max abs diff" in harness._mismatch(np.zeros(3), np.ones(3))


def test_training_rows_run(tmp_path):
    out = tmp_path / "train.md"
    assert main(["--quick", "--only", "train_logreg,train_mlp_adam", "--peers", "numpy",
                 "--markdown", str(out)]) == 0
    rows = _rows(out.read_text())
    assert set(rows) == {"train_logreg", "train_mlp_adam"}
    for row in rows.values():
        assert TIME.match(row["lowerflow"]) and TIME.match(row["numpy"]), row
        assert re.match(r"^\d+(\.\d+)? GFLOP/s", row["lowerflow rate"]), row


SLOTS = {"/m": "/Adam", "/v": "/Adam_1"}


def three_steps(name: str, xp) -> tuple[dict, list, list]:
    """Workload `name`'s training step, three times, on lowerflow's TF1 graph and through its
    expression on `xp` (numpy or jax.numpy): (variables by TF name, expression state, its keys)."""
    import lowerflow as tf
    from bench.workloads import BY_NAME

    wl = BY_NAME[name]
    params = wl.params(quick=True)
    build, feeds = wl.graph(tf, **params)
    with tf.Graph().as_default() as graph, tf.Session() as sess:
        train = build()
        sess.run(tf.global_variables_initializer())
        feed = {graph.get_tensor_by_name(f"{k}:0"): v for k, v in feeds.items()}
        for _ in range(3):
            sess.run(train, feed)
        got = {v.op.name: value for v, value in zip(tf.global_variables(), sess.run(tf.global_variables()))}
    state = list(wl.variables(**params).values())
    for _ in range(3):
        state = list(wl.expr(xp, *feeds.values(), *state, **params))
    return got, state, list(wl.variables(**params))


@pytest.mark.parametrize("name", ["train_logreg", "train_mlp_adam", "lstm_train", "lstm_train_dynamic"])
def test_training_exprs_match_the_tf1_graph(name):
    """The hand-written numpy gradients and updates (what numpy and JAX are timed on) agree
    with lowerflow's training step on the same TF1 graph, over three steps."""
    got, state, keys = three_steps(name, np)
    for key, want in zip(keys, state):
        tf_name = key[:-2] + SLOTS[key[-2:]] if key[-2:] in SLOTS else key
        np.testing.assert_allclose(got[tf_name], want, rtol=1e-5, atol=1e-7, err_msg=key)


def test_gflops_rows_put_lowerflow_against_their_own_sgemm_samples():
    """A row with a GFLOP/s figure samples the sgemm reference in its own rotation, and its
    "% of sgemm" uses that median, not the start-of-run figure (which drifts)."""
    from bench import machine, report
    from bench.workloads import BY_NAME

    wl = BY_NAME["matmul"]
    calls = []
    step = machine.sgemm_step(16)
    row = harness.run_workload(wl, {"n": 16}, [peers.Lowerflow()], reps=3, target_s=0.001,
                               salts=harness.Salts(), reference=lambda: calls.append(1) or step())
    assert len(row.reference.samples) == 3 and calls
    limits = machine.Limits(copy_gbs=1.0, copy_mib=1, sgemm_gflops=1e-9, sgemm_1t_gflops=None, sgemm_n=16,
                            ctypes_us=1.0)
    peak = 2 * 16 ** 3 / row.reference.seconds / 1e9
    assert report.sgemm_gflops(row, limits) == pytest.approx(peak)
    gflops = 2 * 16 ** 3 / row.cells["lowerflow"].seconds / 1e9
    assert report._rate(row, limits) == f"{gflops:.1f} GFLOP/s ({100 * gflops / peak:.0f}% of sgemm)"
    assert f"matmul: sgemm reference sampled in the row: {peak:.1f} GFLOP/s" in report.notes([row], limits)
