"""`fitwheel pip ...`: pip behind the resolving proxy.

Where pip would look, in pip's own precedence (lowest first): configuration files (global
`$XDG_CONFIG_DIRS/pip/pip.conf` and `/etc/pip.conf`, then the user's `~/.pip/pip.conf` and
`$XDG_CONFIG_HOME/pip/pip.conf` unless `PIP_CONFIG_FILE` names an existing file, then the
environment's `sys.prefix/pip.conf`, then `PIP_CONFIG_FILE`; none at all when
`PIP_CONFIG_FILE` is `/dev/null`), within a file `[global]` below
the command's section; then `PIP_INDEX_URL` / `PIP_EXTRA_INDEX_URL` / `PIP_NO_INDEX`; then the
command line, whose `--extra-index-url` values add to the configured ones. The files are read
directly (as pip's `Configuration` does) rather than through `pip config list`, which would
cost a second pip start per install.

Upstream precedence: the index URL first, then each extra index URL in order; the first that
has a project supplies all of it (pip itself would merge them).
"""

from __future__ import annotations

import configparser
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from fitwheel.installers.environment import loopback_exempt
from fitwheel.installers.options import Option, extract
from fitwheel.installers.requirements import CONSTRAINT, REQUIREMENT, IndexState, apply_files

PYPI = "https://pypi.org/simple/"
# Commands that read an index; everything else runs without a proxy.
INDEX_COMMANDS = frozenset({"install", "download", "wheel", "index", "lock", "list"})

INDEX_URL = Option(("--index-url",), short="-i")
EXTRA_INDEX_URL = Option(("--extra-index-url",))
NO_INDEX = Option(("--no-index",), takes_value=False)
CERT = Option(("--cert",))
CLIENT_CERT = Option(("--client-cert",))
PROXY = Option(("--proxy",))
TRUSTED_HOST = Option(("--trusted-host",))
KEYRING_PROVIDER = Option(("--keyring-provider",))

# pip's general options that take a value (so their value is not mistaken for the command).
_GENERAL_WITH_VALUE = frozenset(
    {
        "--python",
        "--log",
        "--log-file",
        "--proxy",
        "--retries",
        "--timeout",
        "--exists-action",
        "--trusted-host",
        "--cert",
        "--client-cert",
        "--cache-dir",
        "--use-feature",
        "--use-deprecated",
        "--keyring-provider",
        "--resume-retries",
    }
)
TRUE = frozenset({"1", "true", "yes", "on", "y"})


@dataclass(frozen=True)
class PipNetwork:
    """pip's `--cert`, `--client-cert`, `--proxy`, `--trusted-host` and `--keyring-provider`:
    from its command line, else its environment (`PIP_CERT`, ...) and configuration files."""

    cert: str | None = None
    client_cert: str | None = None
    proxy: str | None = None
    trusted_hosts: tuple[str, ...] = ()
    keyring_provider: str | None = None


def pip_network(args: Sequence[str], settings: Mapping[str, str]) -> PipNetwork:
    """The network settings pip would use for `args`, given its configured `settings`."""
    found = extract(args, (CERT, CLIENT_CERT, PROXY, TRUSTED_HOST, KEYRING_PROVIDER)).values

    def last(option: Option, key: str) -> str | None:
        return (found.get(option) or [settings.get(key) or ""])[-1] or None

    hosts = settings.get("trusted-host", "").split() + found.get(TRUSTED_HOST, [])
    return PipNetwork(
        cert=last(CERT, "cert"),
        client_cert=last(CLIENT_CERT, "client-cert"),
        proxy=last(PROXY, "proxy"),
        trusted_hosts=tuple(hosts),
        keyring_provider=last(KEYRING_PROVIDER, "keyring-provider"),
    )


@dataclass(frozen=True)
class PipPlan:
    """How to run pip: behind a proxy for `upstreams` (highest precedence first), or as is."""

    args: tuple[str, ...]
    upstreams: tuple[str, ...]
    command: str | None
    reads_files: bool = False
    """Requirements or constraints files are given: they may set indexes of their own."""
    network: PipNetwork = field(default_factory=lambda: PipNetwork())
    """pip's network settings, which fitwheel's proxy follows when it talks to the upstreams."""

    @property
    def proxied(self) -> bool:
        return bool(self.upstreams)


def pip_command(args: Sequence[str]) -> str | None:
    """The pip subcommand in `args` (`install`, `download`, ...), skipping general options."""
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg in _GENERAL_WITH_VALUE:
            skip = True
        elif not arg.startswith("-"):
            return arg
    return None


def config_files(env: Mapping[str, str], prefix: str) -> list[Path]:
    """pip's configuration files, lowest precedence first; none when `PIP_CONFIG_FILE` is
    the null device, as pip skips them all then."""
    explicit = env.get("PIP_CONFIG_FILE")
    if explicit == os.devnull:
        return []
    config_dirs = env.get("XDG_CONFIG_DIRS") or "/etc/xdg"
    files = [Path(d) / "pip" / "pip.conf" for d in config_dirs.split(os.pathsep) if d]
    files.append(Path("/etc/pip.conf"))
    if not (explicit and os.path.exists(explicit)):
        home = Path(env.get("HOME") or Path.home())
        files.append(home / ".pip" / "pip.conf")
        files.append(Path(env.get("XDG_CONFIG_HOME") or home / ".config") / "pip" / "pip.conf")
    files.append(Path(prefix) / "pip.conf")
    if explicit:
        files.append(Path(explicit))
    return files


def configured(command: str, env: Mapping[str, str], prefix: str) -> dict[str, str]:
    """Effective pip settings (`index-url`, ...) from files and `PIP_*`, before the command line."""
    merged: dict[tuple[str, str], str] = {}
    for path in config_files(env, prefix):
        parser = configparser.RawConfigParser()
        try:
            parser.read(path, encoding="utf-8")
        except (configparser.Error, UnicodeDecodeError):
            continue  # pip refuses such a file with its own message when it runs
        for section in parser.sections():
            for key, value in parser.items(section):
                merged[(section, key.replace("_", "-"))] = value
    settings: dict[str, str] = {}
    for section in ("global", command):
        for (where, key), value in merged.items():
            if where == section and value:
                settings[key] = value
    for key, value in env.items():
        if key.startswith("PIP_") and value:
            settings[key[4:].lower().replace("_", "-")] = value
    return settings


def plan(
    args: Sequence[str], env: Mapping[str, str] | None = None, prefix: str | None = None
) -> PipPlan:
    """Split pip's arguments into the indexes it would use and the arguments to keep."""
    env = os.environ if env is None else env
    command = pip_command(args)
    if command not in INDEX_COMMANDS:
        return PipPlan(tuple(args), (), command)
    settings = configured(command, env, prefix or sys.prefix)
    found = extract(args, (INDEX_URL, EXTRA_INDEX_URL, NO_INDEX))
    if NO_INDEX in found.flags or settings.get("no-index", "").lower() in TRUE:
        return PipPlan(tuple(args), (), command)
    index = (found.values.get(INDEX_URL) or [settings.get("index-url", PYPI)])[-1]
    extras = settings.get("extra-index-url", "").split() + found.values.get(EXTRA_INDEX_URL, [])
    files = extract(found.rest, (REQUIREMENT, CONSTRAINT)).values
    requirements, constraints = files.get(REQUIREMENT, []), files.get(CONSTRAINT, [])
    state = apply_files(IndexState((index, *extras)), requirements, constraints, env)
    if state.no_index or not state.index_urls:
        return PipPlan(tuple(args), (), command)
    upstreams = tuple(dict.fromkeys(state.index_urls))
    # pip would send even its loopback requests through a --proxy (requests ignores NO_PROXY
    # for it): the proxy moves to pip's environment, where NO_PROXY holds.
    rest = extract(found.rest, (PROXY,)).rest
    network = pip_network(args, settings)
    return PipPlan(tuple(rest), upstreams, command, bool(requirements or constraints), network)


def proxied_command(
    pip_plan: PipPlan, index_url: str, scratch: Path | None = None, python: str | None = None
) -> tuple[list[str], dict[str, str]]:
    """The pip command line and environment that use `index_url` and nothing else.

    With requirements files, `scratch` (a folder) receives one more, read after them, that
    sets `--index-url` again: pip lets a file's index lines replace the command line's.
    """
    args = list(pip_plan.args)
    position = args.index(pip_plan.command) + 1 if pip_plan.command in args else len(args)
    args[position:position] = ["--index-url", index_url]
    if pip_plan.network.proxy:
        args[position:position] = ["--proxy="]  # over a configured one; the environment's holds
    if pip_plan.reads_files:
        if scratch is None:
            raise ValueError("requirements files need a scratch folder for the proxy's index line")
        last = scratch / "fitwheel-index.txt"
        last.write_text(
            f"# written by fitwheel pip: the proxy replaces every index\n--index-url {index_url}\n",
            encoding="utf-8",
        )
        end = args.index("--") if "--" in args else len(args)
        args[end:end] = ["-r", str(last)]
    env = dict(os.environ)
    if pip_plan.network.proxy:
        env["http_proxy"] = env["https_proxy"] = pip_plan.network.proxy
    env.update(loopback_exempt(env))
    env["PIP_INDEX_URL"] = index_url
    # An empty value is ignored by pip; whitespace splits to an empty list, clearing the
    # configured extra indexes (which pip adds to, rather than replaces, from the command line).
    env["PIP_EXTRA_INDEX_URL"] = " "
    return pip_argv(args, python), env


def pip_argv(args: Sequence[str], python: str | None = None) -> list[str]:
    """`python -m pip ARGS`: the pip of the interpreter running fitwheel unless told otherwise."""
    return [python or sys.executable, "-m", "pip", *args]
