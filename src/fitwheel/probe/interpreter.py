"""Facts about the running interpreter: implementation, ABI, real architecture, libc, platform tags.

Everything is read from the interpreter binary and the C library, never from the kernel: a 32-bit
or x32 Python on a 64-bit kernel, or an x86-64 Python under Rosetta 2, gets its own tags.
"""

from __future__ import annotations

import os
import struct
import sys

from fitwheel.runtime import interpreter_machine

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_PT_INTERP = 3
_EF_ARM_ABI_FLOAT_HARD = 0x400
_EF_ARM_ABI_FLOAT_SOFT = 0x200

# Oldest glibc each architecture shipped with in manylinux; older minors are not offered.
_MANYLINUX_FLOOR = {"x86_64": 4, "i686": 4}
_MANYLINUX_DEFAULT_FLOOR = 16
_MANYLINUX_LEGACY = {(2, 17): "manylinux2014", (2, 12): "manylinux2010", (2, 5): "manylinux1"}
_LEGACY_ARCHES = {
    "manylinux2014": {"x86_64", "i686", "aarch64", "armv7l", "ppc64", "ppc64le", "s390x"},
    "manylinux2010": {"x86_64", "i686"},
    "manylinux1": {"x86_64", "i686"},
}


def probe_interpreter(executable: str | None = None) -> dict[str, Any]:
    """The `[interpreter]` table of a profile for `executable` (default: this interpreter).

    Never raises: a fact that cannot be read is left out and named in `unknown` with the reason.
    `platforms` is computed without importing `packaging` on Linux; elsewhere it is delegated to
    `packaging.tags` (imported only there).
    """
    path = executable if executable is not None else sys.executable
    unknown: dict[str, str] = {}
    machine = interpreter_machine(path)
    elf = _read_elf(path)
    facts: dict[str, Any] = {
        "implementation": sys.implementation.name,
        "python_version": ".".join(str(part) for part in sys.version_info[:3]),
        "abis": _abis(),
        "platforms": [],
        "architecture": machine,
        "pointer_bits": 8 * struct.calcsize("P"),
        "os": sys.platform,
    }
    if machine == "x32":
        facts["x32"] = True
    if elf is not None and machine == "armv7l":
        flags = elf["flags"]
        facts["arm_float_abi"] = (
            "hard"
            if flags & _EF_ARM_ABI_FLOAT_HARD
            else "soft"
            if flags & _EF_ARM_ABI_FLOAT_SOFT
            else "unknown"
        )
    if sys.platform.startswith("linux"):
        libc, version, reason = _linux_libc(elf)
        if libc:
            facts["libc"] = libc
        if version:
            facts["libc_version"] = version
        if reason:
            unknown["libc_version"] = reason
        facts["platforms"] = linux_platforms(machine, libc, version)
    else:
        emulation = _emulation()
        if emulation:
            facts["emulation"] = emulation
        try:
            from packaging.tags import platform_tags
        except ImportError as exc:  # pragma: no cover - packaging is a dependency
            unknown["platforms"] = f"packaging is not importable: {exc}"
        else:
            facts["platforms"] = list(platform_tags())
    if unknown:
        facts["unknown"] = unknown
    return facts


def _abis() -> list[str]:
    version = f"{sys.version_info[0]}{sys.version_info[1]}"
    if sys.implementation.name != "cpython":
        import sysconfig

        soabi = str(sysconfig.get_config_var("SOABI") or "")
        parts = soabi.split("-")
        abi = "_".join(parts[:2]) if len(parts) >= 2 else ""
        return [abi, "none"] if abi else ["none"]
    abiflags = getattr(sys, "abiflags", "")
    if not abiflags and sys.platform == "win32":
        import sysconfig

        abiflags = "t" if sysconfig.get_config_var("Py_GIL_DISABLED") else ""
    flags = "".join(flag for flag in ("d", "t") if flag in abiflags)
    abis = [f"cp{version}{flags}"]
    if "t" not in flags:
        abis.append("abi3")
    abis.append("none")
    return abis


def _read_elf(path: str) -> dict[str, Any] | None:
    """e_flags and PT_INTERP of an ELF file, or None when it is not one (macOS, Windows)."""
    try:
        with open(path, "rb") as stream:
            head = stream.read(4096)
            if len(head) < 52 or head[:4] != b"\x7fELF":
                return None
            is64 = head[4] == 2
            order = "<" if head[5] == 1 else ">"
            if is64:
                phoff, flags, phentsize, phnum = (
                    struct.unpack_from(order + "Q", head, 32)[0],
                    struct.unpack_from(order + "I", head, 48)[0],
                    *struct.unpack_from(order + "HH", head, 54),
                )
            else:
                phoff, flags, phentsize, phnum = (
                    struct.unpack_from(order + "I", head, 28)[0],
                    struct.unpack_from(order + "I", head, 36)[0],
                    *struct.unpack_from(order + "HH", head, 42),
                )
            interp = None
            for index in range(phnum):
                offset = phoff + index * phentsize
                if offset + phentsize > len(head):
                    break
                (p_type,) = struct.unpack_from(order + "I", head, offset)
                if p_type != _PT_INTERP:
                    continue
                if is64:
                    p_offset, p_filesz = struct.unpack_from(order + "Q8xQ", head, offset + 8)[:2]
                else:
                    p_offset, p_filesz = struct.unpack_from(order + "I8xI", head, offset + 4)[:2]
                stream.seek(p_offset)
                interp = stream.read(p_filesz).rstrip(b"\0").decode("utf-8", "replace")
                break
    except (OSError, struct.error):
        return None
    return {"flags": flags, "interp": interp}


def _linux_libc(elf: dict[str, Any] | None) -> tuple[str | None, str | None, str | None]:
    """(family, version, reason-if-unknown); glibc from confstr, musl from the ELF interpreter."""
    try:
        glibc = os.confstr("CS_GNU_LIBC_VERSION")
    except (OSError, ValueError, AttributeError):
        glibc = None
    if glibc:
        name, _, version = glibc.partition(" ")
        if name == "glibc" and version:
            return "glibc", _major_minor(version), None
    interp = elf["interp"] if elf else None
    if interp and "ld-musl-" in os.path.basename(interp):
        musl = _musl_version(interp)
        if musl:
            return "musl", musl, None
        return "musl", None, f"the musl loader {interp} did not report a version"
    if elf is not None and interp is None:
        return None, None, "the interpreter is statically linked (no ELF interpreter)"
    return None, None, "neither glibc (confstr) nor musl (ELF interpreter) was found"


def _major_minor(version: str) -> str | None:
    parts = version.split(".")
    if len(parts) >= 2 and parts[0].isdigit() and parts[1].isdigit():
        return f"{int(parts[0])}.{int(parts[1])}"
    return None


def _musl_version(loader: str) -> str | None:
    # Running the musl loader with no argument prints "Version 1.2.4" on stderr; this is the
    # only way to ask, and happens only on musl systems.
    import subprocess

    try:
        completed = subprocess.run(
            [loader], capture_output=True, timeout=5, check=False, stdin=subprocess.DEVNULL
        )
    except (OSError, subprocess.SubprocessError):
        return None
    for line in completed.stderr.decode("utf-8", "replace").splitlines():
        key, _, value = line.strip().partition(" ")
        if key == "Version":
            return _major_minor(value)
    return None


def linux_platforms(machine: str, libc: str | None, libc_version: str | None) -> list[str]:
    """Linux platform tags in `packaging.tags.platform_tags()` order, without importing packaging."""
    # An x32 binary can use neither i686 nor x86_64 wheels: only its own plain tag fits.
    arch = machine
    plain = f"linux_{arch}"
    tags = [plain]
    version = _parse_version(libc_version)
    if version is None:
        return tags
    major, minor = version
    if libc == "glibc" and major == 2 and machine != "x32":
        floor = _MANYLINUX_FLOOR.get(arch, _MANYLINUX_DEFAULT_FLOOR)
        for glibc_minor in range(minor, floor, -1):
            tags.append(f"manylinux_2_{glibc_minor}_{arch}")
            legacy = _MANYLINUX_LEGACY.get((2, glibc_minor))
            if legacy and arch in _LEGACY_ARCHES[legacy]:
                tags.append(f"{legacy}_{arch}")
    elif libc == "musl" and major == 1:
        tags.extend(f"musllinux_1_{musl_minor}_{arch}" for musl_minor in range(minor, -1, -1))
    return tags


def _parse_version(text: str | None) -> tuple[int, int] | None:
    if not text:
        return None
    major, _, minor = text.partition(".")
    if major.isdigit() and minor.isdigit():
        return int(major), int(minor)
    return None


def _emulation() -> str | None:
    """`rosetta2` for an x86-64 Python translated on Apple silicon, `x64-on-arm64` on Windows."""
    if sys.platform == "darwin":
        import ctypes

        try:
            libc = ctypes.CDLL("/usr/lib/libSystem.B.dylib")
            value = ctypes.c_int(0)
            size = ctypes.c_size_t(ctypes.sizeof(value))
            if libc.sysctlbyname(
                b"sysctl.proc_translated", ctypes.byref(value), ctypes.byref(size), None, 0
            ):
                return None
        except (OSError, AttributeError):
            return None
        return "rosetta2" if value.value == 1 else None
    if sys.platform == "win32":
        import ctypes

        try:
            kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined,unused-ignore]
            process_machine = ctypes.c_ushort(0)
            native_machine = ctypes.c_ushort(0)
            ok = kernel32.IsWow64Process2(
                kernel32.GetCurrentProcess(),
                ctypes.byref(process_machine),
                ctypes.byref(native_machine),
            )
        except (OSError, AttributeError):
            return None
        if not ok:
            return None
        image_file_machine_arm64 = 0xAA64
        if native_machine.value == image_file_machine_arm64 and interpreter_machine() != "aarch64":
            return "x64-on-arm64"
    return None
