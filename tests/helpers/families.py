"""A local copy of the *shape* of PyTorch's per-accelerator indexes, from tiny real wheels.

`build_family_site(root, python_tag)` writes, under `root`:

- `whl/{member}/{project}/index.html`: one PEP 503 page per member and project, with
  path-absolute hrefs (`/whl/cu126/torch-2.9.0%2Bcu126-…whl#sha256=…`), as
  download.pytorch.org serves them; the wheels sit in `whl/{member}/`.
- `whl/{project}/index.html`: the page listing every build of a project.
- `pypi/`: a PyPI-like default index (`fitwheel index build`) with the plain builds of torch
  and torchvision (which must never be installed when the family is on) and the dependencies.

Releases: torch 2.9.0 on `cpu cu126 cu128 cu130 rocm6.3 rocm6.4 xpu` and 2.8.0 on
`cpu cu126 cu128 cu129`; torchvision 0.24.0 / 0.23.0 on the same members, requiring
`torch==2.9.0` / `torch==2.8.0` (no local label, as PyTorch pins). `rocm7.0` and `rocm7.1`
carry nothing (their pages are 404s). Every build comes for the running interpreter, another
CPython, Windows and aarch64, so tag filtering is exercised as on the real index.
"""

from __future__ import annotations

import hashlib
import html
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from wheelmaker import make_wheel

TORCH = {
    "2.9.0": ("cpu", "cu126", "cu128", "cu130", "rocm6.3", "rocm6.4", "xpu"),
    "2.8.0": ("cpu", "cu126", "cu128", "cu129"),
}
TORCHVISION = {"0.24.0": ("2.9.0", TORCH["2.9.0"]), "0.23.0": ("2.8.0", TORCH["2.8.0"])}


def _tags(python_tag: str) -> tuple[str, ...]:
    other = "cp310" if python_tag != "cp310" else "cp312"
    return (
        f"{python_tag}-{python_tag}-manylinux_2_17_x86_64",
        f"{other}-{other}-manylinux_2_17_x86_64",
        f"{python_tag}-{python_tag}-win_amd64",
        f"{python_tag}-{python_tag}-manylinux_2_28_aarch64",
    )


def _page(project: str, wheels: list[tuple[str, Path]]) -> str:
    links = "".join(
        f'<a href="{html.escape(href)}#sha256={hashlib.sha256(path.read_bytes()).hexdigest()}">'
        f"{html.escape(path.name)}</a><br/>\n"
        for href, path in wheels
    )
    return f"<!DOCTYPE html>\n<html><body><h1>Links for {project}</h1>\n{links}</body></html>\n"


def build_family_site(
    root: Path,
    python_tag: str,
    torch: Mapping[str, tuple[str, ...]] = TORCH,
    torchvision: Mapping[str, tuple[str, tuple[str, ...]]] = TORCHVISION,
) -> Path:
    """Write the family and the default index under `root`; return `root`.

    `torch` maps each release to its members, `torchvision` each release to the torch release
    it pins and its members (default: the releases in the module docstring).
    """
    whl = root / "whl"
    every: dict[str, list[tuple[str, Path]]] = {}
    builds: dict[tuple[str, str], list[tuple[str, Path]]] = {}
    releases: dict[str, dict[str, tuple[tuple[str, ...], tuple[str, ...]]]] = {
        "torch": {v: (members, ("typing-shim",)) for v, members in torch.items()},
        "torchvision": {
            v: (members, (f"torch=={pinned}", "pillow-shim"))
            for v, (pinned, members) in torchvision.items()
        },
    }
    for project, versions in releases.items():
        for version, (members, requires) in versions.items():
            for member in members:
                folder = whl / member
                for tag in _tags(python_tag):
                    path = make_wheel(
                        folder,
                        project,
                        f"{version}+{member}",
                        tags=tag,
                        metadata=tuple(f"Requires-Dist: {r}" for r in requires),
                    )
                    href = f"/whl/{member}/{path.name.replace('+', '%2B')}"
                    builds.setdefault((member, project), []).append((href, path))
                    every.setdefault(project, []).append((href, path))
    for (member, project), wheels in builds.items():
        (whl / member / project).mkdir(parents=True, exist_ok=True)
        (whl / member / project / "index.html").write_text(_page(project, wheels))
    for project, wheels in every.items():
        (whl / project).mkdir(parents=True, exist_ok=True)
        (whl / project / "index.html").write_text(_page(project, wheels))
    source = root / "pypi-src"
    make_wheel(source, "torch", "2.9.0", metadata=("Requires-Dist: typing-shim",))
    make_wheel(source, "torchvision", "0.24.0", metadata=("Requires-Dist: torch==2.9.0",))
    make_wheel(source, "typing-shim", "1.0")
    make_wheel(source, "pillow-shim", "1.0")
    command = [sys.executable, "-m", "fitwheel", "index", "build", str(source), str(root / "pypi")]
    subprocess.run(command, check=True, capture_output=True, timeout=120)
    return root
