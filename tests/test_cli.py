"""The command-line shell: entry points, exit statuses, one-line errors."""

from __future__ import annotations

import subprocess
import sys


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fitwheel", *args], capture_output=True, text=True, timeout=60
    )


def test_module_entry_point_shows_help() -> None:
    result = run_cli("--help")
    assert result.returncode == 0
    assert "detect" in result.stdout


def test_no_command_is_a_usage_error() -> None:
    result = run_cli()
    assert result.returncode == 2
