"""The shared proxies' state files and locks, in the per-user cache folder.

`CACHE/proxies/` (mode 0700; `CACHE` is `FITWHEEL_CACHE_DIR`, else the user cache folder):

- `KEY.json`: the proxy serving KEY: port, process id, fitwheel version, the secret it proves
  itself with, and what it serves (upstreams, profile, families). Written atomically.
- `KEY.profile.json`: the profile it serves, as detected (or read) by the wrapper that
  started it.
- `KEY.log`: its stdout and stderr.
- `KEY.start`: locked exclusively while a wrapper starts (or replaces) the proxy, and by the
  proxy while it exits, so that two wrappers starting at once end with one proxy.
- `KEY.users`: locked shared by every wrapper for as long as its installer runs; the proxy
  leaves when idle only if it can lock it exclusively, so it never leaves under a running
  installer (and a killed wrapper's lock goes with its process).

A state file is never trusted blindly: its process must answer at its port with a proof under
its secret (`client`), else it is stale and replaced.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from fitwheel.probe.cache import cache_dir

TYPE_CHECKING = False
if TYPE_CHECKING:
    from fitwheel.index.network import NetworkOptions

FORMAT = 1
_STATE_LIMIT = 1 << 20
LOOPBACK = "127.0.0.1"


def state_dir(env: dict[str, str] | None = None) -> Path:
    """Where the shared proxies' files are (not created here)."""
    return Path(cache_dir(env)) / "proxies"


def ensure_state_dir(directory: Path) -> None:
    """Create the folder, readable by this user alone (secrets live in its files);
    `OSError` when it cannot be made or written, or is another user's (then the wrappers run
    ephemeral)."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    status = directory.stat()
    if status.st_uid != os.getuid():
        raise PermissionError(f"{directory} belongs to another user")
    if status.st_mode & 0o077:
        directory.chmod(0o700)
    if not os.access(directory, os.W_OK | os.X_OK):
        raise PermissionError(f"{directory} is not writable")


@dataclass(frozen=True)
class ProxyState:
    """One shared proxy, as its state file records it."""

    key: str
    port: int
    secret: str
    fitwheel: str
    upstreams: tuple[str, ...]
    profile_source: str
    """`detected` or `profile FILE`: where the profile it serves came from."""
    profile_file: str
    """The profile document it serves (`KEY.profile.json`)."""
    families: tuple[str, ...]
    """`--index-family` specs given to the wrapper that started it."""
    default_families: tuple[str, ...]
    network: dict[str, object] | None
    """How it reaches the upstreams (`NetworkOptions` as a document; None: the environment's)."""
    exit_when_idle: float
    fd: int
    """The listening socket's descriptor number in the proxy process."""
    pid: int | None = None
    started: float = 0.0

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"


def network_document(network: NetworkOptions | None) -> dict[str, object] | None:
    """`NetworkOptions` as plain data (for the key and the state file)."""
    if network is None:
        return None
    return {name: getattr(network, name) for name in network.__dataclass_fields__}


def network_options(document: dict[str, object] | None) -> NetworkOptions | None:
    """`network_document`'s inverse (lists back to tuples)."""
    if document is None:
        return None
    from fitwheel.index.network import NetworkOptions

    def value(item: object) -> object:
        if isinstance(item, list):
            return tuple(value(i) for i in item)
        return item

    return NetworkOptions(**{name: value(item) for name, item in document.items()})  # type: ignore[arg-type]


def state_path(directory: Path, key: str) -> Path:
    return directory / f"{key}.json"


def write_state(directory: Path, state: ProxyState) -> None:
    from fitwheel.files import write_atomically  # only when starting one: tempfile is slow

    document = {"format": FORMAT, **asdict(state)}
    write_atomically(state_path(directory, state.key), json.dumps(document, indent=1).encode())


def read_state(path: Path) -> ProxyState | None:
    """The state in `path`, or None when it is missing, foreign or malformed."""
    try:
        with open(path, "rb") as stream:
            document = json.loads(stream.read(_STATE_LIMIT))
        if not isinstance(document, dict) or document.pop("format", None) != FORMAT:
            return None
        if not isinstance(document.get("network"), (dict, type(None))):
            return None
        for name in ("upstreams", "families", "default_families"):
            document[name] = tuple(document[name])
        state = ProxyState(**document)
    except (OSError, ValueError, TypeError, KeyError):
        return None
    if not (isinstance(state.port, int) and 0 < state.port < 65536):
        return None
    return state


def all_states(directory: Path) -> list[tuple[Path, ProxyState | None]]:
    """Every state file in the folder (by name), with its state (None: unreadable)."""
    try:
        names = sorted(n for n in os.listdir(directory) if n.endswith(".json"))
    except OSError:
        return []
    paths = [directory / n for n in names if not n.endswith(".profile.json")]
    return [(path, read_state(path)) for path in paths]


def forget(directory: Path, key: str, pid: int | None) -> None:
    """Remove KEY's state file if it still names process `pid` (a newer one is left alone)."""
    path = state_path(directory, key)
    state = read_state(path)
    if state is None or state.pid == pid:
        path.unlink(missing_ok=True)


@contextmanager
def locked(path: Path, *, exclusive: bool, wait: bool = True) -> Iterator[bool]:
    """Hold `path` locked (flock) for the block; yields False when `wait` is off and the lock
    is held elsewhere."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        mode = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
        try:
            fcntl.flock(fd, mode if wait else mode | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)


def start_lock(directory: Path, key: str) -> Path:
    return directory / f"{key}.start"


def users_lock(directory: Path, key: str) -> Path:
    return directory / f"{key}.users"
