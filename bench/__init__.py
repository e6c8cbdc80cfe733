"""lowerflow's benchmark suite: `python -m bench` (see bench/README.md).

Kept free of imports on purpose: `python -m bench --threads N` must set the thread
environment variables before numpy (and its OpenBLAS) is first imported.
"""
