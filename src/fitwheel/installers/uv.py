"""`fitwheel uv ...`: uv behind the resolving proxy.

uv reads its indexes from the command line (`--index`, `--extra-index-url`, `--index-url` /
`-i`, `--default-index`) or, when an option is absent there, from its environment variables
(`UV_INDEX`, `UV_EXTRA_INDEX_URL`, `UV_INDEX_URL`, `UV_DEFAULT_INDEX`). Upstream precedence
is uv's own first-index order: `--index` values, then extra index URLs, then the default
index; the first that has a project supplies all of it, as uv's default `first-index`
strategy does. Indexes in uv's configuration files count too (`fitwheel.installers.uv_config`):
a configured default index is the default upstream unless the command line or environment
names one, and named `[[index]]` entries come after the command line's `--index` values; the
proxy replaces them all (`--index-url`, and `--index NAME=URL` for each configured name).
A named index's login comes from `UV_INDEX_<NAME>_USERNAME` / `UV_INDEX_<NAME>_PASSWORD`, as
uv takes it; the proxy, which alone talks to that index, sends it.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

from fitwheel.errors import InstallerNotFound
from fitwheel.installers.environment import loopback_exempt
from fitwheel.installers.options import Option, extract
from fitwheel.installers.uv_config import discovered

PYPI = "https://pypi.org/simple/"
# `uv pip` subcommands that read an index.
INDEX_COMMANDS = frozenset({"install", "compile", "sync"})

INDEX = Option(("--index",))
EXTRA_INDEX_URL = Option(("--extra-index-url",))
INDEX_URL = Option(("--index-url",), short="-i")
DEFAULT_INDEX = Option(("--default-index",))
NO_INDEX = Option(("--no-index",), takes_value=False)
KEYRING_PROVIDER = Option(("--keyring-provider",))
INSECURE_HOST = Option(("--allow-insecure-host", "--trusted-host"))
_ENV = {
    INDEX: "UV_INDEX",
    EXTRA_INDEX_URL: "UV_EXTRA_INDEX_URL",
    INDEX_URL: "UV_INDEX_URL",
    DEFAULT_INDEX: "UV_DEFAULT_INDEX",
}


@dataclass(frozen=True)
class UvPlan:
    """How to run uv: behind a proxy for `upstreams` (highest precedence first), or as is."""

    args: tuple[str, ...]
    upstreams: tuple[str, ...]
    config_names: tuple[str, ...] = ()
    """Names of indexes in uv's configuration files, each replaced by the proxy."""
    keyring_provider: str | None = None
    """uv's `--keyring-provider` / `UV_KEYRING_PROVIDER` (uv knows `disabled` and
    `subprocess`), which the proxy follows."""
    insecure_hosts: tuple[str, ...] = ()
    """uv's `--allow-insecure-host` / `UV_INSECURE_HOST`: no certificate checks there."""

    @property
    def proxied(self) -> bool:
        return bool(self.upstreams)


def _index_url(value: str, env: Mapping[str, str]) -> str:
    """`--index` accepts `name=url`; a named index gets its login from uv's variables."""
    name, eq, url = value.partition("=")
    return with_named_login(name, url, env) if eq and "://" not in name else value


def with_named_login(name: str, url: str, env: Mapping[str, str]) -> str:
    """`url` with the user and password uv takes for index `name` from
    `UV_INDEX_<NAME>_USERNAME` / `UV_INDEX_<NAME>_PASSWORD` (NAME upper-cased, every other
    character than a letter or digit an underscore), when set and the URL has none."""
    key = "".join(c if c.isascii() and c.isalnum() else "_" for c in name).upper()
    user = env.get(f"UV_INDEX_{key}_USERNAME")
    password = env.get(f"UV_INDEX_{key}_PASSWORD")
    parts = urlsplit(url)
    if not (user or password) or parts.username is not None or not parts.hostname:
        return url
    login = quote(user or "", safe="") + (f":{quote(password, safe='')}" if password else "")
    return urlunsplit(parts._replace(netloc=f"{login}@{parts.netloc}"))


def plan(
    args: Sequence[str], env: Mapping[str, str] | None = None, cwd: Path | None = None
) -> UvPlan:
    """Split uv's arguments into the indexes it would use and the arguments to keep."""
    env = os.environ if env is None else env
    if "pip" not in args:
        return UvPlan(tuple(args), ())
    after = [a for a in args[args.index("pip") + 1 :] if not a.startswith("-")]
    if not after or after[0] not in INDEX_COMMANDS:
        return UvPlan(tuple(args), ())
    found = extract(args, (INDEX, EXTRA_INDEX_URL, INDEX_URL, DEFAULT_INDEX, NO_INDEX))
    if NO_INDEX in found.flags or env.get("UV_NO_INDEX", "").lower() in ("1", "true"):
        return UvPlan(tuple(args), ())
    configured = discovered(args, env, cwd)

    def values(option: Option) -> list[str]:
        given = found.values.get(option)
        if given is not None:
            return given
        return env.get(_ENV[option], "").split()

    default = (values(INDEX_URL) or values(DEFAULT_INDEX) or [configured.default or PYPI])[-1]
    ordered = [_index_url(v, env) for v in values(INDEX)]
    ordered += [with_named_login(name, url, env) for name, url in configured.named]
    ordered += [*values(EXTRA_INDEX_URL), default]
    names = tuple(dict.fromkeys([n for n, _ in configured.named] + list(configured.hidden_names)))
    network = extract(args, (KEYRING_PROVIDER, INSECURE_HOST)).values
    keyring = (network.get(KEYRING_PROVIDER) or [env.get("UV_KEYRING_PROVIDER", "")])[-1]
    insecure = network.get(INSECURE_HOST) or env.get("UV_INSECURE_HOST", "").split()
    return UvPlan(
        tuple(found.rest),
        tuple(dict.fromkeys(ordered)),
        names,
        keyring_provider=keyring or None,
        insecure_hosts=tuple(insecure),
    )


def uv_binary() -> str:
    """The uv executable: the `uv` Python package's, else the first `uv` on PATH."""
    if sys.platform != "win32":
        # Where the `uv` package of this environment puts it (the first place its finder
        # looks): found without importing the finder, which costs `sysconfig` on every run.
        beside = os.path.join(sys.prefix, "bin", "uv")
        if os.path.isfile(beside) and os.access(beside, os.X_OK):
            return beside
    try:
        from uv import find_uv_bin

        return str(find_uv_bin())
    except (ImportError, FileNotFoundError):
        pass
    found = shutil.which("uv")
    if found is None:
        raise InstallerNotFound("uv is not installed: `pip install uv`, or put uv on PATH")
    return found


def proxied_command(uv_plan: UvPlan, index_url: str) -> tuple[list[str], dict[str, str]]:
    """The uv command line and environment that use `index_url` and nothing else."""
    args = list(uv_plan.args)
    # After everything (uv takes options after the packages), before a `--` if there is one.
    position = args.index("--") if "--" in args else len(args)
    routed = [f"--index={name}={index_url}" for name in uv_plan.config_names]
    args[position:position] = [*routed, "--index-url", index_url]
    env = {k: v for k, v in os.environ.items() if k not in _ENV.values()}
    env.update(loopback_exempt(env))
    return [uv_binary(), *args], env
