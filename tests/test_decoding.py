"""Bounded decoding of JSON and TOML: every command that reads a document gives a one-line error
(exit 2) for one nested too deep or with a huge integer, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fitwheel.decoding import MAX_DEPTH, loads_json, loads_toml
from fitwheel.errors import InvalidProfile, InvalidVariantMetadata
from helpers.cli import fitwheel
from helpers.variants import make_variant, plain_wheel

SCHEMA = "https://variants-schema.wheelnext.dev/peps/825/v0.1.1.json"
DEEP_JSON = "[" * 1000 + "]" * 1000
DEEP_VARIANTS = (
    '{"$schema": "' + SCHEMA + '", "default-priorities": {"namespace": ["x86_64"]}, '
    '"variants": {"null": {}}, "x": ' + DEEP_JSON + "}"
)


@pytest.mark.parametrize("depth", [MAX_DEPTH, MAX_DEPTH + 1, 999, 5000])
def test_json_depth_bound_is_exact(depth: int) -> None:
    text = '{"a": ' * (depth - 1) + "[]" + "}" * (depth - 1)
    if depth <= MAX_DEPTH:
        assert loads_json(text, where="t", error=InvalidVariantMetadata) is not None
    else:
        with pytest.raises(InvalidVariantMetadata, match=f"nested more than {MAX_DEPTH} levels"):
            loads_json(text, where="t", error=InvalidVariantMetadata)


def test_brackets_inside_strings_do_not_count() -> None:
    text = json.dumps({"a": "[" * 5000 + '\\"{' * 100})
    assert loads_json(text, where="t", error=InvalidVariantMetadata) == json.loads(text)


@pytest.mark.parametrize(
    "text",
    [
        "a = " + "[" * 1000 + "]" * 1000,
        "a = " + "{b = " * 1000 + "1" + "}" * 1000,
        ".".join(["a"] * 1000) + " = 1",
        "a = 1" + "0" * 5000,
        "a = \xff",
    ],
)
def test_toml_refusals_are_the_callers_error(text: str) -> None:
    with pytest.raises(InvalidProfile, match=r"p\.toml: not valid TOML"):
        loads_toml(text.encode("latin-1"), where="p.toml", error=InvalidProfile)


def test_json_huge_integer_is_the_callers_error() -> None:
    with pytest.raises(InvalidVariantMetadata, match="not valid JSON: Exceeds the limit"):
        loads_json("[1" + "0" * 5000 + "]", where="t", error=InvalidVariantMetadata)


def _one_line_error(result: object, *needles: str) -> None:
    assert result.returncode == 2, (result.stdout, result.stderr)  # type: ignore[attr-defined]
    stderr: str = result.stderr  # type: ignore[attr-defined]
    assert stderr.count("\n") == 1 and "Traceback" not in stderr, stderr
    for needle in needles:
        assert needle in stderr, stderr


@pytest.fixture
def deep(tmp_path: Path) -> Path:
    path = tmp_path / "demo-1.0-variants.json"
    path.write_text(DEEP_VARIANTS)
    return path


@pytest.fixture
def profile(tmp_path: Path) -> Path:
    path = tmp_path / "p.toml"
    path.write_text('[variants.x86_64]\nlevel = ["v1"]\n')
    return path


@pytest.mark.slow
def test_rank_merge_generate_and_check_refuse_a_deep_document(
    deep: Path, profile: Path, tmp_path: Path
) -> None:
    _one_line_error(fitwheel("rank", deep, "--profile", profile), "nested more than 32")
    _one_line_error(fitwheel("variants", "merge", deep, deep), "nested more than 32")
    base = plain_wheel(tmp_path / "scratch", "demo", "1.0")
    make_variant(base, deep.parent, "x86_64 :: level :: v3", label="v3")
    _one_line_error(fitwheel("variants", "generate", deep.parent), "nested more than 32")
    _one_line_error(fitwheel("variants", "check", deep), "nested more than 32")


@pytest.mark.parametrize(
    "content",
    [
        "a = " + "[" * 1000 + "]" * 1000,
        "a = 1" + "0" * 5000,
    ],
)
def test_profile_commands_refuse_a_deep_or_huge_profile(tmp_path: Path, content: str) -> None:
    path = tmp_path / "p.toml"
    path.write_text(content)
    _one_line_error(fitwheel("detect", "--profile", path), str(path), "not valid TOML")
    _one_line_error(fitwheel("profile", "show", path), str(path), "not valid TOML")
    as_json = tmp_path / "p.json"
    as_json.write_text(DEEP_JSON)
    _one_line_error(fitwheel("detect", "--profile", as_json), "nested more than 32")


def test_a_fifo_in_place_of_a_variants_file_is_an_error_not_a_hang(
    tmp_path: Path, profile: Path
) -> None:
    import os

    fifo = tmp_path / "demo-1.0-variants.json"
    os.mkfifo(fifo)
    _one_line_error(fitwheel("rank", fifo, "--profile", profile, timeout=20), "not a regular file")


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("[interpreter]\nplatforms = 7\n", "[interpreter]"),
        ("[facts]\ncuda_driver = 12.8\n", "[facts] cuda_driver = '12.8' must be a table"),
    ],
)
def test_profile_show_with_wrong_types_is_one_line(
    tmp_path: Path, content: str, needle: str
) -> None:
    path = tmp_path / "p.toml"
    path.write_text(content)
    _one_line_error(fitwheel("profile", "show", path), str(path), needle)
