"""Every seed example runs (examples/seed_*.py) and prints what the seed says."""
import pathlib
import runpy

import pytest

import lowerflow as tf

EXAMPLES = pathlib.Path(__file__).resolve().parents[1] / "examples"

EXPECTED = {
    "seed_session_basics.py": ["13", "Error: Attempting to use uninitialized value foo", "42", "13"],
    "seed_counter.py": ["3", "1"],
    "seed_multiply.py": ["[array([2., 4.], dtype=float32)]"] * 3,
    "seed_session_api.py": [
        "30.0",
        "[10 20]",
        "[array([10, 20], dtype=int32), array([1., 2.], dtype=float32)]",
        "{'k1': MyData(a=array([10, 20], dtype=int32), b=array([1., 2.], dtype=float32)), "
        "'k2': [array([1., 2.], dtype=float32), array([10, 20], dtype=int32)]}",
        "30.0", "30.0", "30.0", "30.0", "30.0",
    ],
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_seed_example(name, capsys):
    tf.reset_default_graph()
    runpy.run_path(str(EXAMPLES / name), run_name="__main__")
    assert capsys.readouterr().out.splitlines() == EXPECTED[name]


def test_every_example_is_checked():
    assert sorted(p.name for p in EXAMPLES.glob("seed_*.py")) == sorted(EXPECTED)
