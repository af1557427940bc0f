"""Per-target resolutions for lock tests: files of made-up releases, three environments."""

from __future__ import annotations

import hashlib

from fitwheel.index.model import IndexFile
from fitwheel.lock.merge import ResolvedFile, TargetResolution
from fitwheel.variants.metadata import parse_variants_document

ENVIRONMENTS = {
    "py311": {"python_version": "3.11", "implementation_name": "cpython",
              "sys_platform": "linux", "platform_machine": "x86_64"},
    "py312": {"python_version": "3.12", "implementation_name": "cpython",
              "sys_platform": "linux", "platform_machine": "x86_64"},
    "arm": {"python_version": "3.12", "implementation_name": "cpython",
            "sys_platform": "linux", "platform_machine": "aarch64"},
}  # fmt: skip
DOCUMENT = parse_variants_document(
    {
        "$schema": "https://variants-schema.wheelnext.dev/peps/825/v0.1.1.json",
        "default-priorities": {"namespace": ["nvidia"]},
        "variants": {
            "cu128": {"nvidia": {"cuda_version_lower_bound": ["12.8"]}},
            "cu126": {"nvidia": {"cuda_version_lower_bound": ["12.6"]}},
            "null": {},
        },
    },
    where="demo-1.0-variants.json",
)


def resolved(project: str, version: str, label: str | None = None) -> ResolvedFile:
    suffix = f"-{label}" if label else ""
    filename = f"{project.replace('-', '_')}-{version}-py3-none-any{suffix}.whl"
    digest = hashlib.sha256(filename.encode()).hexdigest()  # stands for the file's bytes
    file = IndexFile(filename, f"https://files.example/{filename}", {"sha256": digest}, size=10)
    return ResolvedFile(project, version, file, "https://index.example/simple/",
                        DOCUMENT if label else None)  # fmt: skip


def target(name: str, environment: str, *files: ResolvedFile) -> TargetResolution:
    return TargetResolution(name, ENVIRONMENTS[environment], files)
