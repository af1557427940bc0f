"""Asking a shared proxy who it is, and what it handed out since a run began.

One HTTP/1.0 request over a plain socket (stdlib only, no HTTP library to import): this runs
on every `fitwheel pip` / `fitwheel uv` start.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass

from fitwheel.installers.shared.state import LOOPBACK, ProxyState
from fitwheel.serve.identity import PATH, proof
from fitwheel.serve.record import ChosenBuild

_ANSWER_LIMIT = 1 << 20
"""Bytes read from an answer: the proxy's are a few hundred (a long run's builds, some KiB)."""


def ask(port: int, path: str, timeout: float) -> dict[str, object] | None:
    """GET `path` on 127.0.0.1:`port`: the JSON object answered with 200, else None."""
    request = f"GET {path} HTTP/1.0\r\nHost: {LOOPBACK}:{port}\r\n\r\n".encode()
    chunks: list[bytes] = []
    size = 0
    try:
        # Not create_connection: its getaddrinfo imports the IDNA codec (unicodedata and all)
        # to encode the host, tens of milliseconds for an address that needs no lookup.
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect((LOOPBACK, port))
            sock.sendall(request)
            while chunk := sock.recv(65536):
                chunks.append(chunk)
                size += len(chunk)
                if size > _ANSWER_LIMIT:
                    return None
    except OSError:
        return None
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    status = head.split(b"\r\n", 1)[0].split()
    if len(status) < 2 or not status[0].startswith(b"HTTP/1.") or status[1] != b"200":
        return None
    try:
        document = json.loads(body)
    except ValueError:
        return None
    return document if isinstance(document, dict) else None


@dataclass(frozen=True)
class Hello:
    """A proxy that proved it is the one a state file describes."""

    pid: int
    seq: int
    """The number of its last event: a run asks for what came after it."""
    idle: float
    """Seconds it had been idle when asked."""


def hello(state: ProxyState, timeout: float) -> Hello | None:
    """Ask the proxy of `state` who it is: its answer must carry the state's key and pid and a
    proof under the state's secret; anything else (no answer, another program, another key,
    a reused port) is None."""
    nonce = os.urandom(16).hex()
    answer = ask(state.port, f"{PATH}?nonce={nonce}", timeout)
    if answer is None or answer.get("proof") != proof(state.secret, nonce):
        return None
    pid, seq, idle = answer.get("pid"), answer.get("seq"), answer.get("idle")
    if answer.get("key") != state.key or not isinstance(pid, int) or not isinstance(seq, int):
        return None
    if state.pid is not None and pid != state.pid:
        return None
    return Hello(pid, seq, float(idle) if isinstance(idle, (int, float)) else 0.0)


@dataclass(frozen=True)
class Events:
    """What a proxy handed out after some event number, what the pages it served stood for
    (by project, then version) and the last upstream failure."""

    chosen: tuple[ChosenBuild, ...]
    offered: dict[str, dict[str, ChosenBuild]]
    failure: str | None


def events_since(port: int, seq: int, timeout: float = 10.0) -> Events | None:
    """The builds handed out and the last upstream failure after event `seq` (None: the proxy
    did not answer)."""
    answer = ask(port, f"{PATH}/since/{seq}", timeout)
    if answer is None:
        return None
    listed = answer.get("chosen")
    chosen = [ChosenBuild.from_dict(c) for c in listed] if isinstance(listed, list) else []
    offered: dict[str, dict[str, ChosenBuild]] = {}
    pages = answer.get("offered")
    for project, builds in pages.items() if isinstance(pages, dict) else ():
        if isinstance(builds, dict):
            decoded = {v: ChosenBuild.from_dict(b) for v, b in builds.items()}
            offered[project] = {v: b for v, b in decoded.items() if b is not None}
    failure = answer.get("failure")
    return Events(
        tuple(b for b in chosen if b is not None),
        offered,
        failure if isinstance(failure, str) else None,
    )
