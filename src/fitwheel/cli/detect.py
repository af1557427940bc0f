"""`fitwheel detect`: what this interpreter and machine support, as text or the profile JSON."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence
    from typing import Any

# The options, once: argparse gets them in `add_parser`, and `run_fast` reads the same table.
FORMATS = ("text", "json")
_VALUE_OPTIONS = ("--format", "--profile", "--sysroot", "--timeout")
_DEFAULTS: dict[str, Any] = {
    "format": "text",
    "profile": None,
    "sysroot": "/",
    "no_cache": False,
    "timeout": 10.0,
}


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "detect",
        help="show what this interpreter and machine support",
        description="Probe the interpreter, CPU and GPUs (or read a profile) and print the "
        "supported variant properties. Overrides: FITWHEEL_X86_64_LEVEL, "
        "FITWHEEL_AARCH64_VERSION, FITWHEEL_CUDA_DRIVER, FITWHEEL_CUDA_ARCH, FITWHEEL_AMD_GFX, "
        "FITWHEEL_TPU_PRESENT; "
        "FITWHEEL_PROFILE=FILE replaces detection.",
    )
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default=_DEFAULTS["format"],
        help="text for people (default), or json: the full profile document for programs",
    )
    parser.add_argument(
        "--profile", metavar="FILE", help="read this profile instead of probing the machine"
    )
    add_probe_options(parser)
    parser.set_defaults(func=run)


def add_probe_options(parser: Any) -> None:
    """`--sysroot`, `--no-cache`, `--timeout`: how the machine is probed (detect, capture)."""
    parser.add_argument(
        "--sysroot",
        metavar="DIR",
        default=_DEFAULTS["sysroot"],
        help="read proc/ and sys/ under DIR instead of / (skips the live driver probes)",
    )
    parser.add_argument(
        "--no-cache", action="store_true", help="probe the drivers even when a cached answer exists"
    )
    parser.add_argument(
        "--timeout",
        metavar="S",
        type=float,
        default=_DEFAULTS["timeout"],
        help="seconds the driver probe may take before it is killed (default 10)",
    )


def run(args: argparse.Namespace) -> int:
    from fitwheel.detect import detect_document

    document = detect_document(
        sysroot=args.sysroot,
        timeout=args.timeout,
        use_cache=not args.no_cache,
        profile=args.profile,
    )
    if args.format == "json":
        print(dump_json(document))
    else:
        print(render_text(document), end="")
    return 0


def run_fast(argv: Sequence[str], verbosity: int = 0) -> int | None:
    """`fitwheel detect ARGS` without building the whole command line: no argparse, no `re`,
    and no `logging` unless -v or -q asks for it.

    For the CLI shell to call before its parser when the command is `detect`; returns None for
    anything it does not fully understand (`--help`, a typo, a bad value), and the shell then
    goes the normal way, which prints the proper usage error.
    """
    from fitwheel.cli._logging import FLAGS

    values = dict(_DEFAULTS)
    items = list(argv)
    while items:
        item = items.pop(0)
        name, equals, value = item.partition("=")
        if item == "--no-cache":
            values["no_cache"] = True
            continue
        if item in FLAGS:
            verbosity += FLAGS[item]
            continue
        if name not in _VALUE_OPTIONS:
            return None
        if not equals:
            if not items:
                return None
            value = items.pop(0)
        values[name[2:]] = value
    if values["format"] not in FORMATS:
        return None
    try:
        values["timeout"] = float(values["timeout"])
    except ValueError:
        return None

    from fitwheel.errors import FitwheelError

    class Namespace:
        pass

    args = Namespace()
    args.__dict__.update(values, verbosity=verbosity)
    from fitwheel.cli._logging import show_progress

    if verbosity:
        from fitwheel.cli._logging import configure

        configure(verbosity)
    show_progress(verbosity)
    try:
        return run(args)  # type: ignore[arg-type]
    except FitwheelError as exc:
        import sys

        print(f"fitwheel: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0


def dump_json(value: Any, indent: str = "") -> str:
    """`json.dumps(value, indent=2)` for plain data, without importing `json` (and so `re`)."""
    from _json import encode_basestring_ascii

    inner = indent + "  "
    if isinstance(value, str):
        return str(encode_basestring_ascii(value))
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, (int, float)):
        return repr(value) if isinstance(value, float) else str(int(value))
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = (
            f"{inner}{encode_basestring_ascii(str(k))}: {dump_json(v, inner)}"
            for k, v in value.items()
        )
        return "{\n" + ",\n".join(items) + f"\n{indent}}}"
    if isinstance(value, (list, tuple)):
        if not value:
            return "[]"
        return "[\n" + ",\n".join(f"{inner}{dump_json(v, inner)}" for v in value) + f"\n{indent}]"
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def render_text(document: dict[str, Any], heading: str = "fitwheel detect") -> str:  # noqa: C901
    """A summary a person can read and paste into a bug report."""
    lines: list[str] = []
    source = document.get("fitwheel", {}).get("source", "detected")
    lines.append(f"{heading} ({source})")
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
            elif isinstance(value, bool):
                value = "yes" if value else "no"
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
