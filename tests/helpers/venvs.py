"""Fresh virtual environments for install tests, and what got installed into them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def fresh_venv(path: Path) -> Path:
    """A new venv without pip (the installers under test bring their own); its python."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)
    return path / "bin" / "python"


def installed_dist_info(python: Path, dist: str) -> Path | None:
    """The `.dist-info` folder of `dist` in the venv of `python`, or None if it is absent."""
    site = next((python.parent.parent / "lib").glob("python*/site-packages"))
    found = list(site.glob(f"{dist}-*.dist-info"))
    assert len(found) <= 1, found
    return found[0] if found else None


def installed_version(python: Path, dist: str) -> str:
    """The version of the installed `dist` (`2.9.0+cu126`), read from its `.dist-info` name."""
    info = installed_dist_info(python, dist)
    assert info is not None, f"{dist} is not installed"
    return info.name.removeprefix(f"{dist}-").removesuffix(".dist-info")


def installed_label(python: Path, dist: str) -> str | None:
    """The variant label of the installed `dist` (None: a plain wheel); it must be installed."""
    info = installed_dist_info(python, dist)
    assert info is not None, f"{dist} is not installed"
    variant = info / "variant.json"
    if not variant.exists():
        return None
    (label,) = json.loads(variant.read_text())["variants"]
    return str(label)
