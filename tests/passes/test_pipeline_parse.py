"""Pipeline text: parsing, option conversion, round trips and errors that name the problem."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lowerflow.passes import (
    DEFAULT_PIPELINE,
    Pass,
    PipelineError,
    list_passes,
    manager,
    option,
    parse_pipeline,
    pipeline_text,
    register_pass,
)
from lowerflow.passes.constant_fold import ConstantFold
from lowerflow.passes.fuse import Fuse


@pytest.fixture
def scratch_registry(monkeypatch):
    """Passes registered inside a test disappear after it."""
    monkeypatch.setattr(manager, "_REGISTRY", dict(manager._REGISTRY))


@pytest.fixture
def typed_pass(scratch_registry):
    @register_pass
    @dataclass(frozen=True)
    class Typed(Pass):
        """A pass with one option of every type."""

        name: ClassVar[str] = "typed"
        count: int = option(1, "an int")
        ratio: float = option(0.5, "a float")
        enabled: bool = option(False, "a bool")
        label: str = option("x", "a str")

        def run(self, module) -> bool:
            return False

    return Typed


def test_default_pipeline():
    passes = parse_pipeline(DEFAULT_PIPELINE)
    assert [p.name for p in passes] == ["prune", "constant-fold", "cse", "canonicalize", "dce", "sum-products",
                                        "pretranspose", "narrow-products", "hoist-invariants", "cse", "dce", "fuse-rows", "fuse",
                                        "plan-buffers"]
    assert pipeline_text(passes) == DEFAULT_PIPELINE


def test_options_and_whitespace():
    passes = parse_pipeline(" prune , constant-fold{max-size=1024}, dce,fuse{ max-ops = 32 } ")
    assert passes[1] == ConstantFold(max_size=1024)
    assert passes[3] == Fuse(max_ops=32)
    assert str(passes[1]) == "constant-fold{max-size=1024}"
    assert str(passes[3]) == "fuse"  # 32 is the default


def test_empty_pipeline_is_no_passes():
    assert parse_pipeline("") == [] and parse_pipeline("   ") == []
    assert parse_pipeline("fuse{}") == [Fuse()]


def test_int_option_accepts_hex():
    assert parse_pipeline("fuse{max-ops=0x10}") == [Fuse(max_ops=16)]


def test_every_option_type(typed_pass):
    (p,) = parse_pipeline('typed{count=3 ratio=1e-3, enabled=true label="a b,c"}')
    assert (p.count, p.ratio, p.enabled, p.label) == (3, 1e-3, True, "a b,c")
    assert parse_pipeline(str(p)) == [p]
    assert parse_pipeline("typed{enabled=false label=plain}") == [typed_pass(enabled=False, label="plain")]


def test_list_passes():
    table = {name: (desc, opts) for name, desc, opts in list_passes()}
    assert set(table) >= {"prune", "dce", "constant-fold", "fuse"}
    desc, (opt,) = table["fuse"]
    assert "elementwise" in desc
    assert (opt.name, opt.type, opt.default) == ("max-ops", int, 32)
    assert table["constant-fold"][1][0].default == 1 << 16


@pytest.mark.parametrize("text, message", [
    ("fsue", "unknown pass 'fsue' (did you mean 'fuse'?)"),
    ("prune,nope", "unknown pass 'nope'"),
    ("fuse{max-op=3}", "pass 'fuse' has no option 'max-op' (did you mean 'max-ops'?)"),
    ("dce{x=1}", "pass 'dce' has no option 'x'; its options: none"),
    ("fuse{max-ops=abc}", "option 'max-ops' of pass 'fuse' expects an int, got 'abc'"),
    ("fuse{max-ops=1.5}", "expects an int"),
    ("fuse{max-ops=0}", "max-ops must be >= 1"),
    ("constant-fold{max-size=-1}", "max-size must be >= 0"),
    ("fuse{max-ops=2 max-ops=3}", "option 'max-ops' of pass 'fuse' given twice"),
    ("prune,", "expected a pass name at column 7"),
    (",prune", "expected a pass name at column 1"),
    ("prune,,dce", "expected a pass name at column 7"),
    ("prune dce", "expected ',' or end of pipeline at column 7"),
    ("fuse{max-ops=3", "expected '}' or another option of pass 'fuse' at column 15"),
    ("fuse{max-ops=3 x", "pass 'fuse' has no option 'x'"),
    ("fuse{max-ops}", "expected '=' after option 'max-ops'"),
    ("fuse{max-ops=}", "expected a value for option 'max-ops'"),
    ("fuse{=3}", "expected an option name of pass 'fuse'"),
    ("fuse{max-ops=3,}", "expected an option name"),
    ("fuse}", "expected ',' or end of pipeline"),
    ("fuse{{}}", "expected an option name"),
    ("prune;dce", "unexpected character ';' at column 6"),
    ("fuse(max-ops=3)", "unexpected character '('"),
    ('fuse{max-ops="3', "unexpected character '\"'"),
])
def test_malformed(text, message):
    with pytest.raises(PipelineError) as info:
        parse_pipeline(text)
    assert message in str(info.value)


def test_bool_and_float_errors(typed_pass):
    with pytest.raises(PipelineError, match="expects true or false, got 'yes'"):
        parse_pipeline("typed{enabled=yes}")
    with pytest.raises(PipelineError, match="expects a float, got 'fast'"):
        parse_pipeline("typed{ratio=fast}")


def test_not_a_string():
    with pytest.raises(PipelineError, match="must be a string"):
        parse_pipeline(None)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("fusedcpron-{}=,\" 0123x.;aFt")), max_size=30))
def test_arbitrary_text_parses_or_raises_pipeline_error(text):
    try:
        passes = parse_pipeline(text)
    except PipelineError:
        return
    assert parse_pipeline(pipeline_text(passes)) == passes


@pytest.mark.parametrize("make, message", [
    (lambda: type("NotAPass", (), {"name": "x"}), "not a Pass subclass"),
    (lambda: type("Loose", (Pass,), {"name": "loose", "__doc__": "d"}), "frozen dataclass"),
    (lambda: dataclass(frozen=True)(type("Bad", (Pass,), {"name": "Bad", "__doc__": "d"})), "lower-case"),
    (lambda: dataclass(frozen=True)(type("Dup", (Pass,), {"name": "dce", "__doc__": "d"})), "twice"),
    (lambda: dataclass(frozen=True)(type("NoDoc", (Pass,), {"name": "nodoc", "__doc__": None})), "docstring"),
])
def test_register_pass_rejects(scratch_registry, make, message):
    with pytest.raises((TypeError, ValueError), match=message):
        register_pass(make())


def test_register_pass_rejects_unsupported_option_type(scratch_registry):
    @dataclass(frozen=True)
    class Complex(Pass):
        """Options are int, float, bool or str."""

        name: ClassVar[str] = "complex"
        z: complex = option(0j, "a complex number")

    with pytest.raises(TypeError, match="unsupported type"):
        register_pass(Complex)
