"""`fitwheel explain --lock pylock.toml [--profile FILE ...]`: what each machine gets from a lock."""

from __future__ import annotations

import argparse
from typing import Any


def run_lock(args: argparse.Namespace) -> int:
    """Plan the lock for each profile (default: this machine); exit 1 if one gets nothing."""
    from fitwheel.cli._common import print_json
    from fitwheel.cli.sync import plan_to_json
    from fitwheel.detect import detect
    from fitwheel.errors import FitwheelError
    from fitwheel.lock.document import read_lock
    from fitwheel.lock.plan import plan_install
    from fitwheel.select import Target

    lock = read_lock(args.lock)
    reports: list[dict[str, Any]] = []
    for path in args.profile or [None]:
        profile = detect(profile=path)
        try:
            planned = plan_install(lock, Target.of(profile), where=args.lock)
        except FitwheelError as exc:
            reports.append({"profile": profile.source, "packages": [], "error": str(exc)})
            continue
        reports.append(
            {"profile": profile.source, "packages": plan_to_json(planned), "error": None}
        )
    if args.format == "json":
        print_json({"lock": args.lock, "profiles": reports})
    else:
        for report in reports:
            print(f"{args.lock} for {report['profile']}")
            if report["error"] is not None:
                print(f"  - nothing: {report['error']}")
            for p in report["packages"]:
                label = f" [{p['label']}]" if p["label"] is not None else ""
                print(f"  ✓ {p['name']} {p['version']}{label}: {p['reason']}")
    return 1 if any(r["error"] is not None for r in reports) else 0
