"""`fitwheel build-flags`: the compiler flags a build for some variant properties needs."""

from __future__ import annotations

import argparse
from typing import Any


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "build-flags",
        help="print the compiler flags a build for some variant properties needs",
        description="Print the compiler flags that build for PROPERTY... (for a variant wheel, "
        "or for one extension of a fat wheel), e.g. 'x86_64 :: level :: v3' -> "
        "-march=x86-64-v3. Flags for one compiler print as one line; flags for several "
        "(C and CUDA) print one 'compiler: flags' line each unless --compiler picks one.",
    )
    parser.add_argument(
        "properties",
        nargs="+",
        metavar="PROPERTY",
        help="a variant property 'namespace :: feature :: value' (quote it for the shell)",
    )
    parser.add_argument(
        "--compiler",
        choices=("c", "cuda", "hip"),
        help="print only the flags for this compiler (c: GCC/Clang, cuda: nvcc, hip: hipcc)",
    )
    parser.add_argument(
        "--format",
        choices=("text", "json", "env", "cmake", "torch"),
        default="text",
        help="text: the flags; json: flags per compiler; env: KEY='value' lines for a shell "
        "(CFLAGS, CXXFLAGS, CUDAFLAGS, HIPFLAGS, CMAKE_ARGS, TORCH_CUDA_ARCH_LIST, "
        "PYTORCH_ROCM_ARCH); cmake: -D arguments (CMAKE_C_FLAGS, CMAKE_CUDA_ARCHITECTURES, "
        "CMAKE_HIP_ARCHITECTURES); torch: TORCH_CUDA_ARCH_LIST / PYTORCH_ROCM_ARCH lines",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import json
    import shlex

    from fitwheel.build_flags import COMPILERS, build_flags
    from fitwheel.variants.properties import parse_property

    properties = [parse_property(text) for text in args.properties]
    flags = build_flags(properties)
    if args.format in ("env", "cmake", "torch"):
        return _print_form(args.format, flags)
    if args.format == "json":
        document: dict[str, object] = {
            "properties": [str(prop) for prop in properties],
            "flags": flags.as_dict(),
        }
        if args.compiler:
            document["flags"] = {args.compiler: list(flags.for_compiler(args.compiler))}
        print(json.dumps(document, indent=2))
        return 0
    if args.compiler:
        print(shlex.join(flags.for_compiler(args.compiler)))
        return 0
    used = [compiler for compiler in COMPILERS if flags.for_compiler(compiler)]
    if len(used) <= 1:
        print(shlex.join(flags.for_compiler(used[0])) if used else "")
        return 0
    for compiler in used:
        print(f"{compiler}: {shlex.join(flags.for_compiler(compiler))}")
    return 0


def _print_form(form: str, flags: Any) -> int:
    import shlex
    import sys

    from fitwheel.publish.forms import (
        build_environment,
        cmake_arguments,
        shell_assignments,
        torch_environment,
    )

    if form == "cmake":
        print(shlex.join(cmake_arguments(flags)))
    elif form == "torch":
        sys.stdout.write(shell_assignments(torch_environment(flags)))
    else:
        sys.stdout.write(shell_assignments(build_environment(flags)))
    return 0
