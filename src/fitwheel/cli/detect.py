"""`fitwheel detect`: what this interpreter and machine support, as text or the profile JSON."""

from __future__ import annotations

import argparse

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "detect",
        help="show what this interpreter and machine support",
        description="Probe the interpreter, CPU and GPUs (or read a profile) and print the "
        "supported variant properties. Overrides: FITWHEEL_X86_64_LEVEL, "
        "FITWHEEL_AARCH64_VERSION, FITWHEEL_CUDA_DRIVER, FITWHEEL_CUDA_ARCH, FITWHEEL_AMD_GFX; "
        "FITWHEEL_PROFILE=FILE replaces detection.",
    )
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument(
        "--profile", metavar="FILE", help="read this profile instead of probing the machine"
    )
    parser.add_argument(
        "--sysroot",
        metavar="DIR",
        default="/",
        help="read proc/ and sys/ under DIR instead of / (skips the live driver probes)",
    )
    parser.add_argument(
        "--no-cache", action="store_true", help="probe the drivers even when a cached answer exists"
    )
    parser.add_argument(
        "--timeout",
        metavar="S",
        type=float,
        default=10.0,
        help="seconds the driver probe may take before it is killed (default 10)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from fitwheel.detect import detect_document

    document = detect_document(
        sysroot=args.sysroot,
        timeout=args.timeout,
        use_cache=not args.no_cache,
        profile=args.profile,
    )
    if args.format == "json":
        import json

        print(json.dumps(document, indent=2))
    else:
        print(render_text(document), end="")
    return 0


def render_text(document: dict[str, Any]) -> str:
    """A summary a person can read and paste into a bug report."""
    lines: list[str] = []
    source = document.get("fitwheel", {}).get("source", "detected")
    lines.append(f"fitwheel detect ({source})")
    interpreter = document.get("interpreter") or {}
    libc = interpreter.get("libc")
    summary = [
        f"{interpreter.get('implementation', '?')} {interpreter.get('python_version', '?')}",
        str(interpreter.get("architecture", "?")),
    ]
    if "pointer_bits" in interpreter:
        summary.append(f"{interpreter['pointer_bits']}-bit")
    if libc:
        summary.append(f"{libc} {interpreter.get('libc_version', '?')}")
    if interpreter.get("emulation"):
        summary.append(f"emulated ({interpreter['emulation']})")
    lines.append("interpreter: " + ", ".join(summary))
    lines.append("  abis: " + " ".join(interpreter.get("abis", [])))
    platforms = list(interpreter.get("platforms", []))
    if len(platforms) > 4:
        shown = f"{' '.join(platforms[:3])} ... {platforms[-1]} ({len(platforms)} tags)"
    else:
        shown = " ".join(platforms)
    lines.append(f"  platforms: {shown}")
    for key, reason in (interpreter.get("unknown") or {}).items():
        lines.append(f"  {key}: unknown ({reason})")
    facts = document.get("facts") or {}
    for name, table in facts.items():
        lines.append(f"{name}:")
        for key, value in table.items():
            if key in ("unknown", "sources"):
                continue
            if key == "flags" and isinstance(value, list):
                value = f"{len(value)} flags"
            elif isinstance(value, list):
                value = ", ".join(_item(v) for v in value) if value else "none"
            source_of = (table.get("sources") or {}).get(key)
            lines.append(f"  {key}: {value}" + (f" (from {source_of})" if source_of else ""))
        for key, reason in (table.get("unknown") or {}).items():
            lines.append(f"  {key}: unknown ({reason})")
    lines.append("variants:")
    variants = document.get("variants") or {}
    if not variants:
        lines.append("  (none: only plain and null-variant wheels fit)")
    for namespace, features in variants.items():
        switches = [feature for feature, values in features.items() if list(values) == ["on"]]
        for feature, values in features.items():
            if feature not in switches:
                lines.append(f"  {namespace} :: {feature} :: {', '.join(values)}")
        if switches:
            lines.append(f"  {namespace} :: {{{', '.join(switches)}}} :: on")
    return "\n".join(lines) + "\n"


def _item(value: Any) -> str:
    if isinstance(value, dict):
        return " ".join(str(v) for v in value.values())
    return str(value)
