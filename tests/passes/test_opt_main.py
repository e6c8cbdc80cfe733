"""`lowerflow-opt`: output, options, and one-line errors with exit status 1 for user mistakes."""
from __future__ import annotations

import io

import pytest

from lowerflow.ir.parser import parse_module
from lowerflow.passes import list_passes
from lowerflow.tooling import opt_main as main

GOOD = """func.func @step(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = "lf.exp"(%x) : (tensor<4xf32>) -> tensor<4xf32>
  %1 = "lf.neg"(%0) : (tensor<4xf32>) -> tensor<4xf32>
  %2 = "lf.tanh"(%1) : (tensor<4xf32>) -> tensor<4xf32>
  "func.return"(%1) : (tensor<4xf32>) -> ()
}
"""
UNDEFINED = """func.func @bad(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = "lf.exp"(%y) : (tensor<4xf32>) -> tensor<4xf32>
  "func.return"(%0) : (tensor<4xf32>) -> ()
}
"""
ILL_TYPED = GOOD.replace('"lf.neg"(%0) : (tensor<4xf32>) -> tensor<4xf32>', '"lf.not"(%0) : (tensor<4xf32>) -> tensor<4xf32>')


@pytest.fixture
def ir_file(tmp_path):
    def write(text: str):
        path = tmp_path / "in.mlir"
        path.write_text(text)
        return str(path)
    return write


def run(capsys, *argv) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_runs_pipeline_and_prints_ir(capsys, ir_file):
    status, out, err = run(capsys, ir_file(GOOD), "-p", "dce,fuse")
    assert (status, err) == (0, "")
    ops = [op.name for op in parse_module(out)["step"].ops]
    assert ops == ["lf.fusion", "func.return"]


def test_reads_stdin(capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(GOOD))
    status, out, _ = run(capsys, "-", "-p", "prune")
    assert status == 0 and "lf.tanh" not in out and "lf.neg" in out


def test_split_input_file_keeps_going_and_reports_file_lines(capsys, ir_file):
    path = ir_file(GOOD + "// -----\n" + UNDEFINED + "// -----\n" + GOOD)
    status, out, err = run(capsys, path, "-p", "prune", "--split-input-file")
    assert status == 1
    assert out.count("func.func @step") == 2 and out.count("// -----\n") == 1
    # `%y` is on line 2 of the second chunk, which starts on line 8 of the file.
    assert err == f"error: {path}:9:17: use of undefined value %y\n"


def test_timing_and_dumps_go_to_stderr(capsys, ir_file):
    status, out, err = run(capsys, ir_file(GOOD), "-p", "prune,dce", "--pass-timing",
                           "--print-ir-before=dce", "--print-ir-after-all")
    assert status == 0 and "IR Dump" not in out
    assert err.index("IR Dump After prune") < err.index("IR Dump Before dce") < err.index("IR Dump After dce")
    table = err[err.index("pass "):].splitlines()
    assert [row.split()[0] for row in table[2:]] == ["prune", "dce", "total"]


def test_list_passes(capsys):
    status, out, _ = run(capsys, "--list-passes")
    assert status == 0
    assert "fuse: Fuse connected elementwise ops" in out and "    max-ops=32 (int):" in out


@pytest.mark.parametrize("argv, message", [
    (["{missing}"], "error: cannot read '{missing}': No such file or directory"),
    (["{good}", "-p", "fsue"], "error: unknown pass 'fsue' (did you mean 'fuse'?)"),
    (["{good}", "-p", "fuse{{max-ops=x}}"], "error: option 'max-ops' of pass 'fuse' expects an int, got 'x'"),
    (["{good}", "--print-ir-before=fsue"], "error: --print-ir-before: unknown pass 'fsue'"),
    ([], "error: no input file (use - for stdin)"),
    (["{good}", "--bogus"], "error: unrecognized arguments: --bogus"),
    (["{undefined}"], "error: {undefined}:2:17: use of undefined value %y"),
    (["{ill_typed}", "-p", "dce"], ("error: {ill_typed}:1: invalid IR: 'lf.not': invalid operands: "
                                    "lf.not does not support dtype f32")),
])
def test_user_errors_are_one_line(capsys, tmp_path, argv, message):
    files = {"good": GOOD, "undefined": UNDEFINED, "ill_typed": ILL_TYPED}
    paths = {"missing": str(tmp_path / "missing.mlir")}
    for name, text in files.items():
        paths[name] = str(tmp_path / f"{name}.mlir")
        (tmp_path / f"{name}.mlir").write_text(text)
    status, out, err = run(capsys, *[a.format(**paths) for a in argv])
    assert status == 1 and out == ""
    assert err.startswith(message.format(**paths)) and err.count("\n") == 1


def test_no_verify_each_skips_the_verifier(capsys, ir_file):
    status, out, _ = run(capsys, ir_file(ILL_TYPED), "--no-verify-each")
    assert status == 0 and '"lf.not"' in out


def test_help_exits_zero(capsys):
    status, out, _ = run(capsys, "--help")
    assert status == 0 and "--split-input-file" in out


def test_list_passes_lists_every_registered_pass(capsys):
    status, out, _ = run(capsys, "--list-passes")
    assert status == 0
    listed = [line.split(":")[0] for line in out.splitlines() if not line.startswith(" ")]
    assert listed == sorted(name for name, _, _ in list_passes())
    assert {"cse", "canonicalize", "infer-shapes", "plan-buffers", "prune", "dce", "constant-fold", "fuse"} <= set(listed)
    assert "    fast-math=false (bool):" in out


SQUARE = """func.func @step(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = "lf.exp"(%x) : (tensor<4xf32>) -> tensor<4xf32>
  %1 = "lf.mul"(%0, %0) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  "func.return"(%1) : (tensor<4xf32>) -> ()
}
"""
CONTRADICTION = """func.func @step(%x: tensor<4xf32>) -> tensor<5xf32> {
  %0 = "lf.exp"(%x) : (tensor<4xf32>) -> tensor<?xf32>
  %1 = "lf.tanh"(%0) : (tensor<?xf32>) -> tensor<5xf32>
  "func.return"(%1) : (tensor<5xf32>) -> ()
}
"""


def test_print_buffer_plan_and_rewrites_go_to_stderr(capsys, ir_file):
    status, out, err = run(capsys, ir_file(SQUARE), "-p", "canonicalize,plan-buffers",
                           "--print-buffer-plan", "--print-rewrites")
    assert status == 0 and '"lf.square"' in out and "lf.offset" in out and "rewrite" not in out
    assert err.splitlines() == ["// rewrite mul-self: lf.mul %1 in @step",
                                "@step: arena 64 bytes",
                                "value  op         bytes  buffer         live",
                                "%0     lf.exp     16     arena [0, 64)  0..1",
                                "%1     lf.square  16     result #0      -"]


@pytest.mark.parametrize("text, pipeline, message", [
    (SQUARE, "plan-buffers,canonicalize", "'lf.square' has no lf.offset list of 1 int(s), but other ops do"),
    (CONTRADICTION, "infer-shapes", ("pass 'infer-shapes' failed: 'lf.tanh': inferred tensor<4xf32> "
                                     "contradicts tensor<5xf32>")),
])
def test_stale_plans_and_failing_passes_are_one_line_errors(capsys, ir_file, text, pipeline, message):
    path = ir_file(text)
    status, out, err = run(capsys, path, "-p", pipeline, "--print-buffer-plan")
    assert status == 1 and out == "" and err.count("\n") == 1
    assert err.startswith(f"error: {path}:1: {message}")


def test_emit_llvm_and_asm(capsys, ir_file):
    """--emit prints each function's optimised LLVM IR / assembly (translations the facade registers)."""
    status, out, err = run(capsys, ir_file(GOOD), "-p", "fuse", "--emit=llvm")
    assert (status, err) == (0, "")
    assert "define noundef i32 @step(" in out and "module" not in out.split("\n")[0]
    status, out, err = run(capsys, ir_file(GOOD), "--emit=asm")
    assert (status, err) == (0, "") and "step:" in out and "ret" in out


def test_emit_refuses_dynamic_shapes(capsys, ir_file):
    dynamic = GOOD.replace("tensor<4xf32>", "tensor<?xf32>")
    status, out, err = run(capsys, ir_file(dynamic), "--emit=llvm")
    assert status == 1 and out == ""
    assert err.startswith("error: ") and "cannot emit llvm: native code needs static shapes" in err
    status, out, err = run(capsys, ir_file(GOOD), "--emit=c")
    assert status == 1 and "invalid choice: 'c'" in err
