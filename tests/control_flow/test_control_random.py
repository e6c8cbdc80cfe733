"""Random branchy and loopy IR, differentially: the reference interpreter on the function as
built, the interpreter after the default pipeline and the native code of that pipeline give
the same values. Programs nest lf.if inside loop bodies and loops inside branches, capture
outer values, yield arguments and constants, and permute carried values; each is compiled
once and run on several inputs (predicates both ways, 0 to 4 iterations)."""
from __future__ import annotations

import numpy as np
import pytest

from lowerflow import ir
from lowerflow.backend import compile_function
from lowerflow.ir.interp import run_function
from lowerflow.ir.types import F32, I32, TensorType
from lowerflow.passes import PassManager
from lowerflow.passes.clone import clone_function

VEC, SCALAR, INT = TensorType((4,), F32), TensorType((), F32), TensorType((), I32)
UNARY = ["lf.tanh", "lf.neg", "lf.sin", "lf.abs"]
BINARY = ["lf.add", "lf.sub", "lf.mul", "lf.max"]


class _Gen:
    def __init__(self, seed: int):
        self.rng = np.random.default_rng(seed)

    def const(self, block: ir.Block, value, type: TensorType) -> ir.Value:
        arr = np.full(type.shape, value, type.dtype.np_dtype)
        return ir.build(block, "lf.constant", [], {"value": arr}).result

    def chain(self, block: ir.Block, pool: list[ir.Value], scalar: ir.Value, n: int, depth: int) -> list[ir.Value]:
        """`n` random ops over `pool` (vectors); sometimes a nested if or loop."""
        pool = list(pool)
        for _ in range(n):
            kind = self.rng.integers(6 if depth < 2 else 4)
            if kind < 2:
                pool.append(ir.build(block, UNARY[self.rng.integers(len(UNARY))], [self.pick(pool)]).result)
            elif kind < 4:
                pool.append(ir.build(block, BINARY[self.rng.integers(len(BINARY))],
                                     [self.pick(pool), self.pick(pool)]).result)
            elif kind == 4:
                pool.extend(self.if_op(block, pool, scalar, depth + 1))
            else:
                pool.extend(self.while_op(block, pool, scalar, depth + 1))
        return pool

    def pick(self, pool: list[ir.Value]) -> ir.Value:
        return pool[self.rng.integers(len(pool))]

    def captures(self, pool: list[ir.Value]) -> list[ir.Value]:
        k = int(self.rng.integers(1, min(3, len(pool)) + 1))
        return list(dict.fromkeys(pool[i] for i in self.rng.choice(len(pool), k, replace=False)))

    def if_op(self, block: ir.Block, pool: list[ir.Value], scalar: ir.Value, depth: int) -> list[ir.Value]:
        threshold = self.const(block, float(self.rng.uniform(-1, 1)), SCALAR)
        pred = ir.build(block, "lf.lt", [scalar, threshold]).result
        caps = [scalar, *self.captures(pool)]
        regions, yields = [], []
        n_results = int(self.rng.integers(1, 3))
        for _ in range(2):
            region = ir.Block([v.type for v in caps])
            inner = self.chain(region, region.args[1:], region.args[0], int(self.rng.integers(0, 3)), depth)
            ys = [self.pick(inner) if self.rng.random() < 0.8 else self.const(region, 0.5, VEC)
                  for _ in range(n_results)]
            region.add("lf.yield", ys)
            regions.append(region)
        return block.add("lf.if", [pred, *caps], [VEC] * n_results, regions=regions).results

    def while_op(self, block: ir.Block, pool: list[ir.Value], scalar: ir.Value, depth: int) -> list[ir.Value]:
        limit = self.const(block, int(self.rng.integers(0, 4)), INT)
        carried = [self.const(block, 0, INT), *self.captures(pool)]
        caps = [limit, scalar, *self.captures(pool)]
        types = [v.type for v in carried + caps]
        cond, body = ir.Block(types), ir.Block(types)
        n = len(carried)
        cond.add("lf.yield", [ir.build(cond, "lf.lt", [cond.args[0], cond.args[n]]).result])
        step = ir.build(body, "lf.add", [body.args[0], self.const(body, 1, INT)]).result
        vectors = body.args[1:n] + body.args[n + 2:]
        inner = self.chain(body, vectors, body.args[n + 1], int(self.rng.integers(1, 4)), depth)
        nexts = [self.pick(inner) for _ in range(n - 1)]
        if n > 2 and self.rng.random() < 0.5:
            nexts = list(body.args[2:n]) + [body.args[1]]  # a rotation of the carried vectors
        body.add("lf.yield", [step, *nexts])
        return block.add("lf.while", [*carried, *caps], [v.type for v in carried], regions=[cond, body]).results[1:]


def program(seed: int) -> ir.Function:
    gen = _Gen(seed)
    func = ir.Function("step", [VEC, VEC, SCALAR])
    pool = gen.chain(func.body, func.args[:2], func.args[2], 6, 0)
    func.set_return([pool[-1], pool[len(pool) // 2]])
    ir.verifier.verify(func)
    return func


SEEDS = range(6)


@pytest.fixture(scope="module", params=SEEDS)
def compiled(request):
    func = program(request.param)
    optimised = clone_function(func)
    PassManager().run(ir.Module([optimised]))
    return func, optimised, compile_function(optimised)


def test_programs_branch_and_loop():
    names = {op.name for seed in SEEDS for op in program(seed).body.walk()}
    assert {"lf.if", "lf.while"} <= names


@pytest.mark.parametrize("point", range(4))
def test_interpreter_pipeline_and_native_agree(compiled, point):
    func, optimised, exe = compiled
    rng = np.random.default_rng(100 + point)
    args = [rng.standard_normal(4).astype(np.float32), rng.standard_normal(4).astype(np.float32),
            np.array(rng.uniform(-1, 1), np.float32)]
    want = run_function(func, args)
    for got in (run_function(optimised, args), exe.run(args)):
        for g, w in zip(got, want):
            np.testing.assert_allclose(g, w, rtol=2e-5, atol=2e-6)
