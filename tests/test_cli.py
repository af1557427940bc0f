"""The command-line shell: entry points, exit statuses, one-line errors."""

from __future__ import annotations

from pathlib import Path

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


def test_an_unexpected_exception_is_one_line_asking_for_a_report(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bug inside a command (simulated: there is no known one to trigger) is reported in one
    line with the version and how to see the traceback; `--debug` shows the traceback."""
    import fitwheel.cli.rank
    from fitwheel import __version__
    from fitwheel.cli import main

    def broken(args: object) -> int:
        raise RuntimeError("the unexpected")

    monkeypatch.setattr(fitwheel.cli.rank, "run", broken)
    assert main(["rank", "x.json", "--profile", "p.toml"]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"fitwheel: internal error: RuntimeError: the unexpected (fitwheel {__version__}); "
        "please report it with the output of `fitwheel --debug ...`\n"
    )
    with pytest.raises(RuntimeError, match="the unexpected"):
        main(["--debug", "rank", "x.json", "--profile", "p.toml"])


def test_every_option_of_every_command_explains_itself() -> None:
    """`--help` is the first documentation people read: no option without a help text."""
    import argparse

    from fitwheel.cli import build_parser

    missing = []

    def walk(parser: argparse.ArgumentParser, path: str) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    walk(sub, f"{path} {name}")
            elif not action.help:
                missing.append(f"{path} {'/'.join(action.option_strings) or action.dest}")

    walk(build_parser(), "fitwheel")
    assert missing == []


def test_explain_says_so_when_the_page_lists_no_file(tmp_path: Path) -> None:
    (tmp_path / "index" / "demo").mkdir(parents=True)
    (tmp_path / "index" / "demo" / "index.html").write_text("<html><body></body></html>")
    profile = tmp_path / "p.toml"
    profile.write_text("[variants]\n")
    result = fitwheel(
        "explain", "demo", "--index-url", str(tmp_path / "index"), "--profile", str(profile)
    )
    assert result.returncode == 1, result.stderr
    assert "no release: the page lists no file of demo" in result.stdout


@pytest.mark.parametrize("installer", ["pip", "uv"])
def test_wrapper_help_shows_fitwheels_options_then_the_installers(installer: str) -> None:
    result = fitwheel(installer, "--help")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith(f"usage: fitwheel {installer} [FITWHEEL OPTIONS]"), out[:200]
    ours = out.index("  --profile FILE"), out.index("  --index-family NAME[=URL]")
    theirs = out.index("Usage:")  # pip's and uv's own help both start their usage so
    assert max(ours) < out.index(f"{installer}'s own help follows.") < theirs


def test_verbosity_flags_count_before_and_after_the_command() -> None:
    from fitwheel.cli import build_parser
    from fitwheel.cli._logging import DEBUG, ERROR, INFO, WARNING, leading, level

    assert leading(["-q", "--debug", "-vv", "serve", "-v"]) == (1, True, ["serve", "-v"])
    assert leading(["pip", "-q"]) == (0, False, ["pip", "-q"])  # the installer's
    args = build_parser().parse_args(["index", "build", "-vv", "-q", "a", "b"])
    assert (args.verbose, args.quiet) == (2, 1)
    assert [level(n) for n in (-2, -1, 0, 1, 2, 3)] == [ERROR, ERROR, WARNING, INFO, DEBUG, DEBUG]
    assert [level(n, INFO) for n in (-2, -1, 0, 1)] == [ERROR, WARNING, INFO, DEBUG]


@pytest.mark.parametrize(
    ("before", "after", "shown"),
    [((), (), True), (("-q",), (), False), ((), ("--quiet",), False), (("-v",), ("-q",), True)],
)
def test_quiet_leaves_errors_only_wherever_it_is_given(
    tmp_path: Path, before: tuple[str, ...], after: tuple[str, ...], shown: bool
) -> None:
    source = tmp_path / "src"
    source.mkdir()
    (source / "notes.txt").write_text("not a distribution")
    command = [*before, "index", "build", *after]
    result = fitwheel(*command, source, tmp_path / "out")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("index: 0 projects")
    expected = ["fitwheel: skipped notes.txt: not a wheel, sdist or variants.json"] if shown else []
    assert result.stderr.splitlines() == expected
    if before == ("-q",):  # errors stay: a missing source folder is one line
        missing = fitwheel(*command, tmp_path / "nowhere", tmp_path / "out2")
        assert missing.returncode == 2
        assert missing.stderr.startswith("fitwheel: error: ")
        assert len(missing.stderr.splitlines()) == 1


@pytest.mark.parametrize(("flags", "imported"), [((), False), (("-v",), True), (("-q",), True)])
def test_detect_imports_logging_only_when_asked_to(flags: tuple[str, ...], imported: bool) -> None:
    """`import logging` costs milliseconds of a command that runs before every install."""
    import subprocess
    import sys

    code = (
        "import sys; from fitwheel.cli import main; "
        f"status = main(['detect', *{list(flags)!r}]); "
        "sys.stderr.write(f'status={status} logging={\"logging\" in sys.modules}')"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.stderr.endswith(f"status=0 logging={imported}"), result.stderr
