"""CPU facts that only some imports need: other platforms' sources, override variables, and one
feature per ISA extension. Loaded by the runtime package on first use (standard library only,
like the rest of it); fitwheel's probes and providers use it directly.
"""

import os
import sys

from . import (
    AARCH64_VERSION_ENV,
    AARCH64_VERSIONS,
    MACHINE_ALIASES,
    X86_64_LEVEL_ENV,
    X86_64_LEVEL_FLAGS,
    aarch64_properties,
    read_pseudo_file,
    x86_64_properties,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping


# Kernel flag -> the name the ISA (and archspec) uses, offered as well so either spelling matches.
_X86_ALIASES = {"pni": "sse3", "abm": "lzcnt", "3dnowprefetch": "prefetchw"}


# Flags that name instructions a compiler can target; everything else in /proc/cpuinfo
# (`hypervisor`, `constant_tsc`, `arat`, ...) describes the platform and is not a variant feature.
_X86_ISA_FLAGS = frozenset(
    (  # noqa: SIM905 (one string constant unmarshals faster than ~70)
        "3dnow 3dnowext 3dnowprefetch abm adx aes avx avx2 avx_ifma avx_ne_convert "
        "avx_vnni avx_vnni_int8 avx_vnni_int16 bmi1 bmi2 cldemote clflushopt clwb clzero "
        "cmov cmpccxadd cx16 cx8 enqcmd f16c fma fma4 fsgsbase fsrm fxsr gfni lahf_lm "
        "lzcnt mmx mmxext movbe movdir64b movdiri pclmulqdq pconfig pku pni popcnt "
        "prefetchi rdpid rdrand rdseed rtm serialize sha512 sha_ni sm3 sm4 sse sse2 "
        "sse4_1 sse4_2 sse4a ssse3 tbm tsxldtrk uintr vaes vpclmulqdq waitpkg wbnoinvd "
        "xop xsave xsavec xsaveopt xsaves"
    ).split()
)


_X86_ISA_PREFIXES = ("avx512", "amx_")


# Bits of AT_HWCAP / AT_HWCAP2 on arm64 Linux (arch/arm64/include/uapi/asm/hwcap.h), by position.
_HWCAP_NAMES = (  # noqa: SIM905 (see _X86_ISA_FLAGS)
    "fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm "
    "jscvt fcma lrcpc dcpop sha3 sm3 sm4 asimddp sha512 sve asimdfhm dit uscat ilrcpc "
    "flagm ssbs sb paca pacg"
).split()


_HWCAP2_NAMES = (  # noqa: SIM905
    "dcpodp sve2 sveaes svepmull svebitperm svesha3 svesm4 flagm2 frint svei8mm "
    "svef32mm svef64mm svebf16 i8mm bf16 dgh rng bti mte ecv afp rpres mte3 sme "
    "sme_i16i64 sme_f64f64 sme_i8i32 sme_f16f32 sme_b16f32 sme_f32f32 sme_fa64 wfxt"
).split()


_AT_HWCAP = 16


_AT_HWCAP2 = 26


# AArch64 `Features` that describe the kernel or the platform rather than instructions.
_A64_NON_ISA = frozenset({"evtstrm", "cpuid"})


def auxv_hwcaps(path: str) -> "frozenset[str]":
    data = read_pseudo_file(path, 1 << 16) or b""
    names: set[str] = set()
    for offset in range(0, len(data) - 15, 16):
        key = int.from_bytes(data[offset : offset + 8], "little")
        value = int.from_bytes(data[offset + 8 : offset + 16], "little")
        if key == _AT_HWCAP:
            names.update(n for bit, n in enumerate(_HWCAP_NAMES) if value >> bit & 1)
        elif key == _AT_HWCAP2:
            names.update(n for bit, n in enumerate(_HWCAP2_NAMES) if value >> bit & 1)
    return frozenset(names)


def darwin_flags() -> "frozenset[str]":
    import ctypes  # only on macOS, where sysctl is the only source

    try:
        libc = ctypes.CDLL("/usr/lib/libSystem.B.dylib")
    except OSError:
        return frozenset()

    def sysctl(name: str) -> "bytes | None":
        size = ctypes.c_size_t(0)
        if libc.sysctlbyname(name.encode(), None, ctypes.byref(size), None, 0) != 0:
            return None
        buf = ctypes.create_string_buffer(size.value)
        if libc.sysctlbyname(name.encode(), buf, ctypes.byref(size), None, 0) != 0:
            return None
        return buf.raw[: size.value]

    names: set[str] = set()
    for key in ("machdep.cpu.features", "machdep.cpu.leaf7_features", "machdep.cpu.extfeatures"):
        raw = sysctl(key)
        if raw:
            for word in raw.rstrip(b"\0").decode("ascii", "replace").split():
                names.add(_DARWIN_X86.get(word, word.lower().replace(".", "_")))
    for feature, flag in _DARWIN_ARM64.items():
        raw = sysctl(f"hw.optional.arm.{feature}")
        if raw and int.from_bytes(raw[:4], "little"):
            names.add(flag)
    if names & {flag for flag in _DARWIN_ARM64.values()}:
        names.update({"fp", "asimd"})
    return frozenset(names)


_DARWIN_X86 = {
    "SSE3": "pni",
    "SSE4.1": "sse4_1",
    "SSE4.2": "sse4_2",
    "LZCNT": "abm",
    "LAHF": "lahf_lm",
    "CX16": "cx16",
    "OSXSAVE": "xsave",
    "AVX1.0": "avx",
    "SHA": "sha_ni",
    "PCLMULQDQ": "pclmulqdq",
    "FMA": "fma",
    "AVX512F": "avx512f",
    "AVX512BW": "avx512bw",
    "AVX512CD": "avx512cd",
    "AVX512DQ": "avx512dq",
    "AVX512VL": "avx512vl",
}


_DARWIN_ARM64 = {
    "FEAT_LSE": "atomics",
    "FEAT_RDM": "asimdrdm",
    "FEAT_CRC32": "crc32",
    "FEAT_DPB": "dcpop",
    "FEAT_JSCVT": "jscvt",
    "FEAT_FCMA": "fcma",
    "FEAT_LRCPC": "lrcpc",
    "FEAT_PAuth": "paca",
    "FEAT_DIT": "dit",
    "FEAT_LSE2": "uscat",
    "FEAT_LRCPC2": "ilrcpc",
    "FEAT_FlagM": "flagm",
    "FEAT_SB": "sb",
    "FEAT_DPB2": "dcpodp",
    "FEAT_FlagM2": "flagm2",
    "FEAT_FRINTTS": "frint",
    "FEAT_BTI": "bti",
    "FEAT_I8MM": "i8mm",
    "FEAT_BF16": "bf16",
    "FEAT_DotProd": "asimddp",
    "FEAT_FHM": "asimdfhm",
    "FEAT_FP16": "fphp",
    "FEAT_AES": "aes",
    "FEAT_SHA256": "sha2",
    "FEAT_SHA512": "sha512",
    "FEAT_SHA3": "sha3",
    "FEAT_SSBS": "ssbs",
    "FEAT_SME": "sme",
    "FEAT_SME2": "sme2",
}


def x86_extension_names(flags: "frozenset[str]") -> "set[str]":
    names = set(flags & _X86_ISA_FLAGS)
    names.update(flag for flag in flags if flag.startswith(_X86_ISA_PREFIXES))
    names.update([_X86_ALIASES[flag] for flag in names & _X86_ALIASES.keys()])
    return {name for name in names if is_feature_name(name)}


_FEATURE_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_")


def is_feature_name(name: str) -> bool:
    if _FEATURE_CHARS.issuperset(name):
        return bool(name)
    # Rare: anything outside [a-z0-9_]; str.isdigit() also accepts non-ASCII digits.
    return all(c.isdigit() or c == "_" or "a" <= c <= "z" for c in name)


def parse_x86_64_level(value: str) -> int:
    """`v2`, `2` or `x86-64-v2` -> 2; raises ValueError naming the accepted forms."""
    text = value.strip().lower().removeprefix("x86-64-").removeprefix("x86_64_")
    text = text.removeprefix("v")
    if text in {"1", "2", "3", "4"}:
        return int(text)
    raise ValueError(f"invalid x86-64 level {value!r}: expected one of v1, v2, v3, v4")


def parse_aarch64_version(value: str) -> str:
    """`8.2a`, `8.2` or `armv8.2-a` -> `8.2a`; raises ValueError naming the accepted forms."""
    text = value.strip().lower().removeprefix("armv").replace("-", "")
    text = text if text.endswith("a") else text + "a"
    text = "8a" if text == "8.0a" else text
    if any(version == text for version, _ in AARCH64_VERSIONS):
        return text
    known = ", ".join(version for version, _ in AARCH64_VERSIONS)
    raise ValueError(f"invalid AArch64 version {value!r}: expected one of {known}")


def x86_64_level_properties(level: int) -> "dict[str, list[str]]":
    """The `x86_64` properties of a CPU known only by its level: the level and its mandatory flags."""
    return x86_64_properties(frozenset().union(*X86_64_LEVEL_FLAGS[:level]))


def aarch64_version_properties(version: str) -> "dict[str, list[str]]":
    """The `aarch64` properties of a CPU known only by its version and its mandatory extensions."""
    return aarch64_properties(dict(AARCH64_VERSIONS)[version])


def fallback_machine() -> str:
    # What `platform.machine()` reads, without importing `platform` (nothing outside the probe
    # and this runtime may look at the running machine; `platform` also costs an import).
    if hasattr(os, "uname"):
        machine = os.uname().machine.lower()
    else:
        machine = (
            os.environ.get("PROCESSOR_ARCHITEW6432") or os.environ.get("PROCESSOR_ARCHITECTURE", "")
        ).lower()
    machine = MACHINE_ALIASES.get(machine, machine)
    if sys.maxsize <= 2**32:
        machine = {"x86_64": "i686", "aarch64": "armv7l"}.get(machine, machine)
    return machine


def aarch64_extension_names(features: "frozenset[str]") -> "set[str]":
    """The AArch64 `Features` that name instructions (not kernel or platform properties)."""
    return {n for n in features - _A64_NON_ISA if is_feature_name(n) and n != "version"}


def cpu_override(
    namespace: str, environ: "Mapping[str, str] | None" = None
) -> "dict[str, list[str]] | None":
    """The properties an override variable imposes on `namespace`, or None when it is unset.

    `FITWHEEL_X86_64_LEVEL` / `FITWHEEL_AARCH64_VERSION` describe a target CPU without looking at
    this one: the level (version) and exactly the extensions it makes mandatory. An empty value
    counts as unset. A malformed value raises ValueError.
    """
    env = os.environ if environ is None else environ
    if namespace == "x86_64":
        raw = env.get(X86_64_LEVEL_ENV, "")
        return x86_64_level_properties(parse_x86_64_level(raw)) if raw else None
    if namespace == "aarch64":
        raw = env.get(AARCH64_VERSION_ENV, "")
        return aarch64_version_properties(parse_aarch64_version(raw)) if raw else None
    return None
