"""The convolutions of `ir/ops/conv.py` (the micro-kernels their loop kernels call:
`ir/ops/loop_micro.py`) as implicit GEMMs on `gemm.py`'s micro-kernel
(float32; the frontend composes other dtypes).

A convolution is the product out[M, N] = patches[M, K] @ B[K, N] with M = batch*oh*ow
output positions, K = kh*kw*c (a row of patches: the window of one output position,
tap by tap, c channels each) and N output channels. Writing the patches out (im2col)
costs kh*kw times the input in memory traffic, twice (a 40 MB buffer for the CNN's second
layer); here they are gathered per row block into a buffer of MC rows that stays in L2,
the padding done virtually (a tap outside the input reads zeros), and never stored whole.

- forward (Conv2D): for each block of MC output positions, gather its patch rows, then
  for each KC panel of K and each NR strip of N the micro-kernel reads the rows in place
  (`a_strides` (KP, 1)) against the filter, packed once per call as B strips. Blocks are
  shared out across threads in tickets (`parallel.ticket_loop`), like the GEMM's rows.
- input gradient (Conv2DBackpropInput): the same kernel over out_backprop with the
  filter flipped and its channels swapped: a stride-1 convolution whose taps read
  out_backprop "dilated" by the forward's strides (zeros between its rows; `Conv.up`).
- filter gradient (Conv2DBackpropFilter): df^T[cout, K] = dy^T[cout, M] @ patches[M, K], a
  reduction over M: per panel of KCI positions the patch rows are gathered (B, read in
  place with row stride KP) and dy's panel packed as A strips; each ticket of positions
  sums into a partial of its own, and the partials are added in order (the result does
  not depend on which thread took which ticket).

Measured on one thread of the shared 2-core Zen 4 (noisy: compare within a line): the CNN's
second layer (64x14x14x32, 5x5 -> 64, 642 M multiply-adds) forward in 11.9 ms in a calm
minute, about 0.9 of one core's zmm FMA rate; in alternation with TF1's oneDNN kernels under
load its forward was 1.3x faster than TF's and its two gradients 0.6-0.9x as fast. The first
layer (c = 1) is bound by the gather: by runs (`_gather`) its forward went from 2.0 to 1.4 ms.
"""
from __future__ import annotations

from dataclasses import dataclass
from math import prod

from llvmlite import ir

from lowerflow.backend import parallel
from lowerflow.backend.errors import OUT_OF_MEMORY
from lowerflow.backend.gemm import (F32, KC, MC, Tile, _c, _elem, _function, _imin, _micro_kernel,
                                     _pack, tile_for)
from lowerflow.backend.kernels import KernelCtx
from lowerflow.backend.lltypes import I1, I32, I64, PTR, declare
from lowerflow.backend.loops import for_range
from lowerflow.ir.ops.conv import geometry

NS_PER_MAC = 1 / 40  # as the packed GEMM's (kernels_matmul.py)
KCI = 128  # positions per panel of the filter gradient: 128 gathered rows of K=800 are 400 KiB (L2)
FILTER_TICKETS = 4  # partial sums per thread of the filter gradient
#: Row-block tickets per thread of the forward and input gradient: a convolution's packed
#: filter stays in L2 (800x64 is 200 KiB), so, unlike the GEMM's few tall tickets, many small
#: ones balance the threads at no cost in traffic.
ROW_TICKETS = 16


@dataclass(frozen=True)
class Conv:
    """An implicit GEMM's static facts. patches[(b, oy, ox), (ky, kx, ci)] is
    src[b, vy / uy, vx / ux, ci] at vy = oy*sy + ky*dy - top (likewise vx), zero unless
    0 <= vy <= (h - 1)*uy and uy divides vy: `up` > 1 reads src dilated (zeros between its
    rows), as the input gradient of a strided convolution does. B[(ky, kx, ci), j] is
    f[ky, kx, ci, j] (f: [kh, kw, c, n]), or with `flip` f[kh-1-ky, kw-1-kx, j, ci]
    (f: [kh, kw, n, c])."""

    batch: int
    h: int
    w: int
    c: int
    oh: int
    ow: int
    kh: int
    kw: int
    strides: tuple[int, int]
    dilations: tuple[int, int]
    pads: tuple[int, int]  # top, left
    up: tuple[int, int]
    n: int
    flip: bool = False

    @property
    def m(self) -> int:
        return self.batch * self.oh * self.ow

    @property
    def k(self) -> int:
        return self.kh * self.kw * self.c

    @property
    def kp(self) -> int:
        """A gathered row's length: K rounded up to whole 64-byte lines (aligned B rows)."""
        return -(-self.k // 16) * 16

    @property
    def key(self) -> str:
        return "_".join(str(v) for v in (self.batch, self.h, self.w, self.c, self.oh, self.ow, self.kh, self.kw,
                                         *self.strides, *self.dilations, *self.pads, *self.up, self.n,
                                         int(self.flip)))


def _coord(b: ir.IRBuilder, g: Conv, o: ir.Value, tap: ir.Value, axis: int) -> tuple[ir.Value, ir.Value]:
    """(the source index, whether it is inside src) of output coordinate `o` at kernel tap `tap`."""
    size, up = (g.h, g.w)[axis], g.up[axis]
    v = b.sub(b.add(b.mul(o, _c(g.strides[axis])), b.mul(tap, _c(g.dilations[axis]))), _c(g.pads[axis]))
    ok = b.and_(b.icmp_signed(">=", v, _c(0)), b.icmp_signed("<=", v, _c((size - 1) * up)))
    if up == 1:
        return v, ok
    return b.udiv(v, _c(up)), b.and_(ok, b.icmp_unsigned("==", b.urem(v, _c(up)), _c(0)))


def _gather(m: ir.Module, g: Conv) -> ir.Function:
    """`void gather(src, dst, i0, rows)`: dst[r*KP + k] = patches[i0 + r, k] for r < rows.
    The rows go by runs along one output row (same image and oy): per run and tap the
    positions whose tap lies inside src form one range, known from the run's bounds, so
    each tap copies its channels for that range and writes zeros around it, without a
    check per element (what matters when c is 1: a CNN's first layer). Reading src dilated
    (`up` > 1) checks each element instead (`_gather_dilated`)."""
    name = f"conv.gather.{g.key}"
    if name in m.globals:
        return m.globals[name]
    if g.up != (1, 1):
        return _gather_dilated(m, g, name)
    fn, b = _gather_function(m, name)
    src, dst, i0, rows = fn.args
    (sy, sx), (dy, dx), (top, left) = g.strides, g.dilations, g.pads
    entry, loop, done = b.block, fn.append_basic_block("run.loop"), fn.append_basic_block("run.done")
    b.cbranch(b.icmp_signed("<", _c(0), rows), loop, done)
    b.position_at_end(loop)
    r = b.phi(I64, "r")
    r.add_incoming(_c(0), entry)
    i = b.add(i0, r)
    img, rem = b.udiv(i, _c(g.oh * g.ow)), b.urem(i, _c(g.oh * g.ow))
    oy, ox0 = b.udiv(rem, _c(g.ow)), b.urem(rem, _c(g.ow))
    run = _imin(b, b.sub(_c(g.ow), ox0), b.sub(rows, r))

    def tap_y(ky: ir.Value) -> None:
        iy = b.sub(b.add(b.mul(oy, _c(sy)), b.mul(ky, _c(dy))), _c(top))
        in_y = b.and_(b.icmp_signed(">=", iy, _c(0)), b.icmp_signed("<", iy, _c(g.h)))
        line = b.mul(b.add(b.mul(img, _c(g.h)), iy), _c(g.w))

        def tap_x(kx: ir.Value) -> None:
            shift = b.sub(b.mul(kx, _c(dx)), _c(left))  # ix = ox*sx + shift
            # ox inside: -shift <= ox*sx <= w - 1 - shift, as positions of this run
            first = b.sub(_ceil_div(b, b.neg(shift), sx), ox0)
            last = b.sub(_floor_div(b, b.sub(_c(g.w - 1), shift), sx), ox0)
            lo = _imin(b, _imax(b, first, _c(0)), run)
            hi = _imax(b, _imin(b, b.add(last, _c(1)), run), lo)
            lo, hi = b.select(in_y, lo, run), b.select(in_y, hi, run)
            tap = b.mul(b.add(b.mul(ky, _c(g.kw)), kx), _c(g.c))

            def store(p: ir.Value, value) -> None:
                out = b.add(b.mul(b.add(r, p), _c(g.kp)), tap)
                for_range(b, g.c, lambda ci: b.store(value(p, ci), _elem(b, dst, b.add(out, ci))), name="ci")

            def copied(p: ir.Value, ci: ir.Value) -> ir.Value:
                ix = b.add(b.mul(b.add(ox0, p), _c(sx)), shift)
                return b.load(_elem(b, src, b.add(b.mul(b.add(line, ix), _c(g.c)), ci)), typ=F32)

            def zero(p: ir.Value, ci: ir.Value) -> ir.Value:
                return ir.Constant(F32, 0.0)
            parallel.counted_loop(b, _c(0), lo, lambda p: store(p, zero), name="zl")
            parallel.counted_loop(b, lo, hi, lambda p: store(p, copied), name="cp")
            parallel.counted_loop(b, hi, run, lambda p: store(p, zero), name="zr")
        for_range(b, g.kw, tap_x, name="kx")
    for_range(b, g.kh, tap_y, name="ky")
    nxt = b.add(r, run)
    r.add_incoming(nxt, b.block)
    b.cbranch(b.icmp_signed("<", nxt, rows), loop, done)
    b.position_at_end(done)
    b.ret_void()
    return fn


def _imax(b: ir.IRBuilder, x: ir.Value, y: ir.Value) -> ir.Value:
    return b.select(b.icmp_signed(">", x, y), x, y)


def _floor_div(b: ir.IRBuilder, a: ir.Value, d: int) -> ir.Value:
    """floor(a / d) for a constant d >= 1 and any sign of a."""
    if d == 1:
        return a
    q = b.sdiv(a, _c(d))
    return b.select(b.and_(b.icmp_signed("<", a, _c(0)), b.icmp_signed("!=", b.mul(q, _c(d)), a)),
                    b.sub(q, _c(1)), q)


def _ceil_div(b: ir.IRBuilder, a: ir.Value, d: int) -> ir.Value:
    return b.neg(_floor_div(b, b.neg(a), d))


def _gather_function(m: ir.Module, name: str) -> tuple[ir.Function, ir.IRBuilder]:
    fn = ir.Function(m, ir.FunctionType(ir.VoidType(), [PTR] * 2 + [I64] * 2), name)
    fn.linkage = "internal"
    for a in fn.args[:2]:
        a.add_attribute("noalias")
    return fn, ir.IRBuilder(fn.append_basic_block("entry"))


def _gather_dilated(m: ir.Module, g: Conv, name: str) -> ir.Function:
    """`_gather` over a dilated src: each tap of each row checks its element (a select over
    a load clamped to src's first element: no branch)."""
    fn, b = _gather_function(m, name)
    src, dst, i0, rows = fn.args
    zero = ir.Constant(F32, 0.0)

    def row(r: ir.Value) -> None:
        i = b.add(i0, r)
        img, rem = b.udiv(i, _c(g.oh * g.ow)), b.urem(i, _c(g.oh * g.ow))
        oy, ox = b.udiv(rem, _c(g.ow)), b.urem(rem, _c(g.ow))
        base = b.mul(r, _c(g.kp))

        def tap_y(ky: ir.Value) -> None:
            iy, in_y = _coord(b, g, oy, ky, 0)
            line = b.mul(b.add(b.mul(img, _c(g.h)), iy), _c(g.w))

            def tap_x(kx: ir.Value) -> None:
                ix, in_x = _coord(b, g, ox, kx, 1)
                ok = b.and_(in_y, in_x)
                at = b.select(ok, b.mul(b.add(line, ix), _c(g.c)), _c(0))
                out = b.add(base, b.mul(b.add(b.mul(ky, _c(g.kw)), kx), _c(g.c)))

                def channel(ci: ir.Value) -> None:
                    v = b.load(_elem(b, src, b.add(at, ci)), typ=F32)
                    b.store(b.select(ok, v, zero), _elem(b, dst, b.add(out, ci)))
                for_range(b, g.c, channel, name="ci")
            for_range(b, g.kw, tap_x, name="kx")
        for_range(b, g.kh, tap_y, name="ky")
    parallel.counted_loop(b, _c(0), rows, row, name="r")
    b.ret_void()
    return fn


def _pack_filter(m: ir.Module, g: Conv, t: Tile) -> ir.Function:
    """`void packf(f, bp)`: B as the micro-kernel's strips, panel by panel: the panel of rows
    [pc, pc + kc) at bp + pc*NP (NP: n rounded up to whole strips), its strip s at
    + s*kc*NR, B[k, j] at + (k - pc)*NR + j % NR; columns past n are zeros."""
    fn, b = _function(m, "conv.packf", ir.VoidType(), [PTR, PTR])
    f, bp = fn.args
    nr, np_ = t.nr, -(-g.n // t.nr) * t.nr

    def row(k: ir.Value) -> None:
        pc = b.mul(b.udiv(k, _c(KC)), _c(KC))
        kc = _imin(b, _c(KC), b.sub(_c(g.k), pc))
        top = b.add(b.mul(pc, _c(np_)), b.mul(b.sub(k, pc), _c(nr)))
        if g.flip:
            ky, kx, co = b.udiv(k, _c(g.kw * g.c)), b.urem(b.udiv(k, _c(g.c)), _c(g.kw)), b.urem(k, _c(g.c))
            tap = b.add(b.mul(b.sub(_c(g.kh - 1), ky), _c(g.kw)), b.sub(_c(g.kw - 1), kx))

        def column(j: ir.Value) -> None:
            ok = b.icmp_signed("<", j, _c(g.n))
            if g.flip:
                at = b.add(b.mul(b.add(b.mul(tap, _c(g.n)), j), _c(g.c)), co)
            else:
                at = b.add(b.mul(k, _c(g.n)), j)
            v = b.load(_elem(b, f, b.select(ok, at, _c(0))), typ=F32)
            strip = b.udiv(j, _c(nr))
            to = b.add(b.add(top, b.mul(b.mul(strip, kc), _c(nr))), b.urem(j, _c(nr)))
            b.store(b.select(ok, v, ir.Constant(F32, 0.0)), _elem(b, bp, to))
        for_range(b, np_, column, name="j")
    for_range(b, g.k, row, name="k")
    b.ret_void()
    return fn


def _rows(m: ir.Module, g: Conv, t: Tile, gather: ir.Function, uk: ir.Function,
          epilogue: ir.Function | None, extra: int) -> ir.Function:
    """`i32 rows(src, out, ap, bp, extra..., lo, hi)`: output rows [lo, hi), MC at a time:
    gather the block's patches into `ap`, then its K panels times B's strips, then (with an
    `epilogue(out, extra..., lo, hi)`) the epilogue over the block, still in cache. Returns
    0 or the epilogue's first non-zero status."""
    fn, b = _function(m, "conv.rows", I32, [PTR] * (4 + extra) + [I64] * 2)
    src, out, ap, bp, *extras, lo, hi = fn.args
    np_ = -(-g.n // t.nr) * t.nr
    status = b.alloca(I32) if epilogue else None
    if status is not None:
        b.store(ir.Constant(I32, 0), status)

    def block(ic: ir.Value) -> None:
        mc = _imin(b, _c(MC), b.sub(hi, ic))
        b.call(gather, [src, ap, ic, mc])
        for pb in range(-(-g.k // KC)):
            pc = pb * KC
            kc = min(KC, g.k - pc)

            def strip(s: ir.Value, pb: int = pb, pc: int = pc, kc: int = kc) -> None:
                jr = b.mul(s, _c(t.nr))
                nr = _imin(b, _c(t.nr), b.sub(_c(g.n), jr))
                b_strip = _elem(b, bp, b.add(_c(pc * np_), b.mul(jr, _c(kc))))

                def row_strip(r: ir.Value) -> None:
                    mr = _imin(b, _c(t.mr), b.sub(mc, r))
                    c_tile = _elem(b, out, b.add(b.mul(b.add(ic, r), _c(g.n)), jr))
                    b.call(uk, [_elem(b, ap, b.add(b.mul(r, _c(g.kp)), _c(pc))), b_strip, c_tile, _c(kc), mr, nr,
                                ir.Constant(I1, pb == 0)])
                parallel.counted_loop(b, _c(0), mc, row_strip, step=t.mr, name="ir")
            for_range(b, -(-g.n // t.nr), strip, name="jr")
        if epilogue is not None:
            rc = b.call(epilogue, [out, *extras, ic, b.add(ic, mc)])
            b.store(b.or_(b.load(status, typ=I32), rc), status)  # codes are only ever one per op
    parallel.counted_loop(b, lo, hi, block, step=MC, name="ic")
    b.ret(ir.Constant(I32, 0) if status is None else b.load(status, typ=I32))
    return fn


def _allocate(m: ir.Module, fn: ir.Function, b: ir.IRBuilder, floats: int) -> ir.Value:
    """One 64-byte aligned buffer of `floats` floats; the function returns OUT_OF_MEMORY
    if there is none. Leaves `b` where the buffer is there."""
    p = b.call(declare(m, "aligned_alloc", PTR, [I64, I64]), [_c(64), _c(-(-4 * floats // 64) * 64)])
    oom, run = fn.append_basic_block("oom"), fn.append_basic_block("run")
    b.cbranch(b.icmp_unsigned("==", p, ir.Constant(PTR, None)), oom, run)
    b.position_at_end(oom)
    b.ret(ir.Constant(I32, OUT_OF_MEMORY))
    b.position_at_end(run)
    return p


def _free(b: ir.IRBuilder, p: ir.Value) -> None:
    b.call(declare(b.module, "free", ir.VoidType(), [PTR]), [p])


def emit_conv(m: ir.Module, g: Conv, threads: int, vector_registers: int,
              epilogue: ir.Function | None = None, extra: int = 0) -> ir.Function:
    """`i32 conv(src, f, out, extra...)`: out[M, N] = patches @ B, then `epilogue` (see
    `_rows`) on each block of rows; 0, OUT_OF_MEMORY or the epilogue's status."""
    name = f"conv.{g.key}.t{threads}.r{vector_registers}"
    if epilogue is None and name in m.globals:
        return m.globals[name]
    t = tile_for(vector_registers, g.n)
    np_ = -(-g.n // t.nr) * t.nr
    rows = _rows(m, g, t, _gather(m, g), _micro_kernel(m, t, g.n, (g.kp, 1)), epilogue, extra)
    packf = _pack_filter(m, g, t)
    # a fused one is named apart, or a plain convolution of the same geometry emitted later
    # would find it by the plain name and call it without the epilogue's buffers
    fn, entry = _function(m, name if epilogue is None else f"{name}.epilogue", I32, [PTR] * (3 + extra),
                          captured=threads > 1)
    src, f, out, *extras = fn.args
    b = ir.IRBuilder(fn.append_basic_block("body"))
    work = _allocate(m, fn, b, g.k * np_ + MC * g.kp * threads)  # B's strips, then each thread's patches
    b.call(packf, [f, work])
    bp, ap = work, _elem(b, work, _c(g.k * np_))
    if threads == 1:
        rc = b.call(rows, [src, out, ap, bp, *extras, _c(0), _c(g.m)])
    else:
        tickets = parallel.counters(b, entry, 1, f"{fn.name}.tickets")
        per = parallel.chunk_size(g.m, t.mr, threads, ROW_TICKETS)

        def share(wb: ir.IRBuilder, v: list, team: parallel.Team) -> ir.Value:
            own = _elem(wb, v[3], wb.mul(team.tid, _c(MC * g.kp)))
            return parallel.ticket_loop(wb, team, v[4], _c(g.m), _c(per),
                                        lambda lo, hi: wb.call(rows, [v[0], v[1], own, v[2], *v[5:], lo, hi]))
        rc = parallel.fork(b, entry, [src, out, bp, ap, tickets, *extras], threads, share, f"{fn.name}.omp",
                           lambda: b.call(rows, [src, out, ap, bp, *extras, _c(0), _c(g.m)]))
    _free(b, work)
    b.ret(rc)
    entry.branch(fn.blocks[1])
    return fn


def _filter_panels(m: ir.Module, g: Conv, t: Tile, gather: ir.Function, pack_dy: ir.Function,
                   uk: ir.Function) -> ir.Function:
    """`void panels(src, dy, part, gbuf, abuf, lo, hi)`: part[co, k] = the sum over positions
    [lo, hi) of dy[i, co] * patches[i, k] (row stride KP), KCI positions at a time."""
    fn, b = _function(m, "conv.fpanels", ir.VoidType(), [PTR] * 5 + [I64] * 2)
    src, dy, part, gbuf, abuf, lo, hi = fn.args

    def panel(i0: ir.Value) -> None:
        kc = _imin(b, _c(KCI), b.sub(hi, i0))
        b.call(gather, [src, gbuf, i0, kc])
        b.call(pack_dy, [dy, abuf, _c(0), i0, _c(g.n), kc])
        first = b.icmp_signed("==", i0, lo)

        def strip(s: ir.Value) -> None:
            jr = b.mul(s, _c(t.nr))
            nr = _imin(b, _c(t.nr), b.sub(_c(g.k), jr))

            def row_strip(r: ir.Value) -> None:
                mr = _imin(b, _c(t.mr), b.sub(_c(g.n), r))
                b.call(uk, [_elem(b, abuf, b.mul(r, kc)), _elem(b, gbuf, jr),
                            _elem(b, part, b.add(b.mul(r, _c(g.kp)), jr)), kc, mr, nr, first])
            parallel.counted_loop(b, _c(0), _c(g.n), row_strip, step=t.mr, name="ir")
        for_range(b, -(-g.k // t.nr), strip, name="jr")
    parallel.counted_loop(b, lo, hi, panel, step=KCI, name="i0")
    b.ret_void()
    return fn


def emit_filter_grad(m: ir.Module, g: Conv, threads: int, vector_registers: int) -> ir.Function:
    """`i32 fgrad(src, dy, df)`: df[k, co] = sum over positions i of patches[i, k] * dy[i, co]."""
    name = f"conv.fgrad.{g.key}.t{threads}.r{vector_registers}"
    if name in m.globals:
        return m.globals[name]
    t = tile_for(vector_registers, g.k)
    panels = _filter_panels(m, g, t, _gather(m, g), _pack(m, t.mr, 1, g.n),
                            _micro_kernel(m, t, g.kp, b_stride=g.kp))
    per = g.m if threads == 1 else parallel.chunk_size(g.m, KCI, threads, FILTER_TICKETS)
    parts = -(-g.m // per)
    gbuf = KCI * g.kp + t.nr  # a strip reads up to NR columns past K
    abuf = KCI * -(-g.n // t.mr) * t.mr
    part = g.n * g.kp
    fn, entry = _function(m, name, I32, [PTR] * 3, captured=threads > 1)
    src, dy, df = fn.args
    b = ir.IRBuilder(fn.append_basic_block("body"))
    work = _allocate(m, fn, b, parts * part + threads * (gbuf + abuf))

    def scratch(bb: ir.IRBuilder, base: ir.Value, tid: ir.Value) -> tuple[ir.Value, ir.Value]:
        own = _elem(bb, base, bb.add(_c(parts * part), bb.mul(tid, _c(gbuf + abuf))))
        return own, _elem(bb, own, _c(gbuf))

    if threads == 1:
        b.call(panels, [src, dy, work, *scratch(b, work, _c(0)), _c(0), _c(g.m)])
    else:
        tickets = parallel.counters(b, entry, 1, f"{fn.name}.tickets")

        def share(wb: ir.IRBuilder, v: list, team: parallel.Team) -> ir.Value:
            own_g, own_a = scratch(wb, v[2], team.tid)

            def ticket(lo: ir.Value, hi: ir.Value) -> None:
                mine = _elem(wb, v[2], wb.mul(wb.sdiv(lo, _c(per)), _c(part)))
                wb.call(panels, [v[0], v[1], mine, own_g, own_a, lo, hi])
            return parallel.ticket_loop(wb, team, v[3], _c(g.m), _c(per), ticket)

        def serial() -> None:
            for p in range(parts):
                b.call(panels, [src, dy, _elem(b, work, _c(p * part)), *scratch(b, work, _c(0)), _c(p * per),
                                _c(min(g.m, (p + 1) * per))])
        parallel.fork(b, entry, [src, dy, work, tickets], threads, share, f"{fn.name}.omp", serial)

    def element(k: ir.Value) -> None:
        def channel(co: ir.Value) -> None:
            at = b.add(b.mul(co, _c(g.kp)), k)
            total = b.load(_elem(b, work, at), typ=F32)
            for p in range(1, parts):
                total = b.fadd(total, b.load(_elem(b, work, b.add(at, _c(p * part))), typ=F32))
            b.store(total, _elem(b, df, b.add(b.mul(k, _c(g.n)), co)))
        for_range(b, g.n, channel, name="co")
    for_range(b, g.k, element, name="k")
    _free(b, work)
    b.ret(ir.Constant(I32, 0))
    entry.branch(fn.blocks[1])
    return fn


def forward_geometry(attrs: dict, x_shape, f_shape, out_shape) -> Conv:
    strides, dilations, pads = geometry(attrs)
    return Conv(x_shape[0], x_shape[1], x_shape[2], x_shape[3], out_shape[1], out_shape[2], f_shape[0], f_shape[1],
                tuple(strides), tuple(dilations), (pads[0][0], pads[1][0]), (1, 1), f_shape[3])


def _input_grad_geometry(attrs: dict, x_shape, f_shape, dy_shape) -> Conv:
    """The input gradient as a stride-1 convolution of out_backprop (dilated by the strides)
    with the flipped filter: dx[iy] gathers dy at vy = iy + ky*d - (span - 1 - top)."""
    strides, dilations, pads = geometry(attrs)
    span = [(k - 1) * d + 1 for k, d in zip(f_shape[:2], dilations)]
    return Conv(dy_shape[0], dy_shape[1], dy_shape[2], dy_shape[3], x_shape[1], x_shape[2], f_shape[0], f_shape[1],
                (1, 1), tuple(dilations), (span[0] - 1 - pads[0][0], span[1] - 1 - pads[1][0]), tuple(strides),
                f_shape[2], flip=True)


def call(kc: KernelCtx, emit, g: Conv, buffers: list, **epilogue) -> None:
    """Call the kernel `emit` makes for `g` on `buffers` (failing the step with its status),
    or zero the result when it sums over nothing (no channels, or a filter gradient over an
    empty batch)."""
    b, out = kc.b, kc.results[0]
    if g.k == 0 or g.m == 0:
        memset = declare(kc.module, "llvm.memset.p0.i64", ir.VoidType(), [PTR, ir.IntType(8), I64, I1])
        b.call(memset, [out.ptr, ir.Constant(ir.IntType(8), 0), _c(4 * prod(out.type.shape)), ir.Constant(I1, 0)])
        return
    threads = parallel.threads_for(kc, g.m * g.n * g.k * NS_PER_MAC)
    kc.return_status(b.call(emit(kc.module, g, threads, kc.target.vector_registers, **epilogue),
                            [buf.ptr for buf in buffers]))


def require_float32(kc: KernelCtx, op_name: str) -> None:
    dtype = kc.results[0].type.dtype
    if dtype.name != "f32":
        raise NotImplementedError(f"no native lowering for op '{op_name}' on {dtype.np_name} "
                                  "(float32 only; the frontend composes other dtypes)")


def lower_conv2d(kc: KernelCtx, attrs: dict) -> None:
    require_float32(kc, "lf.conv2d")
    (x, f), y = kc.operands, kc.results[0]
    if prod(y.type.shape):
        call(kc, emit_conv, forward_geometry(attrs, x.type.shape, f.type.shape, y.type.shape), [x, f, y])


def lower_conv2d_backprop_input(kc: KernelCtx, attrs: dict) -> None:
    require_float32(kc, "lf.conv2d_backprop_input")
    (x, f, dy), dx = kc.operands, kc.results[0]
    if prod(dx.type.shape):
        call(kc, emit_conv, _input_grad_geometry(attrs, x.type.shape, f.type.shape, dy.type.shape), [dy, f, dx])


def lower_conv2d_backprop_filter(kc: KernelCtx, attrs: dict) -> None:
    require_float32(kc, "lf.conv2d_backprop_filter")
    (x, dy), df = kc.operands, kc.results[0]
    if prod(df.type.shape):
        g = forward_geometry(attrs, x.type.shape, df.type.shape, dy.type.shape)
        call(kc, emit_filter_grad, g, [x, dy, df])

