"""Import-time dispatch for fat wheels: load the best compiled extension this process can run.

A package that ships several builds of one extension module declares them, most preferred
first, each with the variant properties it needs (`x86_64 :: level :: v3`), plus a baseline that
needs nothing. `choose()` loads the first one the running machine supports, falls through past
any that fails to load, and records what it did and why on the package (`explain()`).

The CPU facts it decides on (raw flags, x86-64 psABI level, AArch64 version, as variant
properties) are defined here too and are the very functions `fitwheel detect` uses, so
install-time and import-time answers never differ.

Standard library only, nothing else of fitwheel: the package can be copied into another
package under any name. Importing it must stay cheap, since it runs inside someone else's
`import`: this module holds what every such import runs (Linux `/proc/cpuinfo`, levels and
versions, the dispatch); `cpu_details` what only some need (other platforms, override
variables, one feature per ISA extension), loaded on first use; `__main__` the report command.
"""

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Container, Iterable, Mapping, Sequence
    from types import ModuleType

    from .report import InvalidCandidate, NoLoadableCandidate, explain

    Supported = Mapping[str, Mapping[str, Sequence[str]]]


# ---- CPU facts (shared with fitwheel.probe and fitwheel.providers) ----

# psABI levels as cumulative /proc/cpuinfo flag sets (`pni` is SSE3, `abm` is LZCNT, and the kernel
# shows OSXSAVE as `xsave`).
X86_64_LEVEL_FLAGS: "tuple[frozenset[str], ...]" = (
    frozenset({"cmov", "cx8", "fpu", "fxsr", "mmx", "sse", "sse2"}),
    frozenset({"cx16", "lahf_lm", "popcnt", "pni", "sse4_1", "sse4_2", "ssse3"}),
    frozenset({"avx", "avx2", "bmi1", "bmi2", "f16c", "fma", "abm", "movbe", "xsave"}),
    frozenset({"avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"}),
)


# AArch64 architecture versions, most preferred first, each with the cumulative `Features` names
# the kernel shows for the extensions that version makes mandatory.
_A64_V80 = frozenset({"fp", "asimd"})
_A64_V81 = _A64_V80 | {"atomics", "asimdrdm", "crc32"}
_A64_V82 = _A64_V81 | {"dcpop"}
_A64_V83 = _A64_V82 | {"jscvt", "fcma", "lrcpc", "paca", "pacg"}
_A64_V84 = _A64_V83 | {"dit", "uscat", "ilrcpc", "flagm"}
_A64_V85 = _A64_V84 | {"sb", "dcpodp", "flagm2", "frint", "bti"}
_A64_V86 = _A64_V85 | {"i8mm", "bf16"}
_A64_V90 = _A64_V85 | {"sve2"}
AARCH64_VERSIONS: "tuple[tuple[str, frozenset[str]], ...]" = (
    ("9.0a", _A64_V90),
    ("8.6a", _A64_V86),
    ("8.5a", _A64_V85),
    ("8.4a", _A64_V84),
    ("8.3a", _A64_V83),
    ("8.2a", _A64_V82),
    ("8.1a", _A64_V81),
    ("8a", _A64_V80),
)


# ELF e_machine -> architecture name (as `platform.machine()` spells it on Linux).
_ELF_MACHINES = {
    0x03: "i686",
    0x08: "mips",
    0x14: "ppc",
    0x15: "ppc64",
    0x16: "s390x",
    0x28: "armv7l",
    0x3E: "x86_64",
    0xB7: "aarch64",
    0xF3: "riscv64",
    0x102: "loongarch64",
}
MACHINE_ALIASES = {"amd64": "x86_64", "x64": "x86_64", "arm64": "aarch64", "arm64e": "aarch64"}


def cpu_namespace(machine: str) -> "str | None":
    """The CPU namespace whose instructions an interpreter of `machine` runs: `x86_64` for
    x86_64 and x32 (the x32 ABI runs x86-64 instructions), `aarch64`, else None (i686, ...)."""
    machine = MACHINE_ALIASES.get(machine, machine)
    if machine == "x32":
        return "x86_64"
    return machine if machine in ("x86_64", "aarch64") else None


X86_64_LEVEL_ENV = "FITWHEEL_X86_64_LEVEL"
AARCH64_VERSION_ENV = "FITWHEEL_AARCH64_VERSION"


def read_cpu_flags(sysroot: str = "/") -> "frozenset[str]":
    """The CPU's raw feature names: x86 `flags`, or AArch64 `Features` plus the auxv hwcaps.

    Reads `proc/cpuinfo` (and, for AArch64, `proc/self/auxv`) under `sysroot`; on macOS, where
    there is no /proc, asks `sysctl`. Unreadable sources give an empty set, never an error.
    """
    if sys.platform == "darwin" and sysroot == "/":
        from .cpu_details import darwin_flags

        return darwin_flags()
    text = _read_cpuinfo_head(os.path.join(sysroot, "proc", "cpuinfo"))
    flags = _cpuinfo_field(text, "flags")
    if flags is not None:
        return frozenset(flags.split())
    features = _cpuinfo_field(text, "Features")
    if features is not None:
        from .cpu_details import auxv_hwcaps

        return frozenset(features.split()) | auxv_hwcaps(os.path.join(sysroot, "proc/self/auxv"))
    return frozenset()


def _cpuinfo_field(text: str, key: str) -> "str | None":
    # The value of the first `key : value` line; found with str.find rather than by splitting
    # every line, as this runs inside an import. `key` may also occur inside other lines.
    position = text.find(key)
    while position >= 0:
        if position == 0 or text[position - 1] == "\n":
            end = text.find("\n", position)
            name, sep, value = text[position : end if end >= 0 else len(text)].partition(":")
            if sep and name.strip() == key:
                return value
        position = text.find(key, position + 1)
    return None


PSEUDO_FILE_LIMIT = 1 << 20
"""The most fitwheel reads of one `/proc`, `/sys` or similar file (cpuinfo of a 512-core
machine's first block is a few kilobytes)."""
_PSEUDO_OPEN = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_NOCTTY", 0)
)


def read_pseudo_file(
    path: str, limit: int = PSEUDO_FILE_LIMIT, until: "bytes | None" = None
) -> "bytes | None":
    """The first `limit` bytes of a kernel pseudo-file (None: absent or unreadable).

    Opened without blocking, so a FIFO in its place gives what is there instead of waiting
    for a writer forever; read in small raw reads (the kernel formats only what fits in a
    read) that stop at `limit`, so `/dev/zero` or a huge file costs at most `limit` bytes,
    and at the first `until` when one is given.
    """
    try:
        fd = os.open(path, _PSEUDO_OPEN)
    except OSError:
        return None
    chunks: list[bytes] = []
    total = 0
    tail = b""
    try:
        while total < limit:
            try:
                chunk = os.read(fd, min(4096, limit - total))
            except BlockingIOError:
                break  # a FIFO or socket with nothing to read now
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if until is not None:
                if until in tail + chunk:
                    break
                tail = chunk[-(len(until) - 1) :] if len(until) > 1 else b""
    except OSError:
        return None
    finally:
        os.close(fd)
    return b"".join(chunks)


def _read_cpuinfo_head(path: str) -> str:
    # Only the first processor's block (with its flags/Features) is needed; on a many-core
    # machine the rest is large.
    data = read_pseudo_file(path, until=b"\n\n")
    return "" if data is None else data.decode("utf-8", "replace")


def x86_64_level(flags: "Iterable[str]") -> int:
    """The highest x86-64 psABI level (1-4) whose every required flag is present.

    Computed from the raw flags, so a VM that masks an unrelated niche flag keeps its level.
    Returns 1 even when the baseline flags are missing (every x86-64 CPU meets v1).
    """
    present = frozenset(flags)
    level = 1
    for candidate in (2, 3, 4):
        if not X86_64_LEVEL_FLAGS[candidate - 1] <= present:
            break
        level = candidate
    return level


def x86_64_properties(flags: "Iterable[str]", extensions: bool = True) -> "dict[str, list[str]]":
    """`x86_64` features: `level` from the host's down to v1, then each ISA extension as `on`
    (unless `extensions` is false: then only `level`, for callers that need nothing else)."""
    present = frozenset(flags)
    properties = {"level": _levels_from(x86_64_level(present))}
    if extensions:
        from .cpu_details import x86_extension_names

        for name in sorted(x86_extension_names(present)):
            properties[name] = ["on"]
    return properties


def _levels_from(level: int) -> "list[str]":
    return [f"v{n}" for n in range(level, 0, -1)]


def aarch64_versions(features: "Iterable[str]") -> "list[str]":
    """Every AArch64 version whose mandatory extensions are all present, most preferred first."""
    present = frozenset(features)
    return [version for version, required in AARCH64_VERSIONS if required <= present]


def aarch64_version(features: "Iterable[str]") -> "str | None":
    """The most preferred AArch64 version the features satisfy, or None without `fp`/`asimd`."""
    versions = aarch64_versions(features)
    return versions[0] if versions else None


def aarch64_properties(
    features: "Iterable[str]", extensions: bool = True
) -> "dict[str, list[str]]":
    """`aarch64` features: `version` most preferred first, then each extension as `on`
    (unless `extensions` is false: then only `version`)."""
    present = frozenset(features)
    properties: dict[str, list[str]] = {}
    versions = aarch64_versions(present)
    if versions:
        properties["version"] = versions
    if extensions:
        from .cpu_details import aarch64_extension_names

        for name in sorted(aarch64_extension_names(present)):
            properties[name] = ["on"]
    return properties


def cpu_family(flags: "frozenset[str]") -> str:
    """`aarch64` for an AArch64 `Features` set (it always has `fp`/`asimd`), else `x86_64`."""
    return "aarch64" if "asimd" in flags or "fp" in flags else "x86_64"


def interpreter_machine(executable: "str | None" = None) -> str:
    """The architecture the interpreter binary was built for, not the kernel's.

    Reads the ELF header of `sys.executable` (an x86-64 kernel can run an i686 or x32 Python, an
    aarch64 kernel an armv7l one); elsewhere falls back to `platform.machine()` corrected by the
    pointer size. Spelled as `platform.machine()` spells it on Linux: `x86_64`, `aarch64`, ...
    """
    path = executable if executable is not None else sys.executable
    header = b""
    if path:
        try:
            fd = os.open(path, os.O_RDONLY)
            try:
                header = os.read(fd, 20)
            finally:
                os.close(fd)
        except OSError:
            header = b""
    if len(header) == 20 and header[:4] == b"\x7fELF":
        order = "<" if header[5] == 1 else ">"
        e_machine = int.from_bytes(header[18:20], "little" if order == "<" else "big")
        name = _ELF_MACHINES.get(e_machine)
        if name == "x86_64" and header[4] == 1:
            return "x32"
        if name is not None:
            if name == "ppc64" and order == "<":
                return "ppc64le"
            return name
    from .cpu_details import fallback_machine

    return fallback_machine()


def cpu_variant_properties(
    sysroot: str = "/",
    machine: "str | None" = None,
    environ: "Mapping[str, str] | None" = None,
    extensions: "Container[str]" = ("x86_64", "aarch64"),
) -> "dict[str, dict[str, list[str]]]":
    """The CPU namespace of the interpreter's architecture: `{"x86_64": ...}` or `{"aarch64": ...}`.

    `machine` defaults to `interpreter_machine()`. An x32 interpreter runs x86-64 instructions and
    gets the x86_64 namespace; an i686 one does not. Override variables apply before
    `/proc/cpuinfo` is read. For an architecture not in `extensions`, a detected CPU gets only its
    `level` / `version` feature, not one feature per extension: all a level-only caller needs.
    """
    arch = cpu_namespace(machine if machine is not None else interpreter_machine())
    if arch is None:
        return {}
    env = os.environ if environ is None else environ
    if env.get(X86_64_LEVEL_ENV if arch == "x86_64" else AARCH64_VERSION_ENV, ""):
        from .cpu_details import cpu_override

        return {arch: cpu_override(arch, env) or {}}
    flags = read_cpu_flags(sysroot)
    if not flags or cpu_family(flags) != arch:
        # No flags, or a /proc tree of another CPU family (e.g. under qemu-user): nothing known.
        return {}
    if arch == "x86_64":
        return {arch: x86_64_properties(flags, arch in extensions)}
    return {arch: aarch64_properties(flags, arch in extensions)}


# ---- Dispatch ----

__all__ = [
    "FORCE_VARIABLE",
    "NVIDIA_DRIVER_FILES",
    "Attempt",
    "Candidate",
    "Choice",
    "InvalidCandidate",
    "NoLoadableCandidate",
    "choose",
    "detect_supported",
    "explain",
    "parse_property",
]

# The errors and `explain` are defined in `report`, imported on first use: creating their classes
# costs more than a whole `choose()` on the common path, where nothing fails and nobody asks.
_IN_REPORT = frozenset({"InvalidCandidate", "NoLoadableCandidate", "explain"})


def __getattr__(name: str) -> object:
    if name in _IN_REPORT:
        from . import report

        return getattr(report, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


FORCE_VARIABLE = "FITWHEEL_RUNTIME_FORCE"
# The kernel driver's files: present when the NVIDIA kernel module is loaded, readable without
# initialising the driver. They say nothing about the CUDA version or the GPUs themselves.
NVIDIA_DRIVER_FILES = ("proc/driver/nvidia/version", "sys/module/nvidia/version")
NVIDIA_DRIVER_PRESENT = ("nvidia", "driver", "present")
CPU_NAMESPACES = frozenset({"x86_64", "aarch64"})
_CPU_VERSION_FEATURES = frozenset({"level", "version"})
CHOICE_ATTRIBUTE = "__fitwheel_choice__"
BASELINE_ALIAS = "baseline"

_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_")
_VALUE_CHARS = _NAME_CHARS | {"."}


def parse_property(text: str) -> tuple[str, str, str]:
    """Split `namespace :: feature :: value` into its parts (whitespace around `::` is ignored)."""
    parts = [part.strip() for part in text.split("::")]
    if len(parts) == 3:
        namespace, feature, value = parts
        if (
            namespace
            and feature
            and value
            and _NAME_CHARS.issuperset(namespace)
            and _NAME_CHARS.issuperset(feature)
            and _VALUE_CHARS.issuperset(value)
        ):
            return namespace, feature, value
    from .report import InvalidCandidate

    raise InvalidCandidate(
        f"invalid variant property {text!r}: expected 'namespace :: feature :: value' with "
        "namespace and feature in [a-z0-9_] and value in [a-z0-9_.]"
    )


class Candidate:
    """One build of the extension: a submodule of the package and the properties it needs.

    Properties are PEP 825 strings. The candidate is supported when, for every feature it
    declares, at least one of the values given for that feature is supported.
    """

    __slots__ = ("module", "properties", "requires")

    def __init__(self, module: str, properties: "Iterable[str]" = ()) -> None:
        if not module or not all(part.isidentifier() for part in module.split(".")):
            from .report import InvalidCandidate

            raise InvalidCandidate(
                f"invalid candidate module {module!r}: expected a submodule name such as "
                "'_impl_x86_64_v3', relative to the package"
            )
        requires: dict[tuple[str, str], set[str]] = {}
        normalised = []
        for text in properties:
            namespace, feature, value = parse_property(text)
            requires.setdefault((namespace, feature), set()).add(value)
            normalised.append(f"{namespace} :: {feature} :: {value}")
        self.module = module
        self.properties = tuple(normalised)
        self.requires = {key: frozenset(values) for key, values in requires.items()}

    def __repr__(self) -> str:
        return f"Candidate({self.module!r}, {list(self.properties)!r})"

    @property
    def namespaces(self) -> frozenset[str]:
        return frozenset(namespace for namespace, _ in self.requires)

    def unmet(self, supported: "Supported") -> list[str]:
        """The features this candidate needs that `supported` lacks, each with what is supported."""
        reasons = []
        for (namespace, feature), values in self.requires.items():
            have = supported.get(namespace, {}).get(feature, ())
            if values.isdisjoint(have):
                wanted = " | ".join(sorted(values))
                found = ", ".join(have) if have else "not detected"
                reasons.append(f"{namespace} :: {feature} :: {wanted} (this machine: {found})")
        return reasons


class Attempt:
    """What happened to one candidate: `chosen`, `unsupported`, `failed` or `not tried`."""

    __slots__ = ("candidate", "outcome", "reason")

    def __init__(self, candidate: str, outcome: str, reason: str) -> None:
        self.candidate = candidate
        self.outcome = outcome
        self.reason = reason

    def __repr__(self) -> str:
        return f"Attempt({self.candidate!r}, {self.outcome!r}, {self.reason!r})"

    def as_dict(self) -> dict[str, str]:
        return {"candidate": self.candidate, "outcome": self.outcome, "reason": self.reason}


class Choice:
    """The record of one `choose()`: what was loaded, what was tried, and on what facts."""

    __slots__ = ("attempts", "chosen", "force", "package", "supported")

    def __init__(
        self,
        package: str,
        chosen: "str | None",
        attempts: "Sequence[Attempt]",
        supported: "Mapping[str, Mapping[str, Sequence[str]]]",
        force: "str | None",
    ) -> None:
        self.package = package
        self.chosen = chosen
        self.attempts = tuple(attempts)
        self.supported = supported
        self.force = force

    def __repr__(self) -> str:
        return f"<Choice {self.package}: {self.chosen}>"

    def as_dict(self) -> dict[str, object]:
        from .report import choice_dict

        return choice_dict(self)

    def __str__(self) -> str:
        from .report import choice_text

        return choice_text(self)


def detect_supported(
    namespaces: "Iterable[str] | None" = None,
    sysroot: str = "/",
    machine: "str | None" = None,
    environ: "Mapping[str, str] | None" = None,
    features: "Iterable[tuple[str, str]] | None" = None,
) -> dict[str, dict[str, list[str]]]:
    """The properties this machine supports, `{namespace: {feature: [values, best first]}}`.

    CPU namespaces come from `cpu_variant_properties` (the same code `fitwheel detect` uses),
    for the interpreter's architecture. `nvidia :: driver :: present` is offered when the NVIDIA
    kernel driver is loaded. `namespaces` (and `features`, `(namespace, feature)` pairs) limit
    the work to what a caller needs; `sysroot`, `machine` and `environ` (for `FITWHEEL_X86_64_LEVEL` /
    `FITWHEEL_AARCH64_VERSION`) are passed to `cpu_variant_properties`.
    """
    wanted = None if namespaces is None else frozenset(namespaces)
    extensions = CPU_NAMESPACES
    if features is not None:
        extensions = frozenset(ns for ns, name in features if name not in _CPU_VERSION_FEATURES)
    supported: dict[str, dict[str, list[str]]] = {}
    if wanted is None or not wanted.isdisjoint(CPU_NAMESPACES):
        cpu = cpu_variant_properties(sysroot, machine, environ, extensions)
        for namespace, found in cpu.items():
            supported[namespace] = {feature: list(values) for feature, values in found.items()}
    if wanted is None or "nvidia" in wanted:
        namespace, feature, value = NVIDIA_DRIVER_PRESENT
        if any(os.path.exists(os.path.join(sysroot, path)) for path in NVIDIA_DRIVER_FILES):
            supported.setdefault(namespace, {})[feature] = [value]
    return supported


def choose(  # noqa: C901
    package: str,
    candidates: "Sequence[Candidate]",
    baseline: str,
    *,
    supported: "Supported | None" = None,
    environ: "Mapping[str, str] | None" = None,
) -> "ModuleType":
    """Import and return the best loadable build of `package`'s extension.

    `candidates` are tried most preferred first, each only if this machine supports its
    properties; `baseline` (a submodule name, needing nothing) is tried last. A candidate that
    raises while importing is skipped with the reason kept. `supported` replaces detection
    (for tests and for callers that already know the machine). `FITWHEEL_RUNTIME_FORCE` in
    `environ` (default `os.environ`) names a candidate to try first regardless of detection.
    The `Choice` is stored on the package module as `__fitwheel_choice__` (see `explain`).
    Raises `NoLoadableCandidate` (an `ImportError`) listing every candidate when none loads.
    """
    order = [*candidates, Candidate(baseline)]
    names = [candidate.module for candidate in order]
    if len(set(names)) != len(names):
        from .report import InvalidCandidate

        raise InvalidCandidate(f"{package}: candidate modules are not unique: {names}")
    env = os.environ if environ is None else environ
    force = _forced(package, names, env)
    if force is not None and force[1] == BASELINE_ALIAS:
        force = (force[0], baseline)
    if supported is None:
        needed = frozenset().union(*(candidate.namespaces for candidate in candidates))
        features = [key for candidate in candidates for key in candidate.requires]
        try:
            supported = detect_supported(needed, environ=env, features=features) if needed else {}
        except Exception as exc:  # detection must never break an import: fall back to baseline
            supported = {}
            detection_error: str | None = f"{type(exc).__name__}: {exc}"
        else:
            detection_error = None
    else:
        detection_error = None

    attempts: list[Attempt] = []
    if force is not None and force[1] not in names:
        attempts.append(
            Attempt(force[1], "not tried", f"{FORCE_VARIABLE} names no candidate of {package}")
        )
    module = None
    chosen = None
    if force is not None and force[1] in names:
        forced = order[names.index(force[1])]
        module, reason = _load(package, forced.module)
        if module is not None:
            chosen = forced.module
            attempts.append(Attempt(chosen, "chosen", f"forced by {FORCE_VARIABLE}"))
        else:
            attempts.append(Attempt(forced.module, "failed", f"forced, but {reason}"))
    for candidate in order:
        if force is not None and candidate.module == force[1]:
            continue
        if module is not None:
            attempts.append(Attempt(candidate.module, "not tried", f"{chosen} was loaded"))
            continue
        unmet = candidate.unmet(supported)
        if unmet:
            why = "; ".join(unmet)
            if detection_error is not None:
                why += f" (detection failed: {detection_error})"
            attempts.append(Attempt(candidate.module, "unsupported", f"needs {why}"))
            continue
        module, reason = _load(package, candidate.module)
        if module is None:
            attempts.append(Attempt(candidate.module, "failed", reason))
            continue
        chosen = candidate.module
        attempts.append(Attempt(chosen, "chosen", _why_chosen(candidate, supported)))

    relevant = _relevant(supported, order)
    choice = Choice(package, chosen, attempts, relevant, None if force is None else force[0])
    holder = sys.modules.get(package)
    if holder is not None:
        setattr(holder, CHOICE_ATTRIBUTE, choice)
    if module is None:
        from .report import NoLoadableCandidate

        raise NoLoadableCandidate(
            f"no build of {package} could be loaded on this machine:\n{choice}",
            name=package,
            choice=choice,
        )
    return module


def _forced(
    package: str, names: "Sequence[str]", environ: "Mapping[str, str]"
) -> "tuple[str, str] | None":
    """(the raw setting, the candidate it forces for `package`), or None.

    The variable holds comma-separated entries, `NAME` (any package with such a candidate;
    `baseline` means each package's baseline) or `PACKAGE=NAME` (that package only, which wins).
    """
    raw = environ.get(FORCE_VARIABLE, "").strip()
    if not raw:
        return None
    generic = None
    for entry in raw.split(","):
        key, sep, value = entry.strip().partition("=")
        if sep:
            if key.strip() == package:
                return raw, value.strip()
        elif key and generic is None and (key in names or key == BASELINE_ALIAS):
            generic = key
    if generic is None:
        return None
    return raw, generic


def _load(package: str, name: str) -> "tuple[ModuleType | None, str]":
    full = f"{package}.{name}" if package else name
    try:
        __import__(full)
    except Exception as exc:  # any failure in a build's import means: try the next one
        return None, f"import failed: {type(exc).__name__}: {exc}"
    return sys.modules[full], ""


def _why_chosen(candidate: Candidate, supported: "Supported") -> str:
    if not candidate.requires:
        return "baseline: needs nothing"
    met = []
    for (namespace, feature), values in candidate.requires.items():
        have = supported.get(namespace, {}).get(feature, ())
        value = next(v for v in have if v in values)
        met.append(f"{namespace} :: {feature} :: {value}")
    return "supported: " + ", ".join(met)


def _relevant(
    supported: "Supported", order: "Sequence[Candidate]"
) -> dict[str, dict[str, list[str]]]:
    """The detected values of the features the candidates declare (the rest is noise in a report)."""
    relevant: dict[str, dict[str, list[str]]] = {}
    for candidate in order:
        for namespace, feature in candidate.requires:
            values = supported.get(namespace, {}).get(feature)
            if values:
                relevant.setdefault(namespace, {})[feature] = list(values)
    return relevant
