"""The indexes uv reads from its configuration files, and which of them the proxy can replace.

uv reads, unless `--no-config` / `UV_NO_CONFIG`: the file named by `--config-file` /
`UV_CONFIG_FILE` alone; otherwise the system file (`$XDG_CONFIG_DIRS/uv/uv.toml`, else
`/etc/uv/uv.toml`), the user's (`$XDG_CONFIG_HOME/uv/uv.toml`, else `~/.config/uv/uv.toml`)
and the project's: the nearest `uv.toml`, or `pyproject.toml` with a `[tool.uv]` table, from
the working folder (or `--directory` / `--project`) upward. Index settings sit at the top
level or, for `uv pip`, in `[pip]` (`[tool.uv.pip]`).

What uv does with them when the command line names indexes too, checked with uv 0.13:
`index-url` and an `[[index]]` with `default = true` are *replaced* by the command line's
`--index-url`; an `[[index]]` with a `name` is replaced by `--index NAME=URL`; but
`extra-index-url` and unnamed `[[index]]` entries are *added* to the command line's. The
first two kinds are routed through the proxy; the last cannot be, so `fitwheel uv` stops
with `UnroutableIndex` rather than let uv fetch builds the proxy never chose.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from fitwheel.installers import UnroutableIndex
from fitwheel.installers.options import Option, extract

TYPE_CHECKING = False  # typing stays unimported on the way to the installer
if TYPE_CHECKING:
    from typing import Any

NO_CONFIG = Option(("--no-config",), takes_value=False)
CONFIG_FILE = Option(("--config-file",))
DIRECTORY = Option(("--directory", "--project"))
_TRUE = frozenset({"1", "true", "yes", "on"})


@dataclass(frozen=True)
class ConfiguredIndexes:
    """Index settings from uv's configuration files, highest precedence first."""

    default: str | None = None
    named: tuple[tuple[str, str], ...] = ()
    """(name, url) of each named, non-default `[[index]]`, to route as `--index NAME=URL`."""
    hidden_names: tuple[str, ...] = ()
    """Names of `explicit = true` indexes: replaced too, but never an upstream (uv asks them
    only for packages pinned to them)."""


def config_files(
    args: Sequence[str], env: Mapping[str, str], cwd: Path | None = None
) -> list[Path]:
    """The configuration files uv would read, lowest precedence first."""
    found = extract(args, (NO_CONFIG, CONFIG_FILE, DIRECTORY))
    if NO_CONFIG in found.flags or env.get("UV_NO_CONFIG", "").lower() in _TRUE:
        return []
    explicit = (found.values.get(CONFIG_FILE) or [env.get("UV_CONFIG_FILE", "")])[-1]
    if explicit:
        return [Path(explicit)]
    files: list[Path] = []
    xdg_dirs = env.get("XDG_CONFIG_DIRS") or "/etc/xdg"
    system = [Path(d) / "uv" / "uv.toml" for d in xdg_dirs.split(os.pathsep) if d]
    files.extend([p for p in [*system, Path("/etc/uv/uv.toml")] if p.is_file()][:1])
    home = Path(env.get("HOME") or Path.home())
    user = Path(env.get("XDG_CONFIG_HOME") or home / ".config") / "uv" / "uv.toml"
    if user.is_file():
        files.append(user)
    start = Path((found.values.get(DIRECTORY) or [""])[-1] or (cwd or Path.cwd()))
    project = _project_file(start.absolute())
    if project is not None:
        files.append(project)
    return files


def _project_file(start: Path) -> Path | None:
    for folder in (start, *start.parents):
        if (folder / "uv.toml").is_file():
            return folder / "uv.toml"
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file() and _settings(pyproject):
            return pyproject
    return None


def _settings(path: Path) -> dict[str, Any]:
    import tomllib

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}  # uv reports a broken file itself
    if path.name == "pyproject.toml":
        data = data.get("tool", {}).get("uv", {})
    return data if isinstance(data, dict) else {}


def configured_indexes(files: Sequence[Path]) -> ConfiguredIndexes:
    """What `files` (lowest precedence first) set; raise `UnroutableIndex` for settings that
    uv would add to the proxy rather than let it replace."""
    default: str | None = None
    named: list[tuple[str, str]] = []
    hidden: list[str] = []
    for path in reversed(files):  # highest precedence first
        settings = _settings(path)
        pip_table = settings.get("pip", {})
        for table in (pip_table if isinstance(pip_table, dict) else {}, settings):
            if table.get("extra-index-url"):
                urls = table["extra-index-url"]
                shown = " ".join(urls) if isinstance(urls, list) else str(urls)
                raise _unroutable(path, f"extra-index-url ({shown})")
            if default is None and isinstance(table.get("index-url"), str):
                default = table["index-url"]
            for entry in table.get("index", []) if isinstance(table.get("index"), list) else []:
                if not isinstance(entry, dict) or not isinstance(entry.get("url"), str):
                    continue
                name = entry.get("name")
                if entry.get("default"):
                    default = default or entry["url"]
                elif not isinstance(name, str):
                    raise _unroutable(path, f"an [[index]] without a name ({entry['url']})")
                elif entry.get("explicit"):
                    hidden.append(name)
                else:
                    named.append((name, entry["url"]))
    return ConfiguredIndexes(default, tuple(named), tuple(hidden))


def _unroutable(path: Path, what: str) -> UnroutableIndex:
    return UnroutableIndex(
        f"{path}: {what} would reach uv beside fitwheel's proxy (uv adds it to the command "
        'line\'s indexes); name it ([[index]] name = "..."), or pass it on the command line '
        "(--index / --extra-index-url) together with --no-config"
    )


def discovered(
    args: Sequence[str], env: Mapping[str, str] | None = None, cwd: Path | None = None
) -> ConfiguredIndexes:
    """The index settings of the configuration files uv would read for `args`."""
    return configured_indexes(config_files(args, os.environ if env is None else env, cwd))
