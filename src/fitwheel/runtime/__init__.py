"""Import-time dispatch for fat wheels: load the best compiled extension this process can run.

A package that ships several builds of one extension module declares them, most preferred
first, each with the variant properties it needs (`x86_64 :: level :: v3`), plus a baseline that
needs nothing. `choose()` loads the first one the running machine supports, falls through past
any that fails to load, and records what it did and why on the package (`explain()`).

This package imports only the standard library and nothing else of fitwheel, and refers to its
sibling `cpu` module relatively, so it can be copied into another package under any name.
Importing it must stay cheap: it runs inside someone else's `import`.
"""

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence
    from types import ModuleType

    Supported = Mapping[str, Mapping[str, Sequence[str]]]

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

FORCE_VARIABLE = "FITWHEEL_RUNTIME_FORCE"
# The kernel driver's files: present when the NVIDIA kernel module is loaded, readable without
# initialising the driver. They say nothing about the CUDA version or the GPUs themselves.
NVIDIA_DRIVER_FILES = ("proc/driver/nvidia/version", "sys/module/nvidia/version")
NVIDIA_DRIVER_PRESENT = ("nvidia", "driver", "present")
CPU_NAMESPACES = frozenset({"x86_64", "aarch64"})
CHOICE_ATTRIBUTE = "__fitwheel_choice__"
BASELINE_ALIAS = "baseline"

_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_")
_VALUE_CHARS = _NAME_CHARS | {"."}


class InvalidCandidate(ValueError):
    """A package declared a candidate wrongly (bad property string, bad module name, duplicate)."""


class NoLoadableCandidate(ImportError):
    """No candidate, not even the baseline, could be loaded; `choice.attempts` says why each failed."""

    def __init__(self, message: str, *, name: str, choice: "Choice") -> None:
        super().__init__(message, name=name)
        self.choice = choice


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
        return {
            "package": self.package,
            "chosen": self.chosen,
            "force": self.force,
            "attempts": [attempt.as_dict() for attempt in self.attempts],
            "supported": {ns: dict(features) for ns, features in self.supported.items()},
        }

    def __str__(self) -> str:
        lines = [f"{self.package}: loaded {self.chosen or 'nothing'}"]
        if self.force is not None:
            lines.append(f"  {FORCE_VARIABLE}={self.force}")
        for attempt in self.attempts:
            lines.append(f"  {attempt.candidate}: {attempt.outcome}: {attempt.reason}")
        for namespace, features in sorted(self.supported.items()):
            for feature, values in features.items():
                lines.append(f"  detected {namespace} :: {feature} :: {', '.join(values)}")
        return "\n".join(lines)


def detect_supported(
    namespaces: "Iterable[str] | None" = None,
    sysroot: str = "/",
    machine: "str | None" = None,
    environ: "Mapping[str, str] | None" = None,
) -> dict[str, dict[str, list[str]]]:
    """The properties this machine supports, `{namespace: {feature: [values, best first]}}`.

    CPU namespaces come from `cpu.cpu_variant_properties` (the same code `fitwheel detect` uses),
    for the interpreter's architecture. `nvidia :: driver :: present` is offered when the NVIDIA
    kernel driver is loaded. `namespaces` limits the work to the ones a caller needs; `sysroot`,
    `machine` and `environ` (for `FITWHEEL_X86_64_LEVEL` / `FITWHEEL_AARCH64_VERSION`) are passed
    to `cpu.cpu_variant_properties`.
    """
    wanted = None if namespaces is None else frozenset(namespaces)
    supported: dict[str, dict[str, list[str]]] = {}
    if wanted is None or not wanted.isdisjoint(CPU_NAMESPACES):
        from . import cpu

        for namespace, features in cpu.cpu_variant_properties(sysroot, machine, environ).items():
            supported[namespace] = {feature: list(values) for feature, values in features.items()}
    if wanted is None or "nvidia" in wanted:
        namespace, feature, value = NVIDIA_DRIVER_PRESENT
        if any(os.path.exists(os.path.join(sysroot, path)) for path in NVIDIA_DRIVER_FILES):
            supported.setdefault(namespace, {})[feature] = [value]
    return supported


def choose(
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
        raise InvalidCandidate(f"{package}: candidate modules are not unique: {names}")
    env = os.environ if environ is None else environ
    force = _forced(package, names, env)
    if force is not None and force[1] == BASELINE_ALIAS:
        force = (force[0], baseline)
    if supported is None:
        needed = frozenset().union(*(candidate.namespaces for candidate in candidates))
        try:
            supported = detect_supported(needed, environ=env) if needed else {}
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
        raise NoLoadableCandidate(
            f"no build of {package} could be loaded on this machine:\n{choice}",
            name=package,
            choice=choice,
        )
    return module


def explain(package: str) -> Choice:
    """What `choose()` did for `package` (importing it if needed): for bug reports."""
    module = sys.modules.get(package)
    if module is None:
        __import__(package)
        module = sys.modules[package]
    choice = getattr(module, CHOICE_ATTRIBUTE, None)
    if choice is None:
        raise LookupError(f"{package} did not choose its extension with fitwheel.runtime")
    return choice  # type: ignore[no-any-return]


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
