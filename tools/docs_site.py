"""mkdocs hooks for the documentation site (`mkdocs build --strict`, see mkdocs.yml).

The site is made from the repository's own files, nothing else:
- the README is the home page (its `docs/...` links rewritten to the pages beside it);
- `commands.md`, the command reference, is generated from the CLI's own `--help` texts, so it
  cannot drift from what `fitwheel` prints;
- `pictures/*.svg` are drawn by `tools/pictures.py` from a real selection run and from
  architecture.md's tables, so they cannot drift either.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parent.parent


def on_files(files: Files, config: Any) -> Files:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    home = re.sub(r"\]\(docs/([^)]+)\)", r"](\1)", readme)
    files.append(File.generated(config, "index.md", content=home))
    files.append(File.generated(config, "commands.md", content=command_reference()))
    sys.path.insert(0, str(ROOT / "tools"))
    from pictures import pictures

    for name, svg in pictures().items():
        files.append(File.generated(config, f"pictures/{name}", content=svg))
    return files


def command_reference() -> str:
    """Every command's `--help`, in the order `fitwheel --help` lists them."""
    from fitwheel.cli import build_parser

    parser = build_parser()
    parts = [
        "# Command reference\n",
        "Generated from `fitwheel --help` and each command's `--help` when the site is built.\n",
        "```text\n" + parser.format_help() + "```\n",
    ]

    def walk(current: argparse.ArgumentParser, path: str) -> None:
        for action in current._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    title = f"{path} {name}"
                    parts.append(f"## `{title}`\n\n```text\n{sub.format_help()}```\n")
                    walk(sub, title)

    walk(parser, "fitwheel")
    return "\n".join(parts)
