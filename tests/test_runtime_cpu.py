"""fitwheel.runtime CPU facts: flags, x86-64 levels and AArch64 versions from fake /proc trees, and overrides."""

from __future__ import annotations

import struct
import subprocess
import sys
from pathlib import Path

import pytest

from fitwheel import runtime
from fitwheel.runtime import cpu_details

SYSROOTS = Path(__file__).parent / "detect_sysroots"


@pytest.mark.parametrize(
    ("name", "level"),
    [
        ("x86-v1-qemu64", 1),
        ("x86-v2-nehalem", 2),
        ("x86-v3-haswell", 3),
        ("x86-v4-skylake", 4),
        ("x86-v4-vm-masked", 4),
    ],
)
def test_x86_64_levels(name: str, level: int) -> None:
    flags = runtime.read_cpu_flags(str(SYSROOTS / name))
    assert runtime.x86_64_level(flags) == level
    properties = runtime.cpu_variant_properties(str(SYSROOTS / name), machine="x86_64", environ={})
    assert properties["x86_64"]["level"] == [f"v{n}" for n in range(level, 0, -1)]


def test_masked_niche_flag_keeps_level_and_is_not_offered() -> None:
    props = runtime.cpu_variant_properties(
        str(SYSROOTS / "x86-v4-vm-masked"), machine="x86_64", environ={}
    )["x86_64"]
    assert props["level"][0] == "v4"
    assert props["avx512_vnni"] == ["on"]
    assert props["sha_ni"] == ["on"]
    assert "avx512_vpopcntdq" not in props
    # Platform flags are not instruction-set features.
    assert (
        "hypervisor" not in props and "arch_capabilities" not in props and "md_clear" not in props
    )


def test_each_level_needs_every_flag() -> None:
    full = frozenset().union(*runtime.X86_64_LEVEL_FLAGS)
    for level in (2, 3, 4):
        for flag in runtime.X86_64_LEVEL_FLAGS[level - 1]:
            assert runtime.x86_64_level(full - {flag}) == level - 1, flag


def test_x86_aliases_are_offered() -> None:
    props = runtime.x86_64_properties({"pni", "abm", "avx2"})
    assert props["sse3"] == props["pni"] == ["on"]
    assert props["lzcnt"] == props["abm"] == ["on"]


@pytest.mark.parametrize(
    ("name", "versions"),
    [
        ("aarch64-neoverse-n1", ["8.2a", "8.1a", "8a"]),
        ("aarch64-neoverse-v1", ["8.4a", "8.3a", "8.2a", "8.1a", "8a"]),
        ("aarch64-neoverse-v2", ["9.0a", "8.6a", "8.5a", "8.4a", "8.3a", "8.2a", "8.1a", "8a"]),
        ("aarch64-apple-m1", ["8.4a", "8.3a", "8.2a", "8.1a", "8a"]),
    ],
)
def test_aarch64_versions(name: str, versions: list[str]) -> None:
    props = runtime.cpu_variant_properties(str(SYSROOTS / name), machine="aarch64", environ={})
    assert props["aarch64"]["version"] == versions
    assert runtime.aarch64_version(runtime.read_cpu_flags(str(SYSROOTS / name))) == versions[0]
    assert props["aarch64"]["asimd"] == ["on"]
    assert "evtstrm" not in props["aarch64"] and "cpuid" not in props["aarch64"]


def test_aarch64_hwcaps_from_auxv(tmp_path: Path) -> None:
    (tmp_path / "proc/self").mkdir(parents=True)
    (tmp_path / "proc/cpuinfo").write_text("processor\t: 0\nFeatures\t: fp asimd\n\n")
    hwcap = 1 << 8 | 1 << 12  # atomics, asimdrdm
    hwcap2 = 1 << 1 | 1 << 17  # sve2, bti
    auxv = struct.pack("<6Q", 16, hwcap, 26, hwcap2, 0, 0)
    (tmp_path / "proc/self/auxv").write_bytes(auxv)
    assert runtime.read_cpu_flags(str(tmp_path)) == {
        "fp",
        "asimd",
        "atomics",
        "asimdrdm",
        "sve2",
        "bti",
    }


def test_only_the_interpreter_architecture_is_offered() -> None:
    assert runtime.cpu_variant_properties(str(SYSROOTS / "x86-v3-haswell"), machine="i686") == {}
    x32 = runtime.cpu_variant_properties(str(SYSROOTS / "x86-v3-haswell"), "x32", environ={})
    assert list(x32) == ["x86_64"]
    assert runtime.cpu_variant_properties(str(SYSROOTS / "aarch64-neoverse-n1"), "armv7l") == {}


def test_missing_cpuinfo_gives_nothing(tmp_path: Path) -> None:
    assert runtime.read_cpu_flags(str(tmp_path)) == frozenset()
    assert runtime.cpu_variant_properties(str(tmp_path), machine="x86_64", environ={}) == {}


def test_overrides() -> None:
    env = {"FITWHEEL_X86_64_LEVEL": "v2"}
    props = runtime.cpu_variant_properties(str(SYSROOTS / "x86-v4-skylake"), "x86_64", env)[
        "x86_64"
    ]
    assert props["level"] == ["v2", "v1"]
    assert "avx2" not in props and "avx512f" not in props
    assert props["sse4_2"] == ["on"]
    assert cpu_details.cpu_override("x86_64", {"FITWHEEL_X86_64_LEVEL": ""}) is None
    arm = cpu_details.cpu_override("aarch64", {"FITWHEEL_AARCH64_VERSION": "armv8.2-a"})
    assert arm is not None and arm["version"] == ["8.2a", "8.1a", "8a"]
    assert cpu_details.parse_x86_64_level("x86-64-v3") == 3
    assert cpu_details.parse_aarch64_version("8.0") == "8a"
    with pytest.raises(ValueError, match="expected one of v1, v2, v3, v4"):
        cpu_details.parse_x86_64_level("v5")
    with pytest.raises(ValueError, match="invalid AArch64 version '7a'"):
        cpu_details.parse_aarch64_version("7a")


def test_interpreter_machine_reads_the_elf_header(tmp_path: Path) -> None:
    def elf(klass: int, machine: int) -> Path:
        path = tmp_path / f"elf-{klass}-{machine}"
        path.write_bytes(
            b"\x7fELF" + bytes([klass, 1, 1]) + bytes(9) + struct.pack("<HH", 2, machine)
        )
        return path

    assert runtime.interpreter_machine(str(elf(2, 0x3E))) == "x86_64"
    assert runtime.interpreter_machine(str(elf(1, 0x3E))) == "x32"
    assert runtime.interpreter_machine(str(elf(1, 0x03))) == "i686"
    assert runtime.interpreter_machine(str(elf(2, 0xB7))) == "aarch64"
    assert runtime.interpreter_machine(str(elf(1, 0x28))) == "armv7l"
    import platform

    assert runtime.interpreter_machine() == platform.machine()  # a native interpreter here


def test_runtime_cpu_imports_only_the_standard_library() -> None:
    code = (
        "import sys; before = set(sys.modules);"
        "import fitwheel.runtime as r; r.cpu_variant_properties();"
        "print(sorted(m for m in set(sys.modules) - before if m.startswith('fitwheel')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == (
        "['fitwheel', 'fitwheel._version', 'fitwheel.runtime', 'fitwheel.runtime.cpu_details']"
    )
    import ast

    for module in (runtime, cpu_details):
        tree = ast.parse(Path(module.__file__ or "").read_text())
        imported = {
            alias.name.split(".")[0]
            for node in ast.walk(tree)
            if isinstance(node, ast.Import)
            for alias in node.names
        } | {
            (node.module or "").split(".")[0]
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.level == 0
        }
        assert imported <= set(sys.stdlib_module_names) | {"__future__"}, imported


def test_flags_line_is_found_among_look_alikes(tmp_path: Path) -> None:
    # `vmx flags` (newer kernels), a key that merely starts with `flags`, and a last line
    # without a newline must not be taken for the `flags` line, or hide it.
    (tmp_path / "proc").mkdir()
    cpuinfo = tmp_path / "proc" / "cpuinfo"
    cpuinfo.write_text(
        "processor\t: 0\nvmx flags\t: vnmi ept\nflagsx\t\t: bogus\nflags\t\t: fpu sse sse2"
    )
    assert runtime.read_cpu_flags(str(tmp_path)) == {"fpu", "sse", "sse2"}
    cpuinfo.write_text("processor\t: 0\nvmx flags\t: vnmi ept\n\nprocessor\t: 1\n")
    assert runtime.read_cpu_flags(str(tmp_path)) == frozenset()
