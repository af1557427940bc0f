"""Projects to build with `fitwheel build`: a `[variant]` table over a real PEP 517 backend.

`flag_project(path, variant_toml, behaviour)` writes a project whose in-tree backend
(`helpers/flagbackend.py`) records the variant's build environment in the wheel; it needs no
index, so isolated builds work offline. `built_environment(wheel)` reads that record back.
"""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path
from typing import Any

BACKEND = Path(__file__).with_name("flagbackend.py")


def flag_project(
    path: Path, variant_toml: str = "", behaviour: dict[str, Any] | None = None
) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    (path / "_backend").mkdir(exist_ok=True)
    shutil.copyfile(BACKEND, path / "_backend" / "flagbackend.py")
    (path / "pyproject.toml").write_text(
        '[build-system]\nrequires = []\nbuild-backend = "flagbackend"\n'
        'backend-path = ["_backend"]\n\n'
        '[project]\nname = "flagdemo"\nversion = "1.0"\n\n' + variant_toml
    )
    if behaviour is not None:
        (path / "behaviour.json").write_text(json.dumps(behaviour))
    return path


def built_environment(wheel: Path) -> dict[str, Any]:
    with zipfile.ZipFile(wheel) as archive:
        recorded: dict[str, Any] = json.loads(archive.read("flagdemo/build.json"))
    return recorded
