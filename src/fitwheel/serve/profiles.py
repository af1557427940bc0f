"""Which profiles a server serves: one (given or detected) at `/simple/`, or a folder of them."""

from __future__ import annotations

import re
from pathlib import Path

from fitwheel.detect import detect
from fitwheel.errors import InvalidProfile
from fitwheel.profile import Profile
from fitwheel.serve.app import DEFAULT_PROFILE

_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def single_profile(path: str | None) -> dict[str, Profile]:
    """The profile file at `path`, else this machine's (detected once, overrides honoured).

    Profile files are read as `fitwheel detect --profile` reads them: `[facts]` go through the
    built-in providers, and a file without `[interpreter]` means the running interpreter.
    """
    return {DEFAULT_PROFILE: detect(profile=path)}


def fleet_profiles(directory: str | Path) -> dict[str, Profile]:
    """`NAME.toml` (or `NAME.json`) in `directory` -> served at `/p/NAME/simple/`."""
    root = Path(directory)
    if not root.is_dir():
        raise InvalidProfile(f"--profiles {str(root)!r}: not a folder")
    profiles: dict[str, Profile] = {}
    for path in sorted(root.iterdir()):
        if path.suffix not in (".toml", ".json") or not path.is_file():
            continue
        if not _NAME_RE.fullmatch(path.stem):
            raise InvalidProfile(
                f"{path}: a served profile name must be letters, digits, '-', '_' or '.'"
            )
        if path.stem in profiles:
            raise InvalidProfile(f"{root}: two profiles named {path.stem!r}")
        profiles[path.stem] = detect(profile=str(path))
    if not profiles:
        raise InvalidProfile(f"--profiles {str(root)!r}: no NAME.toml profile files in it")
    return profiles
