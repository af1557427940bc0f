"""Detection: probe this interpreter and machine (or read a profile) and run the providers.

`detect()` returns a `Profile` for Python callers; `detect_document()` returns the same content
as the plain profile document, without importing the format layer, for `fitwheel detect`.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    from fitwheel.profile import Profile

PROFILE_ENV = "FITWHEEL_PROFILE"
DEFAULT_TIMEOUT = 10.0


def detect(
    sysroot: str = "/",
    timeout: float = DEFAULT_TIMEOUT,
    use_cache: bool = True,
    environ: Mapping[str, str] | None = None,
    profile: str | None = None,
) -> Profile:
    """The profile of this interpreter and machine, or of the profile file that replaces them.

    `profile` (else `FITWHEEL_PROFILE`) names a profile file; `sysroot` reads the Linux
    pseudo-files under another root and skips the live driver probes. Raises `FitwheelError`
    for a malformed override or profile, never for what a probe could not find out.
    Profiles from here carry `provided_namespaces`: fitwheel's providers stand behind them.
    """
    from fitwheel.profile import profile_from_document
    from fitwheel.providers import BUILTIN_NAMESPACES

    document = detect_document(sysroot, timeout, use_cache, environ, profile)
    source = document.pop("fitwheel")["source"]
    return profile_from_document(
        document, where=source, provided_namespaces=frozenset(BUILTIN_NAMESPACES)
    )


def detect_document(
    sysroot: str = "/",
    timeout: float = DEFAULT_TIMEOUT,
    use_cache: bool = True,
    environ: Mapping[str, str] | None = None,
    profile: str | None = None,
) -> dict[str, Any]:
    """`{"interpreter", "variants", "facts", "fitwheel": {"source"}}` as plain data."""
    env = os.environ if environ is None else environ
    path = profile or env.get(PROFILE_ENV, "")
    if path:
        return profile_document(path)

    from fitwheel.probe.amd import probe_amd
    from fitwheel.probe.cpu import probe_cpu
    from fitwheel.probe.intel import probe_intel
    from fitwheel.probe.interpreter import probe_interpreter
    from fitwheel.probe.nvidia import probe_nvidia
    from fitwheel.probe.overrides import read_overrides
    from fitwheel.probe.tpu import probe_tpu
    from fitwheel.providers import provide_all

    # The one place a malformed override is an error; the probes get parsed values.
    overrides = read_overrides(env)
    interpreter = probe_interpreter()
    facts: dict[str, Any] = {"cpu": probe_cpu(interpreter["architecture"], sysroot, overrides)}
    facts["nvidia"] = probe_nvidia(sysroot, timeout, use_cache, env, overrides)
    for name, table in (
        ("amd", probe_amd(sysroot, env, overrides.gfx_archs)),
        ("intel", probe_intel(sysroot)),
        ("tpu", probe_tpu(sysroot, overrides.tpu_present)),
    ):
        if table:
            facts[name] = table
    return {
        "interpreter": interpreter,
        "variants": provide_all(facts),
        "facts": facts,
        "fitwheel": {"source": "detected" if sysroot == "/" else f"sysroot {sysroot}"},
    }


def profile_document(path: str) -> dict[str, Any]:
    """A profile file as a full document: `[variants.NS]` as written, the other namespaces from
    `[facts]` through the providers, and the running interpreter when `[interpreter]` is absent.

    The file is validated as written first, so an error names the file, not a later stage.
    """
    from fitwheel.errors import InvalidProfile
    from fitwheel.probe.interpreter import probe_interpreter
    from fitwheel.profile import profile_from_document, read_profile_document
    from fitwheel.providers import BUILTIN_NAMESPACES, provider

    document = read_profile_document(path)
    profile_from_document(document, where=path)
    facts = document.get("facts", {})
    variants: dict[str, Any] = dict(document.get("variants", {}))
    for namespace in BUILTIN_NAMESPACES:
        if namespace in variants:
            continue
        try:
            properties = provider(namespace)(facts)
        except (ValueError, TypeError, AttributeError) as exc:
            raise InvalidProfile(f"{path}: [facts] for {namespace}: {exc}") from None
        if properties:
            variants[namespace] = properties
    interpreter = document.get("interpreter")
    return {
        "interpreter": interpreter if interpreter is not None else probe_interpreter(),
        "variants": variants,
        "facts": facts,
        "fitwheel": {"source": f"profile {path}"},
    }
