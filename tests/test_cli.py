"""The command-line shell: entry points, exit statuses, one-line errors."""

from __future__ import annotations

import pytest

from helpers.cli import fitwheel


def test_module_entry_point_shows_help() -> None:
    result = fitwheel("--help")
    assert result.returncode == 0
    assert "detect" in result.stdout


def test_no_command_is_a_usage_error() -> None:
    result = fitwheel()
    assert result.returncode == 2


@pytest.mark.parametrize(
    "argv",
    [
        ["pip", "install", "-i", "http://127.0.0.1:9/simple/", "torch", "--", "x"],
        ["pip"],
        ["uv", "pip", "install", "--help"],
        ["uv", "--profile", "p.toml", "pip", "install", "demo"],
        ["pip", "--profile=p.toml", "download", "-d", "out", "demo"],
    ],
)
def test_installer_fast_path_parses_as_the_full_parser_does(argv: list[str]) -> None:
    from fitwheel.cli import build_parser
    from fitwheel.cli.installers import parsed_arguments

    assert vars(parsed_arguments(argv[0], argv[1:])) == vars(build_parser().parse_args(argv))
