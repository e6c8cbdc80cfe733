"""Run every seed example (examples/seed_*.py) and the training programs
(examples/training.py), and print what each prints.

    python examples/quickstart.py
"""
import pathlib
import runpy
import sys

import lowerflow as tf


def main() -> int:
    here = pathlib.Path(__file__).resolve().parent
    for path in sorted(here.glob("seed_*.py")):
        print(f"== {path.name}")
        tf.reset_default_graph()
        runpy.run_path(str(path), run_name="__main__")
    print("== training.py")
    runpy.run_path(str(here / "training.py"), run_name="training")["main"]([])
    from lowerflow.backend import NATIVE_STATS

    print(f"== native code: {NATIVE_STATS['compiles']} executables compiled, "
          f"{NATIVE_STATS['cache_hits']} loaded from the disk cache, "
          f"{NATIVE_STATS['calls']} native step calls")
    return 0


if __name__ == "__main__":
    sys.exit(main())
