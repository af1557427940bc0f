"""Ready-made release sets of real (variant) wheels, and profiles that pick from them.

`populate(folder)` writes into `folder`:

- `torchlike 2.10`: a PyTorch-like release: `cuda12.6`, `cuda12.8`, `rocm7.1`, `xpu` and
  `null` variant wheels plus a plain CPU wheel, all tagged for this interpreter
  (`NATIVE_TAG`), and `torchlike 2.9`, plain only;
- `xlevel 1.0`: pure `py3-none-any` variant wheels for x86-64 levels v2/v3/v4 and a plain
  fallback (no null variant);
- `plainpkg 0.1`: one plain wheel and an sdist.

`PROFILES` maps a name to a profile document (no `[interpreter]`: this interpreter), and
`EXPECTED[(project, profile)]` to the label chosen for 2.10/1.0 (None: the plain wheel).
"""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

from packaging.tags import sys_tags

from helpers.variants import make_variant, plain_wheel

NATIVE_TAG = str(next(iter(sys_tags())))
TORCH_NAMESPACES = "nvidia,intel,amd"
_CUDA = [f"12.{minor}" for minor in range(9, -1, -1)]

TORCH_VARIANTS: dict[str, tuple[str, ...]] = {
    "cuda12.6": (
        "nvidia :: cuda_version_lower_bound :: 12.6",
        *(f"nvidia :: sm_arch :: {arch}_real" for arch in ("60", "70", "75", "80", "86", "90")),
    ),
    "cuda12.8": (
        "nvidia :: cuda_version_lower_bound :: 12.8",
        *(
            f"nvidia :: sm_arch :: {arch}_real"
            for arch in ("70", "75", "80", "86", "90", "100", "120")
        ),
    ),
    "rocm7.1": tuple(f"amd :: gfx_arch :: {arch}" for arch in ("gfx90a", "gfx942", "gfx1100")),
    "xpu": ("intel :: device_ip :: 12.55.8",),
}

PROFILES: dict[str, str] = {
    "h100": '[variants.nvidia]\ncuda_version_lower_bound = ["12.8", "12.7", "12.6", "12.5", "12.0"]\n'
    'sm_arch = ["90_real", "80_real"]\n[variants.x86_64]\nlevel = ["v4", "v3", "v2", "v1"]\n',
    "gtx1080ti": '[variants.nvidia]\ncuda_version_lower_bound = ["12.8", "12.7", "12.6", "12.0"]\n'
    'sm_arch = ["60_real"]\n[variants.x86_64]\nlevel = ["v3", "v2", "v1"]\n',
    "mi300": '[variants.amd]\ngfx_arch = ["gfx942"]\n[variants.x86_64]\nlevel = ["v2", "v1"]\n',
    "intel-gpu": '[variants.intel]\ndevice_ip = ["12.55.8"]\n',
    "cpu": '[variants.x86_64]\nlevel = ["v1"]\n',
}

EXPECTED: dict[tuple[str, str], str | None] = {
    ("torchlike", "h100"): "cuda12.8",
    ("torchlike", "gtx1080ti"): "cuda12.6",
    ("torchlike", "mi300"): "rocm7.1",
    ("torchlike", "intel-gpu"): "xpu",
    ("torchlike", "cpu"): "null",
    ("xlevel", "h100"): "x86_64_v4",
    ("xlevel", "gtx1080ti"): "x86_64_v3",
    ("xlevel", "mi300"): "x86_64_v2",
    ("xlevel", "intel-gpu"): None,
    ("xlevel", "cpu"): None,
}


def write_profiles(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, text in PROFILES.items():
        paths[name] = folder / f"{name}.toml"
        paths[name].write_text(text)
    return paths


def sdist(folder: Path, name: str, version: str) -> Path:
    """A minimal real sdist (`PKG-INFO` + `pyproject.toml`)."""
    path = folder / f"{name}-{version}.tar.gz"
    with tarfile.open(path, "w:gz") as archive:
        for member, text in (
            ("PKG-INFO", f"Metadata-Version: 2.2\nName: {name}\nVersion: {version}\n"),
            ("pyproject.toml", f'[project]\nname = "{name}"\nversion = "{version}"\n'),
        ):
            data = text.encode()
            info = tarfile.TarInfo(f"{name}-{version}/{member}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def populate(folder: Path, scratch: Path) -> Path:
    """Write the release sets into `folder` (plain inputs are built in `scratch`)."""
    folder.mkdir(parents=True, exist_ok=True)
    torch = plain_wheel(scratch, "torchlike", "2.10", NATIVE_TAG, requires_python=">=3.9")
    for label, properties in TORCH_VARIANTS.items():
        make_variant(torch, folder, *properties, label=label, namespace_priority=TORCH_NAMESPACES)
    make_variant(torch, folder, null=True, namespace_priority=TORCH_NAMESPACES)
    (folder / torch.name).write_bytes(torch.read_bytes())
    plain_wheel(folder, "torchlike", "2.9", NATIVE_TAG)

    level = plain_wheel(scratch, "xlevel", "1.0")
    for value in ("v2", "v3", "v4"):
        make_variant(level, folder, f"x86_64 :: level :: {value}", label=f"x86_64_{value}")
    (folder / level.name).write_bytes(level.read_bytes())

    plain_wheel(folder, "plainpkg", "0.1")
    sdist(folder, "plainpkg", "0.1")
    return folder
