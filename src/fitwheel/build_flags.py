"""Compiler flags that make a build need exactly what its variant properties declare.

A pure mapping: `x86_64 :: level :: v3` -> `-march=x86-64-v3`, `aarch64 :: sve :: on` ->
`-march=armv8-a+sve`, `nvidia :: sm_arch :: 86_real` -> `-gencode arch=compute_86,code=sm_86`.
Used for variant builds (one wheel per property set) and fat builds (one extension per set) alike.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from fitwheel.errors import UnknownBuildProperty
from fitwheel.variants.properties import VariantProperty, parse_property

COMPILERS = ("c", "cuda", "hip")

X86_64_LEVEL_MARCH = {
    "v1": "-march=x86-64",
    "v2": "-march=x86-64-v2",
    "v3": "-march=x86-64-v3",
    "v4": "-march=x86-64-v4",
}

# x86_64 extension features (the kernel's /proc/cpuinfo names, as `fitwheel detect` reports them)
# -> GCC/Clang options. An empty tuple: part of every x86-64 CPU, or no instructions to enable.
# `avx512*` and `amx_*` features follow a rule instead (see `_x86_64_extension`).
X86_64_EXTENSION_OPTIONS: dict[str, tuple[str, ...]] = {
    "3dnow": ("-m3dnow",),
    "3dnowext": ("-m3dnowa",),
    "3dnowprefetch": ("-mprfchw",),
    "prefetchw": ("-mprfchw",),
    "abm": ("-mabm",),
    "lzcnt": ("-mlzcnt",),
    "adx": ("-madx",),
    "aes": ("-maes",),
    "avx": ("-mavx",),
    "avx2": ("-mavx2",),
    "avx_ifma": ("-mavxifma",),
    "avx_ne_convert": ("-mavxneconvert",),
    "avx_vnni": ("-mavxvnni",),
    "avx_vnni_int8": ("-mavxvnniint8",),
    "avx_vnni_int16": ("-mavxvnniint16",),
    "bmi1": ("-mbmi",),
    "bmi2": ("-mbmi2",),
    "cldemote": ("-mcldemote",),
    "clflushopt": ("-mclflushopt",),
    "clwb": ("-mclwb",),
    "clzero": ("-mclzero",),
    "cmov": (),
    "cmpccxadd": ("-mcmpccxadd",),
    "cx16": ("-mcx16",),
    "cx8": (),
    "enqcmd": ("-menqcmd",),
    "f16c": ("-mf16c",),
    "fma": ("-mfma",),
    "fma4": ("-mfma4",),
    "fsgsbase": ("-mfsgsbase",),
    "fsrm": (),
    "fxsr": ("-mfxsr",),
    "gfni": ("-mgfni",),
    "lahf_lm": ("-msahf",),
    "mmx": ("-mmmx",),
    "mmxext": (),
    "movbe": ("-mmovbe",),
    "movdir64b": ("-mmovdir64b",),
    "movdiri": ("-mmovdiri",),
    "pclmulqdq": ("-mpclmul",),
    "pconfig": ("-mpconfig",),
    "pku": ("-mpku",),
    "pni": ("-msse3",),
    "sse3": ("-msse3",),
    "popcnt": ("-mpopcnt",),
    "prefetchi": ("-mprefetchi",),
    "rdpid": ("-mrdpid",),
    "rdrand": ("-mrdrnd",),
    "rdseed": ("-mrdseed",),
    "rtm": ("-mrtm",),
    "serialize": ("-mserialize",),
    "sha512": ("-msha512",),
    "sha_ni": ("-msha",),
    "sm3": ("-msm3",),
    "sm4": ("-msm4",),
    "sse": ("-msse",),
    "sse2": ("-msse2",),
    "sse4_1": ("-msse4.1",),
    "sse4_2": ("-msse4.2",),
    "sse4a": ("-msse4a",),
    "ssse3": ("-mssse3",),
    "tbm": ("-mtbm",),
    "tsxldtrk": ("-mtsxldtrk",),
    "uintr": ("-muintr",),
    "vaes": ("-mvaes",),
    "vpclmulqdq": ("-mvpclmulqdq",),
    "waitpkg": ("-mwaitpkg",),
    "wbnoinvd": ("-mwbnoinvd",),
    "xop": ("-mxop",),
    "xsave": ("-mxsave",),
    "xsavec": ("-mxsavec",),
    "xsaveopt": ("-mxsaveopt",),
    "xsaves": ("-mxsaves",),
}

# aarch64 extension features (the kernel's `Features` names) -> GCC/Clang `-march` modifiers.
# Features with no modifier of their own (`jscvt`, `dit`, ...) come with an architecture
# version: declare `aarch64 :: version` instead.
AARCH64_EXTENSION_MODIFIERS: dict[str, tuple[str, ...]] = {
    "fp": ("fp",),
    "asimd": ("simd",),
    "aes": ("aes",),
    "pmull": ("aes",),
    "sha1": ("sha2",),
    "sha2": ("sha2",),
    "sha3": ("sha3",),
    "sha512": ("sha3",),
    "sm3": ("sm4",),
    "sm4": ("sm4",),
    "crc32": ("crc",),
    "atomics": ("lse",),
    "fphp": ("fp16",),
    "asimdhp": ("fp16",),
    "asimdrdm": ("rdma",),
    "asimddp": ("dotprod",),
    "asimdfhm": ("fp16fml",),
    "lrcpc": ("rcpc",),
    "flagm": ("flagm",),
    "ssbs": ("ssbs",),
    "sb": ("sb",),
    "rng": ("rng",),
    "mte": ("memtag",),
    "i8mm": ("i8mm",),
    "bf16": ("bf16",),
    "sve": ("sve",),
    "sve2": ("sve2",),
    "sveaes": ("sve2-aes",),
    "svepmull": ("sve2-aes",),
    "svebitperm": ("sve2-bitperm",),
    "svesha3": ("sve2-sha3",),
    "svesm4": ("sve2-sm4",),
    "svei8mm": ("sve", "i8mm"),
    "svebf16": ("sve", "bf16"),
    "svef32mm": ("f32mm",),
    "svef64mm": ("f64mm",),
    "sme": ("sme",),
}

# Known properties that choose a toolkit or a dependency rather than instructions: no flags.
FLAGLESS_FEATURES = frozenset(
    {
        ("nvidia", "cuda_version_lower_bound"),
        ("nvidia", "cuda_version_upper_bound"),
        ("nvidia", "driver"),
        ("amd", "rocm_version"),
    }
)
FLAGLESS_NAMESPACES = frozenset({"abi_dependency"})

_AARCH64_VERSION_RE = re.compile(r"(?P<major>[89])(?:\.(?P<minor>\d))?a")
_SM_ARCH_RE = re.compile(r"(?P<arch>\d+[a-z]?)_(?P<kind>real|virtual)")
_GFX_ARCH_RE = re.compile(r"gfx[0-9a-f]+")


@dataclass(frozen=True)
class BuildFlags:
    """Flags per compiler: `c` for GCC/Clang (CFLAGS/CXXFLAGS), `cuda` for nvcc, `hip` for hipcc."""

    c: tuple[str, ...] = ()
    cuda: tuple[str, ...] = ()
    hip: tuple[str, ...] = ()

    def for_compiler(self, compiler: str) -> tuple[str, ...]:
        if compiler not in COMPILERS:
            raise ValueError(f"unknown compiler {compiler!r}: expected one of {COMPILERS}")
        flags: tuple[str, ...] = getattr(self, compiler)
        return flags

    def as_dict(self) -> dict[str, list[str]]:
        return {compiler: list(self.for_compiler(compiler)) for compiler in COMPILERS}


def build_flags(properties: Iterable[VariantProperty | str]) -> BuildFlags:  # noqa: C901
    """The flags a build for `properties` needs; raises `UnknownBuildProperty` for one it cannot map.

    Several values of one feature (PEP 825: any of them will do) mean the build must run where
    any of them is supported: the lowest x86-64 level or AArch64 version is used. Several
    `sm_arch` / `gfx_arch` values are several targets, all compiled in.
    """
    features: dict[tuple[str, str], list[VariantProperty]] = {}
    for item in properties:
        prop = item if isinstance(item, VariantProperty) else parse_property(item)
        features.setdefault(prop.feature_key, []).append(prop)
    namespaces = {namespace for namespace, _ in features}
    if {"x86_64", "aarch64"} <= namespaces:
        raise UnknownBuildProperty(
            "properties name both x86_64 and aarch64: one build targets one CPU architecture"
        )
    c: list[str] = []
    cuda: list[str] = []
    hip: list[str] = []
    aarch64_modifiers: list[str] = []
    aarch64_version: str | None = None
    for (namespace, feature), props in sorted(features.items()):
        values = sorted({prop.value for prop in props})
        if namespace in FLAGLESS_NAMESPACES or (namespace, feature) in FLAGLESS_FEATURES:
            continue
        if namespace == "x86_64" and feature == "level":
            for prop in props:
                if prop.value not in X86_64_LEVEL_MARCH:
                    raise _unknown(prop, f"x86-64 levels are {', '.join(X86_64_LEVEL_MARCH)}")
            c.insert(0, X86_64_LEVEL_MARCH[min(values)])
        elif namespace == "x86_64":
            _require_on(props)
            c.extend(option for option in _x86_64_extension(props[0]) if option not in c)
        elif namespace == "aarch64" and feature == "version":
            aarch64_version = min(values, key=lambda value: _aarch64_version_key(props, value))
        elif namespace == "aarch64":
            _require_on(props)
            modifiers = AARCH64_EXTENSION_MODIFIERS.get(feature)
            if modifiers is None:
                raise _unknown(
                    props[0],
                    "it has no -march modifier; declare the aarch64 :: version that makes it "
                    "mandatory instead",
                )
            aarch64_modifiers.extend(m for m in modifiers if m not in aarch64_modifiers)
        elif namespace == "nvidia" and feature == "sm_arch":
            for value in sorted(values, key=_arch_order):
                cuda.extend(("-gencode", _gencode(props, value)))
        elif namespace == "amd" and feature == "gfx_arch":
            for prop in props:
                if not _GFX_ARCH_RE.fullmatch(prop.value):
                    raise _unknown(prop, "expected a gfx target such as gfx942")
            hip.extend(f"--offload-arch={value}" for value in values)
        else:
            raise _unknown(
                props[0],
                "no compiler flags are known for this feature (known: x86_64 levels and "
                "extensions, aarch64 versions and extensions, nvidia :: sm_arch, amd :: gfx_arch)",
            )
    if aarch64_version is not None or aarch64_modifiers:
        march = "-march=" + _aarch64_arch(aarch64_version or "8a")
        c.insert(0, march + "".join(f"+{m}" for m in sorted(aarch64_modifiers)))
    return BuildFlags(tuple(c), tuple(cuda), tuple(hip))


def _unknown(prop: VariantProperty, why: str) -> UnknownBuildProperty:
    return UnknownBuildProperty(f"cannot map {str(prop)!r} to compiler flags: {why}")


def _require_on(props: list[VariantProperty]) -> None:
    for prop in props:
        if prop.value != "on":
            raise _unknown(prop, "an extension feature's only value is 'on'")


def _x86_64_extension(prop: VariantProperty) -> tuple[str, ...]:
    if prop.feature in X86_64_EXTENSION_OPTIONS:
        return X86_64_EXTENSION_OPTIONS[prop.feature]
    if prop.feature.startswith("avx512"):
        return ("-m" + prop.feature.replace("_", ""),)  # avx512_bf16 -> -mavx512bf16
    if prop.feature.startswith("amx_"):
        return ("-m" + prop.feature.replace("_", "-"),)  # amx_tile -> -mamx-tile
    raise _unknown(prop, "not a known x86-64 instruction-set extension")


def _aarch64_version_key(props: list[VariantProperty], value: str) -> tuple[int, int]:
    match = _AARCH64_VERSION_RE.fullmatch(value)
    if match is None:
        prop = next(p for p in props if p.value == value)
        raise _unknown(prop, "expected an AArch64 version such as 8a, 8.2a or 9.0a")
    return int(match["major"]), int(match["minor"] or 0)


def _aarch64_arch(version: str) -> str:
    match = _AARCH64_VERSION_RE.fullmatch(version)
    assert match is not None  # checked by _aarch64_version_key
    minor = match["minor"]
    if minor is None or minor == "0":
        return f"armv{match['major']}-a"
    return f"armv{match['major']}.{minor}-a"


def _arch_order(value: str) -> tuple[int, str, str]:
    match = _SM_ARCH_RE.fullmatch(value)
    if match is None:
        return (0, "", value)  # reported by _gencode
    digits = match["arch"].rstrip("abcdefghijklmnopqrstuvwxyz")
    return (int(digits), match["arch"], match["kind"])


def _gencode(props: list[VariantProperty], value: str) -> str:
    match = _SM_ARCH_RE.fullmatch(value)
    if match is None:
        prop = next(p for p in props if p.value == value)
        raise _unknown(prop, "expected an sm_arch such as 86_real or 80_virtual")
    arch = match["arch"]
    code = f"sm_{arch}" if match["kind"] == "real" else f"compute_{arch}"
    return f"arch=compute_{arch},code={code}"
