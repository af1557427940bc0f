"""Build fatdemo's one C source into one extension module per CPU build, all in one wheel.

The wheel also carries a copy of `fitwheel.runtime` as `fatdemo._fitwheel_runtime` (vendored at
build time, so the installed package needs nothing but the standard library), which
`fatdemo/__init__.py` uses to import the best build the running CPU supports.
"""

import os
import platform
import shutil
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
SOURCE = "csrc/fatdemo.c"
BASELINE = "_impl_baseline"
VENDORED = "fatdemo/_fitwheel_runtime"

# Per build machine: (module, variant properties, compiler flags), most preferred first. The
# flags are what `fitwheel build-flags PROPERTY...` prints for the properties, and the
# candidates in fatdemo/__init__.py declare the same properties (tests/test_fat_wheel.py checks
# both). The baseline needs no properties and gets the compiler's default target.
BUILDS = {
    "x86_64": [
        ("_impl_x86_64_v3", ["x86_64 :: level :: v3"], ["-march=x86-64-v3"]),
        ("_impl_x86_64_v2", ["x86_64 :: level :: v2"], ["-march=x86-64-v2"]),
    ],
    "aarch64": [
        (
            "_impl_aarch64_sve",
            ["aarch64 :: version :: 8.2a", "aarch64 :: sve :: on"],
            ["-march=armv8.2-a+sve"],
        ),
        ("_impl_aarch64_v8_2a", ["aarch64 :: version :: 8.2a"], ["-march=armv8.2-a"]),
    ],
}
MACHINE_ALIASES = {"amd64": "x86_64", "arm64": "aarch64"}


def target_machine():
    # The wheel is built for the machine that builds it (no cross-compiling in this example).
    machine = platform.machine().lower()
    return MACHINE_ALIASES.get(machine, machine)


def extensions():
    builds = [*BUILDS.get(target_machine(), []), (BASELINE, [], [])]
    return [
        Extension(
            f"fatdemo.{module}",
            sources=[SOURCE],
            define_macros=[("FATDEMO_MODULE", module)],
            extra_compile_args=flags,
        )
        for module, _properties, flags in builds
    ]


def runtime_source():
    """Where the fitwheel.runtime to vendor lives: $FITWHEEL_RUNTIME_DIR, this repository's
    copy, or the installed fitwheel's (for builds outside the repository without isolation)."""
    candidates = [os.environ.get("FITWHEEL_RUNTIME_DIR", ""), HERE / "../../src/fitwheel/runtime"]
    for candidate in candidates:
        if candidate and (Path(candidate) / "__init__.py").is_file():
            return Path(candidate).resolve()
    try:
        import fitwheel.runtime
    except ImportError:
        sys.exit("fatdemo: cannot find fitwheel.runtime to vendor; set FITWHEEL_RUNTIME_DIR")
    return Path(fitwheel.runtime.__file__).parent


class BuildPyVendoringRuntime(build_py):
    def run(self):
        super().run()
        target = Path(self.build_lib) / VENDORED
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        for source in sorted(runtime_source().glob("*.py")):
            shutil.copyfile(source, target / source.name)


class BuildExtSeparately(build_ext):
    # Every build compiles the same source: give each its own object files.
    def build_extension(self, ext):
        shared_temp = self.build_temp
        self.build_temp = os.path.join(shared_temp, ext.name)
        try:
            super().build_extension(ext)
        finally:
            self.build_temp = shared_temp


if __name__ == "__main__":  # setuptools runs this file as __main__; tests read BUILDS from it
    setup(
        ext_modules=extensions(),
        cmdclass={"build_py": BuildPyVendoringRuntime, "build_ext": BuildExtSeparately},
    )
