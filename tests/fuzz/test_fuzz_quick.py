"""A quick slice of the differential fuzzer in the test suite (skipped without TensorFlow):
a few dozen random graphs agree with TensorFlow, or differ only in documented ways; and
the fuzzer's own pieces (value encoding, tolerance classes, the verdicts) work."""
from __future__ import annotations

import json

import numpy as np
import pytest

import lowerflow as lf
from fuzz.__main__ import fuzz
from fuzz.compare import _close, judge, run
from fuzz.graphs import decode, edge_values, encode, random_array, random_spec

QUICK_GRAPHS = 30


def test_values_round_trip_exactly():
    rng = np.random.default_rng(0)
    for dtype in ("float16", "float32", "float64", "int8", "uint16", "int64", "bool"):
        a = random_array(rng, dtype, (3, 4))
        back = decode(json.loads(json.dumps({"dtype": dtype, "shape": [3, 4], "values": encode(a)})))
        assert back.dtype == a.dtype and back.tobytes() == a.tobytes()
    assert np.isnan(edge_values("float32")).any() and np.iinfo(np.int8).min in edge_values("int8")


def test_tolerance_classes():
    w = np.float32([1.0, np.nan, 0.0, np.inf, 1e-3])
    g = np.float32([1.0, np.nan, -0.0, np.inf, np.nextafter(np.float32(1e-3), np.float32(1))])
    assert _close(g, w, "rounded", 1.0).all() and not _close(g, w, "exact", 1.0).all()
    assert not _close(np.float32([np.inf]), np.float32([3e38]), "sum", 3e38).any()


def test_judge_names_disagreements():
    spec = {"inputs": [], "ops": [{"op": "add", "args": [], "attrs": {}}]}
    ok = ("ok", [np.int32([1, 2])])
    assert judge(spec, ok, ok) is None
    assert judge(spec, ok, ("ok", [np.int32([1, 3])]))[0] == "disagree"
    assert judge(spec, ("run", "InvalidArgumentError", "x"), ("run", "InvalidArgumentError", "y")) is None
    assert judge(spec, ok, ("run", "InvalidArgumentError", "Integer division by zero"))[0] == "disagree"


def test_specs_replay_in_lowerflow():
    spec = random_spec(np.random.default_rng(5), lf)
    first, again = run(lf, spec), run(lf, json.loads(json.dumps(spec)))
    assert first[0] == again[0]
    if first[0] == "ok":
        for a, b in zip(first[1], again[1]):
            assert a.tobytes() == b.tobytes()


def test_quick_slice_agrees_with_tensorflow(tmp_path):
    pytest.importorskip("tensorflow")
    from fuzz.__main__ import modules

    counts = fuzz(seed=11, deadline=float("inf"), max_graphs=QUICK_GRAPHS, out=tmp_path, lf=lf, tf=modules()[1])
    saved = [p.read_text() for p in tmp_path.glob("*.json")]
    assert counts["graphs"] == QUICK_GRAPHS
    assert counts["disagree"] == 0, saved
