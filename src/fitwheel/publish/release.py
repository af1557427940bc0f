"""Publishing staged variant wheels into the output folder with their `variants.json`.

Everything that can fail is done in staging first (the merge with a `variants.json` already in
the output, where a label that changed meaning is refused); then the wheels are moved in, and
`variants.json` last, so it never names a wheel that is not there.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from pathlib import Path

from fitwheel.wheel.generate import Release, generate_variants_json, release_of


def publish_release(wheels: Sequence[Path], staging: Path, outdir: Path) -> tuple[Path, ...]:
    """Move `wheels` (in `staging`, on `outdir`'s file system) into `outdir`, then each
    release's merged `variants.json`; return the `variants.json` files written."""
    releases: set[Release] = {release_of(wheel.name) for wheel in wheels}
    for release in releases:
        existing = outdir / release.variants_json_name
        if existing.exists():
            shutil.copyfile(existing, staging / release.variants_json_name)
    written = generate_variants_json(staging)
    outdir.mkdir(parents=True, exist_ok=True)
    for wheel in wheels:
        os.replace(wheel, outdir / wheel.name)
    published = []
    for path in written:
        os.replace(path, outdir / path.name)
        published.append(outdir / path.name)
    return tuple(published)
