"""Errors a user can hit: each names what was wrong, where, and what to do."""

from __future__ import annotations


class FitwheelError(Exception):
    """Base of every error fitwheel reports to a user (CLI exit status 2)."""


class UnreadableFile(FitwheelError):
    """A file fitwheel was told to read cannot be read (missing, a folder, no permission)."""

    def __init__(self, path: object, reason: str) -> None:
        super().__init__(f"cannot read {path}: {reason}")
        self.path = str(path)
        self.reason = reason


class InvalidFolder(FitwheelError):
    """A folder argument is missing, not a folder, or in a place it must not be."""

    def __init__(self, path: object, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = str(path)
        self.problem = problem


class InvalidProperty(FitwheelError):
    """A variant property is not `namespace :: feature :: value` with valid parts."""


class InvalidLabel(FitwheelError):
    """A variant label does not match `[0-9a-z_.]+` or misuses the reserved `null`."""


class InvalidVariantWheelFilename(FitwheelError):
    """A wheel filename cannot be parsed (with or without a variant label)."""


class InvalidVariantMetadata(FitwheelError):
    """A `variant.json` / `variants.json` document is malformed or of an unknown schema."""


class VariantMetadataConflict(FitwheelError):
    """Two variants documents disagree (a label with two property sets, incompatible priorities)."""


class InvalidProfile(FitwheelError):
    """A profile file is malformed."""


class InvalidOverride(FitwheelError):
    """An override environment variable (`FITWHEEL_CUDA_DRIVER`, ...) cannot be understood."""


class InvalidMarker(FitwheelError):
    """A dependency specifier's marker cannot be parsed or evaluated."""


class InvalidWheel(FitwheelError):
    """A wheel archive is unreadable or unsafe (path traversal, links, duplicates, bad RECORD)."""


class UnreadableArchive(InvalidWheel):
    """A wheel's zip structure is one `zipfile` (and so pip) refuses: bad CRC, encryption,
    an unsupported compression method or zip version, a corrupt stream."""


class UnknownBuildProperty(FitwheelError):
    """A variant property has no known compiler flags (`fitwheel build-flags`)."""


class IndexUnavailable(FitwheelError):
    """An index or one of its files cannot be fetched (timeout, refused, HTTP error, missing)."""


class InvalidNetworkOption(FitwheelError):
    """A proxy, CA bundle, client certificate or keyring setting cannot be used."""


class InvalidIndexPage(FitwheelError):
    """An index page (PEP 503 HTML or PEP 691 JSON) is malformed."""


class ProjectNotFound(FitwheelError):
    """The index has no page for the project."""


class UpstreamError(FitwheelError):
    """An upstream index or file host failed: unreachable, timed out, or an error status."""

    def __init__(self, url: str, reason: str, *, status: int = 502) -> None:
        super().__init__(f"upstream {url} failed: {reason}")
        self.url = url
        self.reason = reason
        self.status = status


class InstallerNotFound(FitwheelError):
    """`fitwheel pip` / `fitwheel uv` cannot find the installer it wraps."""


class UnroutableIndex(FitwheelError):
    """The installer would read an index from somewhere the wrapper cannot put the proxy in
    front of; running it anyway would quietly install builds that were never chosen."""


class SharedProxyError(FitwheelError):
    """The wrappers' shared proxy cannot be used: a malformed setting for it, a state file that
    is not one, or a proxy that did not start (its log says why)."""


class InvalidFamily(FitwheelError):
    """An index family (a built-in name, a family file or a member name) cannot be used."""


class InvalidVariantTable(FitwheelError):
    """The `[variant]` table of a `pyproject.toml` is malformed or names a variant that cannot be
    built (an unknown namespace, a label collision, properties without compiler flags)."""


class VariantBuildFailed(FitwheelError):
    """Building one variant of a project failed: the backend failed, made no wheel, or the
    result could not become a variant wheel. Carries the variant's label."""

    def __init__(self, label: str, reason: str) -> None:
        super().__init__(f"variant {label!r}: {reason}")
        self.label = label
        self.reason = reason


class InvalidLock(FitwheelError):
    """A `pylock.toml` is malformed: not TOML, not PEP 751, or a variant wheel without its
    `[packages.variants-json]` label."""


class LockNotForTarget(FitwheelError):
    """The lock was made for other environments (another Python, another platform)."""


class NoBuildForTarget(FitwheelError):
    """A package the target needs has no locked file that fits the target."""


class LockedFileMismatch(FitwheelError):
    """A file's bytes do not match the hash (or size) the lock records for it."""


class LockedFileMissing(FitwheelError):
    """A locked file is neither in the given wheel folder nor at its locked URL."""


class ResolutionFailed(FitwheelError):
    """The resolver (pip) could not resolve the requirements for one of the lock's targets."""


class LockConflict(FitwheelError):
    """Targets need different versions of a package and no marker tells them apart."""
