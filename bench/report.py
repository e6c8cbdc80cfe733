"""The result table, as aligned text for the terminal and as markdown for docs/performance.md.

Ratio columns are speed-ups of lowerflow: peer time ÷ lowerflow time, so 2.0 means lowerflow
took half the peer's time and 0.5 means twice as long. The rate column puts lowerflow's time
on the machine's scale: GB/s against copy bandwidth, GFLOP/s against OpenBLAS sgemm.
"""
from __future__ import annotations

from bench.harness import Cell, Row
from bench.machine import Limits

NA_WIDTH = 48  # a reason longer than this is cut in the table; notes below it have it whole


def fmt_time(seconds: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            break
    value = seconds / scale
    return f"{value:.3g} {unit}" if value < 100 else f"{value:.0f} {unit}"


def _cell_text(cell: Cell) -> str:
    if cell.seconds is None:
        reason = cell.na or "no samples"
        return f"n/a ({reason if len(reason) <= NA_WIDTH else reason[:NA_WIDTH - 1] + '…'})"
    return fmt_time(cell.seconds) + (" (!)" if cell.mismatch else "")


def _ratio(lf: Cell, peer: Cell) -> str:
    if lf.seconds is None or peer.seconds is None:
        return "–"
    return f"{peer.seconds / lf.seconds:.2f}"


def _rate(row: Row, limits: Limits | None) -> str:
    """lowerflow's throughput and its share of the machine's limit, where one applies."""
    lf = row.cells.get("lowerflow")
    if lf is None or lf.seconds is None:
        return ""
    wl = row.workload
    if wl.bytes is not None:
        gbs = wl.bytes(**row.params) / lf.seconds / 1e9
        return f"{gbs:.1f} GB/s" + (f" ({100 * gbs / limits.copy_gbs:.0f}% of copy)" if limits else "")
    if wl.flops is not None:
        gflops = wl.flops(**row.params) / lf.seconds / 1e9
        peak = sgemm_gflops(row, limits)
        return f"{gflops:.1f} GFLOP/s" + (f" ({100 * gflops / peak:.0f}% of sgemm)" if peak else "")
    return ""


def sgemm_gflops(row: Row, limits: Limits | None) -> float | None:
    """The sgemm rate a row's GFLOP/s is put against: the reference sampled in the row's own
    rotation (the same minutes), else the run's start-of-run figure."""
    ref = row.reference
    if ref is not None and ref.seconds is not None and limits is not None:
        return 2 * limits.sgemm_n ** 3 / ref.seconds / 1e9
    return limits.sgemm_gflops if limits else None


def table(rows: list[Row], peers: list[str], limits: Limits | None) -> list[list[str]]:
    """Header + one line per row: times, ratios vs each peer, lowerflow's rate."""
    others = [p for p in peers if p != "lowerflow"]
    head = ["workload", "size", *peers, *[f"{p}÷lf" for p in others], "lowerflow rate"]
    lines = [head]
    for row in rows:
        lf = row.cells["lowerflow"]
        times = [_cell_text(row.cells[p]) if p in row.cells else "" for p in peers]
        ratios = [_ratio(lf, row.cells[p]) if p in row.cells else "" for p in others]
        lines.append([row.name, row.workload.size(**row.params), *times, *ratios, _rate(row, limits)])
    return lines


def limits_lines(limits: Limits) -> list[str]:
    one = f", {limits.sgemm_1t_gflops:.1f} with 1 thread" if limits.sgemm_1t_gflops else ""
    return [f"copy bandwidth (np.copyto, {limits.copy_mib} MiB, read+write): {limits.copy_gbs:.1f} GB/s",
            f"OpenBLAS sgemm {limits.sgemm_n}^3: {limits.sgemm_gflops:.1f} GFLOP/s{one}",
            f"bare ctypes call (libc labs): {limits.ctypes_us:.3f} µs"]


def notes(rows: list[Row], limits: Limits | None = None) -> list[str]:
    """Every n/a reason and output mismatch in full, and each row's own sgemm reference."""
    out = []
    for row in rows:
        peak = sgemm_gflops(row, limits)
        if row.reference is not None and row.reference.seconds is not None and peak is not None:
            out.append(f"{row.name}: sgemm reference sampled in the row: {peak:.1f} GFLOP/s")
        for peer, cell in row.cells.items():
            if cell.seconds is None:
                out.append(f"{row.name} / {peer}: n/a: {cell.na or 'no samples'}")
            if cell.mismatch:
                out.append(f"{row.name} / {peer}: (!) output differs from numpy: {cell.mismatch}")
    return out


def text(lines: list[list[str]]) -> str:
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    rendered = ["  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths)))
                for line in lines]
    rendered.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(r.rstrip() for r in rendered)


def markdown(lines: list[list[str]]) -> str:
    def md(line):
        return "| " + " | ".join(c.replace("|", "\\|") for c in line) + " |"
    align = ["---", "---"] + ["---:"] * (len(lines[0]) - 2)
    return "\n".join([md(lines[0]), "|" + "|".join(align) + "|", *map(md, lines[1:])])


def markdown_document(header: dict[str, str], limits: Limits, lines: list[list[str]],
                      note_lines: list[str]) -> str:
    """What `--markdown FILE` writes: run facts, machine limits, the table, the notes."""
    parts = ["## Run", "", *[f"- {k}: {v}" for k, v in header.items()], "", "## Machine limits (same run)", "",
             *[f"- {line}" for line in limits_lines(limits)], "", "## Results (medians)", "", markdown(lines)]
    if note_lines:
        parts += ["", "## Notes", "", *[f"- {n}" for n in note_lines]]
    return "\n".join(parts) + "\n"
