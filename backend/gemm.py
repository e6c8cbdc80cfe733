"""A packed (BLIS/Goto-style) float32 GEMM generated as LLVM IR: C = A @ B.

Why: the i-k-j loop kernel reaches ~0.27x of single-thread OpenBLAS at 1024^3, while
this structure, with a 6x16 register tile written with explicit `<8 x float>` vectors
and `llvm.fma`, reached 0.91-0.94x (measured; loop-vectorising a scalar tile
does not produce the register blocking); with AVX-512 the tile is 6x64 in `<16 x float>`
(`tile_for`). cf. BLIS's five loops around a micro-kernel.

    for jc in 0..N step NC:                        B panel KC x NC, packed once per (jc, pc)
      for pc in 0..K step KC:
        pack B[pc:pc+kc, jc:jc+nc] -> Bp: strips of NR columns, k-major, zero-padded
        for ic in 0..M step MC:                    split across threads (each packs its own Ap)
          pack A[ic:ic+mc, pc:pc+kc] -> Ap: strips of MR rows, k-major, zero-padded (L2)
          for jr in 0..nc step NR: for ir in 0..mc step MR:   (Bp strip stays in L1)
            micro-kernel: MR x NV vector accumulators (phis; NR = NV * lanes) over kc; per
            k NV loads of Bp, MR broadcasts of Ap, MR*NV FMAs; then C (+)= acc (+= from
            the second k-panel on), masked loads/stores for edge tiles

A product with a single column strip (N <= NR) and A contiguous along k skips packing A:
each element of A would be used once, so the micro-kernel reads A's rows in place (a
partial last strip re-reads its last row instead of zero padding; those rows are not stored).

Shapes and strides are compile-time constants (every function is specialised to one
matmul), so transposed operands only change the packing loops, which always read along
the operand's contiguous axis. The two packing buffers come from `aligned_alloc` per
call (OUT_OF_MEMORY if that fails), not from the step's arena.

With `threads` > 1 one `parallel.fork` runs on every thread, with no barrier: threads first
take tickets to pack B's panels (all of them, one buffer each: the packed B is the size of
B), each ticket adding its columns to its panel's counter; then tickets of C's row blocks
(about ROW_TICKETS per thread), each over every (jc, pc) panel in order, so one thread owns
its rows' sums and a block waits only until the panels it reads are packed
(`parallel.wait_at_least`). A thread that loses its core to another process then packs and
multiplies less, and holds the others up only with a ticket in hand: with a barrier a panel,
the team waited at each one for a thread that had no core, even one with nothing to do.
Tickets are few and tall (ROW_TICKETS): a ticket reads all of packed B, which outgrows L2
(4 MiB at 1024^2), so each ticket streams B from L3 once, and within a ticket each B panel
stays in L2 across its MC blocks. Sixteen tickets of 36 rows a thread left 1024^3 at 7.4 ms on
2 threads, 1.6x one thread's 11.9 (two one-thread processes side by side: 2.0x); two a thread,
6.3 ms (Xeon model 167, AVX-512, 2 MiB L2 a core). With MC, KC below, measured in turns in one
process: 8.05 ms before, 6.81 after, numpy's OpenBLAS 6.86.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from llvmlite import ir

from lowerflow.backend import parallel
from lowerflow.backend.errors import OUT_OF_MEMORY
from lowerflow.backend.lltypes import I1, I32, I64, PTR, declare
from lowerflow.backend.loops import for_range

F32 = ir.FloatType()
#: Ap 96 KiB (L2); a Bp strip KC x NR, 32 KiB in zmm (L1: at KC 256 it was 64 KiB and
#: streamed from L2); B panel up to 1 MiB (L2). On the Xeon above, from 96, 256: 1024^3 one
#: thread 11.9 -> 11.4 ms; 2048^3 two threads 57 -> 50 ms.
MC, KC, NC = 192, 128, 2048
FM = ("contract",)
#: Row-block tickets per thread, each over all of K and N (several MC blocks; see above): a
#: thread that finishes first waits at the region's end for at most one ticket of the
#: others, and one that loses its core gives the other its second ticket.
ROW_TICKETS = 2


@dataclass(frozen=True)
class Tile:
    """The register tile: MR rows x NV vectors of `lanes` floats each, NR = NV*lanes columns."""

    mr: int
    nv: int
    lanes: int = 8

    @property
    def nr(self) -> int:
        return self.nv * self.lanes

    @property
    def vector(self) -> ir.VectorType:
        return ir.VectorType(F32, self.lanes)

    @property
    def kc(self) -> int:
        """K per packed panel of the GEMM: KC in zmm; twice that in ymm, whose Bp strip (KC x
        16 floats, 16 KiB) still fits L1 and whose C tile is then read and written half as
        often: on Zen 3, 1024^3 one thread 23.8 -> 22.9 ms (OpenBLAS 23.0)."""
        return KC if self.lanes == 16 else 2 * KC


def tile_for(vector_registers: int, n: int | None = None) -> Tile:
    """The register tile for a product with `n` columns (None: wide).

    6x16 in ymm (12 accumulators + 2 B vectors + broadcasts) fits AVX2's 16 registers.
    32 registers mean AVX-512: 6x64 in zmm (24 accumulators). Measured at 1024^3, one thread:
    on Zen 5, whose FMA units are 512 bits wide, zmm doubles the rate (203 against 109
    GFLOP/s for 6x32 in ymm; 12x32 203, 8x48 199, 4x96 192; the MLP of bench/ 1.67 against
    3.20 ms); on Zen 4 (double-pumped 512-bit FMAs) 6x32 in ymm gave 1.0x OpenBLAS.
    Narrow products take as few zmm columns as cover n, with more rows: 256x512x10 took
    23 µs with 12x16 against 33 with 6x64 (numpy 22); 256x512x30 42 µs with 8x32."""
    if vector_registers < 32:
        return Tile(6, 2)
    nv = 4 if n is None else min(4, -(-n // 16))
    return Tile({1: 12, 2: 8, 3: 8, 4: 6}[nv], nv, 16)


@dataclass(frozen=True)
class Gemm:
    """One matmul's static facts: C[M, N] = A[M, K] @ B[K, N], with A[i, k] at
    i*a_strides[0] + k*a_strides[1] and B[k, j] at k*b_strides[0] + j*b_strides[1]."""

    m: int
    n: int
    k: int
    a_strides: tuple[int, int]
    b_strides: tuple[int, int]


def _c(v: int) -> ir.Constant:
    return ir.Constant(I64, v)


def _imin(b: ir.IRBuilder, x: ir.Value, y: ir.Value) -> ir.Value:
    return b.select(b.icmp_signed("<", x, y), x, y)


def _function(m: ir.Module, name: str, ret: ir.Type, args: list[ir.Type],
              captured: bool = False) -> tuple[ir.Function, ir.IRBuilder]:
    """An internal function whose pointer arguments (operands, packing buffers, the result)
    never overlap; `captured`: they escape (into a `parallel.fork` block)."""
    fn = ir.Function(m, ir.FunctionType(ret, args), m.get_unique_name(name))
    fn.linkage = "internal"
    for a in fn.args:
        if a.type == PTR:
            a.add_attribute("noalias")
            if not captured:
                a.add_attribute("captures(none)")
    return fn, ir.IRBuilder(fn.append_basic_block("entry"))


def _elem(b: ir.IRBuilder, ptr: ir.Value, index: ir.Value) -> ir.Value:
    return b.gep(ptr, [index], source_etype=F32, inbounds=True)


def _pack(m: ir.Module, strip: int, s_outer: int, s_k: int, lanes: int = 16) -> ir.Function:
    """`void pack(src, dst, o0, k0, n_outer, kc)`: dst[t*kc*strip + k*strip + r] =
    src[(o0 + t*strip + r)*s_outer + (k0 + k)*s_k] for t*strip + r < n_outer, zero-padded
    to whole strips. Rows (of A) or columns (of B) are `outer`. Full strips copy without
    checks; only the last, partial strip clamps and selects per element. A source
    contiguous along k (A, or a transposed B) is read `lanes` k at a time from each of a
    strip's rows and transposed in registers (`_transposed_block`): left to the vectoriser,
    its stride-`strip` stores became scatters, 9% of a 1024^3 matmul on Zen 4."""
    fn, b = _function(m, "gemm.pack", ir.VoidType(), [PTR, PTR, I64, I64, I64, I64])
    src, dst, o0, k0, n_outer, kc = fn.args
    full = b.sdiv(n_outer, _c(strip))
    last = b.sub(b.add(o0, n_outer), _c(1))

    def element(t: ir.Value, r: ir.Value, k: ir.Value, partial: bool) -> None:
        o = b.add(b.add(o0, b.mul(t, _c(strip))), r)
        at = b.add(b.mul(_imin(b, o, last) if partial else o, _c(s_outer)), b.mul(b.add(k0, k), _c(s_k)))
        v = b.load(_elem(b, src, at), typ=F32)
        if partial:
            v = b.select(b.icmp_signed("<=", o, last), v, ir.Constant(F32, 0.0))
        b.store(v, _elem(b, dst, b.add(b.mul(b.add(b.mul(t, kc), k), _c(strip)), r)))

    def per_strip(t: ir.Value, partial: bool) -> None:
        def across(k: ir.Value) -> None:
            for_range(b, strip, lambda r: element(t, r, k, partial), name="r")
        rest = _c(0)
        if s_k == 1 and not partial:  # contiguous along k: blocks of `lanes` k, then the rest
            blocks = b.sdiv(kc, _c(lanes))
            parallel.counted_loop(b, _c(0), blocks, lambda kb: _transposed_block(
                b, src, dst, b.add(o0, b.mul(t, _c(strip))), b.add(k0, b.mul(kb, _c(lanes))), s_outer,
                b.add(b.mul(t, kc), b.mul(kb, _c(lanes))), strip, lanes), name="kb")
            rest = b.mul(blocks, _c(lanes))
        # a strip-wide row per k: contiguous stores (a source contiguous along k is read
        # across rows here, for the last few k and the partial strip only)
        parallel.counted_loop(b, rest, kc, across, name="k")
    parallel.counted_loop(b, _c(0), full, lambda t: per_strip(t, False), name="t")
    edge, done = fn.append_basic_block("edge"), fn.append_basic_block("done")
    b.cbranch(b.icmp_signed("<", b.mul(full, _c(strip)), n_outer), edge, done)
    b.position_at_end(edge)
    per_strip(full, True)
    b.branch(done)
    b.position_at_end(done)
    b.ret_void()
    return fn


def _concat(b: ir.IRBuilder, vectors: list[ir.Value]) -> ir.Value:
    """One vector holding `vectors` (equal types) one after another, then copies of the last
    (shufflevector joins two operands of one type: an odd count pads with the last)."""
    while len(vectors) > 1:
        if len(vectors) % 2:
            vectors = vectors + vectors[-1:]
        n = 2 * vectors[0].type.count
        mask = ir.Constant(ir.VectorType(I32, n), list(range(n)))
        vectors = [b.shuffle_vector(x, y, mask) for x, y in zip(vectors[::2], vectors[1::2])]
    return vectors[0]


def _transposed_block(b: ir.IRBuilder, src: ir.Value, dst: ir.Value, o: ir.Value, k: ir.Value,
                      s_outer: int, at: ir.Value, strip: int, lanes: int) -> None:
    """Pack `lanes` k of one full strip from a k-contiguous source: rows o..o+strip-1 at
    `k` become dst[(at + kk)*strip + r]. Rows go in groups of g = min(strip, lanes): one
    vector load per row, one shuffle to k-major order, contiguous stores (no scatter)."""
    g = min(strip, lanes)
    assert strip % g == 0, (strip, lanes)
    vt = ir.VectorType(F32, lanes)
    for group in range(strip // g):
        rows = [b.load(_elem(b, src, b.add(b.mul(b.add(o, _c(group * g + r)), _c(s_outer)), k)), typ=vt, align=4)
                for r in range(g)]
        whole = _concat(b, rows)
        order = [r * lanes + kk for kk in range(lanes) for r in range(g)]
        packed = b.shuffle_vector(whole, whole, ir.Constant(ir.VectorType(I32, g * lanes), order))
        if g == strip:  # the strip's lanes k lie contiguous
            b.store(packed, _elem(b, dst, b.mul(at, _c(strip))), align=4)
            continue
        for kk in range(lanes):
            piece = b.shuffle_vector(packed, packed, ir.Constant(ir.VectorType(I32, g), list(range(kk * g, kk * g + g))))
            b.store(piece, _elem(b, dst, b.add(b.mul(b.add(at, _c(kk)), _c(strip)), _c(group * g))), align=4)


def _elem64(b: ir.IRBuilder, ptr: ir.Value, index: ir.Value) -> ir.Value:
    return b.gep(ptr, [index], source_etype=I64, inbounds=True)


def _splat(b: ir.IRBuilder, x: ir.Value, lanes: int) -> ir.Value:
    """x in every one of `lanes` lanes (a broadcast)."""
    vt = ir.VectorType(x.type, lanes)
    one = b.insert_element(ir.Constant(vt, None), x, ir.Constant(I32, 0))
    return b.shuffle_vector(one, ir.Constant(vt, None), ir.Constant(ir.VectorType(I32, lanes), [0] * lanes))


def _micro_kernel(m: ir.Module, t: Tile, ldc: int, a_strides: tuple[int, int] | None = None,
                  b_stride: int | None = None) -> ir.Function:
    """`void uk(ap, bp, c, kc, mr, nr, first)`: the MR x NR tile at `c` (row stride `ldc`)
    becomes (first ? 0 : c) + Ap strip @ Bp strip, of which the top-left mr x nr is stored.
    With `a_strides` (along rows, along k) `ap` is A itself, unpacked: rows past mr re-read
    row mr - 1 (never past A's end); their results are not stored. `b_stride`: Bp's rows
    lie that many floats apart (default NR, a packed strip; a multiple of the vector
    width), e.g. rows of a wider matrix read in place (a convolution's gathered patches)."""
    MR, NV, NR, W, V = t.mr, t.nv, t.nr, t.lanes, t.vector
    fn, b = _function(m, "gemm.uk", ir.VoidType(), [PTR, PTR, PTR, I64, I64, I64, I1])
    ap, bp, c, kc, mr, nr, first = fn.args
    if a_strides is None:  # packed: element (r, k) at k*MR + r, zero-padded rows
        rows, a_k = [_elem(b, ap, _c(r)) for r in range(MR)], MR
    else:
        rows = [_elem(b, ap, b.mul(_imin(b, _c(r), b.sub(mr, _c(1))), _c(a_strides[0]))) for r in range(MR)]
        a_k = a_strides[1]
    fma = declare(m, f"llvm.fma.v{W}f32", V, [V, V, V])
    prefetch = declare(m, "llvm.prefetch.p0", ir.VoidType(), [PTR, I32, I32, I32])
    for r in range(MR):  # C's tile is read after kc*MR*NV/2 cycles of FMAs: fetch it now (+3%)
        for off in sorted({*range(0, NR, 16), NR - 1}):  # every 64-byte line of the row
            b.call(prefetch, [_elem(b, c, _c(r * ldc + off)), ir.Constant(I32, 1), ir.Constant(I32, 3),
                              ir.Constant(I32, 1)])
    entry = b.block
    loop, done = fn.append_basic_block("k.loop"), fn.append_basic_block("k.done")
    b.branch(loop)  # kc >= 1
    b.position_at_end(loop)
    k = b.phi(I64, "k")
    accs = [[b.phi(V, f"acc{r}_{h}") for h in range(NV)] for r in range(MR)]
    bk = b.mul(k, _c(NR if b_stride is None else b_stride))
    bv = [b.load(_elem(b, bp, b.add(bk, _c(h * W))), typ=V, align=min(4 * W, 64)) for h in range(NV)]
    ak = b.mul(k, _c(a_k))
    new = []
    for r in range(MR):
        a = _splat(b, b.load(_elem(b, rows[r], ak), typ=F32), W)
        new.append([b.call(fma, [a, bv[h], accs[r][h]]) for h in range(NV)])
    k1 = b.add(k, _c(1), flags=("nuw", "nsw"))
    k.add_incoming(_c(0), entry)
    k.add_incoming(k1, loop)
    for r in range(MR):
        for h in range(NV):
            accs[r][h].add_incoming(ir.Constant(V, [0.0] * W), entry)
            accs[r][h].add_incoming(new[r][h], loop)
    b.cbranch(b.icmp_signed("<", k1, kc), loop, done)

    b.position_at_end(done)
    full_bb, edge_bb, ret = (fn.append_basic_block(x) for x in ("full", "edge", "ret"))
    b.cbranch(b.and_(b.icmp_signed("==", mr, _c(MR)), b.icmp_signed("==", nr, _c(NR))), full_bb, edge_bb)

    b.position_at_end(full_bb)  # plain vector loads and stores
    for r in range(MR):
        for h in range(NV):
            p = _elem(b, c, _c(r * ldc + h * W))
            old = b.load(p, typ=V, align=4)
            b.store(b.select(first, new[r][h], b.fadd(old, new[r][h], flags=FM)), p, align=4)
    b.branch(ret)

    b.position_at_end(edge_bb)  # masked: rows >= mr and columns >= nr are left alone
    mtype = ir.VectorType(I1, W)
    mload = declare(m, f"llvm.masked.load.v{W}f32.p0", V, [PTR, I32, mtype, V])
    mstore = declare(m, f"llvm.masked.store.v{W}f32.p0", ir.VoidType(), [V, PTR, I32, mtype])
    lanes = ir.Constant(ir.VectorType(I64, W), list(range(W)))
    zero = ir.Constant(V, [0.0] * W)
    for h in range(NV):
        cols = b.icmp_signed("<", b.add(lanes, _splat(b, _c(h * W), W)), _splat(b, nr, W))
        for r in range(MR):
            mask = b.and_(cols, _splat(b, b.icmp_signed(">", mr, _c(r)), W))
            p = _elem(b, c, _c(r * ldc + h * W))
            old = b.call(mload, [p, ir.Constant(I32, 4), mask, zero])
            b.call(mstore, [b.select(first, new[r][h], b.fadd(old, new[r][h], flags=FM)), p,
                            ir.Constant(I32, 4), mask])
    b.branch(ret)
    b.position_at_end(ret)
    b.ret_void()
    return fn


def _macro_kernel(m: ir.Module, g: Gemm, t: Tile, pack_a: ir.Function | None, uk: ir.Function) -> ir.Function:
    """`void macro(A, C, ap, bp, jc, nc, pc, kc, lo, hi)`: rows [lo, hi) of C's columns
    [jc, jc+nc) get the (pc, kc) panel's contribution, Bp packed already, Ap packed here
    (without `pack_a` the micro-kernel reads A where it is)."""
    MR, NR = t.mr, t.nr
    fn, b = _function(m, "gemm.macro", ir.VoidType(), [PTR] * 4 + [I64] * 6)
    a, c, ap, bp, jc, nc, pc, kc, lo, hi = fn.args
    first = b.icmp_signed("==", pc, _c(0))

    def row_block(ic: ir.Value) -> None:
        mc = _imin(b, _c(MC), b.sub(hi, ic))
        if pack_a is not None:
            b.call(pack_a, [a, ap, ic, pc, mc, kc])

        def column_strip(jr: ir.Value) -> None:
            nr = _imin(b, _c(NR), b.sub(nc, jr))
            bstrip = _elem(b, bp, b.mul(jr, kc))
            ctop = b.add(b.mul(ic, _c(g.n)), b.add(jc, jr))

            def row_strip(ir_: ir.Value) -> None:
                mr = _imin(b, _c(MR), b.sub(mc, ir_))
                if pack_a is None:
                    (sa_i, sa_k), row = g.a_strides, b.add(ic, ir_)
                    strip = _elem(b, a, b.add(b.mul(row, _c(sa_i)), b.mul(pc, _c(sa_k))))
                else:
                    strip = _elem(b, ap, b.mul(ir_, kc))
                b.call(uk, [strip, bstrip, _elem(b, c, b.add(ctop, b.mul(ir_, _c(g.n)))), kc, mr, nr, first])
            parallel.counted_loop(b, _c(0), mc, row_strip, step=MR, name="ir")
        parallel.counted_loop(b, _c(0), nc, column_strip, step=NR, name="jr")
    parallel.counted_loop(b, lo, hi, row_block, step=MC, name="ic")
    b.ret_void()
    return fn


def emit_gemm(m: ir.Module, g: Gemm, threads: int, vector_registers: int, epilogue: ir.Function | None = None,
              extra: int = 0) -> ir.Function:
    """`i32 gemm(A, B, C, extra...)` for `g` (M, N, K >= 1) in module `m`: 0, OUT_OF_MEMORY
    when the packing buffers cannot be allocated, or the `epilogue`'s first non-zero
    status. `threads` > 1 splits rows across threads; `vector_registers` (16 or 32) of the
    target choose the register tile. With `epilogue(C, extra..., lo, hi)`, each row ticket
    (alone: all the rows) calls it on its rows once their sums are whole, on its thread,
    while they are in cache. Matmuls of the same shape and layout in one module share the
    function, unless fused."""
    (sa_i, sa_k), (sb_k, sb_j) = g.a_strides, g.b_strides
    name = f"gemm.{g.m}x{g.k}x{g.n}.a{sa_i}_{sa_k}.b{sb_k}_{sb_j}.t{threads}.r{vector_registers}"
    if epilogue is None and name in m.globals:
        return m.globals[name]
    t = tile_for(vector_registers, g.n)
    MR, NR, depth = t.mr, t.nr, t.kc
    # One column strip uses each element of A once: packing it would only copy it. Rows
    # read in place need A contiguous along k (a transposed A is packed).
    in_place = g.n <= NR and g.a_strides[1] == 1
    pack_a = None if in_place else _pack(m, MR, g.a_strides[0], g.a_strides[1], t.lanes)
    pack_b = _pack(m, NR, g.b_strides[1], g.b_strides[0], t.lanes)
    macro = _macro_kernel(m, g, t, pack_a, _micro_kernel(m, t, g.n, g.a_strides if in_place else None))
    fn, entry = _function(m, name if epilogue is None else f"{name}.epilogue", I32, [PTR] * (3 + extra),
                          captured=threads > 1)
    a, bm, c, *extras = fn.args
    b = ir.IRBuilder(fn.append_basic_block("body"))
    kc_max = min(depth, g.k)  # packed panels are zero-padded to whole strips:
    nc_max, mc_max = -(-min(NC, g.n) // NR) * NR, -(-min(MC, g.m) // MR) * MR
    alloc = declare(m, "aligned_alloc", PTR, [I64, I64])
    free = declare(m, "free", ir.VoidType(), [PTR])
    bp_floats = -(-kc_max * nc_max // 16) * 16  # one Bp buffer, whole 64-byte lines
    k_panels, n_panels = -(-g.k // depth), -(-g.n // NC)
    bp = b.call(alloc, [_c(64), _c(4 * bp_floats * (k_panels * n_panels if threads > 1 else 1))])
    ap_bytes = 64 if in_place else -(-kc_max * mc_max * 4 // 64) * 64 * threads  # in place: unused
    ap = b.call(alloc, [_c(64), _c(ap_bytes)])
    oom, run = fn.append_basic_block("oom"), fn.append_basic_block("run")
    null = ir.Constant(PTR, None)
    b.cbranch(b.or_(b.icmp_unsigned("==", bp, null), b.icmp_unsigned("==", ap, null)), oom, run)
    b.position_at_end(oom)
    b.call(free, [ap])
    b.call(free, [bp])
    b.ret(ir.Constant(I32, OUT_OF_MEMORY))
    b.position_at_end(run)

    def panel_loops(bb: ir.IRBuilder, body: Callable[[ir.Value, ir.Value, ir.Value, ir.Value, ir.Value], None]) -> None:
        """`body(jc, nc, pc, kc, index)` for each (jc, pc) panel, k-panels inner; `index`
        numbers the panels (jb * k_panels + pb)."""
        def column_panel(jb: ir.Value) -> None:
            jc = bb.mul(jb, _c(NC))
            nc = _imin(bb, _c(NC), bb.sub(_c(g.n), jc))

            def k_panel(pb: ir.Value) -> None:
                pc = bb.mul(pb, _c(depth))
                body(jc, nc, pc, _imin(bb, _c(depth), bb.sub(_c(g.k), pc)), bb.add(bb.mul(jb, _c(k_panels)), pb))
            for_range(bb, k_panels, k_panel, name="pb")
        for_range(bb, n_panels, column_panel, name="jb")

    def finish(bb: ir.IRBuilder, c_: ir.Value, ex: list[ir.Value], lo: ir.Value, hi: ir.Value) -> ir.Value | None:
        """The epilogue on C's rows [lo, hi), whose sums are whole: its status (None without)."""
        return None if epilogue is None else bb.call(epilogue, [c_, *ex, lo, hi])

    def serial(bb: ir.IRBuilder, a_: ir.Value, bm_: ir.Value, c_: ir.Value, ap_: ir.Value, bp_: ir.Value,
               ex: list[ir.Value]) -> ir.Value | None:
        """One thread: pack each panel of B, multiply all of C's rows by it."""
        def panel(jc: ir.Value, nc: ir.Value, pc: ir.Value, kc: ir.Value, _index: ir.Value) -> None:
            bb.call(pack_b, [bm_, bp_, jc, pc, nc, kc])
            bb.call(macro, [a_, c_, ap_, bp_, jc, nc, pc, kc, _c(0), _c(g.m)])
        panel_loops(bb, panel)
        return finish(bb, c_, ex, _c(0), _c(g.m))

    rows_per = parallel.chunk_size(g.m, MR, threads, ROW_TICKETS)
    if threads == 1:
        rc = serial(b, a, bm, c, ap, bp, extras)
    else:
        # counters: [B strips packed (tickets), C row blocks (tickets), then per panel the
        # columns of it packed so far]
        tickets = parallel.counters(b, entry, 2 + k_panels * n_panels, f"{fn.name}.tickets")
        strips = -(-min(NC, g.n) // NR)
        per_pack = -(-strips // (threads * parallel.CHUNKS_PER_THREAD))  # strips a packing ticket

        def share(wb: ir.IRBuilder, v: list, team: parallel.Team) -> ir.Value:
            """Every thread: take tickets to pack B's panels (all of them, into one buffer
            each), then tickets of C's rows, each over every panel, so no barrier: a row
            block waits only for the panels it reads to be packed (`parallel.wait_at_least`)."""
            a_, bm_, c_, ap_, bp_, counter, *ex = v
            own_ap = _elem(wb, ap_, wb.mul(team.tid, _c(kc_max * mc_max)))

            def panel_of(t: ir.Value) -> tuple:
                index, group = wb.sdiv(t, _c(-(-strips // per_pack))), wb.srem(t, _c(-(-strips // per_pack)))
                jb, pb = wb.sdiv(index, _c(k_panels)), wb.srem(index, _c(k_panels))
                jc, pc = wb.mul(jb, _c(NC)), wb.mul(pb, _c(depth))
                return index, group, jc, _imin(wb, _c(NC), wb.sub(_c(g.n), jc)), pc, _imin(wb, _c(depth), wb.sub(_c(g.k), pc))

            def pack(t: ir.Value, _hi: ir.Value) -> None:
                index, group, jc, nc, pc, kc = panel_of(t)
                lo = wb.mul(group, _c(per_pack * NR))
                cols = wb.sub(_imin(wb, nc, wb.add(lo, _c(per_pack * NR))), lo)
                with wb.if_then(wb.icmp_signed(">", cols, _c(0))):
                    dst = _elem(wb, bp_, wb.add(wb.mul(index, _c(bp_floats)), wb.mul(lo, kc)))
                    wb.call(pack_b, [bm_, dst, wb.add(jc, lo), pc, cols, kc])
                    wb.atomic_rmw("add", _elem64(wb, counter, wb.add(index, _c(2))), cols, "release")

            def rows(lo: ir.Value, hi: ir.Value) -> ir.Value | None:
                def panel(jc: ir.Value, nc: ir.Value, pc: ir.Value, kc: ir.Value, index: ir.Value) -> None:
                    parallel.wait_at_least(wb, team, _elem64(wb, counter, wb.add(index, _c(2))), nc)
                    wb.call(macro, [a_, c_, own_ap, _elem(wb, bp_, wb.mul(index, _c(bp_floats))),
                                    jc, nc, pc, kc, lo, hi])
                panel_loops(wb, panel)
                return finish(wb, c_, ex, lo, hi)
            parallel.ticket_loop(wb, team, _elem64(wb, counter, _c(0)),
                                 _c(k_panels * n_panels * -(-strips // per_pack)), _c(1), pack, counted=False)
            return parallel.ticket_loop(wb, team, _elem64(wb, counter, _c(1)), _c(g.m), _c(rows_per), rows)
        rc = parallel.fork(b, entry, [a, bm, c, ap, bp, tickets, *extras], threads, share, f"{fn.name}.omp",
                           lambda: serial(b, a, bm, c, ap, bp, extras), by_cpu=True)  # alone: the serial loops
    b.call(free, [ap])
    b.call(free, [bp])
    b.ret(rc if rc is not None else ir.Constant(I32, 0))
    entry.branch(fn.blocks[1])
    return fn
