"""Real variant wheels for tests, made by the real `fitwheel wheel make-variant` command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from wheelmaker import make_wheel


def plain_wheel(
    directory: Path,
    name: str,
    version: str,
    tags: str = "py3-none-any",
    *,
    build: str | None = None,
    requires_python: str | None = None,
) -> Path:
    """`wheelmaker.make_wheel`, with `Requires-Python` in METADATA when given."""
    metadata = (f"Requires-Python: {requires_python}",) if requires_python is not None else ()
    return make_wheel(directory, name, version, tags, build=build, metadata=metadata)


def make_variant(
    wheel: Path,
    outdir: Path,
    *properties: str,
    label: str | None = None,
    null: bool = False,
    namespace_priority: str | None = None,
) -> Path:
    """Run `fitwheel wheel make-variant` and return the variant wheel it wrote."""
    command = [
        sys.executable,
        "-m",
        "fitwheel",
        "wheel",
        "make-variant",
        str(wheel),
        "-o",
        str(outdir),
    ]
    for prop in properties:
        command += ["-p", prop]
    if label is not None:
        command += ["--label", label]
    if null:
        command.append("--null")
    if namespace_priority is not None:
        command += ["--namespace-priority", namespace_priority]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"make-variant failed: {result.stderr}")
    return Path(result.stdout.strip().splitlines()[-1])
